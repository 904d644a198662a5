// The ovstream WebRTC driver: video and native input through NVIDIA's `@nvidia/ov-web-rtc`
// (loaded with a dynamic import only when this driver is chosen), app messages over its data
// channel with the same `{event_type, payload}` envelope as the WebSocket driver.

import { decodeMessage } from '../protocol';
import type { Driver, DriverEvents } from './driver';
import type { SignalingTarget } from './signalingConfig';

export const LIBRARY_MISSING_MESSAGE =
  'The WebRTC driver needs NVIDIA\'s @nvidia/ov-web-rtc package, which is not on the public npm registry. ' +
  'Install it in frontend/ (npm install <path to the package>) and rebuild, or open the page without ' +
  '?driver=ovstream to use the built-in WebSocket stream.';

type Library = typeof import('@nvidia/ov-web-rtc');

export interface WebRtcDriverOptions {
  video: HTMLVideoElement;
  audio: HTMLAudioElement;
  resolveTarget: () => Promise<SignalingTarget>;
  width: number;
  height: number;
  fps: number;
  /** Injected for tests; defaults to the dynamic import of the package. */
  loadLibrary?: () => Promise<Library>;
}

export class WebRtcDriver implements Driver {
  readonly kind = 'ovstream' as const;
  private library: Library | null = null;
  private open = false;
  private closed = false;

  constructor(private readonly options: WebRtcDriverOptions) {}

  helloVideo() {
    return undefined; // video arrives as a WebRTC track
  }

  connect(events: DriverEvents): void {
    this.closed = false;
    void this.start(events);
  }

  private async start(events: DriverEvents): Promise<void> {
    let library: Library;
    try {
      const load = this.options.loadLibrary ?? (() => import('@nvidia/ov-web-rtc'));
      library = await load();
    } catch (error) {
      events.onClose(`${LIBRARY_MISSING_MESSAGE} (${String(error)})`, true);
      return;
    }
    if (library.OVHOST_LIBRARY_MISSING || !library.AppStreamer || !library.StreamType) {
      events.onClose(LIBRARY_MISSING_MESSAGE, true);
      return;
    }
    this.library = library;
    const target = await this.options.resolveTarget();
    const { video, audio } = this.options;
    video.id ||= 'ovhost-remote-video';
    audio.id ||= 'ovhost-remote-audio';
    const onCustomEvent = (raw: unknown) => {
      const message = decodeMessage(raw);
      if (message) events.onMessage(message);
    };
    try {
      await library.AppStreamer.connect({
        streamSource: library.StreamType.DIRECT,
        streamConfig: {
          server: target.server,
          signalingPort: target.signalingPort,
          width: this.options.width,
          height: this.options.height,
          fps: this.options.fps,
          codec: 'H264',
          codecList: ['H264'],
          nativeTouchEvents: true,
          maxReconnects: 0,
          videoElementId: video.id,
          audioElementId: audio.id,
        },
        onCustomEvent,
        onStop: () => this.lost(events, 'the stream stopped'),
        onTerminate: () => this.lost(events, 'the stream ended'),
      });
    } catch (error) {
      events.onClose(`cannot connect to ${target.server}:${target.signalingPort} (${target.source}): ${String(error)}`, false);
      return;
    }
    if (this.closed) return;
    this.open = true;
    events.onOpen();
  }

  private lost(events: DriverEvents, why: string): void {
    if (!this.open || this.closed) return;
    this.open = false;
    events.onClose(why, false);
  }

  send(text: string): boolean {
    const streamer = this.library?.AppStreamer;
    if (!this.open || !streamer) return false;
    try {
      // Swallow rejections (sends can race a disconnect).
      void Promise.resolve(streamer.sendMessage(text)).catch(() => undefined);
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    this.closed = true;
    this.open = false;
    try {
      void Promise.resolve(this.library?.AppStreamer?.terminate(true)).catch(() => undefined);
    } catch {
      // already gone
    }
  }
}
