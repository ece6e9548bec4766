"""`gt agreement` and `gt consensus`: measure how annotators agree; build one label per item."""

from __future__ import annotations

from typing import Any, cast

import click

from .._text import count
from ._common import (
    EXIT_INVALID,
    EXIT_OK,
    echo_json,
    format_option,
    from_option,
    load_for_command,
    message_option,
)

LEVEL_CHOICE = click.Choice(["nominal", "ordinal", "interval", "ratio"])


def _num(v: Any, digits: int = 3) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def _fig_line(name: str, fig: dict[str, Any]) -> str:
    value = _num(fig.get("value"))
    extra = f"{fig['level']}, {fig['n_units']} units, {fig['n_labels']} labels"
    line = f"  {name:<22}{value:>8}   ({extra})"
    if fig.get("reason"):
        line += f"\n  {'':<22}{'':>8}   undefined: {fig['reason']}"
    return line


def render_header(data: dict[str, Any]) -> list[str]:
    """What was compared: the label set, its types and level, and how many of each."""
    what = f"label set {data['label_set']}" if data.get("label_set") else "annotations"
    return [
        f"agreement on {what} ({', '.join(data['annotation_types'])}), level {data['level']}",
        (f"  {count(data['n_items'], 'item')} ({data['n_items_shared']} labelled by 2+ "
         f"annotators), {count(data['n_annotators'], 'annotator')}, "
         f"{count(data['n_annotations'], 'annotation')}"),
    ]


def render_agreement(data: dict[str, Any], top: int = 10) -> list[str]:
    """The agreement report as terminal lines."""
    lines = [*render_header(data), f"  unit of analysis: {data['percent_agreement']['unit']}"]
    if data.get("level_note"):
        lines.append(f"  note: {data['level_note']}")
    lines.append("")
    lines.append(_fig_line("percent agreement", data["percent_agreement"]))
    lines.append(_fig_line("Fleiss' kappa", data["fleiss_kappa"]))
    lines.append(_fig_line("Krippendorff's alpha", data["krippendorff_alpha"]))
    ck = data["cohen_kappa"]
    weights = f", {ck['weights']} weights" if ck.get("weights") else ""
    lines.append(f"  Cohen's kappa ({ck['level']}{weights}), mean {_num(ck.get('mean'))}")
    for p in ck["pairs"][:top]:
        a, b = p["annotators"]
        note = f"  undefined: {p['reason']}" if p.get("reason") else ""
        lines.append(f"    {a} ~ {b}: {_num(p['value'])}  ({p['n_units']} units){note}")
    if len(ck["pairs"]) > top:
        lines.append(f"    ... {len(ck['pairs']) - top} more pairs (--format json lists all)")
    for key in ("span_f1", "region_f1"):
        if key in data:
            f1 = data[key]
            exact = f", exact F1 {_num(f1['exact_f1'])}" if "exact_f1" in f1 else ""
            lines.append(
                f"  matched F1 {_num(f1['f1'])}{exact}, mean IoU {_num(f1['mean_iou'])}"
                f"  ({f1['matching']})"
            )
    lines.append("")
    lines.append("per label:")
    for name, row in list(data["per_label"].items())[: top * 3]:
        if "f1" in row:
            lines.append(f"  {name:<20} F1 {_num(row['f1'])}  mean IoU {_num(row['mean_iou'])}")
        else:
            alpha = row["krippendorff_alpha"]["value"]
            lines.append(
                f"  {name:<20} {row['n_labels']:>6} labels  specific agreement "
                f"{_num(row['specific_agreement'])}  alpha (vs rest) {_num(alpha)}"
            )
    lines.append("per annotator:")
    for who, row in data["per_annotator"].items():
        if "f1_with_others" in row:
            lines.append(
                f"  {who:<20} {row['n_annotations']:>6} annotations  F1 with others "
                f"{_num(row['f1_with_others'])}  with consensus {_num(row['f1_with_consensus'])}"
            )
        else:
            lines.append(
                f"  {who:<20} {row['n_labels']:>6} labels  agrees with others "
                f"{_num(row['agreement_with_others'])}  with consensus "
                f"{_num(row['agreement_with_consensus'])}  mean kappa "
                f"{_num(row['mean_cohen_kappa'])}"
            )
    disputed = data["disputed_items"]
    lines.append(f"disputed items (most disputed first, {len(disputed)} listed):")
    for row in disputed[:top]:
        labels = row.get("labels") or row.get("votes") or {}
        shown = ", ".join(f"{k}={v}" for k, v in labels.items())
        tail = f"  [{shown}]" if shown else ""
        lines.append(f"  {row['item_id']:<24} disagreement {_num(row['disagreement'])}{tail}")
    return lines


@click.command("agreement")
@click.argument("path")
@from_option
@click.option(
    "--label-set",
    "label_set",
    metavar="NAME",
    default=None,
    help="Label set to analyse (needed when several are annotated).",
)
@click.option(
    "--type",
    "annotation_type",
    metavar="TYPE",
    default=None,
    help="Only this annotation type (classification, rating, span, bbox, ...).",
)
@click.option(
    "--level",
    type=LEVEL_CHOICE,
    default=None,
    help="Level of measurement; default: the label set's declared scale.",
)
@click.option(
    "--iou",
    "iou_threshold",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="IoU (keypoints: OKS) at which regions match.",
)
@click.option(
    "--max-disputed",
    type=click.IntRange(0),
    default=100,
    show_default=True,
    help="How many disputed items to list.",
)
@click.option(
    "--fail-under",
    type=float,
    default=None,
    metavar="ALPHA",
    help="Exit 1 when Krippendorff's alpha is below ALPHA or undefined (a CI gate; "
    "Krippendorff suggests 0.8, and 0.667 for tentative conclusions).",
)
@format_option("text", "json")
def agreement_cmd(
    path: str, from_format: str | None, read_options: tuple[str, ...], label_set: str | None,
    annotation_type: str | None, level: Any, iou_threshold: float, max_disputed: int,
    fail_under: float | None, output_format: str,
) -> int:  # fmt: skip
    """Inter-annotator agreement: kappas, alpha, matched F1, disputed items.

    PATH is a native dataset or a file in any format `gt formats` lists. Every figure states its
    unit of analysis and level. Exits 1 when no two annotators labelled the same item.
    """
    from ..quality import AgreementDataError, agreement

    ds = load_for_command(path, from_format, read_options)
    try:
        report = agreement(
            ds, label_set, level, annotation_type=annotation_type, iou_threshold=iou_threshold,
            max_disputed=max_disputed,
        )  # fmt: skip
    except AgreementDataError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_INVALID
    if output_format == "json":
        echo_json(report.to_dict())
    elif not report.ok:
        # one annotator, or no item two of them labelled: say so, not a table of n/a
        for line in render_header(report.data):
            click.echo(line)
        for i in report.issues:
            click.echo(f"{i.severity}: {i.message}", err=True)
            if i.hint:
                click.echo(f"  hint: {i.hint}", err=True)
    else:
        for line in render_agreement(report.data):
            click.echo(line)
        for i in report.issues:
            click.echo(str(i), err=True)
    if not report.ok:
        return EXIT_INVALID
    if fail_under is not None:
        alpha = report["krippendorff_alpha"]["value"]
        if alpha is None or alpha < fail_under:
            shown = "undefined" if alpha is None else f"{alpha:.3f}"
            click.echo(f"gate failed: Krippendorff's alpha {shown} < {fail_under}", err=True)
            return EXIT_INVALID
    return EXIT_OK


def _parse_weights(values: tuple[str, ...]) -> dict[str, float] | None:
    if not values:
        return None
    out: dict[str, float] = {}
    for raw in values:
        who, sep, w = raw.rpartition("=")
        try:
            out[who] = float(w)
        except ValueError:
            who = ""
        if not sep or not who:
            raise click.BadParameter(f"{raw!r} is not ANNOTATOR=WEIGHT", param_hint="--weight")
    return out


@click.command("consensus")
@click.argument("path")
@click.argument("dst")
@click.option(
    "--method",
    type=click.Choice(["majority", "weighted", "dawid-skene"]),
    default="majority",
    show_default=True,
    help="How to resolve the labels.",
)
@from_option
@click.option(
    "--label-set",
    "label_set",
    metavar="NAME",
    default=None,
    help="Label set to resolve (needed when several are annotated).",
)
@click.option(
    "--type", "annotation_type", metavar="TYPE", default=None, help="Only this annotation type."
)
@click.option(
    "--weight",
    "weights",
    multiple=True,
    metavar="ANNOTATOR=W",
    help="Annotator weight for --method weighted (repeatable); estimated if omitted.",
)
@click.option(
    "--iou",
    "iou_threshold",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="IoU (keypoints: OKS) at which regions are one object.",
)
@click.option(
    "--min-agreement",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="Flag needs_review when the winner's share is at or below this.",
)
@click.option(
    "--encoding",
    type=click.Choice(["jsonl", "parquet"]),
    default="jsonl",
    show_default=True,
    help="Encoding of the written dataset.",
)
@click.option("--overwrite", is_flag=True, help="Replace DST if it exists.")
@message_option
@format_option("text", "json")
def consensus_cmd(
    path: str, dst: str, method: Any, from_format: str | None, read_options: tuple[str, ...],
    label_set: str | None, annotation_type: str | None, weights: tuple[str, ...],
    iou_threshold: float, min_agreement: float, encoding: str, overwrite: bool,
    message: str | None, output_format: str,
) -> int:  # fmt: skip
    """Add one consensus annotation per item (per matched region) and write DST.

    Every original annotation is kept; consensus annotations are made by an annotator of kind
    `consensus` and list their sources, votes and agreement. Ties and low agreement are flagged
    `needs_review` for adjudication.
    """
    from ..api import refuse_input_as_output, save
    from ..lineage import consensus_lineage
    from ..quality import AgreementDataError, build_consensus, with_consensus

    refuse_input_as_output(path, dst)
    ds = load_for_command(path, from_format, read_options)
    try:
        res = build_consensus(
            ds, method, label_set=label_set, annotation_type=annotation_type,
            weights=_parse_weights(weights), iou_threshold=iou_threshold,
            min_agreement=min_agreement,
        )  # fmt: skip
    except AgreementDataError as exc:
        click.echo(f"error: {exc}", err=True)
        return EXIT_INVALID
    out = with_consensus(ds, res)
    out.lineage = consensus_lineage(ds, res, method=method, label_set=label_set,
                                    annotation_type=annotation_type,
                                    min_agreement=min_agreement, iou_threshold=iou_threshold,
                                    message=message)
    save(out, dst, encoding=encoding, overwrite=overwrite)
    summary = {
        "source": path,
        "destination": dst,
        "annotator": res.annotator.id,
        **res.details,
        "issues": [i.to_dict() for i in res.issues],
    }
    if output_format == "json":
        echo_json(summary)
        return EXIT_OK
    n, review = cast(int, res.details["consensus_annotations"]), res.details["needs_review"]
    click.echo(
        f"{path} -> {dst}: {count(n, 'consensus annotation')} ({method} vote, annotator "
        f"{res.annotator.id}); {review} flagged needs_review"
    )
    for key in ("weights",):
        if key in res.details:
            shown = ", ".join(f"{k}={v:.3f}" for k, v in res.details[key].items())  # type: ignore[attr-defined]
            click.echo(f"annotator weights: {shown}")
    if "dawid_skene" in res.details:
        d: dict[str, Any] = res.details["dawid_skene"]  # type: ignore[assignment]
        click.echo(
            f"dawid-skene: {d['iterations']} iterations, "
            f"{'converged' if d['converged'] else 'NOT converged'}; estimated accuracy: "
            + ", ".join(f"{k}={v:.3f}" for k, v in d["accuracy"].items())
        )
    for i in res.issues:
        click.echo(str(i), err=True)
    return EXIT_OK
