"""`gt agreement` and `gt consensus` as a user runs them: output, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

import pytest

import groundtruth as gt
from groundtruth.cli import main
from tests.unit.quality.helpers import classification_dataset, label_set

TABLE = {
    "1": {"a": "pos", "b": "pos", "c": "neu"},
    "2": {"a": "neg", "b": "neg", "c": "neg"},
    "3": {"a": "neu", "b": "pos"},
    "4": {"a": "pos", "b": "neg", "c": "neu"},
}


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(capsys):
    """Run the CLI in-process (fast), as `main` does: exit codes and messages, no tracebacks."""

    def _run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return _run


def run_subprocess(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "groundtruth", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def labels_dir(tmp_path):
    ls = label_set("sentiment", ["neg", "neu", "pos"], scale="ordinal", values=[-1, 0, 1])
    gt.save(classification_dataset(TABLE, [ls]), tmp_path / "ds")
    return tmp_path / "ds"


def test_agreement_json(labels_dir, run):
    res = run_subprocess("agreement", str(labels_dir), "--format", "json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    api = gt.agreement(gt.load(labels_dir)).to_dict()
    assert data == api
    assert data["krippendorff_alpha"]["level"] == "ordinal"
    res = run("agreement", str(labels_dir), "--format", "json", "--level", "nominal")
    assert json.loads(res.stdout)["krippendorff_alpha"]["level"] == "nominal"


def test_agreement_text(labels_dir, run):
    res = run("agreement", str(labels_dir))
    assert res.returncode == 0
    assert "Krippendorff's alpha" in res.stdout
    assert "disputed items" in res.stdout


def test_agreement_with_one_annotator_says_so_without_a_table(tmp_path, run):
    gt.save(classification_dataset({"1": {"a": "x"}, "2": {"a": "x"}},
                                   [label_set("s", ["x"])]), tmp_path / "one")
    res = run("agreement", str(tmp_path / "one"))
    assert res.returncode == 1
    assert "2 items (0 labelled by 2+ annotators), 1 annotator, 2 annotations" in res.stdout
    assert "n/a" not in res.stdout
    assert "Krippendorff" not in res.stdout
    assert "error: only one annotator (a) made these annotations" in res.stderr


def test_agreement_bad_input_exit_codes(tmp_path, labels_dir, run):
    gt.save(classification_dataset({"1": {"a": "x"}}, [label_set("s", ["x"])]), tmp_path / "one")
    res = run("agreement", str(tmp_path / "one"), "--format", "json")
    assert res.returncode == 1
    assert [i["code"] for i in json.loads(res.stdout)["issues"]] == ["agreement.single-annotator"]
    res = run("agreement", str(labels_dir), "--label-set", "nope")
    assert res.returncode == 2
    assert "sentiment" in res.stderr
    assert "Traceback" not in res.stderr
    res = run("agreement", str(tmp_path / "missing"))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr


def test_consensus_writes_a_dataset(tmp_path, labels_dir, run):
    dst = tmp_path / "cons"
    res = run("consensus", str(labels_dir), str(dst), "--method", "majority", "--format", "json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["consensus_annotations"] == 4
    assert summary["needs_review"] == 2  # items 3 and 4 are ties
    out = gt.load(dst)
    assert len(out.annotations) == 11 + 4
    cons = [a for a in out.annotations if a.annotator == "consensus-majority"]
    assert {a.item_id: a.label for a in cons if not a.consensus.needs_review} == {
        "1": "pos",
        "2": "neg",
    }
    res = run("consensus", str(labels_dir), str(dst))
    assert res.returncode == 2  # exists; --overwrite needed
    res = run("consensus", str(labels_dir), str(dst), "--overwrite", "--method", "weighted",
              "--weight", "a=1", "--weight", "b=2", "--weight", "c=1")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "a=1.000" in res.stdout
    res = run("consensus", str(labels_dir), str(dst), "--overwrite", "--weight", "nope")
    assert res.returncode == 2


def test_single_source_export_is_invalid_data(run, tmp_path):
    from tests.conftest import shared_path

    coco = shared_path("coco", "tinycoco_instances_val2017.json")
    res = run("agreement", str(coco), "--from", "coco")
    assert res.returncode == 1
    assert "names an annotator" in res.stderr
    res = run("consensus", str(coco), str(tmp_path / "out"), "--from", "coco")
    assert res.returncode == 1
    assert not (tmp_path / "out").exists()


def test_fail_under_gate(run, labels_dir):
    alpha = gt.agreement(gt.load(labels_dir))["krippendorff_alpha"]["value"]
    assert run("agreement", str(labels_dir), "--fail-under", str(alpha - 0.01)).returncode == 0
    res = run("agreement", str(labels_dir), "--fail-under", str(alpha + 0.01))
    assert res.returncode == 1
    assert "gate failed" in res.stderr


def test_consensus_line_names_method_and_annotator_once(tmp_path, run):
    gt.save(classification_dataset(TABLE, [label_set("s", ["pos", "neg", "neu"])]),
            tmp_path / "ds")
    res = run("consensus", str(tmp_path / "ds"), str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    assert "consensus annotations (majority vote, annotator consensus-majority);" in res.stdout
    assert "consensus consensus" not in res.stdout
