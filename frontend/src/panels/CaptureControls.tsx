// Save image and Record, on the viewport toolbar. Save image downloads the host's PNG of the
// current frame at stream size (`/api/snapshot.png`). Record asks the host to record the H.264
// stream (`startRecording`/`stopRecording`); when a recording this viewer started stops, its
// MP4 downloads, and everyone sees a link to it.

import { useEffect, useRef, useState } from 'react';
import type { ViewerStore } from '../state/store';
import { mayDrive, type ViewerState } from '../state/viewerState';

/** `path` with the page's access token (`?token=`), when it has one. */
export function withToken(path: string): string {
  const token = new URLSearchParams(location.search).get('token');
  return token ? `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : path;
}

function download(href: string, name: string): void {
  const link = document.createElement('a');
  link.href = href;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
}

const clock = (ms: number) => {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

export function CaptureControls({ state, store }: { state: ViewerState; store: ViewerStore }) {
  const [saving, setSaving] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [, tick] = useState(0);
  const { recording } = state;
  const me = state.hello?.client_id;
  // Download a recording this viewer started, once, when it stops.
  const downloaded = useRef<string | null>(null);
  useEffect(() => {
    const file = recording.last;
    if (!recording.active && file && recording.startedBy === me && downloaded.current !== file.name) {
      downloaded.current = file.name;
      download(withToken(file.url), file.name);
    }
  }, [recording, me]);
  useEffect(() => {
    if (!recording.active) return;
    const timer = setInterval(() => tick((n) => n + 1), 500);
    return () => clearInterval(timer);
  }, [recording.active]);

  const saveImage = async () => {
    setSaving(true);
    setNote(null);
    try {
      const response = await fetch(withToken('/api/snapshot.png'));
      if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
      const url = URL.createObjectURL(await response.blob());
      download(url, `ovhost-${new Date().toISOString().replace(/[:.]/g, '-')}.png`);
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (error) {
      setNote(`Save image failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      setSaving(false);
    }
  };
  const canRecord = mayDrive(state);
  return (
    <>
      <button data-testid="save-image" aria-label="Save image" title="Save image (PNG at stream size)" disabled={saving} onClick={() => void saveImage()}>
        PNG
      </button>
      <button
        data-testid="record"
        aria-label={recording.active ? 'Stop recording' : 'Record'}
        title={canRecord ? (recording.active ? 'Stop recording' : 'Record (MP4)') : 'The viewer who drives can record'}
        className={recording.active ? 'recording' : ''}
        disabled={!canRecord}
        onClick={() => store.send(recording.active ? 'stopRecording' : 'startRecording', {})}
      >
        {recording.active ? `■ ${clock(Date.now() - (recording.sinceMs ?? Date.now()))}` : '●'}
      </button>
      {!recording.active && recording.last && (
        <a className="recording-link" data-testid="recording-link" href={withToken(recording.last.url)} download={recording.last.name}>
          {recording.last.name} ({(recording.last.bytes / 1e6).toFixed(1)} MB{recording.reason === 'cap' ? ', stopped at the cap' : ''})
        </a>
      )}
      {(note || recording.error) && <span className="error capture-note">{note ?? recording.error}</span>}
    </>
  );
}
