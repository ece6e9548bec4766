"""One line of a decisions log: what a reviewer decided about one disputed item (spec 5.5).

A decisions log is JSONL, append-only: one `DecisionRecord` per line, in the order they were
made. Replaying a log over the dataset it was made on (`groundtruth.adjudicate`) gives the
adjudicated version; a later decision on the same item and the same source annotations replaces
an earlier one, so a reviewer may change their mind by appending.
"""

from __future__ import annotations

from pydantic import Field

from ._base import Id, JsonObject, Model, Timestamp
from .annotations import Decision, GuidelineRef


class DecisionRecord(Model):
    """A reviewer's decision about (part of) one item, as written to the decisions log."""

    id: Id = Field(description="Unique in the log; names the adjudication annotations built.")
    item_id: Id = Field(description="The item decided about.")
    decision: Decision
    accepted: list[Id] = Field(
        default_factory=list,
        description="Ids of the annotations whose version is kept (`accepted`, `relabelled`; "
        "the versions `merged` or `edited` started from).",
    )
    overruled: list[Id] = Field(
        default_factory=list, description="Ids of the annotations decided against."
    )
    sources: list[Id] = Field(
        default_factory=list,
        description="Every annotation the decision considered (`accepted` and `overruled` are "
        "added when missing): e.g. all versions of an item marked `guideline-unclear`.",
    )
    label: str | None = Field(
        default=None, description="`relabelled`: the label the accepted versions get."
    )
    annotations: list[JsonObject] = Field(
        default_factory=list,
        description="`merged` and `edited`: the resulting annotations, as annotation objects "
        "without `id`, `item_id` and `annotator` (e.g. `{\"type\": \"bbox\", \"label\": "
        "\"car\", \"bbox\": [1, 2, 3, 4]}`).",
    )
    rationale: str | None = Field(default=None, description="Why; a `guideline-unclear` note.")
    guideline: GuidelineRef | None = Field(
        default=None, description="The guideline (id and version) the decision applies."
    )
    section: str | None = Field(default=None, description="Id of the guideline section cited.")
    reviewer: Id = Field(description="Who decided (a person or pseudonym).")
    time: Timestamp = Field(description="When, RFC 3339.")
