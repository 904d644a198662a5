"""A standards WebRTC client (aiortc, with PyAV decoding H.264) against ovhost's webrtc transport.

Negotiates through `POST /api/webrtc` (WHEP-shaped), receives and decodes the video track,
speaks the app protocol over the data channel (`hello`, then optionally a camera drag), and
prints one JSON object with what it saw. The Rust tests assert on that object.

Usage: aiortc_client.py URL [--seconds S] [--drag] [--relay-port P]
  URL           the host's HTTP root, e.g. http://127.0.0.1:8080
  --seconds S   how long to receive video after the first frame (default 4)
  --drag        after the first second, drag the camera over the data channel and report the
                change of the picture it caused
  --burst N     send N getPluginsRequest at once and count the pluginsResult replies
  --relay       route the media through a lossy UDP relay run in this process:
                --loss (fraction), --delay-ms, --limit-kbps (for --limit-seconds, starting at
                --limit-at seconds after the first frame)
"""

import argparse
import asyncio
import json
import random
import sys
import time
import urllib.error
import urllib.request

from aiortc import RTCPeerConnection, RTCSessionDescription


def http(method, url, body=None, content_type=None):
    req = urllib.request.Request(url, data=body, method=method)
    if content_type:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8", "replace")


def luma_sample(frame):
    """Every 7th byte of the Y plane: enough to tell pictures apart without numpy."""
    plane = frame.planes[0]
    data = bytes(plane)
    return data[:: 7]


def mean_abs_diff(a, b):
    n = min(len(a), len(b))
    if n == 0:
        return 0.0
    return sum(abs(a[i] - b[i]) for i in range(n)) / n


class LossyRelay(asyncio.DatagramProtocol):
    """A UDP relay between the client and the host: drops `loss` of packets, delays every packet
    by `delay` seconds, and (while `limit_bps` is set) drops what exceeds that rate."""

    def __init__(self, host_addr, loss, delay):
        self.host_addr = host_addr
        self.loss = loss
        self.delay = delay
        self.limit_bps = None
        self.client_addr = None
        self.transport = None
        self.bucket = 0.0
        self.bucket_time = time.monotonic()
        self.dropped = 0
        self.forwarded = 0

    def connection_made(self, transport):
        self.transport = transport

    def _over_limit(self, size):
        if self.limit_bps is None:
            return False
        now = time.monotonic()
        # Token bucket holding at most 50 ms of traffic.
        rate = self.limit_bps / 8.0
        self.bucket = min(rate * 0.05, self.bucket + (now - self.bucket_time) * rate)
        self.bucket_time = now
        if self.bucket < size:
            return True
        self.bucket -= size
        return False

    def datagram_received(self, data, addr):
        loop = asyncio.get_event_loop()
        if addr == self.host_addr:
            dest = self.client_addr
            if dest is None:
                return
            if self._over_limit(len(data)):
                self.dropped += 1
                return
        else:
            self.client_addr = addr
            dest = self.host_addr
        if random.random() < self.loss:
            self.dropped += 1
            return
        self.forwarded += 1
        loop.call_later(self.delay, self.transport.sendto, data, dest)


async def run(args):
    base = args.url.rstrip("/")
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    channel = pc.createDataChannel("ovhost")
    messages = []
    frames = []  # (time, width, height, sample)
    first_frame = asyncio.get_event_loop().create_future()
    channel_open = asyncio.get_event_loop().create_future()
    result = {"frames_decoded": 0, "messages": [], "errors": []}

    @channel.on("open")
    def on_open():
        if not channel_open.done():
            channel_open.set_result(True)

    @channel.on("message")
    def on_message(message):
        if isinstance(message, str):
            try:
                messages.append(json.loads(message))
            except ValueError:
                result["errors"].append("non-JSON message: " + message[:200])

    async def receive(track):
        while True:
            try:
                frame = await track.recv()
            except Exception:  # the track ended
                return
            now = time.monotonic()
            frames.append((now, frame.width, frame.height, luma_sample(frame) if len(frames) % 3 == 0 or args.drag else None))
            if not first_frame.done():
                first_frame.set_result(now)

    @pc.on("track")
    def on_track(track):
        if track.kind == "video":
            asyncio.ensure_future(receive(track))

    await pc.setLocalDescription(await pc.createOffer())
    status, headers, answer = http("POST", base + "/api/webrtc", pc.localDescription.sdp.encode(), "application/sdp")
    result["post_status"] = status
    location = headers.get("Location") or headers.get("location")
    result["location"] = location
    if status != 201:
        result["errors"].append(f"POST /api/webrtc answered {status}: {answer}")
        print(json.dumps(result))
        return 1

    relay = None
    if args.relay:
        # Point the client at the relay instead of the host's candidate: rewrite the answer's
        # candidates to the relay's address.
        lines = answer.split("\r\n")
        host_addr = None
        for line in lines:
            if line.startswith("a=candidate:"):
                parts = line.split()
                host_addr = (parts[4], int(parts[5]))
                break
        if host_addr is None:
            result["errors"].append("the answer has no candidate")
            print(json.dumps(result))
            return 1
        loop = asyncio.get_event_loop()
        transport, relay = await loop.create_datagram_endpoint(
            lambda: LossyRelay(host_addr, args.loss, args.delay_ms / 1000.0), local_addr=("127.0.0.1", 0)
        )
        relay_port = transport.get_extra_info("sockname")[1]
        answer = "\r\n".join(
            " ".join(p if i != 5 else str(relay_port) for i, p in enumerate(l.split())) if l.startswith("a=candidate:") else l
            for l in lines
        )

    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    try:
        await asyncio.wait_for(channel_open, 15)
    except asyncio.TimeoutError:
        result["errors"].append("the data channel did not open within 15 s")
    if channel_open.done():
        channel.send(json.dumps({"event_type": "hello", "payload": {"client": "aiortc", "video": {"codecs": ["h264"]}}}))
    try:
        t0 = await asyncio.wait_for(first_frame, 20)
    except asyncio.TimeoutError:
        result["errors"].append("no video frame decoded within 20 s")
        t0 = None
    # The host's own send count at the first frame: with the one at the end it gives the frame
    # rate the host delivered over the same window as the decoded one.
    sent_at_first = (session_stats(base, location) or {}).get("frames_sent")

    if t0 is not None and args.burst > 0:
        # Many requests at once: every reply must arrive, in a burst far larger than the data
        # channel's send buffer.
        before = sum(1 for m in messages if m.get("event_type") == "pluginsResult")
        for _ in range(args.burst):
            channel.send(json.dumps({"event_type": "getPluginsRequest", "payload": {}}))
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            got = sum(1 for m in messages if m.get("event_type") == "pluginsResult") - before
            if got >= args.burst:
                break
            await asyncio.sleep(0.1)
        result["burst_replies"] = sum(1 for m in messages if m.get("event_type") == "pluginsResult") - before
        result["burst_reply_bytes"] = len(json.dumps(next((m for m in messages if m.get("event_type") == "pluginsResult"), {})))

    if t0 is not None:
        if args.drag:
            await asyncio.sleep(1.0)
            still_a = frames[-1][3]
            await asyncio.sleep(0.5)
            still_b = frames[-1][3]
            result["still_diff"] = mean_abs_diff(still_a, still_b)
            seq = 1
            events = [{"type": "pointerdown", "x": 200, "y": 200, "button": 0, "buttons": 1}]
            for i in range(1, 16):
                events.append({"type": "pointermove", "x": 200 + 12 * i, "y": 200 + 3 * i, "dx": 12, "dy": 3, "buttons": 1})
            events.append({"type": "pointerup", "x": 380, "y": 245, "button": 0, "buttons": 0})
            for e in events:
                channel.send(json.dumps({"event_type": "input", "payload": {"seq": seq, "events": [e]}}))
                seq += 1
                await asyncio.sleep(0.02)
            await asyncio.sleep(1.0)
            moved = frames[-1][3]
            result["moved_diff"] = mean_abs_diff(still_b, moved)
        if args.limit_kbps and relay is not None:
            await asyncio.sleep(args.limit_at)
            phase_start = t0 + 1.0  # leave the first second (join, first keyframe) out
            in_phase = [f for f in frames if f[0] >= phase_start]
            result["fps_before_limit"] = round(len(in_phase) / max(0.001, time.monotonic() - phase_start), 2)
            result["estimate_before_limit_bps"] = session_estimate(base, location)
            relay.limit_bps = args.limit_kbps * 1000
            await asyncio.sleep(args.limit_seconds)
            result["estimate_under_limit_bps"] = session_estimate(base, location)
            relay.limit_bps = None
            await asyncio.sleep(args.recover_seconds)
            result["estimate_after_limit_bps"] = session_estimate(base, location)
        else:
            remaining = args.seconds - (time.monotonic() - t0)
            if remaining > 0:
                await asyncio.sleep(remaining)

    end = time.monotonic()
    result["frames_decoded"] = len(frames)
    if frames:
        span = end - frames[0][0]
        result["seconds"] = round(span, 3)
        result["fps"] = round(len(frames) / span, 2) if span > 0 else 0
        result["width"], result["height"] = frames[-1][1], frames[-1][2]
        gaps = [b[0] - a[0] for a, b in zip(frames, frames[1:])]
        result["freezes"] = sum(1 for g in gaps if g > 0.2)
        quarter = end - span / 4
        result["frames_last_quarter"] = sum(1 for f in frames if f[0] >= quarter)
        result["max_gap_ms"] = round(max(gaps) * 1000, 1) if gaps else 0
    result["messages"] = [m.get("event_type") for m in messages]
    hello = next((m for m in messages if m.get("event_type") == "helloResult"), None)
    result["hello_result"] = hello["payload"] if hello else None
    if relay is not None:
        result["relay"] = {"dropped": relay.dropped, "forwarded": relay.forwarded}
    result["session_stats"] = session_stats(base, location)
    sent_at_end = (result["session_stats"] or {}).get("frames_sent")
    if frames and sent_at_first is not None and sent_at_end is not None and span > 0:
        result["host_fps"] = round((sent_at_end - sent_at_first) / span, 2)
    if location:
        status, _, body = http("DELETE", base + location)
        result["delete_status"] = status
    await pc.close()
    print(json.dumps(result))
    return 0


def session_stats(base, location):
    if not location:
        return None
    status, _, body = http("GET", base + "/api/webrtc")
    if status != 200:
        return None
    session = location.rsplit("/", 1)[-1]
    for s in json.loads(body).get("sessions", []):
        if s.get("session") == session:
            return s
    return None


def session_estimate(base, location):
    stats = session_stats(base, location)
    return stats.get("estimate_bps") if stats else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--drag", action="store_true")
    parser.add_argument("--burst", type=int, default=0)
    parser.add_argument("--relay", action="store_true")
    parser.add_argument("--loss", type=float, default=0.0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--limit-kbps", type=float, default=0.0)
    parser.add_argument("--limit-at", type=float, default=5.0)
    parser.add_argument("--limit-seconds", type=float, default=10.0)
    parser.add_argument("--recover-seconds", type=float, default=15.0)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
