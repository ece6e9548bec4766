"""`gt info`: what is in a dataset."""

from __future__ import annotations

from typing import Any

import click

from ._common import echo_json, format_option, from_option, load_for_command


@click.command("info")
@click.argument("path")
@from_option
@format_option("text", "json")
def info_cmd(path: str, from_format: str | None, read_options: tuple[str, ...],
             output_format: str) -> None:
    """Counts per item kind, annotation type, label, annotator and split; the fingerprint.

    PATH is a native dataset (folder, .zip, or URL) or a file in any format `gt formats` lists.
    """
    ds = load_for_command(path, from_format, read_options)
    data: dict[str, Any] = {
        "path": path,
        "format": ds.source_format,
        "name": ds.manifest.name,
        "spec_version": ds.manifest.groundtruth,
        "version": ds.manifest.version,
        "fingerprint": ds.fingerprint(),
        **ds.stats(),
        "label_sets": [s.name for s in ds.manifest.taxonomy.label_sets],
        "read_issues": len(ds.issues),
    }
    if output_format == "json":
        echo_json(data)
        return
    click.echo(f"{data['name']}  ({data['format']}, spec {data['spec_version']})")
    click.echo(f"fingerprint      {data['fingerprint']}")
    click.echo(f"items            {data['items']}")
    click.echo(f"annotations      {data['annotations']}")
    for key in ("item_kinds", "splits", "annotation_types", "labels", "annotators", "statuses"):
        counts: dict[str, int] = data[key]
        if not counts:
            continue
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ", ".join(f"{k} {v}" for k, v in top[:12])
        more = f", ... ({len(top) - 12} more)" if len(top) > 12 else ""
        click.echo(f"{key.replace('_', ' '):<13}{shown}{more}")
    if ds.issues:
        click.echo(f"reading reported {len(ds.issues)} issue(s): run `gt validate` to see them")
