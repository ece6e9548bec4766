"""`gt sample`: choose what to label next and write it as a dataset and Label Studio tasks."""

from __future__ import annotations

import click

from ._common import (
    EXIT_INVALID,
    EXIT_OK,
    allow_loss_option,
    echo_json,
    format_option,
    from_option,
    load_for_command,
    message_option,
    report_dropped,
)


@click.command("sample")
@click.argument("dataset")
@from_option
@click.option("--predictions", default=None, metavar="PATH",
              help="The model's predictions on the pool (any readable format).")
@click.option("--pred-from", "pred_format", metavar="FMT", default=None,
              help="Format of --predictions (detected when omitted).")
@click.option("--model", default=None, metavar="NAME",
              help="The predicting annotator (its annotations in DATASET when no --predictions).")
@click.option("--budget", required=True, type=click.IntRange(min=1), help="Items to choose.")
@click.option("--strategy", default="least-confidence", show_default=True,
              type=click.Choice(["least-confidence", "margin", "entropy", "disagreement"]),
              help="How to score uncertainty (disagreement: vote entropy across models).")
@click.option("--stratify", default=None, metavar="BY",
              help="Spread the budget over strata: predicted-class or field:NAME (a cluster "
              "column of the items).")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Breaks ties between equal scores; the same seed, the same selection.")
@click.option("--subset", "subset_dir", default=None, metavar="DIR",
              help="Write the chosen items (with the model's predictions) as a native dataset.")
@click.option("--tasks", "tasks_file", default=None, metavar="FILE",
              help="Write the chosen items as Label Studio tasks with the predictions pre-filled.")
@click.option("--overwrite", is_flag=True,
              help="Replace DIR / FILE if they exist (never an input, a folder that is not a "
              "dataset or a plain file with a dataset).")
@allow_loss_option
@message_option
@format_option("text", "json")
def sample_cmd(
    dataset: str, from_format: str | None, read_options: tuple[str, ...],
    predictions: str | None, pred_format: str | None, model: str | None, budget: int,
    strategy: str, stratify: str | None, seed: int, subset_dir: str | None,
    tasks_file: str | None, overwrite: bool, allow_loss: bool, message: str | None,
    output_format: str,
) -> int:  # fmt: skip
    """Choose up to --budget unlabelled items of DATASET the model is least sure about.

    Items with any annotation from a person are left out; the rest are scored from the model's
    predictions. Exits 1 when the inputs cannot be scored as asked, or when the --tasks file
    lacks annotations of a whole type (unless --allow-loss).
    """
    from ..api import refuse_input_as_output
    from ..evaluation import EvaluationInputError
    from ..sampling import sample

    for out in (o for o in (subset_dir, tasks_file) if o):  # before the work, not after
        for src in (s for s in (dataset, predictions) if s):
            refuse_input_as_output(src, out)
    if subset_dir and tasks_file:
        refuse_input_as_output(subset_dir, tasks_file)
    ds = load_for_command(dataset, from_format, read_options)
    pred = load_for_command(predictions, pred_format, ()) if predictions else None
    try:
        sel = sample(ds, pred, budget=budget, strategy=strategy, model=model, stratify=stratify,
                     seed=seed)  # fmt: skip
    except EvaluationInputError as exc:
        click.echo(f"error: {exc}", err=True)
        raise click.exceptions.Exit(EXIT_INVALID) from None
    if output_format == "json":
        echo_json(sel.to_dict())
    else:
        click.echo(sel.to_text())
    status = EXIT_OK
    if subset_dir or tasks_file:
        from .._loss import types_dropped
        from ..api import save
        from ..lineage import subset_lineage

        sub = sel.subset()
        sub.lineage = subset_lineage(ds, sub, 'sample', message=message, budget=budget, strategy=strategy, seed=seed)
        if subset_dir:
            save(sub, subset_dir, overwrite=overwrite)
            click.echo(f"wrote {len(sub.items)} items to {subset_dir}", err=True)
        if tasks_file:
            report = save(sub, tasks_file, format="labelstudio", overwrite=overwrite)
            click.echo(f"wrote {len(sub.items)} Label Studio tasks to {tasks_file}", err=True)
            for code, entry in report.loss_summary().items():  # what the tasks cannot carry
                click.echo(f"  loss: {code}: {entry['count']} ({entry['message']})", err=True)
            status = report_dropped(types_dropped(sub, report), allow_loss)
    return status
