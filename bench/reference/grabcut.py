"""Reference for `npm run bench:masks`: OpenCV's own cv2.grabCut on the same images and the same initial labels.

usage: python3 grabcut.py <dir> <n> <size> <iterations>
reads <dir>/rgb.bin (n x size x size x 3) and <dir>/init.bin (n x size x size GrabCut labels), writes
<dir>/py-masks.bin (0/255) and prints {"seconds": ..., "opencv": ...} as JSON.
"""
import json
import sys
import time

import cv2
import numpy as np

d, n, size, iterations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cv2.setNumThreads(1)
rgb = np.fromfile(f"{d}/rgb.bin", dtype=np.uint8).reshape(n, size, size, 3)
init = np.fromfile(f"{d}/init.bin", dtype=np.uint8).reshape(n, size, size)
out = np.zeros((n, size, size), dtype=np.uint8)
t0 = time.perf_counter()
for i in range(n):
    mask = init[i].copy()
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    cv2.grabCut(np.ascontiguousarray(rgb[i]), mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    out[i] = np.where((mask == 1) | (mask == 3), 255, 0)
seconds = time.perf_counter() - t0
out.tofile(f"{d}/py-masks.bin")
print(json.dumps({"seconds": seconds, "opencv": cv2.__version__, "numpy": np.__version__, "python": sys.version.split()[0]}))
