// The status line: connection status (Connecting / Live / Lagged / Offline / Failed), the
// host's runtime state and loading progress.

import type { ClientStatus } from '../connection/client';
import type { ViewerState } from '../state/viewerState';

const LABELS: Record<ClientStatus['status'], string> = {
  connecting: 'Connecting',
  live: 'Live',
  lagged: 'Lagged',
  offline: 'Offline',
  failed: 'Failed',
};

export function StatusLine({ status, state }: { status: ClientStatus; state: ViewerState }) {
  const loading = state.loading.busy
    ? `${state.loading.activity || `Loading ${state.loading.url}`}${
        state.loading.amount !== null ? ` ${Math.round(state.loading.amount * (state.loading.amount <= 1 ? 100 : 1))}%` : ''
      }`
    : '';
  return (
    <div className="status-line" data-testid="status-line">
      <span className={`badge status-${status.status}`} data-testid="status" data-status={status.status}>
        {LABELS[status.status]}
      </span>
      <span className="detail">{status.detail}</span>
      {/* The host's state is only known while connected: offline it would be stale. */}
      {state.runtimeState && (status.status === 'live' || status.status === 'lagged') && (
        <span className="runtime" data-testid="runtime-state">host: {state.runtimeState}</span>
      )}
      {state.stage && <span className="stage-url" data-testid="stage-url">{state.stage.url}</span>}
      {loading && <span className="loading">{loading}</span>}
    </div>
  );
}
