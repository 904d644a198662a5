// Turns DOM pointer, wheel, keyboard and touch events on the viewport into protocol input
// events in stream pixels. Presses in the letterbox bars are ignored; a gesture that started
// on the picture keeps reporting clamped positions until it ends. Two-finger pinch becomes wheel.

import type { InputEvent } from '../protocol';
import { toStreamDelta, toStreamPixels, type Letterbox } from './mapping';

/** The fields of a DOM PointerEvent this module reads (kept small so tests can build them). */
export interface PointerLike {
  pointerId: number;
  pointerType: string;
  offsetX: number;
  offsetY: number;
  movementX: number;
  movementY: number;
  button: number;
  buttons: number;
  shiftKey: boolean;
  ctrlKey: boolean;
  altKey: boolean;
  metaKey: boolean;
}

export interface WheelLike {
  offsetX: number;
  offsetY: number;
  deltaY: number;
  deltaMode: number;
  shiftKey: boolean;
  ctrlKey: boolean;
  altKey: boolean;
  metaKey: boolean;
}

export interface KeyLike {
  key: string;
  repeat: boolean;
  shiftKey: boolean;
  ctrlKey: boolean;
  altKey: boolean;
  metaKey: boolean;
}

const LINE_PX = 33; // one DOM_DELTA_LINE in pixels
const PINCH_PX_PER_NOTCH = 40;

function modifiers(e: { shiftKey: boolean; ctrlKey: boolean; altKey: boolean; metaKey: boolean }) {
  return { shift: e.shiftKey, ctrl: e.ctrlKey, alt: e.altKey, meta: e.metaKey };
}

export class InputTranslator {
  /** Pointers pressed on the picture (id → last stream position). */
  private active = new Map<number, { x: number; y: number; localX: number; localY: number }>();
  private pinchDistance: number | null = null;
  /** Touches whose drag already ended because a pinch began (their release sends nothing). */
  private silenced = new Set<number>();
  /** While the pointer is locked (fly mode) positions stay put and movement drives the camera. */
  pointerLocked = false;

  constructor(private readonly letterbox: () => Letterbox) {}

  get dragging(): boolean {
    return this.active.size > 0;
  }

  pointerDown(e: PointerLike): InputEvent[] {
    const box = this.letterbox();
    const point = toStreamPixels(e.offsetX, e.offsetY, box, false);
    if (!point) return []; // a press in the bars belongs to nobody
    this.active.set(e.pointerId, { ...point, localX: e.offsetX, localY: e.offsetY });
    if (e.pointerType === 'touch' && this.active.size === 2) {
      // Second finger: end the one-finger drag and start a pinch.
      this.pinchDistance = this.touchDistance();
      const first = [...this.active.entries()].find(([id]) => id !== e.pointerId);
      if (!first) return [];
      this.silenced.add(first[0]);
      return [{ type: 'pointerup', x: first[1].x, y: first[1].y, button: 0, buttons: 0 }];
    }
    if (e.pointerType === 'touch' && this.active.size > 2) return [];
    const button = e.pointerType === 'touch' ? 0 : e.button;
    const buttons = e.pointerType === 'touch' ? 1 : e.buttons;
    return [{ type: 'pointerdown', ...point, button, buttons, ...modifiers(e) }];
  }

  pointerMove(e: PointerLike): InputEvent[] {
    const box = this.letterbox();
    const previous = this.active.get(e.pointerId);
    if (e.pointerType === 'touch') {
      if (!previous) return [];
      const point = toStreamPixels(e.offsetX, e.offsetY, box, true);
      if (!point) return [];
      this.active.set(e.pointerId, { ...point, localX: e.offsetX, localY: e.offsetY });
      if (this.pinchDistance !== null) {
        const distance = this.touchDistance();
        const notches = (distance - this.pinchDistance) / PINCH_PX_PER_NOTCH;
        if (Math.abs(notches) < 1) return [];
        this.pinchDistance = distance;
        return [{ type: 'wheel', ...point, notches: Math.trunc(notches) }];
      }
      return [{ type: 'pointermove', ...point, dx: point.x - previous.x, dy: point.y - previous.y, buttons: 1 }];
    }
    const dx = toStreamDelta(e.movementX, box);
    const dy = toStreamDelta(e.movementY, box);
    if (this.pointerLocked) {
      const at = previous ?? { x: Math.floor(box.streamWidth / 2), y: Math.floor(box.streamHeight / 2) };
      return [{ type: 'pointermove', x: at.x, y: at.y, dx, dy, buttons: e.buttons, ...modifiers(e) }];
    }
    // Hover moves outside the picture are dropped; drags are clamped to its edge.
    const point = toStreamPixels(e.offsetX, e.offsetY, box, previous !== undefined);
    if (!point) return [];
    if (previous) this.active.set(e.pointerId, { ...point, localX: e.offsetX, localY: e.offsetY });
    return [{ type: 'pointermove', ...point, dx, dy, buttons: e.buttons, ...modifiers(e) }];
  }

  pointerUp(e: PointerLike): InputEvent[] {
    const previous = this.active.get(e.pointerId);
    if (!previous) return [];
    this.active.delete(e.pointerId);
    if (e.pointerType === 'touch') {
      const wasPinch = this.pinchDistance !== null;
      if (this.active.size < 2) this.pinchDistance = null;
      if (wasPinch || this.silenced.delete(e.pointerId)) return [];
      return [{ type: 'pointerup', x: previous.x, y: previous.y, button: 0, buttons: 0 }];
    }
    const point = this.pointerLocked
      ? { x: previous.x, y: previous.y }
      : (toStreamPixels(e.offsetX, e.offsetY, this.letterbox(), true) ?? previous);
    return [{ type: 'pointerup', ...point, button: e.button, buttons: e.buttons, ...modifiers(e) }];
  }

  /** The gesture was interrupted (pointercancel, focus lost, input handed to a panel). */
  cancel(): InputEvent[] {
    const had = this.active.size > 0;
    this.active.clear();
    this.silenced.clear();
    this.pinchDistance = null;
    return had ? [{ type: 'cancel' }] : [];
  }

  wheel(e: WheelLike): InputEvent[] {
    const point = toStreamPixels(e.offsetX, e.offsetY, this.letterbox(), false);
    if (!point) return [];
    const pixels = e.deltaMode === 1 ? e.deltaY * LINE_PX : e.deltaMode === 2 ? e.deltaY * 800 : e.deltaY;
    // Positive notches = away from the user = zoom in; DOM deltaY is negative for that.
    const notches = -pixels / 100;
    if (notches === 0) return [];
    return [{ type: 'wheel', ...point, notches, ...modifiers(e) }];
  }

  key(type: 'keydown' | 'keyup', e: KeyLike): InputEvent[] {
    if (type === 'keydown' && e.repeat) return [];
    return [{ type, key: e.key, ...modifiers(e) }];
  }

  private touchDistance(): number {
    const points = [...this.active.values()];
    const a = points[0];
    const b = points[1];
    if (!a || !b) return 0;
    return Math.hypot(a.localX - b.localX, a.localY - b.localY);
  }
}
