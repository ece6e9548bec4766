"""Runs every converter conformance case in converters/<format>/cases/<case>/ (found by glob).

The case format is described in converters/README.md and converters/case.schema.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from groundtruth import Dataset, converters
from groundtruth.models import DatasetDocument
from tests.conftest import CONVERTERS

CASES = sorted(CONVERTERS.glob("*/cases/*/case.json"))
CASE_SCHEMA = json.loads((CONVERTERS / "case.schema.json").read_text())


def _case_id(path: Path) -> str:
    return f"{path.parents[2].name}/{path.parent.name}"


def _input(case_dir: Path, case: dict[str, Any]) -> Path:
    if "input" in case:
        return case_dir / "input" / case["input"]
    entries = sorted((case_dir / "input").iterdir())
    assert len(entries) == 1, "several inputs: name one with `input` in case.json"
    return entries[0]


def _subset(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _subset(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, float) or isinstance(actual, float):
        return isinstance(actual, int | float) and abs(float(expected) - float(actual)) < 1e-9
    return bool(expected == actual)


def _check_issues(case_dir: Path, issues: list[Any]) -> None:
    path = case_dir / "expected-issues.json"
    if not path.exists():
        return
    got = [i.to_dict() for i in issues]
    for want in json.loads(path.read_text()):
        assert any(
            g["code"] == want["code"] and _subset(want.get("location", {}), g["location"])
            for g in got
        ), f"expected issue {want} not reported; got {[(g['code'], g['location']) for g in got]}"


def _same_file(expected: Path, actual: Path, mode: str | None) -> None:
    assert actual.exists(), f"{actual.name} was not written"
    if (mode or ("json" if expected.suffix == ".json" else "bytes")) == "json":
        assert json.loads(actual.read_text()) == json.loads(expected.read_text())
    else:
        assert actual.read_bytes() == expected.read_bytes(), f"{actual.name} differs"


def _compare_outputs(expected_dir: Path, out: Path, mode: str | None) -> None:
    files = sorted(p for p in expected_dir.rglob("*") if p.is_file())
    assert files, "expected/ is empty"
    if out.is_file():
        assert len(files) == 1
        _same_file(files[0], out, mode)
        return
    for f in files:
        _same_file(f, out / f.relative_to(expected_dir), mode)


@pytest.mark.parametrize("case_path", CASES, ids=_case_id)
def test_case(case_path: Path, tmp_path: Path) -> None:
    case = json.loads(case_path.read_text())
    jsonschema.validate(case, CASE_SCHEMA)
    if case.get("skip_reason"):
        pytest.skip(case["skip_reason"])
    case_dir = case_path.parent
    conv = converters.get(case["format"])

    if case["direction"] == "export":
        doc = DatasetDocument.model_validate(json.loads(_input(case_dir, case).read_text()))
        ds = Dataset(doc.manifest, doc.items, doc.annotations)
        produced = list((case_dir / "expected").iterdir())
        suffix = produced[0].suffix if len(produced) == 1 else ""
        out = tmp_path / f"out{suffix}"
        report = conv.write(ds, str(out), **case.get("write_options", {}))
        _compare_outputs(case_dir / "expected", out, case.get("compare"))
        _check_issues(case_dir, report.issues)
        return

    src = _input(case_dir, case)
    ds = conv.read(str(src), **case.get("options", {}))
    _check_issues(case_dir, ds.issues)
    if case["direction"] == "import":
        expected = json.loads((case_dir / "expected.groundtruth.json").read_text())
        counts = expected.get("counts", {})
        if "items" in counts:
            assert len(ds.items) == counts["items"]
        if "annotations" in counts:
            assert len(ds.annotations) == counts["annotations"]
        for kind, records in (("items", ds.items), ("annotations", ds.annotations)):
            by_id = {r.id: r.to_json_dict() for r in records}
            for want in expected.get(kind, []):
                assert want["id"] in by_id, f"{kind[:-1]} {want['id']} missing"
                assert _subset(want, by_id[want["id"]]), (
                    f"{kind[:-1]} {want['id']}: expected {want}, got {by_id[want['id']]}"
                )
        if "manifest" in expected:
            assert _subset(expected["manifest"], ds.manifest.to_json_dict())
        return

    out = tmp_path / ("out" + src.suffix)
    report = conv.write(ds, str(out), **case.get("write_options", {}))
    if src.is_dir():
        _compare_outputs(src, out, case.get("compare"))
    else:
        _same_file(src, out, case.get("compare"))
    _check_issues(case_dir, report.issues)
