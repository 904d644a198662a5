#!/usr/bin/env python3
"""Opens an MP4 with PyAV (FFmpeg's demuxer and H.264 decoder, written by others) and prints
what it found as JSON: container format, codec, size, decoded frame count, keyframes and
duration. Used by host/tests/capture.rs to check ovhost's recordings. Exits 1 if the file does
not open or no frame decodes."""

import json
import sys

import av


def main(path: str) -> int:
    with av.open(path) as container:
        stream = container.streams.video[0]
        frames = 0
        keyframes = 0
        first = last = None
        for frame in container.decode(stream):
            frames += 1
            keyframes += int(frame.key_frame)
            t = float(frame.pts * stream.time_base) if frame.pts is not None else None
            if first is None:
                first = t
            last = t
        report = {
            "format": container.format.name,
            "codec": stream.codec_context.name,
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
            "frames": frames,
            "keyframes": keyframes,
            "first_pts_s": first,
            "last_pts_s": last,
            "duration_s": float(stream.duration * stream.time_base) if stream.duration else None,
        }
    print(json.dumps(report))
    return 0 if frames > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
