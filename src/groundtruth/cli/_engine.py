"""`--engine local|dask` and `--workers N`, shared by the commands that can run on an engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, overload

import click

from ..engine import ENGINES

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


@overload
def engine_options(f: Callable[..., Any]) -> Callable[..., Any]: ...


@overload
def engine_options(*, default: str | None = "local") -> Decorator: ...


def engine_options(f: Callable[..., Any] | None = None, *,
                   default: str | None = "local") -> Callable[..., Any]:
    """`@engine_options` (`--engine` defaults to local), or `@engine_options(default=None)`:
    without `--engine` the command runs its single-process path, and `--workers` needs one."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        f = click.option(
            "--workers", type=click.IntRange(min=1), default=None, metavar="N",
            help="Workers of the engine's local cluster (default 2; ignored with "
                 "GROUNDTRUTH_DASK_ADDRESS, which names a running cluster).",
        )(f)
        if default is None:
            return click.option(
                "--engine", type=click.Choice(ENGINES), default=None,
                help="Run on an engine, by buckets of items: in this process (local) or on a "
                     "Dask cluster (dask; pip install 'groundtruth-labels[dask]'). Native "
                     "datasets only; same output. Default: read the dataset into this process.",
            )(f)
        return click.option(
            "--engine", type=click.Choice(ENGINES), default=default, show_default=True,
            help="Run per-part work in this process (local) or on a Dask cluster (dask; "
                 "pip install 'groundtruth-labels[dask]').",
        )(f)

    return decorate(f) if f is not None else decorate
