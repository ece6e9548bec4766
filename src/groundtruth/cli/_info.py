"""`gt info`: what is in a dataset."""

from __future__ import annotations

from typing import Any

import click

from .._inert import plain
from .._text import count
from ._common import (
    check_source,
    echo_json,
    format_option,
    from_option,
    load_for_command,
    verify_option,
)
from ._engine import engine_options


@click.command("info")
@click.argument("path")
@from_option
@format_option("text", "json")
@engine_options
@verify_option
def info_cmd(path: str, from_format: str | None, read_options: tuple[str, ...],
             output_format: str, engine: str | None, workers: int | None) -> None:
    """Counts per item kind, annotation type, label, annotator and split; the fingerprint.

    PATH is a native dataset (folder, .zip, or URL) or a file in any format `gt formats` lists.
    A native Parquet dataset is counted from the label/type/annotator/kind/split columns only,
    part by part (on --engine dask, in parallel on the cluster), never loaded whole.
    """
    check_source(path, from_format)
    data = _native_parquet_info(path, engine or "local", workers) if not from_format else None
    if data is None:
        if engine not in (None, "local"):
            raise click.UsageError("--engine dask needs a native Parquet dataset; convert it "
                                   "first: gt convert PATH OUT --encoding parquet")
        ds = load_for_command(path, from_format, read_options)
        data = {
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
    click.echo(plain(f"{data['name']}  ({data['format']}, spec {data['spec_version']})"))
    click.echo(f"fingerprint      {data['fingerprint']}")
    click.echo(f"items            {data['items']}")
    objects = ""
    if data.get("parts"):
        objects = (f" in {count(data['objects'], 'object')} ({data['parts']} "
                   f"{'is a part' if data['parts'] == 1 else 'are parts'} of another "
                   "annotation, e.g. the outline of a keypoints object)")
    if not data["annotations"] and any(data.get("token_tags", {}).values()):
        objects = " (the labels are token tags, counted below)"
    click.echo(f"annotations      {data['annotations']}{objects}")
    for key in ("item_kinds", "splits", "annotation_types", "labels", "annotators", "statuses"):
        _counts(key.replace("_", " "), data[key])
    if data.get("tokens"):
        click.echo(f"tokens           {data['tokens']}")
        for col, tags in data["token_tags"].items():
            _counts(f"  {col}", tags)
    if data["read_issues"]:
        click.echo(f"reading reported {count(data['read_issues'], 'issue')}: run `gt validate` to see them")


def _counts(title: str, counts: dict[str, int]) -> None:
    """One line: the most frequent keys first, with their counts."""
    if not counts:
        return
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{k} {v}" for k, v in top[:12])
    more = f", ... ({len(top) - 12} more)" if len(top) > 12 else ""
    click.echo(plain(f"{title:<17}{shown}{more}"))  # labels and names come from the data


def _native_parquet_info(path: str, engine: str, workers: int | None) -> dict[str, Any] | None:
    """The fast path: a native Parquet dataset with a fingerprint in its manifest is counted
    column by column; None when the path is anything else (then the dataset is loaded)."""
    from .. import engine as gte
    from ..io._native import is_native, open_native
    from ..io._remote import is_parquet

    if not is_native(path):
        return None
    src = open_native(path)
    if not is_parquet(src) or not src.manifest.fingerprint:
        return None
    stats = gte.stats(src, engine=engine, workers=workers)
    m = src.manifest
    return {
        "path": path,
        "format": "groundtruth",
        "name": m.name,
        "spec_version": m.groundtruth,
        "version": m.version,
        # parts were checked against the manifest's sizes when opened; `gt validate` (or
        # groundtruth.engine.fingerprint) recomputes it from the data
        "fingerprint": m.fingerprint,
        **stats,
        "label_sets": [s.name for s in m.taxonomy.label_sets],
        "read_issues": 0,
    }
