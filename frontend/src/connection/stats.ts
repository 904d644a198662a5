// Rolling stream statistics for the overlay: fps, decode time, bitrate and input latency
// (from the `input_seq` the host echoes in each video header).

export interface StreamStats {
  fps: number;
  decodeMs: number;
  bitrateKbps: number;
  inputLatencyMs: number | null;
  framesDecoded: number;
  framesDropped: number;
  /** Keyframes received (/ws) or decoded (WebRTC). */
  keyframes: number;
  width: number;
  height: number;
  codec: string;
  lastInputSeqEchoed: number;
  /** Transport figures from the WebRTC driver's getStats() (absent for /ws). */
  rtc?: RtcStats;
}

export interface RtcStats {
  active: boolean;
  fps: number;
  bitrateKbps: number;
  decodeMs: number;
  jitterMs: number;
  packetLossPct: number;
  rttMs: number | null;
  freezes: number;
}

const WINDOW_MS = 1000;

export class StatsTracker {
  private frameTimes: number[] = [];
  private bytes: Array<{ at: number; bytes: number }> = [];
  private decodeMsAvg = 0;
  private pendingInputs: Array<{ seq: number; sentAt: number }> = [];
  /** Every input-to-display latency measured, in ms (the latency benchmark reads these). */
  readonly latencySamplesMs: number[] = [];
  private lastLatencyMs: number | null = null;
  private lastFrameAt: number | null = null;
  framesDecoded = 0;
  framesDropped = 0;
  keyframes = 0;
  width = 0;
  height = 0;
  codec = '';
  lastInputSeqEchoed = 0;
  /** Filled by the WebRTC driver from getStats(); used instead of the /ws counters when active. */
  readonly rtc: RtcStats = {
    active: false,
    fps: 0,
    bitrateKbps: 0,
    decodeMs: 0,
    jitterMs: 0,
    packetLossPct: 0,
    rttMs: null,
    freezes: 0,
  };

  constructor(private readonly now: () => number = () => performance.now()) {}

  inputSent(seq: number): void {
    this.pendingInputs.push({ seq, sentAt: this.now() });
    if (this.pendingInputs.length > 256) this.pendingInputs.shift();
  }

  bytesReceived(count: number): void {
    const at = this.now();
    this.bytes.push({ at, bytes: count });
    this.trim(at);
  }

  frameDropped(): void {
    this.framesDropped += 1;
  }

  /** A frame reached the screen; `inputSeq` is the seq echoed in its header. */
  frameDecoded(decodeMs: number, inputSeq: number): void {
    const at = this.now();
    this.framesDecoded += 1;
    this.frameTimes.push(at);
    this.lastFrameAt = at;
    this.decodeMsAvg = this.framesDecoded === 1 ? decodeMs : this.decodeMsAvg * 0.9 + decodeMs * 0.1;
    this.lastInputSeqEchoed = Math.max(this.lastInputSeqEchoed, inputSeq);
    while (this.pendingInputs.length > 0 && (this.pendingInputs[0]?.seq ?? Infinity) <= inputSeq) {
      const done = this.pendingInputs.shift();
      if (done) {
        this.lastLatencyMs = at - done.sentAt;
        this.latencySamplesMs.push(this.lastLatencyMs);
        if (this.latencySamplesMs.length > 10000) this.latencySamplesMs.shift();
      }
    }
    this.trim(at);
  }

  /** Forget inputs in flight (after a reconnect the host's seq echo starts over). */
  resetInputs(): void {
    this.pendingInputs = [];
  }

  private trim(at: number): void {
    while (this.frameTimes.length > 0 && at - (this.frameTimes[0] ?? at) > WINDOW_MS) this.frameTimes.shift();
    while (this.bytes.length > 0 && at - (this.bytes[0]?.at ?? at) > WINDOW_MS) this.bytes.shift();
  }

  /** Milliseconds since the last decoded frame (Infinity before the first). */
  msSinceLastFrame(): number {
    return this.lastFrameAt === null ? Infinity : this.now() - this.lastFrameAt;
  }

  snapshot(): StreamStats {
    this.trim(this.now());
    const totalBytes = this.bytes.reduce((sum, b) => sum + b.bytes, 0);
    if (this.rtc.active) {
      return {
        fps: this.rtc.fps,
        decodeMs: this.rtc.decodeMs,
        bitrateKbps: this.rtc.bitrateKbps,
        inputLatencyMs: this.lastLatencyMs,
        framesDecoded: this.framesDecoded,
        framesDropped: this.framesDropped,
        keyframes: this.keyframes,
        width: this.width,
        height: this.height,
        codec: this.codec,
        lastInputSeqEchoed: this.lastInputSeqEchoed,
        rtc: { ...this.rtc },
      };
    }
    return {
      fps: this.frameTimes.length * (1000 / WINDOW_MS),
      decodeMs: this.decodeMsAvg,
      bitrateKbps: (totalBytes * 8) / WINDOW_MS,
      inputLatencyMs: this.lastLatencyMs,
      framesDecoded: this.framesDecoded,
      framesDropped: this.framesDropped,
      keyframes: this.keyframes,
      width: this.width,
      height: this.height,
      codec: this.codec,
      lastInputSeqEchoed: this.lastInputSeqEchoed,
    };
  }
}
