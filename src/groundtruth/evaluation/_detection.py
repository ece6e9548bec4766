"""Detection, segmentation and keypoint metrics on groundtruth annotations (COCO's rules).

Turns ground-truth and predicted annotations into the flat instances `_cocoeval` scores, the
way pycocotools' `COCO` / `loadRes` would see the same data:

- ground truth `area` and `iscrowd` come from the COCO fields the reader keeps
  (`extensions.coco.area`, `.iscrowd`, `.num_keypoints`); a native dataset without them gets the
  box area (bbox), the rasterised pixel area (polygon, mask) and `attributes.iscrowd`;
- prediction areas follow `loadRes`: box area where the prediction has a box, else the mask
  area, else (keypoints) the extent of all its points;
- bbox evaluation uses every box-bearing annotation (boxes, polygons and masks with their
  stated or derived box; keypoints only when no polygon/mask part carries their geometry),
  segm every polygon and RLE mask (a predicted box becomes its rectangle, as `loadRes` does),
  keypoints every keypoints annotation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..converters import _rle
from ..geometry import DEFAULT_SIGMA
from ..issues import Location
from ..models import AnnotationBase, BBox, Item, Keypoints, Mask, Polygon
from . import _cocoeval as ce
from ._errors import EvaluationInputError

COCO = "coco"
BOX_TYPES = ("bbox", "polygon", "mask", "keypoints")
SEGM_TYPES = ("polygon", "mask")


def _coco_ext(ann: AnnotationBase) -> dict[str, Any]:
    ext = ann.extensions.get(COCO)
    return ext if isinstance(ext, dict) else {}


def iou_types_for(anns: Sequence[AnnotationBase]) -> list[ce.IouType]:
    """The evaluations the ground truth supports: bbox for any region, segm for polygons and
    masks, keypoints for keypoints."""
    types = {a.type for a in anns}  # type: ignore[attr-defined]
    out: list[ce.IouType] = []
    if types & set(BOX_TYPES):
        out.append("bbox")
    if types & set(SEGM_TYPES):
        out.append("segm")
    if "keypoints" in types:
        out.append("keypoints")
    return out


def _size(item: Item | None, ann: AnnotationBase) -> tuple[int, int]:
    if item is None or item.width is None or item.height is None:
        raise EvaluationInputError(
            f"annotation {ann.id!r} is a polygon (or box) on item {ann.item_id!r}, which has no "
            "width/height: segm evaluation rasterises it on the image",
            hint="give the item its width and height (COCO `images[].width/height`)",
            location=Location(record_id=ann.id),
        )
    return int(item.height), int(item.width)


def _mask(ann: AnnotationBase, item: Item | None) -> tuple[int, int, np.ndarray[Any, Any]] | None:
    if isinstance(ann, Mask):
        if ann.rle is None:
            return None  # a mask image by URI: not decoded here (counted as skipped)
        h, w = int(ann.rle.size[0]), int(ann.rle.size[1])
        counts = ann.rle.counts
        c = _rle.counts_from_string(counts) if isinstance(counts, str) else np.asarray(counts)
        return h, w, np.asarray(c, dtype=np.int64)
    h, w = _size(item, ann)
    if isinstance(ann, Polygon):
        return h, w, _rle.polygons_to_counts(ann.polygon, h, w, ann.holes)
    if isinstance(ann, BBox):
        x, y, bw, bh = ann.bbox
        ring = [x, y, x, y + bh, x + bw, y + bh, x + bw, y]  # loadRes' rectangle
        return h, w, _rle.polygons_to_counts([ring], h, w)
    return None


def _box(ann: AnnotationBase, mask: tuple[int, int, Any] | None) -> list[float] | None:
    box = getattr(ann, "bbox", None)
    if box is not None:
        return [float(v) for v in box]
    if isinstance(ann, Polygon):
        return _rle.poly_bbox(ann.polygon)
    if isinstance(ann, Mask) and mask is not None:
        return _rle.to_bbox(mask[2], mask[0])
    if isinstance(ann, Keypoints):
        return _kp_extent(ann.keypoints, labelled_only=True)[0]
    return None


def _kp_extent(kps: Sequence[float], *, labelled_only: bool) -> tuple[list[float], float]:
    p = np.asarray(kps, dtype=np.float64).reshape(-1, 3)
    if labelled_only:
        p = p[p[:, 2] > 0]
    if len(p) == 0:
        return [0.0, 0.0, 0.0, 0.0], 0.0
    x0, x1 = float(p[:, 0].min()), float(p[:, 0].max())
    y0, y1 = float(p[:, 1].min()), float(p[:, 1].max())
    return [x0, y0, x1 - x0, y1 - y0], (x1 - x0) * (y1 - y0)


def _crowd(ann: AnnotationBase) -> bool:
    ext = _coco_ext(ann)
    if "iscrowd" in ext:
        return bool(ext["iscrowd"])
    return bool(ann.attributes.get("iscrowd", False))


@dataclass
class Side:
    """One side's instances and the annotations they came from (row i <- anns[i])."""

    instances: ce.Instances
    anns: list[AnnotationBase]
    skipped: int  # annotations of a fitting type that could not be scored (mask URIs)


def _select(anns: Sequence[AnnotationBase], iou_type: ce.IouType) -> list[AnnotationBase]:
    if iou_type == "segm":
        return [a for a in anns if a.type in SEGM_TYPES]  # type: ignore[attr-defined]
    if iou_type == "keypoints":
        return [a for a in anns if a.type == "keypoints"]  # type: ignore[attr-defined]
    parts = {_coco_ext(a).get("part_of") for a in anns if a.type in SEGM_TYPES}  # type: ignore[attr-defined]
    return [
        a for a in anns
        if a.type in BOX_TYPES and not (a.type == "keypoints" and a.id in parts)  # type: ignore[attr-defined]
    ]  # fmt: skip


def build_side(
    anns: Sequence[AnnotationBase],
    iou_type: ce.IouType,
    *,
    images: Mapping[str, int],
    categories: Mapping[str, int],
    items: Mapping[str, Item],
    predictions: bool,
    relabel: Mapping[str, str] | None = None,
) -> Side:
    """Instances of `anns` on the evaluated images and categories (others are left out here;
    the caller counts them)."""
    rows: list[AnnotationBase] = []
    img: list[int] = []
    cat: list[int] = []
    area: list[float] = []
    score: list[float] = []
    crowd: list[bool] = []
    ignore: list[bool] = []
    zero: list[bool] = []
    boxes: list[list[float]] = []
    masks: list[tuple[int, int, Any]] = []
    kps: list[list[float]] = []
    skipped = 0
    if iou_type == "segm" and predictions:
        pool = [a for a in anns if a.type in (*SEGM_TYPES, "bbox")]  # type: ignore[attr-defined]
    else:
        pool = _select(anns, iou_type)
    for a in pool:
        i = images.get(a.item_id)
        name = relabel.get(a.label, a.label) if relabel and a.label is not None else a.label
        k = categories.get(name) if name is not None else None
        if i is None or k is None:
            continue
        item = items.get(a.item_id)
        mask = None
        if iou_type == "segm":
            mask = _mask(a, item)
            if mask is None:
                skipped += 1
                continue
            masks.append(mask)
        box = _box(a, mask)
        ext = _coco_ext(a)
        if iou_type == "keypoints":
            assert isinstance(a, Keypoints)
            kps.append([float(v) for v in a.keypoints])
            if predictions and box is None:
                box, _ = _kp_extent(a.keypoints, labelled_only=False)
        boxes.append(box if box is not None else [0.0, 0.0, 0.0, 0.0])
        if predictions:
            if getattr(a, "bbox", None) is not None:
                ar = float(a.bbox[2]) * float(a.bbox[3])  # type: ignore[attr-defined]
            elif mask is not None:
                ar = float(_rle.area(mask[2]))
            elif isinstance(a, Keypoints):
                ar = _kp_extent(a.keypoints, labelled_only=False)[1]
            else:
                ar = 0.0
        elif isinstance(ext.get("area"), int | float) and not isinstance(ext.get("area"), bool):
            ar = float(ext["area"])
        elif mask is not None:
            ar = float(_rle.area(mask[2]))
        elif (isinstance(a, Mask) and a.rle is not None) or (
            isinstance(a, Polygon) and item is not None and item.width and item.height
        ):
            m = _mask(a, item)
            ar = float(_rle.area(m[2])) if m is not None else 0.0
        elif isinstance(a, Polygon):
            ar = _rle.poly_area(a.polygon, a.holes)  # no image size to rasterise on
        else:
            b = box or [0.0, 0.0, 0.0, 0.0]
            ar = b[2] * b[3]
        rows.append(a)
        img.append(i)
        cat.append(k)
        area.append(ar)
        score.append(1.0 if a.confidence is None else float(a.confidence))
        crowd.append(_crowd(a))
        zero.append(not predictions and a.id == "0" and COCO in a.extensions)
        if iou_type == "keypoints" and not predictions:
            assert isinstance(a, Keypoints)
            nk = ext.get("num_keypoints")
            if not isinstance(nk, int):
                nk = int(np.count_nonzero(np.asarray(a.keypoints[2::3]) > 0))
            ignore.append(nk == 0)
        else:
            ignore.append(False)
    n = len(rows)
    inst = ce.Instances(
        image=np.asarray(img, dtype=np.int64),
        category=np.asarray(cat, dtype=np.int64),
        area=np.asarray(area, dtype=np.float64),
        score=np.asarray(score, dtype=np.float64),
        iscrowd=np.asarray(crowd, dtype=bool),
        ignore=np.asarray(ignore, dtype=bool),
        id_zero=np.asarray(zero, dtype=bool),
        boxes=np.asarray(boxes, dtype=np.float64).reshape(n, 4),
        masks=masks if iou_type == "segm" else None,
        keypoints=_kp_matrix(kps, rows) if iou_type == "keypoints" else None,
    )
    return Side(inst, rows, skipped)


def _kp_matrix(kps: list[list[float]], rows: Sequence[AnnotationBase]) -> np.ndarray[Any, Any]:
    width = max((len(k) for k in kps), default=0)
    out = np.zeros((len(kps), width))
    for i, k in enumerate(kps):
        if len(k) != width:
            raise EvaluationInputError(
                f"keypoints annotation {rows[i].id!r} has {len(k) // 3} points where others have "
                f"{width // 3}: OKS compares the same keypoint schema",
                hint="evaluate one keypoint label (schema) at a time, or fix the annotation",
                location=Location(record_id=rows[i].id),
            )
        out[i] = k
    return out


def sigmas_for(
    categories: Sequence[str],
    n_points: int,
    taxonomy_sigmas: Mapping[str, Sequence[float]],
    notes: list[str],
    used: set[int] | None = None,
) -> list[np.ndarray[Any, Any]]:
    """OKS sigmas per category: the taxonomy's (`extensions.oks.sigmas` of the label) or the
    caller's, COCO person's for 17 points, else `DEFAULT_SIGMA` for every point (noted for the
    categories in `used`, those with keypoint ground truth)."""
    out: list[np.ndarray[Any, Any]] = []
    for k, name in enumerate(categories):
        given = taxonomy_sigmas.get(name)
        if given is not None and (used is None or k in used):
            if len(given) != n_points:
                raise EvaluationInputError(
                    f"label {name!r} has {len(given)} OKS sigmas for {n_points} keypoints",
                    hint="give one sigma per keypoint, in the label's keypoint order",
                )
            out.append(np.asarray(given, dtype=np.float64))
        elif n_points == 17:
            out.append(ce.PERSON_SIGMAS)
        else:
            out.append(np.full(n_points, DEFAULT_SIGMA))
            if n_points and (used is None or k in used):
                notes.append(
                    f"label {name!r}: no OKS sigmas for its {n_points} keypoints; used "
                    f"{DEFAULT_SIGMA} for each (set `extensions.oks.sigmas` on the label)"
                )
    return out


def per_label(result: ce.CocoEvalResult, categories: Sequence[str]) -> list[dict[str, Any]]:
    """AP (IoU .50:.95), AP50, AP75 and AR at the last maxDets, area `all`, per category."""
    prec, rec = result.precision, result.recall
    t50 = np.where(result.params.iou_thresholds == 0.5)[0]
    t75 = np.where(result.params.iou_thresholds == 0.75)[0]

    def mean(s: np.ndarray[Any, Any]) -> float | None:
        v = s[s > -1]
        return None if v.size == 0 else float(np.mean(v))

    out = []
    for k, name in enumerate(categories):
        out.append(
            {
                "label": name,
                "AP": mean(prec[:, :, k, 0, -1]),
                "AP50": mean(prec[t50, :, k, 0, -1]),
                "AP75": mean(prec[t75, :, k, 0, -1]),
                "AR": mean(rec[:, k, 0, -1]),
            }
        )
    return out


def evaluate_iou_type(
    gt: Sequence[AnnotationBase],
    pred: Sequence[AnnotationBase],
    iou_type: ce.IouType,
    *,
    images: Sequence[str],
    categories: Sequence[str],
    items: Mapping[str, Item],
    max_dets: Sequence[int] | None = None,
    taxonomy_sigmas: Mapping[str, Sequence[float]] | None = None,
    notes: list[str] | None = None,
    relabel: Mapping[str, str] | None = None,
) -> tuple[ce.CocoEvalResult, Side, Side]:
    """COCOeval for one IoU type over `images` (evaluation order) and `categories`."""
    img_idx = {name: i for i, name in enumerate(images)}
    cat_idx = {name: k for k, name in enumerate(categories)}
    g = build_side(gt, iou_type, images=img_idx, categories=cat_idx, items=items, predictions=False)
    d = build_side(
        pred, iou_type, images=img_idx, categories=cat_idx, items=items, predictions=True,
        relabel=relabel,
    )
    sig = None
    if iou_type == "keypoints":
        width = max(
            (x.shape[1] for x in (g.instances.keypoints, d.instances.keypoints)
             if x is not None and x.size),
            default=0,
        )  # fmt: skip
        for side in (g, d):
            kp = side.instances.keypoints
            if kp is not None and kp.size and kp.shape[1] != width:
                raise EvaluationInputError(
                    f"predicted keypoints have {kp.shape[1] // 3} points, ground truth "
                    f"{width // 3}: OKS compares the same keypoint schema",
                    hint="predict the label's keypoints in its order",
                )
            if kp is not None and not kp.size:
                side.instances.keypoints = np.zeros((0, width))
        sig = sigmas_for(
            categories, width // 3, taxonomy_sigmas or {}, notes if notes is not None else [],
            used=set(g.instances.category.tolist()),
        )
    params = ce.Params.for_type(iou_type, max_dets)
    return ce.evaluate(g.instances, d.instances, len(categories), params, sigmas=sig), g, d
