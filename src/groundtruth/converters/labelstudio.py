"""Label Studio JSON export: a JSON array of tasks with annotations and predictions.

Geometry is converted from percent of the result's `original_width/height` to pixels; a rotated
rectangle (LS: degrees clockwise about its top-left corner) becomes a box rotated about its
centre, computed in pixels. Brush masks (LS's own RLE) become COCO RLE masks. Text `labels`
become spans checked against the task text. `choices`, `textarea` and `rating` results that
reuse the id of a region are that region's attributes (`attributes[from_name]`); task-level
ones are classification, text and rating annotations. `completed_by` becomes an annotator; an
e-mail address is replaced by a stable pseudonym (`annotator-<sha256[:10]>`) unless
`keep_emails=True`. Predictions become `model` annotators. Cancelled annotations are kept with
status `cancelled`. Everything else of a task (ids, timestamps, lead times, reviews...) is kept in
`extensions["labelstudio"]` so a round trip gives the export back.
"""

from __future__ import annotations

import hashlib
import math
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from ..dataset import Dataset
from ..issues import Issue, define, issue
from ..models import (
    AnnotationBase,
    BBox,
    Candidate,
    Classification,
    Item,
    Keypoints,
    Mask,
    Polygon,
    Ranking,
    Rating,
    Relation,
    Rle,
    Span,
    TextAnswer,
)
from . import _lsbrush
from ._base import ConversionReport
from ._jsonio import (
    Collector,
    Where,
    dataset_name,
    display_name,
    first_byte,
    gc_paused,
    iter_json_records,
    parse_time,
    unique_id,
)
from ._mismatch import check_found
from ._offsets import OffsetMap, OffsetUnit, check_span
from ._options import OptionSpec, check_options

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

MISSING_MEDIA = define(
    "labelstudio.task.missing-media", "error",
    "A task has no data value for the object its results annotate; the task was skipped")
NO_DATA = define(
    "labelstudio.task.no-data", "error",
    "A record has no `data` object, so it is not a Label Studio task; it was skipped")
MEDIA_NOT_FOUND = define(
    "labelstudio.media.not-found", "warning", "A task's image file does not exist")
MISSING_SIZE = define(
    "labelstudio.result.missing-size", "error",
    "An image result has no original_width/original_height; it was skipped")
PERCENT_RANGE = define(
    "labelstudio.coords.out-of-range", "warning",
    "A percent coordinate is outside 0..100 (converted as given)")
BAD_RESULT = define(
    "labelstudio.result.invalid", "error", "A result's value is malformed; it was skipped")
BAD_BRUSH = define(
    "labelstudio.brush.invalid", "error", "A brush RLE cannot be decoded; it was skipped")
UNSUPPORTED = define(
    "labelstudio.result.unsupported", "warning",
    "A result type groundtruth does not map; kept verbatim in extensions")
DANGLING = define(
    "labelstudio.relation.dangling", "error",
    "A relation names a region id the annotation does not have; it was skipped")
NOT_WRITTEN = define(
    "labelstudio.write.annotation-dropped", "warning",
    "An annotation Label Studio's export cannot hold was left out")
NO_SIZE_WRITE = define(
    "labelstudio.write.missing-size", "warning",
    "An image annotation could not be written: the item has no width/height for percents")

IMAGE_TYPES = {"rectanglelabels": "rectangle", "rectangle": "rectangle",
               "polygonlabels": "polygon", "polygon": "polygon",
               "keypointlabels": "keypoint", "keypoint": "keypoint",
               "brushlabels": "brush", "brush": "brush"}
LABEL_KEY = {"rectanglelabels": "rectanglelabels", "polygonlabels": "polygonlabels",
             "keypointlabels": "keypointlabels", "brushlabels": "brushlabels",
             "labels": "labels", "hypertextlabels": "hypertextlabels"}
ATTACHABLE = {"choices": "choices", "textarea": "text", "rating": "rating",
              "taxonomy": "taxonomy"}
_EPS = 1e-6


def pseudonym(email: str) -> str:
    """A stable pseudonym for an e-mail address (case and surrounding space ignored)."""
    digest = hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()
    return f"annotator-{digest[:10]}"


def rotate_to_center(x: float, y: float, w: float, h: float, deg: float) -> tuple[float, float]:
    """Top-left of the unrotated box whose rotation about its centre matches LS's rotation
    of the same box about its top-left corner (pixels, y down, degrees clockwise)."""
    r = math.radians(deg)
    cx = x + (w / 2) * math.cos(r) - (h / 2) * math.sin(r)
    cy = y + (w / 2) * math.sin(r) + (h / 2) * math.cos(r)
    return cx - w / 2, cy - h / 2


def rotate_to_corner(bx: float, by: float, w: float, h: float, deg: float) -> tuple[float, float]:
    """Inverse of `rotate_to_center`: LS's top-left anchor from a centre-rotated box."""
    r = math.radians(deg)
    cx, cy = bx + w / 2, by + h / 2
    return (cx - (w / 2) * math.cos(r) + (h / 2) * math.sin(r),
            cy - (w / 2) * math.sin(r) - (h / 2) * math.cos(r))


@dataclass
class _Ctx:
    """State of reading one export."""

    file: str
    folder: str
    fs: Any
    col: Collector
    issues: list[Issue]
    keep_emails: bool
    offsets: OffsetUnit
    image_root: str | None
    data_key: str | None
    counts: dict[str, int] = field(default_factory=dict)


_READ_OPTIONS: OptionSpec = {
    "keep_emails": bool, "offsets": str, "image_root": str, "data_key": str, "check_media": bool,
}

class LabelStudioConverter:
    read_options: ClassVar[OptionSpec] = _READ_OPTIONS
    name: ClassVar[str] = "labelstudio"
    description: ClassVar[str] = "Label Studio JSON export (tasks with annotations, predictions)"
    extensions: ClassVar[tuple[str, ...]] = (".json",)

    def detect(self, head: bytes, path: str) -> float:
        first = first_byte(head)
        has_data = b'"data"' in head
        if first == b"{" and has_data and b'"images"' not in head and (
                b'"annotations"' in head or b'"predictions"' in head):
            return 0.85  # one task on its own (what Label Studio's import also takes)
        if first != b"[":
            return 0.0
        if has_data and (b'"annotations"' in head or b'"predictions"' in head):
            return 0.9
        if has_data and (b'"from_name"' in head or b'"completed_by"' in head):
            return 0.8
        return 0.0

    # -- reading --------------------------------------------------------------------------
    def read(self, path: str, *, fs: AbstractFileSystem | None = None, **options: Any) -> Dataset:
        with gc_paused():
            return self._read(path, fs=fs, **options)

    def _read(self, path: str, *, fs: AbstractFileSystem | None = None,
              **options: Any) -> Dataset:
        check_options(self.name, options, _READ_OPTIONS)
        options.pop("storage_options", None)
        from ..io._fs import resolve

        filesystem, fpath = resolve(path, fs=fs)
        ctx = _Ctx(
            file=display_name(fpath), folder=posixpath.dirname(fpath), fs=filesystem,
            col=Collector(tool="labelstudio"), issues=[],
            keep_emails=bool(options.pop("keep_emails", False)),
            offsets=options.pop("offsets", "auto"),
            image_root=options.pop("image_root", None),
            data_key=options.pop("data_key", None),
        )
        check_media = options.pop("check_media", None)
        if check_media is False:
            ctx.folder = ""
        items: list[Item] = []
        anns: list[AnnotationBase] = []
        seen: set[str] = set()
        for where, task in iter_json_records(fpath, fs=filesystem, issues=ctx.issues):
            if not isinstance(task.get("data"), dict):
                ctx.issues.append(issue(
                    NO_DATA, "record has no `data` object, so it is no Label Studio task; "
                    "skipped", hint="a Label Studio export is a JSON array of tasks, each with "
                    "`data` (the annotated object) and `annotations`", **where.at(".data")))
                continue
            tid = task.get("id")
            position = where.index if where.index is not None else (where.line or 1) - 1
            item_id = unique_id(seen, str(tid) if tid is not None else str(position), where,
                                ctx.issues)
            got = self._task(task, item_id, where.with_id(item_id), ctx)
            if got is None:
                continue
            items.append(got[0])
            anns.extend(got[1])
        check_found(self.name, path, fs, items=len(items), issues=ctx.issues)
        manifest = ctx.col.manifest(dataset_name(fpath))
        return Dataset(manifest, items, anns, issues=ctx.issues, source=path,
                       source_format=self.name)

    def _data_key(self, task: dict[str, Any], ctx: _Ctx) -> tuple[str | None, str]:
        """(key of the annotated object in `data`, item kind)."""
        data = task.get("data") if isinstance(task.get("data"), dict) else {}
        assert isinstance(data, dict)
        results = [r for a in _all_annotations(task) for r in _results(a)]
        image_names = [r.get("to_name") for r in results if r.get("type") in IMAGE_TYPES]
        text_names = [r.get("to_name") for r in results if r.get("type") == "labels"]
        if ctx.data_key:
            kind = "image" if image_names else "text"
            return ctx.data_key, kind
        for names, kind, default in ((image_names, "image", "image"),
                                     (text_names, "text", "text")):
            if names:
                name = names[0]
                if isinstance(name, str) and name in data:
                    return name, kind
                if default in data:
                    return default, kind
                return None, kind
        for key, kind in (("text", "text"), ("image", "image")):
            if key in data:
                return key, kind
        for key, value in data.items():
            if isinstance(value, str):
                return key, "text"
        return None, "other"

    def _task(self, task: dict[str, Any], item_id: str, where: Where,
              ctx: _Ctx) -> tuple[Item, list[AnnotationBase]] | None:
        data = task.get("data")
        data = data if isinstance(data, dict) else {}
        key, kind = self._data_key(task, ctx)
        value = data.get(key) if key is not None else None
        if kind in ("image", "text") and not (isinstance(value, str) and value):
            ctx.issues.append(issue(
                MISSING_MEDIA,
                f"task has no data.{key or kind} for its {kind} results",
                hint="re-export with the task data, or pass data_key=... naming the field",
                **where.at(f".data.{key or kind}")))
            return None
        assert isinstance(value, str) or kind == "other"
        size = _first_size(task)
        ext: dict[str, Any] = {
            "task": {k: v for k, v in task.items()
                     if k not in ("id", "data", "annotations", "predictions")},
            "data_key": key, "annotations": [],
            "order": where.index if where.index is not None else (where.line or 1) - 1,
            "groups": [g for g in ("annotations", "predictions") if g in task],
        }
        if "id" not in task:
            ext["no_id"] = True
        metadata = {k: v for k, v in data.items() if k != key}
        if kind == "image":
            assert isinstance(value, str)
            self._check_media(value, where, ctx, key or "image")
            item = Item(id=item_id, kind="image", uri=value,
                        width=size[0] if size else None, height=size[1] if size else None,
                        metadata=metadata, extensions={"labelstudio": ext})
        elif kind == "text":
            item = Item(id=item_id, kind="text", text=value, metadata=metadata,
                        extensions={"labelstudio": ext})
        else:
            item = Item(id=item_id, kind="other", metadata=metadata,
                        extensions={"labelstudio": ext})
        out: list[AnnotationBase] = []
        for field_name in ("annotations", "predictions"):
            group = task.get(field_name)
            for k, ann in enumerate(group if isinstance(group, list) else []):
                if not isinstance(ann, dict):
                    continue
                out.extend(self._annotation(ann, field_name, k, item, data, where, ctx))
        return item, out

    def _check_media(self, uri: str, where: Where, ctx: _Ctx, key: str) -> None:
        if "://" in uri or uri.startswith("data:"):
            return
        if ctx.image_root is not None:
            candidate = posixpath.join(ctx.image_root, posixpath.basename(uri))
        elif uri.startswith("/") or not ctx.folder:
            return  # a Label Studio server path: nothing local to check
        else:
            candidate = posixpath.join(ctx.folder, uri)
        if not ctx.fs.exists(candidate):
            ctx.issues.append(issue(
                MEDIA_NOT_FOUND, f"image {uri!r} not found at {candidate}",
                hint="copy the images next to the export, or pass image_root=...",
                **where.at(f".data.{key}")))

    def _annotator(self, ann: dict[str, Any], kind: str, ctx: _Ctx) -> tuple[str | None, Any]:
        """(annotator id, the `completed_by` value to keep for writing)."""
        if kind == "predictions":
            version = ann.get("model_version")
            aid = f"model-{version}" if version not in (None, "") else "model"
            ctx.col.annotator(aid, kind="model",
                              model_version=str(version) if version not in (None, "") else None)
            return aid, None
        who = ann.get("completed_by")
        if isinstance(who, dict):
            email = who.get("email")
            if isinstance(email, str) and email:
                aid = email if ctx.keep_emails else pseudonym(email)
                kept = dict(who) if ctx.keep_emails else {"id": who.get("id")}
                ctx.col.annotator(aid)
                return aid, kept
            who = who.get("id")
        if isinstance(who, str) and "@" in who:
            aid = who if ctx.keep_emails else pseudonym(who)
            ctx.col.annotator(aid)
            return aid, who if ctx.keep_emails else None
        if who is None:
            return None, None
        aid = f"ls-user-{who}"
        ctx.col.annotator(aid)
        return aid, who

    def _annotation(self, ann: dict[str, Any], kind: str, k: int, item: Item,
                    data: dict[str, Any], where: Where, ctx: _Ctx) -> Iterator[AnnotationBase]:
        ls_ext = item.extensions["labelstudio"]
        aindex = len(ls_ext["annotations"])
        annotator, kept_by = self._annotator(ann, kind, ctx)
        fields = {key: v for key, v in ann.items() if key not in ("result", "completed_by")}
        if not ctx.keep_emails:
            for key in ("created_username", "updated_by_username"):
                if key in fields:
                    fields[key] = annotator
        entry: dict[str, Any] = {"kind": kind, "fields": fields, "unsupported": []}
        if "completed_by" in ann:
            entry["completed_by"] = kept_by
        ls_ext["annotations"].append(entry)
        status = "cancelled" if ann.get("was_cancelled") else (
            None if kind == "predictions" else "submitted")
        score = ann.get("score") if isinstance(ann.get("score"), int | float) else None
        base: dict[str, Any] = {
            "item_id": item.id, "annotator": annotator, "status": status,
            "created": parse_time(ann.get("created_at")), "confidence": score,
        }
        prefix = f"{item.id}-{'p' if kind == 'predictions' else 'a'}{ann.get('id', k)}"
        path = f".{kind}[{k}]"
        results = ann.get("result")
        results = results if isinstance(results, list) else []
        regions: dict[str, AnnotationBase] = {}
        later: list[tuple[int, dict[str, Any]]] = []
        used: set[str] = set()
        text = item.text or ""
        omap = OffsetMap(text)
        for r_index, res in enumerate(results):
            if not isinstance(res, dict):
                continue
            problem = _result_problem(res)
            if problem is not None:
                # kept verbatim (written back as it was), but no annotation can come of it
                ctx.issues.append(issue(
                    BAD_RESULT, f"{problem}; result skipped",
                    hint="each result needs `type` (e.g. rectanglelabels) and the `from_name` "
                    "of its control", **where.at(f"{path}.result[{r_index}]")))
                ls_ext["annotations"][aindex]["unsupported"].append(res)
                continue
            rtype = res.get("type")
            rid = res.get("id")
            if rtype in ("relation",) or (rtype in ATTACHABLE and rid is not None):
                later.append((r_index, res))
                continue
            rpath = f"{path}.result[{r_index}]"
            if rtype in ATTACHABLE:  # no id: a task-level result
                value = res.get("value") if isinstance(res.get("value"), dict) else {}
                assert isinstance(value, dict)
                yield from self._task_level(res, value, base, f"{prefix}-{r_index}", aindex,
                                            where, rpath, ctx)
                continue
            got = self._region(res, item, base, f"{prefix}-{rid or r_index}", aindex,
                               where, rpath, ctx, omap, text, data)
            if got is None:
                continue
            if got.id in used:
                got.id = f"{got.id}-{r_index}"
            used.add(got.id)
            if rid is not None and str(rid) not in regions:
                regions[str(rid)] = got
            yield got
        for r_index, res in later:
            rpath = f"{path}.result[{r_index}]"
            yield from self._late(res, regions, base, f"{prefix}-{res.get('id') or r_index}",
                                  aindex, where, rpath, ctx, item, data)

    def _late(self, res: dict[str, Any], regions: dict[str, AnnotationBase],
              base: dict[str, Any], ann_id: str, aindex: int, where: Where, rpath: str,
              ctx: _Ctx, item: Item, data: dict[str, Any]) -> list[AnnotationBase]:
        rtype = res.get("type")
        if rtype == "relation":
            src, dst = regions.get(str(res.get("from_id"))), regions.get(str(res.get("to_id")))
            if src is None or dst is None:
                ctx.issues.append(issue(
                    DANGLING, f"relation {res.get('from_id')!r} -> {res.get('to_id')!r} names "
                    "a missing region", hint="relations link region ids of one annotation",
                    **where.at(rpath)))
                return []
            labels = res.get("labels") or []
            label = labels[0] if isinstance(labels, list) and labels and isinstance(
                labels[0], str) and labels[0] else None
            direction = res.get("direction", "right")
            if direction == "left":
                src, dst = dst, src
            ctx.col.label("relations", label, "relation")
            rest = {k: v for k, v in res.items() if k not in ("from_id", "to_id")}
            return [Relation(id=f"{ann_id}-rel-{src.id}-{dst.id}", source=src.id,
                             target=dst.id, directed=direction != "bi", label=label,
                             label_set="relations",
                             extensions={"labelstudio": {"ann": aindex, "r": _r_index(rpath),
                                                         "result": rest}},
                             **base)]
        region = regions.get(str(res.get("id")))
        value = res.get("value") if isinstance(res.get("value"), dict) else {}
        assert isinstance(value, dict)
        payload_key = ATTACHABLE[str(rtype)]
        from_name = str(res.get("from_name", rtype))
        if region is not None:
            region.attributes[from_name] = value.get(payload_key)
            attached = region.extensions["labelstudio"].setdefault("attached", [])
            attached.append({
                "result": {k: v for k, v in res.items() if k != "value"},
                "value": {k: v for k, v in value.items() if k != payload_key},
            })
            return []
        # An id that names no region: a task-level result (choices etc. carry their own ids).
        return self._task_level(res, value, base, ann_id, aindex, where, rpath, ctx)

    def _task_level(self, res: dict[str, Any], value: dict[str, Any], base: dict[str, Any],
                    ann_id: str, aindex: int, where: Where, rpath: str,
                    ctx: _Ctx) -> list[AnnotationBase]:
        rtype = res.get("type")
        from_name = str(res.get("from_name", rtype))
        ext = {"labelstudio": {"ann": aindex, "r": _r_index(rpath),
                               "result": {k: v for k, v in res.items() if k != "value"},
                               "value": {k: v for k, v in value.items()
                                         if k not in ("choices", "text", "rating",
                                                      "taxonomy")}}}
        b = {**base, "confidence": res.get("score", base["confidence"])}
        if rtype in ("choices", "taxonomy"):
            raw = value.get(rtype)
            if not isinstance(raw, list):
                ctx.issues.append(issue(BAD_RESULT, f"{rtype} value is not a list",
                                        **where.at(rpath + f".value.{rtype}")))
                return []
            names = [n for n in ("/".join(map(str, c)) if isinstance(c, list) else str(c)
                                 for c in raw) if n]
            if len(names) > 1:
                ctx.col.multi.add(from_name)
            out: list[AnnotationBase] = []
            for k, name in enumerate(names):
                ctx.col.label(from_name, name, "classification")
                e = {"labelstudio": {**ext["labelstudio"], "part": k}}
                out.append(Classification(id=ann_id if k == 0 else f"{ann_id}-{k}", label=name,
                                          label_set=from_name, extensions=e, **b))
            return out
        if rtype == "textarea":
            texts = value.get("text")
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                ctx.issues.append(issue(BAD_RESULT, "textarea value.text is not a list of "
                                        "strings", **where.at(rpath + ".value.text")))
                return []
            ext["labelstudio"]["texts"] = texts
            return [TextAnswer(id=ann_id, text="\n".join(texts), label_set=from_name,
                               extensions=ext, **b)]
        rating = value.get("rating")
        if not isinstance(rating, int | float) or isinstance(rating, bool):
            ctx.issues.append(issue(BAD_RESULT, "rating value is not a number",
                                    **where.at(rpath + ".value.rating")))
            return []
        ctx.col.label(from_name, None, "rating")
        return [Rating(id=ann_id, value=float(rating), label_set=from_name, extensions=ext, **b)]

    def _region(self, res: dict[str, Any], item: Item, base: dict[str, Any], ann_id: str,
                aindex: int, where: Where, rpath: str, ctx: _Ctx, omap: OffsetMap, text: str,
                data: dict[str, Any]) -> AnnotationBase | None:
        rtype = res.get("type")
        value = res.get("value")
        if not isinstance(value, dict):
            ctx.issues.append(issue(BAD_RESULT, "result has no value object",
                                    **where.at(rpath + ".value")))
            return None
        lkey = LABEL_KEY.get(str(rtype))
        labels = value.get(lkey) if lkey else None
        label = labels[0] if isinstance(labels, list) and labels else None
        label = label if isinstance(label, str) and label else None
        from_name = str(res.get("from_name", rtype))
        rest = {k: v for k, v in res.items() if k != "value"}
        mapped = {lkey} if lkey and isinstance(labels, list) and len(labels) == 1 else set()
        b = {**base, "confidence": res.get("score", base["confidence"]), "label": label,
             "label_set": from_name}
        geom = IMAGE_TYPES.get(str(rtype))
        try:
            if geom is not None:
                ann = self._image_region(geom, res, value, item, b, ann_id, where, rpath, ctx,
                                         mapped)
            elif rtype == "labels":
                ann = self._text_region(value, b, ann_id, where, rpath, ctx, omap, text,
                                        mapped)
            elif rtype in ("ranker", "pairwise"):
                ann = self._ranking(str(rtype), res, value, item, data, b, ann_id, mapped)
            else:
                ctx.issues.append(issue(UNSUPPORTED, f"result type {rtype!r} is not mapped; "
                                        "kept verbatim", **where.at(rpath)))
                item.extensions["labelstudio"]["annotations"][aindex]["unsupported"].append(res)
                return None
        except (TypeError, ValueError, KeyError) as exc:
            ctx.issues.append(issue(BAD_RESULT, f"{rtype} value is malformed: {exc}",
                                    **where.at(rpath + ".value")))
            return None
        if ann is None:
            return None
        ctx.col.label(from_name, label, ann.type)  # type: ignore[attr-defined]
        ann.extensions["labelstudio"] = {
            "ann": aindex, "r": _r_index(rpath), "result": rest,
            "value": {k: v for k, v in value.items() if k not in mapped}, **ann.extensions.get(
                "labelstudio", {})}
        return ann

    def _percent(self, value: float, axis: str, where: Where, path: str, ctx: _Ctx) -> None:
        if not -_EPS <= value <= 100 + _EPS:
            ctx.issues.append(issue(
                PERCENT_RANGE, f"{axis} = {value} percent is outside 0..100",
                hint="the region leaves the image; clip it or fix the export",
                **where.at(path)))

    def _image_region(self, geom: str, res: dict[str, Any], value: dict[str, Any], item: Item,
                      b: dict[str, Any], ann_id: str, where: Where, rpath: str, ctx: _Ctx,
                      mapped: set[str]) -> AnnotationBase | None:
        ow, oh = res.get("original_width"), res.get("original_height")
        if not (isinstance(ow, int | float) and isinstance(oh, int | float) and 0 < ow < 2**31
                and 0 < oh < 2**31):
            if item.width and item.height:
                ow, oh = item.width, item.height
            else:
                ctx.issues.append(issue(
                    MISSING_SIZE, "no original_width/original_height to turn percents into "
                    "pixels", hint="re-export from Label Studio, which adds the image size",
                    **where.at(rpath)))
                return None
        vpath = rpath + ".value"
        if geom == "rectangle":
            x, y, w, h = (float(value[k]) for k in ("x", "y", "width", "height"))
            for k, v in (("x", x), ("y", y), ("x+width", x + w), ("y+height", y + h)):
                self._percent(v, k, where, vpath, ctx)
            rot = float(value.get("rotation") or 0.0)
            px, py, pw, ph = x / 100 * ow, y / 100 * oh, w / 100 * ow, h / 100 * oh
            if rot:
                px, py = rotate_to_center(px, py, pw, ph, rot)
            mapped.update({"x", "y", "width", "height", "rotation"})
            return BBox(id=ann_id, bbox=[px, py, pw, ph], rotation=rot or None, **b)
        if geom == "polygon":
            pts = value["points"]
            flat: list[float] = []
            for j, (px_, py_) in enumerate(pts):
                self._percent(float(px_), "x", where, f"{vpath}.points[{j}]", ctx)
                self._percent(float(py_), "y", where, f"{vpath}.points[{j}]", ctx)
                flat += [float(px_) / 100 * ow, float(py_) / 100 * oh]
            if len(flat) < 6:
                raise ValueError(f"a polygon needs 3 points, got {len(flat) // 2}")
            mapped.add("points")
            return Polygon(id=ann_id, polygon=[flat], **b)
        if geom == "keypoint":
            x, y = float(value["x"]), float(value["y"])
            self._percent(x, "x", where, vpath, ctx)
            self._percent(y, "y", where, vpath, ctx)
            mapped.update({"x", "y"})
            ann = Keypoints(id=ann_id, keypoints=[x / 100 * ow, y / 100 * oh, 2.0], **b)
            parent = res.get("parentID")
            if parent is not None:
                ann.attributes["parent"] = str(parent)
            return ann
        # brush
        if value.get("format", "rle") != "rle" or not isinstance(value.get("rle"), list):
            raise ValueError("brush value needs format 'rle' and an rle list")
        try:
            mask = _lsbrush.decode_mask(value["rle"], int(oh), int(ow))
        except _lsbrush.BrushRleError as exc:
            ctx.issues.append(issue(BAD_BRUSH, f"brush RLE: {exc}", **where.at(vpath + ".rle")))
            return None
        mapped.update({"rle", "format"})
        return Mask(id=ann_id, rle=Rle(size=[int(oh), int(ow)],
                                       counts=_lsbrush.coco_counts(mask)),
                    bbox=_lsbrush.mask_bbox(mask), **b)

    def _text_region(self, value: dict[str, Any], b: dict[str, Any], ann_id: str,
                     where: Where, rpath: str, ctx: _Ctx, omap: OffsetMap, text: str,
                     mapped: set[str]) -> AnnotationBase | None:
        stated = value.get("text")
        c = check_span(text, value.get("start"), value.get("end"),
                       stated if isinstance(stated, str) else None, offsets=ctx.offsets,
                       omap=omap, **where.at(rpath + ".value"))
        if c.issue is not None:
            ctx.issues.append(c.issue)
        if not c.keep:
            return None
        ext: dict[str, Any] = {}
        if c.fix is not None or (isinstance(stated, str) and stated != text[c.start:c.end]):
            ext = {"labelstudio": {"offsets": [value.get("start"), value.get("end")]}}
        mapped.update({"start", "end", "text"})
        return Span(id=ann_id, start=c.start, end=c.end, text=text[c.start:c.end],
                    extensions=ext, **b)

    def _ranking(self, rtype: str, res: dict[str, Any], value: dict[str, Any], item: Item,
                 data: dict[str, Any], b: dict[str, Any], ann_id: str,
                 mapped: set[str]) -> AnnotationBase | None:
        if rtype == "pairwise":
            selected = value["selected"]
            other = "right" if selected == "left" else "left"
            names = str(res.get("to_name", "")).split(",")
            if not item.candidates:
                for cid, key in zip(("left", "right"), [*names, "", ""], strict=False):
                    content = data.get(key.strip())
                    item.candidates.append(Candidate(
                        id=cid, text=content if isinstance(content, str) else None))
            mapped.add("selected")
            return Ranking(id=ann_id, ranking=[[selected], [other]], **b)
        buckets = value["ranker"]
        if not isinstance(buckets, dict):
            raise TypeError("ranker value must map buckets to id lists")
        if not item.candidates:
            listed = data.get(str(res.get("to_name")))
            for entry in listed if isinstance(listed, list) else []:
                if isinstance(entry, dict) and "id" in entry:
                    body = entry.get("body", entry.get("text", entry.get("title")))
                    item.candidates.append(Candidate(
                        id=str(entry["id"]), text=body if isinstance(body, str) else None,
                        metadata={k: v for k, v in entry.items()
                                  if k not in ("id", "body", "text")}))
        order = list(buckets.values())
        groups = [[str(i)] for i in order[0]] if len(order) == 1 else [
            [str(i) for i in g] for g in order if g]
        mapped.add("ranker")
        ann = Ranking(id=ann_id, ranking=groups or [[]], **b)
        ann.extensions["labelstudio"] = {"buckets": list(buckets)}
        return ann

    # -- writing --------------------------------------------------------------------------
    def write(self, dataset: Dataset, path: str, *, fs: AbstractFileSystem | None = None,
              **options: Any) -> ConversionReport:
        from ._lswrite import write_export

        return write_export(dataset, path, fs=fs, **options)


def _all_annotations(task: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("annotations", "predictions"):
        group = task.get(key)
        for a in group if isinstance(group, list) else []:
            if isinstance(a, dict):
                yield a


def _results(ann: dict[str, Any]) -> list[dict[str, Any]]:
    """The well-formed results of an annotation (see `_result_problem`)."""
    res = ann.get("result")
    return [r for r in res if isinstance(r, dict) and _result_problem(r) is None] if isinstance(
        res, list) else []


def _result_problem(res: dict[str, Any]) -> str | None:
    """Why a result cannot be read at all (its `type` or `from_name`), or None."""
    rtype = res.get("type")
    if not isinstance(rtype, str) or not rtype:
        return f"result type {_show(rtype)} is not a result type name"
    if "from_name" in res and not (isinstance(res["from_name"], str) and res["from_name"]):
        return f"from_name {_show(res['from_name'])} names no control of the labeling config"
    return None


def _show(value: Any) -> str:
    text = orjson.dumps(value, default=repr).decode()
    return text if len(text) <= 40 else text[:37] + "..."


def _first_size(task: dict[str, Any]) -> tuple[int, int] | None:
    for a in _all_annotations(task):
        for r in _results(a):
            w, h = r.get("original_width"), r.get("original_height")
            # (an image side past 2**31 pixels is no size: it cannot be stored either)
            if isinstance(w, int | float) and isinstance(h, int | float) and (
                    0 < w < 2**31 and 0 < h < 2**31):
                return int(w), int(h)
    return None


def _r_index(rpath: str) -> int:
    """The result's index from its JSON path (`.annotations[0].result[7]` -> 7)."""
    return int(rpath.rsplit("[", 1)[1].rstrip("]"))
