"""Shape conversions YOLO needs on the way out: masks to polygons, several parts to one ring,
any polygon to its minimum-area rotated rectangle.

- `trace_mask`: the boundaries of a boolean mask along pixel edges (so an untouched boundary
  encloses exactly the mask's pixels), outer rings clockwise on screen, holes apart, then
  simplified with Douglas-Peucker at `tolerance` pixels (the stated tolerance of
  `-w mask_tolerance=`, default 1.0).
- `merge_parts`: several rings joined into one through zero-width bridges between nearest
  vertices (the way Ultralytics' COCO converter writes multi-part objects).
- `min_area_rect`: the smallest rotated rectangle around points (rotating calipers on the hull).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Ring = list[float]


def ring_area(xy: Sequence[float]) -> float:
    """Signed shoelace area; positive for rings clockwise on screen (y down)."""
    p = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    x, y = p[:, 0], p[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0


def trace_mask(mask: npt.NDArray[np.bool_], tolerance: float) -> tuple[list[Ring], list[Ring]]:
    """(outer rings, holes) of a `[height, width]` mask, pixel-corner coordinates."""
    m = np.pad(np.asarray(mask, dtype=bool), 1)
    # Directed boundary edges between grid corners (x, y), foreground on the right-hand side
    # when walking clockwise on screen: top sides go right, right sides down, and so on.
    nxt: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def add(starts: npt.NDArray[np.int64], dx: int, dy: int) -> None:
        for x, y in starts.tolist():
            nxt.setdefault((x, y), []).append((x + dx, y + dy))

    fg = m[1:-1, 1:-1]
    rows, cols = np.nonzero(fg & ~m[:-2, 1:-1])  # background above: top side, left -> right
    add(np.stack([cols, rows], axis=1), 1, 0)
    rows, cols = np.nonzero(fg & ~m[1:-1, 2:])  # background right: right side, top -> bottom
    add(np.stack([cols + 1, rows], axis=1), 0, 1)
    rows, cols = np.nonzero(fg & ~m[2:, 1:-1])  # background below: bottom side, right -> left
    add(np.stack([cols + 1, rows + 1], axis=1), -1, 0)
    rows, cols = np.nonzero(fg & ~m[1:-1, :-2])  # background left: left side, bottom -> top
    add(np.stack([cols, rows + 1], axis=1), 0, -1)
    outers: list[Ring] = []
    holes: list[Ring] = []
    while nxt:
        start = min(nxt)  # deterministic: the top-left-most corner left
        loop = [start]
        prev_dir = (1, 0)
        cur = start
        while True:
            options = nxt[cur]
            if len(options) == 1:
                step = options.pop()
            else:
                # Two ways out of a pinch corner: turn right first, which keeps diagonal
                # neighbours apart (4-connected components), as pycocotools' masks mean.
                step = min(options, key=lambda p: _turn(prev_dir, (p[0] - cur[0], p[1] - cur[1])))
                options.remove(step)
            if not options:
                del nxt[cur]
            prev_dir = (step[0] - cur[0], step[1] - cur[1])
            cur = step
            if cur == start:
                break
            loop.append(cur)
        flat = [float(v) for p in _corners(loop) for v in p]
        ring = simplify(flat, tolerance)
        (outers if ring_area(flat) > 0 else holes).append(ring)
    return outers, holes


def _turn(a: tuple[int, int], b: tuple[int, int]) -> int:
    """0 for a right turn (clockwise on screen), 1 straight, 2 left."""
    cross = a[0] * b[1] - a[1] * b[0]
    return 0 if cross > 0 else (1 if cross == 0 else 2)


def _corners(loop: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Only the vertices where the boundary turns."""
    n = len(loop)
    out = []
    for i in range(n):
        a, b, c = loop[i - 1], loop[i], loop[(i + 1) % n]
        if (b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0]) != 0:
            out.append(b)
    return out or loop


def simplify(ring: Ring, tolerance: float) -> Ring:
    """Douglas-Peucker on a closed ring; never fewer than 3 points."""
    p = np.asarray(ring, dtype=np.float64).reshape(-1, 2)
    if tolerance <= 0 or len(p) <= 3:
        return list(ring)
    # Split the ring at the vertex farthest from the first, simplify both halves as lines.
    far = int(np.argmax(((p - p[0]) ** 2).sum(axis=1)))
    keep = np.zeros(len(p), dtype=bool)
    keep[0] = keep[far] = True
    closed = np.vstack([p, p[:1]])
    stack = [(0, far), (far, len(p))]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        seg = closed[a + 1:b]
        start, end = closed[a], closed[b]
        d = end - start
        norm = math.hypot(d[0], d[1])
        if norm == 0:
            dist = np.hypot(*(seg - start).T)
        else:
            dist = np.abs(d[0] * (seg[:, 1] - start[1]) - d[1] * (seg[:, 0] - start[0])) / norm
        k = int(np.argmax(dist))
        if dist[k] > tolerance:
            keep[a + 1 + k] = True
            stack.extend([(a, a + 1 + k), (a + 1 + k, b)])
    out = p[keep]
    if len(out) < 3:
        return list(ring)
    return [float(v) for v in out.reshape(-1)]


def merge_parts(parts: Sequence[Ring]) -> Ring:
    """One ring through all parts: each part walked once, closed at its entry vertex, with
    zero-width bridges from each part's entry to the nearest vertex of the next part."""
    pts = [np.asarray(r, dtype=np.float64).reshape(-1, 2) for r in parts]
    entries: list[int] = []
    for i, p in enumerate(pts):
        if i == 0:
            target = pts[1] if len(pts) > 1 else p
            d = ((p[:, None, :] - target[None, :, :]) ** 2).sum(axis=2)
            entries.append(int(np.unravel_index(np.argmin(d), d.shape)[0]))
        else:
            prev = pts[i - 1][entries[i - 1]]
            entries.append(int(np.argmin(((p - prev) ** 2).sum(axis=1))))
    out: list[npt.NDArray[np.float64]] = []
    for p, e in zip(pts, entries, strict=True):
        rolled = np.roll(p, -e, axis=0)
        out.append(np.vstack([rolled, rolled[:1]]))
    for p, e in zip(reversed(pts[1:-1]), reversed(entries[1:-1]), strict=True):
        out.append(p[e][None, :])  # back along the bridges
    return [float(v) for v in np.vstack(out).reshape(-1)]


def largest_part(parts: Sequence[Ring]) -> Ring:
    return list(max(parts, key=lambda r: abs(ring_area(list(r)))))


def min_area_rect(points: Sequence[float]) -> Ring:
    """The 4 corners (clockwise on screen) of the smallest rotated rectangle around points."""
    p = np.unique(np.asarray(points, dtype=np.float64).reshape(-1, 2), axis=0)
    hull = _hull(p)
    if len(hull) < 3:
        x0, y0 = p.min(axis=0)
        x1, y1 = p.max(axis=0)
        return [x0, y0, x1, y0, x1, y1, x0, y1]
    best: tuple[float, list[float]] | None = None
    for i in range(len(hull)):
        e = hull[(i + 1) % len(hull)] - hull[i]
        t = math.atan2(e[1], e[0])
        c, s = math.cos(t), math.sin(t)
        rot = np.array([[c, s], [-s, c]])  # into the edge's frame
        q = hull @ rot.T
        lo, hi = q.min(axis=0), q.max(axis=0)
        area = float((hi - lo).prod())
        if best is None or area < best[0]:
            box = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
            corners = box @ rot  # back to image coordinates
            best = (area, [float(v) for v in corners.reshape(-1)])
    assert best is not None
    ring = best[1]
    return ring if ring_area(ring) >= 0 else [*ring[0:2], *ring[6:8], *ring[4:6], *ring[2:4]]


def _hull(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Andrew's monotone chain."""
    pts = sorted(map(tuple, p.tolist()))
    if len(pts) <= 2:
        return np.asarray(pts)

    def half(seq: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for q in seq:
            while len(out) >= 2 and ((out[-1][0] - out[-2][0]) * (q[1] - out[-2][1])
                                     - (out[-1][1] - out[-2][1]) * (q[0] - out[-2][0])) <= 0:
                out.pop()
            out.append(q)
        return out

    lower, upper = half(pts), half(pts[::-1])
    return np.asarray(lower[:-1] + upper[:-1])
