"""`--engine local|dask` and `--workers N`, shared by the commands that can run on an engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, overload

import click

from ..engine import ENGINES

Command = Callable[..., Any]


@overload
def engine_options(f: Command) -> Command: ...
@overload
def engine_options(*, default: str | None = "local") -> Callable[[Command], Command]: ...
def engine_options(f: Command | None = None, *, default: str | None = "local"
                   ) -> Command | Callable[[Command], Command]:
    """`@engine_options`: `--engine` (default `local`) and `--workers`.

    `@engine_options(default=None)`: without `--engine` the command runs its single-process
    path (engine None), and `--engine local|dask` runs its engine path.
    """

    def apply(f: Command) -> Command:
        f = click.option(
            "--workers", type=click.IntRange(min=1), default=None, metavar="N",
            help="Workers of the engine's local cluster (default 2; ignored with "
                 "GROUNDTRUTH_DASK_ADDRESS, which names a running cluster).",
        )(f)
        if default is None:
            text = ("Run on an engine: in this process, part by part (local), or on a Dask "
                    "cluster (dask; pip install 'groundtruth-labels[dask]'). Same result as "
                    "without, which runs in one process.")
        else:
            text = ("Run per-part work in this process (local) or on a Dask cluster (dask; "
                    "pip install 'groundtruth-labels[dask]').")
        return click.option("--engine", type=click.Choice(ENGINES), default=default,
                            show_default=default is not None, help=text)(f)

    return apply(f) if f is not None else apply
