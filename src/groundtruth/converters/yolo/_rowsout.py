"""Annotations to YOLO rows, task by task (MAPPING.md#per-task): boxes, rings, oriented
corners and keypoints, normalised, with every change of shape or loss reported."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ...geometry import box_to_ring
from ...models import AnnotationBase, BBox, Classification, Keypoints, Mask, Polygon
from .. import _rle
from . import _codes as C
from ._shapes import largest_part, merge_parts, min_area_rect, trace_mask

if TYPE_CHECKING:
    from ._loss import Loss
    from ._write import Choices

_PROVENANCE = ("annotator", "guideline", "created", "status", "frame", "time", "track_id",
               "consensus")
# Keys of other tools' extensions that hold nothing a YOLO file loses: derivable values and
# converter bookkeeping.
_DERIVABLE = {"coco": {"area", "num_keypoints", "@index", "@absent", "part_of", "iscrowd",
                       "segmentation", "bbox", "id", "image_id", "category_id"}}


def number(v: float, decimals: int) -> str:
    """Fixed-point with trailing zeros cut: `0.5`, `0.1333333333`, never `1e-05`."""
    s = f"{v:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


class RowMaker:
    """The row-building half of `YoloWriter` (a mixin): one annotation to its row(s)."""

    c: Choices
    task: str
    loss: Loss
    class_ids: dict[str, int]
    kpt_k: int | None
    kpt_d: int

    def _ann_loss(self, ann: AnnotationBase) -> None:
        lost = [k for k in _PROVENANCE if getattr(ann, k) not in (None, [], {})]
        if ann.sources:
            lost.append("sources")
        if ann.confidence is not None and not (self.c.confidence and self.task == "detect"):
            lost.append("confidence")
        if ann.attributes:
            lost.append("attributes")
        for ns, payload in ann.extensions.items():
            if ns == "yolo":
                continue
            keep = _DERIVABLE.get(ns, set())
            extra = sorted(k for k in payload if k not in keep)
            if extra:
                lost.append(f"extensions.{ns}.{'/'.join(extra)}")
        if lost:
            self.loss.add(C.PROVENANCE, f"not carried: {', '.join(lost)}", ann.id)

    def _class(self, ann: AnnotationBase) -> int | None:
        if ann.label is not None:
            idx = self.class_ids.get(ann.label)
            if idx is not None:
                return idx
        cid = ann.extensions.get("yolo", {}).get("class_id")
        if isinstance(cid, int):
            return cid
        self.loss.add(C.UNLABELLED, "an annotation without a label has no class id: left out",
                      ann.id)
        return None

    # -- rows -----------------------------------------------------------------------------------
    def _rows(self, ann: AnnotationBase, width: int, height: int) -> list[str]:
        if isinstance(ann, Classification) or not isinstance(
                ann, BBox | Polygon | Mask | Keypoints):
            kind = getattr(ann, "type", type(ann).__name__)
            self.loss.add(C.LOST_ANNOTATION, f"a {kind} annotation has no place in a YOLO "
                          f"{self.task} label file", ann.id)
            return []
        crowd = _is_crowd(ann)
        if crowd and self.c.crowd == "skip":
            self.loss.add(C.CROWD, "a crowd region (iscrowd=1) is not an object instance: "
                          "skipped (-w crowd=box writes its box)", ann.id)
            return []
        cls = self._class(ann)
        if cls is None:
            return []
        self._ann_loss(ann)
        if crowd and self.c.crowd == "box":
            self.loss.add(C.CROWD, "a crowd region written as its box", ann.id)
            box = _extent(ann)
            if box is None:
                return []
            return [self._line(cls, self._shape_values(box_to_ring(box), width, height)
                               if self.task in ("segment", "obb") else
                               _box_values(box, width, height))]
        if self.task == "detect":
            return self._detect(ann, cls, width, height)
        if self.task == "segment":
            return self._segment(ann, cls, width, height)
        if self.task == "obb":
            return self._obb(ann, cls, width, height)
        return self._pose(ann, cls, width, height)

    def _line(self, cls: int, values: Sequence[float], tail: Sequence[str] = ()) -> str:
        p = self.c.precision
        return " ".join([str(cls), *(number(v, p) for v in values), *tail])

    def _shape_values(self, ring: Sequence[float], width: int, height: int) -> list[float]:
        return [v / (width if i % 2 == 0 else height) for i, v in enumerate(ring)]

    def _detect(self, ann: AnnotationBase, cls: int, width: int, height: int) -> list[str]:
        box: list[float]
        if isinstance(ann, BBox):
            box = list(ann.bbox)
            if ann.rotation:
                ring = box_to_ring(box, ann.rotation)
                box = _ring_extent([ring]) or box
                self.loss.add(C.ROTATION, f"rotation {ann.rotation:g} degrees dropped: written "
                              "as the rotated box's axis-aligned extent", ann.id,
                              hint="-w task=obb keeps the rotation")
        else:
            extent = _extent(ann)
            if extent is None:
                self.loss.add(C.MASK_SKIPPED, "a shape with no extent: left out", ann.id)
                return []
            box = extent
            self.loss.add(C.AS_BOX, f"a {type_of(ann)} written as its box", ann.id,
                          hint="-w task=segment (or pose) keeps the shape")
        tail: tuple[str, ...] = ()
        if self.c.confidence and ann.confidence is not None:
            tail = (number(ann.confidence, self.c.precision),)
        return [self._line(cls, _box_values(box, width, height), tail)]

    def _rings(self, ann: AnnotationBase, width: int, height: int) -> list[list[float]]:
        """The outer rings of a shape for segment/obb (holes reported as lost)."""
        if isinstance(ann, Polygon):
            if ann.holes:
                self.loss.add(C.HOLES, f"{len(ann.holes)} hole(s) dropped: YOLO polygons are "
                              "one ring without holes", ann.id)
            return [list(p) for p in ann.polygon if len(p) >= 6]
        if isinstance(ann, BBox):
            return [box_to_ring(ann.bbox, ann.rotation)]
        if isinstance(ann, Keypoints):
            box = _extent(ann)
            return [] if box is None else [box_to_ring(box)]
        assert isinstance(ann, Mask)
        if ann.rle is None:
            if ann.bbox is not None and self.c.masks == "box":
                return [box_to_ring(ann.bbox)]
            self.loss.add(C.MASK_SKIPPED, "a mask stored as an image file (uri) cannot be "
                          "traced: left out", ann.id)
            return []
        if self.c.masks == "skip":
            self.loss.add(C.MASK_SKIPPED, "a mask left out (-w masks=skip)", ann.id)
            return []
        h, w = ann.rle.size
        counts = (_rle.counts_from_string(ann.rle.counts) if isinstance(ann.rle.counts, str)
                  else ann.rle.counts)
        if self.c.masks == "box":
            self.loss.add(C.AS_BOX, "a mask written as its box (-w masks=box)", ann.id)
            return [box_to_ring(_rle.to_bbox(counts, h))]
        try:
            mask = _rle.decode(counts, h, w)
        except ValueError as err:
            self.loss.add(C.MASK_SKIPPED, f"a mask whose RLE cannot be decoded ({err}): left "
                          "out", ann.id)
            return []
        outers, holes = trace_mask(mask, self.c.mask_tolerance)
        self.loss.add(C.MASK_TRACED, f"an RLE mask traced to {len(outers)} polygon part(s) "
                      f"(Douglas-Peucker tolerance {self.c.mask_tolerance:g} px)"
                      + (f"; {len(holes)} hole(s) dropped" if holes else ""), ann.id)
        return outers

    def _segment(self, ann: AnnotationBase, cls: int, width: int, height: int) -> list[str]:
        rings = self._rings(ann, width, height)
        if not rings:
            return []
        if isinstance(ann, BBox):
            self.loss.add(C.BOX_AS_POLYGON, "a box written as its 4 corners", ann.id)
        elif isinstance(ann, Keypoints):
            self.loss.add(C.AS_BOX, "keypoints written as their box (a segment row has no "
                          "keypoints)", ann.id, hint="-w task=pose keeps the keypoints")
        if len(rings) > 1:
            if self.c.multipart == "split":
                self.loss.add(C.MULTI_PART, f"{len(rings)} parts written as {len(rings)} rows "
                              "(one object becomes several)", ann.id)
                return [self._line(cls, self._shape_values(r, width, height)) for r in rings]
            if self.c.multipart == "largest":
                self.loss.add(C.MULTI_PART, f"{len(rings)} parts: only the largest written",
                              ann.id)
                rings = [largest_part(rings)]
            else:
                self.loss.add(C.MULTI_PART, f"{len(rings)} parts merged into one ring through "
                              "zero-width bridges", ann.id)
                rings = [merge_parts(rings)]
        return [self._line(cls, self._shape_values(rings[0], width, height))]

    def _obb(self, ann: AnnotationBase, cls: int, width: int, height: int) -> list[str]:
        if isinstance(ann, BBox):
            ring = box_to_ring(ann.bbox, ann.rotation)
            if ann.extensions.get("yolo", {}).get("corners") == "counterclockwise":
                ring = [*ring[0:2], *ring[6:8], *ring[4:6], *ring[2:4]]
        elif isinstance(ann, Polygon) and len(ann.polygon) == 1 and len(ann.polygon[0]) == 8 \
                and not ann.holes:
            ring = list(ann.polygon[0])  # 4 corners, written as they are
        else:
            rings = self._rings(ann, width, height)
            if not rings:
                return []
            ring = min_area_rect([v for r in rings for v in r])
            self.loss.add(C.AS_BOX, f"a {type_of(ann)} written as its minimum-area rotated "
                          "rectangle", ann.id)
        tail: tuple[str, ...] = ()
        if self.c.confidence and ann.confidence is not None:
            tail = (number(ann.confidence, self.c.precision),)
        return [self._line(cls, self._shape_values(ring, width, height), tail)]

    def _pose(self, ann: AnnotationBase, cls: int, width: int, height: int) -> list[str]:
        if not isinstance(ann, Keypoints):
            self.loss.add(C.LOST_ANNOTATION, f"a {type_of(ann)} has no keypoints: a pose row "
                          "needs them", ann.id)
            return []
        kp = ann.keypoints
        k = len(kp) // 3
        if self.kpt_k is None:
            self.kpt_k = k
        if k != self.kpt_k:
            self.loss.add(C.KEYPOINTS, f"{k} keypoints where kpt_shape has {self.kpt_k}: left "
                          "out", ann.id)
            return []
        box = list(ann.bbox) if ann.bbox is not None else _extent(ann)
        if box is None:
            box = [0.0, 0.0, 0.0, 0.0]
        values = _box_values(box, width, height)
        dropped = 0
        for i in range(k):
            x, y, v = kp[3 * i], kp[3 * i + 1], kp[3 * i + 2]
            if v == 0:
                x = y = 0.0
            values.extend((x / width, y / height))
            if self.kpt_d == 3:
                values.append(v)
            elif v == 1:
                dropped += 1
        if dropped:
            self.loss.add(C.KEYPOINTS, f"{dropped} occluded keypoint(s) (v=1) written as "
                          "visible: kpt_shape has no visibility column", ann.id)
        line = self._line(cls, values[:4]) + "".join(
            " " + (str(int(values[4 + j])) if self.kpt_d == 3 and j % 3 == 2
                   else number(values[4 + j], self.c.precision))
            for j in range(len(values) - 4))
        return [line]


def type_of(ann: AnnotationBase) -> str:
    return str(getattr(ann, "type", type(ann).__name__))


def _is_crowd(ann: AnnotationBase) -> bool:
    coco = ann.extensions.get("coco", {})
    return bool(coco.get("iscrowd")) or ann.attributes.get("iscrowd") in (1, True)


def _ring_extent(rings: Sequence[Sequence[float]]) -> list[float] | None:
    xs = [v for r in rings for v in r[0::2]]
    ys = [v for r in rings for v in r[1::2]]
    if not xs:
        return None
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def _extent(ann: AnnotationBase) -> list[float] | None:
    if isinstance(ann, BBox):
        return _ring_extent([box_to_ring(ann.bbox, ann.rotation)])
    if isinstance(ann, Polygon):
        return list(ann.bbox) if ann.bbox is not None else _ring_extent(ann.polygon)
    if isinstance(ann, Mask):
        if ann.bbox is not None:
            return list(ann.bbox)
        if ann.rle is not None:
            counts = (_rle.counts_from_string(ann.rle.counts) if isinstance(ann.rle.counts, str)
                      else ann.rle.counts)
            box = _rle.to_bbox(counts, ann.rle.size[0])
            return box if box[2] > 0 else None
        return None
    if isinstance(ann, Keypoints):
        if ann.bbox is not None:
            return list(ann.bbox)
        kp = ann.keypoints
        pts = [(kp[i], kp[i + 1]) for i in range(0, len(kp) - 2, 3) if kp[i + 2] > 0]
        if not pts:
            return None
        return _ring_extent([[v for p in pts for v in p]])
    return None


def _box_values(box: Sequence[float], width: int, height: int) -> list[float]:
    x, y, w, h = (float(v) for v in box)
    return [(x + w / 2) / width, (y + h / 2) / height, w / width, h / height]
