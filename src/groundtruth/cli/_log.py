"""`gt log`: the versions behind a dataset."""

from __future__ import annotations

import click

from ._common import format_option


@click.command("log")
@click.argument("dataset")
@click.option("--max", "max_versions", type=click.IntRange(min=1), default=1000,
              show_default=True, help="Stop after this many versions.")
@format_option("text", "json", "markdown")
def log_cmd(dataset: str, max_versions: int, output_format: str) -> None:
    """The chain of versions behind the native dataset DATASET, newest first.

    Each version's fingerprint, label, time, operation, message and change summary, following
    the parents its lineage names where they are still there (and the same version), and
    saying where they are not. --format markdown is a CHANGELOG for a dataset card.
    """
    from ..versions import log, render_log

    click.echo(render_log(log(dataset, max_versions=max_versions), output_format), nl=False)
