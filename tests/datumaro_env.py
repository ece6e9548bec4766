"""Datumaro in a virtual environment of its own, created once and cached, for cross-check tests.

Datumaro is the independent reader our YOLO/VOC/CVAT exports are checked against. It pins
numpy/opencv/pyarrow versions of its own, so it lives in a separate venv instead of the
project's: `ensure_venv()` creates it with `python -m venv` + pip from PyPI under
`~/.cache/groundtruth-tests/datumaro-<version>` (or `$GROUNDTRUTH_TEST_CACHE`) the first time
and reuses it afterwards; a marker file is written only once the install succeeded, so a
half-made venv (interrupted, no network) is rebuilt next time instead of being trusted.

`run_datumaro(code, *args)` runs a Python snippet in that venv (`sys.argv[1:]` are `args`) and
returns the parsed JSON of the last line it prints; `run_datumaro_raw` returns the process.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

DATUMARO_VERSION = "1.13.12"  # newest release with wheels for CPython 3.11 on manylinux x86_64
CACHE = Path(os.environ.get("GROUNDTRUTH_TEST_CACHE", Path.home() / ".cache" / "groundtruth-tests"))
_MARKER = ".groundtruth-ready"


class DatumaroUnavailable(RuntimeError):
    """The Datumaro venv could not be created (no network, no wheel for this Python, ...)."""


def venv_dir(version: str = DATUMARO_VERSION) -> Path:
    return CACHE / f"datumaro-{version}"


def venv_python(version: str = DATUMARO_VERSION) -> Path:
    return venv_dir(version) / "bin" / "python"


def ensure_venv(version: str = DATUMARO_VERSION, timeout: float = 1500.0) -> Path:
    """The venv's Python, creating the venv first when it is not there yet (about 1-2 min).

    A file lock serialises concurrent creators (parallel test runs share the cache)."""
    target = venv_dir(version)
    python = venv_python(version)
    if (target / _MARKER).exists() and python.exists():
        return python
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"datumaro-{version}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / _MARKER).exists() and python.exists():
            return python
        shutil.rmtree(target, ignore_errors=True)
        started = time.monotonic()
        steps = [
            [sys.executable, "-m", "venv", str(target)],
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--prefer-binary", f"datumaro=={version}"],
            [str(python), "-c", "import datumaro; print(datumaro.__version__)"],
        ]
        for step in steps:
            left = timeout - (time.monotonic() - started)
            try:
                proc = subprocess.run(step, capture_output=True, text=True, check=False,
                                      timeout=max(left, 1.0))
            except subprocess.TimeoutExpired as exc:
                shutil.rmtree(target, ignore_errors=True)
                raise DatumaroUnavailable(f"timed out after {timeout:.0f}s: {' '.join(step)}") from exc
            if proc.returncode != 0:
                shutil.rmtree(target, ignore_errors=True)
                tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
                raise DatumaroUnavailable(f"`{' '.join(step)}` failed:\n{tail}")
        (target / _MARKER).write_text(f"datumaro {version} in {time.monotonic() - started:.0f}s\n")
    return python


def run_datumaro_raw(code: str, *args: str, timeout: float = 600.0) -> subprocess.CompletedProcess[str]:
    """Run `code` with the venv's Python (`sys.argv[1:]` = `args`); the process, not checked."""
    python = ensure_venv()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONWARNINGS"] = "ignore"
    return subprocess.run([str(python), "-c", code, *args], capture_output=True, text=True,
                          check=False, timeout=timeout, env=env)


def run_datumaro(code: str, *args: str, timeout: float = 600.0) -> Any:
    """Run `code` in the Datumaro venv and return the JSON of the last line it prints."""
    proc = run_datumaro_raw(code, *args, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"datumaro snippet failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if not lines:
        raise AssertionError(f"datumaro snippet printed nothing; stderr:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])
