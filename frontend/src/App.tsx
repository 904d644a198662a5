// The viewer page: status line on top, stage panels on the left, the streamed viewport in the
// middle, viewers, inspector and view controls on the right, recent server errors as dismissible
// notes. Below ~900 px the side panels become drawers opened from the top bar. A driving viewer
// asks the host for a stream the size of its viewport (× device pixel ratio × resolution scale).

import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { ClientStatus, ViewerClient } from './connection/client';
import { CaptureControls } from './panels/CaptureControls';
import { HelpOverlay } from './panels/HelpOverlay';
import { Inspector } from './panels/Inspector';
import { OpenStage } from './panels/OpenStage';
import { Plugins } from './panels/Plugins';
import { Presence } from './panels/Presence';
import { QualityPanel } from './panels/QualityPanel';
import { RenderPanel } from './panels/RenderPanel';
import { StageTree } from './panels/StageTree';
import { StatsOverlay } from './panels/StatsOverlay';
import { StatsPanel } from './panels/StatsPanel';
import { StatusLine } from './panels/StatusLine';
import type { ViewerStore } from './state/store';
import { mayDrive } from './state/viewerState';
import { Viewport } from './viewport/Viewport';
import { savedScale, saveScale, wantedStreamSize } from './viewport/streamSize';

export interface AppProps {
  client: ViewerClient;
  store: ViewerStore;
  surface: HTMLCanvasElement | HTMLVideoElement;
}

type Drawer = 'left' | 'right' | null;

const isTyping = (target: EventTarget | null) =>
  target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName));

export function App({ client, store, surface }: AppProps) {
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const [status, setStatus] = useState<ClientStatus>(client.status);
  const [drawer, setDrawer] = useState<Drawer>(null);
  const [help, setHelp] = useState(false);
  const [scale, setScale] = useState(savedScale);
  const [viewportSize, setViewportSize] = useState<{ width: number; height: number } | null>(null);
  const centerRef = useRef<HTMLElement>(null);
  useEffect(() => client.onStatus(setStatus), [client]);
  // Subscriptions exist now: connecting is idempotent, so StrictMode's second effect is harmless
  // and nothing tears the connection down on unmount.
  useEffect(() => client.start(), [client]);
  // Server errors fade after a while; the open-stage error stays in its panel.
  const oldestError = state.errors[0]?.id;
  useEffect(() => {
    if (oldestError === undefined) return;
    const timer = setTimeout(() => store.dismissError(oldestError), 10000);
    return () => clearTimeout(timer);
  }, [oldestError, store]);

  // The stream follows the viewport while this viewer drives (debounced: a window drag sends one
  // request when it settles).
  const driving = mayDrive(state) && status.status === 'live';
  const { maxWidth, maxHeight } = state.stream;
  const wanted = viewportSize && wantedStreamSize(viewportSize.width, viewportSize.height, window.devicePixelRatio || 1, scale, { maxWidth, maxHeight });
  const wantedKey = wanted ? `${wanted.width}x${wanted.height}` : '';
  const current = `${state.stream.width}x${state.stream.height}`;
  useEffect(() => {
    if (!driving || !wanted || wantedKey === current) return;
    const timer = setTimeout(() => store.send('setStreamSize', wanted), 250);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- keyed by the size strings
  }, [driving, wantedKey, current, store]);
  const onResize = useCallback((width: number, height: number) => setViewportSize({ width, height }), []);

  // Keyboard: ? toggles the shortcut help, Esc closes it or clears the selection.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || e.metaKey || e.ctrlKey || e.altKey) return;
      if (e.key === '?') {
        setHelp((open) => !open);
      } else if (e.key === 'Escape') {
        if (help) setHelp(false);
        else if (drawer) setDrawer(null);
        else if (state.tree.selected.length > 0 && mayDrive(state)) store.selectPrims([]);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [help, drawer, state, store]);

  const toggleFullscreen = () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void centerRef.current?.requestFullscreen?.().catch(() => undefined);
  };

  const reconnectIn = state.shuttingDown ? Math.max(0, state.shuttingDown.retryAfterMs / 1000) : 0;
  const overlay =
    status.status === 'failed'
      ? status.detail
      : state.shuttingDown && status.status !== 'live'
        ? `The host is shutting down (${state.shuttingDown.reason}); reconnecting in about ${reconnectIn.toFixed(0)} s…`
        : status.status === 'offline'
          ? 'Connection lost — reconnecting…'
          : status.status === 'connecting'
            ? 'Connecting to the host…'
            : state.loading.busy
              ? `Loading ${state.loading.url}…`
              : null;
  const driver = state.presence.clients.find((c) => c.role === 'owner');

  return (
    <div className={`app${drawer ? ` drawer-${drawer}` : ''}`}>
      <header className="top">
        <button className="drawer-toggle" data-testid="drawer-left" aria-label="Stage panels" onClick={() => setDrawer(drawer === 'left' ? null : 'left')}>
          ☰
        </button>
        <h1>ovhost</h1>
        <StatusLine status={status} state={state} />
        <button className="drawer-toggle" data-testid="drawer-right" aria-label="Viewers and settings" onClick={() => setDrawer(drawer === 'right' ? null : 'right')}>
          ⚙
        </button>
      </header>
      {state.shuttingDown && (
        <div className="banner shutting-down" role="status" data-testid="shutting-down">
          The host is shutting down ({state.shuttingDown.reason}). The viewer reconnects by itself after about {reconnectIn.toFixed(0)} s.
        </div>
      )}
      <aside className="side left">
        <OpenStage state={state} store={store} />
        <StageTree tree={state.tree} store={store} />
      </aside>
      <main className="center" ref={centerRef}>
        <Viewport client={client} surface={surface} cameraScheme={state.schemes.active} onResize={onResize}>
          <StatsOverlay stats={client.stats} />
          <div className="viewport-toolbar">
            <button data-testid="help-button" aria-label="Keyboard shortcuts" onClick={() => setHelp(!help)}>
              ?
            </button>
            {/* Text labels: symbol fonts are not everywhere (headless Chromium has none). */}
            <button data-testid="fullscreen" aria-label="Fullscreen" title="Fullscreen (viewport only)" onClick={toggleFullscreen}>
              Full
            </button>
            <CaptureControls state={state} store={store} />
          </div>
          {state.role === 'spectator' && status.status === 'live' && (
            <div className="spectator-banner" data-testid="spectator-banner">
              Watching{driver ? ` — ${driver.name} drives` : ''}. Request control in Viewers to move the camera.
            </div>
          )}
          {overlay && (
            <div className={`viewport-overlay ${status.status}`} data-testid="viewport-overlay">
              {overlay}
            </div>
          )}
          {help && <HelpOverlay onClose={() => setHelp(false)} />}
        </Viewport>
      </main>
      <aside className="side right">
        <Presence state={state} store={store} />
        <Inspector path={state.inspectorPath} properties={state.properties} variants={state.variants} store={store} />
        <RenderPanel state={state} store={store} />
        <QualityPanel
          state={state}
          client={client}
          store={store}
          scale={scale}
          onScale={(next) => {
            saveScale(next);
            setScale(next);
          }}
        />
        <StatsPanel client={client} />
        <Plugins plugins={state.plugins} />
      </aside>
      {drawer && <div className="drawer-scrim" onClick={() => setDrawer(null)} />}
      {state.errors.length > 0 && (
        <div className="toasts" data-testid="errors">
          {state.errors.map((error) => (
            <div key={error.id} className="toast" role="status" data-code={error.code}>
              {error.message}
              <button aria-label="Dismiss" onClick={() => store.dismissError(error.id)}>
                ×
              </button>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
