// The standards WebRTC driver: the browser's own RTCPeerConnection against the host's `webrtc`
// transport. Signaling is WHEP-shaped over the host's HTTP (`POST /api/webrtc` with the SDP
// offer → 201 + answer + Location; `DELETE` on close). Video is a receive-only H.264 track shown
// in a <video>; app messages and input go over one data channel with the same
// `{event_type, payload}` envelope as the WebSocket driver. Stats come from getStats().

import { decodeMessage } from '../protocol';
import type { Driver, DriverEvents } from './driver';
import type { StatsTracker } from './stats';

export interface RtcDriverOptions {
  video: HTMLVideoElement;
  /** The host's HTTP root, e.g. `http://127.0.0.1:8080` (the page's own origin by default). */
  baseUrl: string;
  /** Access token (`?token=` of the page), sent as a Bearer header. */
  token?: string | null;
  stats?: StatsTracker;
  /** Injected for tests. */
  fetchImpl?: typeof fetch;
  createPeerConnection?: (config: RTCConfiguration) => RTCPeerConnection;
}

interface IceServerInfo {
  urls: string[];
  username?: string;
  credential?: string;
}

/** How long ICE + DTLS + the data channel may take before the attempt counts as failed. */
const OPEN_TIMEOUT_MS = 15000;

export class RtcDriver implements Driver {
  readonly kind = 'webrtc' as const;
  private pc: RTCPeerConnection | null = null;
  private channel: RTCDataChannel | null = null;
  private session: string | null = null;
  private closedByUs = false;
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  private lastInbound: { at: number; bytes: number; decoded: number } | null = null;

  constructor(private readonly options: RtcDriverOptions) {}

  helloVideo() {
    return undefined; // video arrives as an RTP track, not as /ws binary frames
  }

  connect(events: DriverEvents): void {
    this.closedByUs = false;
    void this.start(events).catch((error: unknown) => this.fail(events, String(error)));
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    const token = this.options.token;
    return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
  }

  private async start(events: DriverEvents): Promise<void> {
    const fetchImpl = this.options.fetchImpl ?? fetch.bind(window);
    const base = this.options.baseUrl.replace(/\/$/, '');
    let iceServers: RTCIceServer[] = [];
    try {
      const info = await fetchImpl(`${base}/api/webrtc`, { headers: this.headers({}), cache: 'no-store' });
      if (info.status === 404) {
        events.onClose(`${await info.text()} (or open the page without ?driver=webrtc)`, true);
        return;
      }
      if (info.ok) {
        const body = (await info.json()) as { ice_servers?: IceServerInfo[] };
        iceServers = (body.ice_servers ?? []).map((s) => ({ urls: s.urls, username: s.username, credential: s.credential }));
      }
    } catch (error) {
      events.onClose(`cannot reach ${base}/api/webrtc: ${String(error)}`, false);
      return;
    }
    const create = this.options.createPeerConnection ?? ((config: RTCConfiguration) => new RTCPeerConnection(config));
    const pc = create({ iceServers, bundlePolicy: 'max-bundle' });
    this.pc = pc;
    const transceiver = pc.addTransceiver('video', { direction: 'recvonly' });
    // Ask for H.264 only (what the host sends), Constrained Baseline first.
    const capabilities = typeof RTCRtpReceiver !== 'undefined' ? RTCRtpReceiver.getCapabilities?.('video') : null;
    if (capabilities && transceiver.setCodecPreferences) {
      const h264 = capabilities.codecs.filter(
        (c) => c.mimeType.toLowerCase() === 'video/h264' && /packetization-mode=1/.test(c.sdpFmtpLine ?? ''),
      );
      h264.sort((a, b) => Number(/42e0/.test(b.sdpFmtpLine ?? '')) - Number(/42e0/.test(a.sdpFmtpLine ?? '')));
      const rtx = capabilities.codecs.filter((c) => c.mimeType.toLowerCase() === 'video/rtx');
      if (h264.length > 0) transceiver.setCodecPreferences([...h264, ...rtx]);
    }
    const channel = pc.createDataChannel('ovhost', { ordered: true });
    this.channel = channel;
    let opened = false;
    const openTimer = setTimeout(() => {
      if (!opened) this.fail(events, 'the WebRTC connection did not open (UDP blocked? see --public-ip and --ice-server)');
    }, OPEN_TIMEOUT_MS);
    channel.onopen = () => {
      opened = true;
      clearTimeout(openTimer);
      events.onOpen();
    };
    channel.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== 'string') return;
      const message = decodeMessage(event.data);
      if (message) events.onMessage(message);
    };
    channel.onclose = () => {
      clearTimeout(openTimer);
      if (!this.closedByUs && this.pc === pc) this.fail(events, 'the data channel closed');
    };
    pc.ontrack = (event: RTCTrackEvent) => {
      const video = this.options.video;
      const stream = event.streams[0] ?? new MediaStream([event.track]);
      video.srcObject = stream;
      void video.play().catch(() => undefined);
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed' && !this.closedByUs && this.pc === pc) {
        this.fail(events, 'the WebRTC connection failed');
      }
    };

    await pc.setLocalDescription(await pc.createOffer());
    const response = await fetchImpl(`${base}/api/webrtc`, {
      method: 'POST',
      headers: this.headers({ 'Content-Type': 'application/sdp' }),
      body: pc.localDescription?.sdp ?? '',
    });
    let answer = await response.text();
    if (response.status !== 201) {
      clearTimeout(openTimer);
      const fatal = response.status >= 400 && response.status < 500 && response.status !== 429;
      this.fail(events, `POST /api/webrtc answered ${response.status}: ${answer}`, fatal);
      return;
    }
    const location = response.headers.get('Location');
    this.session = location ? new URL(location, `${base}/`).toString() : null;
    if (this.closedByUs) {
      this.close();
      return;
    }
    // Test hook: the network tests route media through a relay by rewriting the candidates.
    const rewrite = (globalThis as { __ovhostRewriteAnswer?: (sdp: string) => string }).__ovhostRewriteAnswer;
    if (rewrite) answer = rewrite(answer);
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    this.startStats(pc);
  }

  private fail(events: DriverEvents, why: string, fatal = false): void {
    if (this.closedByUs) return;
    this.teardown();
    events.onClose(why, fatal);
  }

  /** Polls getStats() once a second into the stats overlay. */
  private startStats(pc: RTCPeerConnection): void {
    const stats = this.options.stats;
    if (!stats) return;
    stats.codec = 'h264 (webrtc)';
    this.statsTimer = setInterval(() => {
      void pc.getStats().then((report) => this.readStats(report, stats)).catch(() => undefined);
    }, 1000);
  }

  private readStats(report: RTCStatsReport, stats: StatsTracker): void {
    let rttMs: number | null = null;
    report.forEach((entry: Record<string, unknown>) => {
      if (entry.type === 'inbound-rtp' && entry.kind === 'video') {
        const now = performance.now();
        const bytes = Number(entry.bytesReceived ?? 0);
        const decoded = Number(entry.framesDecoded ?? 0);
        if (this.lastInbound) {
          const dt = (now - this.lastInbound.at) / 1000;
          if (dt > 0) {
            stats.rtc.bitrateKbps = ((bytes - this.lastInbound.bytes) * 8) / 1000 / dt;
            stats.rtc.fps = (decoded - this.lastInbound.decoded) / dt;
          }
        }
        this.lastInbound = { at: now, bytes, decoded };
        stats.framesDecoded = decoded;
        stats.framesDropped = Number(entry.framesDropped ?? 0);
        stats.keyframes = Number(entry.keyFramesDecoded ?? stats.keyframes);
        stats.width = Number(entry.frameWidth ?? stats.width);
        stats.height = Number(entry.frameHeight ?? stats.height);
        const decodeTime = Number(entry.totalDecodeTime ?? 0);
        stats.rtc.decodeMs = decoded > 0 ? (decodeTime / decoded) * 1000 : 0;
        stats.rtc.jitterMs = Number(entry.jitter ?? 0) * 1000;
        const lost = Number(entry.packetsLost ?? 0);
        const received = Number(entry.packetsReceived ?? 0);
        stats.rtc.packetLossPct = received + lost > 0 ? (100 * lost) / (received + lost) : 0;
        stats.rtc.freezes = Number(entry.freezeCount ?? 0);
      }
      if (entry.type === 'candidate-pair' && entry.state === 'succeeded' && entry.nominated) {
        const rtt = Number(entry.currentRoundTripTime ?? NaN);
        if (Number.isFinite(rtt)) rttMs = rtt * 1000;
      }
    });
    stats.rtc.rttMs = rttMs;
    stats.rtc.active = true;
  }

  send(text: string): boolean {
    const channel = this.channel;
    if (!channel || channel.readyState !== 'open') return false;
    try {
      channel.send(text);
      return true;
    } catch {
      return false;
    }
  }

  private teardown(): void {
    if (this.statsTimer !== null) clearInterval(this.statsTimer);
    this.statsTimer = null;
    this.lastInbound = null;
    const session = this.session;
    this.session = null;
    if (session) {
      const fetchImpl = this.options.fetchImpl ?? fetch.bind(window);
      void fetchImpl(session, { method: 'DELETE', headers: this.headers({}), keepalive: true }).catch(() => undefined);
    }
    try {
      this.channel?.close();
      this.pc?.close();
    } catch {
      // already closed
    }
    this.channel = null;
    this.pc = null;
  }

  close(): void {
    this.closedByUs = true;
    this.teardown();
  }
}
