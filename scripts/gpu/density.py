#!/usr/bin/env python3
"""Session density and input-to-display latency on one machine (issue 13), standard library only.

Density: N sessions, each one `ovhost` process (raster renderer, `--continuous-frames`, so every
session renders and encodes every interval, as while a user orbits) with one H.264 client over
`/ws`. Sessions are added in steps (`--steps 24,32,40,48`); after each step every client's
received frame rate is measured over `--seconds`, with the machine's CPU use from /proc/stat.
A step "holds" when every session gets >= `--hold-fps`. Prints one `BENCH density ...` line per
step and a JSON line with the details.

Latency (`--latency`): one host, one client sending a pointer drag (orbit) with an increasing
`seq` every `--latency-interval-ms`; the time from sending an input to receiving the first video
frame whose header echoes that `seq` (frame arrival; decoding is not included). Prints
`BENCH input_to_display ...` with p50/p95.

Usage (GPU machine): density.py --bin ovhost --stages DIR --size 1920x1080 --steps 24,32,40,48
"""

import argparse
import base64
import json
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import urllib.request


class Ws:
    """A minimal WebSocket client (RFC 6455): text out (masked), binary/text in."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head.decode(errors="replace"))
        self.lock = threading.Lock()

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        """(opcode, payload) of the next whole message."""
        payload, opcode = b"", None
        while True:
            b0, b1 = self._read(2)
            op, fin = b0 & 0x0F, b0 & 0x80
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            data = self._read(n)
            if op == 0x9:  # ping
                self._send(0xA, data)
                continue
            if op in (0x1, 0x2):
                opcode = op
            payload += data
            if op == 0x8:
                raise ConnectionError("closed by the host")
            if fin:
                return opcode, payload

    def _send(self, opcode, data):
        mask = os.urandom(4)
        n = len(data)
        header = bytes([0x80 | opcode])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        with self.lock:
            self.sock.sendall(header + mask + masked)

    def send_json(self, event_type, payload):
        self._send(0x1, json.dumps({"event_type": event_type, "payload": payload}).encode())

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def healthy(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
            return r.status == 200
    except Exception:
        return False


def state(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state", timeout=3) as r:
        return json.load(r)


class Session:
    def __init__(self, args, index, log_dir):
        self.port = args.base_port + index
        self.log_path = os.path.join(log_dir, f"host{index}.log")
        cmd = [
            args.bin, "--http-port", str(self.port), "--renderer", "raster", "--asset-root", args.stages,
            "--stage", args.stage, "--width", str(args.width), "--height", str(args.height), "--fps", str(args.fps),
        ] + ([] if args.on_demand else ["--continuous-frames"]) + args.host_arg
        env = dict(os.environ, NO_COLOR="1")
        if args.yuv:
            env["OVHOST_RASTER_YUV"] = args.yuv
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(self.log_path, "w"), env=env)
        self.render_settings = args.render_setting
        self.frames = []  # (arrival time, bytes, input seq)
        self.ws = None
        self.error = None

    def connect(self):
        self.ws = Ws(self.port)
        self.ws.send_json("hello", {"client": "density", "video": {"codecs": ["h264"]}})
        for setting in self.render_settings:
            key, value = setting.split("=", 1)
            self.ws.send_json("setRenderSettingRequest", {"key": key, "value": json.loads(value)})
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            while True:
                op, data = self.ws.recv()
                if op == 0x2 and data[:4] == b"OVHF":
                    self.frames.append((time.monotonic(), len(data), struct.unpack_from("<I", data, 32)[0]))
        except Exception as e:  # noqa: BLE001 - reported with the step's figures
            self.error = str(e)

    def fps(self, start, end):
        return sum(1 for t, _, _ in self.frames if start <= t < end) / (end - start)

    def stop(self):
        if self.ws:
            self.ws.close()
        self.proc.send_signal(signal.SIGINT)


def cpu_times():
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields), idle


def gpu_util():
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits"],
            capture_output=True, text=True, timeout=10,
        ).stdout.strip()
        util, mem = out.split(",")[:2]
        return int(util), int(mem)
    except Exception:  # noqa: BLE001 - no NVIDIA tool here
        return None, None


def sm_sum():
    """The sum of every process's SM occupancy from `nvidia-smi pmon` (one sample), and how many
    processes it listed: with many contexts, GPU utilization can read 99 % while the SMs are
    mostly idle, the time going to switching between contexts."""
    try:
        out = subprocess.run(["nvidia-smi", "pmon", "-c", "1", "-s", "u"], capture_output=True, text=True, timeout=15).stdout
    except Exception:  # noqa: BLE001 - no NVIDIA tool here
        return None, 0
    total, procs = 0, 0
    for line in out.splitlines():
        cols = line.split()
        if not cols or line.startswith("#") or len(cols) < 4:
            continue
        procs += 1
        if cols[3].isdigit():
            total += int(cols[3])
    return total, procs


def wait_healthy(sessions, timeout):
    deadline = time.monotonic() + timeout
    for s in sessions:
        while not healthy(s.port):
            if s.proc.poll() is not None or time.monotonic() > deadline:
                tail = open(s.log_path).read()[-1500:]
                raise RuntimeError(f"host on port {s.port} did not become ready:\n{tail}")
            time.sleep(0.1)


def density(args):
    log_dir = args.log_dir
    os.makedirs(log_dir, exist_ok=True)
    for name in os.listdir(log_dir):
        os.remove(os.path.join(log_dir, name))
    sessions, results = [], []
    deadline = time.monotonic() + args.budget_s
    try:
        for step in args.steps:
            if time.monotonic() > deadline:
                print(f"# budget spent: step {step} not run", flush=True)
                break
            new = []
            while len(sessions) + len(new) < step:
                new.append(Session(args, len(sessions) + len(new), log_dir))
                if len(new) % 8 == 0:  # start in batches: device creation is heavy
                    wait_healthy(new[-8:], 60)
            wait_healthy(new, 60)
            for s in new:
                s.connect()
            sessions += new
            time.sleep(args.warmup)
            t0 = time.monotonic()
            c0 = cpu_times()
            time.sleep(args.seconds)
            t1 = time.monotonic()
            c1 = cpu_times()
            util, mem = gpu_util()
            sm, sm_procs = sm_sum()
            fps = sorted(s.fps(t0, t1) for s in sessions)
            busy = 1 - (c1[1] - c0[1]) / max(1, c1[0] - c0[0])
            holding = sum(1 for f in fps if f >= args.hold_fps)
            render_ms = []
            convert_ms = []
            for s in sessions[:4]:
                try:
                    st = state(s.port)["stats"]
                    render_ms.append(st["render_ms"])
                    convert_ms.append(st["convert_ms"])
                except Exception:  # noqa: BLE001
                    pass
            row = {
                "size": f"{args.width}x{args.height}", "sessions": step, "holding": holding,
                "all_hold": holding == step, "fps_min": round(fps[0], 2), "fps_median": round(statistics.median(fps), 2),
                "cpu_pct": round(100 * busy, 1), "gpu_util_pct": util, "gpu_mem_mib": mem,
                "sm_sum_pct": sm, "pmon_processes": sm_procs,
                "render_ms_sample": [round(x, 2) for x in render_ms], "convert_ms_sample": [round(x, 2) for x in convert_ms],
                "errors": [s.error for s in sessions if s.error][:3], "yuv": args.yuv or os.environ.get("OVHOST_RASTER_YUV", "auto"),
            }
            results.append(row)
            print(
                f"BENCH density size={row['size']} sessions={step} holding_{args.hold_fps:g}fps={holding} "
                f"all_hold={row['all_hold']} fps_min={row['fps_min']} fps_median={row['fps_median']} "
                f"cpu_pct={row['cpu_pct']} gpu_util_pct={util} sm_sum_pct={sm} yuv={row['yuv']}",
                flush=True,
            )
            print(json.dumps(row), flush=True)
            if not row["all_hold"] and args.stop_when_dropping:
                break
    finally:
        for s in sessions:
            s.stop()
        for s in sessions:
            try:
                s.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                s.proc.kill()
    held = [r["sessions"] for r in results if r["all_hold"]]
    print(f"BENCH density_max size={args.width}x{args.height} sessions_holding_{args.hold_fps:g}fps={max(held) if held else 0} "
          f"(steps {','.join(str(r['sessions']) for r in results)})", flush=True)


def latency(args):
    os.makedirs(args.log_dir, exist_ok=True)
    args.on_demand = True  # frames follow input, as for a viewer
    s = Session(args, 0, args.log_dir)
    try:
        wait_healthy([s], 60)
        s.connect()
        time.sleep(2)
        cx, cy = args.width // 2, args.height // 2
        s.ws.send_json("input", {"events": [{"type": "pointerdown", "x": cx, "y": cy, "button": 0, "buttons": 1}]})
        sent = {}
        interval = args.latency_interval_ms / 1000
        end = time.monotonic() + args.seconds
        seq, x, step = 0, cx, 4
        while time.monotonic() < end:
            seq += 1
            if not 8 < x + step < args.width - 8:
                step = -step
            x += step
            sent[seq] = time.monotonic()
            s.ws.send_json("input", {"seq": seq, "events": [
                {"type": "pointermove", "x": x, "y": cy, "dx": step, "dy": 0, "buttons": 1}]})
            time.sleep(interval)
        time.sleep(0.5)
        s.ws.send_json("input", {"events": [{"type": "pointerup", "x": x, "y": cy, "button": 0, "buttons": 0}]})
        # First frame echoing each seq (or a later one: moves are coalesced per frame).
        lat = []
        frames = list(s.frames)
        j = 0
        for q in sorted(sent):
            while j < len(frames) and frames[j][2] < q:
                j += 1
            if j < len(frames):
                lat.append(1000 * (frames[j][0] - sent[q]))
        lat.sort()
        p = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] if lat else float("nan")  # noqa: E731
        print(f"BENCH input_to_display size={args.width}x{args.height} fps={args.fps} samples={len(lat)} p50_ms={p(0.5):.1f} "
              f"p95_ms={p(0.95):.1f} max_ms={lat[-1] if lat else float('nan'):.1f} yuv={args.yuv or os.environ.get('OVHOST_RASTER_YUV', 'auto')}",
              flush=True)
    finally:
        s.stop()
        try:
            s.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            s.proc.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--stages", required=True, help="asset root holding --stage")
    ap.add_argument("--stage", default="sample_yup.usda")
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--steps", default="24,32,40,48")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--warmup", type=float, default=4.0)
    ap.add_argument("--fps", type=int, default=30, help="each host's --fps")
    ap.add_argument("--hold-fps", type=float, default=29.0)
    ap.add_argument("--base-port", type=int, default=19000)
    ap.add_argument("--budget-s", type=float, default=240.0, help="start no new step after this")
    ap.add_argument("--stop-when-dropping", action="store_true")
    ap.add_argument("--on-demand", action="store_true", help="no --continuous-frames")
    ap.add_argument("--latency", action="store_true")
    ap.add_argument("--latency-interval-ms", type=float, default=16.0)
    ap.add_argument("--log-dir", default="/tmp/ovh-density")
    ap.add_argument("--yuv", choices=["auto", "gpu", "cpu"], help="OVHOST_RASTER_YUV for the hosts")
    ap.add_argument("--host-arg", action="append", default=[], help="extra ovhost argument (repeatable)")
    ap.add_argument("--render-setting", action="append", default=[], metavar="KEY=JSON",
                    help="a renderer setting each client sets after hello (repeatable), e.g. render_mode=\"flat\"")
    args = ap.parse_args()
    args.width, args.height = (int(v) for v in args.size.split("x"))
    args.steps = [int(v) for v in args.steps.split(",")]
    (latency if args.latency else density)(args)


if __name__ == "__main__":
    sys.exit(main())
