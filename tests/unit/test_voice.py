"""Hints speak the caller's language: `overwrite=True` in Python, `--overwrite` on the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest

import groundtruth as gt
from groundtruth._voice import api, cli
from groundtruth.errors import DatasetExistsError


def test_api_and_cli_phrasing():
    assert api("pass --overwrite (overwrite=True) to replace it") == \
        "pass overwrite=True to replace it"
    assert cli("or pass overwrite=True (--overwrite)") == "or pass --overwrite"
    assert cli("or pass image_root=...") == "or pass -o image_root=..."
    assert api("overwrite replaces only an earlier export") == \
        "overwrite replaces only an earlier export"


def test_api_error_says_overwrite_true_and_cli_says_flag(tmp_path):
    src = tmp_path / "a.conll"
    src.write_text("John B-PER\n\n")
    dst = tmp_path / "b.conll"
    dst.write_text("x")
    with pytest.raises(DatasetExistsError) as info:
        gt.convert(src, dst, to_format="conll")
    assert "overwrite=True" in (info.value.hint or "")
    assert "--overwrite" not in (info.value.hint or "")
    res = subprocess.run([sys.executable, "-m", "groundtruth", "convert", str(src), str(dst),
                          "--to", "conll"], capture_output=True, text=True, check=False,
                         timeout=120)
    assert res.returncode == 2
    assert "--overwrite" in res.stderr
    assert "overwrite=True" not in res.stderr
