"""Shared fixtures: paths to spec/, converters/ and the real files in ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "spec" / "v1.0"
CONVERTERS = ROOT / "converters"
SHARED_DATA = Path(os.environ.get("GROUNDTRUTH_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """A real file from other tools, or skip the test (with the reason) where it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} (CI has ../shared/data; see SOURCES.md)")
    return path


@pytest.fixture
def shared_data() -> Path:
    """The folder of real files from other tools (../shared/data), or skip."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} (see each SOURCES.md)")
    return SHARED_DATA


@pytest.fixture
def memfs():
    """A clean fsspec in-memory filesystem (memory://)."""
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.store.clear()
    fs.pseudo_dirs.clear()
    fs.pseudo_dirs.append("")
    yield fs
    fs.store.clear()


@pytest.fixture(scope="session")
def datumaro():
    """`run_datumaro` (tests/datumaro_env.py) with Datumaro's venv made (once, cached).

    Where the venv cannot be made (no network, no wheel) the test skips with the reason; in CI
    (`CI=true`) it fails instead, so a cross-check never silently stops running there."""
    from tests.datumaro_env import DatumaroUnavailable, ensure_venv, run_datumaro

    try:
        ensure_venv()
    except DatumaroUnavailable as exc:
        message = f"Datumaro venv unavailable: {exc}"
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return run_datumaro
