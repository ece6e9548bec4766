"""Fixtures for the JSON-family converter tests: the real files in ../shared/data/jsonl."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[2]
_CANDIDATES = [
    Path(os.environ["GROUNDTRUTH_SHARED_DATA"]) if "GROUNDTRUTH_SHARED_DATA" in os.environ
    else None,
    _ROOT.parent / "shared" / "data",
    Path("/work/shared/data"),
]


@pytest.fixture
def jsonl_data() -> Path:
    """The real JSON-family exports (skips, saying why, when they are absent)."""
    for base in _CANDIDATES:
        if base is not None and (base / "jsonl").is_dir():
            return base / "jsonl"
    pytest.skip("real data not available: ../shared/data/jsonl (see SOURCES.md there)")
