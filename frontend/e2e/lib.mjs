// Shared helpers for the browser tests and the latency benchmark: start the real ovhost binary
// on a free port, launch headless Chromium through playwright-core, and small wait utilities.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const FRONTEND_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(FRONTEND_DIR, '..');
export const RESULTS_DIR = path.join(FRONTEND_DIR, 'test-results');

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes; throws `message` then. */
export async function waitFor(fn, message, timeoutMs = 10000, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await sleep(intervalMs);
  }
  throw new Error(`${message} (waited ${timeoutMs} ms; last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

/**
 * Starts target/debug/ovhost serving frontend/dist. Options: renderer, stage, port, continuous (default
 * true: --continuous-frames), extra args.
 * Returns {url, port, stop(), log()}.
 */
export async function startHost(options = {}) {
  const binary = process.env.OVHOST_BIN ?? path.join(REPO_ROOT, 'target', 'debug', 'ovhost');
  if (!existsSync(binary)) throw new Error(`${binary} does not exist: build it first with cargo build -p ovhost`);
  const port = options.port ?? (await freePort());
  const renderer = options.renderer ?? process.env.OVHOST_RENDERER ?? 'raster';
  const args = [
    '--asset-root', path.join(REPO_ROOT, 'examples', 'stages'),
    '--http-port', String(port),
    '--frontend-dir', path.join(FRONTEND_DIR, 'dist'),
    '--renderer', renderer,
  ];
  if (options.stage !== null) args.push('--stage', options.stage ?? 'sample_yup.usda');
  // The browser suite checks the viewer against a steady stream; the host's render on demand
  // (a static stage sends a frame and a refresh, then nothing) is tested in host/tests/pacing.rs.
  if (options.continuous !== false) args.push('--continuous-frames');
  args.push(...(options.args ?? []));
  let output = '';
  const child = spawn(binary, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1', RUST_LOG: process.env.RUST_LOG ?? 'info' } });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (exited) throw new Error(`ovhost exited (${JSON.stringify(exited)}): ${output.slice(-2000)}`);
      const response = await fetch(`${url}/healthz`);
      return response.ok;
    }, 'ovhost did not become ready', 60000, 200);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url,
    port,
    renderer,
    log: () => output,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const deadline = Date.now() + 5000;
      while (!exited && Date.now() < deadline) await sleep(50);
      if (!exited) child.kill('SIGKILL');
      while (!exited) await sleep(20);
    },
  };
}

/** Headless Debian Chromium with a fresh profile. Returns {context, newPage(), close()}. */
/** Headless Chromium with a fresh profile; `options.args` adds command-line flags. */
export async function launchBrowser(options = {}) {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'ovhost-chromium-'));
  // Playwright passes the fresh profile as --user-data-dir.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 820 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // WebRTC to a host on 127.0.0.1: loopback candidates are gathered only with this flag and
      // camera/microphone permission (granted below).
      '--allow-loopback-in-peer-connection',
      ...(options.args ?? []),
    ],
    permissions: ['camera', 'microphone'],
  });
  return {
    context,
    newPage: () => context.newPage(),
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Starts the host with the raster renderer, or testpattern when raster is not linked (yet). */
export async function startHostWithFallback(options = {}) {
  try {
    return await startHost(options);
  } catch (error) {
    if (!options.renderer && String(error).includes("renderer 'raster' is not registered")) {
      console.warn('e2e: the raster renderer is not registered in this build; using testpattern');
      return startHost({ ...options, renderer: 'testpattern' });
    }
    throw error;
  }
}

export function resultsDir() {
  mkdirSync(RESULTS_DIR, { recursive: true });
  return RESULTS_DIR;
}
