"""`gt adjudicate`: replay a decisions log into a new, adjudicated version of a dataset."""

from __future__ import annotations

import os
from typing import Any

import click

from ._common import EXIT_INVALID, EXIT_OK, echo_json, format_option, from_option, load_for_command


@click.command("adjudicate")
@click.argument("path")
@click.argument("decisions", type=click.Path(dir_okay=False))
@click.argument("dst")
@from_option
@click.option("--encoding", type=click.Choice(["jsonl", "parquet"]), default="jsonl",
              show_default=True, help="Encoding of the written dataset.")
@click.option("--overwrite", is_flag=True, help="Replace DST if it exists.")
@click.option("--decisions-format", type=click.Choice(["auto", "jsonl", "labelstudio"]),
              default="auto", show_default=True,
              help="DECISIONS is a decisions log (JSONL) or a reviewed Label Studio export of "
                   "the tasks `-w disputes=true` wrote (auto: a JSON array is the latter).")
@click.option("--save-decisions", metavar="FILE", default=None,
              help="Also write the decisions read from a Label Studio export as a log.")
@format_option("text", "json")
def adjudicate_cmd(path: str, decisions: str, dst: str, from_format: str | None,
                   read_options: tuple[str, ...], encoding: str, overwrite: bool,
                   decisions_format: str, save_decisions: str | None,
                   output_format: str) -> int:
    """Apply the decisions log DECISIONS (JSONL, as `gt review` writes it) to PATH; write DST.

    DST holds every original annotation plus one adjudication per decision, made by an
    annotator of kind `adjudicator` and linked to the annotations it accepts or overrules;
    its manifest names PATH's fingerprint as parent. A later decision on the same item and
    annotations replaces an earlier one. Replaying the same log gives the same fingerprint.
    Exit 1 when a decision cannot be applied (each problem is listed with its line).

    DECISIONS may also be a Label Studio export of the disputed items (written by `gt convert
    PATH tasks.json --to labelstudio -w disputes=true`) after review there: each reviewer
    annotation becomes a decision (accepted, relabelled or edited) linked to its sources.
    """
    from ..adjudication import build_adjudication
    from ..adjudication._labelstudio import decisions_from_labelstudio, is_labelstudio_export
    from ..adjudication._log import append_lines, decision_line
    from ..api import save
    from ..errors import DecisionLogError

    ds = load_for_command(path, from_format, read_options)
    source: Any = decisions
    notes: list[Any] = []
    try:
        if decisions_format == "labelstudio" or (
                decisions_format == "auto" and is_labelstudio_export(decisions)):
            source, notes = decisions_from_labelstudio(ds, decisions)
            if save_decisions and os.path.exists(save_decisions):
                raise click.UsageError(f"{save_decisions} exists; a decisions log is never "
                                       "rewritten: choose another file")
            if save_decisions:
                append_lines(save_decisions, [decision_line(d) for d in source])
        elif save_decisions:
            raise click.UsageError("--save-decisions is for decisions read from Label Studio")
        res = build_adjudication(ds, source)
    except DecisionLogError as exc:
        if output_format == "json":
            echo_json({"ok": False, "issues": [i.to_dict() for i in exc.issues]})
        else:
            click.echo(f"error: {len(exc.issues)} decision problem(s); nothing written", err=True)
            for i in exc.issues:
                click.echo(str(i), err=True)
        return EXIT_INVALID
    save(res.dataset, dst, encoding=encoding, overwrite=overwrite)
    fp = res.dataset.fingerprint()
    issues = [*notes, *res.issues]
    summary = {"ok": True, "source": path, "decisions_log": decisions, "destination": dst,
               "fingerprint": fp, **res.details, "issues": [i.to_dict() for i in issues]}
    if output_format == "json":
        echo_json(summary)
        return EXIT_OK
    d = res.details
    by = ", ".join(f"{k} {v}" for k, v in sorted(d["by_decision"].items())) or "none"
    click.echo(f"{path} -> {dst}: {d['applied']} decision(s) applied ({d['superseded']} "
               f"superseded) on {d['items']} item(s); {d['adjudications']} adjudication(s): {by}")
    click.echo(f"parent {d['parent']}\nfingerprint {fp}")
    for i in issues:
        click.echo(str(i), err=True)
    return EXIT_OK
