"""Real diff output validates against the hand-written spec/v1.0/schema/diff.schema.json."""

from __future__ import annotations

import json

import jsonschema
import pytest
from click.testing import CliRunner
from referencing import Registry, Resource

import groundtruth as gt
from groundtruth import Dataset
from groundtruth.cli import cli
from groundtruth.models import BBox, Classification, Item, Relation, Span
from tests.conftest import SPEC
from tests.diff.builders import grid_dataset, reexport


def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((SPEC / "schema" / "diff.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    resources = []
    for name in ("item", "annotation"):
        sub = json.loads((SPEC / "schema" / f"{name}.schema.json").read_text())
        resources.append((sub["$id"], Resource.from_contents(sub)))
    return jsonschema.Draft202012Validator(schema, registry=Registry().with_resources(resources))


def _mixed() -> tuple[Dataset, Dataset]:
    text = "Ada met Charles in London."
    old = Dataset(items=[
        Item(id="t", kind="text", text=text),
        Item(id="k", kind="image", uri="k.png", width=4, height=4),
        Item(id="gone", kind="text", text="x")], annotations=[
        Span(id="1", item_id="t", label="PER", start=0, end=3, attributes={"a": 1}),
        Span(id="2", item_id="t", label="PER", start=8, end=15),
        Relation(id="3", item_id="t", label="met", source="1", target="2"),
        Classification(id="4", item_id="t", label="bio", status="draft"),
        BBox(id="5", item_id="k", label="x", bbox=[0, 0, 2, 2]),
        Classification(id="6", item_id="gone", label="bio")])
    new = Dataset(items=[
        Item(id="t", kind="text", text=text, split="train"),
        Item(id="k", kind="text", text="was an image"),
        Item(id="fresh", kind="text", text="y")], annotations=[
        Span(id="1", item_id="t", label="PER", start=0, end=3, attributes={"a": 2}),
        Span(id="2", item_id="t", label="PER", start=8, end=16, text="Charles "),
        Classification(id="4", item_id="t", label="news", status="accepted", confidence=0.5),
        Classification(id="5", item_id="k", label="x"),
        Classification(id="7", item_id="fresh", label="bio")])
    return old, new


@pytest.mark.parametrize("case", ["renumbered", "stable", "mixed-id", "mixed-content",
                                  "truncated", "identical"])
def test_api_output_is_valid(case):
    validator = _validator()
    if case in ("renumbered", "stable", "truncated"):
        old = grid_dataset()
        new, _ = reexport(old, renumber=case == "renumbered")
        result = gt.diff(old, new, max_changes=3 if case == "truncated" else None)
    elif case == "identical":
        result = gt.diff(grid_dataset(3), grid_dataset(3))
    else:
        old, new = _mixed()
        result = gt.diff(old, new, match_by="id" if case == "mixed-id" else "content")
    document = json.loads(result.render("json"))
    assert document == json.loads(json.dumps(result.to_dict()))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_cli_json_with_gates_is_valid(tmp_path):
    old = grid_dataset()
    new, _ = reexport(old, renumber=False)
    gt.save(old, tmp_path / "a")
    gt.save(new, tmp_path / "b")
    out = CliRunner().invoke(cli, ["diff", str(tmp_path / "a"), str(tmp_path / "b"),
                                   "--format", "json", "--fail-on", "removed-annotations>0"])
    assert out.exit_code == 1
    document = json.loads(out.stdout)
    assert document["gates"] == [{"gate": "removed-annotations>0", "metric":
                                  "removed-annotations", "actual": 8.0, "failed": True}]
    assert not list(_validator().iter_errors(document))


def test_schema_rejects_a_broken_document():
    result = gt.diff(*_mixed())
    document = json.loads(result.render("json"))
    document["summary"]["annotations"]["added"] = -1
    del document["changes"]["annotations"][0]["change"]
    assert len(list(_validator().iter_errors(document))) >= 2


def test_a_polygon_whose_bbox_alone_moved_says_so_and_validates():
    from groundtruth.models import Item, Polygon

    items = [Item(id="i", kind="image", uri="a.jpg", width=100, height=100)]
    ring = [[10, 10, 40, 10, 40, 40, 10, 40]]
    old = Dataset(items=items, annotations=[Polygon(id="p", item_id="i", label="car",
                                                    polygon=ring, bbox=[10, 10, 30, 30])])
    new = Dataset(items=items, annotations=[Polygon(id="p", item_id="i", label="car",
                                                    polygon=ring, bbox=[16, 6, 30, 30])])
    d = gt.diff(old, new)
    doc = d.to_dict()
    assert not list(_validator().iter_errors(doc))
    [change] = doc["changes"]["annotations"]
    assert change["details"]["geometry"]["bbox_only"] is True
    text = d.render("text")
    assert "polygon p: only the bbox changed (dx +6, dy -4); the shape is the same" in text
    assert "only the bbox changed" in d.render("html")
