"""`gt adjudicate`: replay a decisions log into a new, adjudicated version of a dataset."""

from __future__ import annotations

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
@format_option("text", "json")
def adjudicate_cmd(path: str, decisions: str, dst: str, from_format: str | None,
                   read_options: tuple[str, ...], encoding: str, overwrite: bool,
                   output_format: str) -> int:
    """Apply the decisions log DECISIONS (JSONL, as `gt review` writes it) to PATH; write DST.

    DST holds every original annotation plus one adjudication per decision, made by an
    annotator of kind `adjudicator` and linked to the annotations it accepts or overrules;
    its manifest names PATH's fingerprint as parent. A later decision on the same item and
    annotations replaces an earlier one. Replaying the same log gives the same fingerprint.
    Exit 1 when a decision cannot be applied (each problem is listed with its line).
    """
    from ..adjudication import build_adjudication
    from ..api import save
    from ..errors import DecisionLogError

    ds = load_for_command(path, from_format, read_options)
    try:
        res = build_adjudication(ds, decisions)
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
    summary = {"ok": True, "source": path, "decisions_log": decisions, "destination": dst,
               "fingerprint": fp, **res.details, "issues": [i.to_dict() for i in res.issues]}
    if output_format == "json":
        echo_json(summary)
        return EXIT_OK
    d = res.details
    by = ", ".join(f"{k} {v}" for k, v in sorted(d["by_decision"].items())) or "none"
    click.echo(f"{path} -> {dst}: {d['applied']} decision(s) applied ({d['superseded']} "
               f"superseded) on {d['items']} item(s); {d['adjudications']} adjudication(s): {by}")
    click.echo(f"parent {d['parent']}\nfingerprint {fp}")
    for i in res.issues:
        click.echo(str(i), err=True)
    return EXIT_OK
