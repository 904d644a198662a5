#!/usr/bin/env bash
# Runs on the GPU machine (NVIDIA driver, no NVENC): verifies the ovstream sink end to end with
# the release binaries and the carried bundle (made by scripts/ovstream/pack-for-gpu.sh).
# Prints one JSON line per check; results also land in $OUT (when set).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${TMPDIR:-/tmp}/ovs-verify"
rm -rf "$work"; mkdir -p "$work"
tar -C "$work" -xzf "$root/target/ovs-carry/bundle.tar.gz"
export OVSTREAM_LIB_PATH="$work/pkg/ovstream"
export PYTHONPATH="$work/pkg"
bin="$work/bin"
out="${OUT:-$work/out}"; mkdir -p "$out"
log() { echo "== $*"; }
nvidia-smi -L || true
ls /usr/lib/x86_64-linux-gnu/libnvidia-encode.so.1 2>/dev/null || echo "no libnvidia-encode (expected: no NVENC)"

log "SHM 1920x1080@60: probe + Rust shm_client (with message echo) + wheel's Python client"
RUST_LOG=info "$bin/ovstream_probe" --transport ovstream-shm --width 1920 --height 1080 --fps 60 --seconds 9 --name ovs-shm >"$out/shm_probe.json" 2>"$out/shm_probe.log" &
p=$!
sleep 1
"$bin/shm_client" --transport shm --name ovs-shm --seconds 5 --send-message >"$out/shm_client.json" 2>"$out/shm_client.log" &
c=$!
python3 "$root/scripts/ovstream/py_shm_check.py" ovs-shm 4 >"$out/shm_python.json" 2>"$out/shm_python.log"
wait $c; wait $p
cat "$out/shm_probe.json" "$out/shm_client.json" "$out/shm_python.json"

log "SHM host frames (sink stages BGRA8 host memory on the GPU) 1920x1080@60"
"$bin/ovstream_probe" --transport ovstream-shm --host-frames --width 1920 --height 1080 --fps 60 --seconds 5 --name ovs-shm-host >"$out/shmhost_probe.json" 2>"$out/shmhost_probe.log" &
p=$!
sleep 1
"$bin/shm_client" --transport shm --name ovs-shm-host --seconds 3 >"$out/shmhost_client.json" 2>&1
wait $p
cat "$out/shmhost_probe.json" "$out/shmhost_client.json"

log "CUDASHM 1920x1080@60: probe + Rust client in another process"
RUST_LOG=info "$bin/ovstream_probe" --transport ovstream-cudashm --width 1920 --height 1080 --fps 60 --seconds 6 --name ovs-cuda >"$out/cudashm_probe.json" 2>"$out/cudashm_probe.log" &
p=$!
sleep 1
"$bin/shm_client" --transport cudashm --name ovs-cuda --seconds 3 >"$out/cudashm_client.json" 2>"$out/cudashm_client.log"
wait $p
cat "$out/cudashm_probe.json" "$out/cudashm_client.json"

log "RTSP 1920x1080@60 pre-encoded H.264 + OpenCV client"
RUST_LOG=info "$bin/ovstream_probe" --transport ovstream-rtsp --width 1920 --height 1080 --fps 60 --seconds 12 >"$out/rtsp_probe.json" 2>"$out/rtsp_probe.log" &
p=$!
sleep 3
python3 "$root/scripts/ovstream/py_rtsp_check.py" rtsp://127.0.0.1:8554/stream 6 >"$out/rtsp_client.json" 2>"$out/rtsp_client.log"
wait $p
cat "$out/rtsp_probe.json" "$out/rtsp_client.json"

log "WebRTC 1280x720@30 H.264: server starts, signaling port answers TCP"
RUST_LOG=info "$bin/ovstream_probe" --transport ovstream-webrtc --width 1280 --height 720 --fps 30 --seconds 12 >"$out/webrtc_probe.json" 2>"$out/webrtc_probe.log" &
p=$!
python3 -c "
import json, socket, time
t0=time.time(); err=None
while time.time()-t0 < 15:
    try:
        s=socket.create_connection(('127.0.0.1', 49100), timeout=2); s.close(); err=None; break
    except OSError as e:
        err=str(e); time.sleep(0.2)
print(json.dumps({'webrtc_signaling_tcp': 'open' if err is None else 'closed', 'seconds_after_launch': time.time()-t0, 'error': err}))" >"$out/webrtc_tcp.json" 2>&1
wait $p
cat "$out/webrtc_probe.json" "$out/webrtc_tcp.json"
grep -hiE 'error|fail|nvenc' "$out"/*.log | grep -v NvEnc12VideoEncoder | cut -c1-300 | sort | uniq -c | sort -rn | head -20
rm -f "$out"/*.log
