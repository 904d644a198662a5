// Stream quality: the size the host streams now and its limits, the resolution scale a driving
// viewer asks for (50–100 % of its viewport × device pixel ratio), the codec (WebSocket driver:
// reloads with `?codec=`), and the frame rate the host renders at (`--fps`, fixed per host).

import type { ViewerClient } from '../connection/client';
import type { ViewerState } from '../state/viewerState';
import { mayDrive } from '../state/viewerState';
import { MAX_SCALE, MIN_SCALE } from '../viewport/streamSize';

export interface QualityPanelProps {
  state: ViewerState;
  client: ViewerClient;
  scale: number;
  onScale: (scale: number) => void;
}

export function QualityPanel({ state, client, scale, onScale }: QualityPanelProps) {
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
          {state.hello ? ` @ ${state.hello.stream.fps} fps` : ''}
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
          disabled={!mayDrive(state)}
          onChange={(e) => onScale(Number(e.target.value))}
        />
      </label>
      {!mayDrive(state) && <div className="muted">The viewer who drives chooses the stream size.</div>}
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
