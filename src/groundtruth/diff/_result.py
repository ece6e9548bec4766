"""`DatasetDiff`: the result of a diff, whose `to_dict()` is exactly the JSON output."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..issues import Issue
from ._changes import ChangeList
from ._options import DiffOptions

DIFF_FORMAT_VERSION = "1.0"
"""Version of the diff JSON document (`spec/v1.0/schema/diff.schema.json`)."""


@dataclass
class DatasetDiff:
    """What changed between two versions of a dataset.

    Attributes:
        old, new: what each side is (source, format, name, version, spec version, fingerprint,
            item and annotation counts).
        options: the options the diff ran with.
        match_by: how annotations were matched (`id` or `content`) and why.
        summary: counts per kind of change for items and annotations, per annotation type,
            label and annotator, and the label confusion table.
        taxonomy: labels and label sets added, removed and (probably) renamed.
        issues: what the diff noticed about the data (taxonomy changed, kind changed...).
        item_changes, annotation_changes: one record per added, removed or changed item and
            annotation (at most `options.max_changes` each).
    """

    old: dict[str, Any]
    new: dict[str, Any]
    options: DiffOptions
    match_by: dict[str, Any]
    summary: dict[str, Any]
    taxonomy: dict[str, Any]
    issues: list[Issue] = field(default_factory=list)
    item_changes: ChangeList = field(default_factory=ChangeList)
    annotation_changes: ChangeList = field(default_factory=ChangeList)
    truncated: bool = False

    @property
    def identical(self) -> bool:
        """No item and no annotation was added, removed or changed."""
        s = self.summary
        return not any(s[k][c] for k in ("items", "annotations")
                       for c in ("added", "removed", "changed"))

    def to_dict(self) -> dict[str, Any]:
        """The diff as JSON values: the document `gt diff --format json` prints."""
        return {
            **self.head(),
            "changes": {
                "items": list(self.item_changes),
                "annotations": list(self.annotation_changes),
                "truncated": self.truncated,
            },
        }

    def head(self) -> dict[str, Any]:
        """Everything but the change lists (cheap: no change record is decoded)."""
        return {
            "groundtruth_diff": DIFF_FORMAT_VERSION,
            "old": self.old,
            "new": self.new,
            "options": self.options.to_dict(),
            "match_by": self.match_by,
            "summary": self.summary,
            "taxonomy": self.taxonomy,
            "issues": [i.to_dict() for i in self.issues],
        }

    def render(self, format: str = "text", **options: Any) -> str:
        """The diff as `text`, `json`, `markdown` or `html` (see `groundtruth.diff` renderers)."""
        from . import render

        return render(self, format, **options)

    def __str__(self) -> str:
        return self.render("text")

    def __repr__(self) -> str:
        s = self.summary
        return (f"DatasetDiff(items={_short(s['items'])}, "
                f"annotations={_short(s['annotations'])})")


def _short(counts: dict[str, Any]) -> str:
    return "+{added} -{removed} ~{changed} ={unchanged}".format(**counts)
