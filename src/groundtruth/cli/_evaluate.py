"""`gt evaluate`: score a model's predictions against ground truth."""

from __future__ import annotations

import click

from ._common import (
    EXIT_INVALID,
    EXIT_OK,
    echo_json,
    format_option,
    from_option,
    load_for_command,
)

TASK_CHOICE = click.Choice(["bbox", "segm", "keypoints", "spans", "classification", "ratings"])


def _max_dets(raw: str | None) -> list[int] | None:
    if raw is None:
        return None
    try:
        values = [int(v) for v in raw.split(",")]
    except ValueError:
        values = []
    if not values or any(v < 1 for v in values):
        raise click.BadParameter(f"{raw!r} is not a list of positive integers like 1,10,100",
                                 param_hint="--max-dets")  # fmt: skip
    return values


@click.command("evaluate")
@click.argument("ground_truth")
@click.argument("predictions", required=False)
@from_option
@click.option("--pred-from", "pred_format", metavar="FMT", default=None,
              help="Format of PREDICTIONS (detected when omitted).")  # fmt: skip
@click.option("--pred-option", "pred_options", multiple=True, metavar="KEY=VALUE",
              help="A reading option of the predictions' format (repeatable).")  # fmt: skip
@click.option("--model", default=None, metavar="NAME",
              help="The predicting annotator: without PREDICTIONS, its annotations in "
              "GROUND_TRUTH are the predictions; with PREDICTIONS, only its annotations count.")
@click.option("--task", "tasks", multiple=True, type=TASK_CHOICE,
              help="What to score (repeatable); default every task the ground truth supports.")
@click.option("--by", "slices", multiple=True, metavar="SLICE",
              help="Also score by slice (repeatable): split, label, annotator, attribute:NAME "
              "(annotation attribute) or field:NAME (item field or metadata key).")
@click.option("--max-dets", default=None, metavar="N,N,N",
              help="COCO per-image detection caps (default 1,10,100; keypoints 20).")
@format_option("text", "json", "markdown", "html")
@click.option("--output", metavar="FILE", default=None,
              help="Write the report to FILE instead of standard output (an existing FILE "
              "is kept unless --overwrite; an input never is replaced).")
@click.option("--overwrite", is_flag=True, default=False,
              help="Replace an existing --output FILE (never a folder or an input).")
@click.option("--media-root", default=None, metavar="DIR",
              help="HTML: embed local images only from DIR (items' relative URIs, confined to "
              "it); without it no local file is read.")
@click.option("--fetch-remote-media", is_flag=True,
              help="HTML: download remote images and embed them (default: http(s) linked).")
def evaluate_cmd(
    ground_truth: str, predictions: str | None, from_format: str | None,
    read_options: tuple[str, ...], pred_format: str | None, pred_options: tuple[str, ...],
    model: str | None, tasks: tuple[str, ...], slices: tuple[str, ...], max_dets: str | None,
    output_format: str, output: str | None, overwrite: bool, media_root: str | None,
    fetch_remote_media: bool,
) -> int:  # fmt: skip
    """Score predictions against ground truth: COCO AP/AR, span, class and rating metrics.

    GROUND_TRUTH and PREDICTIONS are native datasets or files in any format `gt formats` lists
    (e.g. a COCO results file); items meet by id. Without PREDICTIONS, name the model with
    --model. Detection figures equal pycocotools' COCOeval, span figures seqeval's, class
    figures scikit-learn's. Exits 1 when the inputs cannot be scored as asked.
    """
    from ..evaluation import EvaluationInputError, evaluate

    caps = _max_dets(max_dets)
    inputs = [p for p in (ground_truth, predictions) if p is not None]
    if overwrite and not output:
        raise click.UsageError("--overwrite applies to --output FILE")
    if output:  # before scoring: a refused FILE is known at once, not after a long run
        from ..api import refuse_input_as_output
        from ..diff import check_target

        check_target(output, overwrite=overwrite, protect=inputs)
        for src in inputs:  # nor inside an input dataset folder (a file its manifest lacks)
            refuse_input_as_output(src, output)
    gt_ds = load_for_command(ground_truth, from_format, read_options)
    pred_ds = (
        load_for_command(predictions, pred_format, pred_options) if predictions is not None else None
    )
    try:
        report = evaluate(
            gt_ds, pred_ds, model=model, tasks=list(tasks) or None, by=slices, max_dets=caps,
        )  # fmt: skip
    except EvaluationInputError as exc:
        click.echo(f"error: {exc}", err=True)
        raise click.exceptions.Exit(EXIT_INVALID) from None
    if output_format == "json":
        if output:
            import orjson

            text = orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"
        else:
            echo_json(report.to_dict())
            return EXIT_OK
    elif output_format == "markdown":
        text = report.to_markdown() + "\n"
    elif output_format == "html":
        text = report.to_html(media_root=media_root, fetch_remote_media=fetch_remote_media)
    else:
        text = report.to_text() + "\n"
    if output:  # atomic, no-replace publish (see diff/_publish.py)
        from ..diff import publish

        publish(text.encode("utf-8"), output, overwrite=overwrite, protect=inputs)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
    return EXIT_OK
