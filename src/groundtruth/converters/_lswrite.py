"""Writing a Label Studio JSON export (the inverse of `labelstudio.LabelStudioConverter.read`).

Annotations read from Label Studio go back to the LS annotation they came from (kept in their
`extensions["labelstudio"]`); others are grouped per annotator into new LS annotations (model
annotators into predictions). Pixels become percents of the item's width and height.

`disputes=True` writes only the disputed items, for adjudication in Label Studio: each
annotator's version is a prediction (`model_version` = the annotator), and `data.groundtruth`
links the task to its item and source annotations (`groundtruth.adjudication._labelstudio`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..issues import define, issue
from ..models import (
    AnnotationBase,
    BBox,
    Classification,
    Item,
    Keypoints,
    Mask,
    Polygon,
    Ranking,
    Rating,
    Relation,
    Span,
    TextAnswer,
)
from . import _lsbrush
from ._base import ConversionReport
from ._jsonio import iso, natural_order, source_order, write_json_array
from ._options import check_options
from .labelstudio import NO_SIZE_WRITE, NOT_WRITTEN, rotate_to_corner

PARTLY_WRITTEN = define(
    "labelstudio.write.partial", "warning",
    "An annotation was written in part (Label Studio holds one polygon ring, one keypoint)")

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from ..dataset import Dataset

_TYPE = {"bbox": "rectanglelabels", "polygon": "polygonlabels", "keypoints": "keypointlabels",
         "mask": "brushlabels", "span": "labels"}
_PAYLOAD = {"choices": "choices", "textarea": "text", "rating": "rating", "taxonomy": "taxonomy"}


def _order(ann: AnnotationBase) -> tuple[int, int, tuple[tuple[int, int | str], ...]]:
    """Where the result stood in the export: LS annotation, then result index."""
    ext = ann.extensions.get("labelstudio", {})
    a, r = ext.get("ann"), ext.get("r")
    return (a if isinstance(a, int) else 1 << 30, r if isinstance(r, int) else 1 << 30,
            natural_order(ann.id))


def _num_id(value: str) -> Any:
    return int(value) if value.isascii() and value.isdigit() else value


def write_export(dataset: Dataset, path: str, *, fs: AbstractFileSystem | None = None,
                 **options: Any) -> ConversionReport:
    check_options("labelstudio", options, {"disputes": bool}, direction="writing")
    overwrite = bool(options.pop("overwrite", False))
    disputes = bool(options.pop("disputes", False))
    options.pop("storage_options", None)
    report = ConversionReport(format="labelstudio", outputs=[path])
    if disputes:
        # the disputed items only, each annotator's version a prediction named by annotator
        from ..adjudication._labelstudio import disputes_dataset

        dataset = disputes_dataset(dataset)
    by_item = dataset.annotations_by_item()
    kinds = {a.id: a.kind for a in dataset.manifest.annotators}
    tasks = [_task(item, sorted(by_item.get(item.id, []), key=_order), kinds, report)
             for item in source_order(dataset.items, "labelstudio")]
    write_json_array(path, tasks, fs=fs, overwrite=overwrite)
    report.details = {"tasks": len(tasks)}
    if disputes:
        report.details["disputed_items"] = len(tasks)
    return report


def _task(item: Item, anns: list[AnnotationBase], kinds: Mapping[str, str],
          report: ConversionReport) -> dict[str, Any]:
    ext = item.extensions.get("labelstudio", {})
    key = ext.get("data_key") or ("image" if item.kind == "image" else "text")
    data: dict[str, Any] = {}
    if item.kind == "image":
        data[key] = item.uri
    elif item.text is not None:
        data[key] = item.text
    data.update(item.metadata)
    entries: list[dict[str, Any]] = [dict(e) for e in ext.get("annotations", [])]
    results: dict[int, list[dict[str, Any]]] = defaultdict(list)
    extra: dict[tuple[str | None, bool], int] = {}
    region_ids = {a.id: _region_id(a) for a in anns}
    choice_results: dict[tuple[int, str], dict[str, Any]] = {}
    for ann in anns:
        a_ext = ann.extensions.get("labelstudio", {})
        index = a_ext.get("ann")
        if not isinstance(index, int) or not 0 <= index < len(entries):
            model = kinds.get(ann.annotator or "") == "model"
            group = (ann.annotator, model)
            if group not in extra:
                extra[group] = len(entries)
                entries.append(_new_entry(ann, model, len(entries)))
            index = extra[group]
        if isinstance(ann, Classification) and a_ext.get("part", 0) and (
            index, str(a_ext.get("result", {}).get("id"))) in choice_results:
            res = choice_results[(index, str(a_ext["result"].get("id")))]
            res["value"][res["type"]].append(ann.label)
            continue
        made = _results(ann, item, key, region_ids, report)
        if made and isinstance(ann, Classification):
            choice_results[(index, str(made[0].get("id")))] = made[0]
        results[index].extend(made)
    task: dict[str, Any] = {} if ext.get("no_id") else {"id": _num_id(item.id)}
    task["data"] = data
    for group_name in ("annotations", "predictions"):
        out = []
        for i, entry in enumerate(entries):
            if entry["kind"] != group_name:
                continue
            a: dict[str, Any] = dict(entry["fields"])
            if "completed_by" in entry and entry["completed_by"] is not None:
                a["completed_by"] = entry["completed_by"]
            a["result"] = results.get(i, []) + list(entry.get("unsupported", []))
            out.append(a)
        if out or group_name in ext.get("groups", ("annotations", "predictions")):
            task[group_name] = out
    task.update(ext.get("task", {}))
    return task


def _new_entry(ann: AnnotationBase, model: bool, n: int) -> dict[str, Any]:
    fields: dict[str, Any] = {"id": n + 1}
    if model:
        fields["model_version"] = (ann.annotator or "model").removeprefix("model-")
        return {"kind": "predictions", "fields": fields}
    fields["was_cancelled"] = ann.status == "cancelled"
    if ann.created is not None:
        fields["created_at"] = iso(ann.created)
    who: Any = ann.annotator
    if who and who.startswith("ls-user-") and who[8:].isascii() and who[8:].isdigit():
        who = int(who[8:])
    return {"kind": "annotations", "fields": fields, "completed_by": who}


def _region_id(ann: AnnotationBase) -> str:
    rid = ann.extensions.get("labelstudio", {}).get("result", {}).get("id")
    return str(rid) if rid is not None else ann.id


def _size(ann: AnnotationBase, item: Item, rest: dict[str, Any]) -> tuple[float, float] | None:
    w = rest.get("original_width") or item.width
    h = rest.get("original_height") or item.height
    if isinstance(w, int | float) and isinstance(h, int | float) and w > 0 and h > 0:
        return float(w), float(h)
    return None


def _results(ann: AnnotationBase, item: Item, key: str, region_ids: dict[str, str],
             report: ConversionReport) -> list[dict[str, Any]]:
    a_ext = ann.extensions.get("labelstudio", {})
    rest: dict[str, Any] = dict(a_ext.get("result", {}))
    value: dict[str, Any] = {}
    atype: str = ann.type  # type: ignore[attr-defined]
    rtype = rest.get("type") or _TYPE.get(atype)
    if isinstance(ann, BBox | Polygon | Keypoints | Mask):
        size = _size(ann, item, rest)
        if size is None:
            report.issues.append(issue(NO_SIZE_WRITE, f"{atype} {ann.id}: item {item.id} has "
                                       "no width/height", record_id=ann.id))
            return []
        w, h = size
        rest.setdefault("original_width", int(w))
        rest.setdefault("original_height", int(h))
        if isinstance(ann, BBox):
            x, y, bw, bh = ann.bbox
            rot = ann.rotation or 0.0
            if rot:
                x, y = rotate_to_corner(x, y, bw, bh, rot)
            value.update(x=x / w * 100, y=y / h * 100, width=bw / w * 100, height=bh / h * 100,
                         rotation=rot)
        elif isinstance(ann, Polygon):
            ring = ann.polygon[0]
            value["points"] = [[ring[i] / w * 100, ring[i + 1] / h * 100]
                               for i in range(0, len(ring) - 1, 2)]
            if len(ann.polygon) > 1 or ann.holes:
                report.issues.append(issue(PARTLY_WRITTEN, f"polygon {ann.id}: only the first "
                                           "part is written (no holes or parts in LS)",
                                           record_id=ann.id))
        elif isinstance(ann, Keypoints):
            if len(ann.keypoints) > 3:
                report.issues.append(issue(PARTLY_WRITTEN, f"keypoints {ann.id}: LS keypoints are "
                                           "single points; only the first is written",
                                           record_id=ann.id))
            value.update(x=ann.keypoints[0] / w * 100, y=ann.keypoints[1] / h * 100)
            value.setdefault("width", a_ext.get("value", {}).get("width", 0.5))
        else:
            assert isinstance(ann, Mask)
            if ann.rle is None or not isinstance(ann.rle.counts, list):
                report.issues.append(issue(NOT_WRITTEN, f"mask {ann.id}: only uncompressed "
                                           "RLE masks are written", record_id=ann.id))
                return []
            mask = _lsbrush.coco_decode(ann.rle.counts, *ann.rle.size)
            value.update(format="rle", rle=_lsbrush.encode_mask(mask))
    elif isinstance(ann, Span):
        value.update(start=ann.start, end=ann.end, text=ann.text)
        offsets = a_ext.get("offsets")
        if isinstance(offsets, list) and len(offsets) == 2:
            value.update(start=offsets[0], end=offsets[1])
    elif isinstance(ann, Classification):
        rtype = rest.get("type") or "choices"
        value[rtype] = [ann.label.split("/")] if rtype == "taxonomy" else [ann.label]
    elif isinstance(ann, TextAnswer):
        rtype = "textarea"
        texts = a_ext.get("texts")
        value["text"] = texts if isinstance(texts, list) and "\n".join(texts) == ann.text \
            else [ann.text]
    elif isinstance(ann, Rating):
        rtype = "rating"
        value["rating"] = ann.value
    elif isinstance(ann, Ranking):
        rtype = rest.get("type") or "ranker"
        if rtype == "pairwise":
            value["selected"] = ann.ranking[0][0]
        else:
            buckets = a_ext.get("buckets") or ["rank"]
            if len(buckets) == 1:
                value["ranker"] = {buckets[0]: [g[0] for g in ann.ranking if g]}
            else:
                value["ranker"] = dict(zip(buckets, ann.ranking, strict=False))
    elif isinstance(ann, Relation):
        out: dict[str, Any] = {"from_id": region_ids.get(ann.source, ann.source),
                               "to_id": region_ids.get(ann.target, ann.target),
                               "type": "relation"}
        out.update({k: v for k, v in rest.items() if k not in ("from_id", "to_id")})
        if out.get("direction") == "left":
            out["from_id"], out["to_id"] = out["to_id"], out["from_id"]
        out.setdefault("direction", "right" if ann.directed else "bi")
        out.setdefault("labels", [ann.label] if ann.label else [])
        return [out]
    else:
        report.issues.append(issue(NOT_WRITTEN, f"{atype} annotation {ann.id} has no Label "
                                   "Studio result type", record_id=ann.id))
        return []
    lkey = rtype if rtype in ("rectanglelabels", "polygonlabels", "keypointlabels",
                              "brushlabels", "labels") else None
    if lkey and ann.label is not None:
        value[lkey] = [ann.label]
    value.update(a_ext.get("value", {}))
    if ann.confidence is not None and a_ext.get("result") is None:
        rest["score"] = ann.confidence
    res: dict[str, Any] = {"id": rest.pop("id", _region_id(ann)), "type": rtype,
                           "from_name": rest.pop("from_name", ann.label_set or rtype),
                           "to_name": rest.pop("to_name", key), **rest, "value": value}
    out_list = [res]
    for att in a_ext.get("attached", []):
        r = dict(att["result"])
        payload = _PAYLOAD.get(str(r.get("type")), "choices")
        v = dict(att["value"])
        v[payload] = ann.attributes.get(str(r.get("from_name")))
        r["value"] = v
        out_list.append(r)
    return out_list
