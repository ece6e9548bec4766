"""A worker killed mid-run: the task runs again elsewhere, or the run fails clearly."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import groundtruth as gt
import groundtruth.engine as gte
from groundtruth.engine.synthetic import make_dataset
from groundtruth.engine.tasks import PartTask, part_fingerprint, tasks_for
from groundtruth.io import open_native

dask = pytest.importorskip("dask")
pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    # Give up on a task after it killed one worker, so the "always dies" case is quick;
    # the scheduler lives in this process, so the setting applies to it.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            gte.get_engine("dask", workers=2) as eng:
        yield eng


class DieOnce:
    """Kills the worker process running it the first time (a marker file remembers)."""

    def __init__(self, marker: Path, victim: str) -> None:
        self.marker, self.victim = marker, victim

    def __call__(self, task: PartTask) -> Any:
        if task.part.path == self.victim and not self.marker.exists():
            self.marker.write_text("died")
            os._exit(1)  # the worker process dies mid-task, like an OOM kill
        return part_fingerprint(task)


class AlwaysDie:
    def __init__(self, victim: str) -> None:
        self.victim = victim

    def __call__(self, task: PartTask) -> Any:
        if task.part.path == self.victim:
            os._exit(1)
        return part_fingerprint(task)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Any:
    ds = make_dataset(60, 900, seed=4)
    url = tmp_path_factory.mktemp("kill") / "ds"
    gt.save(ds, url, encoding="parquet", rows_per_part=150)
    return open_native(url), ds


def test_killed_worker_task_is_retried(engine: Any, source: Any, tmp_path: Path) -> None:
    src, ds = source
    tasks = tasks_for(src)
    victim = src.parts_of("annotations")[2].path
    results = engine.map(DieOnce(tmp_path / "died", victim), tasks)
    assert (tmp_path / "died").exists()  # a worker really died
    assert len(results) == len(tasks)
    total = results[0][0]
    for fp, _ in results[1:]:
        total.merge(fp)
    assert total.hexdigest(src.manifest) == ds.fingerprint()  # nothing lost, nothing twice


def test_task_that_keeps_killing_workers_fails_clearly(engine: Any, source: Any) -> None:
    src, _ = source
    victim = src.parts_of("annotations")[1].path
    with pytest.raises(gte.EngineError) as err:
        engine.map(AlwaysDie(victim), tasks_for(src))
    assert err.value.hint
    # the cluster recovers: the next run is whole
    assert gte.fingerprint(src, engine=engine) == source[1].fingerprint()
