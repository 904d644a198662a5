// Vite build and Vitest configuration for the ovhost browser viewer.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// NVIDIA's WebRTC client library is optional (not on the public registry): when it is not
// installed, its dynamic import resolves to a stub and the WebRTC driver reports that clearly.
const hasOvWebRtc = existsSync(fileURLToPath(new URL('./node_modules/@nvidia/ov-web-rtc/package.json', import.meta.url)));
const alias = hasOvWebRtc
  ? {}
  : { '@nvidia/ov-web-rtc': fileURLToPath(new URL('./src/connection/ovWebRtcMissing.ts', import.meta.url)) };

export default defineConfig({
  plugins: [react()],
  resolve: { alias },
  // Served by the host at `/`; relative asset URLs also work behind a path prefix.
  base: './',
  build: { outDir: 'dist', sourcemap: true, target: 'es2022' },
  server: {
    // `npm run dev` proxies the host's endpoints (start ovhost on 8080 first).
    proxy: {
      '/ws': { target: 'ws://127.0.0.1:8080', ws: true },
      '/api': 'http://127.0.0.1:8080',
      '/healthz': 'http://127.0.0.1:8080',
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
  },
});
