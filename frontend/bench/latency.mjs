// Input-to-display latency benchmark: the page sends camera input (an orbit drag, one move per
// sample) and measures, in the page, the time until the first decoded frame whose video header
// echoes an input `seq` at least that of the move. Runs against the real host at 30 fps for each
// codec and prints one JSON object: p50/p95/max per codec. Target: p95 <= 50 ms.
//
// The host renders on demand, as a viewer's does by default (`--continuous` renders every
// interval instead).
//
// Usage: node bench/latency.mjs [--samples 200] [--renderer raster|testpattern] [--select PRIM] [--continuous]
// `--select PRIM` (e.g. /World/Props/GreenSphere) selects that prim before measuring, so every
// frame draws the selection outline (issue 13: with a selection within 1.2x of without).

import { launchBrowser, sleep, startHostWithFallback, waitFor } from '../e2e/lib.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const samples = Number(arg('samples', 200));
const renderer = arg('renderer', undefined);
const select = arg('select', undefined);
const continuous = process.argv.includes('--continuous');

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[i] * 100) / 100;
}

async function measure(page, count) {
  return page.evaluate(async (count) => {
    const { client, pipeline } = window.__ovhost;
    const stats = client.stats;
    // Also time the arrival of the first frame echoing each seq (host + network share).
    const arrivals = [];
    const sentAt = new Map();
    const push = pipeline.push.bind(pipeline);
    let highest = 0;
    pipeline.push = (buffer) => {
      const seq = new DataView(buffer).getUint32(32, true);
      const now = performance.now();
      for (const [s, t] of sentAt) {
        if (s <= seq) {
          arrivals.push(now - t);
          sentAt.delete(s);
        }
      }
      highest = Math.max(highest, seq);
      push(buffer);
    };
    const wait = (ms) => new Promise((r) => setTimeout(r, ms));
    const start = stats.latencySamplesMs.length;
    client.sendInput([{ type: 'pointerdown', x: 640, y: 360, button: 0, buttons: 1 }]);
    await wait(100);
    const firstSample = stats.latencySamplesMs.length;
    let lost = 0;
    for (let i = 0; i < count; i += 1) {
      const before = stats.latencySamplesMs.length;
      const dx = i % 2 === 0 ? 6 : -6;
      const seq = client.sendInput([{ type: 'pointermove', x: 640 + dx, y: 360, dx, dy: 0, buttons: 1 }]);
      if (seq !== null) sentAt.set(seq, performance.now());
      const deadline = performance.now() + 1000;
      while (stats.latencySamplesMs.length === before && performance.now() < deadline) await wait(1);
      if (stats.latencySamplesMs.length === before) lost += 1;
      await wait(5 + Math.random() * 40); // spread sends over the frame clock
    }
    client.sendInput([{ type: 'pointerup', x: 640, y: 360, button: 0, buttons: 0 }]);
    void start;
    pipeline.push = push;
    return { latencies: stats.latencySamplesMs.slice(firstSample), arrivals, lost, decodeMs: stats.snapshot().decodeMs };
  }, count);
}

const browser = await launchBrowser();
const host = await startHostWithFallback({ renderer, continuous });
const result = { benchmark: 'input_to_display_latency', renderer: host.renderer, fps: 30, frames: continuous ? 'continuous' : 'on demand', samples, selection: select ?? null, target_p95_ms: 50, codecs: {} };
try {
  for (const codec of ['h264', 'jpeg']) {
    const page = await browser.newPage();
    await page.goto(`${host.url}/?codec=${codec}`);
    // On demand a still stage sends a frame and its refresh, then nothing until input.
    const enough = continuous ? 10 : 0;
    await waitFor(() => page.evaluate((n) => (window.__ovhost?.client.stats.framesDecoded ?? 0) > n, enough), `no ${codec} video`, 30000);
    if (select) {
      const sent = await page.evaluate((path) => window.__ovhost.client.send('selectPrimsRequest', { paths: [path] }), select);
      if (!sent) throw new Error(`could not send selectPrimsRequest for ${select}`);
    }
    await sleep(500);
    const { latencies, arrivals, lost, decodeMs } = await measure(page, samples);
    const sorted = [...latencies].sort((a, b) => a - b);
    const arrived = [...arrivals].sort((a, b) => a - b);
    result.codecs[codec] = {
      p50_ms: percentile(sorted, 50),
      p95_ms: percentile(sorted, 95),
      max_ms: percentile(sorted, 100),
      measured: sorted.length,
      arrival_p50_ms: percentile(arrived, 50),
      arrival_p95_ms: percentile(arrived, 95),
      lost,
      decode_ms_avg: Math.round(decodeMs * 100) / 100,
    };
    await page.close();
  }
} finally {
  await browser.close();
  await host.stop();
}
console.log(JSON.stringify(result));
