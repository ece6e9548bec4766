"""Dataset-level checks: warnings about the whole, not about one record.

Labels never used, items with no annotation, annotators working without a guideline, the same
media twice, media leaking across splits, splits nobody declared. Each keeps one small fact per
id (a media key's first item and split), so memory grows with the number of ids only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .._text import count
from ..issues import Severity, define
from ..models import Item
from ._references import TaxonomyIndex
from ._report import At, Collector

LABEL_UNUSED = define("dataset.label-unused", "warning", "A label no annotation uses")
ITEM_UNANNOTATED = define("dataset.item-unannotated", "warning", "An item with no annotation")
NO_GUIDELINE = define(
    "dataset.annotator-without-guideline", "warning",
    "A human annotator's annotations name no guideline",
)
DUPLICATE_MEDIA = define(
    "dataset.duplicate-media", "warning", "Two items hold the same media (sha256 or uri)"
)
SPLIT_LEAK = define(
    "dataset.split-leak", "warning", "The same item or media sits in two splits"
)
SPLIT_UNDECLARED = define(
    "dataset.split-undeclared", "warning", "An item's split is not declared in the manifest"
)

_LISTED = 8  # names a summary lists before "and N more"

HINTS = {
    LABEL_UNUSED: "drop the label from the taxonomy, or check why nothing was labelled with it",
    ITEM_UNANNOTATED: "label the item, or mark it deliberately empty (e.g. status `ignored`)",
    NO_GUIDELINE: "record which guideline (id and version) the annotations were made under",
    DUPLICATE_MEDIA: "drop the duplicate item, or merge their annotations",
    SPLIT_LEAK: "keep each item and media in one split, or evaluation scores are inflated",
    SPLIT_UNDECLARED: "declare the split in the manifest's `splits`",
}


@dataclass
class DatasetChecks:
    """Gathers the facts the dataset-level warnings need, then reports them at the end."""

    out: Collector
    index: TaxonomyIndex | None
    manifest_at: At
    foreign: bool = False  # read from another tool's format (summaries are info, not warnings)
    media: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    undeclared: set[str] = field(default_factory=set)
    used_labels: set[tuple[str, str]] = field(default_factory=set)
    no_guideline: Counter[str] = field(default_factory=Counter)
    # annotator -> (where, id) of its first annotation without guideline; `where` orders
    # records across parts, so batches checked out of order still name the first one
    no_guideline_first: dict[str, tuple[tuple[int, int], str]] = field(default_factory=dict)

    def item(self, item: Item, at: At) -> None:
        self.media_and_split(item.id, item.uri, item.sha256, item.split, at)

    def media_and_split(self, rid: str, uri: str | None, sha256: str | None,
                        split: str | None, at: At) -> None:
        key = f"sha256:{sha256}" if sha256 else (f"uri:{uri}" if uri else None)
        if key is not None:
            first = self.media.get(key)
            if first is None:
                self.media[key] = (rid, split)
            else:
                self.out.emit(DUPLICATE_MEDIA,
                              f"same media as item {first[0]!r} ({key[:20]}...)"
                              if len(key) > 23 else f"same media as item {first[0]!r} ({key})",
                              at, rid, "sha256" if sha256 else "uri",
                              hint=HINTS[DUPLICATE_MEDIA])
                if first[1] != split:
                    self.split_leak(rid, first[1], split, at,
                                    what=f"media of item {first[0]!r}")
        if (split is not None and self.index is not None
                and split not in self.index.splits and split not in self.undeclared):
            self.undeclared.add(split)
            self.out.emit(SPLIT_UNDECLARED, f"split {split!r} is not in the manifest's "
                          "`splits`", at, rid, "split", hint=HINTS[SPLIT_UNDECLARED])

    def split_leak(self, rid: str, a: str | None, b: str | None, at: At, *, what: str) -> None:
        self.out.emit(SPLIT_LEAK, f"{what} is in split {a!r}, this one in {b!r}", at, rid,
                      "split", hint=HINTS[SPLIT_LEAK])

    def annotation(self, ann_id: str, annotator: str | None, has_guideline: bool,
                   where: tuple[int, int] = (0, 0)) -> None:
        """Count an annotation made without guideline; `where` = (part number, line or row)."""
        if annotator is None or has_guideline or self.index is None:
            return
        who = self.index.annotators.get(annotator)
        if who is not None and who.kind != "human":
            return  # models, rules and consensus follow no written guideline
        first = self.no_guideline_first.get(annotator)
        if first is None or where < first[0]:
            self.no_guideline_first[annotator] = (where, ann_id)
        self.no_guideline[annotator] += 1

    def finish(self, unannotated: list[tuple[str, At]]) -> None:
        self.report_unannotated(unannotated)
        self.report_totals()

    def report_unannotated(self, unannotated: list[tuple[str, At]]) -> None:
        for rid, at in unannotated:
            self.out.emit(ITEM_UNANNOTATED, "no annotation refers to this item", at, rid,
                          "id", hint=HINTS[ITEM_UNANNOTATED])

    def report_totals(self) -> None:
        """Annotators without guideline, labels never used: facts about the whole dataset.

        Each is one summary issue (located at its first annotator or label, naming the others),
        not one per annotator or label: a COCO subset leaves most of the 80 standard categories
        unused, and one line says so as well as 64. From a foreign source (a tool export that
        cannot carry guidelines, a standard category list) they are info, not warnings.
        """
        if self.index is None:
            return
        level: Severity | None = "info" if self.foreign else None
        if self.no_guideline:
            order = sorted(self.no_guideline, key=lambda a: self.no_guideline_first[a][0])
            first = order[0]
            pos = next((i for i, a in enumerate(self.index.manifest.annotators)
                        if a.id == first), None)
            path: tuple[str | int, ...] = ("annotators", pos) if pos is not None else ()
            total = sum(self.no_guideline.values())
            who = ", ".join(f"{a} ({count(self.no_guideline[a], 'annotation')}, first "
                            f"{self.no_guideline_first[a][1]})" for a in order[:_LISTED])
            more = f" and {len(order) - _LISTED} more" if len(order) > _LISTED else ""
            self.out.emit(NO_GUIDELINE,
                          f"{count(total, 'annotation')} by {count(len(order), 'annotator')} "
                          f"name no guideline: {who}{more}",
                          self.manifest_at, first, *path, hint=HINTS[NO_GUIDELINE],
                          severity=level)
        parents = {(s, lab.parent) for s, ls in self.index.sets.items()
                   for lab in ls.labels if lab.parent}
        unused: list[tuple[str, str, int, int]] = []
        n_labels = 0
        for si, ls in enumerate(self.index.manifest.taxonomy.label_sets):
            if self.index.sets.get(ls.name) is not ls:
                continue  # a duplicate definition, reported by the references layer
            n_labels += len(ls.labels)
            unused += [(ls.name, lab.name, si, li) for li, lab in enumerate(ls.labels)
                       if (ls.name, lab.name) not in self.used_labels
                       and (ls.name, lab.name) not in parents]
        if unused:
            sets = sorted({u[0] for u in unused})
            names = ", ".join(u[1] if len(sets) == 1 else f"{u[0]}:{u[1]}"
                              for u in unused[:_LISTED])
            more = f" and {len(unused) - _LISTED} more" if len(unused) > _LISTED else ""
            where = f"set {sets[0]}" if len(sets) == 1 else f"{len(sets)} label sets"
            _, lname, si, li = unused[0]
            self.out.emit(LABEL_UNUSED,
                          f"{len(unused)} of {count(n_labels, 'label')} ({where}) "
                          f"{'is' if len(unused) == 1 else 'are'} never used: {names}{more}",
                          self.manifest_at, lname, "taxonomy", "label_sets", si, "labels", li,
                          hint=HINTS[LABEL_UNUSED], severity=level)
