// Save image, Record and the stats panel in the browser: the PNG download has the stream size,
// a 5 s recording downloads as an MP4 that PyAV (FFmpeg, from the webrtc test venv) decodes to
// about 5 s × fps frames, the stats panel shows the host's render/encode times, and the latency
// test reports round trips.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, startHostWithFallback } from './lib.mjs';
import { apiState, expect, openViewer, sleep, test, waitFor } from './fixtures.mjs';

const FPS = 15;

test.describe('stills, recordings and stats', () => {
  let host;
  test.beforeAll(async () => {
    host = await startHostWithFallback({ renderer: 'testpattern', stage: null, args: ['--fps', String(FPS)] });
  });
  test.afterAll(async () => host?.stop());

  test('Save image downloads a PNG of the current stream size', async ({ page }) => {
    await openViewer(page, host.url);
    await waitFor(async () => (await apiState(host)).clients.length === 1, 'the host does not see exactly one client');
    await sleep(1000); // let the stream settle at the viewport's size
    const downloading = page.waitForEvent('download');
    await page.locator('[data-testid=save-image]').click();
    const file = await (await downloading).path();
    const png = readFileSync(file);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const size = { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
    const stream = (await apiState(host)).stream;
    expect(size).toEqual({ width: stream.width, height: stream.height });
  });

  test('Record for 5 s downloads an MP4 with about 5 s × fps frames', async ({ page }, testInfo) => {
    const setup = spawnSync('bash', [path.join(REPO_ROOT, 'scripts/webrtc/setup-venv.sh')], { encoding: 'utf8' });
    test.skip(setup.status !== 0 && process.env.OVHOST_SKIP_WEBRTC === '1', `PyAV unavailable: ${setup.stderr}`);
    expect(setup.status, setup.stderr).toBe(0);
    const python = setup.stdout.trim();
    await openViewer(page, host.url);
    await sleep(1000);
    await page.locator('[data-testid=record]').click();
    await expect(page.locator('[data-testid=record]')).toHaveClass(/recording/);
    await sleep(5000);
    const downloading = page.waitForEvent('download');
    await page.locator('[data-testid=record]').click();
    const download = await downloading;
    const file = testInfo.outputPath(download.suggestedFilename());
    await download.saveAs(file);
    await expect(page.locator('[data-testid=recording-link]')).toContainText('.mp4');
    const check = spawnSync(python, [path.join(REPO_ROOT, 'scripts/capture/check_mp4.py'), file], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    const report = JSON.parse(check.stdout);
    console.log(`  recording ${download.suggestedFilename()}: ${check.stdout.trim()}`);
    expect(report.codec).toBe('h264');
    expect(Math.abs(report.frames - 5 * FPS)).toBeLessThanOrEqual(5 * FPS * 0.25);
  });

  test('the stats panel shows the host times and the latency test measures round trips', async ({ page }) => {
    await openViewer(page, host.url);
    await expect(page.locator('[data-testid=stat-host-render]')).toContainText('ms', { timeout: 5000 });
    await expect(page.locator('[data-testid=stat-host-convert]')).toContainText('ms');
    await waitFor(async () => Number((await page.textContent('[data-testid=stat-keyframes]')) ?? 0) >= 1, 'no keyframe counted');
    await page.locator('[data-testid=latency-test]').click();
    await expect(page.locator('[data-testid=latency-result]')).toContainText('10 samples', { timeout: 15000 });
  });

  test('the quality panel sets the frame rate and bitrate the host streams at', async ({ page }) => {
    await openViewer(page, host.url);
    await expect(page.locator('[data-testid=fps-select]')).toHaveValue(String(FPS));
    await page.selectOption('[data-testid=fps-select]', '10');
    await waitFor(async () => (await apiState(host)).stream.fps === 10, 'the host did not change its frame rate');
    await page.selectOption('[data-testid=bitrate-select]', '2500');
    await expect(page.locator('[data-testid=bitrate-select]')).toHaveValue('2500');
    await page.selectOption('[data-testid=fps-select]', String(FPS));
    await waitFor(async () => (await apiState(host)).stream.fps === FPS, 'the frame rate did not go back');
  });
});
