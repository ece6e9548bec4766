"""`gt validate`: every problem of a dataset, grouped by code, with where and what to do."""

from __future__ import annotations

import click

from .._voice import cli as voice_cli
from ._common import (
    EXIT_INVALID,
    EXIT_OK,
    check_source,
    echo_json,
    format_option,
    from_option,
    parse_options,
)
from ._engine import engine_options


@click.command("validate")
@click.argument("path")
@from_option
@click.option("--strict", is_flag=True, help="Warnings fail validation too (exit 1).")
@click.option("--max-issues", type=click.IntRange(min=1), default=None, metavar="N",
              help="Keep at most N issues in the report (the counts stay exact).")
@click.option("--tolerance", type=click.FloatRange(min=0), default=0.0, show_default=True,
              metavar="PX", help="Pixels a shape may reach outside its image.")
@click.option("--no-hashes", is_flag=True, help="Skip checking data parts against their sha256.")
@click.option("--examples", type=click.IntRange(min=0), default=5, show_default=True,
              help="Locations shown per issue code in the text report.")
@format_option("text", "json")
@engine_options
def validate_cmd(
    path: str, from_format: str | None, read_options: tuple[str, ...], strict: bool,
    max_issues: int | None, tolerance: float, no_hashes: bool, examples: int,
    output_format: str, engine: str | None, workers: int | None,
) -> int:
    """Check PATH and report every problem: structure, references, geometry and content,
    dataset-level warnings.

    PATH is a native dataset (folder, .zip or URL), a dataset as one JSON document, or a file
    in any format `gt formats` lists (--from, or detected). Exit status: 0 valid (warnings
    allowed unless --strict), 1 invalid, 2 usage or I/O error.

    With --engine, a native dataset is checked part by part and bucket by bucket (on a Dask
    cluster: in parallel, reading parts straight from storage); the report is the same.
    """
    from ..validation import validate

    check_source(path, from_format)
    report = validate(path, format=from_format, strict=strict, max_issues=max_issues,
                      tolerance=tolerance, verify_hashes=not no_hashes, engine=engine,
                      workers=workers, **parse_options(read_options))
    if output_format == "json":
        echo_json(report.to_dict())
    else:
        click.echo(voice_cli(report.render(examples=examples)))  # hints name the CLI's flags
    return EXIT_OK if report.ok else EXIT_INVALID
