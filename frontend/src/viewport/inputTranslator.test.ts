import { describe, expect, it } from 'vitest';
import { InputTranslator, type PointerLike } from './inputTranslator';
import { computeLetterbox } from './mapping';

// Element 2000×720 showing a 1280×720 stream: bars of 360 px on both sides.
const box = computeLetterbox(2000, 720, 1280, 720);
const pointer = (over: Partial<PointerLike>): PointerLike => ({
  pointerId: 1, pointerType: 'mouse', offsetX: 0, offsetY: 0, movementX: 0, movementY: 0,
  button: 0, buttons: 0, shiftKey: false, ctrlKey: false, altKey: false, metaKey: false, ...over,
});
const mods = { shift: false, ctrl: false, alt: false, meta: false };

describe('InputTranslator', () => {
  it('ignores a press in the letterbox bar and the drag that follows', () => {
    const t = new InputTranslator(() => box);
    expect(t.pointerDown(pointer({ offsetX: 100, offsetY: 100, buttons: 1 }))).toEqual([]);
    expect(t.pointerMove(pointer({ offsetX: 120, offsetY: 100, buttons: 1 }))).toEqual([]);
    expect(t.pointerUp(pointer({ offsetX: 120, offsetY: 100 }))).toEqual([]);
  });

  it('sends a drag in stream pixels and clamps it when it leaves the picture', () => {
    const t = new InputTranslator(() => box);
    expect(t.pointerDown(pointer({ offsetX: 1000, offsetY: 360, buttons: 1 }))).toEqual([
      { type: 'pointerdown', x: 640, y: 360, button: 0, buttons: 1, ...mods },
    ]);
    expect(t.pointerMove(pointer({ offsetX: 1900, offsetY: 800, movementX: 900, movementY: 440, buttons: 1 }))).toEqual([
      { type: 'pointermove', x: 1279, y: 719, dx: 900, dy: 440, buttons: 1, ...mods },
    ]);
    expect(t.pointerUp(pointer({ offsetX: 1900, offsetY: 800 }))).toEqual([
      { type: 'pointerup', x: 1279, y: 719, button: 0, buttons: 0, ...mods },
    ]);
    expect(t.dragging).toBe(false);
  });

  it('drops hover moves over the bars but keeps hover moves over the picture', () => {
    const t = new InputTranslator(() => box);
    expect(t.pointerMove(pointer({ offsetX: 10, offsetY: 10 }))).toEqual([]);
    expect(t.pointerMove(pointer({ offsetX: 400, offsetY: 10 }))).toHaveLength(1);
  });

  it('converts wheel deltas to notches, positive = zoom in', () => {
    const t = new InputTranslator(() => box);
    const wheel = { offsetX: 1000, offsetY: 360, deltaMode: 0, shiftKey: false, ctrlKey: false, altKey: false, metaKey: false };
    expect(t.wheel({ ...wheel, deltaY: -100 })[0]).toMatchObject({ type: 'wheel', notches: 1, x: 640 });
    expect(t.wheel({ ...wheel, deltaY: 3, deltaMode: 1 })[0]?.notches).toBeCloseTo(-0.99);
    expect(t.wheel({ ...wheel, offsetX: 5, deltaY: 100 })).toEqual([]);
  });

  it('sends keys once per press, ignoring auto-repeat', () => {
    const t = new InputTranslator(() => box);
    const key = { key: 'w', repeat: false, shiftKey: true, ctrlKey: false, altKey: false, metaKey: false };
    expect(t.key('keydown', key)).toEqual([{ type: 'keydown', key: 'w', ...mods, shift: true }]);
    expect(t.key('keydown', { ...key, repeat: true })).toEqual([]);
    expect(t.key('keyup', key)[0]?.type).toBe('keyup');
  });

  it('cancels an interrupted gesture once', () => {
    const t = new InputTranslator(() => box);
    t.pointerDown(pointer({ offsetX: 1000, offsetY: 300, buttons: 1 }));
    expect(t.cancel()).toEqual([{ type: 'cancel' }]);
    expect(t.cancel()).toEqual([]);
  });

  it('keeps the position still and sends movement while the pointer is locked', () => {
    const t = new InputTranslator(() => box);
    t.pointerDown(pointer({ offsetX: 1000, offsetY: 300, button: 2, buttons: 2 }));
    t.pointerLocked = true;
    expect(t.pointerMove(pointer({ offsetX: 0, offsetY: 0, movementX: 5, movementY: -3, buttons: 2 }))).toEqual([
      { type: 'pointermove', x: 640, y: 300, dx: 5, dy: -3, buttons: 2, ...mods },
    ]);
  });

  it('turns one finger into a left drag and two into a pinch (wheel)', () => {
    const t = new InputTranslator(() => box);
    const touch = (id: number, x: number, y: number) => pointer({ pointerId: id, pointerType: 'touch', offsetX: x, offsetY: y });
    expect(t.pointerDown(touch(1, 900, 300))[0]).toMatchObject({ type: 'pointerdown', button: 0, buttons: 1 });
    expect(t.pointerMove(touch(1, 910, 300))[0]).toMatchObject({ type: 'pointermove', dx: 10, dy: 0 });
    // Second finger 100 px away: the drag ends, a pinch starts.
    expect(t.pointerDown(touch(2, 1010, 300))[0]).toMatchObject({ type: 'pointerup' });
    const spread = t.pointerMove(touch(2, 1100, 300)); // distance 190: +90 px → 2 notches
    expect(spread[0]).toMatchObject({ type: 'wheel', notches: 2 });
    expect(t.pointerUp(touch(2, 1100, 300))).toEqual([]);
    expect(t.pointerUp(touch(1, 910, 300))).toEqual([]); // its drag already ended
    expect(t.dragging).toBe(false);
    // A fresh one-finger drag works again.
    expect(t.pointerDown(touch(3, 900, 300))[0]).toMatchObject({ type: 'pointerdown' });
    expect(t.pointerUp(touch(3, 900, 300))).toEqual([{ type: 'pointerup', x: 540, y: 300, button: 0, buttons: 0 }]);
  });
});
