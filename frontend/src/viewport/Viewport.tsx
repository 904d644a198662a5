// The viewport: hosts the stream surface (canvas or WebRTC video, letterboxed with object-fit:
// contain), sends mouse, wheel, keyboard and touch input with `seq`, locks the pointer for fly
// navigation, and tells the server when input belongs to the page's panels instead.

import { useEffect, useRef } from 'react';
import type { ViewerClient } from '../connection/client';
import type { InputEvent } from '../protocol';
import { InputTranslator, type PointerLike } from './inputTranslator';
import { computeLetterbox } from './mapping';

export interface ViewportProps {
  client: ViewerClient;
  surface: HTMLCanvasElement | HTMLVideoElement;
  cameraScheme: string;
  /** Called with the viewport's size in CSS pixels whenever it changes. */
  onResize?: (width: number, height: number) => void;
  children?: React.ReactNode;
}

const FLY_SCHEMES = new Set(['fly', 'kit']);

export function Viewport({ client, surface, cameraScheme, onResize, children }: ViewportProps) {
  const containerRef = useRef<HTMLDivElement>(null);
  const schemeRef = useRef(cameraScheme);
  schemeRef.current = cameraScheme;
  const resizeRef = useRef(onResize);
  resizeRef.current = onResize;

  useEffect(() => {
    const container = containerRef.current;
    if (!container || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      const rect = container.getBoundingClientRect();
      resizeRef.current?.(rect.width, rect.height);
    });
    observer.observe(container);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const container = containerRef.current;
    if (!container) return;
    if (surface.parentElement !== container) container.prepend(surface);

    const streamSize = () => {
      const stream = client.hello?.stream;
      const width = client.stats.width || stream?.width || surface.width || 1280;
      const height = client.stats.height || stream?.height || surface.height || 720;
      return { width, height };
    };
    const letterbox = () => {
      const rect = surface.getBoundingClientRect();
      const { width, height } = streamSize();
      return computeLetterbox(rect.width, rect.height, width, height);
    };
    const translator = new InputTranslator(letterbox);
    // The ovstream library forwards native input itself; JSON input is for the WebSocket and
    // standards WebRTC drivers.
    const send = (events: InputEvent[]) => {
      if (events.length > 0 && client.driverKind !== 'ovstream') client.sendInput(events);
    };
    let inputActive: boolean | null = null;
    const setActive = (active: boolean) => {
      if (inputActive === active) return;
      if (client.send('setViewportInputActive', { active })) inputActive = active;
    };
    const pointer = (e: PointerEvent): PointerLike => {
      const rect = surface.getBoundingClientRect();
      return {
        pointerId: e.pointerId,
        pointerType: e.pointerType,
        offsetX: e.clientX - rect.left,
        offsetY: e.clientY - rect.top,
        movementX: e.movementX,
        movementY: e.movementY,
        button: e.button,
        buttons: e.buttons,
        shiftKey: e.shiftKey,
        ctrlKey: e.ctrlKey,
        altKey: e.altKey,
        metaKey: e.metaKey,
      };
    };
    const onDown = (e: PointerEvent) => {
      if (e.target !== surface) return; // overlays handle their own clicks
      container.focus({ preventScroll: true });
      setActive(true);
      const events = translator.pointerDown(pointer(e));
      if (events.length === 0) return;
      e.preventDefault();
      try {
        container.setPointerCapture(e.pointerId);
      } catch {
        // synthetic pointers cannot be captured
      }
      if (e.button === 2 && e.pointerType === 'mouse' && FLY_SCHEMES.has(schemeRef.current)) {
        void Promise.resolve(container.requestPointerLock?.()).catch(() => undefined);
      }
      send(events);
    };
    const onMove = (e: PointerEvent) => {
      if (!translator.dragging && e.target !== surface) return;
      send(translator.pointerMove(pointer(e)));
    };
    const onUp = (e: PointerEvent) => {
      send(translator.pointerUp(pointer(e)));
      if (document.pointerLockElement === container) document.exitPointerLock();
    };
    const onCancel = () => send(translator.cancel());
    const onWheel = (e: WheelEvent) => {
      const rect = surface.getBoundingClientRect();
      const events = translator.wheel({
        offsetX: e.clientX - rect.left,
        offsetY: e.clientY - rect.top,
        deltaY: e.deltaY,
        deltaMode: e.deltaMode,
        shiftKey: e.shiftKey,
        ctrlKey: e.ctrlKey,
        altKey: e.altKey,
        metaKey: e.metaKey,
      });
      if (events.length > 0) e.preventDefault();
      send(events);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Tab' || e.key === 'Escape' || e.metaKey) return; // leave browser keys alone
      e.preventDefault();
      send(translator.key(e.type === 'keydown' ? 'keydown' : 'keyup', e));
    };
    const onLockChange = () => {
      translator.pointerLocked = document.pointerLockElement === container;
    };
    const onEnter = () => setActive(true);
    const onLeave = () => {
      if (!translator.dragging) setActive(false);
    };
    const onBlur = () => send(translator.cancel());
    const onContextMenu = (e: Event) => e.preventDefault();
    const unsubscribe = client.onStatus((status) => {
      if (status.status !== 'live' && status.status !== 'lagged') inputActive = null;
    });

    container.addEventListener('pointerdown', onDown);
    container.addEventListener('pointermove', onMove);
    container.addEventListener('pointerup', onUp);
    container.addEventListener('pointercancel', onCancel);
    container.addEventListener('lostpointercapture', onCancel);
    container.addEventListener('wheel', onWheel, { passive: false });
    container.addEventListener('keydown', onKey);
    container.addEventListener('keyup', onKey);
    container.addEventListener('pointerenter', onEnter);
    container.addEventListener('pointerleave', onLeave);
    container.addEventListener('blur', onBlur);
    container.addEventListener('contextmenu', onContextMenu);
    document.addEventListener('pointerlockchange', onLockChange);
    return () => {
      unsubscribe();
      container.removeEventListener('pointerdown', onDown);
      container.removeEventListener('pointermove', onMove);
      container.removeEventListener('pointerup', onUp);
      container.removeEventListener('pointercancel', onCancel);
      container.removeEventListener('lostpointercapture', onCancel);
      container.removeEventListener('wheel', onWheel);
      container.removeEventListener('keydown', onKey);
      container.removeEventListener('keyup', onKey);
      container.removeEventListener('pointerenter', onEnter);
      container.removeEventListener('pointerleave', onLeave);
      container.removeEventListener('blur', onBlur);
      container.removeEventListener('contextmenu', onContextMenu);
      document.removeEventListener('pointerlockchange', onLockChange);
    };
  }, [client, surface]);

  return (
    <div className="viewport" ref={containerRef} tabIndex={0} data-testid="viewport" aria-label="3D viewport">
      {children}
    </div>
  );
}
