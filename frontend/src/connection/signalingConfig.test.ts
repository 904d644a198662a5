import { describe, expect, it } from 'vitest';
import { resolveSignaling, type SignalingSources } from './signalingConfig';

const base: SignalingSources = { search: '', env: {}, pageHostname: 'viewer.example', loadConfigFile: async () => null };

describe('resolveSignaling', () => {
  it('prefers URL parameters (either spelling)', async () => {
    expect(await resolveSignaling({ ...base, search: '?server=10.0.0.5&signalingPort=50000', env: { VITE_SERVER_HOST: 'env' } })).toEqual({ server: '10.0.0.5', signalingPort: 50000, source: 'url' });
    expect(await resolveSignaling({ ...base, search: '?signalingport=50001' })).toEqual({ server: 'viewer.example', signalingPort: 50001, source: 'url' });
  });

  it('then the Vite environment', async () => {
    expect(await resolveSignaling({ ...base, env: { VITE_SERVER_HOST: 'gpu-box', VITE_SIGNALING_PORT: '49200' } })).toEqual({ server: 'gpu-box', signalingPort: 49200, source: 'env' });
  });

  it('then stream.config.json', async () => {
    const loadConfigFile = async () => ({ signalingServer: 'cfg-host', signalingPort: 49300 });
    expect(await resolveSignaling({ ...base, loadConfigFile })).toEqual({ server: 'cfg-host', signalingPort: 49300, source: 'config' });
  });

  it('then the page host on 49100; a broken config file is skipped', async () => {
    const loadConfigFile = async () => {
      throw new Error('404');
    };
    expect(await resolveSignaling({ ...base, loadConfigFile })).toEqual({ server: 'viewer.example', signalingPort: 49100, source: 'page' });
  });

  it('ignores invalid ports', async () => {
    expect(await resolveSignaling({ ...base, search: '?signalingPort=99999' })).toMatchObject({ source: 'page', signalingPort: 49100 });
  });
});
