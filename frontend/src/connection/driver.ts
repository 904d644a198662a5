// The interface every transport driver implements (built-in WebSocket, standards WebRTC,
// ovstream WebRTC).

import type { Envelope, HelloPayload } from '../protocol';

export type DriverKind = 'websocket' | 'webrtc' | 'ovstream';

export interface DriverEvents {
  /** The command channel is ready: messages may be sent. */
  onOpen(): void;
  onMessage(message: Envelope): void;
  /** A binary video frame (WebSocket driver only). */
  onVideo?(frame: ArrayBuffer): void;
  /** The connection ended. `fatal` means retrying cannot help (e.g. a missing library). */
  onClose(reason: string, fatal: boolean): void;
}

export interface Driver {
  readonly kind: DriverKind;
  /** Codecs to request in `hello` (the WebRTC driver gets video through the library instead). */
  helloVideo(): HelloPayload['video'];
  connect(events: DriverEvents): void;
  /** Sends one text frame; returns false (never throws) when the channel is not open. */
  send(text: string): boolean;
  close(): void;
}
