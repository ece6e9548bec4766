"""Killing `gt convert` leaves no worker behind holding the caller's pipes.

`gt convert BIG.json DST --encoding parquet` parses slices of a big COCO file in forked pool
workers, which inherit its stdout/stderr. The test runs it as a CI step does (stdout and
stderr piped), kills the parent once its workers are up, and requires the pipe to reach EOF
within a few seconds: before the fix the workers lived on and the reader waited forever.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import coco_gen

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

EOF_WITHIN = 10.0  # seconds; measured 0.1 (SIGKILL) to 1.6 (SIGTERM) on an idle machine


@pytest.fixture(scope="module")
def big_coco(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.json"
    counts = coco_gen.generate(path, scale=0.03, seed=1)
    assert counts["bytes"] > 1 << 23  # more than one 8 MiB slice: the pool is used
    return path


def _children(pid: int) -> list[int]:
    """Every descendant of `pid` (children of any of its threads, recursively)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids = [int(x) for x in f.read().split()]
        except FileNotFoundError:
            continue
        for kid in kids:
            found += [kid, *_children(kid)]
    return found


def _dead(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return any(line.startswith("State:") and "Z" in line for line in f)
    except FileNotFoundError:
        return True


def _seconds_to_eof(proc: subprocess.Popen[bytes]) -> float | None:
    assert proc.stdout is not None
    start = time.monotonic()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    while time.monotonic() - start < EOF_WITHIN:
        if sel.select(timeout=0.2) and not os.read(proc.stdout.fileno(), 65536):
            return time.monotonic() - start
    return None


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_convert_leaves_no_worker_holding_the_pipes(big_coco: Path, tmp_path: Path,
                                                           sig: signal.Signals) -> None:
    dst = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "groundtruth", "convert", str(big_coco), str(dst),
         "--encoding", "parquet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while not workers and proc.poll() is None and time.monotonic() < deadline:
            workers = _children(proc.pid)
            time.sleep(0.02)
        assert workers, "the conversion ended before its pool started: make the file bigger"
        os.kill(proc.pid, sig)
        took = _seconds_to_eof(proc)
        assert took is not None, f"stdout still open {EOF_WITHIN}s after {sig.name}"
        proc.wait(timeout=10)
        time.sleep(0.2)
        assert all(_dead(w) for w in workers), "a worker outlived the parent"
    finally:
        if proc.poll() is None:
            proc.kill()
        for w in _children(proc.pid):
            os.kill(w, signal.SIGKILL)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    assert "Traceback" not in err
    assert not dst.exists()
    if sig == signal.SIGTERM:  # handled like Ctrl-C: cleanup ran, nothing half-written left
        assert proc.returncode == 143
        assert "interrupted before anything was written" in err
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".gt-stage-")] == []


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_dask_engine_run_leaves_no_worker(tmp_path: Path, sig: signal.Signals) -> None:
    """The other pool: `--engine dask` starts a local cluster; its workers go with the parent
    too (distributed's own parent watch), measured here so a regression shows."""
    pytest.importorskip("distributed")
    import groundtruth as gt
    from groundtruth.engine.synthetic import make_dataset

    gt.save(make_dataset(4000, 40000, seed=1), tmp_path / "ds", encoding="parquet",
            rows_per_part=4000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "groundtruth", "validate", str(tmp_path / "ds"), "--engine",
         "dask"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while len(workers) < 2 and proc.poll() is None and time.monotonic() < deadline:
            workers = _children(proc.pid)
            time.sleep(0.05)
        assert len(workers) >= 2, "the run ended before its cluster started"
        os.kill(proc.pid, sig)
        assert _seconds_to_eof(proc) is not None, f"stdout still open after {sig.name}"
        proc.wait(timeout=10)
        time.sleep(0.5)
        assert all(_dead(w) for w in workers), "a worker outlived the parent"
    finally:
        if proc.poll() is None:
            proc.kill()
        for w in _children(proc.pid):
            os.kill(w, signal.SIGKILL)
