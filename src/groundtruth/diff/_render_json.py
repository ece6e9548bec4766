"""The diff as JSON: `DatasetDiff.to_dict()` (schema: spec/v1.0/schema/diff.schema.json)."""

from __future__ import annotations

import orjson

from ._result import DatasetDiff


def render_json(result: DatasetDiff) -> str:
    return orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"
