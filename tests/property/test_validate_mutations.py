"""Property: validate never raises on broken data, and always reports a broken record.

Each example takes a valid spec example, breaks one record in one way (wrong type, missing
field, NaN, huge number, offset past the end, unknown id, duplicate id, broken UTF-8 in its
JSONL line) and validates it both as a document in memory and as a native JSONL dataset.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundtruth import validate

VALID = sorted((Path(__file__).resolve().parents[2] / "spec" / "v1.0" / "examples" / "valid")
               .glob("*.json"))
DOCS = {p.stem: json.loads(p.read_text()) for p in VALID}

REQUIRED = {
    "items": ["id", "kind"],
    "common": ["id", "item_id", "type"],
    "classification": ["label"], "bbox": ["bbox"], "polygon": ["polygon"],
    "polyline": ["polyline"], "keypoints": ["keypoints"], "span": ["start", "end"],
    "mask": ["rle", "uri"],
    "relation": ["source", "target"], "transcription": ["text"],
    "segment": ["start_time", "end_time"], "rating": ["value"], "ranking": ["ranking"],
    "text": ["text"],
}
REFS = ["item_id", "label", "annotator", "label_set", "source", "target"]
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def _wrong(value: Any) -> Any:
    if isinstance(value, dict):
        return [1]
    if isinstance(value, list):
        return "not a list"
    if isinstance(value, bool):
        return "maybe"
    if isinstance(value, int | float):
        return "not a number"
    return [1]


def _numbers(kind: str, rec: dict) -> list[tuple[Any, ...]]:
    """Paths of numbers whose value validation checks (never free-form JSON)."""
    if kind == "items":
        return []
    paths: list[tuple[Any, ...]] = [
        (key,) for key in ("confidence", "value", "start_time", "end_time", "time", "rotation")
        if isinstance(rec.get(key), int | float) and not isinstance(rec.get(key), bool)]
    if isinstance(rec.get("bbox"), list):
        paths += [("bbox", i) for i in range(4)]
    for key in ("polygon", "holes", "polyline"):
        for r, ring in enumerate(rec.get(key) or []):
            paths += [(key, r, i) for i in range(len(ring))]
    kp = rec.get("keypoints")
    if isinstance(kp, list):
        paths += [("keypoints", i + j) for i in range(0, len(kp) - 2, 3) if kp[i + 2] > 0
                  for j in (0, 1)]
    return paths


def _set(rec: dict, path: tuple[Any, ...], value: Any) -> None:
    target: Any = rec
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value


@st.composite
def broken(draw: st.DrawFn) -> tuple[dict, str, str, int, bool]:
    """(document, kind, mutation, record index, json_safe)."""
    doc = copy.deepcopy(DOCS[draw(st.sampled_from(sorted(DOCS)))])
    kind = draw(st.sampled_from(["items", "annotations"]))
    records = doc[kind]
    i = draw(st.integers(0, len(records) - 1))
    rec = records[i]
    options = ["wrong-type", "missing-field", "duplicate-id", "broken-utf8"]
    numbers = _numbers(kind, rec)
    # any finite angle is a rotation (a box turned by 1e12 degrees can still fit its image)
    sized = [p for p in numbers if p != ("rotation",)]
    if numbers:
        options.append("nan")
    if sized:
        options.append("huge")
    if kind == "annotations":
        options.append("unknown-id")
        if rec["type"] == "span":
            options.append("offset-past-end")
    mutation = draw(st.sampled_from(options))
    json_safe = True
    if mutation == "wrong-type":
        key = draw(st.sampled_from(sorted(k for k, v in rec.items() if v is not None)))
        rec[key] = _wrong(rec[key])
    elif mutation == "missing-field":
        needed = REQUIRED["items"] if kind == "items" else (
            REQUIRED["common"] + REQUIRED[rec["type"]])
        del rec[draw(st.sampled_from([k for k in needed if k in rec]))]
    elif mutation == "duplicate-id":
        records.append(copy.deepcopy(rec))
    elif mutation == "nan":
        _set(rec, draw(st.sampled_from(numbers)),
             draw(st.sampled_from([math.nan, math.inf, -math.inf])))
        json_safe = False
    elif mutation == "huge":
        _set(rec, draw(st.sampled_from(sized)), draw(st.sampled_from([1e308, -1e308, 1e12])))
    elif mutation == "unknown-id":
        key = draw(st.sampled_from([k for k in REFS if k in rec] + (
            ["sources"] if rec.get("sources") else []) + (
            ["guideline"] if rec.get("guideline") else [])))
        if key == "sources":
            rec["sources"] = [*rec["sources"], "zz-unknown"]
        elif key == "guideline":
            rec["guideline"] = {**rec["guideline"], "id": "zz-unknown"}
        else:
            rec[key] = "zz-unknown"
    elif mutation == "offset-past-end":
        k = draw(st.integers(1, 10**6))
        if draw(st.booleans()):
            rec["end"] = rec["end"] + 10**3 + k
        else:
            rec["start"] = rec["end"] + k
    return doc, kind, mutation, i, json_safe


def _write_native(root: Path, doc: dict, kind: str, index: int, break_utf8: bool) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "groundtruth.json").write_bytes(orjson.dumps(doc["manifest"]))
    for k in ("items", "annotations"):
        lines = [orjson.dumps(r) for r in doc[k]]
        if break_utf8 and k == kind:
            # an invalid byte inside the record's first string value
            lines[index] = lines[index].replace(b'":"', b'":"\xff\xfe', 1)
        (root / f"{k}.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))


@given(case=broken())
@SETTINGS
def test_validate_never_raises_and_reports_broken_records(case, tmp_path_factory):
    doc, kind, mutation, index, json_safe = case
    if mutation != "broken-utf8":
        report = validate(doc)
        assert report.counts["error"] >= 1, (mutation, kind, index, str(report))
    if json_safe:
        root = tmp_path_factory.mktemp("ds")
        _write_native(root, doc, kind, index, mutation == "broken-utf8")
        report = validate(root)
        assert report.counts["error"] >= 1, (mutation, kind, index, str(report))
        if mutation == "broken-utf8":
            assert [i.code for i in report.errors] == ["jsonl.encoding"]


def test_examples_are_valid_documents():
    assert DOCS
    for name, doc in DOCS.items():
        assert validate(doc).errors == [], name
