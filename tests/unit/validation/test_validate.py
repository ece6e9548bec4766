"""validate(): the native streaming path, in-memory datasets, the report, bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import groundtruth as gt
from groundtruth import validate
from groundtruth.errors import DatasetNotFoundError, DatasetValidationError, UnknownFormatError
from groundtruth.models import BBox, Item, Span

HAND_MADE = "manifest.parts-absent"
"""The warning every hand-made dataset here gets (its manifest lists no parts); the tests
below are about other problems (tests/unit/test_part_attacks.py checks this one)."""


def codes(report) -> list[str]:
    return sorted(i.code for i in report.issues if i.code != HAND_MADE)


def where(report, code: str) -> list[dict]:
    return [i.location.to_dict() for i in report.issues if i.code == code]


# -- clean data ------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["jsonl", "parquet"])
def test_clean_native_dataset_is_valid(tmp_path, clean, encoding):
    gt.save(clean, tmp_path / "ds", encoding=encoding)
    report = validate(tmp_path / "ds")
    assert report.ok, str(report)
    assert report.issues == []
    assert report.format == "groundtruth"
    assert report.stats == {"items": 4, "annotations": 5}


def test_clean_dataset_in_memory_and_zip(tmp_path, clean):
    assert validate(clean).issues == []
    gt.save(clean, tmp_path / "ds.zip")
    assert validate(tmp_path / "ds.zip").issues == []


def test_memory_filesystem(memfs, clean):
    gt.save(clean, "memory://ds")
    assert validate("memory://ds").ok


# -- located problems in native files --------------------------------------------------------


MANIFEST = {
    "groundtruth": "1.0", "name": "hand-made",
    "taxonomy": {"label_sets": [{"name": "objects", "labels": [{"name": "cat"}]}]},
    "annotators": [{"id": "h1", "kind": "human"}],
    "guidelines": [{"id": "g", "version": "1"}],
}


def _write_jsonl_dataset(root: Path, items: list, annotations: list, manifest=None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    m = manifest or MANIFEST
    (root / "groundtruth.json").write_text(json.dumps(m))

    def lines(records):
        return b"".join(r if isinstance(r, bytes) else orjson.dumps(r) + b"\n" for r in records)

    (root / "items.jsonl").write_bytes(lines(items))
    (root / "annotations.jsonl").write_bytes(lines(annotations))
    return root


IMG = {"id": "i0", "kind": "image", "uri": "a.jpg", "width": 100, "height": 80}
BOX = {"id": "a0", "item_id": "i0", "type": "bbox", "label": "cat", "bbox": [1, 1, 5, 5],
       "annotator": "h1", "guideline": {"id": "g", "version": "1"}}


def test_jsonl_problems_have_file_line_and_path(tmp_path):
    root = _write_jsonl_dataset(tmp_path / "ds", [IMG], [
        BOX,
        {**BOX, "id": "a1", "bbox": [90, 1, 20, 5]},        # line 2: out of bounds
        b"{not json\n",                                     # line 3: syntax
        b'{"id": "a3", "caf\xe9": 1}\n',                    # line 4: bad UTF-8
        {**BOX, "id": "a4", "bbox": "1,2,3,4"},            # line 5: wrong type
        [1, 2, 3],                                          # line 6: not an object
        {**BOX, "id": "a0"},                                # line 7: duplicate id
        {**BOX, "id": "a8", "item_id": "nope"},            # line 8: unknown item
    ])
    report = validate(root)
    ann = str(root / "annotations.jsonl")
    got = {(i.code, i.location.file, i.location.line, i.location.path) for i in report.issues
           if i.code != HAND_MADE}
    assert got == {
        ("geometry.out-of-bounds", ann, 2, "$.bbox"),
        ("jsonl.syntax", ann, 3, None),
        ("jsonl.encoding", ann, 4, None),
        ("structure.wrong-type", ann, 5, "$.bbox"),
        ("structure.not-object", ann, 6, "$"),
        ("reference.duplicate-id", ann, 7, "$.id"),
        ("reference.item-missing", ann, 8, "$.item_id"),
    }
    assert not report.ok
    assert report.stats["annotations"] == 6  # lines that parsed as JSON


def test_truncated_last_line_and_bom(tmp_path):
    root = _write_jsonl_dataset(tmp_path / "ds", [b"\xef\xbb\xbf" + orjson.dumps(IMG) + b"\n"],
                                [BOX, orjson.dumps({**BOX, "id": "a1"})[:-5]])
    report = validate(root)
    assert codes(report) == ["jsonl.bom", "jsonl.truncated"]
    assert where(report, "jsonl.truncated")[0]["line"] == 2


def test_huge_line_is_skipped_not_loaded(tmp_path, monkeypatch):
    from groundtruth.io import _jsonl
    from groundtruth.validation import _sources

    monkeypatch.setattr(_jsonl.iter_lines, "__defaults__", (1000,))
    monkeypatch.setattr(_jsonl, "MAX_LINE_BYTES", 1000)
    monkeypatch.setattr(_jsonl, "_CHUNK", 256)
    monkeypatch.setattr(_sources, "_JSONL_CHUNK", 256)
    root = _write_jsonl_dataset(tmp_path / "ds", [IMG], [
        BOX, b'{"id": "big", "x": "' + b"y" * 5000 + b'"}\n', {**BOX, "id": "a2"}])
    for vectorise in (True, False):
        monkeypatch.setattr(_sources, "VECTORISE", vectorise)
        report = validate(root)
        assert codes(report) == ["jsonl.line-too-long"]
        assert where(report, "jsonl.line-too-long")[0]["line"] == 2
        assert report.stats["annotations"] == 2  # the lines after it are still read


def test_binary_and_empty_parts(tmp_path):
    root = _write_jsonl_dataset(tmp_path / "ds", [IMG], [BOX])
    (root / "annotations.jsonl").write_bytes(bytes(range(256)) * 40)
    report = validate(root)
    assert report.issues, "a binary part must be reported"
    assert {i.code for i in report.issues} - {HAND_MADE} <= {"jsonl.encoding", "jsonl.syntax",
                                               "jsonl.truncated", "dataset.item-unannotated",
                                               "dataset.label-unused"}
    (root / "annotations.jsonl").write_bytes(b"")
    assert "dataset.item-unannotated" in codes(validate(root))


def test_manifest_problems(tmp_path):
    root = _write_jsonl_dataset(tmp_path / "ds", [IMG], [BOX])
    (root / "groundtruth.json").write_text("{oops")
    report = validate(root)
    assert codes(report) == ["manifest.syntax"]  # the records are still checked: they are fine
    (root / "groundtruth.json").write_text(json.dumps({"groundtruth": "7.0"}))
    assert codes(validate(root)) == ["manifest.version-unknown"]
    (root / "groundtruth.json").write_text(json.dumps({"groundtruth": "1.0", "taxonomy": 3}))
    report = validate(root)
    assert codes(report) == ["structure.wrong-type"]
    assert where(report, "structure.wrong-type")[0]["path"] == "$.taxonomy"


def test_parts_against_manifest(tmp_path, clean):
    gt.save(clean, tmp_path / "ds")
    ann = tmp_path / "ds" / "annotations.jsonl"
    data = ann.read_bytes()
    ann.write_bytes(data.replace(b'"cat"', b'"cow"'))  # same size, other bytes
    report = validate(tmp_path / "ds")
    assert set(codes(report)) == {"part.hash-mismatch", "reference.label-unknown",
                                  "dataset.label-unused"}
    assert "part.hash-mismatch" not in codes(validate(tmp_path / "ds", verify_hashes=False))
    ann.write_bytes(data.split(b"\n", 1)[1])  # one record fewer
    assert {"part.size-mismatch", "part.records-mismatch"} <= set(codes(validate(tmp_path / "ds")))
    ann.unlink()
    report = validate(tmp_path / "ds")
    assert "part.missing" in codes(report)
    assert "reference.item-missing" not in codes(report)


def test_parquet_rows_nan_and_damage(tmp_path, clean):
    clean.annotations[1] = BBox(id="a1", item_id="i1", label="cat", bbox=[1, math.nan, 2, 2],
                                annotator="h1", guideline=clean.annotations[0].guideline)
    clean.annotations[2] = BBox(id="a2", item_id="i2", label="cat", bbox=[1, 1, 2, 2],
                                annotator="h1", confidence=math.inf,
                                guideline=clean.annotations[0].guideline)
    gt.save(clean, tmp_path / "ds", encoding="parquet")
    report = validate(tmp_path / "ds")
    assert codes(report) == ["content.not-finite", "content.not-finite"]
    locs = where(report, "content.not-finite")
    assert {(loc["row"], loc["path"]) for loc in locs} == {(1, "$.bbox[1]"), (2, "$.confidence")}
    assert all(loc["file"].endswith("annotations/part-00000.parquet") for loc in locs)
    # a damaged items part: reported; annotations still read; no item-missing noise
    part = next((tmp_path / "ds" / "items").glob("*.parquet"))
    part.write_bytes(b"PAR1" + b"\0" * (part.stat().st_size - 4))
    report = validate(tmp_path / "ds", verify_hashes=False)
    assert "parquet.unreadable" in codes(report)
    assert "reference.item-missing" not in codes(report)
    assert report.stats["annotations"] == 5


def test_parquet_wrong_column_type(tmp_path, clean):
    gt.save(clean, tmp_path / "ds", encoding="parquet")
    part = next((tmp_path / "ds" / "items").glob("*.parquet"))
    table = pq.read_table(part)
    bad = table.set_column(table.schema.get_field_index("width"), "width",
                           pa.array(["wide"] * table.num_rows))
    pq.write_table(bad, part)
    report = validate(tmp_path / "ds", verify_hashes=False)
    assert "parquet.columns" in codes(report)


def test_span_text_checked_in_a_second_pass(tmp_path, clean):
    clean.annotations[-1] = Span(id="s2", item_id="t1", label="PER", start=8, end=11,
                                 text="Bo.", annotator="h1",
                                 guideline=clean.annotations[0].guideline)
    for enc in ("jsonl", "parquet"):
        gt.save(clean, tmp_path / enc, encoding=enc)
        report = validate(tmp_path / enc)
        assert codes(report) == ["content.span-text-mismatch"]
        assert where(report, "content.span-text-mismatch")[0]["record_id"] == "s2"


# -- options ---------------------------------------------------------------------------------


def test_tolerance(clean):
    clean.annotations[0] = BBox(id="a0", item_id="i0", label="cat", bbox=[-0.5, 10, 20, 70.4],
                                annotator="h1", guideline=clean.annotations[1].guideline)
    assert codes(validate(clean)) == ["geometry.out-of-bounds"]
    assert validate(clean, tolerance=0.5).issues == []


def test_strict_and_max_issues(clean):
    clean.items.append(Item(id="lonely", kind="image", uri="x.jpg"))
    report = validate(clean)
    assert report.ok
    assert codes(report) == ["dataset.item-unannotated"]
    assert not validate(clean, strict=True).ok
    for k in range(10):
        clean.annotations.append(BBox(id=f"z{k}", item_id="ghost", label="cat",
                                      bbox=[1, 1, 1, 1]))
    report = validate(clean, max_issues=3)
    assert len(report.issues) == 3
    assert report.truncated
    assert report.counts["error"] == 10
    assert report.to_dict()["counts"]["by_code"]["reference.item-missing"] == 10


def test_report_api(clean, make_dataset):
    clean.annotations.append(BBox(id="z", item_id="ghost", label="cat", bbox=[1, 1, 1, 1]))
    report = validate(clean)
    assert [i.code for i in report.errors] == ["reference.item-missing"]
    assert report.warnings == []
    d = report.to_dict()
    assert d["ok"] is False
    assert set(d["issues"][0]) == {"code", "severity", "message", "location", "hint"}
    assert d["issues"][0]["location"] == {"record_id": "z", "path": "$.annotations[5].item_id"}
    json.dumps(d)
    assert "reference.item-missing" in str(report)
    with pytest.raises(DatasetValidationError) as exc:
        report.raise_for_errors()
    assert exc.value.issues[0].code == "reference.item-missing"
    validate(make_dataset()).raise_for_errors()  # valid: no raise


# -- documents and usage errors --------------------------------------------------------------


def test_document_bad_shapes(tmp_path):
    for content, code in ((b"", "source.syntax"), (bytes(range(256)), "source.syntax"),
                          (b"[1, 2]", "structure.not-object"),
                          (b'{"manifest": 3}', "structure.not-object")):
        f = tmp_path / "doc.json"
        f.write_bytes(content)
        report = validate(f, format="document")
        assert code in codes(report), (content, codes(report))
    report = validate({"manifest": {"groundtruth": "1.0"}, "items": {}, "annotations": None})
    assert codes(report) == ["structure.wrong-type", "structure.wrong-type"]


def test_usage_errors(tmp_path):
    with pytest.raises(DatasetNotFoundError):
        validate(tmp_path / "nothing")
    (tmp_path / "x.bin").write_bytes(bytes(range(256)))
    with pytest.raises(UnknownFormatError):
        validate(tmp_path / "x.bin")
    with pytest.raises(UnknownFormatError):
        validate(tmp_path / "x.bin", format="no-such-format")


def test_annotation_without_type():
    # Also a spec vector (invalid/structure-annotation-without-type): schema and models agree.
    doc = {"manifest": {"groundtruth": "1.0"},
           "items": [{"id": "i1", "kind": "image", "uri": "a.jpg"}],
           "annotations": [{"id": "a2", "item_id": "i1", "bbox": [1, 1, 5, 5]}]}
    report = validate(doc)
    assert [(i.code, i.location.path) for i in report.issues] == [
        ("structure.missing-field", "$.annotations[0].type")]


@pytest.mark.parametrize("line", [
    b'{"id": "a1", "item_id": "i0", "type": "bbox", "label": "cat", "bbox": [1, 1, 1e400, 5]}',
    b'{"id": "a1", "item_id": "i0", "type": "bbox", "label": "\\ud800", "bbox": [1, 1, 5, 5]}',
    b'{"id": "a1", "item_id": "i0", "type": "bbox", "label": "cat", "bbox": [1, true, 5, 5]}',
    b'{"id": "a1", "item_id": "i0", "type": "span", "label": "cat", "start": 1.0, "end": 2}',
    (b'{"id": "a1", "item_id": "i0", "type": "bbox", "label": "cat", "bbox": [1, 1, 5, 5], '
    b'"guideline": {"id": "g", "version": "1", "x": 1}}'),
    (b'{"id": "a1", "item_id": "i0", "type": "bbox", "label": "cat", "bbox": [1, 1, 5, 5], '
    b'"created": "yesterday"}'),
    b'\xef\xbb\xbf{"id": "a1", "item_id": "i0", "type": "bbox", "label": "cat", "bbox": [1, 1, 5, 5]}',
    b'{"id": "a1", "item_id": "i0", "type": "bbox", "label": "caf\xe9", "bbox": [1, 1, 5, 5]}',
])
def test_jsonl_paths_agree_on_odd_lines(tmp_path, monkeypatch, line):
    """Lines a lenient JSON-to-Arrow conversion would let through get the exact verdict."""
    from groundtruth.validation import _sources

    root = _write_jsonl_dataset(tmp_path / "ds", [IMG], [BOX, line + b"\n",
                                                         {**BOX, "id": "a2"}])
    reports = []
    for vectorise in (True, False):
        monkeypatch.setattr(_sources, "VECTORISE", vectorise)
        report = validate(root)
        reports.append(sorted((i.code, i.location.line, i.location.path) for i in report.issues))
    assert reports[0] == reports[1]
    assert reports[0], "each of these lines is broken"
