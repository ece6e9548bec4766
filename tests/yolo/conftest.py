"""Fixtures for the YOLO converter tests: the real folders in ../shared/data/yolo."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.yolo.helpers import YOLO_DATA


@pytest.fixture
def yolo_data() -> Path:
    """The folder of real YOLO datasets (skips when it is absent)."""
    if not YOLO_DATA.is_dir():
        pytest.skip(f"real data not available: {YOLO_DATA} (see SOURCES.md)")
    return YOLO_DATA
