"""Generator of a synthetic COCO instances file shaped like train2017.

Scale 1.0 gives 118,287 images and 860,001 annotations (~99% polygons of 1-3 parts with
two-decimal coordinates, ~1% crowd regions as uncompressed RLE), non-contiguous category ids
1..90 with COCO's gaps, and the image fields COCO carries (license, coco_url, flickr_url,
date_captured). The file is written record by record, in bounded memory.
"""

from __future__ import annotations

import os
from typing import IO, Any

import numpy as np
import orjson

IMAGES_FULL = 118_287
ANNOTATIONS_FULL = 860_001
_MISSING = {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}
CATEGORY_IDS = [i for i in range(1, 91) if i not in _MISSING]


def _polygon(rng: np.random.Generator, w: int, h: int) -> tuple[list[list[float]], list[float],
                                                                 float]:
    parts = []
    area = 0.0
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    r = rng.uniform(5, min(w, h) / 3)
    for _ in range(1 if rng.random() < 0.9 else int(rng.integers(2, 4))):
        n = int(rng.integers(8, 36))
        ang = np.sort(rng.uniform(0, 2 * np.pi, n))
        rad = r * rng.uniform(0.6, 1.0, n)
        x = np.clip(cx + rad * np.cos(ang), 0, w - 1)
        y = np.clip(cy + rad * np.sin(ang), 0, h - 1)
        ring = np.empty(2 * n)
        ring[0::2], ring[1::2] = np.round(x, 2), np.round(y, 2)
        parts.append(ring.tolist())
        area += 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
        cx, cy = cx + rng.uniform(-r, r), cy + rng.uniform(-r, r)
    allx = np.concatenate([np.asarray(p[0::2]) for p in parts])
    ally = np.concatenate([np.asarray(p[1::2]) for p in parts])
    x0, y0 = float(allx.min()), float(ally.min())
    box = [round(x0, 2), round(y0, 2), round(float(allx.max()) - x0, 2),
           round(float(ally.max()) - y0, 2)]
    return parts, box, round(area, 5)


def _crowd(rng: np.random.Generator, w: int, h: int) -> tuple[dict[str, Any], list[float], int]:
    """A crowd region as uncompressed RLE: per column of a box, ones from a ragged top down."""
    x0, y0 = int(rng.integers(0, w // 2)), int(rng.integers(0, h // 2))
    bw, bh = int(rng.integers(10, w - x0)), int(rng.integers(10, h - y0))
    tops = rng.integers(0, bh // 3 + 1, bw)
    counts = [x0 * h + y0 + int(tops[0])]
    for c in range(bw):
        if c:
            counts.append(h - bh + int(tops[c]))
        counts.append(bh - int(tops[c]))
    counts.append(h * w - sum(counts))
    area = int(bw * bh - tops.sum())
    top = int(tops.min())
    box = [float(x0), float(y0 + top), float(bw), float(bh - top)]
    return {"size": [h, w], "counts": counts}, box, area


def _write_array(f: IO[bytes], records: Any) -> None:
    f.write(b"[")
    first = True
    for rec in records:
        if not first:
            f.write(b",")
        first = False
        f.write(orjson.dumps(rec))
    f.write(b"]")


def generate(path: str | os.PathLike[str], scale: float = 1.0, seed: int = 0) -> dict[str, int]:
    """Write a train2017-shaped COCO file; returns counts and size in bytes."""
    rng = np.random.default_rng(seed)
    n_img = max(1, round(IMAGES_FULL * scale))
    n_ann = max(1, round(ANNOTATIONS_FULL * scale))
    sizes = rng.choice([(640, 480), (480, 640), (640, 427), (500, 375), (640, 640)], n_img)
    image_ids = np.sort(rng.choice(600_000, n_img, replace=False)) + 9
    owner = np.sort(rng.integers(0, n_img, n_ann))

    def images() -> Any:
        for i in range(n_img):
            w, h = (int(v) for v in sizes[i])
            iid = int(image_ids[i])
            yield {"license": int(rng.integers(1, 9)), "file_name": f"{iid:012d}.jpg",
                   "coco_url": f"http://images.cocodataset.org/train2017/{iid:012d}.jpg",
                   "height": h, "width": w, "date_captured": "2013-11-14 16:28:13",
                   "flickr_url": f"http://farm4.staticflickr.com/3153/{iid}_3ad8f1e6f1_z.jpg",
                   "id": iid}

    def annotations() -> Any:
        for k in range(n_ann):
            i = int(owner[k])
            w, h = (int(v) for v in sizes[i])
            if rng.random() < 0.01:
                seg, box, area = _crowd(rng, w, h)
                crowd = 1
            else:
                seg, box, area = _polygon(rng, w, h)  # type: ignore[assignment]
                crowd = 0
            yield {"segmentation": seg, "area": area, "iscrowd": crowd,
                   "image_id": int(image_ids[i]), "bbox": box,
                   "category_id": int(CATEGORY_IDS[int(rng.integers(0, 80))]),
                   "id": 900_000 + k * 3}

    with open(path, "wb") as f:
        f.write(b'{"info":')
        f.write(orjson.dumps({"description": "synthetic train2017-scale COCO", "url": "",
                              "version": "1.0", "year": 2017, "contributor": "groundtruth bench",
                              "date_created": "2017/09/01"}))
        f.write(b',"licenses":')
        f.write(orjson.dumps([{"url": f"http://creativecommons.org/licenses/{i}", "id": i,
                               "name": f"License {i}"} for i in range(1, 9)]))
        f.write(b',"images":')
        _write_array(f, images())
        f.write(b',"annotations":')
        _write_array(f, annotations())
        f.write(b',"categories":')
        _write_array(f, ({"supercategory": f"super{c // 10}", "id": c, "name": f"class{c}"}
                         for c in CATEGORY_IDS))
        f.write(b"}")
    return {"images": n_img, "annotations": n_ann, "bytes": os.path.getsize(path)}
