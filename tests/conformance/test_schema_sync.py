"""The committed JSON Schemas are exactly what the models generate, and agree with them."""

from __future__ import annotations

import json

import jsonschema
import pytest
from pydantic import ValidationError

from groundtruth.models import DatasetDocument
from groundtruth.schema import SCHEMA_NAMES, json_schema, render
from tests.conftest import SPEC

REGEN = "python -m groundtruth.schema spec/v1.0/schema"


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_committed_schema_matches_models(name):
    committed = (SPEC / "schema" / f"{name}.schema.json").read_bytes()
    assert committed == render(json_schema(name)), (
        f"spec/v1.0/schema/{name}.schema.json is out of date with the models; run: {REGEN}"
    )


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schemas_are_valid_2020_12_with_ids(name):
    schema = json.loads((SPEC / "schema" / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(f"/v1.0/{name}.schema.json")


EXAMPLES = sorted(
    [*SPEC.glob("examples/valid/*.json"), *SPEC.glob("examples/invalid/*/document.json")]
)


def _name(path):
    return path.parent.name if path.name == "document.json" else path.stem


@pytest.mark.parametrize("path", EXAMPLES, ids=_name)
def test_models_and_schema_give_the_same_verdict(path):
    document = json.loads(path.read_text())
    schema = json.loads((SPEC / "schema" / "dataset.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    schema_ok = not list(validator.iter_errors(document))
    try:
        DatasetDocument.model_validate(document)
        model_ok = True
    except ValidationError:
        model_ok = False
    assert schema_ok == model_ok
    if "/valid/" in str(path):
        assert model_ok, "a valid example must be accepted"


def test_examples_cover_every_item_kind_and_annotation_type():
    from typing import get_args

    from groundtruth.models import ANNOTATION_TYPES, ItemKind

    kinds, types = set(), set()
    for path in SPEC.glob("examples/valid/*.json"):
        doc = json.loads(path.read_text())
        kinds |= {i["kind"] for i in doc["items"]}
        types |= {a["type"] for a in doc["annotations"]}
    assert kinds == set(get_args(ItemKind))
    assert types == set(ANNOTATION_TYPES)
