// Who is watching and who drives: every connected viewer with its role, this viewer marked
// "you", and the control actions this viewer's role allows (request, release; for the owner:
// let drive, take back, hand over, and pending requests).

import type { PresenceClient } from '../protocol';
import type { ViewerStore } from '../state/store';
import type { ViewerState } from '../state/viewerState';

const ROLE_LABEL: Record<PresenceClient['role'], string> = {
  owner: 'owner',
  controller: 'drives',
  spectator: 'watching',
};

export function Presence({ state, store }: { state: ViewerState; store: ViewerStore }) {
  const me = state.hello?.client_id;
  const { clients, policy } = state.presence;
  const isOwner = state.role === 'owner';
  const myEntry = clients.find((c) => c.client_id === me);
  return (
    <section className="panel presence" data-testid="presence" data-role={state.role ?? ''}>
      <h2>
        Viewers <span className="muted">({clients.length}{policy ? ` · control: ${policy}` : ''})</span>
      </h2>
      <ul className="viewers">
        {clients.map((c) => (
          <li key={c.client_id} className={`viewer role-${c.role}`} data-testid="viewer" data-client={c.client_id} data-role={c.role}>
            <span className={`role-badge role-${c.role}`}>{ROLE_LABEL[c.role]}</span>
            <span className="viewer-name">
              {c.name}
              {c.client_id === me && <span className="muted"> (you)</span>}
              {c.requested && <span className="note"> asks for control</span>}
            </span>
            {isOwner && c.client_id !== me && (
              <span className="viewer-actions">
                {c.role === 'spectator' ? (
                  <button data-testid="grant" onClick={() => store.send('grantControl', { client_id: c.client_id })}>
                    Let drive
                  </button>
                ) : (
                  <button data-testid="revoke" onClick={() => store.send('revokeControl', { client_id: c.client_id })}>
                    Take back
                  </button>
                )}
                <button
                  data-testid="hand-over"
                  title="Make this viewer the owner"
                  onClick={() => store.send('grantControl', { client_id: c.client_id, role: 'owner' })}
                >
                  Hand over
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
      {state.role === 'spectator' && (
        <button
          data-testid="request-control"
          disabled={myEntry?.requested}
          onClick={() => {
            const token = new URLSearchParams(location.search).get('control_token');
            store.send('requestControl', token ? { token } : {});
          }}
        >
          {myEntry?.requested ? 'Control requested…' : 'Request control'}
        </button>
      )}
      {state.role === 'controller' && (
        <button data-testid="release-control" onClick={() => store.send('releaseControl', {})}>
          Stop driving
        </button>
      )}
    </section>
  );
}
