import { describe, expect, it } from 'vitest';
import { RtcDriver } from './rtcDriver';
import { StatsTracker } from './stats';

class FakeChannel {
  readyState = 'connecting';
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly label: string) {}
  send(text: string) {
    this.sent.push(text);
  }
  close() {
    this.readyState = 'closed';
  }
}

class FakePc {
  static last: FakePc;
  transceivers: Array<{ kind: string; init: unknown }> = [];
  channel: FakeChannel | null = null;
  localDescription: { type: string; sdp: string } | null = null;
  remote: { type: string; sdp: string } | null = null;
  closed = false;
  ontrack: unknown = null;
  onconnectionstatechange: unknown = null;
  connectionState = 'new';
  constructor(readonly config: RTCConfiguration) {
    FakePc.last = this;
  }
  addTransceiver(kind: string, init: unknown) {
    this.transceivers.push({ kind, init });
    return {};
  }
  createDataChannel(label: string) {
    this.channel = new FakeChannel(label);
    return this.channel;
  }
  async createOffer() {
    return { type: 'offer', sdp: 'v=0 offer' };
  }
  async setLocalDescription(d: { type: string; sdp: string }) {
    this.localDescription = d;
  }
  async setRemoteDescription(d: { type: string; sdp: string }) {
    this.remote = d;
  }
  async getStats() {
    return new Map();
  }
  close() {
    this.closed = true;
  }
}

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: unknown;
}

function fakeFetch(routes: Record<string, { status: number; body: string; headers?: Record<string, string> }>, calls: Call[]) {
  return (async (url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) => {
    const method = init.method ?? 'GET';
    calls.push({ url, method, headers: init.headers ?? {}, body: init.body });
    const route = routes[`${method} ${url}`] ?? { status: 500, body: 'no route' };
    return {
      status: route.status,
      ok: route.status >= 200 && route.status < 300,
      headers: new Headers(route.headers ?? {}),
      text: async () => route.body,
      json: async () => JSON.parse(route.body),
    };
  }) as unknown as typeof fetch;
}

const flush = async () => {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
};

function events(log: string[]) {
  return {
    onOpen: () => log.push('open'),
    onMessage: (m: { event_type: string }) => log.push(`message ${m.event_type}`),
    onClose: (reason: string, fatal: boolean) => log.push(`close ${fatal ? 'fatal' : 'retry'}: ${reason}`),
  };
}

describe('RtcDriver', () => {
  it('negotiates WHEP-style, speaks over the data channel and deletes its session on close', async () => {
    const calls: Call[] = [];
    const fetchImpl = fakeFetch(
      {
        'GET http://h/api/webrtc': { status: 200, body: '{"ice_servers":[{"urls":["stun:stun.example"]}],"sessions":[]}' },
        'POST http://h/api/webrtc': { status: 201, body: 'v=0 answer', headers: { Location: '/api/webrtc/abc' } },
        'DELETE http://h/api/webrtc/abc': { status: 200, body: '' },
      },
      calls,
    );
    const video = document.createElement('video');
    const driver = new RtcDriver({
      video,
      baseUrl: 'http://h',
      token: 'tok',
      stats: new StatsTracker(),
      fetchImpl,
      createPeerConnection: (config) => new FakePc(config) as unknown as RTCPeerConnection,
    });
    expect(driver.kind).toBe('webrtc');
    expect(driver.helloVideo()).toBeUndefined();
    const log: string[] = [];
    driver.connect(events(log));
    await flush();
    const pc = FakePc.last;
    expect(pc.config.iceServers).toEqual([{ urls: ['stun:stun.example'], username: undefined, credential: undefined }]);
    expect(pc.transceivers).toEqual([{ kind: 'video', init: { direction: 'recvonly' } }]);
    expect(pc.channel?.label).toBe('ovhost');
    const post = calls.find((c) => c.method === 'POST');
    expect(post?.headers['Content-Type']).toBe('application/sdp');
    expect(post?.headers.Authorization).toBe('Bearer tok');
    expect(post?.body).toBe('v=0 offer');
    expect(pc.remote).toEqual({ type: 'answer', sdp: 'v=0 answer' });
    expect(driver.send('x')).toBe(false); // channel not open yet
    const channel = pc.channel as FakeChannel;
    channel.readyState = 'open';
    channel.onopen?.();
    channel.onmessage?.({ data: '{"event_type":"helloResult","payload":{}}' });
    expect(driver.send('{"event_type":"hello","payload":{}}')).toBe(true);
    expect(channel.sent).toEqual(['{"event_type":"hello","payload":{}}']);
    driver.close();
    await flush();
    expect(calls.at(-1)).toMatchObject({ method: 'DELETE', url: 'http://h/api/webrtc/abc' });
    expect(pc.closed).toBe(true);
    expect(log).toEqual(['open', 'message helloResult']);
  });

  it('fails for good with the host\'s reason when the transport is off or the offer is refused', async () => {
    for (const [routes, needle] of [
      [{ 'GET http://h/api/webrtc': { status: 404, body: 'the webrtc transport is not enabled; start ovhost with --transport web,webrtc' } }, '--transport web,webrtc'],
      [
        {
          'GET http://h/api/webrtc': { status: 200, body: '{"ice_servers":[]}' },
          'POST http://h/api/webrtc': { status: 406, body: 'offered: VP8' },
        },
        'answered 406: offered: VP8',
      ],
    ] as const) {
      const log: string[] = [];
      const driver = new RtcDriver({
        video: document.createElement('video'),
        baseUrl: 'http://h',
        fetchImpl: fakeFetch(routes as Record<string, { status: number; body: string }>, []),
        createPeerConnection: (config) => new FakePc(config) as unknown as RTCPeerConnection,
      });
      driver.connect(events(log));
      await flush();
      expect(log).toHaveLength(1);
      expect(log[0]).toMatch(/^close fatal: /);
      expect(log[0]).toContain(needle);
    }
  });
});
