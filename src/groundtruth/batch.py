"""Per-batch work as plain functions of a `pyarrow.RecordBatch` (or Table).

A batch is rows of one kind (`items` or `annotations`) in the Parquet schema of spec v1.0
(`groundtruth.io._arrow.SCHEMAS`), projected to whatever columns the function needs. Every
function here needs no global view of the dataset and returns a small, mergeable result, so a
distributed engine (see `groundtruth.engine`) can run it next to the data and add the results
up. The parts that do need a global view (duplicate ids, annotation -> item references, diff
joins, agreement tables) take only id columns: see `groundtruth.engine.steps`.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any, TypeAlias

import orjson
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import TypeAdapter

from .fingerprint import _MOD, Fingerprinter, canonical_bytes
from .io import _arrow
from .issues import Issue
from .models import AnnotationBase, Item
from .validation._structure import parse_record

__all__ = [
    "STATS_COLUMNS", "Batch", "canonical_bytes", "canonical_dicts", "digest", "empty_stats",
    "fingerprint_batch", "label_indices", "merge_stats", "records_batch", "stats_batch",
    "training_rows", "validate_batch",
]

Batch: TypeAlias = "pa.RecordBatch | pa.Table"

STATS_COLUMNS: dict[str, dict[str, str]] = {
    # stats key -> column, per kind (the only columns `gt info` needs to read)
    "items": {"item_kinds": "kind", "splits": "split"},
    "annotations": {"annotation_types": "type", "labels": "label", "annotators": "annotator",
                    "statuses": "status"},
}
NONE = "(none)"

_DATETIME = TypeAdapter(datetime)


def kind_of(batch: Batch, kind: str | None = None) -> str:
    """The record kind of a batch: given, or from the schema metadata our writer stores."""
    if kind is not None:
        return kind
    meta = batch.schema.metadata or {}
    found = meta.get(b"groundtruth.kind")
    if found is None:
        raise ValueError("cannot tell whether the batch holds items or annotations: pass kind=")
    return str(found.decode())


# ---------------------------------------------------------------------------------------------
# canonical form and fingerprint


def _plain(value: Any) -> Any:
    """Arrow's Python values as the JSON values the models dump: nested nulls dropped,
    timestamps as pydantic writes them."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return _DATETIME.dump_python(value, mode="json")
    return value


def canonical_dicts(batch: Batch, kind: str | None = None) -> Iterator[dict[str, Any]]:
    """Each row as the record's canonical JSON dict: what `record.to_json_dict()` gives for the
    model read from the same row, without building the model (a tested equivalence).

    JSON-text columns (metadata, attributes, extensions) are still strings when nested nulls are
    dropped, so nulls inside free-form JSON are kept, as the models keep them.
    """
    kind = kind_of(batch, kind)
    names = batch.schema.names
    # Per-row work only where a column needs it: JSON text to parse, containers that may be
    # empty (absent and empty mean the same, so the canonical form leaves them out).
    tree = {k: v for k, v in _arrow._JSON_TREES[kind].items() if k in names}
    containers = [f.name for f in batch.schema
                  if f.name in tree or pa.types.is_list(f.type) or pa.types.is_map(f.type)
                  or pa.types.is_struct(f.type)]
    columns = [_column_values(batch.column(i)) for i in range(batch.num_columns)]
    for values in zip(*columns, strict=True):
        data = {k: v for k, v in zip(names, values, strict=True) if v is not None}
        if tree:
            data = _decode(data, tree)  # JSON-text fields back to JSON values
        if "rle" in data:
            data["rle"] = _arrow._rle_from_row(data["rle"])
        for k in containers:
            if data.get(k, 0) in ([], {}):
                del data[k]
        yield data


def _decode(value: Any, tree: dict[str, Any]) -> Any:
    """Parse the JSON-text fields named by `tree` (nested as the schema nests them)."""
    if isinstance(value, list):
        return [_decode(v, tree) for v in value]
    out = dict(value)
    for name, sub in tree.items():
        v = out.get(name)
        if v is not None:
            out[name] = orjson.loads(v) if sub is True else _decode(v, sub)
    return out


def _column_values(column: pa.Array | pa.ChunkedArray) -> list[Any]:
    """A column as Python values; only columns that need it go through `_plain` (nested
    structs, maps, timestamps), the rest are taken as they are."""
    t = column.type
    if pa.types.is_timestamp(t) and t.tz in ("UTC", "+00:00"):
        return _utc_timestamps(column)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_string(t) and len(column) > 64:
        return _repeated_strings(column)
    if (pa.types.is_list(t) and pa.types.is_floating(t.value_type)
            and column.values.null_count == 0):
        return _float_lists(column)
    values: list[Any] = column.to_pylist(maps_as_pydicts="strict")
    if _needs_plain(column.type):
        return [_plain(v) for v in values]
    return values


def _repeated_strings(column: pa.Array) -> list[str | None]:
    """A string column with few distinct values (types, labels, annotators...) through its
    dictionary: one Python string per distinct value, not one per row."""
    encoded = column.dictionary_encode()
    uniques = encoded.dictionary.to_pylist()
    if len(uniques) * 4 > len(column):
        plain: list[str | None] = column.to_pylist()  # mostly distinct (ids): as fast
        return plain
    table = [*uniques, None]
    indices = encoded.indices.fill_null(len(uniques)).to_numpy(zero_copy_only=False)
    return [table[i] for i in indices.tolist()]


def _float_lists(column: pa.Array) -> list[list[float] | None]:
    """`list<double>` (boxes, keypoints) from one flat buffer: slicing a Python list of floats
    is several times faster than Arrow building each small list."""
    offsets = column.offsets.to_numpy().tolist()
    flat = column.values.to_numpy(zero_copy_only=False).tolist()
    valid = column.is_valid().to_numpy(zero_copy_only=False).tolist()
    return [flat[offsets[i]:offsets[i + 1]] if valid[i] else None for i in range(len(column))]


def _utc_timestamps(column: pa.Array | pa.ChunkedArray) -> list[str | None]:
    """UTC timestamps as pydantic writes them (`2025-01-01T00:00:05Z`, with `.ffffff` only
    when there are microseconds), vectorised: building datetime objects is the slow part."""
    import numpy as np

    micros = column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    valid = pc.is_valid(micros).to_numpy(zero_copy_only=False)
    ints = pc.fill_null(micros, 0).to_numpy(zero_copy_only=False)
    stamps = ints.astype("datetime64[us]")
    whole = np.char.add(np.datetime_as_string(stamps, unit="s"), "Z")
    exact = np.char.add(np.datetime_as_string(stamps, unit="us"), "Z")
    text = np.where(ints % 1_000_000 == 0, whole, exact)
    return [str(t) if ok else None for t, ok in zip(text, valid, strict=True)]


def _needs_plain(t: pa.DataType) -> bool:
    base = t
    while pa.types.is_list(base) or pa.types.is_large_list(base):
        base = base.value_type
    return bool(pa.types.is_struct(base) or pa.types.is_map(base)
                or pa.types.is_timestamp(base))


def digest(data: dict[str, Any]) -> int:
    """A record's digest: SHA-256 of its canonical bytes, as the fingerprint's integer."""
    return int.from_bytes(hashlib.sha256(canonical_bytes(data)).digest(), "big")


def fingerprint_batch(batch: Batch, kind: str | None = None) -> Fingerprinter:
    """The partial fingerprint of a batch: merge partials with `Fingerprinter.merge`, then
    `hexdigest(manifest)` gives what `Dataset.fingerprint()` gives for the same records."""
    kind = kind_of(batch, kind)
    fp = Fingerprinter()
    sha, dumps, sort = hashlib.sha256, orjson.dumps, orjson.OPT_SORT_KEYS
    for group in _dense_groups(batch, kind):
        # summed here and reduced once: the same value as `add_digest` record by record
        total = sum(int.from_bytes(sha(dumps(d, option=sort)).digest(), "big")
                    for d in canonical_dicts(group, kind))
        fp.sums[kind] = (fp.sums[kind] + total) % _MOD
        fp.counts[kind] += group.num_rows
    return fp


def _dense_groups(batch: Batch, kind: str) -> Iterator[pa.Table]:
    """The batch split by annotation type, each part without its all-null columns.

    Order does not matter to a fingerprint, and converting a handful of populated columns to
    Python is several times faster than converting the whole (mostly null) schema.
    """
    table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    if kind == "annotations" and "type" in table.column_names and table.num_rows:
        types = pc.unique(table.column("type")).to_pylist()
        groups = [table] if len(types) == 1 else [
            table.filter(pc.equal(table.column("type"), t)) for t in types]
    else:
        groups = [table]
    for group in groups:
        dense = [name for name, col in zip(group.column_names, group.columns, strict=True)
                 if col.null_count < group.num_rows]
        yield group.select(dense)


# ---------------------------------------------------------------------------------------------
# stats


def empty_stats() -> dict[str, Any]:
    return {"items": 0, "annotations": 0,
            **{key: {} for cols in STATS_COLUMNS.values() for key in cols}}


def stats_batch(batch: Batch, kind: str | None = None) -> dict[str, Any]:
    """Counts (as in `Dataset.stats()`) for one batch; reads only the columns it counts."""
    kind = kind_of(batch, kind)
    out = empty_stats()
    out[kind] = batch.num_rows
    for key, column in STATS_COLUMNS[kind].items():
        values = batch.column(column)
        # `Dataset.stats` counts a missing or empty value as "(none)"
        values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
        values = pc.fill_null(values, NONE)
        counts = pc.value_counts(values)
        out[key] = dict(zip(counts.field("values").to_pylist(),
                            counts.field("counts").to_pylist(), strict=True))
    return out


def merge_stats(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Add two stats results (either may be `empty_stats()`)."""
    out = dict(a)
    for key, value in b.items():
        if isinstance(value, dict):
            merged = Counter(a.get(key, {}))
            merged.update(value)
            out[key] = dict(merged)
        else:
            out[key] = a.get(key, 0) + value
    return out


# ---------------------------------------------------------------------------------------------
# validation (the per-record layers: no global view needed)


def validate_batch(
    batch: Batch, kind: str | None = None, *, file: str | None = None, first_row: int = 0,
) -> list[Issue]:
    """Structure issues of every row (located at `file` row N), as `gt validate` reports them."""
    kind = kind_of(batch, kind)
    issues: list[Issue] = []
    for i, row in enumerate(_arrow.batch_to_dicts(batch, kind)):
        parsed = parse_record(row, kind, file=file, row=first_row + i)
        if isinstance(parsed, list):
            issues.extend(parsed)
    return issues


def records_batch(batch: Batch, kind: str | None = None) -> list[Item | AnnotationBase]:
    """The batch as validated model instances (raises on the first bad row)."""
    kind = kind_of(batch, kind)
    return [_arrow.dict_to_record(d, kind) for d in _arrow.batch_to_dicts(batch, kind)]


# ---------------------------------------------------------------------------------------------
# training export


TRAINING_COLUMNS = ("id", "item_id", "type", "label", "bbox", "polygon", "keypoints", "start",
                    "end", "value", "split")


def training_rows(batch: Batch, label_index: dict[str, int]) -> pa.Table:
    """A flat training table of an annotation batch: one row per annotation with the label's
    class index (-1 for a label outside the taxonomy), the geometry columns kept as they are.

    `label_index` maps label names to class ids (taxonomy order, see `label_indices`). Join the
    result with the items' `uri`, `width`, `height`, `split` on `item_id` (a global step).
    """
    table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    labels = table.column("label")
    names = pa.array(list(label_index), pa.string())
    ids = pa.array(list(label_index.values()), pa.int64())
    pos = pc.index_in(labels, value_set=names)
    class_id = pc.fill_null(pc.take(ids, pos), -1)
    keep = [c for c in TRAINING_COLUMNS if c in table.column_names]
    return table.select(keep).append_column("class_id", class_id)


def label_indices(label_names: list[str]) -> dict[str, int]:
    """Class ids 0..n-1 in the order given (taxonomy order), first occurrence wins."""
    out: dict[str, int] = {}
    for name in label_names:
        out.setdefault(name, len(out))
    return out
