// Letterbox-aware mapping from page coordinates on the viewport element to stream pixels: the
// stream is fitted like `object-fit: contain`, so clicks in the bars are rejected and drags that
// leave the picture are clamped to its edge.

export interface Letterbox {
  /** CSS pixels per stream pixel. */
  scale: number;
  /** Offset of the picture inside the element, CSS pixels. */
  offsetX: number;
  offsetY: number;
  /** Size of the picture inside the element, CSS pixels. */
  contentWidth: number;
  contentHeight: number;
  streamWidth: number;
  streamHeight: number;
}

export function computeLetterbox(elementWidth: number, elementHeight: number, streamWidth: number, streamHeight: number): Letterbox {
  if (elementWidth <= 0 || elementHeight <= 0 || streamWidth <= 0 || streamHeight <= 0) {
    return { scale: 0, offsetX: 0, offsetY: 0, contentWidth: 0, contentHeight: 0, streamWidth, streamHeight };
  }
  const scale = Math.min(elementWidth / streamWidth, elementHeight / streamHeight);
  const contentWidth = streamWidth * scale;
  const contentHeight = streamHeight * scale;
  return {
    scale,
    offsetX: (elementWidth - contentWidth) / 2,
    offsetY: (elementHeight - contentHeight) / 2,
    contentWidth,
    contentHeight,
    streamWidth,
    streamHeight,
  };
}

export interface StreamPoint {
  x: number;
  y: number;
}

/**
 * Maps a point relative to the element's top-left (CSS pixels) to stream pixels. Outside the
 * picture it returns null, unless `clamp` is set (drags), then the nearest edge pixel.
 */
export function toStreamPixels(localX: number, localY: number, box: Letterbox, clamp = false): StreamPoint | null {
  if (box.scale <= 0) return null;
  const x = (localX - box.offsetX) / box.scale;
  const y = (localY - box.offsetY) / box.scale;
  const inside = x >= 0 && y >= 0 && x < box.streamWidth && y < box.streamHeight;
  if (!inside && !clamp) return null;
  return {
    x: Math.min(box.streamWidth - 1, Math.max(0, Math.floor(x))),
    y: Math.min(box.streamHeight - 1, Math.max(0, Math.floor(y))),
  };
}

/** Converts a movement in CSS pixels to stream pixels (for `dx`/`dy`). */
export function toStreamDelta(cssDelta: number, box: Letterbox): number {
  return box.scale > 0 ? cssDelta / box.scale : 0;
}
