// Fixtures and page helpers for the @playwright/test suite: `host` (worker-scoped: the real
// ovhost binary serving frontend/dist on the sample stage) and `openViewer(page, url)`, which
// records every server message in `window.__e2eMessages` and waits until the page is Live.

import { test as base, expect } from '@playwright/test';
import { startHostWithFallback, waitFor, sleep } from './lib.mjs';

export { expect, waitFor, sleep };

export const test = base.extend({
  host: [
    async ({}, use) => {
      const host = await startHostWithFallback();
      await use(host);
      await host.stop();
    },
    { scope: 'worker', timeout: 90_000 },
  ],
});

/** Opens the viewer at `url` with the message recorder installed; resolves once it is Live. */
export async function openViewer(page, url) {
  page.on('pageerror', (error) => console.log(`  page error: ${error.message}`));
  await page.addInitScript(() => {
    window.__e2eMessages = [];
    const timer = setInterval(() => {
      const client = window.__ovhost?.client;
      if (!client) return;
      clearInterval(timer);
      client.onAny((_payload, message) => window.__e2eMessages.push(message));
    }, 1);
  });
  await page.goto(url);
  await expect(page.locator('[data-testid=status]')).toHaveAttribute('data-status', 'live', { timeout: 30_000 });
}

export const framesDecoded = (page) => page.evaluate(() => window.__ovhost?.client.stats.framesDecoded ?? 0);
export const statusOf = (page) => page.getAttribute('[data-testid=status]', 'data-status');
export const apiState = async (host) => (await fetch(`${host.url}/api/state`)).json();
export const treeRows = (page) =>
  page.$$eval('[data-testid=stage-tree] [role=treeitem]', (rows) =>
    rows.map((r) => ({ path: r.dataset.path, selected: r.getAttribute('aria-selected') === 'true', expanded: r.getAttribute('aria-expanded') })),
  );
export const viewportBox = (page) => page.locator('[data-testid=viewport]').boundingBox();

/** A cheap fingerprint of the stream canvas (sampled grid) plus whether it is all one colour. */
export const canvasPrint = (page) =>
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

export async function waitForImageChange(page, before, message, timeoutMs = 8000) {
  return waitFor(async () => {
    const now = await canvasPrint(page);
    return now.hash !== before.hash ? now : null;
  }, message, timeoutMs);
}

/** Messages of `eventType` recorded since index `since`. */
export const messagesSince = (page, since, eventType) =>
  page.evaluate(([since, eventType]) => window.__e2eMessages.slice(since).filter((m) => m.event_type === eventType), [since, eventType]);
export const messageCount = (page) => page.evaluate(() => window.__e2eMessages.length);

/** A left drag across the viewport centre. */
export async function drag(page) {
  const box = await viewportBox(page);
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down({ button: 'left' });
  for (let i = 1; i <= 10; i += 1) await page.mouse.move(x + i * 15, y + i * 4);
  await page.mouse.up({ button: 'left' });
}

/** Waits until the host's camera view differs from `before` (a JSON string). */
export const cameraView = async (host) => JSON.stringify((await apiState(host)).camera?.view);
