import { describe, expect, it } from 'vitest';
import { wantedStreamSize } from './streamSize';

const open = { maxWidth: null, maxHeight: null };

describe('wantedStreamSize', () => {
  it('multiplies by the device pixel ratio and the scale, with even sides', () => {
    expect(wantedStreamSize(801, 451, 1, 1, open)).toEqual({ width: 800, height: 450 });
    expect(wantedStreamSize(390, 300, 3, 0.5, open)).toEqual({ width: 584, height: 450 });
  });
  it('clamps to the host limits keeping the aspect', () => {
    expect(wantedStreamSize(2560, 1440, 1, 1, { maxWidth: 1920, maxHeight: 1080 })).toEqual({ width: 1920, height: 1080 });
    expect(wantedStreamSize(1000, 2000, 1, 1, { maxWidth: 1920, maxHeight: 1080 })).toEqual({ width: 540, height: 1080 });
  });
  it('refuses an empty viewport and bounds the scale', () => {
    expect(wantedStreamSize(0, 100, 1, 1, open)).toBeNull();
    expect(wantedStreamSize(1000, 500, 1, 0.1, open)).toEqual({ width: 500, height: 250 });
  });
});
