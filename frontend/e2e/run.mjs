// End-to-end tests: the built frontend in headless Chromium against the real ovhost binary.
// Prints one line per test and, last, "N passed, N failed"; exits non-zero on any failure.
// Screenshots go to frontend/test-results/.

import path from 'node:path';
import { launchBrowser, resultsDir, sleep, startHostWithFallback, waitFor } from './lib.mjs';

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// ---------- page helpers ----------
const framesDecoded = (page) => page.evaluate(() => window.__ovhost?.client.stats.framesDecoded ?? 0);
const statusOf = (page) => page.getAttribute('[data-testid=status]', 'data-status');
/** A cheap fingerprint of the canvas pixels (sampled grid) plus whether it is all one colour. */
const canvasPrint = (page) =>
  page.evaluate(() => {
    const canvas = document.querySelector('canvas.stream-surface');
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return { hash: 0, flat: true };
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let hash = 2166136261;
    let first = -1;
    let flat = true;
    const step = Math.max(4, Math.floor(data.length / 4 / 4096) * 4);
    for (let i = 0; i < data.length; i += step) {
      const v = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16);
      if (first < 0) first = v;
      else if (v !== first) flat = false;
      hash = Math.imul(hash ^ v, 16777619) >>> 0;
    }
    return { hash, flat };
  });
const treeRows = (page) => page.$$eval('[data-testid=stage-tree] [role=treeitem]', (rows) => rows.map((r) => ({ path: r.dataset.path, selected: r.getAttribute('aria-selected') === 'true', expanded: r.getAttribute('aria-expanded') })));
const viewportBox = async (page) => page.locator('[data-testid=viewport]').boundingBox();

async function screenshot(page, name) {
  await page.screenshot({ path: path.join(resultsDir(), `${name}.png`) });
}

async function waitForImageChange(page, before, message, timeoutMs = 8000) {
  return waitFor(async () => {
    const now = await canvasPrint(page);
    return now.hash !== before.hash ? now : null;
  }, message, timeoutMs);
}

/** A small orbit drag on the stream: the host renders on demand (a static stage sends one frame
 * and one refresh, then nothing), so tests that count frames make the picture change first. */
async function nudge(p) {
  const box = await p.locator('[data-testid=stream]').boundingBox();
  if (!box) return;
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await p.mouse.move(x, y);
  await p.mouse.down({ button: 'left' });
  for (let i = 1; i <= 4; i += 1) await p.mouse.move(x + i * 3, y + i);
  await p.mouse.up({ button: 'left' });
}

// ---------- tests (run in order on one page) ----------
let host;
let page;

test('video frames decode and the canvas shows them', async () => {
  await waitFor(async () => (await framesDecoded(page)) > 0, 'no decoded video frames', 20000);
  const a = await framesDecoded(page);
  await nudge(page);
  await sleep(1000);
  const b = await framesDecoded(page);
  if (b <= a) throw new Error(`decoded-frame count did not rise (${a} → ${b})`);
  const print = await canvasPrint(page);
  if (print.flat) throw new Error('the canvas is a single colour: frames decode but nothing is drawn');
  if ((await statusOf(page)) !== 'live') throw new Error(`status is ${await statusOf(page)}, expected live`);
  // StrictMode renders effects twice: still exactly one connection.
  const state = await (await fetch(`${host.url}/api/state`)).json();
  if (state.clients.length !== 1) throw new Error(`the host sees ${state.clients.length} clients, expected 1`);
  await screenshot(page, '01-video');
});

test('open the sample stages from the scene list', async () => {
  await waitFor(() => page.locator('[data-testid=open-stage] .scene').count(), 'the scene list is empty (listScenesResult)', 10000);
  // A real load (a different stage), then back to the Y-up sample.
  await page.locator('[data-testid=open-stage] .scene', { hasText: 'sample_zup.usda' }).click();
  await waitFor(async () => (await page.textContent('[data-testid=stage-url]'))?.includes('sample_zup.usda'), 'no openStageResult for sample_zup.usda', 30000);
  await waitFor(async () => (await treeRows(page)).length > 1, 'the stage tree shows no children of the Z-up root', 10000);
  await page.locator('[data-testid=open-stage] .scene', { hasText: 'sample_yup.usda' }).click();
  await waitFor(async () => (await page.textContent('[data-testid=stage-url]'))?.includes('sample_yup.usda'), 'no openStageResult for sample_yup.usda', 20000);
  await waitFor(async () => (await treeRows(page)).length > 1, 'the stage tree shows no children of the root', 10000);
  await screenshot(page, '02-stage');
});

test('expand the tree', async () => {
  const before = await treeRows(page);
  const collapsed = before.find((r) => r.expanded === 'false');
  if (!collapsed) throw new Error(`no expandable collapsed row in ${JSON.stringify(before)}`);
  await page.locator(`[role=treeitem][data-path="${collapsed.path}"] [data-testid=twisty]`).click();
  await waitFor(async () => (await treeRows(page)).length > before.length, `expanding ${collapsed.path} added no rows`, 10000);
});

test('a tree click selects the prim and the inspector shows it', async () => {
  const rows = await treeRows(page);
  const target = rows.find((r) => r.path !== rows[0]?.path && !r.selected);
  if (!target) throw new Error('no row to click');
  await page.locator(`[role=treeitem][data-path="${target.path}"] .name`).click();
  await waitFor(async () => (await treeRows(page)).some((r) => r.path === target.path && r.selected), `the tree does not highlight ${target.path} (stageSelectionChanged)`, 10000);
  await waitFor(async () => (await page.textContent('[data-testid=inspector-path]').catch(() => null)) === target.path, 'the inspector does not show the clicked prim', 10000);
  await waitFor(() => page.locator('[data-testid=inspector] .props tr').count(), 'no properties for the clicked prim (getPropertiesResponse)', 10000);
});

test('a click in the viewport selects the same prim in the tree', async () => {
  await page.evaluate(() => document.querySelector('.buttons button')?.click()); // Frame all
  await sleep(500);
  // Clear the selection first, so only the click can select something.
  await page.evaluate(() => window.__ovhost.store.selectPrims([]));
  await waitFor(async () => !(await treeRows(page)).some((r) => r.selected), 'the selection did not clear', 10000);
  const since = await page.evaluate(() => window.__e2eMessages.length);
  const box = await viewportBox(page);
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  const message = await waitFor(() => page.evaluate((since) => window.__e2eMessages.slice(since).find((m) => m.event_type === 'stageSelectionChanged' && m.payload.prims?.length) ?? null, since), 'no stageSelectionChanged after a click on the picture centre', 10000).catch(async (error) => {
    const seen = await page.evaluate(() => window.__e2eMessages.map((m) => m.event_type));
    throw new Error(`${error.message}; ${seen.length} messages recorded, ${seen.filter((t) => t === 'stageSelectionChanged').length} stageSelectionChanged`);
  });
  const picked = message.payload.prims[0];
  await waitFor(async () => (await treeRows(page)).some((r) => r.path === picked && r.selected), `the tree does not highlight ${picked}`, 10000);
  await waitFor(async () => (await page.textContent('[data-testid=inspector-path]').catch(() => null)) === picked, 'the inspector does not show the picked prim', 10000);
  await waitFor(() => page.locator('[data-testid=inspector] .props tr').count(), 'no properties for the picked prim', 10000);
  await screenshot(page, '03-selection');
});

test('an orbit drag changes the image', async () => {
  const box = await viewportBox(page);
  await sleep(300);
  const before = await canvasPrint(page);
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down({ button: 'left' });
  for (let i = 1; i <= 10; i += 1) await page.mouse.move(x + i * 15, y + i * 4);
  await page.mouse.up({ button: 'left' });
  await waitForImageChange(page, before, 'the image did not change after an orbit drag');
  const seq = await page.evaluate(() => window.__ovhost.client.stats.lastInputSeqEchoed);
  if (!(seq > 0)) throw new Error('video headers never echoed an input seq');
});

test('switch the AOV', async () => {
  const options = await waitFor(async () => {
    const values = await page.$$eval('[data-testid=aov-select] option', (o) => o.map((x) => x.value).filter(Boolean));
    return values.length > 1 ? values : null;
  }, 'fewer than two AOVs offered (availableAOVsResult)', 10000);
  const current = await page.inputValue('[data-testid=aov-select]');
  const next = options.find((o) => o !== current);
  const before = await canvasPrint(page);
  await page.selectOption('[data-testid=aov-select]', next);
  await waitFor(async () => (await page.inputValue('[data-testid=aov-select]')) === next, `activeAOVState never reported ${next}`, 10000);
  await waitForImageChange(page, before, `the image did not change after switching the AOV to ${next}`);
  await screenshot(page, '04-aov');
  await page.selectOption('[data-testid=aov-select]', current);
});

test('switch the camera scheme', async () => {
  const options = await waitFor(async () => {
    const values = await page.$$eval('[data-testid=scheme-select] option', (o) => o.map((x) => x.value).filter(Boolean));
    return values.length > 1 ? values : null;
  }, 'fewer than two camera schemes offered (cameraSchemesResult)', 10000);
  const current = await page.inputValue('[data-testid=scheme-select]');
  const next = options.includes('fly') && current !== 'fly' ? 'fly' : options.find((o) => o !== current);
  await page.selectOption('[data-testid=scheme-select]', next);
  await waitFor(async () => (await page.inputValue('[data-testid=scheme-select]')) === next, `cameraStateChanged never reported scheme ${next}`, 10000);
  await page.selectOption('[data-testid=scheme-select]', current);
  await waitFor(async () => (await page.inputValue('[data-testid=scheme-select]')) === current, `could not switch back to ${current}`, 10000);
});

test('switch a variant of the selected prim', async () => {
  const showcase = (await treeRows(page)).find((r) => r.path.endsWith('/Showcase'));
  if (!showcase) throw new Error('no Showcase row in the tree');
  await page.locator(`[role=treeitem][data-path="${showcase.path}"] .name`).click();
  const select = '[data-testid=variants] select';
  await waitFor(() => page.isVisible(select), 'no variant sets shown for Showcase (getVariantsResponse)', 10000);
  const current = await page.inputValue(select);
  const next = current === 'sphere' ? 'cube' : 'sphere';
  const switchTo = async (value) => {
    const before = await canvasPrint(page);
    await page.selectOption(select, value);
    await waitForImageChange(page, before, `the image did not change after selecting the ${value} variant`, 15000);
    await waitFor(async () => !(await page.isVisible('[data-testid=viewport-overlay]')), 'the loading overlay did not go away after the variant switch', 15000);
    // The recomposed stage may clear the selection: select Showcase again and read the variant.
    await page.locator(`[role=treeitem][data-path="${showcase.path}"] .name`).click();
    await waitFor(async () => (await page.inputValue(select).catch(() => '')) === value, `getVariantsResponse never reported ${value}`, 15000);
  };
  await switchTo(next);
  await screenshot(page, '05-variant');
  await switchTo(current);
});

test('opening a bad path shows the error and the viewer keeps working', async () => {
  await page.fill('[data-testid=open-path]', 'no/such/stage.usda');
  await page.click('[data-testid=open-stage] button[type=submit]');
  await waitFor(() => page.isVisible('[data-testid=open-error]'), 'no error shown for a stage that does not exist', 15000);
  const text = await page.textContent('[data-testid=open-error]');
  if (!text.includes('no/such/stage.usda')) throw new Error(`the error does not name the path: ${text}`);
  const a = await framesDecoded(page);
  await nudge(page);
  await sleep(800);
  if ((await framesDecoded(page)) <= a) throw new Error('video stopped after the failed open');
  if ((await statusOf(page)) !== 'live') throw new Error(`status is ${await statusOf(page)} after the failed open`);
  await screenshot(page, '05-open-error');
});

test('the page reconnects after the host restarts', async () => {
  const { port, renderer } = host;
  const connectionsBefore = await page.evaluate(() => window.__ovhost.client.connections);
  await host.stop();
  await waitFor(async () => (await statusOf(page)) === 'offline', 'the status did not go Offline when the host stopped', 10000);
  await screenshot(page, '06-offline');
  host = await startHostWithFallback({ port, renderer });
  await waitFor(async () => (await statusOf(page)) === 'live', 'the page did not come back Live after the host restarted', 30000);
  const connections = await page.evaluate(() => window.__ovhost.client.connections);
  if (connections <= connectionsBefore) throw new Error('no new connection was made');
  const a = await framesDecoded(page);
  await waitFor(async () => {
    await nudge(page);
    return (await framesDecoded(page)) > a + 3;
  }, 'no video after reconnecting', 15000);
  // A fresh host has a fresh selection: select something for the README screenshot.
  await waitFor(async () => (await treeRows(page)).length > 3, 'the tree did not come back after reconnecting', 10000);
  const row = (await treeRows(page)).find((r) => r.path.endsWith('/GreenSphere')) ?? (await treeRows(page))[1];
  await page.locator(`[role=treeitem][data-path="${row.path}"] .name`).click();
  await waitFor(() => page.locator('[data-testid=inspector] .props tr').count(), 'no properties after reconnecting', 10000);
  for (const button of await page.$$('.toast button')) await button.click();
  await sleep(300);
  await screenshot(page, 'viewer');
});

test('an idle host gets one sample opened automatically', async () => {
  const idle = await startHostWithFallback({ stage: null, renderer: host.renderer });
  const other = await page.context().newPage();
  try {
    await other.goto(idle.url);
    await waitFor(async () => (await other.textContent('[data-testid=stage-url]').catch(() => ''))?.endsWith('.usda'), 'the page did not open a sample on an idle host', 30000);
    const opens = await other.evaluate(() => window.__ovhost.client.hello?.state);
    if (!opens) throw new Error('no helloResult');
  } finally {
    await other.close();
    await idle.stop();
  }
});

test('the ovstream driver without NVIDIA\'s library fails with a clear message', async () => {
  const other = await page.context().newPage();
  try {
    await other.goto(`${host.url}/?driver=ovstream`);
    await waitFor(async () => (await other.getAttribute('[data-testid=status]', 'data-status')) === 'failed', 'the status did not become Failed', 15000);
    const text = await other.textContent('[data-testid=viewport-overlay]');
    if (!text.includes('@nvidia/ov-web-rtc')) throw new Error(`the message does not name the package: ${text}`);
  } finally {
    await other.close();
  }
});

/** Pixels of the WebRTC <video> drawn into a canvas: a fingerprint and whether it is one colour. */
const videoPrint = (p) =>
  p.evaluate(() => {
    const video = document.querySelector('video.stream-surface');
    if (!video || video.videoWidth === 0) return { hash: 0, flat: true, width: 0 };
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(video, 0, 0);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let hash = 2166136261;
    let first = -1;
    let flat = true;
    for (let i = 0; i < data.length; i += 4 * 97) {
      const v = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16);
      if (first < 0) first = v;
      else if (v !== first) flat = false;
      hash = Math.imul(hash ^ v, 16777619) >>> 0;
    }
    return { hash, flat, width: video.videoWidth };
  });

test('the standards WebRTC driver shows video and a viewport click selects a prim', async () => {
  const rtcHost = await startHostWithFallback({ renderer: host.renderer, args: ['--transport', 'web,webrtc', '--webrtc-udp-port', '0'] });
  const other = await page.context().newPage();
  other.on('console', (msg) => {
    if (msg.type() === 'error') console.log(`  webrtc page console.error: ${msg.text()}`);
  });
  try {
    await other.goto(`${rtcHost.url}/?driver=webrtc`);
    await waitFor(async () => (await other.getAttribute('[data-testid=status]', 'data-status')) === 'live', 'the WebRTC page did not become Live', 20000);
    await waitFor(async () => (await videoPrint(other)).width > 0, 'the <video> never got a frame over WebRTC', 20000);
    const a = await other.evaluate(() => window.__ovhost.client.stats.framesDecoded);
    await nudge(other);
    await sleep(1500);
    const b = await other.evaluate(() => window.__ovhost.client.stats.framesDecoded);
    if (b <= a) throw new Error(`getStats framesDecoded did not rise (${a} → ${b})`);
    if ((await videoPrint(other)).flat) throw new Error('the WebRTC video is a single colour');
    const sessions = await (await fetch(`${rtcHost.url}/api/webrtc`)).json();
    if (sessions.sessions.length !== 1 || !sessions.sessions[0].connected) throw new Error(`the host sees ${JSON.stringify(sessions.sessions)}`);
    await screenshot(other, '07-webrtc');
    // A click on the picture centre selects a prim (input over the data channel, reply back).
    await other.evaluate(() => {
      window.__rtcMessages = [];
      window.__ovhost.client.onAny((_p, message) => window.__rtcMessages.push(message));
      window.__ovhost.store.selectPrims([]);
    });
    await sleep(500);
    const box = await other.locator('[data-testid=viewport]').boundingBox();
    await other.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const selected = await waitFor(() => other.evaluate(() => window.__rtcMessages.find((m) => m.event_type === 'stageSelectionChanged' && m.payload.prims?.length) ?? null), 'no stageSelectionChanged after a click over WebRTC', 10000);
    console.log(`  webrtc click selected ${JSON.stringify(selected.payload.prims)}`);
  } finally {
    await other.close();
    await rtcHost.stop();
  }
});

// ---------- runner ----------
async function main() {
  let passed = 0;
  let failed = 0;
  const browser = await launchBrowser();
  try {
    host = await startHostWithFallback();
    console.log(`e2e: ovhost on ${host.url} (renderer ${host.renderer})`);
    page = await browser.newPage();
    page.on('pageerror', (error) => console.log(`  page error: ${error.message}`));
    page.on('console', (msg) => {
      if (msg.text().includes('willReadFrequently')) return; // our own pixel probes
      if (msg.type() === 'error' || msg.type() === 'warning') console.log(`  console.${msg.type()}: ${msg.text()}`);
    });
    await page.addInitScript(() => {
      // Record every server message for assertions (installed before the app boots).
      window.__e2eMessages = [];
      const timer = setInterval(() => {
        const client = window.__ovhost?.client;
        if (!client) return;
        clearInterval(timer);
        client.onAny((_payload, message) => window.__e2eMessages.push(message));
      }, 1);
    });
    await page.goto(host.url);
    for (const { name, fn } of tests) {
      const started = Date.now();
      try {
        await fn();
        passed += 1;
        console.log(`ok   ${name} (${Date.now() - started} ms)`);
      } catch (error) {
        failed += 1;
        console.log(`FAIL ${name}: ${error.message}`);
        await screenshot(page, `fail-${name.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => undefined);
      }
    }
  } catch (error) {
    console.log(`FAIL e2e setup: ${error.stack ?? error}`);
    failed += tests.length - passed - failed || 1;
  } finally {
    await browser.close();
    await host?.stop();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();
