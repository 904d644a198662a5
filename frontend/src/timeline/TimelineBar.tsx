// The timeline bar under the viewport, shown only for animated stages: play/pause, a scrubber
// over the stage's time range, the time code and seconds, loop and rate. The host owns the
// timeline: every control is a request, and the bar shows the `timelineState` the host pushes
// (to every client, so all viewers stay in step).

import { useEffect, useState } from 'react';
import type { ViewerClient } from '../connection/client';
import type { TimelineStatePayload } from '../protocol';

export const RATES = [0.25, 0.5, 1, 2, 4];

export function formatTime(state: TimelineStatePayload): string {
  return `${state.time.toFixed(1)} / ${state.end_time_code.toFixed(0)} · ${state.seconds.toFixed(2)} s`;
}

export function TimelineBar({ client }: { client: ViewerClient }) {
  const [state, setState] = useState<TimelineStatePayload | null>(null);
  // While the scrubber is held, show where it is rather than the (slightly older) pushed time.
  const [scrub, setScrub] = useState<number | null>(null);
  useEffect(() => client.on('timelineState', setState), [client]);
  if (!state || !state.animated) return null;
  const time = scrub ?? state.time;
  const seek = (value: number) => {
    setScrub(value);
    client.send('timelineSeekRequest', { time: value });
  };
  return (
    <div className="timeline-bar" data-testid="timeline" data-playing={state.playing ? 'true' : 'false'}>
      <button
        data-testid="timeline-play"
        aria-label={state.playing ? 'Pause' : 'Play'}
        onClick={() => client.send(state.playing ? 'timelinePauseRequest' : 'timelinePlayRequest', {})}
      >
        {state.playing ? '❚❚' : '▶'}
      </button>
      <input
        type="range"
        data-testid="timeline-scrub"
        aria-label="Time code"
        min={state.start_time_code}
        max={state.end_time_code}
        step="any"
        value={time}
        onChange={(e) => seek(Number(e.currentTarget.value))}
        onPointerUp={() => setScrub(null)}
        onBlur={() => setScrub(null)}
      />
      <span className="timeline-time" data-testid="timeline-time">
        {formatTime({ ...state, time, seconds: (time - state.start_time_code) / state.time_codes_per_second })}
      </span>
      <label className="timeline-loop">
        <input
          type="checkbox"
          checked={state.loop}
          onChange={(e) => client.send('timelineSetLoopRequest', { loop: e.currentTarget.checked })}
        />
        Loop
      </label>
      <select
        aria-label="Playback rate"
        value={String(state.rate)}
        onChange={(e) => client.send('timelineSetRateRequest', { rate: Number(e.currentTarget.value) })}
      >
        {(RATES.includes(state.rate) ? RATES : [...RATES, state.rate]).map((r) => (
          <option key={r} value={String(r)}>
            {r}×
          </option>
        ))}
      </select>
    </div>
  );
}
