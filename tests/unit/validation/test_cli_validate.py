"""`gt validate`: exit codes, the grouped text report, JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import groundtruth as gt
from groundtruth.cli import main
from groundtruth.models import BBox, Item

SPEC = Path(__file__).resolve().parents[3] / "spec" / "v1.0" / "examples"


def run(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["validate", *args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_valid_dataset_exits_0(capsys, tmp_path, clean):
    gt.save(clean, tmp_path / "ds")
    code, out, _ = run(capsys, str(tmp_path / "ds"))
    assert code == 0
    assert "valid" in out


def test_warnings_pass_unless_strict(capsys, tmp_path, clean):
    clean.items.append(Item(id="lonely", kind="image", uri="x.jpg"))
    gt.save(clean, tmp_path / "ds")
    assert run(capsys, str(tmp_path / "ds"))[0] == 0
    assert run(capsys, str(tmp_path / "ds"), "--strict")[0] == 1


def test_invalid_grouped_by_code_with_counts(capsys, tmp_path, clean):
    for k in range(8):
        clean.annotations.append(BBox(id=f"z{k}", item_id="ghost", label="cat",
                                      bbox=[1, 1, 1, 1]))
    gt.save(clean, tmp_path / "ds")
    code, out, _ = run(capsys, str(tmp_path / "ds"), "--examples", "3")
    assert code == 1
    assert "[reference.item-missing] × 8" in out
    assert out.count("annotations.jsonl:") == 3  # the first locations only
    assert "... and 5 more" in out
    assert "hint:" in out


def test_json_output(capsys):
    case = SPEC / "invalid" / "reference-item-missing" / "document.json"
    code, out, _ = run(capsys, str(case), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False
    assert data["format"] == "document"
    assert [(i["code"], i["location"]["path"]) for i in data["issues"]] == [
        ("reference.item-missing", "$.annotations[1].item_id")]
    assert set(data["issues"][0]) == {"code", "severity", "message", "location", "hint"}
    assert data["counts"]["error"] == 1


def test_max_issues_and_tolerance(capsys):
    case = SPEC / "invalid" / "geometry-bbox-out-of-bounds" / "document.json"
    assert run(capsys, str(case), "--tolerance", "10")[0] == 0
    code, out, _ = run(capsys, str(case), "--max-issues", "1", "--format", "json")
    assert code == 1
    assert len(json.loads(out)["issues"]) == 1


def test_usage_and_io_errors_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, str(tmp_path / "missing"))
    assert code == 2
    assert "error:" in err
    assert "Traceback" not in err
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)))
    code, _, err = run(capsys, str(tmp_path / "blob.bin"))
    assert code == 2
    assert "--from" in err
    assert run(capsys, str(tmp_path), "--from", "nope")[0] == 2
    assert run(capsys, str(tmp_path), "--max-issues", "0")[0] == 2


def test_unreadable_file_with_from_exits_1(capsys, tmp_path):
    f = tmp_path / "x.json"
    f.write_bytes(b"\x00\x01")
    code, out, _ = run(capsys, str(f), "--from", "document")
    assert code == 1
    assert "source.syntax" in out
