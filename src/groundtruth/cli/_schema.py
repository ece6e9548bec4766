"""`gt schema`: the spec's JSON Schema, printed or written."""

from __future__ import annotations

import click

from ..schema import SCHEMA_NAMES, json_schema, write_schemas
from ._common import echo_json


@click.command("schema")
@click.argument("name", required=False, type=click.Choice(SCHEMA_NAMES))
@click.option("--output", "-O", "output_dir", type=click.Path(file_okay=False),
              help="Write every schema file into this folder instead of printing.")
def schema_cmd(name: str | None, output_dir: str | None) -> None:
    """Print the JSON Schema of NAME (default: dataset), or write all with --output."""
    if output_dir:
        for path in write_schemas(output_dir):
            click.echo(path)
        return
    echo_json(json_schema(name or "dataset"))
