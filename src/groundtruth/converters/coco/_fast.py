"""Columnar fast path: COCO image and annotation dicts straight to Arrow batches.

Most records of a big COCO file are plain: an integer id, a known image and category, a
polygon (or RLE, or box) with `area`, `bbox` and `iscrowd`. For a slice of such records this
module builds the native Parquet columns and each record's fingerprint digest directly, without
a pydantic model per record. The result is exactly what the model path produces (same record
JSON, same digests; tested). A slice holding any other record returns None and goes through
the model path, which reports issues.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson
import pyarrow as pa

from ...io._arrow import SCHEMAS
from .. import _rle

_GT_KEYS = frozenset(("id", "image_id", "category_id", "segmentation", "area", "bbox", "iscrowd"))
_IMAGE_CORE = frozenset(("id", "file_name", "width", "height"))
_INT_TOKEN = re.compile(rb"[\[,]-?\d+[\],]")
_SORT = orjson.OPT_SORT_KEYS
_ANN_SCHEMA = SCHEMAS["annotations"]
_ITEM_SCHEMA = SCHEMAS["items"]


def _digest(data: bytes) -> int:
    return int.from_bytes(hashlib.sha256(data).digest(), "big")


def _floats(v: bytes, n: int) -> bool:
    """True when the `n` numbers dumped in `v` hold no integer token (the model stores floats).

    orjson writes every float with a `.` unless it uses an exponent, so `n` dots mean `n`
    floats; otherwise the regex decides.
    """
    return v.count(b".") == n or _INT_TOKEN.search(v) is None


def _dumped(text: str, cache: dict[str, bytes]) -> bytes:
    out = cache.get(text)
    if out is None:
        out = cache[text] = orjson.dumps(text)
    return out


def images_batch(
    records: list[Any], start: int, image_keys: dict[Any, str], sizes: dict[str, tuple[int, int]]
) -> tuple[pa.RecordBatch, list[int]] | None:
    """Items for plain image records, or None if one is not plain (id int, unique, sized)."""
    ids: list[str] = []
    uris: list[str] = []
    widths: list[int] = []
    heights: list[int] = []
    exts: list[str] = []
    digests: list[int] = []
    seen: set[int] = set()
    for k, rec in enumerate(records):
        if type(rec) is not dict:
            return None
        raw = rec.get("id")
        name = rec.get("file_name")
        w, h = rec.get("width"), rec.get("height")
        if (
            type(raw) is not int
            or raw in image_keys
            or raw in seen
            or type(name) is not str
            or not name
            or type(w) is not int
            or type(h) is not int
            or not 0 < w < 2**31
            or not 0 < h < 2**31
            or "groundtruth" in rec
        ):
            return None
        seen.add(raw)
        ext = {key: v for key, v in rec.items() if key not in _IMAGE_CORE}
        ext["@index"] = start + k
        item_id = str(raw)
        ext_json = orjson.dumps({"coco": ext})
        canon = {
            "extensions": {"coco": ext},
            "height": h,
            "id": item_id,
            "kind": "image",
            "uri": name,
            "width": w,
        }
        digests.append(_digest(orjson.dumps(canon, option=_SORT)))
        ids.append(item_id)
        uris.append(name)
        widths.append(w)
        heights.append(h)
        exts.append(ext_json.decode())
    for k, rec in enumerate(records):
        item_id = ids[k]
        image_keys[rec["id"]] = item_id
        sizes[item_id] = (heights[k], widths[k])
    n = len(ids)
    columns = {
        "id": pa.array(ids, pa.string()),
        "kind": pa.array(["image"] * n, pa.string()),
        "uri": pa.array(uris, pa.string()),
        "width": pa.array(widths, pa.int64()),
        "height": pa.array(heights, pa.int64()),
        "extensions": pa.array(exts, pa.string()),
    }
    return _batch(columns, _ITEM_SCHEMA, n), digests


def _batch(columns: dict[str, pa.Array], schema: pa.Schema, n: int) -> pa.RecordBatch:
    arrays = [columns[f.name] if f.name in columns else pa.nulls(n, f.type) for f in schema]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def annotations_batch(
    records: list[Any],
    start: int,
    image_keys: dict[Any, str],
    sizes: dict[str, tuple[int, int]],
    labels: dict[Any, str],
    seen: set[str],
) -> tuple[pa.RecordBatch, list[int]] | None:
    """Annotations for plain instance records, or None if one is not plain.

    Plain: exactly the seven instance keys; integer id >= 1, unique; known image and category;
    `iscrowd` 0 or 1; `bbox` four floats; `segmentation` polygons of >= 3 float points, an RLE
    whose size is the image's and whose counts sum to height*width, or `[]` (a box).
    """
    n = len(records)
    ids: list[str] = []
    items: list[str] = []
    names: list[str] = []
    types: list[str] = []
    boxes: list[list[float]] = []
    polygons: list[list[list[float]] | None] = []
    rles: list[dict[str, Any] | None] = []
    exts: list[str] = []
    digests: list[int] = []
    new_ids: list[str] = []
    batch_ids: set[str] = set()
    cache: dict[str, bytes] = {}
    for k, rec in enumerate(records):
        if type(rec) is not dict or rec.keys() != _GT_KEYS:
            return None
        raw = rec["id"]
        if type(raw) is not int or raw <= 0:
            return None
        ann_id = str(raw)
        if ann_id in seen or ann_id in batch_ids:
            return None
        if type(rec["image_id"]) not in (int, str) or type(rec["category_id"]) is not int:
            return None  # the exact path reports it (a list is no key, and not hashable)
        item_id = image_keys.get(rec["image_id"])
        label = labels.get(rec["category_id"])
        crowd = rec["iscrowd"]
        area = rec["area"]
        box = rec["bbox"]
        if (
            item_id is None
            or label is None
            or type(rec["category_id"]) is not int
            or type(crowd) is not int
            or crowd not in (0, 1)
            or type(area) not in (int, float)
            or type(box) is not list
            or len(box) != 4
        ):
            return None
        box_json = orjson.dumps(box)
        if not _floats(box_json, 4):
            return None
        seg = rec["segmentation"]
        ext = {"area": area, "iscrowd": crowd, "@index": start + k}
        rle: dict[str, Any] | None = None
        if type(seg) is list and seg:
            total = 0
            for part in seg:
                if type(part) is not list or len(part) < 6 or len(part) % 2:
                    return None
                total += len(part)
            geom_json = orjson.dumps(seg)
            if not _floats(geom_json, total) or b'"' in geom_json or b"{" in geom_json:
                return None
            kind = "polygon"
            canon_geom = b',"polygon":' + geom_json
        elif type(seg) is dict:
            rle = _plain_rle(seg, sizes.get(item_id))
            if rle is None:
                return None
            kind = "mask"
            counts = seg["counts"]
            canon_geom = b',"rle":' + orjson.dumps({"counts": counts, "size": seg["size"]})
        elif seg == []:
            kind = "bbox"
            ext = {"area": area, "iscrowd": crowd, "segmentation": [], "@index": start + k}
            canon_geom = b""
        else:
            return None
        batch_ids.add(ann_id)
        new_ids.append(ann_id)
        ext_json = orjson.dumps({"coco": ext}, option=_SORT)
        canon = b"".join(
            (
                b'{"bbox":',
                box_json,
                b',"extensions":',
                ext_json,
                b',"id":"',
                ann_id.encode(),
                b'","item_id":',
                _dumped(item_id, cache),
                b',"label":',
                _dumped(label, cache),
                canon_geom,
                b',"type":"',
                kind.encode(),
                b'"}',
            )
        )
        digests.append(_digest(canon))
        ids.append(ann_id)
        items.append(item_id)
        names.append(label)
        types.append(kind)
        boxes.append(box)
        polygons.append(seg if kind == "polygon" else None)
        rles.append(rle)
        exts.append(ext_json.decode())
    seen.update(new_ids)
    columns = {
        "id": pa.array(ids, pa.string()),
        "item_id": pa.array(items, pa.string()),
        "type": pa.array(types, pa.string()),
        "label": pa.array(names, pa.string()),
        "extensions": pa.array(exts, pa.string()),
        "bbox": pa.array(boxes, _ANN_SCHEMA.field("bbox").type),
        "polygon": pa.array(polygons, _ANN_SCHEMA.field("polygon").type),
        "rle": pa.array(rles, _ANN_SCHEMA.field("rle").type),
    }
    return _batch(columns, _ANN_SCHEMA, n), digests


def _plain_rle(seg: dict[str, Any], image: tuple[int, int] | None) -> dict[str, Any] | None:
    if seg.keys() != {"size", "counts"} or image is None:
        return None
    size, counts = seg["size"], seg["counts"]
    if type(size) is not list or len(size) != 2 or size[0] != image[0] or size[1] != image[1]:
        return None
    h, w = image
    if type(counts) is list:
        if not all(type(c) is int and c >= 0 for c in counts) or sum(counts) != h * w:
            return None
        return {"size": [h, w], "counts": counts, "compressed": None}
    if type(counts) is str:
        try:
            total = int(_rle.counts_from_string(counts).sum())
        except ValueError:
            return None
        if total != h * w:
            return None
        return {"size": [h, w], "counts": None, "compressed": counts}
    return None
