"""Reference implementation of the Xiao et al. variants with Pillow + NumPy, for bench/variants.ts.

Same inputs, operations and outputs as core/variants (decode each JPEG + PNG mask once, derive every variant
from the decoded arrays, write each variant as raw uint8 shards), so the images/s figures compare like with like.
Pairings for mixed_* are read from the TypeScript run (pairings.json) so the outputs can be compared pixel for pixel.

usage: variants.py <in9-root> <out-dir> <pairings.json> [processes]
prints one JSON object: seconds per stage and images.
"""
import json
import os
import sys
import time
from multiprocessing import Pool

import numpy as np
from PIL import Image

XIAO = ["original", "only_bg_b", "only_bg_t", "no_fg", "only_fg", "mixed_same", "mixed_rand", "mixed_next"]


def list_images(root):
    items = []
    split_dir = os.path.join(root, "original", "val")
    for label, cls in enumerate(sorted(os.listdir(split_dir))):
        for f in sorted(os.listdir(os.path.join(split_dir, cls))):
            stem = os.path.splitext(f)[0]
            items.append((f"val/{cls}/{stem}", label, os.path.join(split_dir, cls, f), os.path.join(root, "fg_mask", "val", cls, stem + ".png")))
    return items


def decode(item):
    _id, _label, image, mask = item
    rgb = np.asarray(Image.open(image).convert("RGB"), dtype=np.uint8)
    m = np.asarray(Image.open(mask).getchannel(0), dtype=np.uint8)
    return rgb, (m > m.max() / 2) if m.max() > 0 else np.zeros_like(m, dtype=bool)


def bbox(mask):
    ys, xs = np.nonzero(mask)
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


def largest_bg_rect(mask):
    """Largest all-background rectangle, histogram-stack method (same scan and tie-breaking as morphology.ts)."""
    h, w = mask.shape
    heights = np.zeros(w, dtype=np.int64)
    best, rect = 0, None
    for y in range(h):
        heights = np.where(mask[y], 0, heights + 1)
        hl = heights.tolist() + [0]
        stack = []
        for x in range(w + 1):
            hx = hl[x]
            while stack and hl[stack[-1]] >= hx:
                top = stack.pop()
                hh = hl[top]
                left = stack[-1] + 1 if stack else 0
                area = hh * (x - left)
                if area > best:
                    best, rect = area, (left, y - hh + 1, x, y + 1)
            stack.append(x)
    return rect


def only_bg_b(rgb, mask, box):
    out = rgb.copy()
    x0, y0, x1, y1 = box
    out[y0:y1, x0:x1] = 0
    return out


def only_bg_t(rgb, mask, box):
    out = only_bg_b(rgb, mask, box)
    rect = largest_bg_rect(mask)
    if rect is None:
        return out
    rx0, ry0, rx1, ry1 = rect
    x0, y0, x1, y1 = box
    tile = rgb[ry0:ry1, rx0:rx1]
    reps = (-(-(y1 - y0) // tile.shape[0]), -(-(x1 - x0) // tile.shape[1]), 1)
    out[y0:y1, x0:x1] = np.tile(tile, reps)[: y1 - y0, : x1 - x0]
    return out


def paste(rgb, mask, background):
    return np.where(mask[..., None], rgb, background)


def run_variant(name, images, pairs):
    outs = []
    for i, (rgb, mask, box) in enumerate(images):
        if name == "original":
            out = rgb.copy()
        elif name == "only_bg_b":
            out = only_bg_b(rgb, mask, box)
        elif name == "only_bg_t":
            out = only_bg_t(rgb, mask, box)
        elif name == "no_fg":
            out = np.where(mask[..., None], 0, rgb).astype(np.uint8)
        elif name == "only_fg":
            out = np.where(mask[..., None], rgb, 0).astype(np.uint8)
        else:
            d_rgb, d_mask, d_box = images[pairs[name][i]]
            out = paste(rgb, mask, only_bg_t(d_rgb, d_mask, d_box))
        outs.append(out)
    return outs


def work(args):
    """One chunk of images, every variant: what one process does."""
    chunk, all_items, pairs, out_dir, tag = args
    needed = sorted(set(chunk) | {pairs[v][i] for v in pairs for i in chunk})
    t0 = time.perf_counter()
    decoded = {}
    for j in needed:
        rgb, mask = decode(all_items[j])
        decoded[j] = (rgb, mask, bbox(mask))
    times = {"decode": time.perf_counter() - t0}
    for name in XIAO:
        t0 = time.perf_counter()
        outs = []
        for i in chunk:
            rgb, mask, box = decoded[i]
            if name in pairs:
                d_rgb, d_mask, d_box = decoded[pairs[name][i]]
                out = paste(rgb, mask, only_bg_t(d_rgb, d_mask, d_box))
            else:
                out = run_variant(name, [decoded[i]], {})[0]
            outs.append(np.ascontiguousarray(out))
            outs.append(np.where(mask, 255, 0).astype(np.uint8))
        with open(os.path.join(out_dir, f"{name}-{tag}.raw"), "wb") as f:
            for o in outs:
                f.write(o.tobytes())
        times[name] = time.perf_counter() - t0
    return times


def main():
    root, out_dir, pairings_file = sys.argv[1:4]
    procs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    os.makedirs(out_dir, exist_ok=True)
    items = list_images(root)
    index = {it[0]: i for i, it in enumerate(items)}
    with open(pairings_file) as f:
        raw_pairs = json.load(f)
    pairs = {v: [index[p] for p in raw_pairs[v]] for v in raw_pairs}
    n = len(items)
    chunks = [list(range(k, n, procs)) for k in range(procs)]
    t0 = time.perf_counter()
    jobs = [(c, items, pairs, out_dir, str(k)) for k, c in enumerate(chunks)]
    if procs == 1:
        results = [work(jobs[0])]
    else:
        with Pool(procs) as pool:
            results = pool.map(work, jobs)
    wall = time.perf_counter() - t0
    stages = {k: max(r[k] for r in results) for k in results[0]}
    print(json.dumps({"images": n, "processes": procs, "wall": wall, "stages": stages}))


if __name__ == "__main__":
    main()
