// Decodes the WebSocket video stream onto a canvas: H.264 access units through WebCodecs
// `VideoDecoder`, JPEG frames through `createImageBitmap`. Drops frames rather than queue them.

import { parseVideoHeader, VIDEO_HEADER_BYTES, type VideoCodec, type VideoFrameHeader } from '../protocol';
import type { StatsTracker } from './stats';

const MAX_DECODE_QUEUE = 3;

/** WebCodecs codec string for Constrained Baseline at this size (docs/PROTOCOL.md). */
export function h264CodecString(width: number, height: number): string {
  return width * height <= 1280 * 720 ? 'avc1.42E01F' : 'avc1.42E028';
}

/** Codecs this browser decodes, best first, for `hello`. */
export async function supportedCodecs(): Promise<VideoCodec[]> {
  const codecs: VideoCodec[] = [];
  try {
    if (typeof VideoDecoder !== 'undefined') {
      const probe = await VideoDecoder.isConfigSupported({ codec: 'avc1.42E01F', optimizeForLatency: true });
      if (probe.supported) codecs.push('h264');
    }
  } catch {
    // no WebCodecs H.264 here
  }
  codecs.push('jpeg');
  return codecs;
}

export class VideoPipeline {
  private decoder: VideoDecoder | null = null;
  private configured = '';
  private needKeyframe = true;
  private headers = new Map<number, { header: VideoFrameHeader; queuedAt: number }>();
  private jpegBusy = false;
  private readonly context: CanvasRenderingContext2D | null;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly stats: StatsTracker,
    private readonly onFirstFrame: () => void = () => undefined,
    /** Asks the host for a keyframe (`requestKeyframe`) when the decoder lost sync, so the
     * picture does not freeze until the next periodic keyframe. */
    private readonly onKeyframeNeeded: (reason: string) => void = () => undefined,
    /** Acknowledges a decoded frame to the host (`videoAck {frame_number}`), which measures the
     * link with it and adapts this client's quality. */
    private readonly onFrameDecoded: (frameNumber: number) => void = () => undefined,
  ) {
    this.context = canvas.getContext('2d', { alpha: false, desynchronized: true });
  }

  /** Takes one binary frame from the socket (header + payload). */
  push(buffer: ArrayBuffer): void {
    let header: VideoFrameHeader;
    try {
      header = parseVideoHeader(buffer);
    } catch (error) {
      console.warn(`ovhost: ignoring a video frame: ${String(error)}`);
      return;
    }
    this.stats.bytesReceived(buffer.byteLength);
    this.stats.codec = header.codec;
    if (header.keyframe) this.stats.keyframes += 1;
    const payload = new Uint8Array(buffer, VIDEO_HEADER_BYTES);
    if (header.codec === 'h264') this.pushH264(header, payload);
    else this.pushJpeg(header, payload);
  }

  private ensureDecoder(header: VideoFrameHeader): VideoDecoder | null {
    const codec = h264CodecString(header.width, header.height);
    const key = `${codec}/${header.width}x${header.height}`;
    if (this.decoder && this.configured === key && this.decoder.state === 'configured') return this.decoder;
    if (!header.keyframe) return null;
    this.decoder?.close();
    const decoder = new VideoDecoder({
      output: (frame) => this.draw(frame),
      error: (error) => {
        console.warn(`ovhost: H.264 decoder error, asking for a keyframe: ${error.message}`);
        this.decoder = null;
        this.configured = '';
        this.lostSync('decoder_error');
      },
    });
    decoder.configure({ codec, codedWidth: header.width, codedHeight: header.height, optimizeForLatency: true });
    this.decoder = decoder;
    this.configured = key;
    this.needKeyframe = true;
    return decoder;
  }

  /** The decoder needs a keyframe: asks the host once per loss (not once per dropped frame). */
  private lostSync(reason: string): void {
    if (!this.needKeyframe) this.onKeyframeNeeded(reason);
    this.needKeyframe = true;
  }

  private pushH264(header: VideoFrameHeader, payload: Uint8Array): void {
    const decoder = this.ensureDecoder(header);
    if (!decoder) {
      this.stats.frameDropped();
      return;
    }
    if (this.needKeyframe && !header.keyframe) {
      this.stats.frameDropped();
      return;
    }
    if (decoder.decodeQueueSize >= MAX_DECODE_QUEUE && !header.keyframe) {
      this.lostSync('dropped'); // a gap: the decoder must restart from a keyframe
      this.stats.frameDropped();
      return;
    }
    this.needKeyframe = false;
    this.headers.set(header.frameNumber, { header, queuedAt: performance.now() });
    if (this.headers.size > 64) {
      const oldest = this.headers.keys().next().value;
      if (oldest !== undefined) this.headers.delete(oldest);
    }
    try {
      decoder.decode(
        new EncodedVideoChunk({ type: header.keyframe ? 'key' : 'delta', timestamp: header.frameNumber, data: payload }),
      );
    } catch (error) {
      console.warn(`ovhost: could not decode frame ${header.frameNumber}: ${String(error)}`);
      this.lostSync('decoder_error');
    }
  }

  private draw(frame: VideoFrame): void {
    const entry = this.headers.get(frame.timestamp);
    this.headers.delete(frame.timestamp);
    try {
      // Decoded frames report a padded coded height: draw the header's display size.
      const scale = entry?.header.scale ?? 0;
      const width = (entry?.header.width ?? frame.displayWidth) << scale;
      const height = (entry?.header.height ?? frame.displayHeight) << scale;
      this.paint(frame, width, height);
    } finally {
      frame.close();
    }
    const decodeMs = entry ? performance.now() - entry.queuedAt : 0;
    this.stats.frameDecoded(decodeMs, entry?.header.inputSeq ?? 0);
    this.onFrameDecoded(frame.timestamp);
  }

  /** Draws a picture at the stream's size (`width`x`height`): a smaller picture from the
   * lowest quality tier is scaled up, so the canvas, and the pointer mapping, keep the stream's
   * pixels. */
  private paint(image: CanvasImageSource, width: number, height: number): void {
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    const first = this.stats.framesDecoded === 0;
    this.stats.width = width;
    this.stats.height = height;
    this.context?.drawImage(image, 0, 0, width, height);
    if (first) this.onFirstFrame();
  }

  private pushJpeg(header: VideoFrameHeader, payload: Uint8Array): void {
    if (this.jpegBusy) {
      this.stats.frameDropped();
      return;
    }
    this.jpegBusy = true;
    const started = performance.now();
    createImageBitmap(new Blob([payload as BlobPart], { type: 'image/jpeg' }))
      .then((bitmap) => {
        this.paint(bitmap, header.width << header.scale, header.height << header.scale);
        bitmap.close();
        this.stats.frameDecoded(performance.now() - started, header.inputSeq);
        this.onFrameDecoded(header.frameNumber);
      })
      .catch((error: unknown) => console.warn(`ovhost: could not decode a JPEG frame: ${String(error)}`))
      .finally(() => {
        this.jpegBusy = false;
      });
  }

  /** Forget decoder state (after a reconnect the stream restarts with a keyframe). */
  reset(): void {
    try {
      this.decoder?.close();
    } catch {
      // already closed
    }
    this.decoder = null;
    this.configured = '';
    this.needKeyframe = true;
    this.headers.clear();
  }
}
