"""`gt formats`: what each format does and the options it takes (issue 16)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from groundtruth import converters
from groundtruth.converters._options import Option, check_options, describe_options
from groundtruth.errors import UnknownOptionError


def gt(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "groundtruth", *args], capture_output=True,
                          text=True, check=False, timeout=120)


def test_formats_lists_every_format_with_its_directions():
    res = gt("formats")
    assert res.returncode == 0, res.stderr
    lines = {line.split()[0]: line for line in res.stdout.splitlines() if line.strip()}
    for name in converters.available():
        assert lines[name].split()[1] in ("read", "write", "both")
    assert lines["coco"].split()[1] == "both"


def test_formats_name_lists_options_with_type_default_and_help():
    res = gt("formats", "coco")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "reading options (-o key=value):" in out
    assert "writing options (-w key=value):" in out
    assert "  label_set      a string (default: categories)\n" in out
    assert "  category_ids   a string or an object (default: preserve)\n" in out
    assert "guideline" in out
    res = gt("formats", "nope")
    assert res.returncode == 2
    assert "coco" in res.stderr


def test_options_are_read_from_each_converter_generically():
    conll = converters.get("conll")
    rows = {r[0]: r for r in describe_options(conll.read_options)}
    assert rows["scheme"][1:3] == ("a string", "auto")
    assert rows["scheme"][3].startswith("tag scheme")
    # a plain type spec (no Option) still lists its key and type
    assert describe_options({"x": int}) == [("x", "an integer", "", "")]


def test_an_option_spec_still_checks_types_and_names():
    spec = {"k": Option(bool, help="help", default=False)}
    check_options("fmt", {"k": True}, spec)
    with pytest.raises(UnknownOptionError, match="must be true or false"):
        check_options("fmt", {"k": "x"}, spec)
    with pytest.raises(UnknownOptionError) as info:
        check_options("fmt", {"kk": 1}, spec)
    assert "reading options of fmt: k" in (info.value.hint or "")
    assert "gt formats fmt" in (info.value.hint or "")
