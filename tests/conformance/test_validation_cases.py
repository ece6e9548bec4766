"""The spec's validation vectors: spec/v1.0/examples/invalid/<case>/ and examples/valid/*.json.

Each invalid case is a whole dataset as one JSON document plus the exact issues (codes and
locations) `validate` must report for it: no more, no fewer. Found by glob; ids are folder names.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groundtruth import validate
from groundtruth.issues import ISSUE_CODES

SPEC = Path(__file__).resolve().parents[2] / "spec" / "v1.0"
INVALID = sorted(p for p in (SPEC / "examples" / "invalid").glob("*") if p.is_dir())
VALID = sorted((SPEC / "examples" / "valid").glob("*.json"))


def _key(code: str, loc: dict) -> tuple:
    return (code, loc.get("path"), loc.get("record_id"), loc.get("line"), loc.get("row"))


def test_cases_exist():
    assert len(INVALID) >= 50
    assert len(VALID) >= 5


@pytest.mark.parametrize("case", INVALID, ids=lambda p: p.name)
def test_invalid_case(case: Path):
    expected = json.loads((case / "expected-issues.json").read_text())
    report = validate(case / "document.json")
    got = sorted(_key(i.code, i.location.to_dict()) for i in report.issues)
    want = sorted(_key(e["code"], e["location"]) for e in expected)
    assert got == want
    assert all(e["code"] in ISSUE_CODES for e in expected)
    errors = [e for e in expected if ISSUE_CODES[e["code"]].severity == "error"]
    assert report.ok is (not errors)
    assert report.format == "document"


@pytest.mark.parametrize("example", VALID, ids=lambda p: p.stem)
def test_valid_example_has_no_error(example: Path):
    report = validate(example)
    assert report.ok, str(report)
    assert report.errors == [], str(report)
    assert report.stats["items"] >= 1
