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


def test_info_counts_conllu_token_tags(tmp_path):
    path = tmp_path / "t.conllu"
    path.write_text("# text = Dogs bark\n1\tDogs\tdog\tNOUN\tNNS\t_\t2\tnsubj\t_\t_\n"
                    "2\tbark\tbark\tVERB\tVBP\t_\t0\troot\t_\t_\n\n")
    res = run("info", str(path))
    assert res.returncode == 0, res.stderr
    assert "annotations      0 (the labels are token tags, counted below)" in res.stdout
    assert "tokens           2" in res.stdout
    assert "  upos           NOUN 1, VERB 1" in res.stdout
    assert "  deprel         nsubj 1, root 1" in res.stdout
    data = json.loads(run("info", str(path), "--format", "json").stdout)
    assert data["token_tags"]["xpos"] == {"NNS": 1, "VBP": 1}


def test_info_counts_coco_objects_with_keypoints_and_polygon(tmp_path):
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 100}],
           "categories": [{"id": 1, "name": "person", "keypoints": ["nose"], "skeleton": []}],
           "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [1, 1, 9, 9],
                            "area": 81, "iscrowd": 0, "num_keypoints": 1,
                            "keypoints": [5, 5, 2],
                            "segmentation": [[1, 1, 10, 1, 10, 10, 1, 10]]}]}
    path = tmp_path / "k.json"
    path.write_text(json.dumps(doc))
    res = run("info", str(path))
    assert res.returncode == 0, res.stderr
    assert "annotations      2 in 1 object (1 is a part of another annotation" in res.stdout
    data = json.loads(run("info", str(path), "--format", "json").stdout)
    assert (data["objects"], data["parts"]) == (1, 1)
