"""What changed between two matched records: the kinds of change and their details.

Records are compared field by field (pydantic models, so values are typed: a bbox is a tuple
of floats). Geometry fields are equal within `tolerance`, so float noise from a round trip
through another format is not a change.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel

from ..models import AnnotationBase, Item
from ._options import ANNOTATION_FIELD_GROUPS, ITEM_FIELD_GROUPS, DiffOptions
from ._similarity import SIMILARITY, annotation_type

_GEOMETRY = set(ANNOTATION_FIELD_GROUPS["geometry"])
_KIND_OF_FIELD = {f: kind for kind, fields in ANNOTATION_FIELD_GROUPS.items() for f in fields}
_ITEM_KIND_OF_FIELD = {f: kind for kind, fields in ITEM_FIELD_GROUPS.items() for f in fields}
_SKIP = frozenset({"id", "item_id"})


def close(a: Any, b: Any, tol: float) -> bool:
    """Equal, with numbers (also inside lists and tuples) within `tol` of each other."""
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return a == b or math.isclose(a, b, rel_tol=0.0, abs_tol=tol)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _json(value: Any) -> Any:
    """A field value as JSON (tuples -> lists, models -> dicts, datetimes -> text)."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def without_bookkeeping(extensions: dict[str, Any]) -> dict[str, Any]:
    """Extensions without keys starting with `@`: a converter's bookkeeping (the record's
    position in its file, keys it lacked), which says nothing about the label itself."""
    out: dict[str, Any] = {}
    for ns, payload in extensions.items():
        if isinstance(payload, dict):
            kept = {k: v for k, v in payload.items() if not k.startswith("@")}
            if kept:
                out[ns] = kept
        else:
            out[ns] = payload
    return out


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {}


_FIELDS: dict[tuple[type[BaseModel], type[BaseModel]], tuple[str, ...]] = {}


def _fields(a: BaseModel, b: BaseModel) -> tuple[str, ...]:
    """Field names of both records' classes (cached: pydantic's lookup is slow)."""
    key = (type(a), type(b))
    names = _FIELDS.get(key)
    if names is None:
        first = list(type(a).model_fields)
        names = _FIELDS[key] = (*first, *(n for n in type(b).model_fields if n not in first))
    return names


def _same_content(old: Any, new: Any) -> bool:
    """Equal in every field but `id`/`item_id`, with extension bookkeeping left out: the common
    case, decided without the field-by-field walk."""
    da, db = old.__dict__, new.__dict__
    if type(old) is not type(new):
        return False
    skip = ("id", "item_id", "extensions")
    if any(da[k] != db[k] for k in da if k not in skip):
        return False
    ea, eb = da.get("extensions"), db.get("extensions")
    return ea == eb or without_bookkeeping(ea or {}) == without_bookkeeping(eb or {})


def _round(x: float) -> float:
    return round(float(x), 4)


def _geometry_details(old: AnnotationBase, new: AnnotationBase, t: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    fn = SIMILARITY.get(t)
    if fn is not None and t not in ("classification", "rating", "ranking", "text"):
        key = "oks" if t == "keypoints" else "overlap" if t in ("span", "segment") else "iou"
        if t == "transcription":
            key = "overlap"
        out[key] = _round(fn([old], [new])[0, 0])
    delta: dict[str, float] = {}
    if t == "bbox" or (getattr(old, "bbox", None) is not None
                       and getattr(new, "bbox", None) is not None):
        for k, a, b in zip("xywh", old.bbox, new.bbox, strict=True):  # type: ignore[attr-defined]
            if a != b:
                delta[k] = _round(b - a)
    for name in ("start", "end", "start_time", "end_time", "frame", "time", "rotation"):
        a, b = getattr(old, name, None), getattr(new, name, None)
        if a is not None and b is not None and a != b:
            delta[name] = _round(b - a)
    if delta:
        out["delta"] = delta
    return out


def _dict_keys_diff(a: dict[str, Any], b: dict[str, Any], skip: set[str]) -> dict[str, list[str]]:
    keys = (set(a) | set(b)) - skip
    return {
        "added": sorted(k for k in keys if k not in a),
        "removed": sorted(k for k in keys if k not in b),
        "changed": sorted(k for k in keys if k in a and k in b and a[k] != b[k]),
    }


def compare_annotations(
    old: AnnotationBase, new: AnnotationBase, options: DiffOptions,
    ignored: set[str], id_map: dict[str, str] | None = None, *, check_item: bool = True,
) -> tuple[list[str], dict[str, Any]]:
    """Kinds of change (in `ANNOTATION_CHANGE_KINDS` order) and their details; ([], {}) if equal.

    `id_map` maps old annotation ids to new ones (content matching), so a relation whose ends
    were renumbered but still point at the same annotations is unchanged. `check_item=False`
    when both belong to one matched item (whose id may differ when items match by media).
    """
    moved = check_item and old.item_id != new.item_id
    if not moved and _same_content(old, new):
        return [], {}
    kinds: set[str] = set()
    details: dict[str, Any] = {}
    changed_fields: dict[str, list[str]] = {}
    for name in _fields(old, new):
        if name in _SKIP or name in ignored:
            continue
        a, b = getattr(old, name, None), getattr(new, name, None)
        if _empty(a) and _empty(b):
            continue
        if id_map is not None and name in ("source", "target") and a is not None:
            a = id_map.get(a, a)
        if id_map is not None and name == "sources" and a:
            a = [id_map.get(x, x) for x in a]  # consensus/review links, renumbered
        if name == "extensions":
            a, b = without_bookkeeping(a or {}), without_bookkeeping(b or {})
        if name in _GEOMETRY:
            if close(a, b, options.tolerance):
                continue
        elif name == "attributes":
            diff = _dict_keys_diff(a or {}, b or {}, options.ignored_attribute_keys())
            if any(diff.values()):
                kinds.add("attributes")
                details["attributes"] = {k: v for k, v in diff.items() if v}
            continue
        elif a == b:
            continue
        kind = _KIND_OF_FIELD.get(name, "other")
        kinds.add(kind)
        changed_fields.setdefault(kind, []).append(name)
        if kind in ("value", "text"):
            details.setdefault(kind, {})[name] = {"old": _json(a), "new": _json(b)}
        elif kind in ("label", "status", "annotator", "confidence", "type"):
            details[kind] = {"old": _json(a), "new": _json(b)}
    if moved and "item" not in ignored:
        kinds.add("item")
        details["item"] = {"old": old.item_id, "new": new.item_id}
    if "geometry" in kinds:
        t_old, t_new = annotation_type(old), annotation_type(new)
        geo = _geometry_details(old, new, t_old) if t_old == t_new else {}
        details["geometry"] = {"fields": changed_fields["geometry"], **geo}
        if t_old == t_new != "bbox" and changed_fields["geometry"] == ["bbox"]:
            # a polygon (mask, keypoints) whose shape is the same and whose stated bbox moved:
            # the drawing shows two identical shapes, so the change has to say it in words
            details["geometry"]["bbox_only"] = True
    for kind in ("endpoints", "other"):
        if kind in kinds:
            details[kind] = {"fields": changed_fields[kind]}
    order = [*ANNOTATION_FIELD_GROUPS, "item"]
    return [k for k in order if k in kinds], details


def compare_items(old: Item, new: Item, options: DiffOptions,
                  ignored: set[str]) -> tuple[list[str], dict[str, Any]]:
    """Kinds of item change (`ITEM_CHANGE_KINDS` order, without `annotations`) and details."""
    if old == new:
        return [], {}
    kinds: dict[str, list[str]] = {}
    details: dict[str, Any] = {}
    for name in _fields(old, new):
        if name in ignored:
            continue
        a, b = getattr(old, name, None), getattr(new, name, None)
        if name == "extensions":
            a, b = without_bookkeeping(a or {}), without_bookkeeping(b or {})
        if (_empty(a) and _empty(b)) or a == b:
            continue
        kind = _ITEM_KIND_OF_FIELD.get(name, "extensions")
        kinds.setdefault(kind, []).append(name)
        if kind in ("kind", "split", "id"):
            details[kind] = {"old": a, "new": b}
        elif kind == "dimensions":
            details.setdefault(kind, {})[name] = {"old": a, "new": b}
        elif kind in ("metadata", "extensions"):
            details[kind] = {k: v for k, v in _dict_keys_diff(a or {}, b or {}, set()).items()
                             if v}
        else:
            details.setdefault(kind, {"fields": []})["fields"].append(name)
    order = list(ITEM_FIELD_GROUPS)
    return [k for k in order if k in kinds], details
