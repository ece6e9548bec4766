"""Guidelines that settle cases: annotators against the worked examples, and who was overruled.

`guideline_check(ds)`: every annotator's annotations on each worked-example item, compared with
the answer the guideline expects. Only the annotation types the example states are compared:
labels (classification), value and label (rating), boundaries and label (span), the order
(ranking), the text with white space collapsed (text, transcription), and for regions the
labels plus a one-to-one match at IoU (keypoints: OKS) >= 0.5. An annotator who did not
annotate the item is not counted.

`feedback_report(ds)`: per annotator, how often a reviewer overruled them (by label, by
guideline section, with examples); per guideline section, the disputed items about its labels,
the "guideline unclear" marks and the decisions citing it. Both render as text, JSON and
Markdown.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..models import AnnotationBase, annotation_adapter

if TYPE_CHECKING:
    from ..dataset import Dataset
    from ..models import Guideline

_DERIVED = ("consensus", "adjudicator")
_REGIONS = ("bbox", "polygon", "mask", "keypoints")
MATCH = 0.5
"""Regions agree with an expected region at IoU (keypoints: OKS) >= this, same label."""

EXAMPLES_SHOWN = 5
NO_SECTION = "(no section)"


def _answers(ds: Dataset) -> dict[str, dict[str, list[AnnotationBase]]]:
    """item -> annotator -> that annotator's own annotations (not derived, not rejected)."""
    kinds = {a.id: a.kind for a in ds.manifest.annotators}
    out: dict[str, dict[str, list[AnnotationBase]]] = defaultdict(lambda: defaultdict(list))
    for a in ds.annotations:
        if (a.annotator is None or kinds.get(a.annotator) in _DERIVED or a.consensus is not None
                or a.adjudication is not None
                or a.status in ("rejected", "cancelled", "ignored")):
            continue
        out[a.item_id][a.annotator].append(a)
    return out


def _key(a: AnnotationBase) -> tuple[Any, ...]:
    t: str = a.type  # type: ignore[attr-defined]
    d = a.to_json_dict()
    if t == "span":
        return (t, d["start"], d["end"], a.label)
    if t == "rating":
        return (t, a.label, float(d["value"]))
    if t == "ranking":
        return (t, tuple(tuple(g) for g in d["ranking"]))
    if t in ("text", "transcription"):
        return (t, " ".join(str(d["text"]).split()))
    if t == "segment":
        return (t, a.label, round(d["start_time"], 3), round(d["end_time"], 3))
    return (t, a.label)


def _regions_match(expected: list[AnnotationBase], got: list[AnnotationBase],
                   match: float) -> bool:
    from ..quality._matching import UnsupportedShapeError, shape_of, similarity

    if Counter(a.label for a in expected) != Counter(a.label for a in got):
        return False
    free = list(got)
    for e in expected:
        best, best_sim = None, match
        for g in free:
            if g.label != e.label or g.type != e.type:  # type: ignore[attr-defined]
                continue
            try:
                sim = similarity(shape_of(e), shape_of(g))
            except UnsupportedShapeError:
                sim = 1.0  # a mask given by URI: the labels decide
            if sim >= best_sim:
                best, best_sim = g, sim
        if best is None:
            return False
        free.remove(best)
    return True


def agrees(expected: list[AnnotationBase], got: list[AnnotationBase], *,
           match: float = MATCH) -> bool:
    """Whether an annotator's annotations of the expected types give the expected answer
    (regions: same labels, matched one-to-one at IoU/OKS >= `match`)."""
    types = {a.type for a in expected}  # type: ignore[attr-defined]
    mine = [a for a in got if a.type in types]  # type: ignore[attr-defined]
    plain_e = [a for a in expected if a.type not in _REGIONS]  # type: ignore[attr-defined]
    plain_g = [a for a in mine if a.type not in _REGIONS]  # type: ignore[attr-defined]
    if Counter(map(_key, plain_e)) != Counter(map(_key, plain_g)):
        return False
    return _regions_match([a for a in expected if a.type in _REGIONS],  # type: ignore[attr-defined]
                          [a for a in mine if a.type in _REGIONS],  # type: ignore[attr-defined]
                          match)


def expected_annotations(g: Guideline, k: int) -> list[AnnotationBase]:
    """The expected answer of worked example k of a guideline, as annotations."""
    ex = g.worked_examples[k]
    out: list[AnnotationBase] = []
    for j, body in enumerate(ex.expected):
        data = {**body, "id": f"{g.id}@{g.version}/example-{k}/{j}", "item_id": ex.item_id}
        out.append(annotation_adapter.validate_python(data, strict=False))
    return out


def describe(anns: list[AnnotationBase]) -> str:
    """A short human form of an answer: `classification neg`, `span [0, 4) ORG`..."""
    parts = []
    for a in anns:
        k = _key(a)
        if k[0] == "span":
            parts.append(f"span [{k[1]}, {k[2]}) {k[3]}")
        elif k[0] in ("text", "transcription"):
            parts.append(f"{k[0]} {k[1][:40]!r}")
        else:
            parts.append(" ".join(str(x) for x in k if x is not None))
    return "; ".join(parts) or "(nothing)"


# -- gt guideline check ------------------------------------------------------------------------
@dataclass
class GuidelineCheck:
    """Annotators against the worked examples: counts per annotator and every disagreement."""

    examples: int = 0
    per_annotator: dict[str, dict[str, int]] = field(default_factory=dict)
    disagreements: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.disagreements and not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "examples": self.examples, "per_annotator": self.per_annotator,
                "disagreements": self.disagreements, "problems": self.problems}

    def render(self, fmt: str = "text") -> str:
        md = fmt == "markdown"
        lines = ["# Guideline check" if md else "guideline check",
                 "", f"{self.examples} worked example(s)", ""]
        if md:
            lines += ["| annotator | checked | agree | disagree |", "|---|---:|---:|---:|"]
        for who, c in sorted(self.per_annotator.items()):
            if md:
                lines.append(f"| {who} | {c['checked']} | {c['agree']} | {c['disagree']} |")
            else:
                lines.append(f"  {who:<20} {c['agree']}/{c['checked']} agree, "
                             f"{c['disagree']} disagree")
        if self.disagreements:
            lines += ["", "## Disagreements" if md else "disagreements:"]
            for d in self.disagreements:
                where = d["guideline"] + (f" section {d['section']}" if d.get("section") else "")
                lines.append(f"{'- ' if md else '  '}{d['annotator']} on item {d['item_id']} "
                             f"({where}): expected {d['expected']}, gave {d['got']}")
        for p in self.problems:
            lines.append(f"{'- ' if md else '  '}problem: {p}")
        return "\n".join(lines) + "\n"


def guideline_check(ds: Dataset, guideline: str | None = None) -> GuidelineCheck:
    """Every annotator's labels on the worked-example items against the expected answers."""
    answers = _answers(ds)
    out = GuidelineCheck()
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    items = {it.id for it in ds.items}
    for g in ds.manifest.guidelines:
        if guideline is not None and g.id != guideline:
            continue
        for k, ex in enumerate(g.worked_examples):
            out.examples += 1
            if ex.item_id not in items:
                out.problems.append(f"{g.id}@{g.version} worked example {k}: item "
                                    f"{ex.item_id!r} is not in the dataset")
                continue
            try:
                expected = expected_annotations(g, k)
            except ValidationError as exc:
                out.problems.append(f"{g.id}@{g.version} worked example {k}: expected answer "
                                    f"is not a valid annotation: {exc.errors()[0]['msg']}")
                continue
            for who, got in sorted(answers.get(ex.item_id, {}).items()):
                types = {a.type for a in expected}  # type: ignore[attr-defined]
                if not any(a.type in types for a in got):  # type: ignore[attr-defined]
                    continue  # they annotated something else on the item
                tally[who]["checked"] += 1
                if agrees(expected, got):
                    tally[who]["agree"] += 1
                    continue
                tally[who]["disagree"] += 1
                mine = [a for a in got if a.type in types]  # type: ignore[attr-defined]
                out.disagreements.append({
                    "annotator": who, "item_id": ex.item_id, "guideline": f"{g.id}@{g.version}",
                    "section": ex.section, "expected": describe(expected), "got": describe(mine),
                    "annotations": [a.id for a in mine],
                })
    out.per_annotator = {w: {"checked": c["checked"], "agree": c["agree"],
                             "disagree": c["disagree"]} for w, c in sorted(tally.items())}
    return out


# -- feedback: who was overruled, which rule to rewrite ----------------------------------------
@dataclass
class FeedbackReport:
    """Per annotator (overruled where, how often) and per guideline section (disputes, unclear
    marks, decisions citing it)."""

    annotators: dict[str, dict[str, Any]]
    sections: dict[str, dict[str, Any]]
    disputed_items: int
    decisions: int

    def to_dict(self) -> dict[str, Any]:
        return {"disputed_items": self.disputed_items, "decisions": self.decisions,
                "annotators": self.annotators, "sections": self.sections}

    def render(self, fmt: str = "text") -> str:
        md = fmt == "markdown"
        out = ["# Adjudication feedback" if md else "adjudication feedback", "",
               f"{self.decisions} adjudication(s), {self.disputed_items} disputed item(s)", ""]
        out += ["## Annotators" if md else "per annotator (most overruled first):", ""]
        if md:
            out += [("| annotator | reviewed | accepted | overruled | rate | by label | "
                    "by section |"), "|---|---:|---:|---:|---:|---|---|"]
        for who, a in self.annotators.items():
            labels = ", ".join(f"{k} {v}" for k, v in a["overruled_by_label"].items()) or "-"
            secs = ", ".join(f"{k} {v}" for k, v in a["overruled_by_section"].items()) or "-"
            rate = "-" if a["overrule_rate"] is None else f"{a['overrule_rate']:.2f}"
            if md:
                out.append(f"| {who} | {a['reviewed']} | {a['accepted']} | {a['overruled']} | "
                           f"{rate} | {labels} | {secs} |")
            else:
                out.append(f"  {who:<20} overruled {a['overruled']}/{a['reviewed']} "
                           f"(rate {rate}); by label: {labels}; by section: {secs}")
                out += [f"      e.g. item {e['item_id']}: gave {e['gave']}, decided "
                        f"{e['decided']}" + (f" ({e['rationale']})" if e.get("rationale") else "")
                        for e in a["examples"]]
        out += ["", "## Guideline sections" if md else "per guideline section "
                "(most unclear and disputed first):", ""]
        if md:
            out += ["| section | title | disputed items | unclear marks | decisions citing it |",
                    "|---|---|---:|---:|---:|"]
        for sid, s in self.sections.items():
            if md:
                out.append(f"| {sid} | {s.get('title') or ''} | {s['disputed_items']} | "
                           f"{s['unclear']} | {s['decisions']} |")
            else:
                out.append(f"  {sid:<24} {s['disputed_items']} disputed, {s['unclear']} "
                           f"unclear, {s['decisions']} decision(s)"
                           + (f"  {s['title']}" if s.get("title") else ""))
                out += [f"      unclear: item {n['item_id']}: {n['note']}" for n in s["notes"]]
        return "\n".join(out) + "\n"


def feedback_report(ds: Dataset, disputes: list[Any] | None = None) -> FeedbackReport:
    """Who was overruled (by label, by section) and which guideline sections cause disputes.

    `disputes`: the disputed items (`find_disputes(ds)` when None).
    """
    from ._disputes import find_disputes

    if disputes is None:
        disputes = find_disputes(ds)
    by_id = {a.id: a for a in ds.annotations}
    adjudications = [a for a in ds.annotations if a.adjudication is not None]
    decided_labels: dict[str, list[str]] = defaultdict(list)  # decision -> labels decided
    for a in adjudications:
        if a.label is not None and a.adjudication is not None:
            decided_labels[a.adjudication.decision_id or a.id].append(a.label)
    per: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "reviewed": 0, "accepted": 0, "overruled": 0, "overruled_by_label": Counter(),
        "overruled_by_section": Counter(), "examples": []})
    sections: dict[str, dict[str, Any]] = {}
    owner: dict[str, str] = {}
    for g in ds.manifest.guidelines:
        for s in g.sections:
            sections.setdefault(s.id, {"guideline": f"{g.id}@{g.version}", "title": s.title,
                                       "labels": list(s.labels), "disputed_items": 0,
                                       "unclear": 0, "decisions": 0, "notes": []})
            for lab in s.labels:
                owner.setdefault(lab, s.id)
    seen: set[tuple[str, str]] = set()  # (decision, source): one decision, several copies
    for a in adjudications:
        info = a.adjudication
        assert info is not None
        did = info.decision_id or a.id
        sec = info.section
        if sec is None and info.decision == "guideline-unclear":
            sec = NO_SECTION  # unclear, but about no rule in particular: still worth reading
        if sec is not None:
            entry = sections.setdefault(sec, {"guideline": None, "title": None, "labels": [],
                                              "disputed_items": 0, "unclear": 0,
                                              "decisions": 0, "notes": []})
            if (did, "") not in seen:
                entry["decisions"] += 1
                if info.decision == "guideline-unclear":
                    entry["unclear"] += 1
                    entry["notes"].append({"item_id": a.item_id, "note": info.rationale or ""})
        seen.add((did, ""))
        for aid, verdict in [*((x, "accepted") for x in info.accepted),
                             *((x, "overruled") for x in info.overruled)]:
            src = by_id.get(aid)
            if src is None or src.annotator is None or (did, aid) in seen:
                continue
            seen.add((did, aid))
            p = per[src.annotator]
            p["reviewed"] += 1
            p[verdict] += 1
            if verdict == "overruled":
                lab = src.label or "(none)"
                p["overruled_by_label"][lab] += 1
                where = (sec if sec != NO_SECTION else None) or owner.get(lab)
                if where is not None:
                    p["overruled_by_section"][where] += 1
                if len(p["examples"]) < EXAMPLES_SHOWN:
                    p["examples"].append({
                        "item_id": a.item_id, "annotation": aid, "gave": describe([src]),
                        "decided": ", ".join(decided_labels.get(did, [])) or info.decision,
                        "decision": did, "rationale": info.rationale})
    for d in disputes:
        hit = {owner[lab] for lab in d.labels if lab in owner}
        for sid in hit:
            sections[sid]["disputed_items"] += 1
    annotators = {}
    for who, p in sorted(per.items(), key=lambda kv: (-kv[1]["overruled"], kv[0])):
        annotators[who] = {
            **p, "overrule_rate": round(p["overruled"] / p["reviewed"], 6) if p["reviewed"]
            else None,
            "overruled_by_label": dict(p["overruled_by_label"].most_common()),
            "overruled_by_section": dict(p["overruled_by_section"].most_common()),
        }
    ordered = dict(sorted(sections.items(), key=lambda kv: (
        -kv[1]["unclear"], -kv[1]["disputed_items"], -kv[1]["decisions"], kv[0])))
    n_decisions = len({(a.adjudication.decision_id or a.id) for a in adjudications
                       if a.adjudication is not None})
    return FeedbackReport(annotators, ordered, len(disputes), n_decisions)
