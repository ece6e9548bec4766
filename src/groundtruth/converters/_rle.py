"""COCO run-length encoding in numpy, byte-identical to pycocotools' `maskApi.c`.

Masks are 2-D arrays `[height, width]`; RLE flattens them column-major (Fortran order), and
`counts` alternate 0-runs and 1-runs, always starting with a (possibly empty) 0-run. The
compressed form is COCO's LEB128-like string of 6-bit characters (`rleToString`), where every
count from the fourth on is stored as the difference to the count two places before.

Everything here is vectorised: a compressed string of a million runs encodes and decodes without a
Python loop per run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "area",
    "counts_from_string",
    "counts_to_string",
    "decode",
    "encode",
    "merge",
    "poly_area",
    "poly_bbox",
    "polygons_to_counts",
    "to_bbox",
]

Counts = npt.NDArray[np.int64]
BoolMask = npt.NDArray[np.bool_]

_MAX_CHUNKS = 13  # 5 bits a character: 13 characters hold any int64 delta


def encode(mask: npt.ArrayLike) -> Counts:
    """Run lengths of a `[h, w]` mask (nonzero = foreground), column-major, 0-run first."""
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError(f"a mask must be 2-D [height, width], got shape {m.shape}")
    flat = m.ravel(order="F").astype(bool, copy=False)
    n = flat.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    edges = np.concatenate(([0], change, [n])).astype(np.int64)
    counts = np.diff(edges)
    if flat[0]:
        counts = np.concatenate(([0], counts))
    return counts


def decode(counts: Sequence[int] | npt.ArrayLike, height: int, width: int) -> BoolMask:
    """The `[height, width]` boolean mask of `counts` (which must sum to `height * width`)."""
    c = np.asarray(counts, dtype=np.int64)
    total = int(c.sum()) if c.size else 0
    if total != height * width:
        raise ValueError(f"RLE counts sum to {total}, expected height*width = {height * width}")
    if (c < 0).any():
        raise ValueError("RLE counts must not be negative")
    values = np.zeros(c.size, dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, c)
    return flat.reshape((height, width), order="F")


def counts_to_string(counts: Sequence[int] | npt.ArrayLike) -> str:
    """COCO's compressed RLE string of `counts` (`rleToString` in maskApi.c)."""
    c = np.asarray(counts, dtype=np.int64)
    if c.size == 0:
        return ""
    x = c.copy()
    if c.size > 3:
        x[3:] = c[3:] - c[1:-2]
    # Per value, 5-bit little-endian chunks; a chunk is flagged (0x20) when more follow.
    chunks = np.zeros((x.size, _MAX_CHUNKS), dtype=np.uint8)
    used = np.zeros((x.size, _MAX_CHUNKS), dtype=bool)
    rest = x
    active = np.ones(x.size, dtype=bool)
    for j in range(_MAX_CHUNKS):
        chunk = (rest & 0x1F).astype(np.int64)
        rest = rest >> 5  # arithmetic shift, as in C for `long`
        more = np.where(chunk & 0x10, rest != -1, rest != 0)
        chunk = np.where(more, chunk | 0x20, chunk)
        chunks[:, j] = chunk + 48
        used[:, j] = active
        active = active & more
        if not active.any():
            break
    return chunks[used].tobytes().decode("ascii")


def counts_from_string(text: str | bytes) -> Counts:
    """Counts of a COCO compressed RLE string (`rleFrString` in maskApi.c).

    Raises ValueError on a character outside COCO's alphabet or a truncated last value.
    """
    raw = text.encode("ascii") if isinstance(text, str) else bytes(text)
    if not raw:
        return np.zeros(0, dtype=np.int64)
    v = np.frombuffer(raw, dtype=np.uint8).astype(np.int64) - 48
    if (v < 0).any() or (v > 63).any():
        raise ValueError("compressed RLE holds a character outside '0'..'o'")
    cont = (v & 0x20) != 0
    if cont[-1]:
        raise ValueError("compressed RLE ends in the middle of a value")
    ends = np.flatnonzero(~cont)
    starts = np.concatenate(([0], ends[:-1] + 1))
    group = np.repeat(np.arange(ends.size), ends - starts + 1)
    k = np.arange(v.size) - starts[group]
    if (k >= _MAX_CHUNKS).any():
        raise ValueError("compressed RLE holds a value too large for 64 bits")
    x = np.add.reduceat((v & 0x1F) << (5 * k), starts)
    nchunks = ends - starts + 1
    negative = (v[ends] & 0x10) != 0
    x = np.where(negative, x | (np.int64(-1) << (5 * nchunks)), x)
    out = x.copy()
    # cnts[i] += cnts[i-2] for i > 2: cumulative sums over each parity from index 1 and 2.
    if out.size > 1:
        out[1::2] = np.cumsum(x[1::2])
    if out.size > 2:
        out[2::2] = np.cumsum(x[2::2])
    # pycocotools stores counts as uint32: wrap the same way.
    return out & 0xFFFFFFFF


def area(counts: Sequence[int] | npt.ArrayLike) -> int:
    """Foreground pixel count: the sum of the 1-runs."""
    c = np.asarray(counts, dtype=np.int64)
    return int(c[1::2].sum())


def to_bbox(counts: Sequence[int] | npt.ArrayLike, height: int) -> list[float]:
    """`[x, y, w, h]` of the foreground, exactly as `maskApi.c` `rleToBbox` computes it."""
    c = np.asarray(counts, dtype=np.int64)
    m = (c.size // 2) * 2
    if m == 0 or height == 0:
        return [0.0, 0.0, 0.0, 0.0]
    c = c[:m]
    cc = np.cumsum(c)
    j = np.arange(m)
    t = cc - (j % 2)
    y = t % height
    x = t // height
    xs, xe = int(x.min()), int(x.max())
    ys, ye = int(y.min()), int(y.max())
    # A 1-run that wraps to the next column covers every row in between.
    if (x[0::2] < x[1::2]).any():
        ys, ye = 0, height - 1
    return [float(xs), float(ys), float(xe - xs + 1), float(ye - ys + 1)]


def merge(masks: Sequence[BoolMask], *, subtract: Sequence[BoolMask] = ()) -> BoolMask:
    """Union of `masks`, minus the union of `subtract` (polygon holes)."""
    if not masks:
        raise ValueError("merge needs at least one mask")
    out = np.logical_or.reduce(np.stack(masks), axis=0)
    for hole in subtract:
        out &= ~hole
    return np.asarray(out, dtype=bool)


def _poly_counts(xy: Sequence[float], height: int, width: int) -> Counts:
    """One polygon ring's RLE, a port of `rleFrPoly`: upsample x5, walk the y-boundaries."""
    scale = 5.0
    pts = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    k = pts.shape[0]
    # (int)(scale*v + .5) truncates toward zero in C.
    xi = np.trunc(scale * pts[:, 0] + 0.5).astype(np.int64)
    yi = np.trunc(scale * pts[:, 1] + 0.5).astype(np.int64)
    xi = np.append(xi, xi[0])
    yi = np.append(yi, yi[0])
    us: list[Counts] = []
    vs: list[Counts] = []
    for j in range(k):
        xs, xe, ys, ye = int(xi[j]), int(xi[j + 1]), int(yi[j]), int(yi[j + 1])
        dx, dy = abs(xe - xs), abs(ys - ye)
        flip = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
        if flip:
            xs, xe, ys, ye = xe, xs, ye, ys
        if dx >= dy:
            s = (ye - ys) / dx if dx else 0.0
            d = np.arange(dx + 1, dtype=np.int64)
            t = dx - d if flip else d
            us.append(t + xs)
            vs.append(np.trunc(ys + s * t + 0.5).astype(np.int64))
        else:
            s = (xe - xs) / dy
            d = np.arange(dy + 1, dtype=np.int64)
            t = dy - d if flip else d
            vs.append(t + ys)
            us.append(np.trunc(xs + s * t + 0.5).astype(np.int64))
    u = np.concatenate(us)
    v = np.concatenate(vs)
    # Points where x changes: the y-boundaries, downsampled to pixel centres.
    sel = np.flatnonzero(u[1:] != u[:-1]) + 1
    uj, uprev, vj, vprev = u[sel], u[sel - 1], v[sel], v[sel - 1]
    xd = np.where(uj < uprev, uj, uj - 1).astype(np.float64)
    xd = (xd + 0.5) / scale - 0.5
    keep = (np.floor(xd) == xd) & (xd >= 0) & (xd <= width - 1)
    yd = np.where(vj < vprev, vj, vprev).astype(np.float64)
    yd = (yd + 0.5) / scale - 0.5
    yd = np.ceil(np.clip(yd, 0, height))
    a = xd[keep].astype(np.int64) * height + yd[keep].astype(np.int64)
    a = np.sort(np.append(a, height * width))
    a = np.diff(a, prepend=0)
    # Zero-length runs merge their neighbours: b[m-1] += a[j+1] after a zero.
    out: list[int] = [int(a[0])]
    j = 1
    n = a.size
    while j < n:
        if a[j] > 0:
            out.append(int(a[j]))
            j += 1
        else:
            j += 1
            if j < n:
                out[-1] += int(a[j])
                j += 1
    return np.asarray(out, dtype=np.int64)


def polygons_to_counts(
    parts: Sequence[Sequence[float]],
    height: int,
    width: int,
    holes: Sequence[Sequence[float]] = (),
) -> Counts:
    """RLE of the union of polygon `parts` minus `holes`, rasterised as pycocotools does."""
    if not parts:
        raise ValueError("no polygon parts")
    if len(parts) == 1 and not holes:
        return _poly_counts(parts[0], height, width)
    masks = [decode(_poly_counts(p, height, width), height, width) for p in parts]
    cut = [decode(_poly_counts(h, height, width), height, width) for h in holes]
    return encode(merge(masks, subtract=cut))


def poly_area(parts: Sequence[Sequence[float]], holes: Sequence[Sequence[float]] = ()) -> float:
    """Shoelace area of the parts minus the holes: how COCO ground truth states polygon `area`."""

    def ring(xy: Sequence[float]) -> float:
        p = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        x, y = p[:, 0], p[:, 1]
        return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)

    return sum(ring(p) for p in parts) - sum(ring(h) for h in holes)


def poly_bbox(parts: Sequence[Sequence[float]]) -> list[float]:
    """`[x, y, w, h]` extent of the polygon vertices (COCO's stored GT boxes are this)."""
    xy = np.concatenate([np.asarray(p, dtype=np.float64) for p in parts]).reshape(-1, 2)
    x0, y0 = xy.min(axis=0)
    x1, y1 = xy.max(axis=0)
    return [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]
