import { describe, expect, it } from 'vitest';
import { saveTransport, savedTransport, TRANSPORT_KEY } from './transportSetting';

function memory(): Storage {
  const items = new Map<string, string>();
  return {
    getItem: (k: string) => items.get(k) ?? null,
    setItem: (k: string, v: string) => void items.set(k, v),
    removeItem: (k: string) => void items.delete(k),
    clear: () => items.clear(),
    key: () => null,
    get length() {
      return items.size;
    },
  };
}

describe('transport setting', () => {
  it('round-trips the two known transports and ignores anything else', () => {
    const storage = memory();
    expect(savedTransport(storage)).toBeNull();
    saveTransport('webrtc', storage);
    expect(savedTransport(storage)).toBe('webrtc');
    saveTransport('ws', storage);
    expect(savedTransport(storage)).toBe('ws');
    storage.setItem(TRANSPORT_KEY, 'carrier-pigeon');
    expect(savedTransport(storage)).toBeNull();
  });
});
