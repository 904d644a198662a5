import { describe, expect, it } from 'vitest';
import { applyMessage, initialViewerState, type ViewerState } from './viewerState';

function run(messages: Array<[string, object]>, start: ViewerState = initialViewerState) {
  let state = start;
  const requests: unknown[] = [];
  for (const [event_type, payload] of messages) {
    const applied = applyMessage(state, { event_type, payload });
    state = applied.state;
    requests.push(...applied.requests);
  }
  return { state, requests };
}

const opened: [string, object] = ['openStageResult', { url: 'sample_yup.usda', result: 'success', root_prim_path: '/World', up_axis: 'Y' }];

describe('viewer state', () => {
  it('builds the tree from openStageResult and asks for the root children, render settings and AOVs', () => {
    const { state, requests } = run([opened]);
    expect(state.stage).toEqual({ url: 'sample_yup.usda', rootPath: '/World', upAxis: 'Y' });
    expect(state.tree.rootPath).toBe('/World');
    // A stage opened after hello (the automatic open on an idle host) brings its render settings.
    expect(requests).toEqual([
      ['getChildrenRequest', { prim_path: '/World' }],
      ['getRenderSettingsRequest', {}],
      ['getAvailableAOVs', {}],
    ]);
  });

  it('tracks role, presence, control requests, stream size and a draining host', () => {
    const hello: [string, object] = ['helloResult', { host: 'ovhost', host_version: '0', plugin_api_version: '0', protocol_version: 1, client_id: 2, features: [], stream: { width: 640, height: 360, fps: 30, max_width: 1920, max_height: 1080 }, state: 'streaming', role: 'spectator' }];
    const presence: [string, object] = ['presence', { policy: 'first', clients: [{ client_id: 1, name: 'Ada', role: 'owner', requested: false }, { client_id: 2, name: 'Bea', role: 'controller', requested: false }] }];
    const { state } = run([hello, presence, ['streamSizeChanged', { width: 800, height: 450 }], ['hostShuttingDown', { reason: 'sigterm', retryAfterMs: 2000 }]]);
    expect(state.role).toBe('controller');
    expect(state.presence.clients.map((c) => c.name)).toEqual(['Ada', 'Bea']);
    expect(state.stream).toEqual({ width: 800, height: 450, maxWidth: 1920, maxHeight: 1080, fps: 30, maxFps: null, bitrateKbps: null });
    const quality = run([['streamQualityChanged', { fps: 15, max_fps: 30, bitrate_kbps: 2500 }]], state).state;
    expect(quality.stream).toMatchObject({ fps: 15, maxFps: 30, bitrateKbps: 2500 });
    expect(state.shuttingDown?.reason).toBe('sigterm');
    const asked = run([['controlRequested', { client_id: 3, name: 'Cy', role: 'spectator', requested: true }]], state).state;
    expect(asked.controlRequests.map((r) => r.name)).toEqual(['Cy']);
  });

  it('keeps the stage and shows the error when an open fails', () => {
    const { state } = run([opened, ['openStageResult', { url: 'bad.usda', result: 'error', error: 'not found' }]]);
    expect(state.stage?.url).toBe('sample_yup.usda');
    expect(state.stageError).toBe('Could not open bad.usda: not found');
    expect(run([['openStageResult', { url: 'x.usda', result: 'success', root_prim_path: '/X' }]], state).state.stageError).toBeNull();
  });

  it('accepts properties only for the current selection', () => {
    const { state, requests } = run([
      opened,
      ['stageSelectionChanged', { prims: ['/World/A'] }],
      ['stageSelectionChanged', { prims: ['/World/B'] }],
      ['getPropertiesResponse', { prim_path: '/World/A', properties: { typeName: 'Mesh' } }],
    ]);
    expect(state.inspectorPath).toBe('/World/B');
    expect(state.properties).toBeNull();
    expect(requests).toContainEqual(['getPropertiesRequest', { prim_path: '/World/B' }]);
    const after = run([['getPropertiesResult', { prim_path: '/World/B', properties: { typeName: 'Xform' } }]], state).state;
    expect(after.properties?.properties).toEqual({ typeName: 'Xform' });
  });

  it('tracks AOVs, render settings, schemes and plugins', () => {
    const { state } = run([
      ['availableAOVsResult', { aovs: ['LdrColor', 'Normal'], available: ['LdrColor', 'Normal'] }],
      ['activeAOVState', { active: 'Normal', available: ['LdrColor', 'Normal'] }],
      ['renderSettingsChanged', { settings: { exposure: 1 }, capabilities: [{ key: 'exposure', control: 'slider', applies_at: 'immediate' }] }],
      ['renderSettingsChanged', { settings: { exposure: 1 }, key: 'spp', result: 'error', applied: false, applies_at: 'unsupported', message: 'unknown setting' }],
      ['cameraSchemesResult', { schemes: [{ id: 'orbit' }, { id: 'fly' }], active: 'orbit' }],
      ['cameraStateChanged', { scheme: 'fly' }],
      ['pluginsResult', { plugins: [{ name: 'cameras' }], errors: [{ message: 'bad lib' }] }],
    ]);
    expect(state.aov).toEqual({ active: 'Normal', available: ['LdrColor', 'Normal'] });
    expect(state.capabilities.map((c) => c.key)).toEqual(['exposure']);
    expect(state.settingNote).toBe('spp: unknown setting');
    expect(state.schemes.active).toBe('fly');
    expect(state.plugins?.errors).toHaveLength(1);
  });

  it('keeps the last five errors and shows loading progress', () => {
    const errors = Array.from({ length: 7 }, (_, i) => ['viewerError', { code: 'x', message: `e${i}` }] as [string, object]);
    const { state } = run([...errors, ['updateProgressActivity', { activity: 'Reading meshes' }], ['updateProgressAmount', { amount: 0.5 }]]);
    expect(state.errors.map((e) => e.message)).toEqual(['e2', 'e3', 'e4', 'e5', 'e6']);
    expect(state.loading).toMatchObject({ busy: true, activity: 'Reading meshes', amount: 0.5 });
  });

  it('shows a disabled plugin and what took over as an error', () => {
    const { state } = run([
      ['pluginDisabled', { kind: 'renderer', id: 'raster', plugin: 'raster', reason: 'plugin panicked: boom', fallback: 'testpattern' }],
    ]);
    expect(state.errors).toHaveLength(1);
    expect(state.errors[0]?.code).toBe('plugin_disabled');
    expect(state.errors[0]?.message).toBe("The renderer 'raster' (plugin 'raster') was disabled: plugin panicked: boom; 'testpattern' took over");
  });

  it('leaves the state alone for unknown messages', () => {
    expect(applyMessage(initialViewerState, { event_type: 'somethingNew', payload: {} }).state).toBe(initialViewerState);
  });
});

describe('inspector values', async () => {
  const { showValue } = await import('../panels/Inspector');
  it('rounds floats, summarises arrays and caps the length', () => {
    expect(showValue(0.44999998807907104)).toBe('0.45');
    expect(showValue({ length: 52, preview: [[0, 50.123456, 0]], truncated: true })).toBe('[52 items] [[0,50.123,0]]');
    expect(showValue('x'.repeat(300))).toHaveLength(120);
    expect(showValue(null)).toBe('—');
  });
});
