// Stream quality: the size the host streams now and its limits, the resolution scale a driving
// viewer asks for (50–100 % of its viewport × device pixel ratio), frame rate (up to the host's
// `--fps`) and H.264 bitrate (`setStreamQuality`), and the codec (WebSocket driver: reloads with
// `?codec=`).

import type { ViewerClient } from '../connection/client';
import type { ViewerStore } from '../state/store';
import type { ViewerState } from '../state/viewerState';
import { mayDrive } from '../state/viewerState';
import { MAX_SCALE, MIN_SCALE } from '../viewport/streamSize';

export interface QualityPanelProps {
  state: ViewerState;
  client: ViewerClient;
  store: ViewerStore;
  scale: number;
  onScale: (scale: number) => void;
}

const FRAME_RATES = [10, 15, 24, 30, 60, 120];
const BITRATES_KBPS = [1000, 2500, 6000, 12000, 25000];

export function QualityPanel({ state, client, store, scale, onScale }: QualityPanelProps) {
  const driving = mayDrive(state);
  const maxFps = state.stream.maxFps ?? state.stream.fps;
  const rates = [...new Set([...FRAME_RATES.filter((r) => r < maxFps), maxFps, state.stream.fps])].filter((r) => r > 0).sort((a, b) => a - b);
  const video = state.hello?.video;
  const codecs = video?.available ?? [];
  const setCodec = (codec: string) => {
    const url = new URL(location.href);
    url.searchParams.set('codec', codec);
    location.assign(url.toString());
  };
  return (
    <section className="panel quality" data-testid="quality">
      <h2>Quality</h2>
      <div className="field">
        <span>Stream</span>
        <span data-testid="stream-size">
          {state.stream.width}×{state.stream.height}
          {state.stream.fps ? ` @ ${state.stream.fps} fps` : ''}
        </span>
      </div>
      {state.stream.maxWidth && (
        <div className="field muted">
          <span>Host limit</span>
          <span>
            {state.stream.maxWidth}×{state.stream.maxHeight}
          </span>
        </div>
      )}
      <label className="field">
        <span>Resolution {Math.round(scale * 100)} %</span>
        <input
          type="range"
          data-testid="resolution-scale"
          min={MIN_SCALE}
          max={MAX_SCALE}
          step={0.05}
          value={scale}
          disabled={!driving}
          onChange={(e) => onScale(Number(e.target.value))}
        />
      </label>
      <label className="field">
        <span>Frame rate</span>
        <select
          data-testid="fps-select"
          value={state.stream.fps}
          disabled={!driving}
          onChange={(e) => store.send('setStreamQuality', { fps: Number(e.target.value) })}
        >
          {rates.map((r) => (
            <option key={r} value={r}>
              {r} fps
            </option>
          ))}
        </select>
      </label>
      {state.hello?.video?.codec === 'h264' || client.driverKind === 'webrtc' ? (
        <label className="field">
          <span>Bitrate</span>
          <select
            data-testid="bitrate-select"
            value={state.stream.bitrateKbps ?? ''}
            disabled={!driving}
            onChange={(e) => store.send('setStreamQuality', { bitrate_kbps: Number(e.target.value) })}
          >
            <option value="" disabled>
              encoder default
            </option>
            {BITRATES_KBPS.map((b) => (
              <option key={b} value={b}>
                {b / 1000} Mbit/s
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {!driving && <div className="muted">The viewer who drives chooses the stream size and quality.</div>}
      {client.driverKind === 'websocket' && codecs.length > 0 && (
        <label className="field">
          <span>Codec</span>
          <select data-testid="codec-select" value={video?.codec ?? ''} onChange={(e) => setCodec(e.target.value)}>
            {codecs.map((c) => (
              <option key={c} value={c}>
                {c === 'h264' ? 'H.264 (WebCodecs)' : 'JPEG'}
              </option>
            ))}
          </select>
        </label>
      )}
    </section>
  );
}
