// The viewer's transport choice in settings (localStorage): `ws` (the default, /ws WebSocket)
// or `webrtc` (standards WebRTC). `?driver=` in the page URL overrides it.

export const TRANSPORT_KEY = 'ovhost.transport';
export type TransportChoice = 'ws' | 'webrtc';

export function savedTransport(storage: Pick<Storage, 'getItem'> | null = safeStorage()): TransportChoice | null {
  const value = storage?.getItem(TRANSPORT_KEY);
  return value === 'ws' || value === 'webrtc' ? value : null;
}

/** Saves the choice; the page reloads to switch (one driver per page). */
export function saveTransport(choice: TransportChoice, storage: Pick<Storage, 'setItem'> | null = safeStorage()): void {
  storage?.setItem(TRANSPORT_KEY, choice);
}

function safeStorage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // storage disabled
  }
}
