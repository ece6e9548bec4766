"""`gt convert` and `gt formats`."""

from __future__ import annotations

import click

from .. import converters
from ..api import convert
from ._common import EXIT_OK, echo_json, format_option, from_option, parse_options, working


@click.command("convert")
@click.argument("src")
@click.argument("dst")
@from_option
@click.option("--to", "to_format", default="groundtruth", show_default=True, metavar="FMT",
              help="Format to write (see `gt formats`).")
@click.option("--encoding", type=click.Choice(["jsonl", "parquet"]), default="jsonl",
              show_default=True, help="Encoding of a native (--to groundtruth) dataset.")
@click.option("-w", "--write-option", "write_options", multiple=True, metavar="KEY=VALUE",
              help="A writing option of the target format (repeatable).")
@click.option("--overwrite", is_flag=True, help="Replace DST if it exists.")
@click.option("--category-ids", default=None, metavar="POLICY",
              help="--to coco: preserve (default), 1-based, 0-based, or a JSON file "
              "{name: id}.")
@click.option("--embed", is_flag=True,
              help="--to coco: keep groundtruth provenance in extra keys pycocotools ignores.")
@format_option("text", "json")
def convert_cmd(
    src: str, dst: str, from_format: str | None, read_options: tuple[str, ...], to_format: str,
    encoding: str, write_options: tuple[str, ...], overwrite: bool, category_ids: str | None,
    embed: bool, output_format: str,
) -> int:
    """Convert SRC to DST: between the native encodings, or from/to any registered format.

    Anything the target format cannot carry is listed in a loss report; problems found while
    reading are summarised (run `gt validate SRC` for the full list).
    """
    w_opts = parse_options(write_options)
    if category_ids is not None:
        w_opts["category_ids"] = category_ids
    if embed:
        w_opts["embed"] = True
    if to_format == "groundtruth":
        w_opts.setdefault("encoding", encoding)
    with working(f"converting {src} -> {dst}"):
        ds, report = convert(
            src, dst, from_format=from_format, to_format=to_format,
            read_options=parse_options(read_options), write_options=w_opts, overwrite=overwrite,
        )
    if output_format == "json":
        echo_json({
            "source": src, "from": ds.source_format, "items": len(ds.items),
            "annotations": len(ds.annotations),
            "read_issues": [i.to_dict() for i in ds.issues], **report.to_dict(),
        })
        return EXIT_OK
    click.echo(f"{src} ({ds.source_format}) -> {dst} ({to_format}): "
               f"{len(ds.items)} items, {len(ds.annotations)} annotations")
    if ds.issues:
        click.echo(f"reading reported {len(ds.issues)} issue(s); first ones:", err=True)
        for i in ds.issues[:5]:
            click.echo(f"  {i}", err=True)
    for key, value in report.details.items():
        if key != "fingerprint":
            click.echo(f"{key}: {value}")
    if report.details.get("fingerprint"):
        click.echo(f"fingerprint: {report.details['fingerprint']}")
    if report.issues:
        click.echo(f"loss report: {to_format} cannot carry everything:")
        for code, entry in report.loss_summary().items():
            ex = ", ".join(entry["examples"])
            click.echo(f"  {code}: {entry['count']} ({entry['message']})"
                       + (f" e.g. {ex}" if ex else ""))
    else:
        click.echo("nothing lost")
    return EXIT_OK


@click.command("formats")
def formats_cmd() -> None:
    """List the formats `--from` and `--to` accept."""
    for name, conv in converters.available().items():
        click.echo(f"{name:<14}{conv.description}")
