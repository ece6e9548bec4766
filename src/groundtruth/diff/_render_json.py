"""The diff as JSON: `DatasetDiff.to_dict()` (schema: spec/v1.0/schema/diff.schema.json).

The head is indented; the change records are written one per line, as stored (see
`ChangeList`), so rendering a large diff decodes nothing and a reader can grep a change.
"""

from __future__ import annotations

from typing import Any

import orjson

from ._result import DatasetDiff


def _array(raw: list[bytes]) -> bytes:
    if not raw:
        return b"[]"
    return b"[\n      " + b",\n      ".join(raw) + b"\n    ]"


def render_json(result: DatasetDiff, extra: dict[str, Any] | None = None) -> str:
    """The document; `extra` adds top-level keys (the CLI's `gates`) before `changes`."""
    head = orjson.dumps({**result.head(), **(extra or {})}, option=orjson.OPT_INDENT_2)
    assert head.endswith(b"\n}")
    body = (head[:-2] + b',\n  "changes": {\n    "items": ' + _array(result.item_changes.raw)
            + b',\n    "annotations": ' + _array(result.annotation_changes.raw)
            + b',\n    "truncated": ' + (b"true" if result.truncated else b"false")
            + b"\n  }\n}\n")
    return body.decode()
