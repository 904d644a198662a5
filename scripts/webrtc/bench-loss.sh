#!/usr/bin/env bash
# Benchmark: /ws versus webrtc in headless Chromium under real packet loss and delay (both ways),
# 60 s each. The kernels here have no netem qdisc, so scripts/netem/tun_netem.py puts Chromium in a
# network namespace behind TUN devices and drops/delays every IP packet in user space; the host
# stays in the root namespace. Needs root, the debug host (cargo build -p ovhost) and the frontend
# build (npm run build in frontend/). Prints the tun relay's counters and one JSON line of figures.
#
# Usage: scripts/webrtc/bench-loss.sh [--loss 0.02] [--delay-ms 40] [--seconds 60] [--renderer raster]
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
loss=0.02 delay=40 seconds=60 renderer=raster
while [ $# -gt 0 ]; do
    case "$1" in
        --loss) loss="$2"; shift 2 ;;
        --delay-ms) delay="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --renderer) renderer="$2"; shift 2 ;;
        *) die "unknown argument $1" ;;
    esac
done
[ "$(id -u)" -eq 0 ] || die "needs root (network namespace and TUN devices)"
ns="ovhost-loss-$$"
work="$(mktemp -d)"
netem_pid="" host_pid=""
cleanup() {
    set +e
    [ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null
    if [ -n "$netem_pid" ]; then kill "$netem_pid" 2>/dev/null; wait "$netem_pid" 2>/dev/null; fi
    ip netns del "$ns" 2>/dev/null
    grep "^{" "$work/netem.log" | sed "s/^/tun relay packets: /"
    rm -rf "$work"
}
trap cleanup EXIT
python3 scripts/netem/tun_netem.py --ns "$ns" --loss "$loss" --delay-ms "$delay" >"$work/netem.log" 2>&1 &
netem_pid=$!
for _ in $(seq 50); do grep -q '^ready' "$work/netem.log" && break; sleep 0.1; done
grep -q '^ready' "$work/netem.log" || die "tun_netem did not start: $(cat "$work/netem.log")"
read -r _ host_addr _ < <(grep '^ready' "$work/netem.log")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])')
target/debug/ovhost --bind "$host_addr" --public-ip "$host_addr" --http-port "$port" \
    --asset-root examples/stages --stage sample_yup.usda --renderer "$renderer" \
    --frontend-dir frontend/dist --transport web,webrtc --webrtc-udp-port 0 \
    --width 1280 --height 720 >"$work/host.log" 2>&1 &
host_pid=$!
for _ in $(seq 100); do curl -sf "http://$host_addr:$port/healthz" >/dev/null && break; sleep 0.2; done
log "loss $loss each way, delay ${delay} ms each way, ${seconds} s per driver, 1280x720 $renderer"
ip netns exec "$ns" node frontend/bench/loss.mjs --url "http://$host_addr:$port" --seconds "$seconds"
