// The viewer's connection: owns one driver at a time, says `hello`, dispatches app messages to
// subscribers, sends input with increasing `seq`, tracks the status (Connecting / Live / Lagged /
// Offline / Failed) and reconnects with backoff. Created once, outside React, so StrictMode's
// double effects can neither connect twice nor tear the stream down.

import {
  encodeMessage,
  type ClientEventType,
  type ClientMessages,
  type Envelope,
  type HelloResultPayload,
  type InputEvent,
  type ServerEventType,
  type ServerMessages,
} from '../protocol';
import { Backoff } from './backoff';
import type { Driver } from './driver';
import { StatsTracker } from './stats';

export type ConnectionStatus = 'connecting' | 'live' | 'lagged' | 'offline' | 'failed';

export interface ClientStatus {
  status: ConnectionStatus;
  /** A sentence for the status line (why offline/failed, next retry). */
  detail: string;
  attempt: number;
}

export interface ViewerClientOptions {
  createDriver: () => Driver;
  clientName?: string;
  /** The name other viewers see in `presence`. */
  viewerName?: string;
  backoff?: Backoff;
  /** Live becomes Lagged when no frame was shown for this long. */
  lagAfterMs?: number;
  /** Scene auto-opened once per page when the host reports it has no stage. */
  autoOpen?: boolean;
  stats?: StatsTracker;
  timers?: {
    setTimeout: (fn: () => void, ms: number) => unknown;
    clearTimeout: (handle: unknown) => void;
    setInterval: (fn: () => void, ms: number) => unknown;
    clearInterval: (handle: unknown) => void;
  };
}

type Listener = (payload: unknown, message: Envelope) => void;

const defaultTimers = {
  setTimeout: (fn: () => void, ms: number) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle: unknown) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
  setInterval: (fn: () => void, ms: number) => globalThis.setInterval(fn, ms),
  clearInterval: (handle: unknown) => globalThis.clearInterval(handle as ReturnType<typeof setInterval>),
};

export class ViewerClient {
  readonly stats: StatsTracker;
  private driver: Driver | null = null;
  private started = false;
  private open = false;
  private seq = 0;
  private listeners = new Map<string, Set<Listener>>();
  private anyListeners = new Set<Listener>();
  private statusListeners = new Set<(status: ClientStatus) => void>();
  private videoSink: ((frame: ArrayBuffer) => void) | null = null;
  private reconnectTimer: unknown = null;
  private lagTimer: unknown = null;
  private readonly backoff: Backoff;
  private readonly timers: NonNullable<ViewerClientOptions['timers']>;
  private current: ClientStatus = { status: 'connecting', detail: 'Connecting…', attempt: 0 };
  private autoOpenState: 'armed' | 'waiting-for-scenes' | 'done';
  /** The last `helloResult` (null until the first). */
  hello: HelloResultPayload | null = null;
  private helloAtMs = 0;
  /** Number of successful connections so far. */
  connections = 0;

  constructor(private readonly options: ViewerClientOptions) {
    this.backoff = options.backoff ?? new Backoff();
    this.timers = options.timers ?? defaultTimers;
    this.stats = options.stats ?? new StatsTracker();
    this.autoOpenState = options.autoOpen === false ? 'done' : 'armed';
  }

  get status(): ClientStatus {
    return this.current;
  }

  get driverKind(): Driver['kind'] | null {
    return this.driver?.kind ?? null;
  }

  /** Starts connecting; calling it again does nothing. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.lagTimer = this.timers.setInterval(() => this.checkLag(), 500);
    this.connect();
  }

  /** Closes the connection for good (page unload). */
  stop(): void {
    this.started = false;
    this.open = false;
    if (this.reconnectTimer !== null) this.timers.clearTimeout(this.reconnectTimer);
    if (this.lagTimer !== null) this.timers.clearInterval(this.lagTimer);
    this.reconnectTimer = null;
    this.lagTimer = null;
    this.driver?.close();
    this.driver = null;
    this.setStatus('offline', 'Disconnected.');
  }

  /** Where binary video frames go (the WebSocket driver's decoder). */
  setVideoSink(sink: ((frame: ArrayBuffer) => void) | null): void {
    this.videoSink = sink;
  }

  on<K extends ServerEventType>(eventType: K, listener: (payload: ServerMessages[K]) => void): () => void {
    const set = this.listeners.get(eventType) ?? new Set<Listener>();
    set.add(listener as Listener);
    this.listeners.set(eventType, set);
    return () => set.delete(listener as Listener);
  }

  onAny(listener: Listener): () => void {
    this.anyListeners.add(listener);
    return () => this.anyListeners.delete(listener);
  }

  onStatus(listener: (status: ClientStatus) => void): () => void {
    this.statusListeners.add(listener);
    listener(this.current);
    return () => this.statusListeners.delete(listener);
  }

  /** Sends an app message; returns false (never throws) while disconnected. */
  send<K extends ClientEventType>(eventType: K, payload: ClientMessages[K]): boolean {
    if (!this.open || !this.driver) return false;
    return this.driver.send(encodeMessage(eventType, payload));
  }

  /** Sends input events under the next `seq`; returns that seq, or null while disconnected. */
  sendInput(events: InputEvent[]): number | null {
    if (events.length === 0 || !this.open) return null;
    const seq = this.seq + 1;
    if (!this.send('input', { seq, events })) return null;
    this.seq = seq;
    this.stats.inputSent(seq);
    return seq;
  }

  /** Routes one decoded app message to subscribers (drivers call this; tests too). */
  dispatch(message: Envelope): void {
    if (message.event_type === 'helloResult') this.onHelloResult(message.payload as HelloResultPayload);
    if (message.event_type === 'listScenesResult') this.maybeAutoOpen(message.payload as { scenes?: unknown });
    for (const listener of this.listeners.get(message.event_type) ?? []) listener(message.payload, message);
    for (const listener of this.anyListeners) listener(message.payload, message);
  }

  private connect(): void {
    if (!this.started) return;
    this.reconnectTimer = null;
    const driver = this.options.createDriver();
    this.driver = driver;
    this.setStatus(this.connections === 0 ? 'connecting' : 'offline', this.connections === 0 ? 'Connecting…' : 'Reconnecting…');
    driver.connect({
      onOpen: () => {
        if (this.driver !== driver) return;
        this.open = true;
        this.connections += 1;
        this.backoff.reset();
        // The host's seq echo is per connection: start over.
        this.seq = 0;
        this.stats.resetInputs();
        this.setStatus('connecting', 'Connected; waiting for the host…');
        driver.send(
          encodeMessage('hello', {
            client: this.options.clientName ?? 'ovhost-frontend',
            name: this.options.viewerName,
            video: driver.helloVideo(),
          }),
        );
      },
      onMessage: (message) => {
        if (this.driver === driver) this.dispatch(message);
      },
      onVideo: (frame) => {
        if (this.driver !== driver) return;
        this.videoSink?.(frame);
      },
      onClose: (reason, fatal) => {
        if (this.driver !== driver) return;
        this.open = false;
        this.driver = null;
        if (fatal) {
          this.started = false;
          this.setStatus('failed', reason);
          return;
        }
        this.scheduleReconnect(reason);
      },
    });
  }

  private scheduleReconnect(reason: string): void {
    if (!this.started || this.reconnectTimer !== null) return;
    const delayMs = this.backoff.nextDelayMs();
    this.setStatus('offline', `${reason}; retrying in ${(delayMs / 1000).toFixed(1)} s`);
    this.reconnectTimer = this.timers.setTimeout(() => this.connect(), delayMs);
  }

  private onHelloResult(payload: HelloResultPayload): void {
    this.hello = payload;
    this.helloAtMs = performance.now();
    this.setStatus('live', `Live (${payload.host} ${payload.host_version})`);
    if (payload.state === 'idle' && this.autoOpenState === 'armed') {
      // The server has no stage: ask for its scenes and open the first, once per page.
      this.autoOpenState = 'waiting-for-scenes';
      this.send('listScenesRequest', {});
    }
  }

  private maybeAutoOpen(payload: { scenes?: unknown }): void {
    if (this.autoOpenState !== 'waiting-for-scenes') return;
    this.autoOpenState = 'done';
    const first = Array.isArray(payload.scenes) ? payload.scenes[0] : undefined;
    if (typeof first === 'string' && first) this.send('openStageRequest', { url: first });
  }

  private checkLag(): void {
    if (!this.open || this.hello === null) return;
    const expectsVideo = this.driver?.kind === 'websocket' && Boolean(this.hello.video?.codec);
    if (!expectsVideo) return;
    const quietMs = Math.min(this.stats.msSinceLastFrame(), performance.now() - this.helloAtMs);
    const lagged = quietMs > (this.options.lagAfterMs ?? 2000);
    if (lagged && this.current.status === 'live') this.setStatus('lagged', 'No video for a while (lagged).');
    if (!lagged && this.current.status === 'lagged') this.setStatus('live', 'Live');
  }

  private setStatus(status: ConnectionStatus, detail: string): void {
    this.current = { status, detail, attempt: this.backoff.attempts };
    for (const listener of this.statusListeners) listener(this.current);
  }
}
