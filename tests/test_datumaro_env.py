"""The Datumaro helper: a venv of its own, snippets run in it, JSON back."""

from __future__ import annotations

import pytest

from tests.datumaro_env import DATUMARO_VERSION, venv_dir


def test_snippet_runs_in_the_datumaro_venv_and_returns_its_json(datumaro) -> None:
    got = datumaro(
        "import json, sys, datumaro\n"
        "print('noise before the answer')\n"
        "print(json.dumps({'version': datumaro.__version__, 'prefix': sys.prefix,"
        " 'args': sys.argv[1:]}))",
        "a b", "c",
    )
    assert got["version"] == DATUMARO_VERSION
    assert got["prefix"] == str(venv_dir())  # not the project's interpreter
    assert got["args"] == ["a b", "c"]


def test_a_failing_snippet_raises_with_its_stderr(datumaro) -> None:
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        datumaro("1 / 0")
