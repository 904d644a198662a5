import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, wrapForLibrary } from './envelope';
import { buildVideoHeader, parseVideoHeader, VIDEO_HEADER_BYTES } from './videoHeader';

describe('envelope', () => {
  it('decodes a bare envelope', () => {
    expect(decodeMessage('{"event_type":"helloResult","payload":{"client_id":3}}')).toEqual({
      event_type: 'helloResult',
      payload: { client_id: 3 },
    });
  });

  it('unwraps the library wrapper with data as a string', () => {
    const inner = encodeMessage('openStageRequest', { url: 'a.usda' });
    expect(decodeMessage(wrapForLibrary(inner))).toEqual({ event_type: 'openStageRequest', payload: { url: 'a.usda' } });
  });

  it('unwraps the library wrapper with data as an object', () => {
    const frame = { messageRecipient: 'app', messageType: 'json', data: { event_type: 'stageSelectionChanged', payload: { prims: ['/World/A'] } } };
    expect(decodeMessage(frame)?.payload).toEqual({ prims: ['/World/A'] });
  });

  it('ignores library control traffic and malformed frames', () => {
    expect(decodeMessage('{"messageRecipient":"kit","messageType":"ping","data":"{}"}')).toBeNull();
    expect(decodeMessage('not json')).toBeNull();
    expect(decodeMessage('[1,2]')).toBeNull();
    expect(decodeMessage('{"event_type":""}')).toBeNull();
  });

  it('gives a missing payload an empty object', () => {
    expect(decodeMessage('{"event_type":"x"}')).toEqual({ event_type: 'x', payload: {} });
  });
});

describe('video header', () => {
  it('round-trips every field', () => {
    const header = { codec: 'h264' as const, keyframe: true, frameNumber: 2 ** 40 + 7, captureTimeUs: 123456789, width: 1280, height: 720, scale: 1, inputSeq: 99 };
    expect(parseVideoHeader(buildVideoHeader(header))).toEqual({ version: 1, ...header });
  });

  it('reads the documented byte layout', () => {
    const bytes = new Uint8Array(VIDEO_HEADER_BYTES + 2);
    bytes.set([0x4f, 0x56, 0x48, 0x46, 1, 2, 0, 1]); // OVHF v1 jpeg, not key, half size
    const view = new DataView(bytes.buffer);
    view.setUint32(24, 640, true);
    view.setUint32(28, 360, true);
    view.setUint32(32, 17, true);
    const header = parseVideoHeader(bytes.buffer);
    expect(header).toMatchObject({ codec: 'jpeg', keyframe: false, scale: 1, width: 640, height: 360, inputSeq: 17 });
  });

  it('rejects short frames, bad magic and unknown codecs', () => {
    expect(() => parseVideoHeader(new ArrayBuffer(10))).toThrow(/shorter/);
    const bad = new Uint8Array(buildVideoHeader({ codec: 'h264', keyframe: true, frameNumber: 1, captureTimeUs: 0, width: 2, height: 2, inputSeq: 0 }));
    bad[0] = 0x58;
    expect(() => parseVideoHeader(bad.buffer)).toThrow(/magic/);
    bad[0] = 0x4f;
    bad[5] = 9;
    expect(() => parseVideoHeader(bad.buffer)).toThrow(/codec/);
  });
});
