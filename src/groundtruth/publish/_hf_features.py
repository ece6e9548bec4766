"""The native Arrow schemas as Hugging Face `datasets` features, for a card's `dataset_info`.

`datasets` (5.x) has no feature type for an Arrow map (`attributes` of a token, `votes` of a
consensus, `scores` of a rating) and cannot cast one to a list of `{key, value}` structs
either: a schema with a map column fails to load at all. So the card's configs name the
columns `datasets` can read (`columns` + matching `features`) and the card lists the columns
left out of that view; groundtruth, pyarrow, DuckDB and pandas read them from the same files.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa


def has_map(t: pa.DataType) -> bool:
    """Whether an Arrow map type sits anywhere inside `t`."""
    if pa.types.is_map(t):
        return True
    if pa.types.is_struct(t):
        return any(has_map(f.type) for f in t)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return has_map(t.value_type)
    return False


def _dtype(t: pa.DataType) -> Any:
    """The YAML form of one Arrow type (a dtype string, a struct list or a list mapping)."""
    if pa.types.is_struct(t):
        return {"struct": [{"name": f.name, **_field_body(f.type)} for f in t]}
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        inner = _field_body(t.value_type)
        key = "list" if pa.types.is_list(t) else "large_list"
        if "dtype" in inner:
            return {key: inner["dtype"]}
        if "struct" in inner:
            return {key: inner["struct"]}
        return {key: inner}
    if pa.types.is_timestamp(t):
        tz = f", tz={t.tz}" if t.tz else ""
        return {"dtype": f"timestamp[{t.unit}{tz}]"}
    if pa.types.is_boolean(t):
        return {"dtype": "bool"}
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return {"dtype": "string"}
    return {"dtype": str(t)}  # int64, float64, ...: Arrow and datasets share these names


def _field_body(t: pa.DataType) -> dict[str, Any]:
    body = _dtype(t)
    return body if isinstance(body, dict) else {"dtype": body}


def hf_features(schema: pa.Schema) -> tuple[list[dict[str, Any]], list[str]]:
    """`schema` in the `features:` form of a card's `dataset_info`, and the columns left out
    (those holding a map, which `datasets` cannot read)."""
    kept = [f for f in schema if not has_map(f.type)]
    return ([{"name": f.name, **_field_body(f.type)} for f in kept],
            [f.name for f in schema if has_map(f.type)])
