"""`adjudicate(ds, decisions)` / `build_adjudication`: replay a decisions log into a new version of the dataset.

Every original annotation stays. Each decision becomes adjudication annotations: made by an
annotator of kind `adjudicator` (one per reviewer, added to the manifest), status
`adjudicated`, `sources` = the annotations the decision considered, `adjudication` = how it was
decided. Ids and content depend only on the dataset and the log, so replaying the same log on
the same dataset gives the same fingerprint.

What each decision builds (spec section 5.5):

- `accepted`: a copy of every accepted annotation;
- `relabelled`: a copy of every accepted annotation with `label` changed;
- `merged`, `edited`: the annotations the decision states (`annotations`);
- `guideline-unclear`: one `text` annotation holding the note, with no label: a mark that the
  guideline does not settle the item, which no export takes as an answer.

A later decision on the same item and the same set of source annotations replaces an earlier
one (the reviewer changed their mind). A decision that names an unknown item or annotation, an
annotation of another item, an unknown label, guideline or section is an error: nothing is
written, and every problem is listed with its line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..errors import DecisionLogError
from ..issues import Issue, define, issue, json_path
from ..lineage import make_lineage, parent_of
from ..models import (
    AdjudicationInfo,
    AnnotationBase,
    Annotator,
    ParentRef,
    TextAnswer,
    annotation_adapter,
)
from ._log import LoggedDecision, read_decisions

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..dataset import Dataset
    from ..models import DecisionRecord

ITEM_MISSING = define("decision.item-missing", "error", "A decision names an item not in the dataset")
SOURCE_MISSING = define(
    "decision.source-missing", "error", "A decision names an annotation not in the dataset"
)
SOURCE_OTHER_ITEM = define(
    "decision.source-other-item", "error", "A decision names an annotation of another item"
)
INCOMPLETE = define(
    "decision.incomplete", "error", "A decision lacks what its kind needs (accepted ids, a label, "
    "annotations)"
)
LABEL_UNKNOWN = define("decision.label-unknown", "error", "A decision gives a label the taxonomy "
                       "does not define")
GUIDELINE_UNKNOWN = define(
    "decision.guideline-unknown", "error", "A decision cites a guideline (or version) the "
    "manifest does not define"
)
SECTION_UNKNOWN = define(
    "decision.section-unknown", "error", "A decision cites a section its guideline does not have"
)
ANNOTATION_INVALID = define(
    "decision.annotation-invalid", "error", "An annotation a decision states is not valid"
)
REVIEWER_CLASH = define(
    "decision.reviewer-clash", "info",
    "A reviewer's id is a non-adjudicator annotator; the decisions are recorded under another id",
)

HINTS = {
    ITEM_MISSING: "decide about items of the dataset the log was made on",
    SOURCE_MISSING: "`sources`, `accepted` and `overruled` list ids of annotations of the "
                    "dataset",
    SOURCE_OTHER_ITEM: "list only annotations of the decision's own item",
    INCOMPLETE: "`accepted` and `relabelled` need `accepted` ids (and `relabelled` a `label`); "
                "`merged` and `edited` need `annotations`",
    LABEL_UNKNOWN: "use a label of the manifest's taxonomy",
    GUIDELINE_UNKNOWN: "cite a guideline id and version listed in the manifest's `guidelines`",
    SECTION_UNKNOWN: "cite a section id of the guideline's `sections`",
    ANNOTATION_INVALID: "give each annotation its `type` and that type's fields (no `id`, "
                        "`item_id` or `annotator`: the decision sets them)",
}

_SET_BY_DECISION = ("id", "item_id", "annotator", "status", "sources", "adjudication", "created")


@dataclass
class AdjudicationResult:
    """What a replay built: the new dataset plus counts and notes."""

    dataset: Dataset
    annotations: list[AnnotationBase]
    annotators: list[Annotator]
    issues: list[Issue] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def adjudication_id(decision_id: str, k: int) -> str:
    """Id of the k-th (0-based) annotation a decision builds: `adj:<decision>` then `:2`..."""
    return f"adj:{decision_id}" if k == 0 else f"adj:{decision_id}:{k + 1}"


def adjudicate(
    ds: Dataset,
    decisions: str | os.PathLike[str] | Sequence[DecisionRecord | LoggedDecision],
) -> Dataset:
    """A new version of `ds` holding the adjudications of a decisions log (a path or records).

    See `build_adjudication` for the counts; raises `DecisionLogError` like it.
    """
    return build_adjudication(ds, decisions).dataset


def build_adjudication(
    ds: Dataset,
    decisions: str | os.PathLike[str] | Sequence[DecisionRecord | LoggedDecision],
) -> AdjudicationResult:
    """A new version of `ds` with the adjudications of a decisions log (a path or records).

    The new manifest names `ds`'s fingerprint in `parents`. Raises `DecisionLogError` listing
    every decision that cannot be applied (nothing is built then).
    """
    from ..dataset import Dataset as _Dataset

    source = os.fspath(decisions) if isinstance(decisions, (str, os.PathLike)) else None
    logged = _logged(decisions)
    live = _latest(logged)
    by_id = {a.id: a for a in ds.annotations}
    items = {it.id for it in ds.items}
    labels = _labels(ds)
    problems: list[Issue] = []
    reviewers: dict[str, Annotator] = {}
    notes: list[Issue] = []
    built: list[AnnotationBase] = []
    in_force = {id(e) for e in live}
    # Every decision is checked, the superseded ones too: the log is the record of the review.
    for entry in logged:
        rec = entry.record
        where = {"file": source, "line": entry.line, "record_id": rec.id}
        errs = _check(ds, rec, items, by_id, labels, where)
        if errs:
            problems.extend(errs)
            continue
        if id(entry) not in in_force:
            errs = _build(rec, rec.reviewer, by_id, where)[1]
            problems.extend(errs)
            continue
        who = _adjudicator(ds, rec.reviewer, reviewers, notes, where)
        anns, errs = _build(rec, who.id, by_id, where)
        problems.extend(errs)
        built.extend(anns)
    if problems:
        raise DecisionLogError(problems)
    built_ids = {a.id for a in built}
    clash = [a.id for a in ds.annotations if a.id in built_ids and a.adjudication is None]
    if clash:
        raise DecisionLogError([issue(
            "decision.duplicate-id", f"annotation id {clash[0]!r} is already used by an "
            "annotation that is not an adjudication", file=source,
            hint="rename the decision (its id names the annotations it builds)")])
    new_ids = {a.id for a in reviewers.values()}
    annotators = [a for a in ds.manifest.annotators if a.id not in new_ids]
    parent = ds.manifest.fingerprint or ds.fingerprint()
    manifest = ds.manifest.model_copy(update={
        "annotators": [*annotators, *reviewers.values()], "fingerprint": None, "parts": [],
        "parents": [parent],
    })
    # An adjudication of an earlier replay that this log builds again is replaced, not doubled.
    kept = [a for a in ds.annotations if a.id not in built_ids]
    out = _Dataset(manifest, ds.items, [*kept, *built], issues=[*ds.issues, *notes],
                   source=ds.source, source_format=ds.source_format)
    # `save` stamps the lineage into the manifest (and `parents` from it): the version read is
    # the one parent, named by its fingerprint even when it was read from a foreign file.
    ref = parent_of(ds)
    if ref is None or ref.fingerprint is None:
        ref = ParentRef(fingerprint=parent, name=ds.manifest.name, version=ds.manifest.version,
                        source=ref.source if ref else None,
                        format=ref.format if ref else "groundtruth")
    out.lineage = make_lineage("adjudicate", [ref],
                               options={"decisions": source or "(records in memory)"})
    decided: dict[str, int] = {}
    for a in built:
        if a.adjudication is not None:
            decided[a.adjudication.decision] = decided.get(a.adjudication.decision, 0) + 1
    details: dict[str, Any] = {
        "decisions": len(logged), "applied": len(live), "superseded": len(logged) - len(live),
        "items": len({a.item_id for a in built}), "adjudications": len(built),
        "by_decision": decided, "reviewers": sorted(reviewers), "parent": parent,
    }
    return AdjudicationResult(out, built, list(reviewers.values()), notes, details)


def _logged(
    decisions: str | os.PathLike[str] | Sequence[DecisionRecord | LoggedDecision],
) -> list[LoggedDecision]:
    if isinstance(decisions, (str, os.PathLike)):
        return read_decisions(decisions)
    out: list[LoggedDecision] = []
    for n, d in enumerate(decisions, start=1):
        if isinstance(d, LoggedDecision):
            out.append(d)
        else:
            out.append(LoggedDecision(n, d))
    return out


def decision_key(rec: DecisionRecord) -> tuple[str, frozenset[str]]:
    """What a decision is about: its item and the set of annotations it considered."""
    return rec.item_id, frozenset(considered(rec))


def considered(rec: DecisionRecord) -> list[str]:
    """Every annotation id a decision considered, in order, once."""
    return list(dict.fromkeys([*rec.sources, *rec.accepted, *rec.overruled]))


def _latest(logged: list[LoggedDecision]) -> list[LoggedDecision]:
    """The decisions still in force, in log order: the last one per (item, sources)."""
    last: dict[tuple[str, frozenset[str]], int] = {}
    for i, entry in enumerate(logged):
        last[decision_key(entry.record)] = i
    keep = set(last.values())
    return [e for i, e in enumerate(logged) if i in keep]


def _labels(ds: Dataset) -> set[str]:
    return {lab.name for ls in ds.manifest.taxonomy.label_sets for lab in ls.labels}


def _check(
    ds: Dataset, rec: DecisionRecord, items: set[str], by_id: dict[str, AnnotationBase],
    labels: set[str], where: dict[str, Any],
) -> list[Issue]:  # fmt: skip
    out: list[Issue] = []

    def bad(code: str, message: str, path: str) -> None:
        out.append(issue(code, f"decision {rec.id}: {message}", hint=HINTS[code],
                         path=path, **where))

    if rec.item_id not in items:
        bad(ITEM_MISSING, f"item {rec.item_id!r} is not in the dataset", "$.item_id")
    for name in ("sources", "accepted", "overruled"):
        for k, aid in enumerate(getattr(rec, name)):
            ann = by_id.get(aid)
            if ann is None:
                bad(SOURCE_MISSING, f"annotation {aid!r} is not in the dataset", f"$.{name}[{k}]")
            elif ann.item_id != rec.item_id and rec.item_id in items:
                bad(SOURCE_OTHER_ITEM, f"annotation {aid!r} is of item {ann.item_id!r}, not "
                    f"{rec.item_id!r}", f"$.{name}[{k}]")
    if rec.decision in ("accepted", "relabelled") and not rec.accepted:
        bad(INCOMPLETE, f"a {rec.decision!r} decision lists no `accepted` annotation",
            "$.accepted")
    if rec.decision == "relabelled" and rec.label is None:
        bad(INCOMPLETE, "a 'relabelled' decision gives no `label`", "$.label")
    if rec.decision in ("merged", "edited") and not rec.annotations:
        bad(INCOMPLETE, f"a {rec.decision!r} decision states no `annotations`", "$.annotations")
    if rec.label is not None and labels and rec.label not in labels:
        bad(LABEL_UNKNOWN, f"label {rec.label!r} is not in the taxonomy", "$.label")
    if rec.guideline is not None:
        g = ds.manifest.guideline(rec.guideline.id, rec.guideline.version)
        if g is None:
            ref = rec.guideline.id + (f"@{rec.guideline.version}" if rec.guideline.version else "")
            bad(GUIDELINE_UNKNOWN, f"guideline {ref} is not in the manifest", "$.guideline")
        elif rec.section is not None and g.sections and g.section(rec.section) is None:
            bad(SECTION_UNKNOWN, f"guideline {g.id}@{g.version} has no section "
                f"{rec.section!r} (sections: {', '.join(s.id for s in g.sections)})",
                "$.section")
    elif rec.section is not None:
        owners = [g for g in ds.manifest.guidelines if g.section(rec.section) is not None]
        if not owners:
            bad(SECTION_UNKNOWN, f"no guideline has a section {rec.section!r}", "$.section")
    return out


def _adjudicator(
    ds: Dataset, reviewer: str, reviewers: dict[str, Annotator], notes: list[Issue],
    where: dict[str, Any],
) -> Annotator:  # fmt: skip
    """The adjudicator annotator a reviewer's decisions are recorded under (made once)."""
    for a in reviewers.values():
        if a.name == reviewer:
            return a
    ident = reviewer
    existing = ds.manifest.annotator(reviewer)
    if existing is not None and existing.kind != "adjudicator":
        # The same person annotated and adjudicated: keep the two roles apart.
        ident = f"{reviewer}:adjudicator"
        notes.append(issue(REVIEWER_CLASH, f"reviewer {reviewer!r} is also a "
                           f"{existing.kind} annotator; decisions recorded as {ident!r}",
                           **where))
    made = Annotator(id=ident, kind="adjudicator", name=reviewer, method="review")
    reviewers[ident] = made
    return made


def _build(
    rec: DecisionRecord, who: str, by_id: dict[str, AnnotationBase], where: dict[str, Any],
) -> tuple[list[AnnotationBase], list[Issue]]:  # fmt: skip
    info = AdjudicationInfo(
        decision=rec.decision, accepted=list(rec.accepted), overruled=list(rec.overruled),
        rationale=rec.rationale, section=rec.section, reviewer=rec.reviewer, decision_id=rec.id,
    )
    common: dict[str, Any] = {
        "item_id": rec.item_id, "annotator": who, "status": "adjudicated",
        "sources": considered(rec),
        "adjudication": info, "created": rec.time, "guideline": rec.guideline,
    }
    if rec.decision == "guideline-unclear":
        note = TextAnswer(id=adjudication_id(rec.id, 0), text=rec.rationale or "", **common)
        return [note], []
    if rec.decision in ("accepted", "relabelled"):
        out = []
        for k, aid in enumerate(rec.accepted):
            update = {**common, "id": adjudication_id(rec.id, k), "confidence": None,
                      "consensus": None, "extensions": {}}
            if rec.decision == "relabelled":
                update["label"] = rec.label
            out.append(by_id[aid].model_copy(update=update))
        return out, []
    built: list[AnnotationBase] = []
    problems: list[Issue] = []
    for k, body in enumerate(rec.annotations):
        stray = sorted(set(body) & set(_SET_BY_DECISION))
        if stray:
            problems.append(issue(ANNOTATION_INVALID, f"decision {rec.id}: annotation {k} sets "
                                  f"{', '.join(stray)}, which the decision sets",
                                  hint=HINTS[ANNOTATION_INVALID],
                                  path=f"$.annotations[{k}].{stray[0]}", **where))
            continue
        data = {**body, "id": adjudication_id(rec.id, k), **_dumped(common)}
        try:
            built.append(annotation_adapter.validate_python(data, strict=False))
        except ValidationError as exc:
            err = exc.errors()[0]
            problems.append(issue(ANNOTATION_INVALID, f"decision {rec.id}: annotation {k}: "
                                  f"{err['msg']}", hint=HINTS[ANNOTATION_INVALID],
                                  path=json_path(["annotations", k, *err["loc"][1:]]), **where))
    return built, problems


def _dumped(common: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in common.items():
        if v is None:
            continue
        out[k] = v.model_dump(mode="json", exclude_none=True) if hasattr(v, "model_dump") else v
    out["created"] = common["created"].isoformat()
    return out
