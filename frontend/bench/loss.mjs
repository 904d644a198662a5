// Video under packet loss and delay: the /ws driver (WebSocket over TCP) versus the webrtc driver
// (RTP over UDP), in headless Chromium, one after the other against one real host. Run it inside
// the client namespace of scripts/netem/tun_netem.py, which drops and delays real IP packets for
// both (scripts/webrtc/bench-loss.sh does all of it). The camera orbits the whole time, so every
// frame differs. Per driver: frames shown per second and freezes (a gap of more than 200 ms
// between two new frames), over the same number of seconds. Prints one JSON object; nothing is
// asserted.
//
// Usage: node bench/loss.mjs --url http://10.77.0.1:PORT [--seconds 60]

import { launchBrowser } from '../e2e/lib.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const url = arg('url', null);
const seconds = Number(arg('seconds', 60));
if (!url) throw new Error('--url is required');

async function measure(driver) {
  // WebCodecs (the /ws driver's H.264 decoder) needs a secure context; the host is on a private
  // address here, as on a LAN without TLS.
  const browser = await launchBrowser({ args: [`--unsafely-treat-insecure-origin-as-secure=${url}`] });
  try {
    const page = await browser.newPage();
    await page.goto(`${url}/?driver=${driver}`);
    const deadline = Date.now() + 30000;
    while (!(await page.evaluate(() => window.__ovhost?.client?.stats?.framesDecoded > 5).catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`${driver}: no video within 30 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const codec = await page.evaluate(() => window.__ovhost.client.stats.snapshot().codec ?? null).catch(() => null);
    return await page.evaluate(
      async ({ seconds, driver }) => {
        const { client } = window.__ovhost;
        // Orbit: a held drag that keeps moving.
        client.sendInput([{ type: 'pointerdown', x: 600, y: 300, button: 0, buttons: 1 }]);
        const orbit = setInterval(() => client.sendInput([{ type: 'pointermove', x: 600, y: 300, dx: 4, dy: 0, buttons: 1 }]), 33);
        // New frames: each presented <video> frame (webrtc), each decoded frame (/ws canvas).
        const times = [];
        const video = document.querySelector('video');
        let stop = false;
        if (driver === 'webrtc' && video && 'requestVideoFrameCallback' in video) {
          const onFrame = (now) => {
            times.push(now);
            if (!stop) video.requestVideoFrameCallback(onFrame);
          };
          video.requestVideoFrameCallback(onFrame);
        } else {
          let last = client.stats.framesDecoded;
          const poll = () => {
            const n = client.stats.framesDecoded;
            if (n !== last) {
              last = n;
              times.push(performance.now());
            }
            if (!stop) setTimeout(poll, 5);
          };
          poll();
        }
        const start = performance.now();
        await new Promise((r) => setTimeout(r, seconds * 1000));
        stop = true;
        clearInterval(orbit);
        client.sendInput([{ type: 'pointerup', x: 600, y: 300, button: 0, buttons: 0 }]);
        const span = (performance.now() - start) / 1000;
        const gaps = times.slice(1).map((t, i) => t - times[i]);
        const freezes = gaps.filter((g) => g > 200);
        return {
          frames: times.length,
          fps: Math.round((times.length / span) * 10) / 10,
          freezes: freezes.length,
          frozen_s: Math.round(freezes.reduce((a, b) => a + b, 0)) / 1000,
          longest_gap_ms: Math.round(Math.max(0, ...gaps)),
        };
      },
      { seconds, driver },
    ).then((r) => ({ driver, codec, ...r }));
  } finally {
    await browser.close();
  }
}

const ws = await measure('ws');
const webrtc = await measure('webrtc');
console.log(JSON.stringify({ seconds, ws, webrtc }));
