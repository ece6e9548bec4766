"""`gt merge`: three-way merge of two versions derived from one base."""

from __future__ import annotations

import click

from ._common import EXIT_INVALID, EXIT_OK, format_option, message_option, working


@click.command("merge")
@click.argument("base")
@click.argument("ours")
@click.argument("theirs")
@click.argument("out")
@click.option("--prefer", type=click.Choice(["ours", "theirs"]), default=None,
              help="Resolve every conflict for this side (default: keep them as disputes).")
@click.option("--version", "version_label", metavar="LABEL", default=None,
              help="Version label of the merged dataset.")
@click.option("--match-by", type=click.Choice(["auto", "id", "content"]), default="auto",
              show_default=True, help="How each side's annotations are matched to the base.")
@click.option("--from", "from_format", metavar="FMT", default=None,
              help="Format of the three inputs when they are not native datasets.")
@click.option("--encoding", type=click.Choice(["jsonl", "parquet"]), default="jsonl",
              show_default=True, help="Encoding of the merged dataset.")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@message_option
@format_option("text", "json", "markdown")
def merge_cmd(base: str, ours: str, theirs: str, out: str, prefer: str | None,
              version_label: str | None, match_by: str, from_format: str | None, encoding: str,
              overwrite: bool, message: str | None, output_format: str) -> int:
    """Merge OURS and THEIRS (both derived from BASE) into OUT, annotation by annotation.

    A change made on one side applies; the same change on both sides applies once; different
    changes to one annotation, item or label are conflicts, kept in OUT as disputes (each
    side's version with its annotator, ids ID~ours and ID~theirs) or resolved by --prefer.
    Exits 1 when conflicts remain (after writing OUT), so CI can gate on it.
    """
    from ..api import save
    from ..merge import merge

    with working("merging"):
        result = merge(base, ours, theirs, prefer=prefer,  # type: ignore[arg-type]
                       version=version_label, format=from_format, match_by=match_by,
                       message=message)
        save(result.dataset, out, encoding=encoding, overwrite=overwrite)
    click.echo(result.render(output_format), nl=False)
    if output_format != "json":
        click.echo(f"wrote {out}", err=True)
    return EXIT_OK if result.clean else EXIT_INVALID
