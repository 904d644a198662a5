// @playwright/test configuration for the end-to-end suite (e2e/*.spec.mjs): the built frontend in
// headless Debian Chromium against the real ovhost binary. One browser context per test (the
// runner's default), traces and screenshots kept for failures under test-results/, one worker
// (the hosts and software encoders share a 2-core machine). The tally reporter prints CI's
// "N passed, N failed" as the last line.

import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'e2e',
  testMatch: '*.spec.mjs',
  outputDir: 'test-results/playwright',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list'], ['./e2e/tally-reporter.mjs']],
  use: {
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    viewport: { width: 1400, height: 820 },
    // WebRTC to a host on 127.0.0.1 gathers loopback candidates only with camera/microphone
    // permission and --allow-loopback-in-peer-connection.
    permissions: ['camera', 'microphone'],
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      // The flags that work as root on these machines (docs: shared/reference/toolchain.md).
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--allow-loopback-in-peer-connection',
      ],
    },
  },
});
