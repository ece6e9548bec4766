"""groundtruth records -> COCO JSON, streamed record by record.

The builder yields each section's records one at a time, so a large dataset is serialised in
bounded memory (one record's JSON at a time). What COCO cannot carry becomes a loss-report
Issue (a warning naming the record), never a silent drop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any, TypeVar

import numpy as np
import orjson

from ...dataset import Dataset
from ...errors import ConversionError
from ...issues import Issue, issue
from ...models import (
    AnnotationBase,
    BBox,
    Item,
    Keypoints,
    Label,
    LabelSet,
    Mask,
    Polygon,
    TextAnswer,
)
from .. import _rle
from . import _codes as C
from ._read import ABSENT, EMBED, INDEX, NS

_PROVENANCE = (
    "annotator",
    "created",
    "confidence",
    "status",
    "guideline",
    "sources",
    "consensus",
    "frame",
    "time",
    "track_id",
    "label_set",
)
_ITEM_FIELDS = (
    "sha256",
    "size",
    "media_type",
    "split",
    "metadata",
    "duration",
    "fps",
    "frame_count",
    "sample_rate",
    "text",
    "tokens",
    "messages",
    "candidates",
)
_MANIFEST_FIELDS = (
    "name",
    "description",
    "license",
    "version",
    "creators",
    "annotators",
    "guidelines",
    "splits",
    "metadata",
    "parents",
    "created",
)
_INTERNAL = {
    ABSENT,
    INDEX,
    "part_of",
    "segmentation_extra",
    "results_only",
    "panoptic",
    "segment_id",
}
_TOP_ORDER = ("info", "licenses", "images", "annotations", "categories")

CategoryPolicy = str | dict[str, int]
T = TypeVar("T", Item, AnnotationBase)


@dataclass
class _Out:
    issues: list[Issue] = field(default_factory=list)
    renumbered: dict[str, int] = field(default_factory=lambda: {"images": 0, "annotations": 0})

    def lose(self, code: str, message: str, record_id: str, **kw: Any) -> None:
        self.issues.append(issue(code, message, record_id=record_id, **kw))


def _canonical_int(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and str(int(text)) == text else None


def _overlay(
    rec: dict[str, Any], ext: dict[str, Any] | None, absent: bool = True
) -> dict[str, Any]:
    """Put back the source's own values and drop the keys the source did not have.

    `absent=False` keeps every key: a results record written into a ground-truth file needs
    the `bbox`, `area` and `iscrowd` the results file never had.
    """
    if ext:
        rec.update((k, v) for k, v in ext.items() if k not in _INTERNAL)
        for key in ext.get(ABSENT, ()) if absent else ():
            rec.pop(key, None)
    return rec


def _source_order(records: list[T]) -> list[T]:
    """Records in the order of the COCO arrays they came from; the others after, as given."""

    def key(pair: tuple[int, T]) -> tuple[int, int]:
        index = pair[1].extensions.get(NS, {}).get(INDEX)
        return (0, index) if isinstance(index, int) else (1, pair[0])

    return [r for _, r in sorted(enumerate(records), key=key)]


def _num(v: float) -> int | float:
    # whole numbers as ints (COCO's own style), but only where every JSON tool reads them
    return int(v) if float(v).is_integer() and abs(v) < 2**63 else v


# -- categories --------------------------------------------------------------------------------
def _label_set(ds: Dataset, name: str | None) -> LabelSet:
    sets = ds.manifest.taxonomy.label_sets
    if name is not None:
        found = ds.manifest.label_set(name)
        if found is None:
            raise ConversionError(
                f"no label set named {name!r}",
                hint=f"label sets: {', '.join(s.name for s in sets) or 'none'}",
            )
        return found
    for s in sets:
        if NS in s.extensions:
            return s
    return sets[0] if sets else LabelSet(name="categories")


def category_map(ds: Dataset, policy: CategoryPolicy, lset: LabelSet) -> dict[str, int]:
    """Label name -> COCO category id under `policy` (preserve, 1-based, 0-based or a map)."""
    names = [lab.name for lab in lset.labels]
    seen = set(names)
    for ann in ds.annotations:
        if ann.label is not None and ann.label not in seen and _exportable(ann):
            seen.add(ann.label)
            names.append(ann.label)
    if isinstance(policy, dict):
        missing = [n for n in names if n not in policy]
        if missing:
            raise ConversionError(
                f"the category id map has no id for {len(missing)} label(s): "
                f"{', '.join(missing[:10])}",
                hint="add every label name to the map",
            )
        return {n: int(policy[n]) for n in names}
    if policy in ("1-based", "0-based"):
        start = 1 if policy == "1-based" else 0
        return {n: start + i for i, n in enumerate(names)}
    if policy != "preserve":
        raise ConversionError(
            f"unknown category id policy {policy!r}",
            hint="use preserve, 1-based, 0-based or a JSON map file",
        )
    known = lset.extensions.get(NS, {}).get("category_ids", {})
    out: dict[str, Any] = {n: known[n] for n in names if n in known}
    nxt = max((v for v in out.values() if isinstance(v, int)), default=0) + 1
    for n in names:
        if n not in out:
            out[n] = nxt
            nxt += 1
    return out


_LABEL_FIELDS = ("description", "parent", "attributes", "value")


def _category(label: Label, cid: Any, out: _Out, embed: bool) -> dict[str, Any]:
    rec: dict[str, Any] = {"id": cid, "name": label.name, "supercategory": label.group or ""}
    if label.keypoints:
        rec["keypoints"] = list(label.keypoints)
    if label.skeleton:
        rec["skeleton"] = [[a + 1, b + 1] for a, b in label.skeleton]
    data = label.to_json_dict()
    gt = {k: data[k] for k in _LABEL_FIELDS if k in data}
    others = {k: v for k, v in label.extensions.items() if k != NS}
    if others:
        gt["extensions"] = others
    if gt and embed:
        rec[EMBED] = gt
    elif gt:
        out.lose(
            C.LOST_LABEL_FIELDS, f"COCO categories have no place for: {', '.join(gt)}", label.name
        )
    return _overlay(rec, label.extensions.get(NS))


# -- annotations -------------------------------------------------------------------------------
def _exportable(ann: AnnotationBase) -> bool:
    return isinstance(ann, (BBox, Polygon, Mask, Keypoints, TextAnswer))


def _kp_bbox(kps: list[float]) -> list[float]:
    xs = [kps[i] for i in range(0, len(kps), 3) if kps[i + 2] > 0]
    ys = [kps[i + 1] for i in range(0, len(kps), 3) if kps[i + 2] > 0]
    if not xs:
        return [0.0, 0.0, 0.0, 0.0]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


@dataclass
class _Ctx:
    ds: Dataset
    out: _Out
    cats: dict[str, int]
    image_ids: dict[str, Any]
    sizes: dict[str, tuple[int, int]]
    embed: bool
    results: bool
    caption_category: int | None = None
    same_kind: bool = True


def _segmentation(
    ann: AnnotationBase, ctx: _Ctx, need_box: bool = True, need_area: bool = True
) -> tuple[Any, list[float] | None, float | None] | None:
    """(segmentation JSON, bbox, area) of a polygon or mask; None when it cannot be written.

    bbox and area are computed only when asked for (stored values win on the way out).
    """
    if isinstance(ann, Polygon):
        size = ctx.sizes.get(ann.item_id)
        if ann.holes or (ctx.results and size is not None):
            if size is None:
                ctx.out.lose(
                    C.HOLES_AS_RLE,
                    "polygon with holes on an image without width/height: cannot rasterise; "
                    "dropped",
                    ann.id,
                )
                return None
            # Holes cannot be polygons in COCO; results need RLE (loadRes takes its area).
            counts = _rle.polygons_to_counts(ann.polygon, size[0], size[1], ann.holes)
            if ann.holes:
                ctx.out.lose(
                    C.HOLES_AS_RLE, "polygon with holes written as a compressed RLE mask", ann.id
                )
            seg = {"size": list(size), "counts": _rle.counts_to_string(counts)}
            return seg, _rle.to_bbox(counts, size[0]), float(_rle.area(counts))
        return (
            ann.polygon,
            _rle.poly_bbox(ann.polygon) if need_box else None,
            _rle.poly_area(ann.polygon) if need_area else None,
        )
    if isinstance(ann, Mask):
        if ann.rle is None:
            ctx.out.lose(C.MASK_URI, f"mask stored as an image ({ann.uri}) is not written", ann.id)
            return None
        h, w = ann.rle.size
        counts_raw = ann.rle.counts
        seg = {"size": [h, w], "counts": counts_raw}
        extra = ann.extensions.get(NS, {}).get("segmentation_extra")
        if extra:
            seg.update(extra)
        if not (need_box or need_area or (ctx.results and not isinstance(counts_raw, str))):
            return seg, None, None
        counts = (
            _rle.counts_from_string(counts_raw)
            if isinstance(counts_raw, str)
            else np.asarray(counts_raw, dtype=np.int64)
        )
        if ctx.results and not isinstance(counts_raw, str):
            seg["counts"] = _rle.counts_to_string(counts)
        return seg, _rle.to_bbox(counts, h), float(_rle.area(counts))
    return None


def _provenance(ann: AnnotationBase, ctx: _Ctx, *, score_used: bool) -> dict[str, Any]:
    present = [k for k in _PROVENANCE if getattr(ann, k, None) not in (None, [], {})]
    others = {k: v for k, v in ann.extensions.items() if k != NS}
    if score_used:  # a results file is by a model, with a score: both are carried
        present = [k for k in present if k not in ("confidence", "annotator")]
    numeric = ann.id.isascii() and ann.id.isdigit()
    if not present and not others and not (ctx.embed and not numeric):
        return {}
    data = ann.to_json_dict()
    prov = {k: data[k] for k in present if k in data}
    if others:
        prov["extensions"] = others
    if ctx.embed:
        if not (ann.id.isascii() and ann.id.isdigit()):
            prov["id"] = ann.id
        return prov
    if prov:
        ctx.out.lose(C.LOST_PROVENANCE, f"COCO has no field for: {', '.join(sorted(prov))}", ann.id)
    return {}


def _annotation(
    ann: AnnotationBase, part: AnnotationBase | None, coco_id: int | None, ctx: _Ctx
) -> dict[str, Any] | None:
    ext = ann.extensions.get(NS, {})
    rec: dict[str, Any] = {}
    if not ctx.results:
        rec["id"] = coco_id
    rec["image_id"] = ctx.image_ids[ann.item_id]
    if isinstance(ann, TextAnswer):
        rec["caption"] = ann.text
        if "category_id" in ext:
            rec["category_id"] = ext["category_id"]
        elif ctx.caption_category is not None:
            # COCO() indexes category_id of every annotation once a file has categories; an id
            # no category has (Datumaro writes 0) keeps captions out of every evaluation.
            rec["category_id"] = ctx.caption_category
        gt = _provenance(ann, ctx, score_used=ctx.results)
        if gt:
            rec[EMBED] = gt
        return _overlay(rec, ext, ctx.same_kind)
    if ann.label is not None:
        rec["category_id"] = ctx.cats[ann.label]
    elif "category_id" not in ext:
        ctx.out.lose(
            C.UNLABELLED, "annotation without a label (COCO needs a category); dropped", ann.id
        )
        return None
    if isinstance(ann, BBox):
        if ann.rotation:
            ctx.out.lose(C.LOST_ROTATION, f"rotation {ann.rotation} deg is not written", ann.id)
        box, area = list(ann.bbox), ann.bbox[2] * ann.bbox[3]
        if not ctx.results:
            rec["segmentation"] = []
    elif isinstance(ann, Keypoints):
        rec["keypoints"] = [_num(v) for v in ann.keypoints]
        if not ctx.results:
            rec["num_keypoints"] = sum(1 for v in ann.keypoints[2::3] if v > 0)
        box = list(ann.bbox) if ann.bbox is not None else _kp_bbox(ann.keypoints)
        area = box[2] * box[3]
        if part is not None:
            got = _segmentation(part, ctx, need_box=False, need_area="area" not in ext)
            if got is not None:
                rec["segmentation"] = got[0]
                area = got[2] if got[2] is not None else area
        elif not ctx.results:
            rec["segmentation"] = []
    else:
        stated = getattr(ann, "bbox", None)
        got = _segmentation(ann, ctx, need_box=stated is None, need_area="area" not in ext)
        if got is None:
            return None
        rec["segmentation"], computed, area_or_none = got
        box = list(stated) if stated is not None else (computed or [0.0, 0.0, 0.0, 0.0])
        area = area_or_none if area_or_none is not None else 0.0
    rec["bbox"] = box
    if ctx.results:
        if ann.confidence is not None:
            rec["score"] = ann.confidence
    else:
        rec["area"] = area
        rec["iscrowd"] = 0
    if ann.attributes:
        rec["attributes"] = ann.attributes
    gt = _provenance(ann, ctx, score_used=ctx.results)
    if gt:
        rec[EMBED] = gt
    return _overlay(rec, ext, ctx.same_kind)


def _assign_ids(keys: list[tuple[str, dict[str, Any]]], what: str, out: _Out) -> dict[str, Any]:
    """groundtruth id -> COCO id: the stored original, the id itself if an int, else new ints."""
    ids: dict[str, Any] = {}
    pending: list[str] = []
    used: set[int] = set()
    for key, ext in keys:
        if "id" in ext:
            ids[key] = ext["id"]
        elif (n := _canonical_int(key)) is not None:
            ids[key] = n
        else:
            pending.append(key)
            continue
        # a stored original may be no id at all (a list: reported when read); it is written
        # back as it was, and only ints matter for numbering the others
        if isinstance(ids[key], int):
            used.add(ids[key])
    nxt = max(used, default=0) + 1
    for key in pending:
        ids[key] = nxt
        nxt += 1
    out.renumbered[what] += len(pending)
    return ids


# -- the whole file ----------------------------------------------------------------------------
@dataclass
class CocoDocument:
    """A COCO file to write: top-level values, with the big sections as record iterators."""

    kind: str
    sections: dict[str, Any]
    category_ids: dict[str, int]
    out: _Out

    def write_to(self, f: IO[bytes]) -> None:
        if self.kind == "results":
            _write_array(f, self.sections["annotations"])
            return
        f.write(b"{")
        first = True
        for key, value in self.sections.items():
            f.write(b"" if first else b",")
            first = False
            f.write(orjson.dumps(key) + b":")
            if isinstance(value, Iterator):
                _write_array(f, value)
            else:
                f.write(orjson.dumps(value))
        f.write(b"}\n")


def _write_array(f: IO[bytes], records: Iterator[dict[str, Any]]) -> None:
    f.write(b"[")
    buf: list[bytes] = []
    size = 0
    first = True
    for rec in records:
        data = orjson.dumps(rec, option=orjson.OPT_SERIALIZE_NUMPY)
        if not first:
            buf.append(b",\n")
        first = False
        buf.append(data)
        size += len(data)
        if size > 1 << 20:  # flush every ~1 MiB: bounded memory, few syscalls
            f.write(b"".join(buf))
            buf.clear()
            size = 0
    f.write(b"".join(buf))
    f.write(b"]")


def build(
    ds: Dataset,
    *,
    category_ids: CategoryPolicy = "preserve",
    embed: bool = False,
    results: bool | None = None,
    label_set: str | None = None,
) -> CocoDocument:
    """Plan the COCO file for `ds`; sections stream when written."""
    out = _Out()
    top = dict(ds.manifest.extensions.get(NS, {}))
    kind = source_kind = str(top.pop("kind", "instances"))
    if results is not None:
        kind = "results" if results else ("instances" if kind == "results" else kind)
    keys = list(top.pop("keys", _TOP_ORDER))
    lset = _label_set(ds, label_set)
    cats = category_map(ds, category_ids, lset)

    images = _source_order([it for it in ds.items if it.kind == "image"])
    per_item: dict[str, int] = defaultdict(int)
    for ann in ds.annotations:
        per_item[ann.item_id] += 1
    for it in ds.items:
        if it.kind != "image":
            out.lose(
                C.LOST_ITEM,
                f"{it.kind} item (and its {per_item[it.id]} annotation(s)) "
                "cannot be written to COCO",
                it.id,
            )
    image_ids = _assign_ids([(it.id, it.extensions.get(NS, {})) for it in images], "images", out)
    sizes = {
        it.id: (it.height, it.width)
        for it in images
        if it.height is not None and it.width is not None
    }
    ctx = _Ctx(ds, out, cats, image_ids, sizes, embed, kind == "results")
    ctx.same_kind = (kind == "results") == (source_kind == "results")
    if "categories" in keys and cats and kind != "results":
        ctx.caption_category = 0 if 0 not in cats.values() else -1

    _manifest_loss(ds, out, embed, kind == "results")
    sections: dict[str, Any] = {}
    for key in keys:
        if key == "images":
            sections[key] = _images(images, ctx)
        elif key == "annotations":
            sections[key] = _panoptic(ctx) if kind == "panoptic" else _annotations(ctx)
        elif key == "categories":
            sections[key] = _categories(lset, cats, out, embed)
        elif key in top:
            sections[key] = top[key]
        elif key == "info":
            sections[key] = {
                "description": ds.manifest.description or ds.manifest.name,
                "version": ds.manifest.version or "",
            }
        elif key == "licenses":
            sections[key] = []
    if embed and EMBED not in sections:
        data = ds.manifest.to_json_dict()
        gt = {k: data[k] for k in _MANIFEST_FIELDS if k in data}
        if gt:
            sections[EMBED] = gt
    return CocoDocument(kind, sections, cats, out)


def _manifest_loss(ds: Dataset, out: _Out, embed: bool, results: bool) -> None:
    if embed:
        return
    data = ds.manifest.to_json_dict()
    lost = [
        k
        for k in ("annotators", "guidelines", "creators", "splits", "license", "metadata")
        if k in data and not (k == "annotators" and results)
    ]
    if lost:
        out.lose(
            C.LOST_MANIFEST,
            f"manifest fields COCO has no place for: {', '.join(lost)}",
            ds.manifest.name,
        )


def _categories(
    lset: LabelSet, cats: dict[str, Any], out: _Out, embed: bool
) -> list[dict[str, Any]]:
    by_name = {lab.name: lab for lab in lset.labels}
    return [_category(by_name.get(n) or Label(name=n), cid, out, embed) for n, cid in cats.items()]


def _images(images: list[Item], ctx: _Ctx) -> Iterator[dict[str, Any]]:
    for it in images:
        ext = it.extensions.get(NS, {})
        if ext.get("results_only") and ctx.results:
            continue
        rec: dict[str, Any] = {"id": ctx.image_ids[it.id], "file_name": it.uri}
        if it.width is not None and it.height is not None:
            rec["width"], rec["height"] = it.width, it.height
        elif "width" not in ext:
            ctx.out.lose(C.NO_SIZE, "image without width/height (COCO requires them)", it.id)
        data = it.to_json_dict()
        gt = {k: data[k] for k in _ITEM_FIELDS if k in data}
        others = {k: v for k, v in it.extensions.items() if k != NS}
        if others:
            gt["extensions"] = others
        if ctx.embed and str(rec["id"]) != it.id:
            gt["id"] = it.id
        if gt and ctx.embed:
            rec[EMBED] = gt
        elif gt:
            ctx.out.lose(
                C.LOST_ITEM_FIELDS,
                f"item fields COCO has no place for: {', '.join(sorted(gt))}",
                it.id,
            )
        yield _overlay(rec, ext)


def _annotations(ctx: _Ctx) -> Iterator[dict[str, Any]]:
    anns = ctx.ds.annotations
    by_id = {a.id for a in anns}
    parts: dict[str, AnnotationBase] = {}
    for a in anns:
        of = a.extensions.get(NS, {}).get("part_of")
        if of is not None and of in by_id:
            parts[of] = a
    main = _source_order([a for a in anns if a.extensions.get(NS, {}).get("part_of") not in by_id])
    item_ids = {it.id for it in ctx.ds.items}
    written: list[AnnotationBase] = []
    for a in main:
        if a.item_id not in ctx.image_ids:
            if a.item_id not in item_ids:
                ctx.out.lose(C.LOST_ANNOTATION, f"annotation of unknown item {a.item_id!r}", a.id)
            # else: reported with its (non-image) item
        elif not _exportable(a):
            kind = getattr(a, "type", "?")
            ctx.out.lose(C.LOST_ANNOTATION, f"{kind} annotations have no COCO form", a.id)
        else:
            written.append(a)
    ids = _assign_ids([(a.id, a.extensions.get(NS, {})) for a in written], "annotations", ctx.out)
    for a in written:
        rec = _annotation(a, parts.get(a.id), ids[a.id], ctx)
        if rec is not None:
            yield rec


def _panoptic(ctx: _Ctx) -> Iterator[dict[str, Any]]:
    by_item: dict[str, list[AnnotationBase]] = defaultdict(list)
    for a in ctx.ds.annotations:
        if isinstance(a, Mask) and "segment_id" in a.extensions.get(NS, {}):
            by_item[a.item_id].append(a)
        else:
            ctx.out.lose(C.LOST_ANNOTATION, "a panoptic file holds only segments", a.id)
    for it in _source_order(list(ctx.ds.items)):
        if it.id not in ctx.image_ids:
            continue
        pan = it.extensions.get(NS, {}).get("panoptic")
        if pan is None and not by_item.get(it.id):
            continue
        segs = []
        for a in _source_order(by_item.get(it.id, [])):
            ext = a.extensions.get(NS, {})
            seg: dict[str, Any] = {"id": ext["segment_id"]}
            if a.label is not None:
                seg["category_id"] = ctx.cats[a.label]
            if isinstance(a, Mask) and a.bbox is not None:
                seg["bbox"] = list(a.bbox)
            segs.append(_overlay(seg, ext))
        rec = {"segments_info": segs, "image_id": ctx.image_ids[it.id], **(pan or {})}
        yield rec
