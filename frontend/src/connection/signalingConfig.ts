// Where the ovstream WebRTC driver finds the host's signaling server: URL parameters, then
// VITE_SERVER_HOST / VITE_SIGNALING_PORT, then `stream.config.json`, then the page's own host.
// The media port is never configured: the server negotiates it (setting it breaks video).

export const DEFAULT_SIGNALING_PORT = 49100;

export interface SignalingTarget {
  server: string;
  signalingPort: number;
  /** Which source decided: "url", "env", "config" or "page". */
  source: 'url' | 'env' | 'config' | 'page';
}

export interface SignalingSources {
  search: string;
  env: { VITE_SERVER_HOST?: string; VITE_SIGNALING_PORT?: string };
  pageHostname: string;
  /** Fetches `stream.config.json`; resolves null when there is none. */
  loadConfigFile: () => Promise<unknown>;
}

function parsePort(value: unknown): number | null {
  const port = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isInteger(port) && port > 0 && port < 65536 ? port : null;
}

function nonEmpty(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

export async function resolveSignaling(sources: SignalingSources): Promise<SignalingTarget> {
  const params = new URLSearchParams(sources.search);
  const urlServer = nonEmpty(params.get('server'));
  const urlPort = parsePort(params.get('signalingPort') ?? params.get('signalingport'));
  if (urlServer || urlPort) {
    return { server: urlServer ?? sources.pageHostname, signalingPort: urlPort ?? DEFAULT_SIGNALING_PORT, source: 'url' };
  }
  const envServer = nonEmpty(sources.env.VITE_SERVER_HOST);
  const envPort = parsePort(sources.env.VITE_SIGNALING_PORT);
  if (envServer || envPort) {
    return { server: envServer ?? sources.pageHostname, signalingPort: envPort ?? DEFAULT_SIGNALING_PORT, source: 'env' };
  }
  let config: unknown = null;
  try {
    config = await sources.loadConfigFile();
  } catch {
    config = null;
  }
  if (config && typeof config === 'object') {
    const record = config as Record<string, unknown>;
    const server = nonEmpty(record.server) ?? nonEmpty(record.signalingServer);
    const port = parsePort(record.signalingPort);
    if (server || port) {
      return { server: server ?? sources.pageHostname, signalingPort: port ?? DEFAULT_SIGNALING_PORT, source: 'config' };
    }
  }
  return { server: sources.pageHostname || '127.0.0.1', signalingPort: DEFAULT_SIGNALING_PORT, source: 'page' };
}

/** Loads `stream.config.json` next to the page, or null when it is absent or not JSON. */
export async function fetchStreamConfig(): Promise<unknown> {
  const response = await fetch('stream.config.json', { cache: 'no-store' });
  if (!response.ok) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}
