// Stand-in for `@nvidia/ov-web-rtc` when the package is not installed (it is not on the public
// npm registry). vite.config.ts aliases the import here so the build works without it; the
// WebRTC driver sees the marker and reports a clear error instead of crashing.
export const OVHOST_LIBRARY_MISSING = true;
