import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildVideoHeader, VIDEO_HEADER_BYTES } from '../protocol/videoHeader';
import { StatsTracker } from './stats';
import { VideoPipeline } from './videoPipeline';

/** A WebCodecs decoder double (jsdom has none): queues chunks and never outputs, so the decode
 * queue fills the way a stalled decoder's does; `fail` raises the decoder's error callback. */
class FakeDecoder {
  static last: FakeDecoder | null = null;
  state = 'unconfigured';
  decodeQueueSize = 0;
  constructor(private readonly init: { error: (e: Error) => void; output: (frame: unknown) => void }) {
    FakeDecoder.last = this;
  }
  configure(): void {
    this.state = 'configured';
  }
  decode(): void {
    this.decodeQueueSize += 1;
  }
  close(): void {
    this.state = 'closed';
  }
  fail(): void {
    this.init.error(new Error('corrupt slice'));
  }
  /** Outputs the decoded frame with this timestamp (the header's frame number). */
  emit(timestamp: number): void {
    this.decodeQueueSize -= 1;
    this.init.output({ timestamp, displayWidth: 64, displayHeight: 48, close: () => undefined });
  }
}

function frame(frameNumber: number, keyframe: boolean, scale = 0): ArrayBuffer {
  const [width, height] = [64 >> scale, 48 >> scale];
  const header = buildVideoHeader({ codec: 'h264', keyframe, frameNumber, captureTimeUs: 0, width, height, inputSeq: 0, scale });
  const out = new Uint8Array(VIDEO_HEADER_BYTES + 4);
  out.set(new Uint8Array(header));
  return out.buffer;
}

describe('VideoPipeline keyframe requests', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('asks once per loss of sync: a dropped frame, then a decoder error', () => {
    vi.stubGlobal('VideoDecoder', FakeDecoder);
    vi.stubGlobal('EncodedVideoChunk', class { constructor(readonly init: unknown) {} });
    const requests: string[] = [];
    const pipeline = new VideoPipeline(document.createElement('canvas'), new StatsTracker(), undefined, (r) => requests.push(r));
    pipeline.push(frame(1, true));
    pipeline.push(frame(2, false));
    pipeline.push(frame(3, false));
    expect(requests).toEqual([]);
    pipeline.push(frame(4, false)); // the decode queue is full: dropped, sync lost
    pipeline.push(frame(5, false)); // still waiting: no second request
    expect(requests).toEqual(['dropped']);
    pipeline.push(frame(6, true)); // back in sync
    FakeDecoder.last?.fail();
    expect(requests).toEqual(['dropped', 'decoder_error']);
  });
});

describe('VideoPipeline acknowledgements', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('acknowledges each decoded frame by its frame number, not the ones it dropped', () => {
    vi.stubGlobal('VideoDecoder', FakeDecoder);
    vi.stubGlobal('EncodedVideoChunk', class { constructor(readonly init: unknown) {} });
    const acks: number[] = [];
    const pipeline = new VideoPipeline(
      document.createElement('canvas'),
      new StatsTracker(),
      undefined,
      () => undefined,
      (n) => acks.push(n),
    );
    pipeline.push(frame(7, false)); // no keyframe yet: dropped, never decoded
    pipeline.push(frame(8, true));
    pipeline.push(frame(9, false));
    expect(acks).toEqual([]);
    FakeDecoder.last?.emit(8);
    FakeDecoder.last?.emit(9);
    expect(acks).toEqual([8, 9]);
  });
});

describe('VideoPipeline picture scale', () => {
  afterEach(() => vi.unstubAllGlobals());

  it("draws a half-size picture (the lowest tier's) at the stream's size", () => {
    vi.stubGlobal('VideoDecoder', FakeDecoder);
    vi.stubGlobal('EncodedVideoChunk', class { constructor(readonly init: unknown) {} });
    const canvas = document.createElement('canvas');
    const stats = new StatsTracker();
    const pipeline = new VideoPipeline(canvas, stats, undefined, () => undefined);
    pipeline.push(frame(1, true, 1));
    FakeDecoder.last?.emit(1);
    expect([canvas.width, canvas.height]).toEqual([64, 48]);
    expect([stats.width, stats.height]).toEqual([64, 48]);
    pipeline.push(frame(2, true, 0));
    FakeDecoder.last?.emit(2);
    expect([canvas.width, canvas.height]).toEqual([64, 48]);
  });
});
