// WebRTC under network trouble, in headless Chromium against the real host: the page's media go
// through a UDP relay run here on loopback (these kernels have no netem) that can drop, delay and
// rate-limit. Checks that the host's bandwidth estimate (TWCC feedback from Chromium) drops under
// a 2 Mbit/s rate limit, that the encoder's output follows it, and that both recover after the
// limit is lifted; the picture there is the `noise` fixture renderer's, which needs more than
// 2 Mbit/s, so the limit binds. Under 2 % loss and 40 ms delay at least 80 % of the clean
// link's frame rate is decoded. Prints the figures as BENCH lines.
// Prints one line per test and, last, "N passed, N failed".

import dgram from 'node:dgram';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, launchBrowser, sleep, startHost, startHostWithFallback, waitFor } from './lib.mjs';

/** A UDP relay: `loss` fraction dropped each way, `delayMs` each way, optional rate limit. */
export async function startRelay(target, { loss = 0, delayMs = 0 } = {}) {
  const socket = dgram.createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const relay = { port: socket.address().port, limitBps: null, dropped: 0, forwarded: 0, loss, delayMs, closed: false };
  let client = null;
  let bucket = 0;
  let bucketAt = performance.now();
  const overLimit = (size) => {
    if (relay.limitBps === null) return false;
    const now = performance.now();
    const rate = relay.limitBps / 8 / 1000; // bytes per ms
    bucket = Math.min(rate * 50, bucket + (now - bucketAt) * rate); // at most 50 ms of burst
    bucketAt = now;
    if (bucket < size) return true;
    bucket -= size;
    return false;
  };
  socket.on('message', (data, from) => {
    const fromHost = from.address === target.address && from.port === target.port;
    let dest;
    if (fromHost) {
      if (!client) return;
      if (overLimit(data.length)) {
        relay.dropped += 1;
        return;
      }
      dest = client;
    } else {
      client = { address: from.address, port: from.port };
      dest = target;
    }
    if (Math.random() < relay.loss) {
      relay.dropped += 1;
      return;
    }
    relay.forwarded += 1;
    const send = () => {
      if (!relay.closed) socket.send(data, dest.port, dest.address);
    };
    if (relay.delayMs > 0) setTimeout(send, relay.delayMs);
    else send();
  });
  relay.closed = false;
  relay.close = () => {
    relay.closed = true;
    socket.close();
  };
  return relay;
}

/**
 * A plugin directory holding the fixture library whose `noise` renderer draws fresh noise every
 * frame: no encoder can compress it, so the stream uses whatever bitrate the encoder is given and
 * a 2 Mbit/s limit binds. Returns the directory.
 */
function noisePluginDir() {
  const lib = path.join(REPO_ROOT, 'target', 'debug', 'libovhost_plugin_slow_renderer.so');
  if (!existsSync(lib)) throw new Error(`${lib} is missing: run scripts/build-plugins`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ovhost-noise-'));
  copyFileSync(lib, path.join(dir, path.basename(lib)));
  return dir;
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

async function rtcPage(browser, host, relay) {
  const page = await browser.newPage();
  await page.addInitScript((relayPort) => {
    if (relayPort) {
      window.__ovhostRewriteAnswer = (sdp) =>
        sdp.replace(/^(a=candidate:\S+ \d+ \S+ \d+ \S+ )(\d+)/gm, (_m, head) => `${head}${relayPort}`);
    }
  }, relay?.port ?? 0);
  await page.goto(`${host.url}/?driver=webrtc`);
  await waitFor(async () => (await page.getAttribute('[data-testid=status]', 'data-status')) === 'live', 'the WebRTC page did not become Live', 20000);
  await waitFor(() => page.evaluate(() => window.__ovhost.client.stats.framesDecoded > 3), 'no WebRTC video decoded', 20000);
  return page;
}

const session = async (host) => (await (await fetch(`${host.url}/api/webrtc`)).json()).sessions[0] ?? null;

test('under a binding rate limit the estimate drops, the encoder follows, and both recover after', async () => {
  const plugins = noisePluginDir();
  const host = await startHost({ renderer: 'noise', args: ['--plugin-dir', plugins, '--transport', 'web,webrtc', '--webrtc-udp-port', '0', '--width', '640', '--height', '360'] });
  const info = await (await fetch(`${host.url}/api/webrtc`)).json();
  const [address, port] = info.candidates[0].split(':');
  const relay = await startRelay({ address, port: Number(port) });
  const browser = await launchBrowser();
  try {
    const page = await rtcPage(browser, host, relay);
    // Per second: the host's estimate (TWCC from Chromium) and its actual send rate (RTP bytes).
    let lastBytes = null;
    const tick = async () => {
      await sleep(1000);
      const s = await session(host);
      const bytes = s?.bytes_sent ?? 0;
      const sendBps = lastBytes === null ? null : (bytes - lastBytes) * 8;
      lastBytes = bytes;
      return { estimate: s?.estimate_bps ?? null, sendBps };
    };
    const fmt = (v) => (v === null ? '-' : `${(v / 1e6).toFixed(2)}`);
    const sample = async (label, seconds, until = null) => {
      const values = [];
      for (let i = 0; i < seconds; i += 1) {
        const v = await tick();
        values.push(v);
        if (until && values.length >= 6 && until(v)) break;
      }
      console.log(`  ${label}: Mbit/s per second (estimate/sent) ${values.map((v) => `${fmt(v.estimate)}/${fmt(v.sendBps)}`).join(' ')}`);
      return values;
    };
    // Open link: wait until the estimate has grown past 3.5 Mbit/s (probing up to 8 Mbit/s), so the
    // encoder (given 80 % of it) sends more than the limit.
    const open = await sample('open', 40, (v) => v.estimate !== null && v.estimate > 3_500_000);
    const peakBefore = Math.max(...open.map((v) => v.estimate ?? 0));
    if (!(peakBefore > 2_500_000)) throw new Error(`the estimate never passed 2.5 Mbit/s on the open link (peak ${peakBefore})`);
    const sentBefore = Math.max(...open.slice(-5).map((v) => v.sendBps ?? 0));
    // The noise box needs more than the limit, or the limit could not bind.
    const limit = 2_000_000;
    if (!(sentBefore > limit)) throw new Error(`the host sent at most ${sentBefore} bit/s on the open link: the ${limit} bit/s limit cannot bind`);
    relay.limitBps = limit;
    const limited = await sample(`${(limit / 1e6).toFixed(2)} Mbit/s limit`, 15);
    relay.limitBps = null;
    const after = await sample('lifted', 40, (v) => v.estimate !== null && v.estimate > 2_500_000);
    const frames = await page.evaluate(() => window.__ovhost.client.stats.framesDecoded);
    const tail = limited.slice(-5);
    // The estimate's settled value under the limit is the median of the last 5 s: a delay-based
    // estimator probes above the capacity now and then (one such second read 4.06 Mbit/s with the
    // sender at 1.89), so a single second may overshoot; its maximum is reported too.
    const tailEstimates = tail.map((v) => v.estimate ?? Infinity).sort((a, b) => a - b);
    const lowUnder = tailEstimates[Math.floor(tailEstimates.length / 2)];
    const highUnder = tailEstimates[tailEstimates.length - 1];
    const sentUnder = Math.max(...tail.map((v) => v.sendBps ?? Infinity));
    const peakAfter = Math.max(...after.map((v) => v.estimate ?? 0));
    console.log(`BENCH webrtc bandwidth estimate (Chromium, 640x360 noise fixture renderer): open link peak ${fmt(peakBefore)} Mbit/s (sending ${fmt(sentBefore)}), last 5 s under a ${fmt(limit)} Mbit/s limit median ${fmt(lowUnder)} Mbit/s, at most ${fmt(highUnder)} (sending at most ${fmt(sentUnder)}), after lifting it ${fmt(peakAfter)} Mbit/s; relay dropped ${relay.dropped}; ${frames} frames decoded`);
    // A delay-based estimate settles around the capacity, not strictly below it (one CI run read a
    // median of 2.46 Mbit/s under this limit while the host sent at most 1.67): it must have left the open-link
    // level and come within 1.5x of the limit, while what the host actually sends stays at the limit.
    if (!(lowUnder < limit * 1.5 && lowUnder < peakBefore * 0.8)) throw new Error(`the estimate did not settle near the ${limit} bit/s limit (median of the last 5 s ${lowUnder}, open-link peak ${peakBefore})`);
    if (!(sentUnder < limit * 1.25)) throw new Error(`the encoder did not follow the estimate under the limit (sending up to ${sentUnder} bit/s)`);
    if (!(peakAfter > 2_500_000)) throw new Error(`the estimate did not recover after the limit was lifted (peak ${peakAfter})`);
  } finally {
    relay.close();
    await browser.close();
    await host.stop();
    rmSync(plugins, { recursive: true, force: true });
  }
});

test('through 2 % loss and 40 ms delay each way video keeps decoding (NACK, RTX)', async () => {
  const host = await startHostWithFallback({ args: ['--transport', 'web,webrtc', '--webrtc-udp-port', '0'] });
  const info = await (await fetch(`${host.url}/api/webrtc`)).json();
  const [address, port] = info.candidates[0].split(':');
  const relay = await startRelay({ address, port: Number(port) });
  const browser = await launchBrowser();
  try {
    const page = await rtcPage(browser, host, relay);
    await page.evaluate(() => {
      const client = window.__ovhost.client;
      client.sendInput([{ type: 'pointerdown', x: 640, y: 360, button: 0, buttons: 1 }]);
      window.__orbit = setInterval(() => client.sendInput([{ type: 'pointermove', x: 640, y: 360, dx: 4, dy: 0, buttons: 1 }]), 33);
    });
    const seconds = 30;
    const read = () => page.evaluate(() => ({ ...window.__ovhost.client.stats.snapshot(), decoded: window.__ovhost.client.stats.framesDecoded }));
    // Baseline on the clean link, then the same time with loss and delay.
    await sleep(2000);
    const clean0 = await read();
    await sleep(10000);
    const clean1 = await read();
    const cleanFps = (clean1.decoded - clean0.decoded) / 10;
    relay.loss = 0.02;
    relay.delayMs = 40;
    await sleep(2000);
    const start = await read();
    await sleep((seconds - 5) * 1000);
    const mid = await read();
    await sleep(5000);
    const end = await read();
    const s = await session(host);
    const fps = (end.decoded - start.decoded) / seconds;
    console.log(`BENCH webrtc in Chromium under 2 % loss / 40 ms delay each way (1280x720 raster, camera orbiting, target 30 fps, ${seconds} s): ${fps.toFixed(1)} fps decoded (clean link before: ${cleanFps.toFixed(1)} fps), ${(end.rtc?.freezes ?? 0) - (start.rtc?.freezes ?? 0)} freezes (Chromium freezeCount), ${end.framesDropped} frames dropped, packet loss seen ${end.rtc?.packetLossPct.toFixed(2)} %; relay dropped ${relay.dropped}; host: ${s?.nacks} NACKs, ${s?.keyframe_requests} keyframe requests, ${s?.keyframes_sent} keyframes sent`);
    if (!(fps >= 0.8 * cleanFps)) throw new Error(`under loss ${fps.toFixed(1)} fps decoded, less than 80 % of the clean link's ${cleanFps.toFixed(1)} fps`);
    if (!(end.decoded > mid.decoded)) throw new Error(`video stopped under loss (${mid.decoded} → ${end.decoded} decoded in the last 5 s)`);
    if (!(relay.dropped > 0)) throw new Error('the relay dropped nothing');
    if (!(s && s.nacks > 0)) throw new Error(`no NACK reached the host (${JSON.stringify(s)})`);
    if (s.keyframe_requests > 0 && !(s.keyframes_sent >= 2)) throw new Error(`keyframe requests went unanswered (${JSON.stringify(s)})`);
  } finally {
    relay.close();
    await browser.close();
    await host.stop();
  }
});

async function main() {
  let passed = 0;
  let failed = 0;
  for (const { name, fn } of tests) {
    const started = Date.now();
    try {
      await fn();
      passed += 1;
      console.log(`ok   ${name} (${Date.now() - started} ms)`);
    } catch (error) {
      failed += 1;
      console.log(`FAIL ${name}: ${error.message}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();
