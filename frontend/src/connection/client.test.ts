import { describe, expect, it } from 'vitest';
import { decodeMessage, type Envelope } from '../protocol';
import { Backoff } from './backoff';
import { ViewerClient } from './client';
import type { Driver, DriverEvents } from './driver';

/** A driver whose connection the test opens, feeds and closes by hand. */
class FakeDriver implements Driver {
  readonly kind = 'websocket' as const;
  events: DriverEvents | null = null;
  sent: Envelope[] = [];
  closed = false;
  open = false;
  helloVideo() {
    return { codecs: ['h264' as const, 'jpeg' as const] };
  }
  connect(events: DriverEvents) {
    this.events = events;
  }
  send(text: string) {
    if (!this.open) return false;
    const message = decodeMessage(text);
    if (message) this.sent.push(message);
    return true;
  }
  close() {
    this.closed = true;
  }
  accept() {
    this.open = true;
    this.events?.onOpen();
  }
  receive(event_type: string, payload: object) {
    this.events?.onMessage({ event_type, payload });
  }
  drop(fatal = false) {
    this.open = false;
    this.events?.onClose('connection closed (code 1006)', fatal);
  }
}

function setup(options: { autoOpen?: boolean } = {}) {
  const drivers: FakeDriver[] = [];
  const timeouts: Array<{ fn: () => void; ms: number; cancelled: boolean }> = [];
  const client = new ViewerClient({
    createDriver: () => {
      const d = new FakeDriver();
      drivers.push(d);
      return d;
    },
    backoff: new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 }),
    autoOpen: options.autoOpen,
    timers: {
      setTimeout: (fn, ms) => {
        const t = { fn, ms, cancelled: false };
        timeouts.push(t);
        return t;
      },
      clearTimeout: (t) => {
        (t as { cancelled: boolean }).cancelled = true;
      },
      setInterval: () => 0,
      clearInterval: () => undefined,
    },
  });
  const fire = () => {
    const t = timeouts.shift();
    if (!t) throw new Error('no timer scheduled');
    if (!t.cancelled) t.fn();
    return t.ms;
  };
  return { client, drivers, timeouts, fire };
}

const hello = (state: string) => ({ host: 'ovhost', host_version: '0.1.0', state, stream: { width: 1280, height: 720, fps: 30 }, video: { codec: 'h264' } });

describe('ViewerClient', () => {
  it('connects once however often start() is called (StrictMode)', () => {
    const { client, drivers } = setup();
    client.start();
    client.start();
    expect(drivers).toHaveLength(1);
  });

  it('says hello with the driver codecs when the channel opens, then goes live on helloResult', () => {
    const { client, drivers } = setup();
    const statuses: string[] = [];
    client.onStatus((s) => statuses.push(s.status));
    client.start();
    drivers[0]!.accept();
    expect(drivers[0]!.sent[0]).toEqual({ event_type: 'hello', payload: { client: 'ovhost-frontend', video: { codecs: ['h264', 'jpeg'] } } });
    drivers[0]!.receive('helloResult', hello('streaming'));
    expect(client.status.status).toBe('live');
    expect(statuses).toEqual(['connecting', 'connecting', 'connecting', 'live']);
  });

  it('routes messages to typed subscribers and stops after unsubscribe', () => {
    const { client, drivers } = setup();
    client.start();
    drivers[0]!.accept();
    const seen: string[][] = [];
    const off = client.on('stageSelectionChanged', (p) => seen.push(p.prims));
    drivers[0]!.receive('stageSelectionChanged', { prims: ['/World/A'] });
    off();
    drivers[0]!.receive('stageSelectionChanged', { prims: ['/World/B'] });
    expect(seen).toEqual([['/World/A']]);
  });

  it('numbers input with increasing seq and refuses input while disconnected', () => {
    const { client, drivers } = setup();
    client.start();
    expect(client.sendInput([{ type: 'keydown', key: 'w' }])).toBeNull();
    drivers[0]!.accept();
    expect(client.sendInput([{ type: 'keydown', key: 'w' }])).toBe(1);
    expect(client.sendInput([{ type: 'keyup', key: 'w' }])).toBe(2);
    expect(client.sendInput([])).toBeNull();
    expect(drivers[0]!.sent.filter((m) => m.event_type === 'input').map((m) => (m.payload as { seq: number }).seq)).toEqual([1, 2]);
  });

  it('reconnects with growing backoff and resets it after a success', () => {
    const { client, drivers, fire } = setup();
    client.start();
    drivers[0]!.drop();
    expect(client.status.status).toBe('offline');
    expect(fire()).toBe(100);
    expect(drivers).toHaveLength(2);
    drivers[1]!.drop();
    expect(fire()).toBe(200);
    drivers[2]!.accept();
    drivers[2]!.receive('helloResult', hello('streaming'));
    expect(client.status.status).toBe('live');
    drivers[2]!.drop();
    expect(fire()).toBe(100);
    expect(drivers).toHaveLength(4);
  });

  it('ignores events from a replaced driver', () => {
    const { client, drivers, fire } = setup();
    client.start();
    const old = drivers[0]!;
    old.drop();
    fire();
    let count = 0;
    client.on('viewerError', () => (count += 1));
    old.receive('viewerError', { code: 'x', message: 'stale' });
    old.drop();
    expect(count).toBe(0);
    expect(drivers).toHaveLength(2);
  });

  it('stops retrying on a fatal close and reports Failed', () => {
    const { client, drivers, timeouts } = setup();
    client.start();
    drivers[0]!.events?.onClose('the WebRTC library is missing', true);
    expect(client.status).toMatchObject({ status: 'failed', detail: 'the WebRTC library is missing' });
    expect(timeouts).toHaveLength(0);
  });

  it('stop() closes the driver and cancels a pending reconnect', () => {
    const { client, drivers, timeouts, fire } = setup();
    client.start();
    drivers[0]!.drop();
    client.stop();
    expect(timeouts[0]!.cancelled).toBe(true);
    fire();
    expect(drivers).toHaveLength(1);
  });

  it('auto-opens the first scene once, and only when the host is idle', () => {
    const { client, drivers, fire } = setup();
    client.start();
    drivers[0]!.accept();
    drivers[0]!.receive('helloResult', hello('idle'));
    expect(drivers[0]!.sent.map((m) => m.event_type)).toEqual(['hello', 'listScenesRequest']);
    drivers[0]!.receive('listScenesResult', { scenes: ['a.usda', 'b.usda'] });
    expect(drivers[0]!.sent.at(-1)).toEqual({ event_type: 'openStageRequest', payload: { url: 'a.usda' } });
    // After a reconnect the server state is authoritative: no new open request, even if idle.
    drivers[0]!.drop();
    fire();
    drivers[1]!.accept();
    drivers[1]!.receive('helloResult', hello('idle'));
    drivers[1]!.receive('listScenesResult', { scenes: ['a.usda'] });
    expect(drivers[1]!.sent.map((m) => m.event_type)).toEqual(['hello']);
  });

  it('does not open anything when the host already streams a stage', () => {
    const { client, drivers } = setup();
    client.start();
    drivers[0]!.accept();
    drivers[0]!.receive('helloResult', hello('streaming'));
    drivers[0]!.receive('listScenesResult', { scenes: ['a.usda'] });
    expect(drivers[0]!.sent.map((m) => m.event_type)).toEqual(['hello']);
  });

  it('hands binary frames to the video sink', () => {
    const { client, drivers } = setup();
    const frames: number[] = [];
    client.setVideoSink((f) => frames.push(f.byteLength));
    client.start();
    drivers[0]!.accept();
    drivers[0]!.events?.onVideo?.(new ArrayBuffer(48));
    expect(frames).toEqual([48]);
  });
});
