// The stats overlay on the viewport: fps, decode time, bitrate, input latency.

import { useEffect, useState } from 'react';
import type { StatsTracker, StreamStats } from '../connection/stats';

export function StatsOverlay({ stats }: { stats: StatsTracker }) {
  const [snapshot, setSnapshot] = useState<StreamStats>(() => stats.snapshot());
  useEffect(() => {
    const timer = setInterval(() => setSnapshot(stats.snapshot()), 500);
    return () => clearInterval(timer);
  }, [stats]);
  return (
    <div className="stats-overlay" data-testid="stats">
      <div>
        {snapshot.width}×{snapshot.height} {snapshot.codec || '—'}
      </div>
      <div>{snapshot.fps.toFixed(0)} fps</div>
      <div>decode {snapshot.decodeMs.toFixed(1)} ms</div>
      <div>{(snapshot.bitrateKbps / 1000).toFixed(2)} Mbit/s</div>
      <div>input {snapshot.inputLatencyMs === null ? '—' : `${snapshot.inputLatencyMs.toFixed(0)} ms`}</div>
      <div data-testid="frames-decoded">{snapshot.framesDecoded} frames</div>
      {snapshot.rtc && (
        <>
          <div data-testid="rtc-rtt">rtt {snapshot.rtc.rttMs === null ? '—' : `${snapshot.rtc.rttMs.toFixed(0)} ms`}</div>
          <div>
            loss {snapshot.rtc.packetLossPct.toFixed(1)} % · jitter {snapshot.rtc.jitterMs.toFixed(0)} ms
          </div>
          <div>
            {snapshot.framesDropped} dropped · {snapshot.rtc.freezes} freezes
          </div>
        </>
      )}
    </div>
  );
}
