"""`gt diff`: what changed between two versions of a dataset, with CI gates."""

from __future__ import annotations

from typing import Any

import click
import orjson

from ._common import EXIT_INVALID, EXIT_OK, parse_options, verify_option
from ._engine import engine_options


def read_label_map(path: str) -> dict[str, str]:
    """A label map file: a JSON object `{"old": "new"}`, or lines `old=new` (or `old,new`,
    `old<TAB>new`); blank lines and lines starting with `#` are skipped."""
    from ..io._fs import resolve

    fs, p = resolve(path)
    try:
        text = fs.cat_file(p).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="--label-map") from None
    if text.lstrip().startswith("{"):
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise click.BadParameter(f"{path} is not valid JSON: {exc}",
                                     param_hint="--label-map") from None
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
            raise click.BadParameter(f"{path}: every key and value must be a label (a string)",
                                     param_hint="--label-map")
        return dict(data)
    out: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        for sep in ("\t", "=", ","):
            old, found, new = line.partition(sep)
            if found:
                break
        if not found or not old.strip() or not new.strip():
            raise click.BadParameter(f"{path}:{n}: expected old=new, got {raw!r}",
                                     param_hint="--label-map")
        out[old.strip()] = new.strip()
    return out


@click.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--from", "from_format", metavar="FMT", default=None,
              help="Format of both inputs (see `gt formats`); detected when omitted.")
@click.option("--old-from", metavar="FMT", default=None, help="Format of OLD only.")
@click.option("--new-from", metavar="FMT", default=None, help="Format of NEW only.")
@click.option("-o", "--option", "read_options", multiple=True, metavar="KEY=VALUE",
              help="A reading option of the source format (repeatable).")
@click.option("--match-by", type=click.Choice(["auto", "id", "content"]), default="auto",
              show_default=True,
              help="Match annotations by id, by content (geometry/value within each item), "
                   "or auto (ids when they are stable).")
@click.option("--item-key", type=click.Choice(["id", "sha256", "uri", "name"]), default="id",
              show_default=True, help="Match items by id, media hash, media uri or file name.")
@click.option("--iou", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Least IoU to pair boxes, polygons, masks by content.")
@click.option("--oks", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Least OKS to pair keypoints by content.")
@click.option("--overlap", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Least overlap (IoU) to pair spans and time segments by content.")
@click.option("--text-similarity", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Least similarity to pair transcriptions and text answers by content.")
@click.option("--tolerance", type=click.FloatRange(0), default=1e-6, show_default=True,
              help="Coordinate differences up to this are not a geometry change.")
@click.option("--ignore", multiple=True, metavar="FIELD",
              help="A field or kind of change to leave out (repeatable): created, confidence, "
                   "geometry, attributes.KEY, item.metadata, ...")
@click.option("--label-map", "label_map_file", metavar="FILE", default=None,
              help="Old -> new labels (JSON object or old=new lines), applied before matching.")
@click.option("--format", "output_format",
              type=click.Choice(["text", "json", "markdown", "html"]), default="text",
              show_default=True, help="How to print the result.")
@click.option("--output", metavar="FILE", default=None,
              help="Write the rendering to FILE instead of standard output (an existing FILE "
                   "is kept unless --overwrite).")
@click.option("--overwrite", is_flag=True, default=False,
              help="Let --output replace an existing file (never a folder or an input).")
@click.option("--limit", type=click.IntRange(1), default=None,
              help="Changes listed in text/markdown, items shown in html (default 20/30/500).")
@click.option("--media-root", "--image-root", "media_root", metavar="DIR", default=None,
              type=click.Path(exists=True, file_okay=False),
              help="html: embed local images from DIR only (items' relative URIs, kept inside "
                   "DIR, symlinks included). Without it no local file is read.")
@click.option("--fetch-remote-media", is_flag=True, default=False,
              help="html: download remote images (http(s), s3://, ...) and embed them; by "
                   "default http(s) images are linked and others not shown.")
@click.option("--fail-on", "fail_on", multiple=True, metavar="EXPR",
              help="Exit 1 when EXPR holds (repeatable), e.g. 'removed-items>0', "
                   "'changed-labels>5%'. See docs/diff.md for the metrics.")
@engine_options
@verify_option
def diff_cmd(
    old: str, new: str, from_format: str | None, old_from: str | None, new_from: str | None,
    read_options: tuple[str, ...], match_by: str, item_key: str, iou: float, oks: float,
    overlap: float, text_similarity: float, tolerance: float, ignore: tuple[str, ...],
    label_map_file: str | None, output_format: str, output: str | None, overwrite: bool,
    limit: int | None, media_root: str | None, fetch_remote_media: bool,
    fail_on: tuple[str, ...], engine: str | None, workers: int | None,
) -> int:
    """Show what changed between OLD and NEW: items and annotations added, removed, changed.

    OLD and NEW are native datasets (folder, .zip or URL) or files in any format `gt formats`
    lists. Exit 0 when every --fail-on gate passes, 1 when one fails, 2 on usage or I/O errors.

    With --engine, both versions (native datasets) are shuffled by item and diffed in parallel
    buckets, locally or on a Dask cluster; the output is the same as without.
    """
    from ..diff import diff, evaluate_gates, parse_gate
    from ..diff._gate import GateSyntaxError

    if overwrite and not output:
        raise click.UsageError("--overwrite applies to --output FILE")
    if output_format != "html" and (media_root or fetch_remote_media):
        raise click.UsageError("--media-root and --fetch-remote-media apply to --format html")
    try:
        gates = [parse_gate(g) for g in fail_on]
    except GateSyntaxError as exc:
        raise click.BadParameter(f"{exc.message}\n  hint: {exc.hint}",
                                 param_hint="--fail-on") from None
    if output:
        from ..diff import check_target

        check_target(output, overwrite=overwrite, protect=(old, new))
    label_map = read_label_map(label_map_file) if label_map_file else None
    result = diff(
        old, new, old_format=old_from or from_format, new_format=new_from or from_format,
        match_by=match_by, item_key=item_key, iou=iou, oks=oks,  # type: ignore[arg-type]
        overlap=overlap, text_similarity=text_similarity, tolerance=tolerance, ignore=ignore,
        label_map=label_map, engine=engine, workers=workers, **parse_options(read_options),
    )
    outcomes = evaluate_gates(result, gates)
    render_opts: dict[str, Any] = {}
    if limit is not None and output_format != "json":
        render_opts["limit"] = limit
    if output_format == "html":
        render_opts["media_root"] = media_root
        render_opts["fetch_remote_media"] = fetch_remote_media
    if output_format == "json":
        from ..diff._render_json import render_json

        text = render_json(result, {"gates": [o.to_dict() for o in outcomes]} if gates else None)
    else:
        text = result.render(output_format, **render_opts)
    if output:
        from ..diff import publish

        publish(text.encode("utf-8"), output, overwrite=overwrite, protect=(old, new))
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
    failed = [o for o in outcomes if o.failed]
    for o in outcomes:
        unit = "%" if o.gate.percent else ""
        state = "FAILED" if o.failed else "passed"
        click.echo(f"gate {state}: {o.gate.text} (measured {o.actual:g}{unit})", err=True)
    if failed:
        # raised, not returned: click's standalone mode (and CliRunner) ignore return values
        raise click.exceptions.Exit(EXIT_INVALID)
    return EXIT_OK
