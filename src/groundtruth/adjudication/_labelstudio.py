"""Adjudicating in Label Studio: disputed items out as tasks, reviewed tasks back as decisions.

Out (`gt convert DATASET tasks.json --to labelstudio -w disputes=true`): one task per disputed
item (ranked as `gt agreement` ranks them), with each annotator's version as a prediction whose
`model_version` is the annotator's id, so the reviewer sees them side by side and can accept
one into an annotation. The task's `data.groundtruth` records the item id and which annotation
ids each version holds: Label Studio keeps task data through import and export, so the link
back to the sources survives the round trip.

Back (`gt adjudicate DATASET reviewed.json OUT`): each (not cancelled) annotation a reviewer
made on such a task becomes a decision about the item:

- the same answer as one annotator's version (same labels, span boundaries, choices; regions
  matched at IoU >= 0.98): `accepted`, that version accepted, the others overruled;
- that version with every label changed to one other label: `relabelled`;
- anything else: `edited`, with the reviewer's annotations as the result and every version in
  `sources`.

The reviewer is the annotation's `completed_by` (pseudonymised like every Label Studio read),
the time its `updated_at` (else `created_at`), the decision id `ls-<task>-<annotation>`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..errors import ConversionError, DecisionLogError
from ..issues import Issue, define, issue
from ..models import DecisionRecord

if TYPE_CHECKING:
    from ..dataset import Dataset
    from ..models import AnnotationBase

NOT_DISPUTES = define(
    "labelstudio.review.not-disputes", "error",
    "A task of a reviewed export has no `data.groundtruth` link to a disputed item")
UNREVIEWED = define(
    "labelstudio.review.unreviewed", "info",
    "A disputed task has no reviewer annotation (or only cancelled ones): no decision")

LINK_KEY = "groundtruth"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DERIVED = ("consensus", "adjudicator")
_RESULT_FIELDS = ("id", "item_id", "annotator", "status", "created", "confidence", "sources",
                  "extensions", "adjudication", "consensus", "guideline")


def disputes_dataset(ds: Dataset) -> Dataset:
    """The disputed items of `ds`, each annotator's version ready to be a prediction."""
    from ..dataset import Dataset as _Dataset
    from ..models import Annotator
    from ._disputes import find_disputes

    kinds = {a.id: a.kind for a in ds.manifest.annotators}
    by_item = ds.annotations_by_item()
    items = {it.id: it for it in ds.items}
    out_items, out_anns = [], []
    versions_of: set[str] = set()
    for rank, d in enumerate(find_disputes(ds), start=1):
        item = items[d.item_id]
        anns = [a for a in by_item.get(d.item_id, [])
                if a.annotator and kinds.get(a.annotator) not in _DERIVED
                and a.consensus is None and a.adjudication is None]
        versions: dict[str, list[str]] = defaultdict(list)
        for a in anns:
            versions[str(a.annotator)].append(a.id)
            # without Label Studio bookkeeping each version becomes a new prediction,
            # `model_version` = the annotator's id
            update: dict[str, Any] = {"extensions": {}, "status": None}
            if a.type == "span" and item.text is not None and a.text is None:  # type: ignore[attr-defined]
                update["text"] = item.text[a.start:a.end]  # type: ignore[attr-defined]
            out_anns.append(a.model_copy(update=update))
        versions_of |= set(versions)
        link = {"item_id": d.item_id, "rank": rank, "disagreement": d.disagreement,
                "versions": dict(versions)}
        ls = dict(item.extensions.get("labelstudio", {}))
        ls.update(annotations=[], groups=["annotations", "predictions"], task={})
        ls.pop("no_id", None)
        out_items.append(item.model_copy(update={
            "metadata": {**item.metadata, LINK_KEY: link},
            "extensions": {**item.extensions, "labelstudio": ls}}))
    annotators = [Annotator(id=a, kind="model", name=a) for a in sorted(versions_of)]
    manifest = ds.manifest.model_copy(update={"annotators": annotators})
    return _Dataset(manifest, out_items, out_anns)


SAME_REGION = 0.98
"""A reviewer's region is an annotator's (not an edit of it) at IoU/OKS >= this: Label
Studio's percent coordinates round-trip pixels only to float precision."""


def _same(a: list[AnnotationBase], b: list[AnnotationBase]) -> bool:
    from ._guideline import agrees

    return agrees(a, b, match=SAME_REGION) and agrees(b, a, match=SAME_REGION)


def _relabelled(version: list[AnnotationBase], mine: list[AnnotationBase]) -> str | None:
    labels = {a.label for a in mine}
    if len(labels) != 1 or len(version) != len(mine):
        return None
    (label,) = labels
    if label is None or all(a.label == label for a in version):
        return None
    moved = [a.model_copy(update={"label": label}) for a in version]
    return label if _same(moved, mine) else None


def decisions_from_labelstudio(ds: Dataset, path: str) -> tuple[list[DecisionRecord],
                                                                list[Issue]]:
    """Decisions from a reviewed Label Studio export of `ds`'s disputed items."""
    from ..api import load

    reviewed = load(path, format="labelstudio")
    problems = [i for i in reviewed.issues if i.severity == "error"]
    if problems:
        raise DecisionLogError(problems)
    kinds = {a.id: a.kind for a in reviewed.manifest.annotators}
    by_id = {a.id: a for a in ds.annotations}
    mine_by_item = reviewed.annotations_by_item()
    decisions: list[DecisionRecord] = []
    notes: list[Issue] = []
    bad: list[Issue] = []
    for item in reviewed.items:
        link = item.metadata.get(LINK_KEY)
        if not isinstance(link, dict) or not isinstance(link.get("versions"), dict):
            bad.append(issue(NOT_DISPUTES, f"task {item.id} has no data.{LINK_KEY}: it was not "
                             "written by `-w disputes=true`", file=path, record_id=item.id,
                             hint="export the disputed items with gt convert DATASET "
                                  "tasks.json --to labelstudio -w disputes=true"))
            continue
        item_id = str(link.get("item_id"))
        versions = {str(who): [str(x) for x in ids] for who, ids in link["versions"].items()}
        everyone = [x for ids in versions.values() for x in ids]
        per_review: dict[str, list[AnnotationBase]] = defaultdict(list)
        for a in mine_by_item.get(item.id, []):
            if kinds.get(a.annotator or "") == "model" or a.status == "cancelled":
                continue
            per_review[str(a.extensions.get("labelstudio", {}).get("ann"))].append(a)
        if not per_review:
            notes.append(issue(UNREVIEWED, f"task {item.id} (item {item_id}) was not reviewed",
                               file=path, record_id=item.id))
            continue
        entries = item.extensions.get("labelstudio", {}).get("annotations", [])
        for index, mine in per_review.items():
            entry = entries[int(index)] if index.isdigit() and int(index) < len(entries) else {}
            fields = entry.get("fields", {}) if isinstance(entry, dict) else {}
            decisions.append(_decision(item.id, item_id, fields, mine, versions, everyone,
                                       by_id))
    if bad:
        raise DecisionLogError(bad)
    decisions.sort(key=lambda d: (d.time, d.id))
    return decisions, notes


def _decision(task: str, item_id: str, fields: dict[str, Any], mine: list[AnnotationBase],
              versions: dict[str, list[str]], everyone: list[str],
              by_id: dict[str, AnnotationBase]) -> DecisionRecord:
    from ..converters._jsonio import parse_time

    reviewer = mine[0].annotator or "labelstudio-reviewer"
    when = parse_time(fields.get("updated_at")) or parse_time(fields.get("created_at")) or _EPOCH
    base: dict[str, Any] = {"id": f"ls-{task}-{fields.get('id', mine[0].id)}",
                            "item_id": item_id, "reviewer": reviewer, "time": when}
    for ids in versions.values():
        version = [by_id[x] for x in ids if x in by_id]
        if version and _same(version, mine):
            return DecisionRecord.model_validate({
                **base, "decision": "accepted", "accepted": ids,
                "overruled": [x for x in everyone if x not in ids]}, strict=False)
    for ids in versions.values():
        version = [by_id[x] for x in ids if x in by_id]
        label = _relabelled(version, mine) if version else None
        if label is not None:
            return DecisionRecord.model_validate({
                **base, "decision": "relabelled", "accepted": ids, "label": label,
                "overruled": [x for x in everyone if x not in ids]}, strict=False)
    bodies = []
    for a in mine:
        body = {k: v for k, v in a.to_json_dict().items() if k not in _RESULT_FIELDS}
        bodies.append(body)
    return DecisionRecord.model_validate({**base, "decision": "edited", "sources": everyone,
                                          "annotations": bodies}, strict=False)


def is_labelstudio_export(path: str) -> bool:
    """Whether a decisions file is a Label Studio export (a JSON array) rather than JSONL."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096).lstrip()
    except OSError as exc:
        raise ConversionError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return head.startswith(b"[")
