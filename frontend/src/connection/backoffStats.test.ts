import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff';
import { StatsTracker } from './stats';

describe('Backoff', () => {
  it('doubles up to the cap and resets', () => {
    const b = new Backoff({ initialMs: 250, maxMs: 2000, jitter: 0 });
    expect([b.nextDelayMs(), b.nextDelayMs(), b.nextDelayMs(), b.nextDelayMs(), b.nextDelayMs()]).toEqual([250, 500, 1000, 2000, 2000]);
    b.reset();
    expect(b.nextDelayMs()).toBe(250);
  });

  it('spreads delays by the jitter without exceeding the cap', () => {
    const low = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.5, random: () => 0 });
    const high = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.5, random: () => 1 });
    expect(low.nextDelayMs()).toBe(500);
    expect(high.nextDelayMs()).toBe(1000);
  });
});

describe('StatsTracker', () => {
  it('measures input latency up to the first frame echoing that seq', () => {
    let now = 0;
    const s = new StatsTracker(() => now);
    s.inputSent(1);
    now = 10;
    s.inputSent(2);
    now = 30;
    s.frameDecoded(1, 0); // older frame: nothing answered
    expect(s.latencySamplesMs).toEqual([]);
    now = 45;
    s.frameDecoded(1, 2); // answers both 1 and 2
    expect(s.latencySamplesMs).toEqual([45, 35]);
    expect(s.snapshot().inputLatencyMs).toBe(35);
    expect(s.snapshot().lastInputSeqEchoed).toBe(2);
  });

  it('counts fps and bitrate over the last second', () => {
    let now = 0;
    const s = new StatsTracker(() => now);
    for (let i = 0; i < 30; i += 1) {
      now = i * 33;
      s.bytesReceived(1000);
      s.frameDecoded(2, 0);
    }
    const snap = s.snapshot();
    expect(snap.fps).toBe(30);
    expect(snap.bitrateKbps).toBe(240);
    expect(snap.framesDecoded).toBe(30);
    now = 5000;
    expect(s.snapshot().fps).toBe(0);
    expect(s.msSinceLastFrame()).toBe(5000 - 29 * 33);
  });
});
