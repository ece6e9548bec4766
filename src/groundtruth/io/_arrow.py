"""The Parquet encoding: typed Arrow schemas for items and annotations, and row conversion.

Every spec field is a real, typed column (`bbox` is `list<double>`, `created` a timestamp), so
DuckDB, pandas or Spark see meaningful columns. Only the free-form JSON objects (`metadata`,
`attributes`, `extensions`) are stored as JSON text; their fields carry the Arrow field metadata
`groundtruth.json = true`, which is how the reader knows to parse them back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson
import pyarrow as pa

from ..models import AnnotationBase, Item, annotation_adapter
from ..models._base import compact
from ..models.item import compact_item

JSON_META = {b"groundtruth.json": b"true"}


def _json(name: str) -> pa.Field:
    return pa.field(name, pa.string(), metadata=JSON_META)


_MESSAGE = pa.struct(
    [("role", pa.string()), ("content", pa.string()), ("name", pa.string()), _json("metadata")]
)
_TOKEN = pa.struct(
    [
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("form", pa.string()),
        ("attributes", pa.map_(pa.string(), pa.string())),
    ]
)
_CANDIDATE = pa.struct(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("messages", pa.list_(_MESSAGE)),
        ("uri", pa.string()),
        _json("metadata"),
    ]
)

ITEM_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        ("uri", pa.string()),
        ("sha256", pa.string()),
        ("size", pa.int64()),
        ("media_type", pa.string()),
        ("text", pa.string()),
        ("tokens", pa.list_(_TOKEN)),
        ("messages", pa.list_(_MESSAGE)),
        ("candidates", pa.list_(_CANDIDATE)),
        ("width", pa.int64()),
        ("height", pa.int64()),
        ("duration", pa.float64()),
        ("sample_rate", pa.int64()),
        ("fps", pa.float64()),
        ("frame_count", pa.int64()),
        ("split", pa.string()),
        _json("metadata"),
        _json("extensions"),
    ],
    metadata={b"groundtruth.kind": b"items"},
)

_RINGS = pa.list_(pa.list_(pa.float64()))

ANNOTATION_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        ("label", pa.string()),
        ("label_set", pa.string()),
        ("annotator", pa.string()),
        ("guideline", pa.struct([("id", pa.string()), ("version", pa.string())])),
        ("created", pa.timestamp("us", tz="UTC")),
        ("confidence", pa.float64()),
        ("status", pa.string()),
        _json("attributes"),
        ("frame", pa.int64()),
        ("time", pa.float64()),
        ("track_id", pa.string()),
        ("sources", pa.list_(pa.string())),
        (
            "consensus",
            pa.struct(
                [
                    ("method", pa.string()),
                    ("votes", pa.map_(pa.string(), pa.float64())),
                    ("agreement", pa.float64()),
                    ("needs_review", pa.bool_()),
                    ("reason", pa.string()),
                ]
            ),
        ),
        (
            "adjudication",
            pa.struct(
                [
                    ("decision", pa.string()),
                    ("accepted", pa.list_(pa.string())),
                    ("overruled", pa.list_(pa.string())),
                    ("rationale", pa.string()),
                    ("section", pa.string()),
                    ("reviewer", pa.string()),
                    ("decision_id", pa.string()),
                ]
            ),
        ),
        _json("extensions"),
        # geometry
        ("bbox", pa.list_(pa.float64())),
        ("rotation", pa.float64()),
        ("polygon", _RINGS),
        ("holes", _RINGS),
        ("polyline", _RINGS),
        ("keypoints", pa.list_(pa.float64())),
        (
            "rle",
            pa.struct(
                [
                    ("size", pa.list_(pa.int64())),
                    ("counts", pa.list_(pa.int64())),
                    ("compressed", pa.string()),
                ]
            ),
        ),
        ("uri", pa.string()),
        # text, time and judgments
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("text", pa.string()),
        ("source", pa.string()),
        ("target", pa.string()),
        ("directed", pa.bool_()),
        ("start_time", pa.float64()),
        ("end_time", pa.float64()),
        ("language", pa.string()),
        ("value", pa.float64()),
        ("ranking", pa.list_(pa.list_(pa.string()))),
        ("scores", pa.map_(pa.string(), pa.float64())),
    ],
    metadata={b"groundtruth.kind": b"annotations"},
)

SCHEMAS = {"items": ITEM_SCHEMA, "annotations": ANNOTATION_SCHEMA}


def _json_fields(t: pa.DataType | pa.Schema) -> dict[str, Any]:
    """A tree of the field names under `t` that hold JSON text (leaf value True)."""
    fields = list(t) if isinstance(t, pa.Schema) else (list(t) if pa.types.is_struct(t) else [])
    tree: dict[str, Any] = {}
    for f in fields:
        if f.metadata == JSON_META:
            tree[f.name] = True
            continue
        inner = f.type
        while pa.types.is_list(inner):
            inner = inner.value_type
        if pa.types.is_struct(inner):
            sub = _json_fields(inner)
            if sub:
                tree[f.name] = sub
    return tree


_JSON_TREES = {kind: _json_fields(schema) for kind, schema in SCHEMAS.items()}


def _encode(value: Any, tree: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return [_encode(v, tree) for v in value]
    out = dict(value)
    for name, sub in tree.items():
        v = out.get(name)
        if v is None:
            continue
        out[name] = orjson.dumps(v).decode() if sub is True else _encode(v, sub)
    return out


def _decode(value: Any, tree: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return [_decode(v, tree) for v in value]
    out = {k: v for k, v in value.items() if v is not None}
    for name, sub in tree.items():
        v = out.get(name)
        if v is None:
            continue
        out[name] = orjson.loads(v) if sub is True else _decode(v, sub)
    return out


def _rle_to_row(rle: Any) -> Any:
    if not isinstance(rle, dict):
        return rle
    counts = rle.get("counts")
    return {
        "size": list(rle["size"]) if rle.get("size") is not None else None,
        "counts": counts if isinstance(counts, list) else None,
        "compressed": counts if isinstance(counts, str) else None,
    }


def _rle_from_row(rle: dict[str, Any]) -> dict[str, Any]:
    compressed = rle.get("compressed")
    return {"size": rle.get("size"),
            "counts": compressed if compressed is not None else rle.get("counts")}


def _column(name: str, values: list[Any], f: pa.Field, tree: dict[str, Any]) -> pa.Array:
    sub = tree.get(name)
    if sub is True:
        values = [None if v is None else orjson.dumps(v).decode() for v in values]
    elif sub is not None:
        values = [None if v is None else _encode(v, sub) for v in values]
    elif name == "rle":
        values = [_rle_to_row(v) for v in values]
    elif name == "created":
        array = pa.array(values)
        if pa.types.is_string(array.type):
            return array.cast(f.type)
        return array.cast(f.type) if not array.type.equals(f.type) else array
    return pa.array(values, type=f.type)


def rows_to_batch(rows: list[dict[str, Any]], kind: str) -> pa.RecordBatch:
    """JSON-shaped records (as parsed or dumped) to one record batch of the kind's schema.

    Built column by column: only the fields records actually hold are visited, so a wide,
    sparse schema (every annotation type's fields) costs what the data holds, not its width.
    Raises ValueError for a field the schema does not have; Arrow errors for wrong types.
    """
    schema = SCHEMAS[kind]
    tree = _JSON_TREES[kind]
    n = len(rows)
    columns: dict[str, list[Any]] = {}
    for i, row in enumerate(rows):
        for key, value in row.items():
            col = columns.get(key)
            if col is None:
                col = columns[key] = [None] * n
            col[i] = value
    unknown = set(columns) - set(schema.names)
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
    arrays = [
        _column(f.name, columns[f.name], f, tree) if f.name in columns else pa.nulls(n, f.type)
        for f in schema
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def records_to_batch(records: Iterable[Item | AnnotationBase], kind: str) -> pa.RecordBatch:
    # The same record shape the JSONL encoding writes (top-level empties left out), so both
    # encodings give identical Arrow tables.
    rows = [compact(r.model_dump(exclude_none=True)) for r in records]
    if kind == "items":
        rows = [compact_item(r) for r in rows]
    return rows_to_batch(rows, kind)


def batch_to_dicts(batch: pa.RecordBatch | pa.Table, kind: str) -> Iterator[dict[str, Any]]:
    """Rows of a batch as JSON-shaped record dicts (absent fields left out), column-wise."""
    tree = _JSON_TREES[kind]
    names: list[str] = []
    columns: list[list[Any]] = []
    for name in batch.column_names:
        col = batch.column(name)
        if col.null_count == len(col):
            continue  # most columns of a sparse batch are empty: skip them whole
        values = col.to_pylist(maps_as_pydicts="strict")
        sub = tree.get(name)
        if sub is True:
            values = [None if v is None else orjson.loads(v) for v in values]
        elif sub is not None:
            values = [None if v is None else _decode(v, sub) for v in values]
        elif name == "rle":
            values = [None if v is None else _rle_from_row(v) for v in values]
        elif name in ("guideline", "consensus", "adjudication"):
            values = [None if v is None else {k: x for k, x in v.items() if x is not None}
                      for v in values]
        elif name in ("tokens", "messages", "candidates"):
            values = [None if v is None else _decode(v, {}) for v in values]
        names.append(name)
        columns.append(values)
    for i in range(batch.num_rows):
        yield {name: col[i] for name, col in zip(names, columns, strict=True)
               if col[i] is not None}


def dict_to_record(data: dict[str, Any], kind: str) -> Item | AnnotationBase:
    if kind == "items":
        return Item.model_validate(data)
    return annotation_adapter.validate_python(data)


def conform(table: pa.Table, kind: str, columns: list[str] | None = None) -> pa.Table:
    """Cast a table read from a file to the kind's schema: missing optional columns are added
    as nulls, extra columns dropped. Raises ValueError naming the column when a type is wrong
    or a required column is absent."""
    schema = SCHEMAS[kind]
    if columns:
        schema = pa.schema([schema.field(c) for c in columns])
    arrays = []
    for f in schema:
        if f.name not in table.column_names:
            if not f.nullable:
                raise ValueError(f"required column {f.name!r} is missing")
            arrays.append(pa.nulls(table.num_rows, f.type))
            continue
        col = table.column(f.name)
        if not col.type.equals(f.type):
            try:
                col = col.cast(f.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise ValueError(
                    f"column {f.name!r} has type {col.type}, expected {f.type}"
                ) from exc
        arrays.append(col)
    return pa.Table.from_arrays(arrays, schema=schema)
