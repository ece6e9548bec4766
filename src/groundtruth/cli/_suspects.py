"""`gt suspects`: rank likely label errors and cut a dataset of their items for review."""

from __future__ import annotations

import click

from ._common import (
    EXIT_INVALID,
    EXIT_OK,
    echo_json,
    format_option,
    from_option,
    load_for_command,
    message_option,
)


@click.command("suspects")
@click.argument("dataset")
@from_option
@click.option("--predictions", default=None, metavar="PATH",
              help="The model's out-of-sample predictions (any readable format).")
@click.option("--pred-from", "pred_format", metavar="FMT", default=None,
              help="Format of --predictions (detected when omitted).")
@click.option("--model", default=None, metavar="NAME",
              help="The predicting annotator (its annotations in DATASET when no --predictions).")
@click.option("--kind", "kinds", multiple=True,
              type=click.Choice(["classification", "spans", "boxes"]),
              help="What to check (repeatable); default every kind the dataset has.")
@click.option("--threshold", default=0.5, show_default=True, type=click.FloatRange(0, 1),
              help="Lowest prediction confidence that counts as evidence (spans, boxes).")
@click.option("--iou", default=0.5, show_default=True, type=click.FloatRange(0, 1, min_open=True),
              help="Box IoU at which a detection and a box are the same object.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1),
              help="Suspects shown in text and Markdown (JSON lists all).")
@click.option("--subset", "subset_dir", default=None, metavar="DIR",
              help="Also write the suspect items (with annotations and predictions) as a native "
              "dataset to DIR.")
@click.option("--encoding", type=click.Choice(["jsonl", "parquet"]), default="jsonl",
              show_default=True, help="Encoding of the --subset dataset.")
@click.option("--overwrite", is_flag=True,
              help="Replace the --subset dataset if it exists (never an input).")
@message_option
@format_option("text", "json", "markdown")
def suspects_cmd(
    dataset: str, from_format: str | None, read_options: tuple[str, ...],
    predictions: str | None, pred_format: str | None, model: str | None,
    kinds: tuple[str, ...], threshold: float, iou: float, limit: int, subset_dir: str | None,
    encoding: str, overwrite: bool, message: str | None,
    output_format: str,
) -> int:  # fmt: skip
    """Rank the annotations of DATASET most likely wrong, with a score and a reason.

    Classification: confident learning on the model's predicted probabilities (cleanlab's
    find_label_issues); spans and boxes: confident predictions the labels contradict (missed,
    wrong type or class, boundary, badly placed); items whose annotators disagree. Exits 1 when
    the inputs cannot be checked.
    """
    from ..api import refuse_input_as_output
    from ..evaluation import EvaluationInputError
    from ..label_errors import suspects

    if subset_dir:  # before the work, not after
        for src in (s for s in (dataset, predictions) if s):
            refuse_input_as_output(src, subset_dir)
    ds = load_for_command(dataset, from_format, read_options)
    pred = load_for_command(predictions, pred_format, ()) if predictions else None
    try:
        report = suspects(ds, pred, model=model, kinds=list(kinds) or None, threshold=threshold,
                          iou=iou)  # fmt: skip
    except EvaluationInputError as exc:
        click.echo(f"error: {exc}", err=True)
        raise click.exceptions.Exit(EXIT_INVALID) from None
    if output_format == "json":
        echo_json(report.to_dict())
    elif output_format == "markdown":
        click.echo(report.to_markdown(limit))
    else:
        click.echo(report.to_text(limit))
    if subset_dir:
        from ..api import save
        from ..lineage import subset_lineage

        sub = report.subset()
        sub.lineage = subset_lineage(ds, sub, 'suspects', message=message, kinds=list(kinds), threshold=threshold)
        save(sub, subset_dir, encoding=encoding, overwrite=overwrite)
        click.echo(f"wrote {len(sub.items)} suspect items to {subset_dir}", err=True)
        click.echo("(no `gt review` yet: open the subset with any tool that reads the dataset)",
                   err=True)  # fmt: skip
    return EXIT_OK
