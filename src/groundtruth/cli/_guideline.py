"""`gt guideline check|report`: annotators against the worked examples; who was overruled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ._common import EXIT_INVALID, EXIT_OK, echo_json, from_option, load_for_command


@click.group("guideline")
def guideline_cmd() -> None:
    """Guidelines that settle cases: worked examples and feedback from adjudication."""


def _fmt(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--format", "output_format",
                        type=click.Choice(["text", "json", "markdown"]), default="text",
                        show_default=True, help="How to print the result.")(f)


@guideline_cmd.command("check")
@click.argument("path")
@click.option("--guideline", "guideline_id", default=None, metavar="ID",
              help="Only this guideline's worked examples.")
@from_option
@_fmt
def check_cmd(path: str, guideline_id: str | None, from_format: str | None,
              read_options: tuple[str, ...], output_format: str) -> int:
    """Every annotator's labels on the worked-example items of PATH's guidelines against the
    answers the guideline expects. Exit 1 when an annotator disagrees with an example (or an
    example cannot be checked); exit 2 when no guideline has worked examples."""
    from ..adjudication import guideline_check

    ds = load_for_command(path, from_format, read_options)
    res = guideline_check(ds, guideline_id)
    if res.examples == 0:
        which = f"guideline {guideline_id!r}" if guideline_id else "no guideline"
        raise click.UsageError(f"{which} of {path} has worked examples" if not guideline_id
                               else f"{which} has no worked examples in {path}")
    if output_format == "json":
        echo_json(res.to_dict())
    else:
        click.echo(res.render(output_format), nl=False)
    return EXIT_OK if res.ok else EXIT_INVALID


@guideline_cmd.command("report")
@click.argument("path")
@from_option
@_fmt
def report_cmd(path: str, from_format: str | None, read_options: tuple[str, ...],
               output_format: str) -> int:
    """Per annotator: how often and where (label, guideline section) reviewers overruled them;
    per guideline section: disputed items about its labels, "guideline unclear" marks and
    decisions citing it, so the team knows which rule to rewrite first. PATH is an adjudicated
    dataset (`gt adjudicate`)."""
    from ..adjudication import feedback_report

    ds = load_for_command(path, from_format, read_options)
    rep = feedback_report(ds)
    if output_format == "json":
        echo_json(rep.to_dict())
    else:
        click.echo(rep.render(output_format), nl=False)
    return EXIT_OK
