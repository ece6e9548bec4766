"""Data echoed by the CLI cannot drive the terminal: errors, validate and info text (issue 16)."""

from __future__ import annotations

import subprocess
import sys

import groundtruth as gt
from groundtruth import validate

ESC = "\x1b]0;pwned\x07\x1b[31m"


def gt_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "groundtruth", *args], capture_output=True,
                          text=True, check=False, timeout=120)


def test_error_message_quoting_a_path_is_inert(tmp_path):
    res = gt_cli("validate", str(tmp_path / f"missing{ESC}"))
    assert res.returncode == 2
    assert "error: nothing at" in res.stderr
    assert "\x1b" not in res.stderr
    assert "\x07" not in res.stderr


def test_usage_error_quoting_a_value_is_inert():
    res = gt_cli("formats", f"x{ESC}")
    assert res.returncode == 2
    assert "no format x" in res.stderr
    assert "\x1b" not in res.stderr


def test_validate_and_info_text_are_inert(tmp_path):
    path = tmp_path / "e.conll"
    path.write_text(f"John B-P{ESC}ER\n\n")
    text = validate(gt.load(path)).render()
    assert "\x1b" not in text
    res = gt_cli("info", str(path))
    assert res.returncode == 0, res.stderr
    assert "\x1b" not in res.stdout
    assert "\x07" not in res.stdout
    assert "labels" in res.stdout
