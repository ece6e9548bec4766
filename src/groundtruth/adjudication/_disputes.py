"""Which items annotators dispute, ranked as `gt agreement` ranks them (most disputed first).

Each label set with annotations (and, for a label set mixing kinds, each annotation type) is
measured with `groundtruth.agreement`; an item's rank is its highest disagreement score over
them, then how many labels it drew, then its id. Label sets agreement cannot measure (one
annotator, nothing shared) contribute no disputes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..dataset import Dataset
    from ..models import AnnotationBase


@dataclass
class Dispute:
    """One disputed item: its score, and what was disputed."""

    item_id: str
    disagreement: float
    n_labels: int
    label_sets: list[str] = field(default_factory=list)
    labels: set[str] = field(default_factory=set)  # every label involved
    tie: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"item_id": self.item_id, "disagreement": self.disagreement,
                "n_labels": self.n_labels, "label_sets": self.label_sets,
                "labels": sorted(self.labels), "tie": self.tie}


def _groups(ds: Dataset) -> list[tuple[str | None, str | None]]:
    """(label set, annotation type) pairs to measure: one per label set, split by type when
    the set is used by several kinds of annotation."""
    by_set: dict[str | None, set[str]] = defaultdict(set)
    names = {ls.name for ls in ds.manifest.taxonomy.label_sets}
    owner: dict[str, str] = {}
    for ls in ds.manifest.taxonomy.label_sets:
        for lab in ls.labels:
            owner.setdefault(lab.name, ls.name)
    for a in ds.annotations:
        if a.label is None or a.adjudication is not None or a.consensus is not None:
            continue
        lset = a.label_set if a.label_set in names else owner.get(a.label)
        by_set[lset].add(a.type)  # type: ignore[attr-defined]
    out: list[tuple[str | None, str | None]] = []
    for lset, types in sorted(by_set.items(), key=lambda kv: str(kv[0])):
        if len(types) == 1:
            out.append((lset, None))
        else:
            out.extend((lset, t) for t in sorted(types))
    return out


def find_disputes(
    ds: Dataset, *, label_set: str | None = None, annotation_type: str | None = None,
    reports: dict[str, dict[str, Any]] | None = None,
) -> list[Dispute]:  # fmt: skip
    """Every disputed item of `ds`, most disputed first (see the module documentation).

    `reports`, when given, receives each agreement report measured, by label set (or
    `label set/type`), so a caller needs not measure again.
    """
    from ..quality import AgreementInputError, agreement
    from ..quality._gc import paused_gc

    with paused_gc():
        return _find(ds, label_set, annotation_type, reports, agreement, AgreementInputError)


def _find(
    ds: Dataset, label_set: str | None, annotation_type: str | None,
    reports: dict[str, dict[str, Any]] | None, agreement: Any, input_error: type[Exception],
) -> list[Dispute]:  # fmt: skip
    groups = [(label_set, annotation_type)] if label_set or annotation_type else _groups(ds)
    by_item: dict[str, Dispute] = {}
    anns = ds.annotations_by_item()
    limit = max(len(ds.items), 1)
    for lset, atype in groups:
        try:
            report = agreement(ds, lset, annotation_type=atype, max_disputed=limit).to_dict()
        except input_error:
            if label_set or annotation_type:
                raise
            continue
        if reports is not None:
            reports[str(lset) + (f"/{atype}" if atype else "")] = report
        for row in report.get("disputed_items") or []:
            item_id = row["item_id"]
            d = by_item.get(item_id)
            score = float(row["disagreement"])
            n = int(row.get("n_labels", row.get("annotators", 0)))
            if d is None:
                d = by_item[item_id] = Dispute(item_id, score, n)
            elif (score, n) > (d.disagreement, d.n_labels):
                d.disagreement, d.n_labels = score, n
            if lset is not None and lset not in d.label_sets:
                d.label_sets.append(lset)
            d.tie = d.tie or bool(row.get("tie"))
            d.labels |= _involved(row, anns.get(item_id, []), lset)
    return sorted(by_item.values(), key=lambda d: (-d.disagreement, -d.n_labels, d.item_id))


def _involved(row: dict[str, Any], anns: list[AnnotationBase], lset: str | None) -> set[str]:
    if "label" in row:  # a multi-label set, one label at a time: values are present/absent
        return {str(row["label"])}
    if row.get("labels"):
        return {str(v) for v in row["labels"].values()}
    return {a.label for a in anns if a.label is not None and a.adjudication is None
            and a.consensus is None and (lset is None or a.label_set in (None, lset))}
