#!/usr/bin/env bash
# Runs on the GPU machine (NVIDIA driver, no NVENC, no internet) from the repository root, with
# target/gpu-carry/{host,loader}.tar.gz and target/ovs-carry/bundle.tar.gz carried. Verifies the
# real ovhost binary end to end: the raster renderer on NVIDIA Vulkan, SHM / CUDASHM / RTSP /
# WebRTC transports, app messages and input over SHM. Prints one JSON line per check.
set -uo pipefail
root="$(pwd)"
work="${TMPDIR:-/tmp}/ovh-verify"; rm -rf "$work"; mkdir -p "$work/ovs" "$work/loader"
tar -C "$work" -xzf target/gpu-carry/host.tar.gz
tar -C "$work/ovs" -xzf target/ovs-carry/bundle.tar.gz
tar -C "$work/loader" -xzf target/gpu-carry/loader.tar.gz
export OVSTREAM_LIB_PATH="$work/ovs/pkg/ovstream" PYTHONPATH="$work/ovs/pkg" LD_LIBRARY_PATH="$work/loader" NO_COLOR=1
bin="$work/bin"; out="${OUT:-$work/out}"; mkdir -p "$out"; cd "$work"
port=18080
state() { curl -s "localhost:$port/api/state"; }
start_host() {  # name, args...
    local name=$1; shift
    "$bin/ovhost" --http-port $port --asset-root stages "$@" 2>"$out/$name.log" &
    host_pid=$!
    for _ in $(seq 100); do curl -sf "localhost:$port/healthz" >/dev/null && break; sleep 0.1; done
}
stop_host() { kill -INT $host_pid 2>/dev/null; wait $host_pid 2>/dev/null; }
report() {  # name, extra python expression over the state json `s`
    state | python3 -c "import json,sys; s=json.load(sys.stdin); print(json.dumps({'check': '$1', 'renderer': s['renderer'], 'state': s['state'], 'fps': s['stats']['fps'], 'render_ms': round(s['stats']['render_ms'],3), 'frame_ms': round(s['stats']['frame_ms'],3), 'convert_ms': round(s['stats']['convert_ms'],3), 'sinks': s['sinks'], 'stream': s['stream'], 'frames_dropped': s['frames_dropped'], **($2)}))"
}
nvidia-smi -L

echo "== raster on NVIDIA Vulkan, sample stage, 1920x1080, paced at 240 fps (web sink only, no client)"
start_host raster --stage sample_yup.usda --width 1920 --height 1080 --fps 240
sleep 5
report raster_vulkan_1080p "{}"
grep -m1 'chose its GPU adapter' "$out/raster.log"
stop_host

for renderer in testpattern raster; do
  echo "== SHM 1920x1080 with $renderer, paced at 240 fps; Rust shm_client; hello + input over the SHM message channel"
  start_host shm_$renderer --renderer $renderer --stage sample_yup.usda --width 1920 --height 1080 --fps 240 --transport web,ovstream-shm --shm-name ovh-$renderer
  sleep 2
  before=$(state | python3 -c "import json,sys; print(json.dumps(json.load(sys.stdin)['camera']['view']['eye']))")
  "$bin/shm_client" --transport shm --name ovh-$renderer --seconds 5 --no-pixel-check \
      --send-json '{"event_type":"hello","payload":{"client":"shm_client"}}' \
      --send-json '{"event_type":"input","payload":{"events":[{"type":"wheel","x":960,"y":540,"notches":4}]}}' \
      --send-json '{"event_type":"noSuchMessage","payload":{}}' \
      --expect-event helloResult --expect-event viewerError > "$out/shm_client_$renderer.json" 2>>"$out/shm_$renderer.log"
  after=$(state | python3 -c "import json,sys; print(json.dumps(json.load(sys.stdin)['camera']['view']['eye']))")
  cat "$out/shm_client_$renderer.json"
  report shm_$renderer "{'camera_eye_before': $before, 'camera_eye_after': $after}"
  stop_host
done

echo "== CUDASHM 1920x1080 raster, consumer in another process"
start_host cudashm --stage sample_yup.usda --width 1920 --height 1080 --fps 120 --transport web,ovstream-cudashm --shm-name ovh-cuda
sleep 2
"$bin/shm_client" --transport cudashm --name ovh-cuda --seconds 4 --no-pixel-check
report cudashm "{}"
stop_host

echo "== RTSP 1920x1080 raster with software H.264 (no NVENC), OpenCV/FFmpeg client"
start_host rtsp --stage sample_yup.usda --width 1920 --height 1080 --fps 60 --transport web,ovstream-rtsp
sleep 3
python3 "$root/scripts/ovstream/py_rtsp_check.py" rtsp://127.0.0.1:8554/stream 6
report rtsp "{}"
grep -m2 -iE 'H.264|nvenc' "$out/rtsp.log" | cut -c1-300
stop_host

echo "== WebRTC server start through the host: signaling port answers"
start_host webrtc --stage sample_yup.usda --width 1280 --height 720 --fps 30 --transport web,ovstream-webrtc
python3 -c "
import json, socket, time
t0=time.time(); err=None
while time.time()-t0 < 15:
    try:
        s=socket.create_connection(('127.0.0.1', 49100), timeout=2); s.close(); err=None; break
    except OSError as e:
        err=str(e); time.sleep(0.2)
print(json.dumps({'check': 'webrtc_signaling', 'open': err is None, 'seconds': round(time.time()-t0, 2), 'error': err}))"
report webrtc "{}"
stop_host
grep -hE 'ERROR|panicked' "$out"/*.log | cut -c1-300 | sort | uniq -c | sort -rn | head -15
