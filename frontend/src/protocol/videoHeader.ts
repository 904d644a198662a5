// The 40-byte little-endian header in front of every binary video frame (docs/PROTOCOL.md).

export const VIDEO_HEADER_BYTES = 40;
const MAGIC = 'OVHF';

export const CODEC_H264 = 1;
export const CODEC_JPEG = 2;

export interface VideoFrameHeader {
  version: number;
  codec: 'h264' | 'jpeg';
  keyframe: boolean;
  frameNumber: number;
  captureTimeUs: number;
  /** The picture's size: the stream size divided by `2 ** scale`. */
  width: number;
  height: number;
  /** A client on the host's lowest quality tier gets a smaller picture (docs/PROTOCOL.md,
   * "Adaptation"): it is drawn at `width << scale` by `height << scale`, the stream's size. */
  scale: number;
  /** Last input `seq` the host applied before rendering this frame. */
  inputSeq: number;
}

/** Parses the header; throws an Error with a readable reason when the frame is not ours. */
export function parseVideoHeader(buffer: ArrayBuffer): VideoFrameHeader {
  if (buffer.byteLength < VIDEO_HEADER_BYTES) {
    throw new Error(`video frame is ${buffer.byteLength} bytes, shorter than the ${VIDEO_HEADER_BYTES}-byte header`);
  }
  const view = new DataView(buffer);
  const magic = String.fromCharCode(view.getUint8(0), view.getUint8(1), view.getUint8(2), view.getUint8(3));
  if (magic !== MAGIC) throw new Error(`video frame has magic '${magic}', expected '${MAGIC}'`);
  const codecByte = view.getUint8(5);
  if (codecByte !== CODEC_H264 && codecByte !== CODEC_JPEG) {
    throw new Error(`video frame has unknown codec id ${codecByte}`);
  }
  return {
    version: view.getUint8(4),
    codec: codecByte === CODEC_H264 ? 'h264' : 'jpeg',
    keyframe: (view.getUint8(6) & 1) === 1,
    scale: Math.min(view.getUint8(7), 4),
    frameNumber: Number(view.getBigUint64(8, true)),
    captureTimeUs: Number(view.getBigUint64(16, true)),
    width: view.getUint32(24, true),
    height: view.getUint32(28, true),
    inputSeq: view.getUint32(32, true),
  };
}

/** Builds a header (tests and tools). */
export function buildVideoHeader(
  h: Omit<VideoFrameHeader, 'version' | 'scale'> & { version?: number; scale?: number },
): ArrayBuffer {
  const buffer = new ArrayBuffer(VIDEO_HEADER_BYTES);
  const view = new DataView(buffer);
  for (let i = 0; i < 4; i += 1) view.setUint8(i, MAGIC.charCodeAt(i));
  view.setUint8(4, h.version ?? 1);
  view.setUint8(5, h.codec === 'h264' ? CODEC_H264 : CODEC_JPEG);
  view.setUint8(6, h.keyframe ? 1 : 0);
  view.setUint8(7, h.scale ?? 0);
  view.setBigUint64(8, BigInt(h.frameNumber), true);
  view.setBigUint64(16, BigInt(h.captureTimeUs), true);
  view.setUint32(24, h.width, true);
  view.setUint32(28, h.height, true);
  view.setUint32(32, h.inputSeq, true);
  return buffer;
}
