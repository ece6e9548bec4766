"""How alike two annotations of the same type are, as a score in [0, 1], per annotation type.

Used to match annotations by content when ids are not stable: boxes, polygons and masks by IoU,
keypoints by OKS, spans and time segments by interval overlap (intersection over union),
classifications, ratings and rankings by equality (a different value of the same label set
still pairs, at a lower score, so a flipped class reads as a change rather than as one removal
plus one addition), free text by equality, then by a similarity ratio.

Every function takes the two sides' annotation lists and returns an `n_old x n_new` matrix.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import geometry
from ..models import AnnotationBase

Matrix = npt.NDArray[np.float64]
SimilarityFn = Callable[[Sequence[Any], Sequence[Any]], Matrix]


def interval_iou(a: npt.ArrayLike, b: npt.ArrayLike) -> Matrix:
    """Overlap (intersection over union) of every interval in `a` (N x 2) with those in `b`.

    Intervals are `[start, end)`. Two empty intervals at the same place count as equal (1.0).
    """
    aa = np.asarray(a, dtype=np.float64).reshape(-1, 2)
    bb = np.asarray(b, dtype=np.float64).reshape(-1, 2)
    inter = np.clip(
        np.minimum(aa[:, 1:2], bb[None, :, 1]) - np.maximum(aa[:, 0:1], bb[None, :, 0]), 0, None
    )
    union = (
        np.maximum(aa[:, 1:2], bb[None, :, 1]) - np.minimum(aa[:, 0:1], bb[None, :, 0])
    )
    out = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    same_point = (union <= 0) & (aa[:, 0:1] == bb[None, :, 0])
    return np.asarray(np.where(same_point, 1.0, out))


def _empty(n: int, m: int) -> Matrix:
    return np.zeros((n, m), dtype=np.float64)


def _pairwise(old: Sequence[Any], new: Sequence[Any], bounds: Callable[[Any], Any],
              score: Callable[[Any, Any], float]) -> Matrix:
    """Exact scores only where the bounding boxes overlap (found with numpy; the expensive
    score runs for those pairs alone)."""
    out = _empty(len(old), len(new))
    if not old or not new:
        return out
    nan = (np.nan,) * 4
    ob = np.array([bounds(a) or nan for a in old], dtype=np.float64)
    nb = np.array([bounds(b) or nan for b in new], dtype=np.float64)
    # comparisons with NaN are False: shapes without bounds overlap nothing
    overlap = ((ob[:, None, 0] < nb[None, :, 2]) & (nb[None, :, 0] < ob[:, None, 2])
               & (ob[:, None, 1] < nb[None, :, 3]) & (nb[None, :, 1] < ob[:, None, 3]))
    for i, j in zip(*np.nonzero(overlap), strict=True):
        out[i, j] = score(old[i], new[j])
    return out


# -- regions -----------------------------------------------------------------------------------


def _box_shape(ann: Any) -> geometry.Shape:
    return ([geometry.box_to_ring(ann.bbox, ann.rotation)], [])


def bbox_similarity(old: Sequence[Any], new: Sequence[Any]) -> Matrix:
    """IoU; rotated boxes are compared as polygons."""
    if not old or not new:
        return _empty(len(old), len(new))
    if not any(a.rotation for a in old) and not any(b.rotation for b in new):
        return geometry.box_iou([a.bbox for a in old], [b.bbox for b in new])
    return _pairwise(old, new, lambda a: geometry.rings_bounds(_box_shape(a)[0]),
                     lambda a, b: geometry.polygon_iou(_box_shape(a), _box_shape(b),
                                                       POLYGON_RESOLUTION))


POLYGON_RESOLUTION = 256
"""Grid cells along the longer side when rasterising two polygons for their IoU: the IoU is
within about 1% for shapes a few cells wide, at a quarter of the cost of the default 512."""


def polygon_similarity(old: Sequence[Any], new: Sequence[Any]) -> Matrix:
    """IoU of the filled shapes (parts unioned, holes subtracted)."""
    return _pairwise(old, new, lambda a: geometry.rings_bounds(a.polygon),
                     lambda a, b: geometry.polygon_iou((a.polygon, a.holes), (b.polygon, b.holes),
                                                       POLYGON_RESOLUTION))


def mask_iou_of(a: Any, b: Any) -> float:
    """IoU of two mask annotations: decoded RLE; masks stored as URIs are equal or not."""
    if a.rle is None or b.rle is None:
        return 1.0 if a.uri is not None and a.uri == b.uri else 0.0
    if tuple(a.rle.size) != tuple(b.rle.size):
        return 0.0
    return geometry.mask_iou(geometry.rle_decode(a.rle.size, a.rle.counts),
                             geometry.rle_decode(b.rle.size, b.rle.counts))


def mask_similarity(old: Sequence[Any], new: Sequence[Any]) -> Matrix:
    out = _empty(len(old), len(new))
    cache: dict[int, Any] = {}

    def decoded(ann: Any) -> Any:
        key = id(ann)
        if key not in cache:
            cache[key] = geometry.rle_decode(ann.rle.size, ann.rle.counts)
        return cache[key]

    for i, a in enumerate(old):
        for j, b in enumerate(new):
            if a.rle is None or b.rle is None or tuple(a.rle.size) != tuple(b.rle.size):
                out[i, j] = mask_iou_of(a, b)
            else:
                out[i, j] = geometry.mask_iou(decoded(a), decoded(b))
    return out


def keypoints_oks(a: Any, b: Any) -> float:
    """OKS (object scale from the old side's box or point extent). With no labelled point on
    either side the boxes decide (IoU), or they are equal when neither has a box."""
    if len(a.keypoints) != len(b.keypoints) or len(a.keypoints) % 3:
        return 0.0
    area = geometry.keypoints_area(a.keypoints, a.bbox)
    if area <= 0:
        area = geometry.keypoints_area(b.keypoints, b.bbox)
    value = geometry.oks(a.keypoints, b.keypoints, max(area, 1.0))
    if value is None:
        if a.bbox is not None and b.bbox is not None:
            return float(geometry.box_iou([a.bbox], [b.bbox])[0, 0])
        return 1.0 if a.bbox is None and b.bbox is None else 0.0
    return value


def keypoints_similarity(old: Sequence[Any], new: Sequence[Any]) -> Matrix:
    out = _empty(len(old), len(new))
    for i, a in enumerate(old):
        for j, b in enumerate(new):
            out[i, j] = keypoints_oks(a, b)
    return out


def _line_box(ann: Any) -> list[float]:
    # A 1-pixel margin gives straight horizontal/vertical lines an area to overlap.
    b = geometry.rings_bounds(ann.polyline) or (0.0, 0.0, 0.0, 0.0)
    return [b[0] - 1, b[1] - 1, b[2] - b[0] + 2, b[3] - b[1] + 2]


def polyline_similarity(old: Sequence[Any], new: Sequence[Any]) -> Matrix:
    """IoU of the lines' extents (with a 1-pixel margin): lines have no area of their own."""
    if not old or not new:
        return _empty(len(old), len(new))
    return geometry.box_iou([_line_box(a) for a in old], [_line_box(b) for b in new])


# -- text and time -----------------------------------------------------------------------------


def span_similarity(old: Sequence[Any], new: Sequence[Any]) -> Matrix:
    if not old or not new:
        return _empty(len(old), len(new))
    return interval_iou([(a.start, a.end) for a in old], [(b.start, b.end) for b in new])


def segment_similarity(old: Sequence[Any], new: Sequence[Any]) -> Matrix:
    if not old or not new:
        return _empty(len(old), len(new))
    return interval_iou([(a.start_time, a.end_time) for a in old],
                        [(b.start_time, b.end_time) for b in new])


def text_ratio(a: str, b: str) -> float:
    """1.0 for equal texts, else difflib's similarity ratio."""
    if a == b:
        return 1.0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < 0.3 or matcher.quick_ratio() < 0.3:
        return matcher.quick_ratio()
    return matcher.ratio()


def transcription_similarity(old: Sequence[Any], new: Sequence[Any]) -> Matrix:
    """Time overlap where both are timed, else the texts' similarity."""
    out = _empty(len(old), len(new))
    for i, a in enumerate(old):
        for j, b in enumerate(new):
            timed = None not in (a.start_time, a.end_time, b.start_time, b.end_time)
            if timed:
                out[i, j] = interval_iou([(a.start_time, a.end_time)],
                                         [(b.start_time, b.end_time)])[0, 0]
            else:
                out[i, j] = text_ratio(a.text, b.text)
    return out


def text_similarity(old: Sequence[Any], new: Sequence[Any]) -> Matrix:
    out = _empty(len(old), len(new))
    for i, a in enumerate(old):
        for j, b in enumerate(new):
            out[i, j] = text_ratio(a.text, b.text)
    return out


# -- judgments ---------------------------------------------------------------------------------


def classification_similarity(old: Sequence[Any], new: Sequence[Any]) -> Matrix:
    """1 for the same label; 0.5 for another label of the same label set (a flip)."""
    out = _empty(len(old), len(new))
    for i, a in enumerate(old):
        for j, b in enumerate(new):
            if a.label == b.label:
                out[i, j] = 1.0
            elif a.label_set == b.label_set:
                out[i, j] = 0.5
    return out


def rating_similarity(old: Sequence[Any], new: Sequence[Any]) -> Matrix:
    """1 for the same criterion and value; 0.5 for the same criterion (label), other value."""
    out = _empty(len(old), len(new))
    for i, a in enumerate(old):
        for j, b in enumerate(new):
            if a.label == b.label and a.label_set == b.label_set:
                out[i, j] = 1.0 if a.value == b.value else 0.5
    return out


def ranking_similarity(old: Sequence[Any], new: Sequence[Any]) -> Matrix:
    """1 for the same order; 0.5 for an order over the same candidates."""
    out = _empty(len(old), len(new))
    for i, a in enumerate(old):
        cands_a = {c for group in a.ranking for c in group}
        for j, b in enumerate(new):
            if a.ranking == b.ranking:
                out[i, j] = 1.0
            elif cands_a == {c for group in b.ranking for c in group}:
                out[i, j] = 0.5
    return out


def relation_similarity(old: Sequence[Any], new: Sequence[Any],
                        id_map: dict[str, str]) -> Matrix:
    """1 when both ends map onto the new relation's ends (matched annotations), 0 otherwise.

    `id_map` maps old annotation ids to the ids of the new annotations they were matched to.
    """
    out = _empty(len(old), len(new))
    for i, a in enumerate(old):
        src, tgt = id_map.get(a.source), id_map.get(a.target)
        for j, b in enumerate(new):
            if (src, tgt) == (b.source, b.target) or (
                not (a.directed and b.directed) and (tgt, src) == (b.source, b.target)
            ):
                out[i, j] = 1.0
    return out


SIMILARITY: dict[str, SimilarityFn] = {
    "bbox": bbox_similarity,
    "polygon": polygon_similarity,
    "polyline": polyline_similarity,
    "mask": mask_similarity,
    "keypoints": keypoints_similarity,
    "span": span_similarity,
    "segment": segment_similarity,
    "transcription": transcription_similarity,
    "text": text_similarity,
    "classification": classification_similarity,
    "rating": rating_similarity,
    "ranking": ranking_similarity,
}
"""Content similarity per annotation type (relations need the id map: `relation_similarity`)."""


def annotation_type(ann: AnnotationBase) -> str:
    return str(ann.type)  # type: ignore[attr-defined]
