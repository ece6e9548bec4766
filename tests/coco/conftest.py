"""Fixtures for the COCO converter tests: the real files in /work/shared/data/coco."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_DATA = Path(os.environ.get("GROUNDTRUTH_SHARED_DATA", "/work/shared/data")) / "coco"


@pytest.fixture
def coco_dir() -> Path:
    """The folder of real COCO files (skips when it is absent)."""
    if not _DATA.is_dir():
        pytest.skip(f"real COCO files not found at {_DATA}")
    return _DATA


def real_coco_files() -> list[Path]:
    """Every COCO dataset (object-shaped) JSON file in the shared data, for parametrising."""
    if not _DATA.is_dir():
        return []
    return sorted(p for p in _DATA.rglob("*.json"))
