"""Every issue code any part of groundtruth can emit has a section in spec/v1.0/spec.md."""

from __future__ import annotations

import importlib
import pkgutil
import re

import groundtruth
from groundtruth.issues import ISSUE_CODES
from tests.conftest import SPEC


def _import_everything() -> None:
    for mod in pkgutil.walk_packages(groundtruth.__path__, "groundtruth."):
        if mod.name.endswith("__main__"):
            continue
        importlib.import_module(mod.name)


def test_every_code_has_a_spec_section():
    _import_everything()
    assert ISSUE_CODES, "no issue codes registered"
    spec = (SPEC / "spec.md").read_text()
    documented = set(re.findall(r"^#### `([^`]+)`", spec, flags=re.MULTILINE))
    missing = sorted(set(ISSUE_CODES) - documented)
    assert not missing, f"issue codes without a '#### `code`' section in spec/v1.0/spec.md: {missing}"


def test_codes_are_dotted_slugs():
    _import_everything()
    for code in ISSUE_CODES:
        assert re.fullmatch(r"[a-z0-9]+(\.[a-z0-9-]+)+", code), code
