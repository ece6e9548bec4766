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


def record_to_row(record: Item | AnnotationBase) -> dict[str, Any]:
    """One model instance as a row of the kind's Arrow schema."""
    kind = "items" if isinstance(record, Item) else "annotations"
    row = record.model_dump(exclude_none=True)
    rle = row.get("rle")
    if rle is not None:
        counts = rle["counts"]
        row["rle"] = {
            "size": list(rle["size"]),
            "counts": counts if isinstance(counts, list) else None,
            "compressed": counts if isinstance(counts, str) else None,
        }
    return _encode(row, _JSON_TREES[kind])  # type: ignore[no-any-return]


def row_to_dict(row: dict[str, Any], kind: str) -> dict[str, Any]:
    """A row read from Arrow as the record's JSON-shaped dict (not yet validated)."""
    out = _decode(row, _JSON_TREES[kind])
    rle = out.get("rle")
    if rle is not None:
        out["rle"] = {
            "size": rle.get("size"),
            "counts": rle["compressed"] if rle.get("compressed") is not None else rle.get("counts"),
        }
    return out  # type: ignore[no-any-return]


def records_to_batch(records: Iterable[Item | AnnotationBase], kind: str) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([record_to_row(r) for r in records], schema=SCHEMAS[kind])


def batch_to_dicts(batch: pa.RecordBatch | pa.Table, kind: str) -> Iterator[dict[str, Any]]:
    # Columns that are null in every row of the batch (most of the 40 annotation columns, in
    # any one dataset) are dropped before the costly conversion to Python: a null becomes an
    # absent key either way.
    keep = [i for i, col in enumerate(batch.columns) if col.null_count < len(col)]
    if len(keep) < batch.num_columns:
        batch = batch.select(keep)
    for row in batch.to_pylist(maps_as_pydicts="strict"):
        yield row_to_dict(row, kind)


def dict_to_record(data: dict[str, Any], kind: str) -> Item | AnnotationBase:
    if kind == "items":
        return Item.model_validate(data)
    return annotation_adapter.validate_python(data)  # type: ignore[return-value]


def conform(table: pa.Table, kind: str) -> pa.Table:
    """Cast a table read from a file to the kind's schema: missing optional columns are added
    as nulls, extra columns dropped. Raises ValueError naming the column when a type is wrong
    or a required column is absent."""
    schema = SCHEMAS[kind]
    columns = []
    for f in schema:
        if f.name not in table.column_names:
            if not f.nullable:
                raise ValueError(f"required column {f.name!r} is missing")
            columns.append(pa.nulls(table.num_rows, f.type))
            continue
        col = table.column(f.name)
        if not col.type.equals(f.type):
            try:
                col = col.cast(f.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise ValueError(
                    f"column {f.name!r} has type {col.type}, expected {f.type}"
                ) from exc
        columns.append(col)
    return pa.Table.from_arrays(columns, schema=schema)
