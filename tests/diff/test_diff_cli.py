"""`gt diff` from the command line: renderings, --output, --label-map, --fail-on exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

import groundtruth as gt
from groundtruth.cli import cli, main
from groundtruth.diff import evaluate_gates, parse_gate
from groundtruth.diff._gate import GateSyntaxError
from tests.conftest import ROOT
from tests.diff.builders import grid_dataset, reexport


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """v1 (JSONL) and a re-export v2 (Parquet): 8 removed, 16 flips of 12+4, 6 added."""
    root = tmp_path_factory.mktemp("versions")
    old = grid_dataset()
    new, exp = reexport(old, renumber=False)
    gt.save(old, root / "v1")
    gt.save(new, root / "v2", encoding="parquet")
    return root, old, exp


def _run(*args):
    return CliRunner().invoke(cli, ["diff", *map(str, args)])


def test_text_is_the_default(versions):
    root, _, exp = versions
    out = _run(root / "v1", root / "v2")
    assert out.exit_code == 0, out.output
    assert "annotations matched by id" in out.stdout
    assert f"removed {len(exp.dropped)}" not in out.stdout  # a table, not prose
    assert "label changes (old -> new):" in out.stdout


@pytest.mark.parametrize(("gate", "code"), [
    ("removed-items>0", 0),
    ("removed-annotations>0", 1),
    ("removed-annotations>8", 0),
    ("removed-annotations>=8", 1),
    ("changed-labels>5%", 1),     # 16 flips of ~170 annotations
    ("changed-labels>20%", 0),
    ("added-annotations = 6", 1),
    ("changed-geometry!=16", 0),
    ("geometry-similarity<0.9", 1),  # moved boxes have IoU 0.82
    ("taxonomy-changes>0", 0),
])
def test_fail_on_exit_codes(versions, gate, code):
    root, _, _ = versions
    out = _run(root / "v1", root / "v2", "--fail-on", gate)
    assert out.exit_code == code, out.output
    assert ("gate FAILED" in out.stderr) == (code == 1)


def test_several_gates_fail_if_any_does(versions):
    root, _, _ = versions
    out = _run(root / "v1", root / "v2", "--fail-on", "removed-items>0",
               "--fail-on", "added-annotations>0")
    assert out.exit_code == 1


@pytest.mark.parametrize("bad", ["removed>0", "removed-items>>0", "changed-labels>", "x",
                                 "geometry-similarity<90%"])
def test_bad_gate_is_a_usage_error(bad):
    with pytest.raises(GateSyntaxError):
        parse_gate(bad)
    out = _run("a", "b", "--fail-on", bad)
    assert out.exit_code == 2
    assert "--fail-on" in out.output


def test_percent_gates_use_the_old_count():
    old = grid_dataset()
    new, exp = reexport(old, renumber=False)
    result = gt.diff(old, new)
    (outcome,) = evaluate_gates(result, ["removed-annotations>1%"])
    assert outcome.actual == pytest.approx(100 * len(exp.dropped) / len(old.annotations))
    assert outcome.failed


def test_json_markdown_html_and_output_file(versions, tmp_path):
    root, _, exp = versions
    out = _run(root / "v1", root / "v2", "--format", "json")
    doc = json.loads(out.stdout)
    assert doc["summary"]["annotations"]["removed"] == len(exp.dropped)
    md = _run(root / "v1", root / "v2", "--format", "markdown", "--limit", "3").stdout
    assert md.startswith("### groundtruth diff")
    assert "| **annotations** |" in md
    assert "First 3 of" in md
    target = tmp_path / "report.html"
    out = _run(root / "v1", root / "v2", "--format", "html", "--output", target)
    assert out.exit_code == 0
    assert out.stdout == ""
    page = target.read_text()
    assert page.startswith("<!doctype html>")
    assert page.count('<section class="card"') == doc["summary"]["items"]["changed"]
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]  # no temp file left


def test_label_map_file(tmp_path):
    old = grid_dataset(6)
    new = gt.Dataset(old.manifest, old.items, [
        a.model_copy(update={"label": "automobile"}) if a.label == "car" else a
        for a in old.annotations])
    gt.save(old, tmp_path / "v1")
    gt.save(new, tmp_path / "v2")
    (tmp_path / "map.txt").write_text("# renames\ncar = automobile\n")
    (tmp_path / "map.json").write_text('{"car": "automobile"}')
    for name in ("map.txt", "map.json"):
        out = _run(tmp_path / "v1", tmp_path / "v2", "--label-map", tmp_path / name,
                   "--fail-on", "changed-annotations>0")
        assert out.exit_code == 0, out.output
    assert _run(tmp_path / "v1", tmp_path / "v2", "--fail-on",
                "changed-labels>0").exit_code == 1
    (tmp_path / "bad.txt").write_text("car automobile\n")
    assert _run(tmp_path / "v1", tmp_path / "v2", "--label-map",
                tmp_path / "bad.txt").exit_code == 2


def test_io_errors_exit_2_without_traceback(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["diff", str(tmp_path / "missing"), str(tmp_path / "missing2")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err
    assert "Traceback" not in err


def test_subprocess_exit_codes(versions):
    root, _, _ = versions
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cmd = [sys.executable, "-m", "groundtruth", "diff", str(root / "v1"), str(root / "v2")]
    ok = subprocess.run([*cmd, "--fail-on", "removed-items>0"], capture_output=True, env=env,
                        check=False)
    assert ok.returncode == 0, ok.stderr
    failed = subprocess.run([*cmd, "--fail-on", "removed-annotations>0"], capture_output=True,
                            env=env, check=False)
    assert failed.returncode == 1
    assert b"gate FAILED: removed-annotations>0" in failed.stderr
