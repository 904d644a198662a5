"""Reads the probe's SHM stream with the wheel's own Python client and checks the test pattern
(same formula as host/ovstream/src/testpattern.rs). Prints one JSON line."""
import json
import sys
import time

import ovstream

name, seconds = sys.argv[1], float(sys.argv[2])


def pixel(x, y, i):
    return bytes([(x + i * 3) & 0xFF, (y + i) & 0xFF, ((x ^ y) >> 2) & 0xFF, 255])


deadline = time.time() + 10
while True:
    try:
        client = ovstream.Client(ovstream.ClientType.SHM, stream_name=name)
        break
    except Exception as e:  # producer not up yet
        if time.time() > deadline:
            print(json.dumps({"client": "python-shm", "ok": False, "error": str(e)}))
            sys.exit(1)
        time.sleep(0.1)
frames = bad = 0
end = time.time() + seconds
with client:
    while time.time() < end:
        f = client.wait_frame(timeout_ms=500)
        if f is None:
            continue
        buf = bytes(f.as_buffer())
        frames += 1
        index = buf[0] | buf[1] << 8 | buf[2] << 16
        for k in range(1, 65):
            x, y = (k * 7919) % f.width, (k * 104729) % f.height
            off = y * f.pitch_bytes + x * 4
            if buf[off:off + 4] != pixel(x, y, index):
                bad += 1
                break
print(json.dumps({"client": "python-shm (wheel ovstream.Client)", "ok": frames > 0 and bad == 0, "frames": frames,
                  "fps_received": frames / seconds, "bad_frames": bad, "width": f.width, "height": f.height}))
