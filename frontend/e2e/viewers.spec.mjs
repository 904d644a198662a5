// Several viewers in separate browser contexts against one host: the second joins as a
// spectator, sees the owner, cannot move the camera and is told why; control handed over, it
// drives; input gates are per tab; a touch tap selects; the host's drain is shown.

import { startHostWithFallback } from './lib.mjs';
import {
  apiState, cameraView, drag, expect, messageCount, messagesSince, openViewer, sleep, test, viewportBox, waitFor,
} from './fixtures.mjs';

test('a second viewer watches as a spectator until the owner hands it control', async ({ browser, host }) => {
  const ownerContext = await browser.newContext();
  const watcherContext = await browser.newContext();
  try {
    const owner = await ownerContext.newPage();
    await openViewer(owner, `${host.url}/?name=Ada`);
    await expect(owner.locator('[data-testid=presence]')).toHaveAttribute('data-role', 'owner');
    const watcher = await watcherContext.newPage();
    await openViewer(watcher, `${host.url}/?name=Bea`);
    await expect(watcher.locator('[data-testid=presence]')).toHaveAttribute('data-role', 'spectator');
    // Presence: the spectator sees the owner by name, the owner sees the spectator.
    await expect(watcher.locator('[data-testid=viewer][data-role=owner]')).toContainText('Ada');
    await expect(owner.locator('[data-testid=viewer][data-role=spectator]')).toContainText('Bea');
    await expect(watcher.locator('[data-testid=spectator-banner]')).toContainText('Ada drives');
    const state = await apiState(host);
    expect(state.clients.map((c) => c.role).sort()).toEqual(['owner', 'spectator']);

    // Its drag does not move the camera, and it is told why.
    await sleep(500);
    const before = await cameraView(host);
    await drag(watcher);
    await expect(watcher.locator('[data-testid=errors] .toast[data-code=not_permitted]')).toContainText('spectator');
    await sleep(700);
    expect(await cameraView(host)).toBe(before);

    // It asks; the owner sees the request and lets it drive.
    await watcher.locator('[data-testid=request-control]').click();
    await expect(owner.locator('[data-testid=viewer][data-role=spectator]')).toContainText('asks for control');
    await owner.locator('[data-testid=viewer][data-role=spectator] [data-testid=grant]').click();
    await expect(watcher.locator('[data-testid=presence]')).toHaveAttribute('data-role', 'controller');
    await expect(watcher.locator('[data-testid=spectator-banner]')).toHaveCount(0);
    await drag(watcher);
    await waitFor(async () => (await cameraView(host)) !== before, 'the new controller\'s drag did not move the camera');

    // The first tab's input still works after the second tab's pointer leaves its viewport.
    const box = await viewportBox(watcher);
    await watcher.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await watcher.mouse.move(box.x + box.width + 200, 5); // over the side panel: pointerleave
    await sleep(500);
    const afterWatcher = await cameraView(host);
    await drag(owner);
    await waitFor(async () => (await cameraView(host)) !== afterWatcher, "the first tab's drag did nothing after the second tab's pointer left its viewport");

    // Taken back.
    await owner.locator('[data-testid=viewer][data-role=controller] [data-testid=revoke]').click();
    await expect(watcher.locator('[data-testid=presence]')).toHaveAttribute('data-role', 'spectator');
  } finally {
    await ownerContext.close();
    await watcherContext.close();
  }
});

test('a tap selects in a touch context', async ({ browser, host }) => {
  const context = await browser.newContext({ hasTouch: true, isMobile: true, viewport: { width: 800, height: 900 } });
  try {
    const page = await context.newPage();
    await openViewer(page, host.url);
    await waitFor(async () => (await apiState(host)).clients.length === 1, 'the host does not see exactly one client');
    await page.evaluate(() => window.__ovhost.store.send('fitCameraRequest', {}));
    await sleep(500);
    await page.evaluate(() => window.__ovhost.store.selectPrims([]));
    await waitFor(async () => (await apiState(host)).selection.length === 0, 'the selection did not clear');
    const since = await messageCount(page);
    const box = await viewportBox(page);
    await page.touchscreen.tap(box.x + box.width / 2, box.y + box.height / 2);
    await waitFor(async () => (await messagesSince(page, since, 'stageSelectionChanged')).some((m) => m.payload.prims?.length), 'a tap on the picture centre selected nothing');
  } finally {
    await context.close();
  }
});

test('the viewer shows the host draining (reason and retry hint)', async ({ page }) => {
  const own = await startHostWithFallback({ renderer: 'testpattern', stage: null, args: ['--retry-after-ms', '3000'] });
  try {
    await openViewer(page, own.url);
    // SIGTERM (what stop() sends): the host drains, telling every client why and when to come back.
    await own.stop();
    await expect(page.locator('[data-testid=shutting-down]')).toContainText('sigterm', { timeout: 10000 });
    await expect(page.locator('[data-testid=shutting-down]')).toContainText('3 s');
  } finally {
    await own.stop();
  }
});
