"""Every issue code groundtruth can emit has its own section in spec/v1.0/spec.md."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import groundtruth
from groundtruth.issues import ISSUE_CODES

SPEC_MD = Path(__file__).resolve().parents[2] / "spec" / "v1.0" / "spec.md"


def _import_everything() -> None:
    for mod in pkgutil.walk_packages(groundtruth.__path__, "groundtruth."):
        if not mod.name.endswith("__main__"):  # importing it would run the CLI
            importlib.import_module(mod.name)


def _sections() -> set[str]:
    return set(re.findall(r"^#### `([^`]+)`\s*$", SPEC_MD.read_text(encoding="utf-8"), re.MULTILINE))


def test_every_registered_code_has_a_spec_section():
    _import_everything()
    missing = sorted(set(ISSUE_CODES) - _sections())
    assert not missing, f"add a '#### `code`' section to {SPEC_MD} for: {missing}"


def test_validation_codes_are_registered():
    _import_everything()
    for code in ("reference.duplicate-id", "geometry.rle-sum", "dataset.split-leak",
                 "structure.missing-field", "source.unreadable"):
        assert code in ISSUE_CODES


def test_sections_are_not_empty():
    text = SPEC_MD.read_text(encoding="utf-8")
    for m in re.finditer(r"^#### `([^`]+)`\s*\n(.*?)(?=^#{1,4} |\Z)", text, re.MULTILINE | re.DOTALL):
        assert len(m.group(2).strip()) > 40, f"section {m.group(1)} says too little"
