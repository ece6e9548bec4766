"""COCO detection metrics in numpy, equal to pycocotools' `COCOeval` (evaluate, accumulate,
summarize) for `bbox`, `segm` and `keypoints`.

The input is two flat sets of instances (ground truth and detections) already mapped to image
and category indices; the output is COCOeval's `precision` [T,R,K,A,M], `recall` [T,K,A,M] and
`scores` arrays, the 12 (10 for keypoints) summary `stats`, and each detection's match.

What is reproduced exactly, because it changes numbers:
- detections are ordered by score, stable on their input order, and cut at `maxDets[-1]` per
  image and category before IoUs are computed;
- greedy matching per IoU threshold: a detection takes the not-yet-matched ground truth of
  highest IoU (crowd regions may be taken many times), ties going to the later one, and falls
  back to an ignored one (crowd, out of the area range, or keypoints with none labelled) only
  when no regular one qualifies; unmatched detections outside the area range are ignored;
- the threshold `min(t, 1 - 1e-10)`, the interpolated precision (running maximum from the
  right) read at the 101 recall thresholds, and the mean over entries other than -1.

Matching is sequential in score order within an image and category, so it runs one detection
rank at a time, vectorised over every area range, IoU threshold and every image-category group
with the same number of ground truths (a few hundred numpy steps for a COCO-sized file, where
COCOeval loops in Python over detections x ground truths x thresholds x area ranges). pycocotools marks a match by the matched annotation's id, so a match to a
ground truth of id 0 counts as no match (the ground truth is still taken, the detection becomes
a false positive): reproduced for ground truth flagged `id_zero` (the COCO reader warns about
such ids, `coco.annotation.id-zero`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from ..converters import _rle

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

IouType = Literal["bbox", "segm", "keypoints"]

# pycocotools' own expressions: equality tests on these thresholds (iouThr == .75) depend on
# the exact floats linspace yields.
IOU_THRESHOLDS: FloatArray = np.linspace(0.5, 0.95, round((0.95 - 0.5) / 0.05) + 1, endpoint=True)
RECALL_THRESHOLDS: FloatArray = np.linspace(0.0, 1.00, round((1.00 - 0.0) / 0.01) + 1, endpoint=True)
PERSON_SIGMAS: FloatArray = (
    np.array(
        [0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87,
         0.89, 0.89]
    )
    / 10.0
)  # fmt: skip


@dataclass(frozen=True)
class Params:
    """COCOeval's parameters (`Params(iouType)` defaults)."""

    iou_type: IouType = "bbox"
    iou_thresholds: FloatArray = field(default_factory=lambda: IOU_THRESHOLDS)
    recall_thresholds: FloatArray = field(default_factory=lambda: RECALL_THRESHOLDS)
    max_dets: tuple[int, ...] = (1, 10, 100)
    area_ranges: tuple[tuple[float, float], ...] = (
        (0.0**2, 1e5**2), (0.0**2, 32.0**2), (32.0**2, 96.0**2), (96.0**2, 1e5**2),
    )  # fmt: skip
    area_labels: tuple[str, ...] = ("all", "small", "medium", "large")

    @classmethod
    def for_type(cls, iou_type: IouType, max_dets: Sequence[int] | None = None) -> Params:
        """The defaults COCOeval uses for `iou_type`, with `max_dets` overridden if given."""
        if iou_type == "keypoints":
            p = cls(
                iou_type=iou_type,
                max_dets=(20,),
                area_ranges=((0.0**2, 1e5**2), (32.0**2, 96.0**2), (96.0**2, 1e5**2)),
                area_labels=("all", "medium", "large"),
            )
        else:
            p = cls(iou_type=iou_type)
        if max_dets is not None:
            p = cls(
                iou_type=p.iou_type, max_dets=tuple(int(m) for m in max_dets),
                area_ranges=p.area_ranges, area_labels=p.area_labels,
            )
        return p


@dataclass
class Instances:
    """One side of an evaluation, one row per instance.

    `image` and `category` are indices (images in evaluation order, which decides ties between
    equal scores of different images, as COCOeval's sorted image ids do). Geometry: `boxes`
    [N, 4] `x, y, w, h` for bbox; `masks` (height, width, RLE counts) for segm; `keypoints`
    [N, 3K] plus `boxes` (the ground truth's box bounds keypoint-less matching) for keypoints.
    """

    image: IntArray
    category: IntArray
    area: FloatArray
    score: FloatArray | None = None
    iscrowd: BoolArray | None = None
    ignore: BoolArray | None = None
    boxes: FloatArray | None = None
    masks: list[tuple[int, int, IntArray]] | None = None
    keypoints: FloatArray | None = None
    id_zero: BoolArray | None = None  # ground truth whose COCO id is 0 (see the module doc)

    def __len__(self) -> int:
        return int(self.image.shape[0])


@dataclass
class CocoEvalResult:
    """COCOeval's `eval` arrays and `stats`, plus each detection's match (area `all`)."""

    params: Params
    precision: FloatArray  # [T, R, K, A, M]
    recall: FloatArray  # [T, K, A, M]
    scores: FloatArray  # [T, R, K, A, M]
    stats: FloatArray
    dt_match: IntArray  # [T, n_dt] matched gt row (-1 none), area range `all`, maxDets[-1]
    dt_iou: FloatArray  # [n_dt] best IoU/OKS with any gt of its image and category (0 none)
    dt_ignored: BoolArray  # [T, n_dt] ignored at area `all` (matched a crowd/ignored gt)
    dt_evaluated: BoolArray  # [n_dt] within the per-image maxDets[-1] cut


# -- similarity -----------------------------------------------------------------------------------


def box_ious(d: FloatArray, g: FloatArray, crowd: BoolArray) -> FloatArray:
    """`maskApi.c` `bbIou`: [D, G]; a crowd gt's union is the detection's area."""
    dx0, dy0, dw, dh = (d[:, i : i + 1] for i in range(4))
    gx0, gy0, gw, gh = (g[None, :, i] for i in range(4))
    w = np.minimum(dw + dx0, gw + gx0) - np.maximum(dx0, gx0)
    h = np.minimum(dh + dy0, gh + gy0) - np.maximum(dy0, gy0)
    inter = w * h
    da = dw * dh
    union = np.where(crowd[None, :], da, da + gw * gh - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = inter / union
    return np.where((w > 0) & (h > 0), out, 0.0)


def _ones_before(bounds: IntArray, ones_cum: IntArray, x: IntArray) -> IntArray:
    """Foreground pixels before flat position `x` of an RLE given its run ends and 1-counts."""
    k = np.searchsorted(bounds, x, side="right")  # runs wholly before x
    before = np.where(k > 0, ones_cum[np.maximum(k - 1, 0)], 0)
    start = np.where(k > 0, bounds[np.maximum(k - 1, 0)], 0)
    partial = np.where(k % 2 == 1, x - start, 0)  # run k (0-based) is a 1-run when k is odd
    return np.asarray(before + partial, dtype=np.int64)


@dataclass
class _Rle:
    h: int
    w: int
    bounds: IntArray  # cumulative run ends
    ones_cum: IntArray  # foreground pixels up to each run end
    starts: IntArray  # 1-run starts
    ends: IntArray  # 1-run ends (exclusive)
    area: int
    box: FloatArray


def _prep_rle(h: int, w: int, counts: IntArray) -> _Rle:
    c = np.asarray(counts, dtype=np.int64)
    bounds = np.cumsum(c)
    is_one = (np.arange(c.size) % 2) == 1
    ones_cum = np.cumsum(np.where(is_one, c, 0))
    ends = bounds[is_one]
    starts = ends - c[is_one]
    keep = ends > starts
    return _Rle(
        h, w, bounds, ones_cum, starts[keep], ends[keep], int(c[is_one].sum()),
        np.asarray(_rle.to_bbox(c, h), dtype=np.float64),
    )


def mask_ious(d: Sequence[_Rle], g: Sequence[_Rle], crowd: BoolArray) -> FloatArray:
    """`maskApi.c` `rleIou`: exact pixel counts where the masks' boxes overlap, -1 for masks of
    different sizes (checked only there, as pycocotools does)."""
    out = np.zeros((len(d), len(g)))
    if not d or not g:
        return out
    pre = box_ious(np.stack([r.box for r in d]), np.stack([r.box for r in g]), crowd)
    for i, j in zip(*np.nonzero(pre > 0), strict=True):
        a, b = d[i], g[j]
        if a.h != b.h or a.w != b.w:
            out[i, j] = -1.0
            continue
        inter = int(
            (_ones_before(b.bounds, b.ones_cum, a.ends)
             - _ones_before(b.bounds, b.ones_cum, a.starts)).sum()
        )  # fmt: skip
        if inter == 0:
            continue
        union = a.area if crowd[j] else a.area + b.area - inter
        out[i, j] = inter / union
    return out


def keypoint_oks(
    d: FloatArray, g: FloatArray, g_box: FloatArray, g_area: FloatArray, sigmas: FloatArray
) -> FloatArray:
    """COCOeval `computeOks` for [D, 3K] detections and [G, 3K] ground truth."""
    var = (sigmas * 2) ** 2
    xd, yd = d[:, None, 0::3], d[:, None, 1::3]
    xg, yg, vg = g[None, :, 0::3], g[None, :, 1::3], g[None, :, 2::3]
    labelled = vg > 0  # [1, G, K]
    k1 = labelled.sum(axis=-1)  # [1, G]
    x0 = (g_box[:, 0] - g_box[:, 2])[None, :, None]
    x1 = (g_box[:, 0] + g_box[:, 2] * 2)[None, :, None]
    y0 = (g_box[:, 1] - g_box[:, 3])[None, :, None]
    y1 = (g_box[:, 1] + g_box[:, 3] * 2)[None, :, None]
    z = np.zeros(1)
    has = (k1 > 0)[..., None]
    dx = np.where(has, xd - xg, np.maximum(z, x0 - xd) + np.maximum(z, xd - x1))
    dy = np.where(has, yd - yg, np.maximum(z, y0 - yd) + np.maximum(z, yd - y1))
    e = (dx**2 + dy**2) / var / (g_area[None, :, None] + np.spacing(1)) / 2
    use = np.where(has, labelled, True)
    total = np.where(use, np.exp(-e), 0.0).sum(axis=-1)
    return np.asarray(total / use.sum(axis=-1), dtype=np.float64)


# -- evaluation -----------------------------------------------------------------------------------


def evaluate(
    gt: Instances,
    dt: Instances,
    n_categories: int,
    params: Params,
    *,
    sigmas: Sequence[FloatArray] | None = None,
) -> CocoEvalResult:
    """COCOeval `evaluate()` + `accumulate()` + `summarize()` on prepared instances.

    `sigmas[k]`: the OKS sigmas of category k (keypoints only; COCO person's by default).
    """
    p = params
    thr = np.minimum(p.iou_thresholds, 1 - 1e-10)
    n_t, n_a = thr.size, len(p.area_ranges)
    max_det = p.max_dets[-1]
    lo = np.array([r[0] for r in p.area_ranges])[:, None]
    hi = np.array([r[1] for r in p.area_ranges])[:, None]

    score = np.asarray(dt.score, dtype=np.float64) if dt.score is not None else np.zeros(len(dt))
    n_img = int(max(gt.image.max(initial=-1), dt.image.max(initial=-1))) + 1
    # Detections: by category, image, score (stable on input order); rank within the group.
    d_order = np.lexsort((np.arange(len(dt)), -score, dt.image, dt.category))
    d_key = dt.category[d_order].astype(np.int64) * n_img + dt.image[d_order]
    first = np.r_[True, d_key[1:] != d_key[:-1]] if len(dt) else np.zeros(0, dtype=bool)
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(dt)), 0))
    rank = np.arange(len(dt)) - group_start
    kept = rank < max_det
    d_rows = d_order[kept]  # evaluated detections, grouped, in COCOeval's order
    d_rank = rank[kept]
    dk = d_key[kept]

    g_order = np.lexsort((np.arange(len(gt)), gt.image, gt.category))
    crowd_all = gt.iscrowd if gt.iscrowd is not None else np.zeros(len(gt), dtype=bool)
    ign_all = gt.ignore if gt.ignore is not None else np.zeros(len(gt), dtype=bool)
    zero_all = gt.id_zero if gt.id_zero is not None else np.zeros(len(gt), dtype=bool)
    g_ignored = (crowd_all | ign_all)[None, :] | (gt.area[None, :] < lo) | (gt.area[None, :] > hi)
    d_out = (dt.area[None, :] < lo) | (dt.area[None, :] > hi)  # [A, n_dt]

    g_key = gt.category[g_order].astype(np.int64) * n_img + gt.image[g_order]
    keys = np.union1d(g_key, dk)
    g_lo, g_hi = np.searchsorted(g_key, keys, "left"), np.searchsorted(g_key, keys, "right")
    d_lo, d_hi = np.searchsorted(dk, keys, "left"), np.searchsorted(dk, keys, "right")

    dtm = np.full((n_a, n_t, len(dt)), False)
    dtig = np.zeros((n_a, n_t, len(dt)), dtype=bool)
    dt_match = np.full((n_t, len(dt)), -1, dtype=np.int64)
    dt_iou = np.zeros(len(dt))
    need = {"bbox": ("boxes",), "segm": ("masks",), "keypoints": ("keypoints", "boxes")}
    for side, name in ((gt, "ground truth"), (dt, "detections")):
        for attr in need[p.iou_type]:
            if getattr(side, attr) is None:
                raise ValueError(f"{p.iou_type} evaluation needs `{attr}` of the {name}")
    g_boxes = gt.boxes if gt.boxes is not None else np.zeros((len(gt), 4))
    d_boxes = dt.boxes if dt.boxes is not None else np.zeros((len(dt), 4))
    g_kps = gt.keypoints if gt.keypoints is not None else np.zeros((len(gt), 0))
    d_kps = dt.keypoints if dt.keypoints is not None else np.zeros((len(dt), 0))
    masks_d = [_prep_rle(*m) for m in dt.masks or []]
    masks_g = [_prep_rle(*m) for m in gt.masks or []]

    n_g_all, n_d_all = g_hi - g_lo, d_hi - d_lo
    alone = np.flatnonzero((n_g_all == 0) & (n_d_all > 0))  # detections on images without gt
    if alone.size:
        rows = np.concatenate([d_rows[d_lo[j] : d_hi[j]] for j in alone])
        dtig[:, :, rows] = d_out[:, None, rows]
    both = np.flatnonzero((n_g_all > 0) & (n_d_all > 0))
    # Groups with the same number of ground truths are matched together, one detection rank
    # at a time: a few hundred vectorised steps instead of one per detection.
    for n_g in np.unique(n_g_all[both]):
        js = both[n_g_all[both] == n_g]
        for chunk in np.array_split(js, max(1, js.size // 4096)):
            g_rows = g_order[g_lo[chunk][:, None] + np.arange(n_g)[None, :]]  # [B, G]
            n_d = n_d_all[chunk]
            d_max = int(n_d.max())
            offs = np.arange(d_max)[None, :]
            valid = offs < n_d[:, None]
            d_idx = np.where(valid, d_lo[chunk][:, None] + offs, 0)
            d_grid = np.where(valid, d_rows[d_idx], -1)  # [B, Dmax], -1 = padding
            ious = _group_ious(
                p, d_grid, g_rows, crowd_all, d_boxes, g_boxes, masks_d, masks_g, d_kps, g_kps,
                gt, sigmas,
            )  # fmt: skip
            ious = np.where(valid[:, :, None], ious, -np.inf)
            dt_iou[d_grid[valid]] = np.maximum(ious.max(axis=2), 0.0)[valid]
            _match(
                thr, ious, d_grid, g_rows, crowd_all, zero_all, g_ignored, d_out, dtm, dtig,
                dt_match,
            )  # fmt: skip

    precision, recall, scores = _accumulate(
        p, n_categories, dt, d_rows, d_rank, score, dtm, dtig, gt, g_ignored
    )
    evaluated = np.zeros(len(dt), dtype=bool)
    evaluated[d_rows] = True
    stats = summarize(p, precision, recall)
    return CocoEvalResult(
        params=p, precision=precision, recall=recall, scores=scores, stats=stats,
        dt_match=dt_match, dt_iou=dt_iou, dt_ignored=dtig[0], dt_evaluated=evaluated,
    )


def _group_ious(
    p: Params,
    d_grid: IntArray,
    g_rows: IntArray,
    crowd_all: BoolArray,
    d_boxes: FloatArray,
    g_boxes: FloatArray,
    masks_d: list[_Rle],
    masks_g: list[_Rle],
    d_kps: FloatArray,
    g_kps: FloatArray,
    gt: Instances,
    sigmas: Sequence[FloatArray] | None,
) -> FloatArray:
    """IoU/OKS [B, Dmax, G] of each group's detections (padding rows: anything)."""
    n_b, d_max = d_grid.shape
    safe = np.maximum(d_grid, 0)
    crowd = crowd_all[g_rows]  # [B, G]
    if p.iou_type == "bbox":
        d = d_boxes[safe][:, :, None, :]  # [B, D, 1, 4]
        g = g_boxes[g_rows][:, None, :, :]  # [B, 1, G, 4]
        w = np.minimum(d[..., 2] + d[..., 0], g[..., 2] + g[..., 0]) - np.maximum(d[..., 0], g[..., 0])
        h = np.minimum(d[..., 3] + d[..., 1], g[..., 3] + g[..., 1]) - np.maximum(d[..., 1], g[..., 1])
        inter = w * h
        da = d[..., 2] * d[..., 3]
        union = np.where(crowd[:, None, :], da, da + g[..., 2] * g[..., 3] - inter)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = inter / union
        return np.where((w > 0) & (h > 0), out, 0.0)
    out = np.zeros((n_b, d_max, g_rows.shape[1]))
    for b in range(n_b):
        rows = d_grid[b][d_grid[b] >= 0]
        grows = g_rows[b]
        if p.iou_type == "segm":
            out[b, : rows.size] = mask_ious(
                [masks_d[r] for r in rows], [masks_g[r] for r in grows], crowd[b]
            )
        else:
            k = int(gt.category[grows[0]])
            sig = sigmas[k] if sigmas is not None else PERSON_SIGMAS
            out[b, : rows.size] = keypoint_oks(
                d_kps[rows], g_kps[grows], g_boxes[grows], gt.area[grows], sig
            )
    return out


def _match(
    thr: FloatArray,
    ious: FloatArray,
    d_grid: IntArray,
    g_rows: IntArray,
    crowd_all: BoolArray,
    zero_all: BoolArray,
    g_ignored: BoolArray,
    d_out: BoolArray,
    dtm: BoolArray,
    dtig: BoolArray,
    dt_match: IntArray,
) -> None:
    """COCOeval's greedy matching for a batch of groups of equal ground-truth count, every area
    range and threshold at once; writes each detection's columns of `dtm`, `dtig`, `dt_match`."""
    n_b, d_max, n_g = ious.shape
    n_a, n_t = g_ignored.shape[0], thr.size
    crowd = crowd_all[g_rows][:, None, None, :]  # [B, 1, 1, G]
    zero = zero_all[g_rows]  # [B, G]
    gig = np.moveaxis(g_ignored[:, g_rows], 0, 1)[:, :, None, :]  # [B, A, 1, G]
    taken = np.zeros((n_b, n_a, n_t, n_g), dtype=bool)
    rev = np.arange(n_g)[::-1]
    for r in range(d_max):
        idx = np.flatnonzero(d_grid[:, r] >= 0)
        rows = d_grid[idx, r]
        io = ious[idx, r][:, None, None, :]  # [n, 1, 1, G]
        cand = (io >= thr[None, None, :, None]) & ~(taken[idx] & ~crowd[idx])
        best = np.full((idx.size, n_a, n_t), -1, dtype=np.int64)
        for block in (~gig[idx], gig[idx]):  # ignored ones first: regular candidates overwrite
            c = cand & ~block
            v = np.where(c, io, -np.inf)[..., ::-1]
            best = np.where(c.any(axis=-1), rev[np.argmax(v, axis=-1)], best)  # later of ties
        hit = best >= 0
        m = np.maximum(best, 0)
        bi, ai, ti = np.nonzero(hit)
        taken[idx[bi], ai, ti, best[hit]] = True
        zero_m = np.take_along_axis(zero[idx], m.reshape(idx.size, -1), axis=1).reshape(m.shape)
        counted = hit & ~zero_m
        gig_m = np.take_along_axis(gig[idx][:, :, 0, :], m, axis=2)  # [n, A, T]
        ig = (hit & gig_m) | (~counted & d_out[:, rows].T[:, :, None])
        dtm[:, :, rows] = np.moveaxis(counted, 0, 2)
        dtig[:, :, rows] = np.moveaxis(ig, 0, 2)
        matched = np.take_along_axis(g_rows[idx], m[:, 0, :], axis=1)  # area `all`: [n, T]
        dt_match[:, rows] = np.where(best[:, 0, :] >= 0, matched, -1).T


def _accumulate(
    p: Params,
    n_k: int,
    dt: Instances,
    d_rows: IntArray,
    d_rank: IntArray,
    score: FloatArray,
    dtm: BoolArray,
    dtig: BoolArray,
    gt: Instances,
    g_ignored: BoolArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    n_t, n_r, n_a, n_m = p.iou_thresholds.size, p.recall_thresholds.size, len(p.area_ranges), len(
        p.max_dets
    )
    precision = -np.ones((n_t, n_r, n_k, n_a, n_m))
    recall = -np.ones((n_t, n_k, n_a, n_m))
    scores = -np.ones((n_t, n_r, n_k, n_a, n_m))
    d_cat = dt.category[d_rows]
    for k in range(n_k):
        in_k = d_cat == k
        g_k = gt.category == k
        if not in_k.any() and not g_k.any():
            continue  # no image has this category: COCOeval's E is empty
        rows_k, rank_k = d_rows[in_k], d_rank[in_k]
        for a in range(n_a):
            npig = int(np.count_nonzero(~g_ignored[a, g_k]))
            if npig == 0:
                continue
            for m, cap in enumerate(p.max_dets):
                rows = rows_k[rank_k < cap]
                s = score[rows]
                inds = np.argsort(-s, kind="mergesort")
                s_sorted = s[inds]
                matched = dtm[a][:, rows][:, inds]
                ig = dtig[a][:, rows][:, inds]
                tp = np.cumsum(matched & ~ig, axis=1).astype(np.float64)
                fp = np.cumsum(~matched & ~ig, axis=1).astype(np.float64)
                nd = tp.shape[1]
                if nd == 0:
                    recall[:, k, a, m] = 0
                    precision[:, :, k, a, m] = 0
                    scores[:, :, k, a, m] = 0
                    continue
                rc = tp / npig
                pr = tp / (fp + tp + np.spacing(1))
                pr = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]
                recall[:, k, a, m] = rc[:, -1]
                for t in range(n_t):
                    idx = np.searchsorted(rc[t], p.recall_thresholds, side="left")
                    ok = idx < nd
                    safe = np.minimum(idx, nd - 1)
                    precision[t, :, k, a, m] = np.where(ok, pr[t, safe], 0.0)
                    scores[t, :, k, a, m] = np.where(ok, s_sorted[safe], 0.0)
    return precision, recall, scores


def _mean(
    p: Params,
    arr: FloatArray,
    *,
    ap: bool,
    iou: float | None = None,
    area: str = "all",
    max_det: int = 100,
) -> float:
    """COCOeval `_summarize`: the mean of the selected entries that are not -1 (else -1)."""
    aind = [i for i, lbl in enumerate(p.area_labels) if lbl == area]
    mind = [i for i, m in enumerate(p.max_dets) if m == max_det]
    s = arr
    if iou is not None:
        s = s[np.where(iou == p.iou_thresholds)[0]]
    s = s[:, :, :, aind, mind] if ap else s[:, :, aind, mind]
    valid = s[s > -1]
    return -1.0 if valid.size == 0 else float(np.mean(valid))


def summarize(p: Params, precision: FloatArray, recall: FloatArray) -> FloatArray:
    """The 12 detection (10 keypoint) figures COCOeval `summarize()` prints, in its order.

    As in COCOeval, the first AP reads `maxDets=100` (keypoints: 20) whatever `max_dets` is, and
    the others read `max_dets[0..2]`; a figure whose slice is empty is -1.
    """
    if p.iou_type == "keypoints":
        kp = [
            (True, None, "all"), (True, 0.5, "all"), (True, 0.75, "all"), (True, None, "medium"),
            (True, None, "large"), (False, None, "all"), (False, 0.5, "all"),
            (False, 0.75, "all"), (False, None, "medium"), (False, None, "large"),
        ]  # fmt: skip
        return np.asarray(
            [_mean(p, precision if ap else recall, ap=ap, iou=iou, area=area, max_det=20)
             for ap, iou, area in kp]
        )  # fmt: skip
    md = p.max_dets
    if len(md) < 3:
        raise ValueError("detection summaries read max_dets[0..2]: give three values")
    det = [
        (True, None, "all", 100), (True, 0.5, "all", md[2]), (True, 0.75, "all", md[2]),
        (True, None, "small", md[2]), (True, None, "medium", md[2]), (True, None, "large", md[2]),
        (False, None, "all", md[0]), (False, None, "all", md[1]), (False, None, "all", md[2]),
        (False, None, "small", md[2]), (False, None, "medium", md[2]),
        (False, None, "large", md[2]),
    ]  # fmt: skip
    return np.asarray(
        [_mean(p, precision if ap else recall, ap=ap, iou=iou, area=area, max_det=m)
         for ap, iou, area, m in det]
    )  # fmt: skip


STAT_NAMES: dict[str, tuple[str, ...]] = {
    "detection": (
        "AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large",
        "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large",
    ),
    "keypoints": (
        "AP", "AP50", "AP75", "AP_medium", "AP_large",
        "AR", "AR50", "AR75", "AR_medium", "AR_large",
    ),
}  # fmt: skip
"""Names of `stats` entries, in COCOeval's order (AR1/AR10/AR100 follow `max_dets`)."""
