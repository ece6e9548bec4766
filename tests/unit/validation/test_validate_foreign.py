"""validate() on foreign files: the reader's issues at the foreign locations, then the
semantic layers on the converted dataset; a reader that cannot read, or crashes, is an issue."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson
import pytest

from groundtruth import converters, validate
from groundtruth.converters import ConversionReport
from groundtruth.dataset import Dataset
from groundtruth.errors import ConversionError
from groundtruth.issues import ISSUE_CODES, Location, define, issue
from groundtruth.models import BBox, Item, Label, LabelSet, Manifest, Taxonomy

SKIPPED = "toy.record-skipped"


class ToyConverter:
    """Reads `{"images": [...], "boxes": [...]}`; a box without `bbox` is skipped."""

    name: ClassVar[str] = "toy"
    description: ClassVar[str] = "test format"
    extensions: ClassVar[tuple[str, ...]] = (".toy",)

    def detect(self, head: bytes, path: str) -> float:
        return 1.0 if path.endswith(".toy") else 0.0

    def read(self, path: str, *, fs: Any = None, **options: Any) -> Dataset:
        if options.pop("explode", False):
            raise KeyError("images")  # a reader bug
        if options:
            raise TypeError(f"unknown option(s) for toy: {', '.join(options)}")
        with fs.open(path, "rb") as f:
            raw = f.read()
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ConversionError(f"not JSON: {exc}", location=Location(file=path),
                                  hint="a toy file is JSON") from None
        if not isinstance(data, dict):
            raise ConversionError("top level must be an object", location=Location(
                file=path, path="$"))
        ds = Dataset(Manifest(taxonomy=Taxonomy(label_sets=[
            LabelSet(name="toy", labels=[Label(name="cat")])])), source=path,
            source_format="toy")
        for im in data.get("images", []):
            ds.items.append(Item(id=str(im["id"]), kind="image", uri="x", width=im["w"],
                                 height=im["h"]))
        for k, b in enumerate(data.get("boxes", [])):
            if "bbox" not in b:
                ds.issues.append(issue(SKIPPED, "box without bbox", file=path,
                                       path=f"$.boxes[{k}]", record_id=str(b.get("id"))))
                continue
            ds.annotations.append(BBox(id=str(b["id"]), item_id=str(b["image"]),
                                       label=b["label"], bbox=b["bbox"]))
        return ds

    def write(self, dataset: Dataset, path: str, **options: Any) -> ConversionReport:
        raise NotImplementedError


@pytest.fixture(autouse=True)
def toy():
    define(SKIPPED, "warning", "Test converter: a record was skipped")
    converters.register(ToyConverter)
    yield
    converters._registry.pop("toy", None)
    ISSUE_CODES.pop(SKIPPED, None)  # a test code: not part of the spec


def test_reader_issues_then_semantic_layers(tmp_path):
    f = tmp_path / "d.toy"
    f.write_bytes(orjson.dumps({
        "images": [{"id": 1, "w": 10, "h": 10}],
        "boxes": [{"id": 7, "image": 1, "label": "cat", "bbox": [5, 5, 10, 1]},
                  {"id": 8, "image": 1, "label": "cat"},
                  {"id": 9, "image": 2, "label": "dog", "bbox": [1, 1, 1, 1]}]}))
    report = validate(f)  # detected by extension
    assert report.format == "toy"
    got = sorted((i.code, i.location.record_id, i.location.path) for i in report.issues)
    assert got == [
        ("geometry.out-of-bounds", "7", "$.bbox"),
        ("reference.item-missing", "9", "$.item_id"),
        ("reference.label-unknown", "9", "$.label"),
        ("toy.record-skipped", "8", "$.boxes[1]"),
    ]
    assert all(i.location.file == str(f) for i in report.issues)
    assert not report.ok


@pytest.mark.parametrize("content", [b"", bytes(range(256)), b"[1, 2, 3]", b"\x00" * 1000])
def test_unreadable_file_is_an_issue(tmp_path, content):
    f = tmp_path / "d.toy"
    f.write_bytes(content)
    report = validate(f, format="toy")
    assert [i.code for i in report.issues] == ["source.unreadable"]
    assert report.issues[0].location.file == str(f)
    assert report.stats == {}


def test_reader_crash_is_an_issue(tmp_path):
    f = tmp_path / "d.toy"
    f.write_bytes(b"{}")
    report = validate(f, format="toy", explode=True)
    assert [i.code for i in report.issues] == ["source.reader-failed"]
    assert "KeyError" in report.issues[0].message


def test_unknown_option_is_a_usage_error(tmp_path):
    f = tmp_path / "d.toy"
    f.write_bytes(b"{}")
    with pytest.raises(TypeError):
        validate(f, format="toy", colour="red")
