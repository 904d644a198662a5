import { describe, expect, it } from 'vitest';
import { LIBRARY_MISSING_MESSAGE, WebRtcDriver } from './webrtcDriver';
import { defaultWsUrl, WsDriver } from './wsDriver';

class FakeSocket {
  static last: FakeSocket;
  readyState = 0;
  binaryType = 'blob';
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.last = this;
  }
  send(text: string) {
    this.sent.push(text);
  }
  close() {
    this.readyState = 3;
    this.onclose?.({ code: 1000 });
  }
}

describe('WsDriver', () => {
  it('builds the /ws URL and keeps the access token', () => {
    expect(defaultWsUrl({ protocol: 'https:', host: 'h:8443', search: '?token=a b' } as Location)).toBe('wss://h:8443/ws?token=a%20b');
    expect(defaultWsUrl({ protocol: 'http:', host: 'h', search: '' } as Location)).toBe('ws://h/ws');
  });

  it('delivers text as messages (unwrapping) and binary as video', () => {
    const driver = new WsDriver({ url: 'ws://x/ws', codecs: ['jpeg'], createSocket: (u) => new FakeSocket(u) as unknown as WebSocket });
    const got: string[] = [];
    const video: number[] = [];
    const closes: string[] = [];
    driver.connect({ onOpen: () => got.push('open'), onMessage: (m) => got.push(m.event_type), onVideo: (f) => video.push(f.byteLength), onClose: (r) => closes.push(r) });
    const socket = FakeSocket.last;
    expect(socket.binaryType).toBe('arraybuffer');
    expect(driver.send('x')).toBe(false); // not open yet
    socket.readyState = 1;
    socket.onopen?.();
    socket.onmessage?.({ data: '{"messageRecipient":"app","messageType":"json","data":"{\\"event_type\\":\\"helloResult\\",\\"payload\\":{}}"}' });
    socket.onmessage?.({ data: new ArrayBuffer(44) });
    expect(driver.send('hi')).toBe(true);
    expect(got).toEqual(['open', 'helloResult']);
    expect(video).toEqual([44]);
    socket.onclose?.({ code: 1006 });
    expect(closes).toEqual(['connection closed (code 1006)']);
  });

  it('does not report a close it asked for', () => {
    const driver = new WsDriver({ url: 'ws://x/ws', codecs: ['jpeg'], createSocket: (u) => new FakeSocket(u) as unknown as WebSocket });
    const closes: string[] = [];
    driver.connect({ onOpen: () => undefined, onMessage: () => undefined, onClose: (r) => closes.push(r) });
    FakeSocket.last.readyState = 1;
    driver.close();
    expect(closes).toEqual([]);
  });
});

describe('WebRtcDriver', () => {
  const options = {
    video: document.createElement('video'),
    audio: document.createElement('audio'),
    width: 1920,
    height: 1080,
    fps: 60,
    resolveTarget: async () => ({ server: '127.0.0.1', signalingPort: 49100, source: 'page' as const }),
  };

  it('fails clearly (fatal) when the library is not installed', async () => {
    const driver = new WebRtcDriver({ ...options, loadLibrary: async () => ({ OVHOST_LIBRARY_MISSING: true, AppStreamer: undefined, StreamType: undefined }) });
    const closed = await new Promise<[string, boolean]>((resolve) =>
      driver.connect({ onOpen: () => undefined, onMessage: () => undefined, onClose: (r, f) => resolve([r, f]) }),
    );
    expect(closed).toEqual([LIBRARY_MISSING_MESSAGE, true]);
  });

  it('connects Direct without a media port and exchanges app messages', async () => {
    let config: Record<string, unknown> = {};
    const sent: string[] = [];
    const library = {
      OVHOST_LIBRARY_MISSING: undefined,
      StreamType: { DIRECT: 'direct' },
      AppStreamer: {
        connect: async (c: Record<string, unknown>) => {
          config = c;
        },
        sendMessage: (m: string) => {
          sent.push(m);
        },
        terminate: () => undefined,
      },
    };
    const driver = new WebRtcDriver({ ...options, loadLibrary: async () => library });
    const messages: string[] = [];
    await new Promise<void>((resolve) =>
      driver.connect({ onOpen: () => resolve(), onMessage: (m) => messages.push(m.event_type), onClose: () => undefined }),
    );
    const stream = config.streamConfig as Record<string, unknown>;
    expect(config.streamSource).toBe('direct');
    expect(stream).toMatchObject({ server: '127.0.0.1', signalingPort: 49100 });
    expect('mediaPort' in stream).toBe(false);
    (config.onCustomEvent as (m: unknown) => void)({ messageRecipient: 'app', messageType: 'json', data: '{"event_type":"pluginsResult","payload":{}}' });
    (config.onCustomEvent as (m: unknown) => void)('{"event_type":"helloResult","payload":{}}');
    expect(messages).toEqual(['pluginsResult', 'helloResult']);
    expect(driver.send('{"event_type":"hello","payload":{}}')).toBe(true);
    expect(sent).toHaveLength(1);
  });
});
