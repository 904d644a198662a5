// Render controls built only from what the server advertises: its setting capabilities, AOVs
// and camera schemes.

import { saveTransport, savedTransport } from '../connection/transportSetting';
import type { Capability } from '../protocol';
import type { ViewerStore } from '../state/store';
import type { ViewerState } from '../state/viewerState';

/**
 * Why a setting has no effect given the others (shown instead of letting a change vanish): the
 * background colour applies only to a solid background.
 */
export function inertBecause(key: string, settings: Record<string, unknown>): string | null {
  if (key === 'background_color' && typeof settings.background === 'string' && settings.background !== 'solid') {
    return `used when Background is solid (now ${settings.background})`;
  }
  return null;
}

function SettingControl({ capability, value, store, inert }: { capability: Capability; value: unknown; store: ViewerStore; inert: string | null }) {
  const set = (next: unknown) => store.send('setRenderSettingRequest', { key: capability.key, value: next });
  const label = capability.label ?? capability.key;
  const disabled = capability.applies_at === 'unsupported' || inert !== null;
  const note = inert
    ? ` (${inert})`
    : capability.applies_at && capability.applies_at !== 'immediate'
      ? ` (${capability.applies_at.replace(/_/g, ' ')})`
      : '';
  if (capability.control === 'toggle' || typeof value === 'boolean') {
    return (
      <label className="field">
        <span>{label + note}</span>
        <input type="checkbox" checked={Boolean(value)} disabled={disabled} onChange={(e) => set(e.target.checked)} />
      </label>
    );
  }
  if (capability.control === 'color' && typeof value === 'string' && /^#[0-9a-f]{6}$/i.test(value)) {
    return (
      <label className="field">
        <span>{label + note}</span>
        <input type="color" value={value} disabled={disabled} onChange={(e) => set(e.target.value)} />
      </label>
    );
  }
  if (Array.isArray(capability.options) && capability.options.length > 0) {
    return (
      <label className="field">
        <span>{label + note}</span>
        <select value={String(value ?? '')} disabled={disabled} onChange={(e) => set(e.target.value)}>
          {capability.options.map((option) => (
            <option key={String(option)} value={String(option)}>
              {String(option)}
            </option>
          ))}
        </select>
      </label>
    );
  }
  if (typeof value === 'number' || capability.control === 'slider' || capability.control === 'number') {
    return (
      <label className="field">
        <span>{label + note}</span>
        <input
          type="number"
          value={typeof value === 'number' ? value : 0}
          min={capability.min ?? undefined}
          max={capability.max ?? undefined}
          step={capability.step ?? 'any'}
          disabled={disabled}
          onChange={(e) => set(Number(e.target.value))}
        />
      </label>
    );
  }
  return (
    <label className="field">
      <span>{label + note}</span>
      <input type="text" defaultValue={String(value ?? '')} disabled={disabled} onBlur={(e) => set(e.target.value)} />
    </label>
  );
}

/** The stream transport (saved in settings; switching reloads the page, dropping `?driver=`). */
function TransportSelect() {
  const current = new URLSearchParams(location.search).get('driver') ?? savedTransport() ?? 'ws';
  return (
    <label className="field">
      <span>Transport</span>
      <select
        data-testid="transport-select"
        value={current === 'webrtc' ? 'webrtc' : 'ws'}
        onChange={(e) => {
          saveTransport(e.target.value === 'webrtc' ? 'webrtc' : 'ws');
          const url = new URL(location.href);
          url.searchParams.delete('driver');
          location.assign(url.toString());
        }}
      >
        <option value="ws">WebSocket</option>
        <option value="webrtc">WebRTC</option>
      </select>
    </label>
  );
}

export function RenderPanel({ state, store }: { state: ViewerState; store: ViewerStore }) {
  return (
    <section className="panel" data-testid="render-panel">
      <h2>View</h2>
      <label className="field">
        <span>AOV</span>
        <select
          data-testid="aov-select"
          value={state.aov.active}
          disabled={state.aov.available.length === 0}
          onChange={(e) => store.send('changeAOVRequest', { aov: e.target.value })}
        >
          {state.aov.available.length === 0 && <option value="">(none)</option>}
          {state.aov.available.map((aov) => (
            <option key={aov} value={aov}>
              {aov}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Camera</span>
        <select
          data-testid="scheme-select"
          value={state.schemes.active}
          disabled={state.schemes.schemes.length === 0}
          onChange={(e) => store.send('setCameraSchemeRequest', { scheme: e.target.value })}
        >
          {state.schemes.schemes.length === 0 && <option value="">(none)</option>}
          {state.schemes.schemes.map((scheme) => (
            <option key={scheme.id} value={scheme.id} title={scheme.description ?? undefined}>
              {scheme.id}
            </option>
          ))}
        </select>
      </label>
      <div className="buttons">
        {/* The whole stage ("/"), keeping the viewing angle as F does (an empty request resets it). */}
        <button onClick={() => store.send('fitCameraRequest', { prim_path: '/' })}>Frame all</button>
        <button
          disabled={!state.inspectorPath}
          onClick={() => state.inspectorPath && store.send('fitCameraRequest', { prim_path: state.inspectorPath })}
        >
          Frame selected
        </button>
      </div>
      <TransportSelect />
      {state.capabilities.length > 0 && <h3>Render settings</h3>}
      {state.capabilities.map((capability) => (
        <SettingControl
          key={capability.key}
          capability={capability}
          value={state.settings[capability.key]}
          store={store}
          inert={inertBecause(capability.key, state.settings)}
        />
      ))}
      {state.settingNote && <p className="note">{state.settingNote}</p>}
    </section>
  );
}
