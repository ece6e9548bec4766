"""Which annotations an agreement or consensus run looks at, and how they become codes.

Rules (stated in the spec, section "Agreement and consensus"):

- Only annotations with an `annotator` count. Annotations by an annotator of kind `consensus` or
  `adjudicator`, and annotations carrying `consensus` or `adjudication` info, are outputs of an
  earlier run or a review and are left out;
  so are annotations whose status is `rejected`, `cancelled` or `ignored`.
- An annotation belongs to a label set when its `label_set` names it, or (when it names none)
  when its type is one of the set's `annotation_types`, or (for a set that lists no types) when
  the set is the taxonomy's only one or its label is one of the set's labels.
- An annotator *took part* in an item when they made at least one annotation of any type on it
  (outside the excluded ones above) and made annotations of the analysed kind somewhere in the
  dataset. An annotator who took part but drew no span or box has
  thereby said "nothing here", which counts as a label for unitised agreement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from ..errors import GroundtruthError
from ..issues import Issue, define, issue
from ..models import Classification, Rating
from ..models.annotations import AnnotationBase
from ..models.manifest import LabelSet
from ._stats import FloatArray, IntArray, Level

if TYPE_CHECKING:
    from ..dataset import Dataset

Family = Literal["label", "span", "region"]

LABEL_UNKNOWN = define(
    "agreement.label-unknown", "warning", "Label not in the label set; left out of agreement"
)
NO_ANNOTATOR = define(
    "agreement.no-annotator", "warning", "Annotation without an annotator; left out of agreement"
)
DUPLICATE_LABEL = define(
    "agreement.duplicate-label",
    "warning",
    "An annotator gave one item several labels of a single-label set; one was used",
)
SINGLE_ANNOTATOR = define(
    "agreement.single-annotator", "error", "Only one annotator: agreement is undefined"
)
NO_OVERLAP = define(
    "agreement.no-overlap", "error", "No item was labelled by two or more annotators"
)
SINGLE_LABEL_ITEMS = define(
    "agreement.single-label-items",
    "info",
    "Items labelled by one annotator only; they do not enter agreement figures",
)
LEVEL_NEEDS_VALUES = define(
    "agreement.level-needs-values",
    "warning",
    "Interval or ratio level asked for labels that have no numeric value",
)
UNCOMPARABLE_SHAPE = define(
    "agreement.uncomparable-shape",
    "warning",
    "A region cannot be compared geometrically (e.g. a mask stored only as a URI); left out",
)

EXCLUDED_STATUSES = frozenset({"rejected", "cancelled", "ignored"})
FAMILIES: dict[str, Family] = {
    "classification": "label",
    "rating": "label",
    "span": "span",
    "bbox": "region",
    "polygon": "region",
    "mask": "region",
    "keypoints": "region",
}


class AgreementInputError(GroundtruthError, ValueError):
    """The request cannot be answered as asked (unknown label set, ambiguous choice...)."""


class AgreementDataError(AgreementInputError):
    """The data holds nothing agreement can compare (no annotators, no supported types)."""


@dataclass
class Participation:
    """Who took part in which item, as unique (item, annotator) code pairs (numpy)."""

    items: list[str]  # item ids, by code
    people: list[str]  # annotator ids, by code
    item: IntArray  # item code of each unique pair
    who: IntArray  # annotator code of each unique pair
    _sets: dict[str, set[str]] | None = None

    @classmethod
    def of(cls, item_ids: Sequence[str], annotators: Sequence[str]) -> Participation:
        item_index: dict[str, int] = {}
        who_index: dict[str, int] = {}
        n = len(item_ids)
        ic = np.fromiter(
            (item_index.setdefault(i, len(item_index)) for i in item_ids), np.int64, count=n
        )
        wc = np.fromiter(
            (who_index.setdefault(w, len(who_index)) for w in annotators), np.int64, count=n
        )
        width = max(len(who_index), 1)
        pairs = np.unique(ic * width + wc)
        return cls(list(item_index), list(who_index), pairs // width, pairs % width)

    def counts(self) -> IntArray:
        """Number of annotators who took part, per item code."""
        return np.bincount(self.item, minlength=len(self.items)).astype(np.int64)

    def shared(self) -> int:
        """Items two or more annotators took part in."""
        return int((self.counts() >= 2).sum())

    def lonely(self) -> int:
        """Items exactly one annotator took part in."""
        return int((self.counts() == 1).sum())

    def sets(self) -> dict[str, set[str]]:
        """item id -> annotators who took part (built on first use)."""
        if self._sets is None:
            out: dict[str, set[str]] = defaultdict(set)
            for i, w in zip(self.item.tolist(), self.who.tolist(), strict=True):
                out[self.items[i]].add(self.people[w])
            self._sets = dict(out)
        return self._sets


@dataclass
class Selection:
    """The annotations one agreement/consensus run works on."""

    label_set: LabelSet | None
    family: Family
    types: list[str]
    annotations: list[AnnotationBase]
    participation: Participation
    annotators: list[str]  # sorted ids of the annotators of `annotations`
    issues: list[Issue] = field(default_factory=list)

    @property
    def participants(self) -> dict[str, set[str]]:
        """item id -> annotators who took part in it."""
        return self.participation.sets()


def _type(ann: AnnotationBase) -> str:
    return str(getattr(ann, "type", ""))


def _belongs(ann: AnnotationBase, ls: LabelSet, names: frozenset[str], only: bool) -> bool:
    if ann.label_set is not None:
        return ann.label_set == ls.name
    if ls.annotation_types:
        return _type(ann) in ls.annotation_types
    # The taxonomy's only label set claims every annotation, so unknown labels get reported.
    return only or ann.label in names


def select(
    ds: Dataset,
    label_set: str | None = None,
    annotation_type: str | None = None,
) -> Selection:
    """Pick the annotations to compare; raise AgreementInputError when the choice is ambiguous."""
    consensus_ids = {a.id for a in ds.manifest.annotators
                     if a.kind in ("consensus", "adjudicator")}
    issues: list[Issue] = []
    # Comprehensions, not one loop with branches: this pass touches every annotation.
    live = [
        a
        for a in ds.annotations
        if a.consensus is None and a.adjudication is None
        and a.status not in EXCLUDED_STATUSES
        and a.annotator not in consensus_ids
    ]  # fmt: skip
    usable = [a for a in live if a.annotator is not None]
    no_annotator = len(live) - len(usable)
    if no_annotator:
        first = next(a for a in live if a.annotator is None)
        issues.append(
            issue(
                NO_ANNOTATOR,
                "annotation has no annotator, so it cannot be compared "
                "(further ones are counted in the summary)",
                record_id=first.id,
                path="$.annotator",
                hint="set `annotator` to the id of who made it",
            )
        )
    sets = ds.manifest.taxonomy.label_sets
    chosen: LabelSet | None = None
    if label_set is not None:
        chosen = ds.manifest.label_set(label_set)
        if chosen is None:
            known = ", ".join(s.name for s in sets) or "(none)"
            raise AgreementInputError(
                f"no label set named {label_set!r} in the taxonomy",
                hint=f"label sets of this dataset: {known}",
            )
    candidates = usable
    if annotation_type is not None:
        candidates = [a for a in candidates if _type(a) == annotation_type]
    if chosen is None and sets:
        used = []
        for ls in sets:
            names = frozenset(lab.name for lab in ls.labels)
            if any(
                _belongs(a, ls, names, len(sets) == 1) and _type(a) in FAMILIES for a in candidates
            ):
                used.append(ls)
        if len(used) > 1:
            raise AgreementInputError(
                "annotations of several label sets: "
                + ", ".join(s.name for s in used)
                + "; agreement compares one at a time",
                hint="pass --label-set NAME (Python: label_set=NAME)",
            )
        chosen = used[0] if used else None
    if chosen is not None:
        names = frozenset(lab.name for lab in chosen.labels)
        candidates = [a for a in candidates if _belongs(a, chosen, names, len(sets) == 1)]
    supported: list[AnnotationBase] = []
    found: set[str] = set()
    for a in candidates:
        t = _type(a)
        if t in FAMILIES:
            supported.append(a)
            found.add(t)
    if not supported:
        if no_annotator and not usable:
            raise AgreementDataError(
                f"none of the {no_annotator} annotations names an annotator, so there is "
                "nobody to compare",
                hint="agreement needs annotations by several named annotators (`annotator`); "
                "single-source exports such as COCO carry none",
            )
        types = sorted({_type(a) for a in candidates})
        what = f" (found: {', '.join(types)})" if types else ""
        raise AgreementDataError(
            f"no annotations agreement can compare{what}",
            hint="agreement covers classification, rating, span, bbox, polygon, mask and "
            "keypoints annotations made by named annotators",
        )
    families = sorted({FAMILIES[t] for t in found})
    types = sorted(found)
    if len(families) > 1 or set(types) == {"classification", "rating"}:
        raise AgreementInputError(
            "annotations of different kinds (" + ", ".join(types) + ") cannot be compared "
            "as one measurement",
            hint="pass --type TYPE or --label-set NAME to pick one",
        )
    if no_annotator > 1:
        issues.append(
            issue(
                NO_ANNOTATOR,
                f"{no_annotator} annotations in all have no annotator and were left out",
                hint="set `annotator` on every annotation",
            )
        )
    people = sorted({a.annotator for a in supported if a.annotator is not None})
    # Participation counts every annotation (any type) of the annotators being compared, so
    # "looked at the item and drew nothing" counts, but a captioner who never drew a box does
    # not turn into a silent box annotator.
    if len(usable) == len(supported):
        involved = supported
    else:
        who = set(people)
        involved = [a for a in usable if a.annotator in who]
    participation = Participation.of(
        [a.item_id for a in involved], [str(a.annotator) for a in involved]
    )
    return Selection(chosen, families[0], types, supported, participation, people, issues)


# -- coding labels ----------------------------------------------------------------------------


@dataclass(slots=True)
class Coded:
    """Labels as sparse reliability data (see `_stats`), with the names behind each code.

    `unit_keys[u]` is `(item_id, label)`: label is None when the unit is the item, or a label
    name when a multi-label set is analysed one label at a time (present / absent). `sources[i]`
    is the id of the annotation entry i came from (None for an implied "absent").
    """

    unit_keys: list[tuple[str, str | None]]
    annotators: list[str]
    names: list[str]
    values: FloatArray
    unit: IntArray
    coder: IntArray
    code: IntArray
    sources: list[str | None]
    level_ok: bool = True
    unit_label: str = "item"


def _numeric_label_values(ls: LabelSet | None, names: Sequence[str]) -> dict[str, float] | None:
    declared = {lab.name: lab.value for lab in ls.labels} if ls is not None else {}
    out: dict[str, float] = {}
    for name in names:
        v = declared.get(name)
        if v is None:
            try:
                v = float(name)
            except ValueError:
                return None
        out[name] = float(v)
    return out


def code_labels(sel: Selection, level: Level) -> tuple[Coded, list[Issue]]:
    """Turn classification or rating annotations into codes for `_stats`."""
    issues: list[Issue] = []
    ls = sel.label_set
    if sel.types == ["rating"]:
        return _code_ratings(sel)
    known = [lab.name for lab in ls.labels] if ls is not None else []
    known_set = set(known)
    kept: list[Classification] = []
    unknown = 0
    for ann in sel.annotations:
        assert isinstance(ann, Classification)
        if known_set and ann.label not in known_set:
            unknown += 1
            if unknown <= 20:
                issues.append(
                    issue(
                        LABEL_UNKNOWN,
                        f"label {ann.label!r} is not in label set {ls.name!r}"
                        if ls is not None
                        else f"label {ann.label!r} is unknown",
                        record_id=ann.id,
                        path="$.label",
                        hint="fix the label or add it to the label set",
                    )
                )
            continue
        kept.append(ann)
    names = known or sorted({a.label for a in kept})
    multi = ls is not None and ls.multi_label
    if multi:
        return _code_multi_label(sel, kept, names), issues
    # Order of codes: label-set order, or declared values for ordinal/interval/ratio data.
    numeric = _numeric_label_values(ls, names)
    level_ok = True
    if level in ("interval", "ratio") and numeric is None:
        level_ok = False
        issues.append(
            issue(
                LEVEL_NEEDS_VALUES,
                f"{level} agreement needs a numeric `value` on every label",
                path="$.taxonomy.label_sets",
                hint="give each label a `value` in the label set, or use --level ordinal/nominal",
            )
        )
    if numeric is not None and level != "nominal":
        names = sorted(names, key=lambda n: numeric[n])
        values = np.asarray([numeric[n] for n in names], dtype=np.float64)
    else:
        values = np.arange(len(names), dtype=np.float64)
    index = {n: i for i, n in enumerate(names)}
    annotators = sel.annotators
    who = {a: i for i, a in enumerate(annotators)}
    item_ids = [a.item_id for a in kept]
    items = sorted(set(item_ids))
    item_index = {it: i for i, it in enumerate(items)}
    n = len(kept)
    unit = np.fromiter((item_index[i] for i in item_ids), dtype=np.int64, count=n)
    coder = np.fromiter((who[a.annotator] for a in kept), dtype=np.int64, count=n)  # type: ignore[index]
    code = np.fromiter((index[a.label] for a in kept), dtype=np.int64, count=n)
    # One label per (item, annotator): the latest by `created`, else the last in the dataset.
    key = unit * max(len(annotators), 1) + coder
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    last = np.ones(n, dtype=bool)
    last[:-1] = sorted_key[1:] != sorted_key[:-1]
    keep = order[last]
    dupes = n - len(keep)
    if dupes:
        keep = _resolve_duplicates(kept, order, sorted_key, keep, issues)
    keep.sort()
    coded = Coded(
        [(it, None) for it in items],
        annotators,
        names,
        values,
        unit[keep],
        coder[keep],
        code[keep],
        [kept[i].id for i in keep.tolist()],
        level_ok,
    )
    return coded, issues


def _resolve_duplicates(
    kept: Sequence[Classification],
    order: IntArray,
    sorted_key: IntArray,
    keep: IntArray,
    issues: list[Issue],
) -> IntArray:
    """Among an annotator's several labels of one item, keep the latest by `created`."""
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    ends = np.r_[starts[1:], len(sorted_key)]
    out = keep.copy()
    reported = 0
    for g, (lo, hi) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
        if hi - lo < 2:
            continue
        group = [kept[i] for i in order[lo:hi].tolist()]
        best = hi - 1  # the last in dataset order, unless an earlier one is newer
        for pos in range(lo, hi):
            cand, cur = kept[int(order[pos])], kept[int(order[best])]
            if cand.created is not None and (cur.created is None or cand.created > cur.created):
                best = pos
        out[g] = order[best]
        reported += 1
        if reported <= 20:
            first = group[-1]
            issues.append(
                issue(
                    DUPLICATE_LABEL,
                    f"annotator {first.annotator!r} labelled item {first.item_id!r} "
                    f"{hi - lo} times in a single-label set; the latest label is used",
                    record_id=first.id,
                    hint="remove the stale label, or mark the label set multi_label",
                )
            )
    return out


def _code_ratings(sel: Selection) -> tuple[Coded, list[Issue]]:
    annotators = sel.annotators
    who = {a: i for i, a in enumerate(annotators)}
    items = sorted({a.item_id for a in sel.annotations})
    item_index = {it: i for i, it in enumerate(items)}
    chosen: dict[tuple[int, int], Rating] = {}
    for ann in sel.annotations:
        assert isinstance(ann, Rating)
        # Ratings of different criteria (`label`) would be different measurements.
        chosen[(item_index[ann.item_id], who[ann.annotator])] = ann  # type: ignore[index]
    keys = list(chosen)
    raw = np.fromiter((chosen[k].value for k in keys), dtype=np.float64, count=len(keys))
    uniq, code = np.unique(raw, return_inverse=True)
    names = [f"{v:g}" for v in uniq]
    coded = Coded(
        [(it, None) for it in items],
        annotators,
        names,
        uniq.astype(np.float64),
        np.fromiter((k[0] for k in keys), dtype=np.int64, count=len(keys)),
        np.fromiter((k[1] for k in keys), dtype=np.int64, count=len(keys)),
        code.astype(np.int64).reshape(-1),
        [chosen[k].id for k in keys],
    )
    return coded, []


def _code_multi_label(sel: Selection, kept: list[Classification], names: list[str]) -> Coded:
    """Multi-label sets: one binary unit per (item, label); every participant says yes or no."""
    annotators = sel.annotators
    who = {a: i for i, a in enumerate(annotators)}
    given: dict[tuple[str, str, str], str] = {}
    for ann in kept:
        given[(ann.item_id, ann.label, ann.annotator)] = ann.id  # type: ignore[index]
    items = sorted({a.item_id for a in kept})
    unit_keys: list[tuple[str, str | None]] = []
    unit: list[int] = []
    coder: list[int] = []
    code: list[int] = []
    sources: list[str | None] = []
    for it in items:
        people = sorted(p for p in sel.participants.get(it, set()) if p in who)
        for name in names:
            u = len(unit_keys)
            unit_keys.append((it, name))
            for p in people:
                src = given.get((it, name, p))
                unit.append(u)
                coder.append(who[p])
                code.append(1 if src is not None else 0)
                sources.append(src)
    return Coded(
        unit_keys,
        annotators,
        ["absent", "present"],
        np.array([0.0, 1.0]),
        np.asarray(unit, dtype=np.int64),
        np.asarray(coder, dtype=np.int64),
        np.asarray(code, dtype=np.int64),
        sources,
        True,
        "item x label",
    )
