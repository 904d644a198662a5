// The viewer page: status line on top, stage panels on the left, the streamed viewport in the
// middle, inspector and view controls on the right, recent server errors as dismissible notes.

import { useEffect, useState, useSyncExternalStore } from 'react';
import type { ClientStatus, ViewerClient } from './connection/client';
import { Inspector } from './panels/Inspector';
import { OpenStage } from './panels/OpenStage';
import { Plugins } from './panels/Plugins';
import { RenderPanel } from './panels/RenderPanel';
import { StageTree } from './panels/StageTree';
import { StatsOverlay } from './panels/StatsOverlay';
import { StatusLine } from './panels/StatusLine';
import type { ViewerStore } from './state/store';
import { CameraPicker } from './timeline/CameraPicker';
import { TimelineBar } from './timeline/TimelineBar';
import { Viewport } from './viewport/Viewport';

export interface AppProps {
  client: ViewerClient;
  store: ViewerStore;
  surface: HTMLCanvasElement | HTMLVideoElement;
}

export function App({ client, store, surface }: AppProps) {
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot);
  const [status, setStatus] = useState<ClientStatus>(client.status);
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

  const overlay =
    status.status === 'failed'
      ? status.detail
      : status.status === 'offline'
        ? 'Connection lost — reconnecting…'
        : status.status === 'connecting'
          ? 'Connecting to the host…'
          : state.loading.busy
            ? `Loading ${state.loading.url}…`
            : null;

  return (
    <div className="app">
      <header className="top">
        <h1>ovhost</h1>
        <StatusLine status={status} state={state} />
      </header>
      <aside className="side left">
        <OpenStage state={state} store={store} />
        <StageTree tree={state.tree} store={store} />
      </aside>
      <main className="center">
        <Viewport client={client} surface={surface} cameraScheme={state.schemes.active}>
          <StatsOverlay stats={client.stats} />
          {overlay && (
            <div className={`viewport-overlay ${status.status}`} data-testid="viewport-overlay">
              {overlay}
            </div>
          )}
        </Viewport>
        <TimelineBar client={client} />
      </main>
      <aside className="side right">
        <Inspector path={state.inspectorPath} properties={state.properties} variants={state.variants} store={store} />
        <CameraPicker client={client} />
        <RenderPanel state={state} store={store} />
        <Plugins plugins={state.plugins} />
      </aside>
      {state.errors.length > 0 && (
        <div className="toasts" data-testid="errors">
          {state.errors.map((error) => (
            <div key={error.id} className="toast" role="status">
              <strong>{error.code}</strong> {error.message}
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
