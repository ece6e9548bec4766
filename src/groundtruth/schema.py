"""The spec's JSON Schemas, generated from the models (the models are the source of truth).

`spec/v1.0/schema/*.json` are this module's output, committed; a test regenerates them and
fails when they drift. Regenerate with: `python -m groundtruth.schema spec/v1.0/schema`.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import orjson
from pydantic import TypeAdapter

from .models import Annotation, DatasetDocument, DecisionRecord, Item, Manifest
from .spec import SPEC_VERSION, schema_id

_SOURCES: dict[str, Any] = {
    "dataset": DatasetDocument,
    "manifest": Manifest,
    "item": Item,
    "annotation": Annotation,
    "decision": DecisionRecord,
}
SCHEMA_NAMES: tuple[str, ...] = tuple(_SOURCES)

_TITLES = {
    "dataset": "groundtruth dataset document",
    "manifest": "groundtruth manifest (groundtruth.json)",
    "item": "groundtruth item (one line of items.jsonl)",
    "annotation": "groundtruth annotation (one line of annotations.jsonl)",
    "decision": "groundtruth adjudication decision (one line of a decisions log)",
}


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one spec object."""
    source = _SOURCES[name]
    adapter = TypeAdapter(source)
    body = adapter.json_schema(mode="validation", ref_template="#/$defs/{model}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id(name),
        "title": _TITLES[name],
        "x-groundtruth-version": SPEC_VERSION,
        **{k: v for k, v in body.items() if k != "title"},
    }


def render(schema: dict[str, Any]) -> bytes:
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def write_schemas(folder: str) -> list[str]:
    os.makedirs(folder, exist_ok=True)
    written = []
    for name in SCHEMA_NAMES:
        path = os.path.join(folder, f"{name}.schema.json")
        with open(path, "wb") as f:
            f.write(render(json_schema(name)))
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_schemas(sys.argv[1] if len(sys.argv) > 1 else f"spec/v{SPEC_VERSION}/schema"):
        print(p)
