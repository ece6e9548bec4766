"""Geometry for comparing regions: IoU of boxes, polygons and masks, OKS of keypoints.

Dependency-light (numpy only) so diff, agreement and evaluation code can share it. Conventions
follow the data model: pixel floats, origin at the top-left, pixel (c, r) covers
[c, c+1) x [r, r+1); boxes are `[x, y, w, h]`; polygons are flat `[x1, y1, x2, y2, ...]` rings,
several parts unioned and holes subtracted; masks are COCO RLE (column-major runs starting with
0s, counts as a list or COCO's compressed string).

Polygon IoU is computed by rasterising both shapes on a shared grid over their joint bounding box
(`resolution` cells along its longer side, default 512) with even-odd filling per ring, so its
error is about one cell along the outlines: below 1% for shapes wider than a few cells. No shapely.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

COCO_PERSON_SIGMAS: tuple[float, ...] = (
    0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072,
    0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
)  # fmt: skip
"""Per-keypoint OKS sigmas of the 17 COCO person keypoints (pycocotools' defaults)."""

DEFAULT_SIGMA = 0.05
"""OKS sigma for keypoint schemas other than COCO's person (the mean COCO sigma is ~0.062)."""


# -- boxes --------------------------------------------------------------------------------------


def box_iou(a: npt.ArrayLike, b: npt.ArrayLike) -> FloatArray:
    """IoU of every box in `a` (N x 4) with every box in `b` (M x 4), boxes `[x, y, w, h]`.

    Empty boxes (zero area) have IoU 0 with everything, including themselves.
    """
    aa = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    bb = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ax1, ay1 = aa[:, 0:1], aa[:, 1:2]
    ax2, ay2 = ax1 + aa[:, 2:3], ay1 + aa[:, 3:4]
    bx1, by1 = bb[:, 0], bb[:, 1]
    bx2, by2 = bx1 + bb[:, 2], by1 + bb[:, 3]
    iw = np.clip(np.minimum(ax2, bx2) - np.maximum(ax1, bx1), 0, None)
    ih = np.clip(np.minimum(ay2, by2) - np.maximum(ay1, by1), 0, None)
    inter = iw * ih
    union = (aa[:, 2] * aa[:, 3])[:, None] + (bb[:, 2] * bb[:, 3])[None, :] - inter
    return np.asarray(np.divide(inter, union, out=np.zeros_like(inter), where=union > 0))


def box_to_ring(box: Sequence[float], rotation: float | None = None) -> list[float]:
    """Corners of a box as a flat ring, rotated `rotation` degrees clockwise about its centre."""
    x, y, w, h = (float(v) for v in box)
    corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])
    if rotation:
        # Clockwise on screen (y down) is a positive angle in these coordinates.
        t = math.radians(rotation)
        c = np.array([x + w / 2, y + h / 2])
        rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
        corners = (corners - c) @ rot.T + c
    return [float(v) for v in corners.reshape(-1)]


# -- polygons -----------------------------------------------------------------------------------


def ring_area(ring: Sequence[float]) -> float:
    """Area of a simple ring by the shoelace formula (absolute value)."""
    xy = np.asarray(ring, dtype=np.float64).reshape(-1, 2)
    if len(xy) < 3:
        return 0.0
    x, y = xy[:, 0], xy[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def rings_bounds(rings: Sequence[Sequence[float]]) -> tuple[float, float, float, float] | None:
    """`(x_min, y_min, x_max, y_max)` of every vertex, or None when there is none."""
    pts = [np.asarray(r, dtype=np.float64).reshape(-1, 2) for r in rings if len(r) >= 2]
    if not pts:
        return None
    xy = np.concatenate(pts)
    return (float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()),
            float(xy[:, 1].max()))  # fmt: skip


def fill_ring(
    ring: Sequence[float], x0: float, y0: float, cell: float, nx: int, ny: int
) -> BoolArray:
    """Cells of an `ny x nx` grid (origin `(x0, y0)`, square cells) whose centres lie inside.

    Even-odd rule; an edge counts for the rows whose centre y is in [y_low, y_high), so a
    vertex on a scanline is counted once.
    """
    xy = np.asarray(ring, dtype=np.float64).reshape(-1, 2)
    if len(xy) < 3:
        return np.zeros((ny, nx), dtype=bool)
    # Grid coordinates in which cell centres sit on integers.
    gx = (xy[:, 0] - x0) / cell - 0.5
    gy = (xy[:, 1] - y0) / cell - 0.5
    xa, ya, xb, yb = gx, gy, np.roll(gx, -1), np.roll(gy, -1)
    lo, hi = np.minimum(ya, yb), np.maximum(ya, yb)
    r_lo = np.clip(np.ceil(lo), 0, ny).astype(np.int64)
    r_hi = np.clip(np.ceil(hi), 0, ny).astype(np.int64)
    n_rows = np.where(ya != yb, r_hi - r_lo, 0)
    total = int(n_rows.sum())
    parity = np.zeros((ny, nx + 1), dtype=np.int32)
    if total:
        edge = np.repeat(np.arange(len(xy)), n_rows)
        starts = np.cumsum(n_rows) - n_rows
        row = r_lo[edge] + (np.arange(total) - starts[edge])
        t = (row - ya[edge]) / (yb[edge] - ya[edge])
        x = xa[edge] + t * (xb[edge] - xa[edge])
        col = np.clip(np.floor(x).astype(np.int64) + 1, 0, nx)
        np.add.at(parity, (row, col), 1)
    return np.asarray(np.cumsum(parity, axis=1)[:, :nx] % 2 == 1)


def fill_polygon(
    parts: Sequence[Sequence[float]],
    holes: Sequence[Sequence[float]],
    x0: float,
    y0: float,
    cell: float,
    nx: int,
    ny: int,
) -> BoolArray:
    """Union of the parts minus the union of the holes, on the grid of `fill_ring`."""
    out = np.zeros((ny, nx), dtype=bool)
    for ring in parts:
        out |= fill_ring(ring, x0, y0, cell, nx, ny)
    for ring in holes:
        out &= ~fill_ring(ring, x0, y0, cell, nx, ny)
    return out


Shape = tuple[Sequence[Sequence[float]], Sequence[Sequence[float]]]
"""A polygon as `(parts, holes)`."""


def polygon_iou(a: Shape, b: Shape, resolution: int = 512) -> float:
    """IoU of two polygons (`(parts, holes)` each), rasterised on a shared grid.

    Returns 0.0 when the shapes' bounding boxes do not overlap or either is empty.
    """
    ba, bb = rings_bounds(a[0]), rings_bounds(b[0])
    if ba is None or bb is None:
        return 0.0
    if ba[2] <= bb[0] or bb[2] <= ba[0] or ba[3] <= bb[1] or bb[3] <= ba[1]:
        return 0.0
    x0, y0 = min(ba[0], bb[0]), min(ba[1], bb[1])
    x1, y1 = max(ba[2], bb[2]), max(ba[3], bb[3])
    extent = max(x1 - x0, y1 - y0)
    if extent <= 0:
        return 0.0
    cell = extent / resolution
    nx = max(1, math.ceil((x1 - x0) / cell))
    ny = max(1, math.ceil((y1 - y0) / cell))
    ma = fill_polygon(a[0], a[1], x0, y0, cell, nx, ny)
    mb = fill_polygon(b[0], b[1], x0, y0, cell, nx, ny)
    return mask_iou(ma, mb)


# -- masks --------------------------------------------------------------------------------------


def rle_counts_from_string(s: str) -> list[int]:
    """Decode COCO's compressed RLE string (pycocotools `rleFrString`) to run lengths."""
    counts: list[int] = []
    p = 0
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            c = ord(s[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def rle_decode(size: Sequence[int], counts: Sequence[int] | str) -> BoolArray:
    """A COCO RLE (`size` = [height, width]) as a boolean `height x width` mask."""
    h, w = int(size[0]), int(size[1])
    runs = rle_counts_from_string(counts) if isinstance(counts, str) else list(counts)
    runs_arr = np.asarray(runs, dtype=np.int64)
    if runs_arr.sum() != h * w or (runs_arr < 0).any():
        raise ValueError(f"RLE runs sum to {int(runs_arr.sum())}, not height x width = {h * w}")
    vals = np.arange(len(runs_arr)) % 2 == 1
    flat = np.repeat(vals, runs_arr)
    return np.asarray(flat.reshape((h, w), order="F"))


def rle_encode(mask: npt.ArrayLike) -> list[int]:
    """Uncompressed COCO RLE counts of a boolean mask (column-major, starting with 0s)."""
    flat = np.asarray(mask, dtype=bool).reshape(-1, order="F")
    if flat.size == 0:
        return [0]
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    return [0, *runs] if flat[0] else runs


def mask_iou(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """IoU of two boolean masks of the same shape (0.0 when both are empty)."""
    ma, mb = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    if ma.shape != mb.shape:
        raise ValueError(f"masks differ in size: {ma.shape} vs {mb.shape}")
    union = int(np.count_nonzero(ma | mb))
    return int(np.count_nonzero(ma & mb)) / union if union else 0.0


# -- keypoints ----------------------------------------------------------------------------------


def keypoint_sigmas(n: int, sigmas: Sequence[float] | None = None) -> FloatArray:
    """Sigmas for `n` keypoints: the given ones, COCO person's for 17, else `DEFAULT_SIGMA`."""
    if sigmas is not None:
        if len(sigmas) != n:
            raise ValueError(f"{len(sigmas)} sigmas for {n} keypoints")
        return np.asarray(sigmas, dtype=np.float64)
    if n == len(COCO_PERSON_SIGMAS):
        return np.asarray(COCO_PERSON_SIGMAS)
    return np.full(n, DEFAULT_SIGMA)


def oks(
    a: Sequence[float],
    b: Sequence[float],
    area: float,
    sigmas: Sequence[float] | None = None,
) -> float | None:
    """Object keypoint similarity of two flat `[x, y, v, ...]` keypoint lists (COCO's formula).

    Keypoints labelled (v > 0) in both count with exp(-d^2 / (2 * area * (2 sigma)^2)); a
    keypoint labelled in only one of them counts 0 (they disagree on whether it is there);
    keypoints labelled in neither are left out. None when no keypoint is labelled at all.
    With every keypoint labelled in both this equals pycocotools' `computeOks`.
    """
    pa = np.asarray(a, dtype=np.float64).reshape(-1, 3)
    pb = np.asarray(b, dtype=np.float64).reshape(-1, 3)
    if pa.shape != pb.shape:
        raise ValueError(f"keypoint counts differ: {len(pa)} vs {len(pb)}")
    s = keypoint_sigmas(len(pa), sigmas)
    la, lb = pa[:, 2] > 0, pb[:, 2] > 0
    either = la | lb
    if not either.any():
        return None
    d2 = (pa[:, 0] - pb[:, 0]) ** 2 + (pa[:, 1] - pb[:, 1]) ** 2
    e = d2 / ((2 * s) ** 2) / (area + np.spacing(1)) / 2
    sim = np.where(la & lb, np.exp(-e), 0.0)
    return float(sim[either].sum() / either.sum())


def keypoints_area(kps: Sequence[float], bbox: Sequence[float] | None = None) -> float:
    """Object scale for OKS: the box area when a box is given, else the labelled points' extent."""
    if bbox is not None:
        return float(bbox[2]) * float(bbox[3])
    p = np.asarray(kps, dtype=np.float64).reshape(-1, 3)
    p = p[p[:, 2] > 0]
    if len(p) < 2:
        return 0.0
    return float(np.ptp(p[:, 0]) * np.ptp(p[:, 1]))
