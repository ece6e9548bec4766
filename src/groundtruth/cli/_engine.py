"""`--engine local|dask` and `--workers N`, shared by the commands that can run on an engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ..engine import ENGINES


def engine_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Without `--engine` a command runs its single-process path; `--workers` needs one."""
    f = click.option(
        "--workers", type=click.IntRange(min=1), default=None, metavar="N",
        help="Workers of the engine's local cluster (default 2; ignored with "
             "GROUNDTRUTH_DASK_ADDRESS, which names a running cluster).",
    )(f)
    return click.option(
        "--engine", type=click.Choice(ENGINES), default=None, callback=_needs_workers_engine,
        help="Run part by part on an engine, with the same result: dask (a Dask cluster; "
             "pip install 'groundtruth-labels[dask]') or local (the same plan in this "
             "process). Native datasets only. Default: no engine.",
    )(f)


def _needs_workers_engine(ctx: click.Context, _param: click.Parameter,
                          value: str | None) -> str | None:
    if value is None and ctx.params.get("workers") is not None:
        raise click.UsageError("--workers needs --engine local or --engine dask")
    return value
