"""Small builders for datasets where several annotators labelled the same items."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from groundtruth import Dataset
from groundtruth.models import (
    Annotator,
    Classification,
    Item,
    Label,
    LabelSet,
    Manifest,
    Taxonomy,
)


def label_set(name: str, labels: Sequence[str], **kw: Any) -> LabelSet:
    values = kw.pop("values", None)
    return LabelSet(
        name=name,
        labels=[
            Label(name=n, value=None if values is None else values[i]) for i, n in enumerate(labels)
        ],
        **kw,
    )


def manifest(sets: Sequence[LabelSet], annotators: Sequence[str]) -> Manifest:
    return Manifest(
        name="t",
        taxonomy=Taxonomy(label_sets=list(sets)),
        annotators=[Annotator(id=a, kind="human") for a in annotators],
    )


def classification_dataset(
    table: dict[str, dict[str, str | None]],
    sets: Sequence[LabelSet] = (),
    kind: str = "text",
) -> Dataset:
    """`table[item][annotator] = label` (None: not labelled)."""
    annotators = sorted({a for row in table.values() for a in row})
    items = [Item(id=i, kind="text", text=f"text {i}") for i in table]
    anns = []
    for item_id, row in table.items():
        for who, lab in row.items():
            if lab is None:
                continue
            anns.append(
                Classification(id=f"{item_id}-{who}", item_id=item_id, label=lab, annotator=who)
            )
    return Dataset(manifest(sets, annotators), items, anns)
