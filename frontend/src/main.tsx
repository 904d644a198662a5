// Entry point: builds the connection (driver chosen by `?driver=`, else the transport saved in
// settings, else WebSocket), the video surface and the store once, outside React, then renders
// the app under StrictMode.

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { ViewerClient } from './connection/client';
import type { Driver } from './connection/driver';
import { fetchStreamConfig, resolveSignaling } from './connection/signalingConfig';
import { supportedCodecs, VideoPipeline } from './connection/videoPipeline';
import { RtcDriver } from './connection/rtcDriver';
import { savedTransport } from './connection/transportSetting';
import { StatsTracker } from './connection/stats';
import { WebRtcDriver } from './connection/webrtcDriver';
import { defaultWsUrl, WsDriver } from './connection/wsDriver';
import type { VideoCodec } from './protocol';
import { ViewerStore } from './state/store';
import './styles.css';

async function boot(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const viewerName = viewerNameFor(params);
  const driverName = params.get('driver') ?? savedTransport() ?? import.meta.env.VITE_DRIVER ?? 'ws';
  const useOvstream = driverName === 'ovstream';
  const useRtc = driverName === 'webrtc';
  let surface: HTMLCanvasElement | HTMLVideoElement;
  let createDriver: () => Driver;
  let pipeline: VideoPipeline | null = null;
  let client: ViewerClient;

  if (useRtc) {
    const video = document.createElement('video');
    video.autoplay = true;
    video.muted = true;
    video.playsInline = true;
    surface = video;
    const stats = new StatsTracker();
    createDriver = () =>
      new RtcDriver({ video, baseUrl: location.origin, token: params.get('token'), stats });
    client = new ViewerClient({ createDriver, stats, viewerName });
  } else if (useOvstream) {
    const video = document.createElement('video');
    video.autoplay = true;
    video.muted = true;
    video.playsInline = true;
    const audio = document.createElement('audio');
    audio.hidden = true;
    document.body.appendChild(audio);
    surface = video;
    createDriver = () =>
      new WebRtcDriver({
        video,
        audio,
        width: 1920,
        height: 1080,
        fps: 60,
        resolveTarget: () =>
          resolveSignaling({
            search: location.search,
            env: { VITE_SERVER_HOST: import.meta.env.VITE_SERVER_HOST, VITE_SIGNALING_PORT: import.meta.env.VITE_SIGNALING_PORT },
            pageHostname: location.hostname,
            loadConfigFile: fetchStreamConfig,
          }),
      });
    client = new ViewerClient({ createDriver, viewerName });
  } else {
    const forced = params.get('codec');
    const codecs: VideoCodec[] = forced === 'jpeg' || forced === 'h264' ? [forced] : await supportedCodecs();
    const canvas = document.createElement('canvas');
    canvas.width = 1280;
    canvas.height = 720;
    surface = canvas;
    createDriver = () => new WsDriver({ url: defaultWsUrl(location), codecs });
    client = new ViewerClient({ createDriver, viewerName });
    const viewer = client;
    pipeline = new VideoPipeline(
      canvas,
      client.stats,
      undefined,
      (reason) => viewer.send('requestKeyframe', { reason }),
      (frameNumber) => viewer.send('videoAck', { frame_number: frameNumber }),
    );
    const video = pipeline;
    client.setVideoSink((frame) => video.push(frame));
    client.onStatus((status) => {
      if (status.status === 'offline') video.reset();
    });
  }
  surface.className = 'stream-surface';
  surface.dataset.testid = 'stream';
  const store = new ViewerStore(client);
  // Debug/test hook (read by the e2e tests and the latency benchmark).
  Object.assign(window, { __ovhost: { client, store, pipeline } });
  window.addEventListener('pagehide', () => client.stop());
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) client.start(); // restored from the back/forward cache
  });

  const root = document.getElementById('root');
  if (!root) throw new Error('index.html has no #root element');
  createRoot(root).render(
    <StrictMode>
      <App client={client} store={store} surface={surface} />
    </StrictMode>,
  );
}

/** `?name=`, else the name saved in this browser, else a new `Viewer XXXX` (saved). */
function viewerNameFor(params: URLSearchParams): string {
  const given = params.get('name')?.trim();
  if (given) return given;
  const saved = localStorage.getItem('ovhost.viewerName');
  if (saved) return saved;
  const made = `Viewer ${Math.floor(Math.random() * 0x10000).toString(16).toUpperCase().padStart(4, '0')}`;
  localStorage.setItem('ovhost.viewerName', made);
  return made;
}

void boot();
