// Open a stage: the server's scene list plus a free path box; errors from `openStageResult`
// are shown here while the current stage keeps streaming.

import { useState } from 'react';
import type { ViewerStore } from '../state/store';
import type { ViewerState } from '../state/viewerState';

export function OpenStage({ state, store }: { state: ViewerState; store: ViewerStore }) {
  const [path, setPath] = useState('');
  return (
    <section className="panel" data-testid="open-stage">
      <h2>Open</h2>
      {state.scenes.length > 0 && (
        <ul className="scenes">
          {state.scenes.map((scene) => (
            <li key={scene}>
              <button className={state.stage?.url === scene ? 'scene current' : 'scene'} onClick={() => store.openStage(scene)}>
                {scene}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form
        className="open-form"
        onSubmit={(e) => {
          e.preventDefault();
          store.openStage(path);
        }}
      >
        <input
          data-testid="open-path"
          type="text"
          placeholder="path/to/stage.usda"
          value={path}
          onChange={(e) => setPath(e.target.value)}
          aria-label="Stage path"
        />
        <button type="submit" disabled={!path.trim()}>
          Open
        </button>
      </form>
      {state.stageError && (
        <p className="error" role="alert" data-testid="open-error">
          {state.stageError}
        </p>
      )}
    </section>
  );
}
