"""Publish a version: a Hugging Face dataset card and Croissant 1.1 metadata.

    import groundtruth.publish as pub
    card = pub.dataset_card("reviews/")          # Card: header (dict) and text (README.md)
    doc = pub.croissant("reviews/")              # JSON-LD dict

Both describe a *native* dataset (its manifest and the data parts it lists), so the files they
point at are the files that are there; a foreign file is converted first (`gt convert`).
"""

from __future__ import annotations

from typing import Any

from ._card import Card, CardError, build_card, hf_license, size_category, task_categories
from ._croissant import CROISSANT_1_1, build_croissant

__all__ = [
    "CROISSANT_1_1",
    "Card",
    "CardError",
    "build_card",
    "build_croissant",
    "croissant",
    "dataset_card",
    "hf_license",
    "open_for_publishing",
    "size_category",
    "task_categories",
]


def open_for_publishing(url: str, *, storage_options: dict[str, Any] | None = None) -> Any:
    """(NativeSource, Dataset) of the native dataset at `url`; a clear error for anything else."""
    from ..api import load
    from ..io import is_native, open_native

    if not is_native(url, storage_options=storage_options):
        raise CardError(
            f"{url} is not a native groundtruth dataset (no groundtruth.json there)",
            hint=f"convert it first: gt convert {url} OUT --encoding parquet, then publish OUT")
    src = open_native(url, storage_options=storage_options)
    ds = load(url, format="groundtruth", storage_options=storage_options)
    return src, ds


def _changelog(url: str) -> str | None:
    from ..versions import log, render_log

    entries = log(url)
    return render_log(entries, "markdown") if entries[0].manifest and (
        entries[0].manifest.lineage or len(entries) > 1) else None


def dataset_card(url: str, *, changelog: str | None = None,
                 storage_options: dict[str, Any] | None = None) -> Card:
    """The Hugging Face dataset card (README.md) of the native dataset at `url`; its lineage
    section is the `gt log` changelog unless `changelog` (Markdown) is given."""
    src, ds = open_for_publishing(url, storage_options=storage_options)
    if changelog is None and not storage_options:
        changelog = _changelog(url)
    return build_card(src, ds, changelog=changelog)


def croissant(url: str, *, changelog: list[str] | None = None, public_url: str | None = None,
              storage_options: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Croissant 1.1 JSON-LD (with RAI fields) of the native dataset at `url`, and the columns
    it does not describe (`kind.column`; see `groundtruth.publish._croissant`)."""
    src, ds = open_for_publishing(url, storage_options=storage_options)
    if changelog is None and not storage_options:
        changelog = _lineage_lines(url)
    return build_croissant(src, ds, changelog=changelog, url=public_url)


def _lineage_lines(url: str) -> list[str]:
    """One line per ancestor for Croissant's rai:dataCollection (the head is said apart)."""
    from ..versions import log

    lines = []
    for e in log(url)[1:]:
        d = e.to_dict()
        if not d["reachable"]:
            what = d.get("fingerprint") or f"{d.get('format')} file {d.get('source')}"
            sha = f" (sha256 {d['sha256']})" if d.get("sha256") else ""
            lines.append(f"from {what}{sha}")
        else:
            op = f"{d.get('operation')}" + (f": {d['message']}" if d.get("message") else "")
            lines.append(f"version {d['fingerprint']}" + (f" ({op})" if d.get("operation")
                                                          else ""))
    return lines
