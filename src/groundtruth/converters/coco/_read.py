"""COCO JSON (already parsed) -> groundtruth records.

One pass over each section; every record-level problem becomes an Issue located at the COCO
file's own JSON path (`$.annotations[12].segmentation`) with the record's id, and the rest of
the file is still read. Whatever COCO holds that the model has no field for is kept, as the
original JSON value, in the record's `extensions["coco"]`, so writing COCO back gives the same
JSON values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson

from ...dataset import Dataset
from ...issues import Issue, issue
from ...models import AnnotationBase as Ann
from ...models import (
    Annotator,
    BBox,
    Item,
    Keypoints,
    Label,
    LabelSet,
    Manifest,
    Mask,
    Polygon,
    Rle,
    Taxonomy,
    TextAnswer,
)
from .. import _rle
from . import _codes as C

A = TypeVar("A", bound=Ann)
NS = "coco"
ABSENT = "@absent"
"""Extension key listing standard COCO keys the source record did not have."""
EMBED = "groundtruth"
"""Extra key (ignored by pycocotools) holding embedded groundtruth provenance."""
INDEX = "@index"
"""Extension key holding the record's position in its COCO array, so order round-trips."""
SEGMENTATION_SUFFIX = "-segmentation"
"""Id suffix of the mask/polygon split from a keypoint annotation."""

_IMAGE_KEYS = ("id", "file_name", "width", "height")
_GT_KEYS = ("id", "image_id", "category_id", "segmentation", "area", "bbox", "iscrowd")
_LABEL_FIELDS = ("description", "parent", "attributes", "value")
_RESULT_KEYS = ("category_id", "bbox", "score")


@dataclass
class _Ctx:
    file: str | None
    issues: list[Issue] = field(default_factory=list)
    items: dict[str, Item] = field(default_factory=dict)
    image_keys: dict[Any, str] = field(default_factory=dict)  # raw COCO id -> item id
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # item id -> (h, w)
    labels: dict[Any, str] = field(default_factory=dict)  # raw category id -> label name
    ann_ids: set[str] = field(default_factory=set)
    annotations: list[Ann] = field(default_factory=list)

    def report(
        self, code: str, message: str, *, path: str, record_id: Any = None, hint: str | None = None
    ) -> None:
        rid = None if record_id is None else str(record_id)
        self.issues.append(
            issue(code, message, file=self.file, path=path, record_id=rid, hint=hint)
        )


_MAX_SIDE = 2**31  # pixels: no image is that wide, and w*h must fit the int64 columns


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _id_text(v: Any) -> str | None:
    if _is_int(v):
        return str(v)
    if isinstance(v, str) and v:
        return v
    return None


def _key(v: Any) -> int | str | None:
    """`v` as a lookup key into the id maps: an int or a string, else None (never a key)."""
    return v if _is_int(v) or isinstance(v, str) else None


def _id_problem(what: str, v: Any) -> str:
    """Why `v` is no usable id, in words (`what` is e.g. `image id`)."""
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        # orjson reads integers past 64 bits as floats, which would lose digits
        return (f"{what} {v:.0f} is out of range: ids must be integers that fit in 64 bits "
                f"(at most {2**64 - 1})")
    if v is None:
        return f"{what} is missing"
    kind = {bool: "a boolean", float: "a number with a fraction", list: "a list",
            dict: "an object"}.get(type(v), f"a {type(v).__name__}")
    return f"{what} {_show(v)} is {kind}, not an integer or string"


def _show(v: Any) -> str:
    """A short JSON rendering of a value for messages."""
    try:
        text = orjson.dumps(v).decode()
    except TypeError:
        text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _rest(rec: dict[str, Any], used: Iterable[str]) -> dict[str, Any]:
    skip = set(used)
    return {k: v for k, v in rec.items() if k not in skip}


def _section(data: dict[str, Any], key: str, ctx: _Ctx) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        ctx.report(
            C.SECTION_NOT_LIST,
            f"`{key}` is a {type(value).__name__}, not a list",
            path=f"$.{key}",
            hint=f"`{key}` must be a JSON array of objects",
        )
        return []
    return value


# -- images ------------------------------------------------------------------------------------
def _read_images(images: list[Any], ctx: _Ctx, embed: bool, start: int = 0) -> None:
    for k, rec in enumerate(images, start):
        path = f"$.images[{k}]"
        if not isinstance(rec, dict):
            ctx.report(C.RECORD_NOT_OBJECT, "an image record is not an object", path=path)
            continue
        raw_id = rec.get("id")
        item_id = _id_text(raw_id)
        if item_id is None:
            ctx.report(
                C.MISSING_ID,
                f"{_id_problem('image id', raw_id)}; image skipped",
                path=f"{path}.id",
                hint="give every image a unique integer id",
            )
            continue
        if raw_id in ctx.image_keys or item_id in ctx.items:
            ctx.report(
                C.DUPLICATE_ID,
                f"image id {raw_id!r} appears twice; the later one is skipped",
                path=f"{path}.id",
                record_id=raw_id,
                hint="image ids must be unique",
            )
            continue
        ext = _rest(rec, _IMAGE_KEYS)
        ext[INDEX] = k
        gt = ext.pop(EMBED, None) if embed else None
        if not _is_int(raw_id):
            ext["id"] = raw_id
        file_name = rec.get("file_name")
        if not isinstance(file_name, str) or not file_name:
            ctx.report(
                C.IMAGE_NO_FILE_NAME,
                "image has no `file_name`; its id stands in as uri",
                path=f"{path}.file_name",
                record_id=raw_id,
                hint="set `file_name` to the image's path relative to the image folder",
            )
            if "file_name" in rec:
                ext["file_name"] = rec["file_name"]
            else:
                ext.setdefault(ABSENT, []).append("file_name")
            file_name = item_id
        width, height = rec.get("width"), rec.get("height")
        if not (
            isinstance(width, int)
            and isinstance(height, int)
            and _is_int(width)
            and _is_int(height)
            and 0 < width < _MAX_SIDE
            and 0 < height < _MAX_SIDE
        ):
            ctx.report(
                C.IMAGE_NO_SIZE,
                "image has no positive integer `width` and `height` (below 2**31 pixels); "
                "RLE masks on it cannot be checked",
                path=f"{path}.width",
                record_id=raw_id,
                hint="add the image's width and height in pixels",
            )
            for key, val in (("width", width), ("height", height)):
                if key in rec:
                    ext[key] = val
            width = height = None
        fields: dict[str, Any] = {}
        if isinstance(gt, dict):
            fields = {k: v for k, v in gt.items() if k in Item.model_fields}
            item_id = str(fields.pop("id", item_id))
        exts = {**fields.pop("extensions", {}), **({NS: ext} if ext else {})}
        item = Item.model_validate(
            {
                **fields,
                "id": item_id,
                "kind": "image",
                "uri": file_name,
                "width": width,
                "height": height,
                "extensions": exts,
            },
            strict=False,
        )
        if width is not None and height is not None:
            ctx.sizes[item_id] = (height, width)
        ctx.items[item_id] = item
        ctx.image_keys[raw_id] = item_id


# -- categories --------------------------------------------------------------------------------
def _read_categories(cats: list[Any], ctx: _Ctx, name: str, embed: bool) -> LabelSet:
    labels: list[Label] = []
    ids: dict[str, Any] = {}
    names: set[str] = set()
    for k, rec in enumerate(cats):
        path = f"$.categories[{k}]"
        if not isinstance(rec, dict):
            ctx.report(C.RECORD_NOT_OBJECT, "a category record is not an object", path=path)
            continue
        raw_id = rec.get("id")
        if _id_text(raw_id) is None:
            ctx.report(C.MISSING_ID, f"{_id_problem('category id', raw_id)}; category skipped",
                       path=f"{path}.id")
            continue
        if raw_id in ctx.labels:
            ctx.report(
                C.DUPLICATE_ID,
                f"category id {raw_id!r} appears twice; the later one is skipped",
                path=f"{path}.id",
                record_id=raw_id,
                hint="category ids must be unique",
            )
            continue
        if raw_id == 0:
            ctx.report(
                C.CATEGORY_ID_ZERO,
                "category id 0 is read as background by many trainers",
                path=f"{path}.id",
                record_id=raw_id,
                hint="export with --category-ids 1-based to renumber from 1",
            )
        ext = _rest(rec, ("id", "name", "supercategory", "keypoints", "skeleton"))
        gt = ext.pop(EMBED) if embed and isinstance(ext.get(EMBED), dict) else {}
        cname = rec.get("name")
        if not isinstance(cname, str) or not cname:
            ext["name"] = cname
            cname = f"category {raw_id}"
        if cname in names:
            ctx.report(
                C.CATEGORY_DUPLICATE_NAME,
                f"category name {cname!r} is used twice; this one becomes {cname} ({raw_id})",
                path=f"{path}.name",
                record_id=raw_id,
                hint="labels are keyed by name: make names unique",
            )
            ext["name"] = cname
            cname = f"{cname} ({raw_id})"
        names.add(cname)
        group = rec.get("supercategory")
        if "supercategory" in rec and not isinstance(group, str):
            ext["supercategory"] = group
            group = None
        if "supercategory" not in rec:
            ext.setdefault(ABSENT, []).append("supercategory")
        kp_names = rec.get("keypoints")
        if not (isinstance(kp_names, list) and all(isinstance(n, str) for n in kp_names)):
            if "keypoints" in rec:
                ext["keypoints"] = kp_names
            kp_names = []
        skeleton: list[list[int]] = []
        raw_skel = rec.get("skeleton")
        if raw_skel is not None:
            n = len(kp_names)
            ok = isinstance(raw_skel, list) and all(
                isinstance(e, list) and len(e) == 2 and all(_is_int(i) and 1 <= i <= n for i in e)
                for e in raw_skel
            )
            if ok:
                skeleton = [[e[0] - 1, e[1] - 1] for e in raw_skel]
            else:
                ctx.report(
                    C.CATEGORY_BAD_SKELETON,
                    f"skeleton edges must be 1-based indices "
                    f"into the {n} keypoint names; kept as is in extensions",
                    path=f"{path}.skeleton",
                    record_id=raw_id,
                    hint="COCO skeletons count keypoints from 1",
                )
                ext["skeleton"] = raw_skel
        if "keypoints" in rec and not kp_names and "keypoints" not in ext:
            ext["keypoints"] = []  # an empty name list still round-trips
        labels.append(
            Label.model_validate(
                {
                    **{k: v for k, v in gt.items() if k in _LABEL_FIELDS},
                    "name": cname,
                    "group": group,
                    "keypoints": kp_names,
                    "skeleton": skeleton,
                    "extensions": {**gt.get("extensions", {}), **({NS: ext} if ext else {})},
                },
                strict=False,
            )
        )
        ids[cname] = raw_id
        ctx.labels[raw_id] = cname
    return LabelSet(name=name, labels=labels, extensions={NS: {"category_ids": ids}})


# -- annotations -------------------------------------------------------------------------------
def _bbox(rec: dict[str, Any], path: str, rid: Any, ctx: _Ctx) -> list[float] | None:
    box = rec.get("bbox")
    if box is None:
        return None
    if isinstance(box, list) and len(box) == 4 and all(_is_num(v) for v in box):
        return [float(v) for v in box]
    ctx.report(
        C.BBOX_INVALID,
        "`bbox` must be [x, y, width, height] numbers; dropped",
        path=f"{path}.bbox",
        record_id=rid,
    )
    return None


def _polygon(seg: list[Any], path: str, rid: Any, ctx: _Ctx) -> list[list[float]] | None:
    if seg and all(_is_num(v) for v in seg):
        ctx.report(
            C.SEG_FLAT_LIST,
            "polygon segmentation is a flat list; read as one part",
            path=path,
            record_id=rid,
            hint="write polygons as a list of parts: [[x1, y1, x2, y2, ...]]",
        )
        seg = [seg]
    parts: list[list[float]] = []
    for j, part in enumerate(seg):
        ppath = f"{path}[{j}]"
        if not (isinstance(part, list) and all(_is_num(v) for v in part)):
            ctx.report(
                C.SEG_INVALID,
                "a polygon part is not a list of numbers; dropped",
                path=ppath,
                record_id=rid,
            )
        elif len(part) % 2:
            ctx.report(
                C.SEG_ODD_POLYGON,
                f"polygon part has {len(part)} numbers, not x, y pairs; dropped",
                path=ppath,
                record_id=rid,
            )
        elif len(part) < 6:
            ctx.report(
                C.SEG_SHORT_POLYGON,
                f"polygon part has {len(part) // 2} points; a "
                "region needs 3 (pycocotools reads 2 points as a box); dropped",
                path=ppath,
                record_id=rid,
                hint="drop the part or give it 3+ points",
            )
        else:
            parts.append(part)
    return parts or None


def _rle_value(seg: dict[str, Any], item_id: str, path: str, rid: Any, ctx: _Ctx) -> Rle | None:
    size, counts = seg.get("size"), seg.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(_is_int(v) and v >= 0 for v in size)):
        ctx.report(
            C.SEG_INVALID,
            "RLE `size` must be [height, width]; mask dropped",
            path=f"{path}.size",
            record_id=rid,
        )
        return None
    h, w = size
    try:
        if isinstance(counts, str):
            total = int(_rle.counts_from_string(counts).sum())
        elif isinstance(counts, list) and all(_is_int(c) and c >= 0 for c in counts):
            total = sum(counts)
        else:
            raise ValueError("counts must be a list of non-negative ints or a string")
    except ValueError as err:
        ctx.report(
            C.RLE_BAD_COUNTS,
            f"RLE counts cannot be decoded ({err}); mask dropped",
            path=f"{path}.counts",
            record_id=rid,
        )
        return None
    if total != h * w:
        ctx.report(
            C.RLE_BAD_SUM,
            f"RLE counts sum to {total}, not height*width = {h * w}; mask dropped",
            path=f"{path}.counts",
            record_id=rid,
            hint="the counts or the size are wrong: re-encode the mask",
        )
        return None
    image = ctx.sizes.get(item_id)
    if image is not None and (h, w) != image:
        if (w, h) == image:
            ctx.report(
                C.RLE_SIZE_TRANSPOSED,
                f"RLE size is {size} but the image is "
                f"{image[0]}x{image[1]} (height x width): the size is transposed",
                path=f"{path}.size",
                record_id=rid,
                hint="COCO RLE size is [height, width]; pixels are column-major",
            )
        else:
            ctx.report(
                C.RLE_SIZE_MISMATCH,
                f"RLE size {size} differs from the image's [height, width] {list(image)}",
                path=f"{path}.size",
                record_id=rid,
            )
    return Rle(size=[h, w], counts=counts)


def _iscrowd(rec: dict[str, Any], path: str, rid: Any, ctx: _Ctx, ext: dict[str, Any]) -> None:
    if "iscrowd" not in rec:
        return
    v = rec["iscrowd"]
    if _is_int(v) and v in (0, 1):
        return
    fixed = 1 if v in (True, "1", "true", "True", 1.0) else 0
    ctx.report(
        C.ISCROWD_NOT_INT,
        f"iscrowd is {v!r}; read as {fixed}",
        path=f"{path}.iscrowd",
        record_id=rid,
        hint="write iscrowd as the integer 0 or 1",
    )
    ext["iscrowd"] = fixed


def _common(gt: Any) -> dict[str, Any]:
    """Embedded groundtruth provenance, restored on the annotation."""
    if not isinstance(gt, dict):
        return {}
    keep = set(Ann.model_fields) - {"item_id", "label", "extensions"}
    out = {k: v for k, v in gt.items() if k in keep}
    exts = gt.get("extensions")
    if isinstance(exts, dict):
        out["extensions"] = exts
    return out


def _read_annotation(
    rec: Any, k: int, ctx: _Ctx, *, results: bool, annotator: str | None, embed: bool
) -> None:
    path = f"$[{k}]" if results else f"$.annotations[{k}]"
    if not isinstance(rec, dict):
        ctx.report(C.RECORD_NOT_OBJECT, "an annotation record is not an object", path=path)
        return
    raw_id = rec.get("id")
    rid = _key(raw_id) if _key(raw_id) is not None else f"#{k}"
    image_id = rec.get("image_id")
    item_id = ctx.image_keys.get(_key(image_id))
    if item_id is None:
        if results and _id_text(image_id) is not None:
            item_id = _result_item(image_id, ctx)
        else:
            what = (f"image_id {_show(image_id)} names no image" if _key(image_id)
                    is not None else _id_problem("image_id", image_id))
            ctx.report(
                C.ANN_UNKNOWN_IMAGE,
                f"{what}; annotation skipped",
                path=f"{path}.image_id",
                record_id=rid,
                hint="add the image to `images` or fix the annotation's image_id",
            )
            return
    ext = _rest(
        rec,
        (
            "id",
            "image_id",
            "category_id",
            "segmentation",
            "bbox",
            "keypoints",
            "caption",
            "score",
            "attributes",
        ),
    )
    ext[INDEX] = k
    gt = _common(ext.pop(EMBED, None)) if embed else {}
    ann_id = _ann_id(rec, raw_id, k, path, ctx, ext, results)
    if "id" in gt:
        ann_id = str(gt.pop("id"))
    standard = _RESULT_KEYS if results else _GT_KEYS
    absent = [key for key in standard if key not in rec and "caption" not in rec]
    if absent:
        ext.setdefault(ABSENT, []).extend(absent)
    _iscrowd(rec, path, rid, ctx, ext)

    label: str | None = None
    if "category_id" in rec:
        cat = rec["category_id"]
        label = ctx.labels.get(_key(cat))
        if label is None and results and _id_text(cat) is not None:
            label = _result_label(cat, ctx)
        if label is None:
            if "caption" not in rec:
                ctx.report(
                    C.ANN_UNKNOWN_CATEGORY,
                    f"category_id {cat!r} names no category; read without a label",
                    path=f"{path}.category_id",
                    record_id=rid,
                    hint="add the category to `categories` or fix the category_id",
                )
            ext["category_id"] = cat
    common: dict[str, Any] = {"item_id": item_id, "label": label}
    if isinstance(rec.get("attributes"), dict):
        common["attributes"] = rec["attributes"]
    elif "attributes" in rec:
        ext["attributes"] = rec["attributes"]
    if "score" in rec:
        if _is_num(rec["score"]):
            common["confidence"] = rec["score"]
        else:
            ext["score"] = rec["score"]
    elif results and "caption" not in rec:
        ctx.report(C.RESULT_NO_SCORE, "a result without `score`", path=path, record_id=rid)
    if results and annotator is not None:
        common["annotator"] = annotator
    common.update(gt)

    if "caption" in rec and isinstance(rec["caption"], str):
        _add(ctx, _lax(TextAnswer, id=ann_id, text=rec["caption"], **common, extensions=_ext(ext)))
        return
    if "caption" in rec:
        ext["caption"] = rec["caption"]

    box = _bbox(rec, path, rid, ctx)
    geom: dict[str, Any] | None = None
    seg = rec.get("segmentation")
    spath = f"{path}.segmentation"
    if isinstance(seg, list) and seg:
        parts = _polygon(seg, spath, rid, ctx)
        if parts is not None:
            geom = {"type": "polygon", "polygon": parts}
    elif isinstance(seg, dict):
        rle = _rle_value(seg, item_id, spath, rid, ctx)
        if rle is not None:
            geom = {"type": "mask", "rle": rle}
            extra = _rest(seg, ("size", "counts"))
            if extra:
                ext["segmentation_extra"] = extra
    elif seg == []:
        ext["segmentation"] = []
    elif "segmentation" in rec:
        ctx.report(
            C.SEG_INVALID,
            "segmentation is neither polygons nor RLE; dropped",
            path=spath,
            record_id=rid,
        )

    kps = rec.get("keypoints")
    if kps is not None:
        ok = (
            isinstance(kps, list)
            and len(kps) % 3 == 0
            and all(_is_num(v) for v in kps)
            and all(v in (0, 1, 2) for v in kps[2::3])
        )
        if ok:
            kp_ext = ext
            if geom is not None:
                part_ext: dict[str, Any] = {"part_of": ann_id, INDEX: k}
                if "segmentation_extra" in ext:
                    part_ext["segmentation_extra"] = ext.pop("segmentation_extra")
                _add(ctx, _geometry(geom, f"{ann_id}{SEGMENTATION_SUFFIX}", None, common, part_ext))
            _add(
                ctx,
                _lax(
                    Keypoints, id=ann_id, keypoints=kps, bbox=box, **common, extensions=_ext(kp_ext)
                ),
            )
            return
        ctx.report(
            C.KEYPOINTS_INVALID,
            "keypoints must be x, y, v triplets with v in 0/1/2; dropped",
            path=f"{path}.keypoints",
            record_id=rid,
        )
        ext["keypoints"] = kps

    if geom is not None:
        _add(ctx, _geometry(geom, ann_id, box, common, ext))
    elif box is not None:
        _add(ctx, _lax(BBox, id=ann_id, bbox=box, **common, extensions=_ext(ext)))
    else:
        ctx.report(
            C.NO_GEOMETRY,
            "annotation has no usable segmentation, bbox, keypoints or caption; skipped",
            path=path,
            record_id=rid,
        )


def _ann_id(
    rec: dict[str, Any],
    raw_id: Any,
    k: int,
    path: str,
    ctx: _Ctx,
    ext: dict[str, Any],
    results: bool,
) -> str:
    if results and raw_id is None:
        return str(k + 1)  # what COCO.loadRes assigns
    text = _id_text(raw_id)
    if text is None:
        ctx.report(
            C.MISSING_ID,
            f"{_id_problem('annotation id', raw_id)}; numbered by position",
            path=f"{path}.id",
            record_id=f"#{k}",
            hint="give every annotation an id >= 1",
        )
        if "id" in rec:
            ext["id"] = raw_id
        else:
            ext.setdefault(ABSENT, []).append("id")
        text = f"#{k}"
    elif not _is_int(raw_id):
        ext["id"] = raw_id
    if raw_id == 0:
        ctx.report(
            C.ANN_ID_ZERO,
            "annotation id 0 is never matched by COCOeval",
            path=f"{path}.id",
            record_id=raw_id,
            hint="number annotations from 1",
        )
    if text in ctx.ann_ids:
        new = f"{text}~{k}"
        ctx.report(
            C.DUPLICATE_ID,
            f"annotation id {raw_id!r} appears twice; read as {new}",
            path=f"{path}.id",
            record_id=raw_id,
            hint="annotation ids must be unique (pycocotools keeps only the last)",
        )
        ext["id"] = raw_id
        text = new
    ctx.ann_ids.add(text)
    return text


def _geometry(
    geom: dict[str, Any],
    ann_id: str,
    box: list[float] | None,
    common: dict[str, Any],
    ext: dict[str, Any],
) -> Ann:
    if geom["type"] == "polygon":
        return _lax(
            Polygon, id=ann_id, polygon=geom["polygon"], bbox=box, **common, extensions=_ext(ext)
        )
    return _lax(Mask, id=ann_id, rle=geom["rle"], bbox=box, **common, extensions=_ext(ext))


def _lax(cls: type[A], **fields: Any) -> A:
    """Build a model from values already checked here; lax, so JSON ints fill float fields."""
    return cls.model_validate(fields, strict=False)


def _ext(ext: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {NS: ext} if ext else {}


def _add(ctx: _Ctx, ann: Ann) -> None:
    ctx.annotations.append(ann)


def _result_item(raw: Any, ctx: _Ctx) -> str:
    item_id = str(raw)
    ext: dict[str, Any] = {"results_only": True}
    if not _is_int(raw):
        ext["id"] = raw
    ctx.items[item_id] = Item(id=item_id, kind="image", uri=item_id, extensions={NS: ext})
    ctx.image_keys[raw] = item_id
    return item_id


def _result_label(raw: Any, ctx: _Ctx) -> str:
    name = f"category {raw}"
    ctx.labels[raw] = name
    return name


# -- panoptic ----------------------------------------------------------------------------------
def _read_panoptic(anns: list[Any], ctx: _Ctx, folder: str) -> None:
    for k, rec in enumerate(anns):
        path = f"$.annotations[{k}]"
        if not isinstance(rec, dict):
            ctx.report(C.RECORD_NOT_OBJECT, "an annotation record is not an object", path=path)
            continue
        image_id = rec.get("image_id")
        item_id = ctx.image_keys.get(_key(image_id))
        if item_id is None:
            what = (f"image_id {_show(image_id)} names no image" if _key(image_id)
                    is not None else _id_problem("image_id", image_id))
            ctx.report(
                C.ANN_UNKNOWN_IMAGE,
                f"{what}; skipped",
                path=f"{path}.image_id",
                record_id=_key(image_id),
            )
            continue
        png = rec.get("file_name")
        item = ctx.items[item_id]
        item.extensions.setdefault(NS, {})["panoptic"] = _rest(rec, ("image_id", "segments_info"))
        for j, seg in enumerate(rec.get("segments_info") or []):
            spath = f"{path}.segments_info[{j}]"
            if not isinstance(seg, dict) or _id_text(seg.get("id")) is None:
                ctx.report(C.MISSING_ID, "a segment has no id; skipped", path=spath)
                continue
            ext = _rest(seg, ("id", "category_id", "bbox"))
            ext["segment_id"] = seg["id"]
            ext[INDEX] = j
            label = ctx.labels.get(_key(seg.get("category_id")))
            if label is None:
                ctx.report(
                    C.ANN_UNKNOWN_CATEGORY,
                    f"category_id {seg.get('category_id')!r} names no category",
                    path=f"{spath}.category_id",
                    record_id=seg["id"],
                )
                ext["category_id"] = seg.get("category_id")
            box = _bbox(seg, spath, seg["id"], ctx)
            uri = f"{folder}/{png}" if folder and isinstance(png, str) else str(png)
            _add(
                ctx,
                _lax(
                    Mask,
                    id=f"{item_id}:{seg['id']}",
                    item_id=item_id,
                    label=label,
                    uri=uri,
                    bbox=box,
                    extensions={NS: ext},
                ),
            )


# -- entry point -------------------------------------------------------------------------------
def read_coco(
    data: Any,
    *,
    file: str | None = None,
    name: str = "coco",
    label_set: str = "categories",
    annotator: str | None = None,
    embed: bool = True,
    panoptic_folder: str = "",
) -> Dataset:
    """Convert parsed COCO JSON (`dict` dataset or `list` of results) into a Dataset."""
    ctx = _Ctx(file=file)
    manifest = Manifest(name=name)
    if isinstance(data, list):
        ann_name = annotator or "model"
        manifest.annotators.append(Annotator(id=ann_name, kind="model", tool="coco results"))
        for k, rec in enumerate(data):
            _read_annotation(rec, k, ctx, results=True, annotator=ann_name, embed=embed)
        ids = {n: int(r) if _is_int(r) else r for r, n in ctx.labels.items()}
        manifest.taxonomy = Taxonomy(
            label_sets=[
                LabelSet(
                    name=label_set,
                    labels=[Label(name=n) for n in ids],
                    extensions={NS: {"category_ids": ids}},
                )
            ]
        )
        manifest.extensions[NS] = {"kind": "results"}
        return Dataset(
            manifest,
            ctx.items.values(),
            ctx.annotations,
            issues=ctx.issues,
            source=file,
            source_format="coco",
        )

    top = top_level(data, list(data))
    _read_images(_section(data, "images", ctx), ctx, embed)
    lset = _read_categories(_section(data, "categories", ctx), ctx, label_set, embed)
    anns = _section(data, "annotations", ctx)
    if anns and isinstance(anns[0], dict) and "segments_info" in anns[0]:
        top["kind"] = "panoptic"
        _read_panoptic(anns, ctx, panoptic_folder)
    else:
        for k, rec in enumerate(anns):
            _read_annotation(rec, k, ctx, results=False, annotator=None, embed=embed)
    finish_manifest(manifest, top, lset, embed)
    return Dataset(
        manifest,
        ctx.items.values(),
        ctx.annotations,
        issues=ctx.issues,
        source=file,
        source_format="coco",
    )


def top_level(data: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """`manifest.extensions.coco`: the kind, the top-level key order and the small values."""
    top: dict[str, Any] = {"kind": "instances", "keys": keys}
    top.update((k, v) for k, v in data.items() if k not in ("images", "annotations", "categories"))
    return top


def finish_manifest(manifest: Manifest, top: dict[str, Any], lset: LabelSet, embed: bool) -> None:
    """Fill the manifest of a COCO object file from its top level and categories."""
    gt_manifest = top.pop(EMBED, None) if embed else None
    info = top.get("info")
    if isinstance(info, dict) and isinstance(info.get("description"), str) and info["description"]:
        manifest.description = info["description"]
    manifest.taxonomy = Taxonomy(label_sets=[lset])
    manifest.extensions[NS] = top
    if isinstance(gt_manifest, dict):
        _restore_manifest(manifest, gt_manifest)


def _restore_manifest(manifest: Manifest, gt: dict[str, Any]) -> None:
    fields = {
        k: v
        for k, v in gt.items()
        if k in Manifest.model_fields
        and k not in ("taxonomy", "extensions", "parts", "encoding", "fingerprint", "groundtruth")
    }
    restored = Manifest.model_validate({**fields, "name": gt.get("name", manifest.name)})
    for key in fields:
        setattr(manifest, key, getattr(restored, key))
    manifest.name = restored.name
