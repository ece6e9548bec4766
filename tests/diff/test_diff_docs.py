"""docs/diff.md runs as written: its Python blocks in order, its `$ gt diff` commands."""

from __future__ import annotations

import re
import shlex

import pytest

from groundtruth.cli import main
from tests.conftest import ROOT

DOC = ROOT / "docs" / "diff.md"


def _blocks() -> list[tuple[str, str]]:
    return re.findall(r"```(python|console)\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_docs_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    commands = 0
    for kind, body in _blocks():
        if kind == "python":
            exec(compile(body, str(DOC), "exec"), namespace)  # noqa: S102 - our own docs
            continue
        for line in body.splitlines():
            if not line.startswith("$ gt "):
                continue
            with pytest.raises(SystemExit) as stop:
                main(shlex.split(line[len("$ gt "):]))
            assert stop.value.code == 0, line
            commands += 1
    assert commands >= 6
    assert (tmp_path / "review.html").read_text().startswith("<!doctype html>")
    assert (tmp_path / "comment.md").read_text().startswith("### groundtruth diff")
    out = capsys.readouterr().out
    assert "~ item img0  bbox 2: label dog -> cat; annotator alice -> carol" in out
