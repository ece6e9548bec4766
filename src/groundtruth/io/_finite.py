"""NaN and infinities in Parquet parts, found column by column and reported where they are.

The spec allows finite numbers only (JSON has no NaN or Infinity), but a Parquet file written
by another tool can hold them. Read into records they would pass unnoticed and a JSONL or
foreign write would store `null`: a value lost with "nothing lost". `non_finite_issues` finds
every such value with Arrow compute (only the floating-point columns are read, and only the
few rows that hold one are turned into Python) and reports each as a located
`content.not-finite` issue (file, row, record id, field path), the code `gt validate` uses.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..issues import Issue, define, issue, json_path

NOT_FINITE = define("content.not-finite", "error", "A number is NaN or infinite")

HINT = ("store a finite number (JSON has no NaN or Infinity; a JSONL or foreign copy would "
        "hold null): fix the values, or drop the field")


def _has_float(t: pa.DataType) -> bool:
    if pa.types.is_floating(t):
        return True
    if pa.types.is_map(t):
        return _has_float(t.item_type)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _has_float(t.value_type)
    if pa.types.is_struct(t):
        return any(_has_float(t.field(i).type) for i in range(t.num_fields))
    return False


def _bad_rows(arr: pa.Array) -> np.ndarray:
    """Indices (into `arr`) of the rows holding a non-finite float anywhere inside."""
    t = arr.type
    if pa.types.is_floating(t):
        bad = pc.fill_null(pc.invert(pc.is_finite(arr)), False)
        return np.flatnonzero(bad.to_numpy(zero_copy_only=False))
    if pa.types.is_map(t):  # list kernels do not take maps: as the list of entries it is
        return _bad_rows(arr.cast(pa.list_(pa.struct([t.key_field, t.item_field]))))
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        child = pc.list_flatten(arr)
        child_rows = _bad_rows(child)
        if not child_rows.size:
            return child_rows
        parents = pc.list_parent_indices(arr).to_numpy()
        return np.unique(parents[child_rows])
    if pa.types.is_struct(t):
        rows = np.empty(0, dtype=np.int64)
        for i in range(t.num_fields):
            if _has_float(t.field(i).type):
                rows = np.union1d(rows, _bad_rows(pc.struct_field(arr, [i])))
        return rows
    return np.empty(0, dtype=np.int64)


def _paths(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], float]]:
    """Where, inside one Python value, the non-finite floats are."""
    if isinstance(value, float):
        if not math.isfinite(value):
            yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*path, str(k)))
    elif isinstance(value, list):
        if value and all(isinstance(x, tuple) and len(x) == 2 for x in value):  # a map
            for k, v in value:
                yield from _paths(v, (*path, str(k)))
        else:
            for i, v in enumerate(value):
                yield from _paths(v, (*path, i))


def non_finite_issues(fs: Any, root: str, parts: list[Any], display: str,
                      limit: int = 1000) -> list[Issue]:
    """Every NaN/infinite value in the Parquet parts (at most `limit` issues)."""
    out: list[Issue] = []
    for part in parts:
        if not part.path.endswith(".parquet"):
            continue
        full = posixpath.join(root, part.path) if root else part.path
        shown = posixpath.join(display, part.path)
        with fs.open(full, "rb") as f:
            pf = pq.ParquetFile(f)
            columns = [field.name for field in pf.schema_arrow if _has_float(field.type)]
            if not columns:
                continue
            wanted = ["id", *columns] if "id" in pf.schema_arrow.names else columns
            row0 = 0
            for batch in pf.iter_batches(columns=wanted):
                for name in columns:
                    col = batch.column(name)
                    for r in _bad_rows(col).tolist():
                        rid = batch.column("id")[r].as_py() if "id" in wanted else None
                        for where, v in _paths(col[r].as_py(), (name,)):
                            out.append(issue(
                                NOT_FINITE, f"`{json_path(where)[2:]}` is {v}", hint=HINT,
                                file=shown, row=row0 + r, record_id=rid,
                                path=json_path(where)))
                            if len(out) >= limit:
                                return out
                row0 += batch.num_rows
    return out
