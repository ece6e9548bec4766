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


class Engine(Protocol):
    name: str

    def map(self, func: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        """`[func(t) for t in tasks]`, in order, every one of them or an error."""
        ...

    def close(self) -> None: ...


class LocalEngine:
    """Runs every task in this process, one after the other: the reference results."""

    name = "local"

    def map(self, func: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
        return [func(t) for t in tasks]

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
