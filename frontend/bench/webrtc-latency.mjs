// Input-to-display latency, WebRTC driver versus /ws driver, in headless Chromium against one
// real host (`--transport web,webrtc`, raster renderer, sample stage, 30 fps). Both pages are
// measured the same way: send one orbit move, then watch the picture the page shows (the
// WebRTC <video> on each presented frame, the /ws canvas on each animation frame) until it
// changes; latency = change seen - move sent. Prints one JSON object with p50/p95 per driver
// and the ratio. Figures only, nothing is asserted.
//
// Usage: node bench/webrtc-latency.mjs [--samples 60]

import { launchBrowser, sleep, startHostWithFallback, waitFor } from '../e2e/lib.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const samples = Number(arg('samples', 60));

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i] * 10) / 10;
}

async function measure(page, count, kind) {
  return page.evaluate(
    async ({ count, kind }) => {
      const { client } = window.__ovhost;
      const surface = document.querySelector('.stream-surface');
      const probe = document.createElement('canvas');
      probe.width = 96;
      probe.height = 54;
      const ctx = probe.getContext('2d', { willReadFrequently: true });
      const print = () => {
        ctx.drawImage(surface, 0, 0, probe.width, probe.height);
        const d = ctx.getImageData(0, 0, probe.width, probe.height).data;
        let h = 2166136261;
        for (let i = 0; i < d.length; i += 4) h = Math.imul(h ^ (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16)), 16777619) >>> 0;
        return h;
      };
      const nextFrame = () =>
        new Promise((resolve) =>
          kind === 'webrtc' ? surface.requestVideoFrameCallback(() => resolve()) : requestAnimationFrame(() => resolve()),
        );
      const wait = (ms) => new Promise((r) => setTimeout(r, ms));
      const latencies = [];
      let lost = 0;
      client.sendInput([{ type: 'pointerdown', x: 640, y: 360, button: 0, buttons: 1 }]);
      await wait(500);
      for (let i = 0; i < count; i += 1) {
        // Let the picture settle, then take its print.
        await wait(150 + Math.random() * 50);
        const base = print();
        const dx = i % 2 === 0 ? 10 : -10;
        const sent = performance.now();
        client.sendInput([{ type: 'pointermove', x: 640 + dx, y: 360, dx, dy: 0, buttons: 1 }]);
        let seen = false;
        while (performance.now() - sent < 1500) {
          await nextFrame();
          if (print() !== base) {
            latencies.push(performance.now() - sent);
            seen = true;
            break;
          }
        }
        if (!seen) lost += 1;
      }
      client.sendInput([{ type: 'pointerup', x: 640, y: 360, button: 0, buttons: 0 }]);
      return { latencies, lost };
    },
    { count, kind },
  );
}

async function main() {
  const host = await startHostWithFallback({ args: ['--transport', 'web,webrtc', '--webrtc-udp-port', '0'] });
  const browser = await launchBrowser();
  const results = {};
  try {
    for (const [kind, query] of [['websocket', 'driver=ws&codec=h264'], ['webrtc', 'driver=webrtc']]) {
      const page = await browser.newPage();
      await page.goto(`${host.url}/?${query}`);
      await waitFor(async () => (await page.getAttribute('[data-testid=status]', 'data-status')) === 'live', `${kind}: not Live`, 20000);
      await waitFor(() => page.evaluate(() => window.__ovhost.client.stats.framesDecoded > 10), `${kind}: no video`, 20000);
      await sleep(1000);
      const { latencies, lost } = await measure(page, samples, kind);
      const sorted = [...latencies].sort((a, b) => a - b);
      results[kind] = { samples: sorted.length, lost, p50_ms: percentile(sorted, 50), p95_ms: percentile(sorted, 95), max_ms: percentile(sorted, 100) };
      await page.close();
      await sleep(500);
    }
  } finally {
    await browser.close();
    await host.stop();
  }
  const ws = results.websocket;
  const rtc = results.webrtc;
  results.ratio_webrtc_over_ws = ws?.p50_ms && rtc?.p50_ms ? { p50: Math.round((rtc.p50_ms / ws.p50_ms) * 100) / 100, p95: Math.round((rtc.p95_ms / ws.p95_ms) * 100) / 100 } : null;
  console.log(JSON.stringify({ bench: 'input-to-display, picture change, webrtc vs /ws', fps: 30, ...results }));
}

await main();
