// The viewer's model of the server: stage, loading, tree, selection, inspector, variants,
// render settings, AOVs, camera schemes, plugins and scenes. `applyMessage` is a pure reducer
// over server messages that also returns the follow-up requests the UI must send.

import type {
  ActiveAovPayload,
  Capability,
  CameraScheme,
  ClientEventType,
  ClientMessages,
  Envelope,
  HelloResultPayload,
  PluginsPayload,
  PresenceClient,
  PropertiesPayload,
  RecordingFile,
  Role,
  RuntimeState,
  ServerMessages,
  VariantsPayload,
  ViewerErrorPayload,
} from '../protocol';
import { childrenLoaded, emptyTree, loadForFilter, resetTree, select, type TreeState } from './tree';

export type Request = { [K in ClientEventType]: [K, ClientMessages[K]] }[ClientEventType];

export interface ViewerState {
  hello: HelloResultPayload | null;
  runtimeState: RuntimeState | null;
  stage: { url: string; rootPath: string; upAxis: string | null } | null;
  loading: { busy: boolean; url: string; activity: string; amount: number | null };
  /** The last `openStageResult` error, shown until the next successful open. */
  stageError: string | null;
  errors: Array<ViewerErrorPayload & { id: number }>;
  tree: TreeState;
  /** The prim the inspector shows (first selected); replies for other prims are dropped. */
  inspectorPath: string | null;
  properties: PropertiesPayload | null;
  variants: VariantsPayload | null;
  settings: Record<string, unknown>;
  capabilities: Capability[];
  settingNote: string | null;
  aov: { active: string; available: string[] };
  schemes: { schemes: CameraScheme[]; active: string };
  plugins: PluginsPayload | null;
  scenes: string[];
  camera: Record<string, unknown> | null;
  /** This viewer's role (from `helloResult`, then `presence`). */
  role: Role | null;
  /** Who is connected and who drives. */
  presence: { policy: string; clients: PresenceClient[] };
  /** Control requests the owner has not answered (`controlRequested`). */
  controlRequests: PresenceClient[];
  /** The stream size the host streams now (`helloResult`, then `streamSizeChanged`). */
  stream: {
    width: number;
    height: number;
    maxWidth: number | null;
    maxHeight: number | null;
    fps: number;
    maxFps: number | null;
    bitrateKbps: number | null;
  };
  /** Set when the host drains (`hostShuttingDown`): why, and when to expect a reconnect. */
  shuttingDown: { reason: string; retryAfterMs: number; atMs: number } | null;
  /** The host's recorder (`recordingState`): running, and the last finished file. */
  recording: { active: boolean; startedBy: number | null; sinceMs: number | null; last: RecordingFile | null; reason: string | null; error: string | null };
}

export const initialViewerState: ViewerState = {
  hello: null,
  runtimeState: null,
  stage: null,
  loading: { busy: false, url: '', activity: '', amount: null },
  stageError: null,
  errors: [],
  tree: emptyTree,
  inspectorPath: null,
  properties: null,
  variants: null,
  settings: {},
  capabilities: [],
  settingNote: null,
  aov: { active: '', available: [] },
  schemes: { schemes: [], active: '' },
  plugins: null,
  scenes: [],
  camera: null,
  role: null,
  presence: { policy: '', clients: [] },
  controlRequests: [],
  stream: { width: 0, height: 0, maxWidth: null, maxHeight: null, fps: 0, maxFps: null, bitrateKbps: null },
  shuttingDown: null,
  recording: { active: false, startedBy: null, sinceMs: null, last: null, reason: null, error: null },
};

/** Whether this viewer may drive the camera and change the session. */
export function mayDrive(state: ViewerState): boolean {
  return state.role === 'owner' || state.role === 'controller';
}

const MAX_ERRORS = 5;
let errorId = 0;

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export interface Applied {
  state: ViewerState;
  requests: Request[];
}

/** Applies one server message. Unknown event types leave the state unchanged. */
export function applyMessage(state: ViewerState, message: Envelope): Applied {
  const p = message.payload as Record<string, unknown>;
  const requests: Request[] = [];
  const done = (next: ViewerState): Applied => ({ state: next, requests });
  switch (message.event_type) {
    case 'helloResult': {
      const hello = p as unknown as HelloResultPayload;
      // Ask for what the initial push may not contain; answers are idempotent.
      requests.push(['getCameraSchemesRequest', {}], ['getPluginsRequest', {}], ['listScenesRequest', {}]);
      const stream = {
        width: hello.stream.width,
        height: hello.stream.height,
        maxWidth: hello.stream.max_width ?? null,
        maxHeight: hello.stream.max_height ?? null,
        fps: hello.stream.fps,
        maxFps: hello.stream.max_fps ?? null,
        bitrateKbps: hello.stream.bitrate_kbps ?? null,
      };
      return done({ ...state, hello, runtimeState: hello.state, role: hello.role ?? null, stream, shuttingDown: null, controlRequests: [] });
    }
    case 'presence': {
      const presence = p as unknown as ServerMessages['presence'];
      const me = presence.clients.find((c) => c.client_id === state.hello?.client_id);
      // Requests answered (granted, refused, or the asker left) drop out of the owner's list.
      const controlRequests = state.controlRequests.filter((r) => presence.clients.some((c) => c.client_id === r.client_id && c.requested));
      return done({ ...state, presence, role: me?.role ?? state.role, controlRequests });
    }
    case 'controlRequested': {
      const request = p as unknown as PresenceClient;
      const others = state.controlRequests.filter((r) => r.client_id !== request.client_id);
      return done({ ...state, controlRequests: [...others, request] });
    }
    case 'streamSizeChanged': {
      const size = p as unknown as ServerMessages['streamSizeChanged'];
      return done({ ...state, stream: { ...state.stream, width: size.width, height: size.height } });
    }
    case 'recordingState': {
      const r = p as unknown as ServerMessages['recordingState'];
      const recording = r.recording
        ? { ...state.recording, active: true, startedBy: r.started_by ?? null, sinceMs: state.recording.active ? state.recording.sinceMs : Date.now(), error: null, reason: null }
        : { active: false, startedBy: state.recording.startedBy, sinceMs: null, last: r.file ?? state.recording.last, reason: r.reason ?? null, error: r.error ?? null };
      return done({ ...state, recording });
    }
    case 'streamQualityChanged': {
      const q = p as unknown as ServerMessages['streamQualityChanged'];
      return done({ ...state, stream: { ...state.stream, fps: q.fps, maxFps: q.max_fps, bitrateKbps: q.bitrate_kbps ?? null } });
    }
    case 'hostShuttingDown': {
      const d = p as unknown as ServerMessages['hostShuttingDown'];
      return done({ ...state, shuttingDown: { reason: d.reason, retryAfterMs: d.retryAfterMs, atMs: Date.now() } });
    }
    case 'viewerError': {
      const error = p as unknown as ViewerErrorPayload;
      // A failed open is shown in the open-stage panel (openStageResult); not twice.
      const context = error.context as { event_type?: unknown } | null | undefined;
      if (context?.event_type === 'openStageRequest' && error.code !== 'not_permitted') return done(state);
      const errors = [...state.errors, { ...error, id: (errorId += 1) }].slice(-MAX_ERRORS);
      return done({ ...state, errors });
    }
    case 'pluginDisabled': {
      const d = p as unknown as ServerMessages['pluginDisabled'];
      const took = d.fallback ? `; '${d.fallback}' took over` : '';
      const error = { code: 'plugin_disabled', message: `The ${d.kind} '${d.id}' (plugin '${d.plugin}') was disabled: ${d.reason}${took}` };
      const errors = [...state.errors, { ...error, id: (errorId += 1) }].slice(-MAX_ERRORS);
      return done({ ...state, errors });
    }
    case 'openStageResult':
    case 'openedStageResult': {
      const result = p as unknown as ServerMessages['openStageResult'];
      const loading = { ...state.loading, busy: false, activity: '', amount: null };
      if (result.result !== 'success') {
        return done({ ...state, loading, stageError: `Could not open ${result.url}: ${result.error ?? 'unknown error'}` });
      }
      const rootPath = result.root_prim_path || state.stage?.rootPath || '/';
      const sameStage = state.stage?.url === result.url && state.stage.rootPath === rootPath;
      const tree = sameStage && state.tree.rootPath === rootPath ? state.tree : resetTree(rootPath);
      if (!sameStage || state.tree.nodes[rootPath]?.children === null) {
        requests.push(['getChildrenRequest', { prim_path: rootPath }]);
      }
      if (!sameStage) {
        // A stage opened after `hello` (e.g. the automatic open on an idle host): the initial
        // push had no render settings or AOVs to give.
        requests.push(['getRenderSettingsRequest', {}], ['getAvailableAOVs', {}]);
      }
      const cleared = sameStage ? {} : { inspectorPath: null, properties: null, variants: null };
      return done({
        ...state,
        ...cleared,
        loading,
        stageError: null,
        runtimeState: 'streaming',
        stage: { url: result.url, rootPath, upAxis: result.up_axis ?? null },
        tree,
      });
    }
    case 'loadingStateResponse': {
      const busy = p.loading_state === 'busy';
      return done({ ...state, loading: { ...state.loading, busy, url: typeof p.url === 'string' ? p.url : '' } });
    }
    case 'updateProgressActivity':
      return done({ ...state, loading: { ...state.loading, busy: true, activity: String(p.activity ?? '') } });
    case 'updateProgressAmount':
      return done({ ...state, loading: { ...state.loading, amount: typeof p.amount === 'number' ? p.amount : null } });
    case 'getChildrenResult':
    case 'getChildrenResponse': {
      const rows = Array.isArray(p.children) ? (p.children as ServerMessages['getChildrenResult']['children']) : [];
      // While a filter is active, the search goes on into the rows that just arrived.
      const loaded = loadForFilter(childrenLoaded(state.tree, String(p.prim_path ?? ''), rows));
      for (const path of loaded.requests) requests.push(['getChildrenRequest', { prim_path: path }]);
      return done({ ...state, tree: loaded.state });
    }
    case 'stageSelectionChanged': {
      const prims = strings(p.prims);
      const selected = select(state.tree, prims);
      for (const path of selected.requests) requests.push(['getChildrenRequest', { prim_path: path }]);
      const first = prims[0] ?? null;
      if (first && first !== state.inspectorPath) {
        requests.push(['getPropertiesRequest', { prim_path: first }], ['getVariantsRequest', { prim_path: first }]);
      }
      const changed = first !== state.inspectorPath;
      return done({
        ...state,
        tree: selected.state,
        inspectorPath: first,
        properties: changed ? null : state.properties,
        variants: changed ? null : state.variants,
      });
    }
    case 'getPropertiesResponse':
    case 'getPropertiesResult': {
      if (p.prim_path !== state.inspectorPath) return done(state); // a stale reply
      return done({ ...state, properties: p as unknown as PropertiesPayload });
    }
    case 'getVariantsResponse': {
      if (p.prim_path !== state.inspectorPath) return done(state);
      return done({ ...state, variants: p as unknown as VariantsPayload });
    }
    case 'renderSettingsChanged': {
      const settings = p.settings && typeof p.settings === 'object' ? (p.settings as Record<string, unknown>) : state.settings;
      const capabilities = Array.isArray(p.capabilities) ? (p.capabilities as Capability[]) : state.capabilities;
      let settingNote: string | null = null;
      if (typeof p.key === 'string') {
        if (p.result === 'error' || p.applied === false) settingNote = `${p.key}: ${String(p.message ?? 'not applied')}`;
        else if (p.requires_reload) settingNote = `${p.key} applies after a reload`;
      }
      return done({ ...state, settings, capabilities, settingNote });
    }
    case 'activeAOVState': {
      const aov = p as unknown as ActiveAovPayload;
      const available = strings(aov.available);
      return done({ ...state, aov: { active: String(aov.active ?? ''), available: available.length ? available : state.aov.available } });
    }
    case 'availableAOVsResult': {
      const available = strings(p.available).length ? strings(p.available) : strings(p.aovs);
      return done({ ...state, aov: { ...state.aov, available } });
    }
    case 'cameraSchemesResult': {
      const schemes = Array.isArray(p.schemes) ? (p.schemes as CameraScheme[]) : [];
      return done({ ...state, schemes: { schemes, active: String(p.active ?? '') } });
    }
    case 'cameraStateChanged': {
      const scheme = typeof p.scheme === 'string' ? p.scheme : state.schemes.active;
      return done({ ...state, camera: p, schemes: { ...state.schemes, active: scheme } });
    }
    case 'pluginsResult': {
      const plugins: PluginsPayload = {
        plugins: Array.isArray(p.plugins) ? (p.plugins as PluginsPayload['plugins']) : [],
        errors: Array.isArray(p.errors) ? (p.errors as PluginsPayload['errors']) : [],
      };
      return done({ ...state, plugins });
    }
    case 'listScenesResult':
      return done({ ...state, scenes: strings(p.scenes) });
    default:
      return done(state);
  }
}

/** Local expansion/filter/dismiss actions do not touch the server state. */
export function dismissError(state: ViewerState, id: number): ViewerState {
  return { ...state, errors: state.errors.filter((e) => e.id !== id) };
}
