import { describe, expect, it } from 'vitest';
import { computeLetterbox, toStreamDelta, toStreamPixels } from './mapping';

describe('letterbox mapping', () => {
  it('puts bars left and right when the element is wider than the stream', () => {
    const box = computeLetterbox(2000, 720, 1280, 720);
    expect(box.scale).toBe(1);
    expect(box.offsetX).toBe(360);
    expect(box.offsetY).toBe(0);
    expect(toStreamPixels(360, 0, box)).toEqual({ x: 0, y: 0 });
    expect(toStreamPixels(360 + 640, 360, box)).toEqual({ x: 640, y: 360 });
  });

  it('puts bars top and bottom when the element is taller, and scales', () => {
    const box = computeLetterbox(640, 1000, 1280, 720); // scale 0.5, picture 640×360 at y=320
    expect(box.scale).toBe(0.5);
    expect(box.offsetY).toBe(320);
    expect(toStreamPixels(320, 320 + 180, box)).toEqual({ x: 640, y: 360 });
  });

  it('rejects points in the bars unless clamping', () => {
    const box = computeLetterbox(2000, 720, 1280, 720);
    expect(toStreamPixels(100, 300, box)).toBeNull();
    expect(toStreamPixels(1900, 300, box)).toBeNull();
    expect(toStreamPixels(100, 300, box, true)).toEqual({ x: 0, y: 300 });
    expect(toStreamPixels(1900, 900, box, true)).toEqual({ x: 1279, y: 719 });
  });

  it('treats the far edge as outside (pixels are 0..size-1)', () => {
    const box = computeLetterbox(1280, 720, 1280, 720);
    expect(toStreamPixels(1279.5, 719.5, box)).toEqual({ x: 1279, y: 719 });
    expect(toStreamPixels(1280, 10, box)).toBeNull();
  });

  it('maps deltas by the scale and handles empty elements', () => {
    const box = computeLetterbox(640, 360, 1280, 720);
    expect(toStreamDelta(10, box)).toBe(20);
    const empty = computeLetterbox(0, 0, 1280, 720);
    expect(toStreamPixels(1, 1, empty, true)).toBeNull();
    expect(toStreamDelta(5, empty)).toBe(0);
  });
});
