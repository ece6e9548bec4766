"""Engines run per-part tasks and the global steps; `local` is the single-process reference."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, Self, TypeVar

from ..errors import GroundtruthError

T = TypeVar("T")
R = TypeVar("R")

ENGINES = ("local", "dask")


class EngineError(GroundtruthError, RuntimeError):
    """The engine could not finish a run (a worker kept dying, the cluster went away...)."""


Handle = Any
"""A result left where it was computed (a Dask future; the value itself on `local`). Tasks
given to `map`, `map_keep` or `partition` may hold handles: the engine resolves them where the
task runs, so the data moves from worker to worker, never through the caller."""


class Engine(Protocol):
    name: str

    def map(self, func: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        """`[func(t) for t in tasks]`, in order, every one of them or an error."""
        ...

    def map_keep(self, func: Callable[[T], R], tasks: Sequence[T]) -> list[Handle]:
        """As `map`, but the results stay on the workers: handles for later tasks."""
        ...

    def partition(self, split: Callable[[T], tuple[list[Any], Any]], tasks: Sequence[T],
                  buckets: int) -> tuple[list[Handle], list[Any]]:
        """A shuffle. `split(task)` returns `(pieces, report)` with one piece per bucket.

        Returns the handles of the `buckets` buckets (bucket b is the list of every task's
        piece b, in task order) and the reports (small: they come back to the caller)."""
        ...

    def release(self, handles: Sequence[Handle]) -> None:
        """Free results kept on the workers."""
        ...

    def close(self) -> None: ...


def transpose(results: Sequence[tuple[list[Any], Any]], buckets: int) -> list[list[Any]]:
    """Bucket b = every result's piece b, in task order."""
    return [[pieces[b] for pieces, _ in results] for b in range(buckets)]


class LocalEngine:
    """Runs every task in this process: the reference results.

    Tasks run on a few threads so that fetching one part from object storage overlaps with
    work on another (the work itself is mostly Python and holds the GIL, so more threads than
    a handful buy nothing). `threads=1` runs them one after the other.
    """

    name = "local"

    def __init__(self, threads: int = 2) -> None:
        self.threads = max(1, threads)

    def map(self, func: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        if self.threads == 1 or len(tasks) < 2:
            return [func(t) for t in tasks]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(self.threads, len(tasks)),
                                thread_name_prefix="groundtruth-part") as pool:
            return list(pool.map(func, tasks))  # in order; the first error is raised

    def map_keep(self, func: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        return self.map(func, tasks)

    def partition(self, split: Callable[[T], tuple[list[Any], Any]], tasks: Sequence[T],
                  buckets: int) -> tuple[list[list[Any]], list[Any]]:
        results = self.map(split, tasks)
        return transpose(results, buckets), [report for _, report in results]

    def release(self, handles: Sequence[Any]) -> None:
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def get_engine(engine: str | Any = "local", *, workers: int | None = None,
               **options: Any) -> Any:
    """An engine by name (`local`, `dask`), or an engine object passed through."""
    if not isinstance(engine, str):
        return engine
    if engine == "local":
        return LocalEngine()
    if engine == "dask":
        from ._dask import DaskEngine

        return DaskEngine(workers=workers, **options)
    raise GroundtruthError(f"unknown engine {engine!r}",
                           hint=f"use one of: {', '.join(ENGINES)}")
