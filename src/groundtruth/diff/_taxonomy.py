"""Taxonomy changes: label sets and labels added, removed, or renamed between two versions.

A rename is inferred, not declared: a label only the old side has, whose matched annotations
(nearly) all carry one label only the new side has. With a `label_map` the user declares it,
and the old side's labels are translated before matching.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..models import Manifest

RENAME_SHARE = 0.8
"""Share of an old label's matched annotations that must carry the new label to call it a rename."""


def _declared(manifest: Manifest, label_map: dict[str, str]) -> set[tuple[str, str]]:
    return {(s.name, label_map.get(lab.name, lab.name))
            for s in manifest.taxonomy.label_sets for lab in s.labels}


def compare_taxonomies(
    old: Manifest, new: Manifest, used_old: set[str], used_new: set[str],
    confusion: Counter[tuple[str | None, str | None]], label_map: dict[str, str],
) -> dict[str, Any]:
    """Label sets and labels added/removed (declared in the manifests or used), and renames."""
    sets_old = {s.name for s in old.taxonomy.label_sets}
    sets_new = {s.name for s in new.taxonomy.label_sets}
    decl_old, decl_new = _declared(old, label_map), _declared(new, label_map)
    names_old = {n for _, n in decl_old} | used_old
    names_new = {n for _, n in decl_new} | used_new
    gone, came = names_old - names_new, names_new - names_old
    renamed: list[dict[str, Any]] = []
    for old_label in sorted(gone):
        matched = {new: c for (o, new), c in confusion.items() if o == old_label and new}
        total = sum(matched.values())
        if not total:
            continue
        best, count = max(matched.items(), key=lambda kv: (kv[1], kv[0]))
        if best in came and count / total >= RENAME_SHARE:
            renamed.append({"old": old_label, "new": best, "annotations": count,
                            "share": round(count / total, 4)})
    renamed_old = {r["old"] for r in renamed}
    renamed_new = {r["new"] for r in renamed}
    return {
        "changed": bool(sets_old ^ sets_new or gone or came),
        "label_sets": {"added": sorted(sets_new - sets_old), "removed": sorted(sets_old - sets_new)},
        "labels": {
            "added": sorted(came - renamed_new),
            "removed": sorted(gone - renamed_old),
            "renamed": renamed,
        },
        "label_map": dict(sorted(label_map.items())),
    }
