"""Decodes the probe's RTSP stream with OpenCV/FFmpeg and counts frames. Prints one JSON line."""
import json
import sys
import time

import cv2

url, seconds = sys.argv[1], float(sys.argv[2])
start = time.time()
cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG)
opened = cap.isOpened()
frames, shape, first = 0, None, None
end = time.time() + seconds
while opened and time.time() < end:
    ok, img = cap.read()
    if not ok:
        time.sleep(0.01)
        continue
    if first is None:
        first = time.time() - start
    frames += 1
    shape = list(img.shape)
cap.release()
print(json.dumps({"client": "opencv-ffmpeg rtsp", "ok": frames > 0, "opened": opened, "frames": frames,
                  "fps_decoded": frames / seconds, "shape": shape, "first_frame_s": first}))
