"""`gt convert` and `gt formats`."""

from __future__ import annotations

from typing import Any

import click

from .. import converters
from .._loss import read_dropped
from .._text import count, show
from ..api import convert, refuse_input_as_output, resolve_format
from ..converters import ConversionReport
from ..errors import GroundtruthError
from ..issues import Issue
from ._common import (
    allow_loss_option,
    check_source,
    echo_json,
    format_option,
    from_option,
    message_option,
    parse_options,
    report_dropped,
    verify_option,
    working,
)


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
@allow_loss_option
@message_option
@format_option("text", "json")
@verify_option
def convert_cmd(
    src: str, dst: str, from_format: str | None, read_options: tuple[str, ...], to_format: str,
    encoding: str, write_options: tuple[str, ...], overwrite: bool, category_ids: str | None,
    embed: bool, allow_loss: bool, message: str | None, output_format: str,
) -> int:
    """Convert SRC to DST: between the native encodings, or from/to any registered format.

    Anything the target format cannot carry is listed in a loss report; problems found while
    reading are summarised (run `gt validate SRC` for the full list).

    Exit 1 when data was dropped beyond what the target format cannot carry: records the
    reader skipped with errors, or every annotation of a type (DST is written all the same;
    --allow-loss exits 0). --overwrite replaces an existing dataset or file of the same kind,
    never the input, a plain file with a dataset, or a folder that is not a dataset.
    """
    check_source(src, from_format)
    refuse_input_as_output(src, dst)
    w_opts = parse_options(write_options)
    if category_ids is not None:
        w_opts["category_ids"] = _category_ids(category_ids)
    if embed:
        w_opts["embed"] = True
    if to_format == "groundtruth":
        w_opts.setdefault("encoding", encoding)
    r_opts = parse_options(read_options)
    with working(f"converting {src} -> {dst}"):
        streamed = (_stream(src, dst, from_format, to_format, r_opts, w_opts, overwrite,
                            message)
                    or _stream_out(src, dst, from_format, to_format, r_opts, w_opts, overwrite))
        if streamed is not None:
            source_format, n_items, n_anns, issues, report = streamed
            report.dropped = read_dropped(issues, src, parquet_target=True)
        else:
            ds, report = convert(
                src, dst, from_format=from_format, to_format=to_format,
                read_options=r_opts, write_options=w_opts, overwrite=overwrite,
                message=message,
            )
            source_format, n_items, n_anns, issues = (
                ds.source_format or "?", len(ds.items), len(ds.annotations), ds.issues)
    if output_format == "json":
        echo_json({
            "source": src, "from": source_format, "items": n_items, "annotations": n_anns,
            "read_issues": [i.to_dict() for i in issues], **report.to_dict(),
        })
        return report_dropped(report.dropped, allow_loss)
    click.echo(f"{src} ({source_format}) -> {dst} ({to_format}): "
               f"{count(n_items, 'item')}, {count(n_anns, 'annotation')}")
    if issues:
        click.echo(f"reading reported {count(len(issues), 'issue')}; first ones:", err=True)
        for i in issues[:5]:
            click.echo(f"  {i}", err=True)
    for key, value in report.details.items():
        if key != "fingerprint":
            click.echo(f"{key.replace('_', ' ')}: {show(value)}")
    if report.details.get("fingerprint"):
        click.echo(f"fingerprint: {report.details['fingerprint']}")
    if report.issues:
        click.echo(f"loss report: {to_format} cannot carry everything:")
        for code, entry in report.loss_summary().items():
            ex = ", ".join(entry["examples"])
            click.echo(f"  {code}: {entry['count']} ({entry['message']})"
                       + (f" e.g. {ex}" if ex else ""))
    elif not report.dropped:
        click.echo("nothing lost")
    return report_dropped(report.dropped, allow_loss)


def _category_ids(value: str) -> str | dict[str, int]:
    """`--category-ids`: a policy name or a readable JSON map, else a usage error (exit 2)."""
    from ..converters.coco import category_policy
    from ..io import resolve

    if value in ("preserve", "1-based", "0-based"):
        return value
    fs, path = resolve(value)
    try:
        return category_policy(path, fs)
    except GroundtruthError as exc:
        raise click.BadParameter(str(exc), param_hint="--category-ids") from None


def _stream(
    src: str, dst: str, from_format: str | None, to_format: str, r_opts: dict[str, Any],
    w_opts: dict[str, Any], overwrite: bool, message: str | None = None,
) -> tuple[str, int, int, list[Issue], ConversionReport] | None:
    """Convert to native Parquet in bounded memory when the source converter can stream.

    Only for Parquet: a streamed JSONL dataset would keep the source's record order instead of
    the sorted order that makes JSONL versions diff line by line.
    """
    if to_format != "groundtruth" or w_opts.get("encoding") != "parquet" or set(w_opts) != {
        "encoding"
    }:
        return None
    name = resolve_format(src, from_format)
    streamer = getattr(converters.get(name), "stream_to_native", None)
    if streamer is None:
        return None
    result = streamer(src, dst, encoding="parquet", overwrite=overwrite, **r_opts)
    if result is None:
        return None
    if not dst.endswith(".zip"):  # the streamer wrote its own manifest: add the lineage to it
        from ..lineage import foreign_parent, make_lineage, record_in_place

        record_in_place(dst, make_lineage(
            "convert", [foreign_parent(src, name, result.manifest.name)],
            options={"from": name, "to": "groundtruth", "write.encoding": "parquet", **r_opts},
            message=message))
    report = ConversionReport(format="groundtruth", outputs=[dst], details={
        "encoding": "parquet", "parts": len(result.manifest.parts),
        "fingerprint": result.manifest.fingerprint, "streamed": True})
    return name, result.items, result.annotations, result.issues, report


def _stream_out(
    src: str, dst: str, from_format: str | None, to_format: str, r_opts: dict[str, Any],
    w_opts: dict[str, Any], overwrite: bool,
) -> tuple[str, int, int, list[Issue], ConversionReport] | None:
    """Write a native dataset in a target format in bounded memory, when the target converter
    can (`stream_from_native`)."""
    streamer = getattr(converters.get(to_format), "stream_from_native", None)
    if streamer is None or r_opts or resolve_format(src, from_format) != "groundtruth":
        return None
    report: ConversionReport = streamer(src, dst, overwrite=overwrite, **w_opts)
    from ..io._native import open_native

    counts = dict.fromkeys(("items", "annotations"), 0)
    for part in open_native(src).parts:
        counts[part.kind] += part.records
    return "groundtruth", counts["items"], counts["annotations"], [], report


@click.command("formats")
@click.argument("name", required=False)
def formats_cmd(name: str | None) -> None:
    """List the formats `--from` and `--to` accept; with NAME, that format's options.

    Each format says whether it reads, writes or both. `gt formats coco` lists its reading
    options (`-o key=value`) and writing options (`-w key=value`) with type, default and use.
    """
    from ..converters._options import describe_options

    available = converters.available()
    if name is None:
        for fmt, conv in available.items():
            click.echo(f"{fmt:<13}{_directions(conv):<7}{conv.description}")
        click.echo("\n`gt formats NAME` lists a format's -o (reading) and -w (writing) options.")
        return
    found = available.get(name)
    if found is None:
        raise click.BadParameter(f"no format {name}; formats: {', '.join(available)}",
                                 param_hint="NAME")
    conv = found
    click.echo(f"{name}: {conv.description} ({_directions(conv)})")
    if any(conv.extensions):
        click.echo(f"extensions: {', '.join(e for e in conv.extensions if e)}")
    for flag, direction, attr in (("-o", "reading", "read_options"),
                                  ("-w", "writing", "write_options")):
        if direction == "writing" and not callable(getattr(conv, "write", None)):
            continue
        spec = getattr(conv, attr, None)
        rows = describe_options(spec) if spec is not None else []
        if direction == "reading":  # every format takes it (groundtruth.load)
            rows.append(("guideline", "a string", "", _GUIDELINE_HELP))
        click.echo(f"\n{direction} options ({flag} key=value):")
        if spec is None:
            click.echo("  (this converter does not list its options)")
        for key, kind, default, help_text in rows:
            shown = f" (default: {default})" if default else ""
            click.echo(f"  {key:<15}{kind}{shown}" + (f"\n  {'':<15}{help_text}"
                                                    if help_text else ""))


_GUIDELINE_HELP = ("ID@VERSION: the guideline the delivery was made under, recorded on "
                   "annotations naming none")


def _directions(conv: object) -> str:
    reads = callable(getattr(conv, "read", None))
    writes = callable(getattr(conv, "write", None))
    return "both" if reads and writes else ("read" if reads else "write")
