// The stats panel: what this viewer receives (fps, bitrate, decode time, frames decoded and
// dropped, keyframes, input-to-frame latency; RTT, loss and jitter where the transport knows
// them: WebRTC) next to what the host spends per frame (render, convert/encode, frame time, from
// `getStatsRequest` every second), and a latency test: ten app-message round trips to the host.

import { useEffect, useState } from 'react';
import type { ViewerClient } from '../connection/client';
import type { StreamStats } from '../connection/stats';

interface HostStats {
  fps?: number;
  frame_ms?: number;
  render_ms?: number;
  convert_ms?: number;
  video_kbps?: number;
  frames_dropped?: number;
}

export interface LatencyResult {
  samples: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
}

/** Ten sequential `getStatsRequest` → `getStatsResult` round trips (app messages over the live transport). */
export async function latencyTest(client: ViewerClient, rounds = 10): Promise<LatencyResult> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    const started = performance.now();
    const answered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error('the host did not answer within 3 s'));
      }, 3000);
      const off = client.on('getStatsResult', () => {
        clearTimeout(timer);
        off();
        resolve();
      });
    });
    if (!client.send('getStatsRequest', {})) throw new Error('not connected');
    await answered;
    times.push(performance.now() - started);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const at = (i: number) => sorted[i] ?? 0;
  return { samples: sorted.length, medianMs: at(Math.floor(sorted.length / 2)), minMs: at(0), maxMs: at(sorted.length - 1) };
}

const ms = (v: number | null | undefined, digits = 1) => (typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(digits)} ms` : '—');

export function StatsPanel({ client }: { client: ViewerClient }) {
  const [local, setLocal] = useState<StreamStats>(() => client.stats.snapshot());
  const [host, setHost] = useState<HostStats | null>(null);
  const [latency, setLatency] = useState<LatencyResult | string | null>(null);
  const [testing, setTesting] = useState(false);
  useEffect(() => {
    const off = client.on('getStatsResult', (payload) => setHost(payload as HostStats));
    const timer = setInterval(() => {
      setLocal(client.stats.snapshot());
      client.send('getStatsRequest', {});
    }, 1000);
    return () => {
      off();
      clearInterval(timer);
    };
  }, [client]);
  const rtc = local.rtc;
  const rows: Array<[string, string, string]> = [
    ['stream', `${local.width}×${local.height} ${local.codec || '—'}`, 'stat-stream'],
    ['fps (received)', local.fps.toFixed(0), 'stat-fps'],
    ['bitrate', `${(local.bitrateKbps / 1000).toFixed(2)} Mbit/s`, 'stat-bitrate'],
    ['decode', ms(local.decodeMs), 'stat-decode'],
    ['frames decoded / dropped', `${local.framesDecoded} / ${local.framesDropped}`, 'stat-frames'],
    ['keyframes', String(local.keyframes), 'stat-keyframes'],
    ['input → frame', ms(local.inputLatencyMs, 0), 'stat-input-latency'],
    ['RTT', rtc ? ms(rtc.rttMs, 0) : '— (WebSocket: use the latency test)', 'stat-rtt'],
    ['loss / jitter', rtc ? `${rtc.packetLossPct.toFixed(1)} % / ${ms(rtc.jitterMs, 0)}` : '— (TCP: no loss)', 'stat-loss'],
    ['host render', ms(host?.render_ms), 'stat-host-render'],
    ['host convert + encode', ms(host?.convert_ms), 'stat-host-convert'],
    ['host frame', `${ms(host?.frame_ms)} at ${host?.fps ?? '—'} fps`, 'stat-host-frame'],
  ];
  const runTest = async () => {
    setTesting(true);
    try {
      setLatency(await latencyTest(client));
    } catch (error) {
      setLatency(String(error instanceof Error ? error.message : error));
    } finally {
      setTesting(false);
    }
  };
  return (
    <section className="panel stats-panel" data-testid="stats-panel">
      <h2>Stats</h2>
      <table className="props">
        <tbody>
          {rows.map(([label, value, id]) => (
            <tr key={id}>
              <th>{label}</th>
              <td data-testid={id}>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="buttons">
        <button data-testid="latency-test" disabled={testing} onClick={() => void runTest()}>
          {testing ? 'Testing…' : 'Latency test'}
        </button>
        <span data-testid="latency-result" className="muted">
          {typeof latency === 'string'
            ? latency
            : latency
              ? `round trip ${latency.medianMs.toFixed(1)} ms median (${latency.minMs.toFixed(1)}–${latency.maxMs.toFixed(1)}, ${latency.samples} samples)`
              : ''}
        </span>
      </div>
    </section>
  );
}
