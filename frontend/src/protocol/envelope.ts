// Encoding and decoding of app-message text frames: bare `{event_type, payload}` envelopes and
// the browser library's `{messageRecipient, messageType, data}` wrapper (data as text or object).

import type { ClientEventType, ClientMessages, Envelope } from './messages';

/** Serialises one client message as a bare envelope. */
export function encodeMessage<K extends ClientEventType>(eventType: K, payload: ClientMessages[K]): string {
  return JSON.stringify({ event_type: eventType, payload });
}

/** Wraps an envelope the way `@nvidia/ov-web-rtc` sends app messages. */
export function wrapForLibrary(envelopeText: string, recipient = 'app'): string {
  return JSON.stringify({ messageRecipient: recipient, messageType: 'json', data: envelopeText });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Turns a received text frame (or an already parsed object) into an envelope, unwrapping the
 * library wrapper at most twice. Returns null for library/control traffic or malformed frames.
 */
export function decodeMessage(frame: unknown): Envelope | null {
  let value: unknown = frame;
  for (let depth = 0; depth < 3; depth += 1) {
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch {
        return null;
      }
    }
    if (!isRecord(value)) return null;
    if (typeof value.event_type === 'string' && value.event_type.length > 0) {
      const payload = isRecord(value.payload) ? value.payload : {};
      return { event_type: value.event_type, payload };
    }
    if ('data' in value && ('messageType' in value || 'messageRecipient' in value)) {
      value = value.data;
      continue;
    }
    return null;
  }
  return null;
}
