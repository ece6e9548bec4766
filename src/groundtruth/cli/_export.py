"""`gt export`: a training-ready file per task (classification, NER, preference, chat SFT)."""

from __future__ import annotations

import click

from ..export import RESOLVE, TASKS, TIES, export
from ._common import (
    allow_loss_option,
    check_source,
    echo_json,
    from_option,
    parse_options,
    report_dropped,
    verify_option,
)
from ._engine import engine_options


@click.command("export")
@click.argument("path")
@click.argument("dst")
@click.option("--task", type=click.Choice(TASKS), required=True,
              help="Shape of the rows to write.")
@click.option("--split", default=None, metavar="NAME", help="Only items of this split.")
@click.option("--resolve", "resolve_rule", type=click.Choice(RESOLVE), default="majority",
              show_default=True,
              help="How one answer is chosen when annotators disagree (consensus: "
                   "classification and ner only).")
@click.option("--ties", type=click.Choice(TIES), default="skip", show_default=True,
              help="--resolve majority, when the top answers tie: leave the item out and report "
                   "it (skip), take the first label by name and report it (first), or stop "
                   "with an error (fail).")
@click.option("--format", "file_format", type=click.Choice(["jsonl", "parquet"]), default=None,
              help="File format to write (default: from DST's extension, else jsonl).")
@click.option("--label-set", default=None, metavar="NAME",
              help="Classification: the label set to export (default: the one used most).")
@click.option("--include-models", is_flag=True, help="Count predictions as annotators.")
@click.option("--skip-empty", is_flag=True, help="NER: leave out items with no spans.")
@click.option("--negatives", is_flag=True,
              help="Classification: rejected labels (accept/reject tasks such as Prodigy "
                   "textcat) are answers: class `not LABEL`, or left out of a multi-label list.")
@from_option
@click.option("--overwrite", is_flag=True, help="Replace DST if it exists.")
@click.option("--report", "output_format", type=click.Choice(["text", "json"]),
              default="text", show_default=True, help="How to print the loss report.")
@allow_loss_option
@engine_options
@verify_option
def export_cmd(path: str, dst: str, task: str, split: str | None, resolve_rule: str, ties: str,
               file_format: str | None, label_set: str | None, include_models: bool,
               skip_empty: bool, negatives: bool, from_format: str | None, read_options: tuple[str, ...],
               overwrite: bool, allow_loss: bool, output_format: str, engine: str | None,
               workers: int | None) -> int:
    """Write DST, one row per item of PATH, shaped for training a TASK model.

    PATH is a native dataset or any file `gt formats` lists. Rows: classification
    {id, text, label}; ner {id, text, spans[, tokens, ner_tags]}; preference
    {id, prompt, chosen, rejected}; sft {id, messages}. Items left out (no usable label,
    ties) are listed in the loss report.

    With --engine, a native dataset (folder, or URL) is exported by buckets of items, in this
    process (local) or on a Dask cluster (dask): the same file and report, without loading
    the whole dataset into one process. --resolve consensus then uses the consensus
    annotations already in the data (run `gt consensus` first).

    An existing DST is refused unless --overwrite (a folder, or PATH itself, always). An
    export of no rows exits 1 (the empty file is written) unless --allow-loss.
    """
    check_source(path, from_format)
    fmt = file_format or ("parquet" if dst.endswith((".parquet", ".pq")) else "jsonl")
    report = export(path, dst, task=task, split=split, resolve=resolve_rule, ties=ties,
                    format=fmt,
                    from_format=from_format, label_set=label_set,
                    include_models=include_models, skip_empty=skip_empty, negatives=negatives,
                    overwrite=overwrite, engine=engine, workers=workers,
                    **parse_options(read_options))
    if output_format == "json":
        echo_json(report.to_dict())
        return report_dropped(report.dropped, allow_loss)
    d = report.details
    click.echo(f"{path} -> {dst} ({task}, {fmt}): {d['rows']} rows from {d['items']} items "
               f"(resolve: {d['resolve']}"
               + (f", ties: {d['ties']})" if d["resolve"] == "majority" else ")"))
    if report.issues:
        click.echo("left out or decided by tie-break:")
        for code, entry in report.loss_summary().items():
            ex = ", ".join(entry["examples"])
            click.echo(f"  {code}: {entry['count']} ({entry['message']})"
                       + (f" e.g. {ex}" if ex else ""))
    else:
        click.echo("nothing left out")
    return report_dropped(report.dropped, allow_loss)
