"""The CLI's core commands, run as a user runs them (exit codes, no tracebacks)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import groundtruth as gt
from tests.helpers import all_examples


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "groundtruth", *args], capture_output=True, text=True, timeout=120,
        check=False,
    )


@pytest.fixture
def dataset_dir(tmp_path):
    gt.save(all_examples(), tmp_path / "ds")
    return tmp_path / "ds"


def test_info_json(dataset_dir):
    res = run("info", str(dataset_dir), "--format", "json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    ds = all_examples()
    assert data["annotations"] == len(ds.annotations)
    assert data["fingerprint"] == ds.fingerprint()
    assert data["annotation_types"]["bbox"] == sum(a.type == "bbox" for a in ds.annotations)
    assert data["item_kinds"]["image"] == 1


def test_info_text(dataset_dir):
    res = run("info", str(dataset_dir))
    assert res.returncode == 0
    assert "fingerprint" in res.stdout
    assert "annotation types" in res.stdout


def test_convert_between_encodings(dataset_dir, tmp_path):
    res = run("convert", str(dataset_dir), str(tmp_path / "pq"), "--encoding", "parquet")
    assert res.returncode == 0, res.stderr
    assert "nothing lost" in res.stdout
    assert gt.read_manifest(tmp_path / "pq").encoding == "parquet"
    again = run("convert", str(dataset_dir), str(tmp_path / "pq"), "--encoding", "parquet")
    assert again.returncode == 2
    assert "--overwrite" in again.stderr
    assert "Traceback" not in again.stderr


def test_schema_prints_and_writes(tmp_path):
    res = run("schema", "annotation")
    assert res.returncode == 0
    assert json.loads(res.stdout)["$id"].endswith("annotation.schema.json")
    res = run("schema", "--output", str(tmp_path / "s"))
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == sorted(
        f"{n}.schema.json" for n in ("dataset", "manifest", "item", "annotation", "decision")
    )


@pytest.mark.parametrize(
    "args",
    [
        ["info", "/no/such/dataset"],
        ["info", "{tmp}", "--from", "no-such-format"],
        ["convert", "{tmp}", "{tmp}/out", "--from", "groundtruth"],
    ],
)
def test_errors_exit_2_without_traceback(tmp_path, args):
    res = run(*[a.format(tmp=tmp_path) for a in args])
    assert res.returncode == 2
    assert res.stderr.startswith("error:") or "Error" in res.stderr
    assert "Traceback" not in res.stderr


def test_bad_record_names_file_and_line(tmp_path):
    (tmp_path / "groundtruth.json").write_text('{"groundtruth": "1.0"}')
    (tmp_path / "items.jsonl").write_text('{"id": "1", "kind": "text", "text": "a"}\n{oops}\n')
    res = run("info", str(tmp_path))
    assert res.returncode == 2
    assert "items.jsonl:2" in res.stderr
    assert "hint:" in res.stderr


def test_formats_lists_the_native_format():
    res = run("formats")
    assert res.returncode == 0
    assert res.stdout.startswith("groundtruth") or "\ngroundtruth" in res.stdout


def test_coco_to_parquet_streams_with_the_same_result(tmp_path):
    src = "examples/delivery/instances_v1.json"
    res = run("convert", src, str(tmp_path / "pq"), "--from", "coco", "--encoding", "parquet",
              "--format", "json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["details"]["streamed"] is True
    assert (out["items"], out["annotations"]) == (4, 17)
    assert gt.read_manifest(tmp_path / "pq").fingerprint == gt.load(src).fingerprint()


@pytest.mark.parametrize(
    "args",
    [
        ["convert", "examples/reviews", "{tmp}/x.jsonl", "--to", "prodigy", "-w", "colour=red"],
        ["info", "examples/reviews", "-o", "colour=red"],
        ["info", "examples/delivery/instances_v1.json", "--from", "coco", "-o", "colour=red"],
    ],
)
def test_mistyped_format_option_is_a_clear_error(tmp_path, args):
    res = run(*[a.format(tmp=tmp_path) for a in args])
    assert res.returncode == 2
    assert "colour" in res.stderr
    assert "hint:" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "x.jsonl").exists()
