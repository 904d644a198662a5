// The built-in WebSocket driver: JSON app messages and input as text, video frames as binary.

import { decodeMessage, type VideoCodec } from '../protocol';
import type { Driver, DriverEvents } from './driver';

export interface WsDriverOptions {
  url: string;
  codecs: VideoCodec[];
  /** Injected for tests; defaults to the browser's WebSocket. */
  createSocket?: (url: string) => WebSocket;
}

/** `ws(s)://<page host>/ws`, keeping `?token=` from the page URL. */
export function defaultWsUrl(location: Location): string {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const token = new URLSearchParams(location.search).get('token');
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  return `${scheme}://${location.host}/ws${query}`;
}

export class WsDriver implements Driver {
  readonly kind = 'websocket' as const;
  private socket: WebSocket | null = null;
  private closedByUs = false;

  constructor(private readonly options: WsDriverOptions) {}

  helloVideo() {
    return { codecs: this.options.codecs };
  }

  connect(events: DriverEvents): void {
    this.closedByUs = false;
    const create = this.options.createSocket ?? ((url: string) => new WebSocket(url));
    let socket: WebSocket;
    try {
      socket = create(this.options.url);
    } catch (error) {
      events.onClose(`could not open ${this.options.url}: ${String(error)}`, false);
      return;
    }
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      events.onOpen();
    };
    socket.onmessage = (event: MessageEvent) => {
      if (typeof event.data === 'string') {
        const message = decodeMessage(event.data);
        if (message) events.onMessage(message);
      } else if (event.data instanceof ArrayBuffer) {
        events.onVideo?.(event.data);
      }
    };
    socket.onclose = (event: CloseEvent) => {
      if (this.socket === socket) this.socket = null;
      if (this.closedByUs) return;
      const why = opened ? `connection closed (code ${event.code})` : `cannot reach ${this.options.url}`;
      events.onClose(why, false);
    };
    socket.onerror = () => {
      // onclose follows and reports; nothing to do here.
    };
  }

  send(text: string): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== 1) return false;
    try {
      socket.send(text);
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    this.closedByUs = true;
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= 1) socket.close(1000, 'viewer closed');
  }
}
