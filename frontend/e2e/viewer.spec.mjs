// The viewer against the real host, each test in its own browser context: video, stages, tree,
// selection both ways, navigation, AOVs, camera schemes, variants, bad paths, reconnect, an idle
// host's automatic open, the ovstream driver's missing library, and standards WebRTC.

import path from 'node:path';
import { resultsDir, startHostWithFallback } from './lib.mjs';
import {
  apiState, canvasPrint, drag, expect, framesDecoded, messageCount, messagesSince, openViewer, sleep, statusOf, test,
  treeRows, viewportBox, waitFor, waitForImageChange,
} from './fixtures.mjs';

const shot = (page, name) => page.screenshot({ path: path.join(resultsDir(), `${name}.png`) });

test('video frames decode and the canvas shows them', async ({ page, host }) => {
  await openViewer(page, host.url);
  await waitFor(async () => (await framesDecoded(page)) > 3, 'no decoded video frames', 20000);
  const a = await framesDecoded(page);
  await sleep(1000);
  expect(await framesDecoded(page)).toBeGreaterThan(a);
  expect((await canvasPrint(page)).flat, 'the canvas is a single colour').toBe(false);
  // StrictMode renders effects twice: still exactly one connection (earlier tests' pages are gone).
  await waitFor(async () => (await apiState(host)).clients.length === 1, 'the host does not see exactly one client');
  await shot(page, '01-video');
});

test('open the sample stages from the scene list', async ({ page, host }) => {
  await openViewer(page, host.url);
  await waitFor(() => page.locator('[data-testid=open-stage] .scene').count(), 'the scene list is empty (listScenesResult)');
  await page.locator('[data-testid=open-stage] .scene', { hasText: 'sample_zup.usda' }).click();
  await expect(page.locator('[data-testid=stage-url]')).toContainText('sample_zup.usda', { timeout: 30000 });
  await waitFor(async () => (await treeRows(page)).length > 1, 'the stage tree shows no children of the Z-up root');
  await page.locator('[data-testid=open-stage] .scene', { hasText: 'sample_yup.usda' }).click();
  await expect(page.locator('[data-testid=stage-url]')).toContainText('sample_yup.usda', { timeout: 20000 });
  await waitFor(async () => (await treeRows(page)).length > 1, 'the stage tree shows no children of the root');
});

test('expand the tree', async ({ page, host }) => {
  await openViewer(page, host.url);
  await waitFor(async () => (await treeRows(page)).some((r) => r.expanded === 'false'), 'no collapsed row');
  const before = await treeRows(page);
  const collapsed = before.find((r) => r.expanded === 'false');
  await page.locator(`[role=treeitem][data-path="${collapsed.path}"] [data-testid=twisty]`).click();
  await waitFor(async () => (await treeRows(page)).length > before.length, `expanding ${collapsed.path} added no rows`);
});

test('a tree click selects the prim and the inspector shows it; Esc clears the selection', async ({ page, host }) => {
  await openViewer(page, host.url);
  await waitFor(async () => (await treeRows(page)).length > 1, 'no tree rows');
  const rows = await treeRows(page);
  const target = rows.find((r) => r.path !== rows[0]?.path && !r.selected);
  await page.locator(`[role=treeitem][data-path="${target.path}"] .name`).click();
  await waitFor(async () => (await treeRows(page)).some((r) => r.path === target.path && r.selected), `the tree does not highlight ${target.path}`);
  await expect(page.locator('[data-testid=inspector-path]')).toHaveText(target.path);
  await waitFor(() => page.locator('[data-testid=inspector] .props tr').count(), 'no properties for the clicked prim');
  // Polish: Esc clears the selection (it used to do nothing).
  await page.locator('[data-testid=viewport]').focus();
  await page.keyboard.press('Escape');
  await waitFor(async () => !(await treeRows(page)).some((r) => r.selected), 'Esc did not clear the selection');
  expect((await apiState(host)).selection).toEqual([]);
});

test('a click in the viewport selects the same prim in the tree', async ({ page, host }) => {
  await openViewer(page, host.url);
  await page.locator('.buttons button').first().click(); // Frame all
  await sleep(500);
  await page.evaluate(() => window.__ovhost.store.selectPrims([]));
  await waitFor(async () => (await apiState(host)).selection.length === 0, 'the selection did not clear');
  const since = await messageCount(page);
  const box = await viewportBox(page);
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  const [message] = await waitFor(async () => {
    const found = (await messagesSince(page, since, 'stageSelectionChanged')).filter((m) => m.payload.prims?.length);
    return found.length ? found : null;
  }, 'no stageSelectionChanged after a click on the picture centre');
  const picked = message.payload.prims[0];
  await waitFor(async () => (await treeRows(page)).some((r) => r.path === picked && r.selected), `the tree does not highlight ${picked}`);
  await expect(page.locator('[data-testid=inspector-path]')).toHaveText(picked);
  await shot(page, '03-selection');
});

test('an orbit drag changes the image and input seqs are echoed', async ({ page, host }) => {
  await openViewer(page, host.url);
  await waitFor(async () => (await framesDecoded(page)) > 3, 'no video');
  const before = await canvasPrint(page);
  await drag(page);
  await waitForImageChange(page, before, 'the image did not change after an orbit drag');
  expect(await page.evaluate(() => window.__ovhost.client.stats.lastInputSeqEchoed)).toBeGreaterThan(0);
});

test('switch the AOV', async ({ page, host }) => {
  await openViewer(page, host.url);
  const options = await waitFor(async () => {
    const values = await page.$$eval('[data-testid=aov-select] option', (o) => o.map((x) => x.value).filter(Boolean));
    return values.length > 1 ? values : null;
  }, 'fewer than two AOVs offered (availableAOVsResult)');
  const current = await page.inputValue('[data-testid=aov-select]');
  const next = options.find((o) => o !== current);
  await waitFor(async () => (await framesDecoded(page)) > 3, 'no video');
  const before = await canvasPrint(page);
  await page.selectOption('[data-testid=aov-select]', next);
  await expect(page.locator('[data-testid=aov-select]')).toHaveValue(next);
  await waitForImageChange(page, before, `the image did not change after switching the AOV to ${next}`);
  await page.selectOption('[data-testid=aov-select]', current);
  await expect(page.locator('[data-testid=aov-select]')).toHaveValue(current);
});

test('switch the camera scheme', async ({ page, host }) => {
  await openViewer(page, host.url);
  const options = await waitFor(async () => {
    const values = await page.$$eval('[data-testid=scheme-select] option', (o) => o.map((x) => x.value).filter(Boolean));
    return values.length > 1 ? values : null;
  }, 'fewer than two camera schemes offered (cameraSchemesResult)');
  const current = await page.inputValue('[data-testid=scheme-select]');
  const next = options.includes('fly') && current !== 'fly' ? 'fly' : options.find((o) => o !== current);
  await page.selectOption('[data-testid=scheme-select]', next);
  await expect(page.locator('[data-testid=scheme-select]')).toHaveValue(next);
  await page.selectOption('[data-testid=scheme-select]', current);
  await expect(page.locator('[data-testid=scheme-select]')).toHaveValue(current);
});

test('switch a variant of the selected prim', async ({ page, host }) => {
  await openViewer(page, host.url);
  // A fresh page shows the tree collapsed: selecting the prim expands its ancestors.
  await page.evaluate(() => window.__ovhost.store.selectPrims(['/World/Props/Showcase']));
  const showcase = await waitFor(async () => (await treeRows(page)).find((r) => r.path.endsWith('/Showcase')), 'no Showcase row in the tree');
  await page.locator(`[role=treeitem][data-path="${showcase.path}"] .name`).click();
  const select = page.locator('[data-testid=variants] select');
  await expect(select).toBeVisible();
  const current = await select.inputValue();
  const next = current === 'sphere' ? 'cube' : 'sphere';
  for (const value of [next, current]) {
    await waitFor(async () => (await framesDecoded(page)) > 3, 'no video');
    const before = await canvasPrint(page);
    await select.selectOption(value);
    await waitForImageChange(page, before, `the image did not change after selecting the ${value} variant`, 15000);
    await expect(page.locator('[data-testid=viewport-overlay]')).toBeHidden({ timeout: 15000 });
    // Polish: the variant switch keeps the selection (the inspector still shows Showcase).
    await expect(select).toHaveValue(value, { timeout: 15000 });
    await expect(page.locator('[data-testid=inspector-path]')).toHaveText(showcase.path);
    expect((await apiState(host)).selection).toEqual([showcase.path]);
  }
});

test('opening a bad path shows the error once and the viewer keeps working', async ({ page, host }) => {
  await openViewer(page, host.url);
  await page.fill('[data-testid=open-path]', 'no/such/stage.usda');
  await page.click('[data-testid=open-stage] button[type=submit]');
  await expect(page.locator('[data-testid=open-error]')).toContainText('no/such/stage.usda', { timeout: 15000 });
  const a = await framesDecoded(page);
  await sleep(800);
  expect(await framesDecoded(page)).toBeGreaterThan(a);
  expect(await statusOf(page)).toBe('live');
  // Polish: the open error is shown in its panel only, not again as a toast with a raw code.
  await expect(page.locator('[data-testid=errors] .toast', { hasText: 'no/such/stage.usda' })).toHaveCount(0);
  await expect(page.locator('[data-testid=errors] .toast[data-code=not_found]')).toHaveCount(0);
});

test('the page reconnects after the host restarts, without a stale host state while offline', async ({ page }) => {
  let own = await startHostWithFallback();
  try {
    await openViewer(page, own.url);
    await expect(page.locator('[data-testid=runtime-state]')).toBeVisible();
    const connectionsBefore = await page.evaluate(() => window.__ovhost.client.connections);
    const { port, renderer } = own;
    await own.stop();
    await expect(page.locator('[data-testid=status]')).toHaveAttribute('data-status', 'offline');
    // Polish: "host: streaming" is not shown while the host cannot be reached.
    await expect(page.locator('[data-testid=runtime-state]')).toHaveCount(0);
    own = await startHostWithFallback({ port, renderer });
    await expect(page.locator('[data-testid=status]')).toHaveAttribute('data-status', 'live', { timeout: 30000 });
    expect(await page.evaluate(() => window.__ovhost.client.connections)).toBeGreaterThan(connectionsBefore);
    const a = await framesDecoded(page);
    await waitFor(async () => (await framesDecoded(page)) > a + 3, 'no video after reconnecting', 15000);
    await waitFor(async () => (await treeRows(page)).length > 3, 'the tree did not come back after reconnecting');
    const row = (await treeRows(page)).find((r) => r.path.endsWith('/GreenSphere')) ?? (await treeRows(page))[1];
    await page.locator(`[role=treeitem][data-path="${row.path}"] .name`).click();
    await waitFor(() => page.locator('[data-testid=inspector] .props tr').count(), 'no properties after reconnecting');
    await shot(page, 'viewer');
  } finally {
    await own.stop();
  }
});

test('an idle host gets one sample opened automatically, with its render settings', async ({ page, host }) => {
  const idle = await startHostWithFallback({ stage: null, renderer: host.renderer });
  try {
    await openViewer(page, idle.url);
    await expect(page.locator('[data-testid=stage-url]')).toHaveText(/\.usda$/, { timeout: 30000 });
    // Polish: the render settings and AOVs appear without a reload.
    await waitFor(async () => (await page.$$('[data-testid=aov-select] option')).length > 1, 'no AOVs after the automatic open');
    await waitFor(async () => (await page.$$('[data-testid=render-panel] .field')).length > 1, 'no render settings after the automatic open');
  } finally {
    await idle.stop();
  }
});

test("the ovstream driver without NVIDIA's library fails with a clear message", async ({ page, host }) => {
  await page.goto(`${host.url}/?driver=ovstream`);
  await expect(page.locator('[data-testid=status]')).toHaveAttribute('data-status', 'failed', { timeout: 15000 });
  await expect(page.locator('[data-testid=viewport-overlay]')).toContainText('@nvidia/ov-web-rtc');
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

test('the standards WebRTC driver shows video and a viewport click selects a prim', async ({ page, host }) => {
  const rtcHost = await startHostWithFallback({ renderer: host.renderer, args: ['--transport', 'web,webrtc', '--webrtc-udp-port', '0'] });
  try {
    await openViewer(page, `${rtcHost.url}/?driver=webrtc`);
    await waitFor(async () => (await videoPrint(page)).width > 0, 'the <video> never got a frame over WebRTC', 20000);
    const a = await framesDecoded(page);
    await sleep(1500);
    expect(await framesDecoded(page)).toBeGreaterThan(a);
    expect((await videoPrint(page)).flat).toBe(false);
    const sessions = await (await fetch(`${rtcHost.url}/api/webrtc`)).json();
    expect(sessions.sessions.length).toBe(1);
    expect(sessions.sessions[0].connected).toBe(true);
    await page.evaluate(() => window.__ovhost.store.selectPrims([]));
    await sleep(500);
    const since = await messageCount(page);
    const box = await viewportBox(page);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await waitFor(async () => (await messagesSince(page, since, 'stageSelectionChanged')).some((m) => m.payload.prims?.length), 'no stageSelectionChanged after a click over WebRTC');
  } finally {
    await rtcHost.stop();
  }
});

test('the tree filter finds prims in branches that were never expanded', async ({ page, host }) => {
  await openViewer(page, host.url);
  await waitFor(async () => (await treeRows(page)).length > 1, 'no tree rows');
  expect((await treeRows(page)).some((r) => r.path.endsWith('/RedCube'))).toBe(false);
  await page.fill('[data-testid=stage-tree] input.filter', 'redcube');
  await waitFor(async () => (await treeRows(page)).some((r) => r.path === '/World/Props/RedGroup/RedCube'), 'the filter did not find RedCube under the collapsed RedGroup');
});

test('the background colour is marked unused while the background is a gradient', async ({ page, host }) => {
  await openViewer(page, host.url);
  const field = page.locator('[data-testid=render-panel] label.field', { hasText: 'Background colour' });
  await expect(field).toHaveCount(1);
  const background = await page.evaluate(() => window.__ovhost.store.getSnapshot().settings.background);
  if (background === 'gradient') {
    await expect(field.locator('input')).toBeDisabled();
    await expect(field).toContainText('solid');
  } else {
    await expect(field.locator('input')).toBeEnabled();
  }
});

test('Frame all keeps the viewing angle, like F', async ({ page, host }) => {
  await openViewer(page, host.url);
  await waitFor(async () => (await framesDecoded(page)) > 3, 'no video');
  const direction = async () => {
    const view = (await apiState(host)).camera.view;
    const d = view.eye.map((e, i) => e - view.target[i]);
    const len = Math.hypot(...d);
    return d.map((v) => v / len);
  };
  const before = await direction();
  await drag(page);
  await waitFor(async () => (await direction()).some((v, i) => Math.abs(v - before[i]) > 1e-3), 'the drag did not orbit');
  // The drag's events may still be arriving (a loaded machine renders slowly): wait until the
  // view has not moved for well over a frame.
  const turned = await waitFor(async () => {
    const a = await direction();
    await sleep(1500);
    const b = await direction();
    return a.every((v, i) => Math.abs(v - b[i]) < 1e-6) ? b : null;
  }, 'the view did not settle after the drag', 20000);
  const since = await messageCount(page);
  await page.locator('.buttons button', { hasText: 'Frame all' }).click();
  const [framed] = await waitFor(async () => {
    const found = await messagesSince(page, since, 'cameraStateChanged');
    return found.length ? found : null;
  }, 'no cameraStateChanged after Frame all');
  const view = framed.payload.view;
  const d = view.eye.map((e, i) => e - view.target[i]);
  const after = d.map((v) => v / Math.hypot(...d));
  after.forEach((v, i) => expect(Math.abs(v - turned[i])).toBeLessThan(1e-3));
});
