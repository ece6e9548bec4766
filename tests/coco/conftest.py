"""Fixtures for the COCO converter tests: the real files in ../shared/data/coco."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA

_DATA = SHARED_DATA / "coco"


@pytest.fixture
def coco_dir() -> Path:
    """The folder of real COCO files (skips when it is absent)."""
    if not _DATA.is_dir():
        pytest.skip(f"real data not available: {_DATA} (see SOURCES.md)")
    return _DATA


def real_coco_files() -> list[Path]:
    """Every JSON file in the shared COCO folder, for parametrising (empty when absent)."""
    if not _DATA.is_dir():
        return []
    return sorted(_DATA.rglob("*.json"))
