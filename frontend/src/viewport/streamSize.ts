// The stream size a driving viewer asks the host for: its viewport in CSS pixels × the device
// pixel ratio × the resolution scale (50–100 %), clamped to what the host allows (its
// `max_width`/`max_height`, aspect kept), with even sides (H.264 needs them) of at least 16.

export const MIN_SCALE = 0.5;
export const MAX_SCALE = 1;

export interface Limits {
  maxWidth: number | null;
  maxHeight: number | null;
}

export function wantedStreamSize(cssWidth: number, cssHeight: number, dpr: number, scale: number, limits: Limits): { width: number; height: number } | null {
  if (!(cssWidth > 0 && cssHeight > 0)) return null;
  const s = Math.min(MAX_SCALE, Math.max(MIN_SCALE, Number.isFinite(scale) ? scale : 1));
  let width = cssWidth * (dpr > 0 ? dpr : 1) * s;
  let height = cssHeight * (dpr > 0 ? dpr : 1) * s;
  const fit = Math.min(1, limits.maxWidth ? limits.maxWidth / width : 1, limits.maxHeight ? limits.maxHeight / height : 1);
  width *= fit;
  height *= fit;
  const even = (v: number) => Math.max(16, Math.floor(v) & ~1);
  return { width: even(width), height: even(height) };
}

const SCALE_KEY = 'ovhost.resolutionScale';

export function savedScale(): number {
  const value = Number(globalThis.localStorage?.getItem(SCALE_KEY));
  return value >= MIN_SCALE && value <= MAX_SCALE ? value : 1;
}

export function saveScale(scale: number): void {
  globalThis.localStorage?.setItem(SCALE_KEY, String(scale));
}
