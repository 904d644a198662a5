import { describe, expect, it } from 'vitest';
import { inertBecause } from './RenderPanel';

describe('render settings that have no effect', () => {
  it('says the background colour is used only with a solid background', () => {
    expect(inertBecause('background_color', { background: 'gradient' })).toContain('solid');
    expect(inertBecause('background_color', { background: 'solid' })).toBeNull();
    expect(inertBecause('outline_color', { background: 'gradient' })).toBeNull();
  });
});
