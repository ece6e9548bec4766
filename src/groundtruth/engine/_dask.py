"""The Dask engine: per-part tasks on a `distributed` cluster, global steps as dask shuffles.

`DaskEngine()` starts a LocalCluster (one process per worker, one thread each) and stops it
when closed; `DaskEngine(address="tcp://scheduler:8786")` (or the environment variable
`GROUNDTRUTH_DASK_ADDRESS`) uses a cluster that is already running.

A task whose worker dies is run again on another worker by the scheduler (Dask's
`allowed-failures`); a task that keeps killing workers, or fails, makes the whole run fail
with an error that names it: a run never returns a result with a part left out.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any, Self, TypeVar

from ..errors import GroundtruthError
from ._base import EngineError

T = TypeVar("T")
R = TypeVar("R")

INSTALL_HINT = "install it with: pip install 'groundtruth-labels[dask]'"


def require_dask() -> Any:
    """Import `distributed`, or fail with the install command."""
    try:
        import dask.dataframe  # noqa: F401  (the global steps are dataframe shuffles)
        import distributed
    except ImportError:
        raise EngineError("the dask engine needs dask[dataframe] and distributed, which are "
                          "not installed", hint=INSTALL_HINT) from None
    return distributed


class DaskEngine:
    name = "dask"

    def __init__(self, workers: int | None = None, *, address: str | None = None,
                 processes: bool = True, retries: int = 2,
                 memory_limit: str | None = "auto") -> None:
        distributed = require_dask()
        self.retries = retries
        address = address or os.environ.get("GROUNDTRUTH_DASK_ADDRESS")
        self._cluster = None
        if address:
            self.client = distributed.Client(address)
        else:
            self._cluster = distributed.LocalCluster(
                n_workers=workers or 2, threads_per_worker=1, processes=processes,
                host="127.0.0.1", dashboard_address="127.0.0.1:0", memory_limit=memory_limit,
                silence_logs=logging.ERROR)
            self.client = distributed.Client(self._cluster)

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info()["workers"])

    def map_keep(self, func: Callable[[T], R], tasks: Sequence[T]) -> list[Any]:
        # retries: a task that raised (e.g. a connection reset the filesystem did not retry)
        # runs again; a GroundtruthError is about the data and is not worth retrying, but
        # Dask cannot tell them apart, and a second try of a data error fails the same way.
        # A result lost with its worker is recomputed from its inputs by the scheduler.
        return list(self.client.map(func, list(tasks), pure=False, retries=self.retries))

    def map(self, func: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        if not tasks:
            return []
        futures = self.map_keep(func, tasks)
        results: list[R] = self._gather(futures)
        if len(results) != len(tasks):  # defensive: never hand back a partial result
            raise EngineError(f"the cluster returned {len(results)} results for "
                              f"{len(tasks)} tasks")
        return results

    def partition(self, split: Callable[[T], tuple[list[Any], Any]], tasks: Sequence[T],
                  buckets: int) -> tuple[list[Any], list[Any]]:
        """Each task's pieces stay on its worker; a bucket's task gathers its pieces from
        wherever they are (worker to worker), so no piece passes through this process."""
        splits = self.map_keep(split, tasks)
        submit = self.client.submit
        pieces = [[submit(_piece, s, b, pure=False, retries=self.retries) for s in splits]
                  for b in range(buckets)]
        handles = [submit(_bucket, *row, pure=False, retries=self.retries) for row in pieces]
        reports = self._gather([submit(_report, s, pure=False) for s in splits])
        self.release([f for row in pieces for f in row] + splits)  # the buckets hold them
        return handles, reports

    def release(self, handles: Sequence[Any]) -> None:
        for f in handles:
            f.release()

    def _gather(self, futures: list[Any]) -> Any:
        from distributed import KilledWorker

        try:
            return self.client.gather(futures)
        except KilledWorker as exc:
            raise EngineError(
                f"a task kept killing its worker and was given up: {exc}",
                hint="a worker process died each time it ran this part (out of memory, or "
                     "killed): give workers more memory (--workers fewer) or check the part",
            ) from None
        except GroundtruthError:
            raise
        finally:
            self.release(futures)

    def broadcast(self, value: Any) -> Any:
        """Send `value` to every worker once; tasks given the result receive the value."""
        return self.client.scatter(value, broadcast=True) if value is not None else None

    def peak_memory_mb(self) -> dict[str, float]:
        """Peak resident memory of each worker process, in MB."""
        return dict(self.client.run(_peak_mb))

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _piece(result: tuple[list[Any], Any], bucket: int) -> Any:
    return result[0][bucket]


def _bucket(*pieces: Any) -> list[Any]:
    return list(pieces)


def _report(result: tuple[list[Any], Any]) -> Any:
    return result[1]


def _peak_mb() -> float:
    """This process's peak RSS. Linux's VmHWM belongs to the process's own memory map, while
    `ru_maxrss` carries over the peak of the process that started it (fork, then exec): a
    worker started by a big process would report that process's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
