"""Matching annotations of two annotators: similarity of regions and spans, optimal assignment.

Similarity is IoU for boxes, polygons and masks (a box compared with a polygon is turned into a
polygon), OKS for keypoints, and character IoU (|overlap| / |union| of the code-point ranges)
for text spans. Matching is one-to-one and maximises total similarity
(`scipy.optimize.linear_sum_assignment`); pairs below the threshold do not match.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from .. import geometry as geo
from ..models import BBox, Keypoints, Mask, Polygon, Span
from ..models.annotations import AnnotationBase

FloatArray = npt.NDArray[np.float64]

REGION_TYPES = ("bbox", "polygon", "mask", "keypoints")
"""Annotation types compared by geometry."""


@dataclass(frozen=True, slots=True)
class Shape:
    """An annotation reduced to what similarity needs. `kind`: box, poly, mask, kps or span."""

    kind: str
    box: tuple[float, float, float, float] | None = None
    poly: geo.Shape | None = None
    mask: npt.NDArray[np.bool_] | None = None
    kps: tuple[float, ...] | None = None
    area: float = 0.0
    start: int = 0
    end: int = 0


class UnsupportedShapeError(ValueError):
    """An annotation cannot be compared geometrically (e.g. a mask stored only as a URI)."""


def shape_of(ann: AnnotationBase) -> Shape:
    """Reduce an annotation to a comparable `Shape`; raises UnsupportedShapeError if it cannot."""
    if isinstance(ann, BBox):
        if ann.rotation:
            return Shape("poly", poly=([geo.box_to_ring(ann.bbox, ann.rotation)], []))
        x, y, w, h = ann.bbox
        return Shape("box", box=(x, y, w, h))
    if isinstance(ann, Polygon):
        return Shape("poly", poly=(ann.polygon, ann.holes))
    if isinstance(ann, Mask):
        if ann.rle is None:
            raise UnsupportedShapeError(
                "a mask given only by `uri` cannot be compared; store it as RLE"
            )
        return Shape("mask", mask=geo.rle_decode(ann.rle.size, ann.rle.counts))
    if isinstance(ann, Keypoints):
        return Shape(
            "kps", kps=tuple(ann.keypoints), area=geo.keypoints_area(ann.keypoints, ann.bbox)
        )
    if isinstance(ann, Span):
        return Shape("span", start=ann.start, end=ann.end)
    raise UnsupportedShapeError(f"annotations of type {getattr(ann, 'type', '?')!r} have no shape")


def _as_poly(s: Shape) -> geo.Shape | None:
    if s.poly is not None:
        return s.poly
    if s.box is not None:
        return ([geo.box_to_ring(s.box)], [])
    return None


def similarity(a: Shape, b: Shape) -> float:
    """IoU (regions, spans) or OKS (keypoints) of two shapes; 0.0 for incomparable kinds."""
    if a.kind == "box" and b.kind == "box" and a.box is not None and b.box is not None:
        return float(geo.box_iou([a.box], [b.box])[0, 0])
    if a.kind in ("box", "poly") and b.kind in ("box", "poly"):
        pa, pb = _as_poly(a), _as_poly(b)
        return geo.polygon_iou(pa, pb) if pa is not None and pb is not None else 0.0
    if a.kind == "mask" and b.kind == "mask" and a.mask is not None and b.mask is not None:
        return geo.mask_iou(a.mask, b.mask) if a.mask.shape == b.mask.shape else 0.0
    if a.kind == "kps" and b.kind == "kps" and a.kps is not None and b.kps is not None:
        if len(a.kps) != len(b.kps):
            return 0.0
        value = geo.oks(a.kps, b.kps, (a.area + b.area) / 2.0)
        return 0.0 if value is None else value
    if a.kind == "span" and b.kind == "span":
        inter = min(a.end, b.end) - max(a.start, b.start)
        union = max(a.end, b.end) - min(a.start, b.start)
        return inter / union if inter > 0 and union > 0 else 0.0
    return 0.0


def similarity_matrix(a: Sequence[Shape], b: Sequence[Shape]) -> FloatArray:
    """Similarity of every shape in `a` with every shape in `b` (boxes vectorised)."""
    out = np.zeros((len(a), len(b)))
    if not a or not b:
        return out
    boxes_a = [s.box for s in a if s.kind == "box" and s.box is not None]
    boxes_b = [s.box for s in b if s.kind == "box" and s.box is not None]
    if len(boxes_a) == len(a) and len(boxes_b) == len(b):
        return geo.box_iou(boxes_a, boxes_b)
    for i, sa in enumerate(a):
        for j, sb in enumerate(b):
            out[i, j] = similarity(sa, sb)
    return out


def label_mask(a: Sequence[str | None], b: Sequence[str | None]) -> npt.NDArray[np.bool_]:
    """`[i, j]` is True where the labels agree."""
    la = np.asarray([x if x is not None else "" for x in a], dtype=object)
    lb = np.asarray([x if x is not None else "" for x in b], dtype=object)
    return np.asarray(la[:, None] == lb[None, :], dtype=bool)


def assign(sim: FloatArray, threshold: float) -> list[tuple[int, int, float]]:
    """One-to-one matches `(i, j, similarity)` maximising total similarity, each >= threshold.

    A threshold of 0 still requires a similarity above 0 (some overlap).
    """
    if sim.size == 0:
        return []
    rows, cols = linear_sum_assignment(sim, maximize=True)
    return [
        (int(i), int(j), float(sim[i, j]))
        for i, j in zip(rows, cols, strict=True)
        if sim[i, j] >= threshold and sim[i, j] > 0
    ]


@dataclass(slots=True)
class Cluster:
    """Annotations of different annotators that match each other: one object seen by many."""

    members: list[int]  # indices into the item's annotation list
    annotators: list[str]


def cluster(
    shapes: Sequence[Shape],
    annotators: Sequence[str],
    threshold: float,
    labels: Sequence[str | None] | None = None,
) -> list[Cluster]:
    """Group one item's shapes so each group holds at most one shape per annotator.

    Annotators are taken in sorted order; each one's shapes are matched (optimal assignment on
    the mean similarity to a group's members, >= threshold) to the groups built so far, and
    unmatched shapes open new groups. With `labels`, only shapes with the same label group.
    """
    by_annotator: dict[str, list[int]] = {}
    for idx, who in enumerate(annotators):
        by_annotator.setdefault(who, []).append(idx)
    clusters: list[Cluster] = []
    for who in sorted(by_annotator):
        mine = by_annotator[who]
        if clusters:
            sim = np.zeros((len(mine), len(clusters)))
            for ci, c in enumerate(clusters):
                s = similarity_matrix([shapes[i] for i in mine], [shapes[m] for m in c.members])
                if labels is not None:
                    s = s * label_mask([labels[i] for i in mine], [labels[m] for m in c.members])
                sim[:, ci] = s.mean(axis=1)
            matched = assign(sim, threshold)
        else:
            matched = []
        taken = set()
        for i, ci, _ in matched:
            clusters[ci].members.append(mine[i])
            clusters[ci].annotators.append(who)
            taken.add(i)
        for i, idx in enumerate(mine):
            if i not in taken:
                clusters.append(Cluster([idx], [who]))
    return clusters
