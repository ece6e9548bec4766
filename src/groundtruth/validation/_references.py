"""References: every id a record names must exist, once, where the spec says it lives.

This module holds the manifest-side index (label sets, labels, annotators, guidelines) and the
checks of the manifest's own definitions. Record-side reference checks run in `_engine`, which
keeps the ids; the codes are all defined here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..issues import define
from ..models import Annotator, Label, LabelSet, Manifest
from ._report import At, Collector

DUPLICATE_ID = define("reference.duplicate-id", "error", "Two records of a kind share an id")
ITEM_MISSING = define("reference.item-missing", "error", "An annotation's item does not exist")
LABEL_UNKNOWN = define("reference.label-unknown", "error", "A label the taxonomy does not define")
LABEL_NOT_IN_SET = define(
    "reference.label-not-in-set", "error", "A label outside the label set of its task"
)
LABEL_SET_UNKNOWN = define(
    "reference.label-set-unknown", "error", "A `label_set` the taxonomy does not define"
)
NO_TAXONOMY = define(
    "reference.no-taxonomy", "warning", "Annotations carry labels but the taxonomy is empty"
)
ANNOTATOR_UNKNOWN = define(
    "reference.annotator-unknown", "error", "An annotator the manifest does not define"
)
GUIDELINE_UNKNOWN = define(
    "reference.guideline-unknown", "error", "A guideline id the manifest does not define"
)
GUIDELINE_VERSION_UNKNOWN = define(
    "reference.guideline-version-unknown", "error",
    "A guideline version the manifest does not define",
)
RELATION_ENDPOINT_MISSING = define(
    "reference.relation-endpoint-missing", "error", "A relation points at no annotation"
)
RELATION_CROSS_ITEM = define(
    "reference.relation-cross-item", "error", "A relation links annotations of another item"
)
RANKING_UNKNOWN_CANDIDATE = define(
    "reference.ranking-unknown-candidate", "error", "A ranking names an id that is not a candidate"
)
SOURCE_MISSING = define(
    "reference.source-missing", "error", "An annotation's `sources` name no annotation"
)
DUPLICATE_DEFINITION = define(
    "reference.duplicate-definition", "error",
    "The manifest defines a label, label set, annotator, guideline or split twice",
)
LABEL_PARENT_UNKNOWN = define(
    "reference.label-parent-unknown", "error", "A label's `parent` is not a label of its set"
)
SKELETON_INDEX = define(
    "reference.skeleton-index", "error", "A skeleton edge names a keypoint index that is absent"
)

EXAMPLE_ITEM_MISSING = define(
    "reference.example-item-missing", "error", "A guideline's worked example names no item"
)
EXAMPLE_SECTION_UNKNOWN = define(
    "reference.example-section-unknown", "error",
    "A worked example cites a section its guideline does not have",
)
ADJUDICATION_SOURCE = define(
    "reference.adjudication-not-in-sources", "error",
    "An adjudication accepts or overrules an annotation its `sources` do not list",
)

HINTS = {
    EXAMPLE_ITEM_MISSING: "worked examples are items of the dataset: add the item, or fix "
                          "`item_id`",
    EXAMPLE_SECTION_UNKNOWN: "cite a section id of the guideline's `sections`, or add it",
    ADJUDICATION_SOURCE: "list every accepted and overruled id in `sources` too",
    DUPLICATE_ID: "ids must be unique among items and among annotations: renumber one of them",
    ITEM_MISSING: "add the item, or fix the annotation's `item_id`",
    LABEL_UNKNOWN: "add the label to a label set in the manifest's taxonomy, or fix the label",
    LABEL_NOT_IN_SET: "use a label of the task's label set, or set `label_set` to the set that "
                      "defines it",
    LABEL_SET_UNKNOWN: "use the name of a label set of the manifest's taxonomy",
    NO_TAXONOMY: "declare the labels in the manifest's `taxonomy.label_sets`",
    ANNOTATOR_UNKNOWN: "add the annotator to the manifest's `annotators`, or fix the id",
    GUIDELINE_UNKNOWN: "add the guideline to the manifest's `guidelines`, or fix the id",
    GUIDELINE_VERSION_UNKNOWN: "add this version of the guideline to the manifest, or fix it",
    RELATION_ENDPOINT_MISSING: "`source` and `target` must be ids of annotations of the dataset",
    RELATION_CROSS_ITEM: "a relation links two annotations of its own item: fix the ids",
    RANKING_UNKNOWN_CANDIDATE: "rank only ids of the item's `candidates`",
    SOURCE_MISSING: "`sources` must list ids of annotations of the dataset",
    DUPLICATE_DEFINITION: "keep one definition, or rename one of them",
    LABEL_PARENT_UNKNOWN: "`parent` names another label of the same label set",
    SKELETON_INDEX: "skeleton edges are 0-based index pairs into the label's `keypoints`",
}

Resolution = Literal["ok", "unknown", "not-in-set", "set-unknown", "no-taxonomy", "none"]


@dataclass(frozen=True, slots=True)
class Resolved:
    """The outcome of looking up an annotation's label (cached per type/label/set)."""

    status: Resolution
    label_set: LabelSet | None = None
    label: Label | None = None


@dataclass
class TaxonomyIndex:
    """The manifest's definitions, indexed for the per-record checks."""

    manifest: Manifest
    sets: dict[str, LabelSet] = field(default_factory=dict)
    labels: dict[str, dict[str, Label]] = field(default_factory=dict)
    label_owners: dict[str, list[str]] = field(default_factory=dict)
    annotators: dict[str, Annotator] = field(default_factory=dict)
    guidelines: dict[str, set[str]] = field(default_factory=dict)
    splits: set[str] = field(default_factory=set)
    _cache: dict[tuple[str, str | None, str | None], Resolved] = field(default_factory=dict)

    @classmethod
    def build(cls, manifest: Manifest, out: Collector, at: At) -> TaxonomyIndex:
        """Index the manifest, reporting definitions that clash or point nowhere."""
        idx = cls(manifest)
        for si, ls in enumerate(manifest.taxonomy.label_sets):
            where = ("taxonomy", "label_sets", si)
            if ls.name in idx.sets:
                out.emit(DUPLICATE_DEFINITION, f"label set {ls.name!r} is defined twice", at,
                         ls.name, *where, "name", hint=HINTS[DUPLICATE_DEFINITION])
                continue
            idx.sets[ls.name] = ls
            names: dict[str, Label] = {}
            for li, lab in enumerate(ls.labels):
                if lab.name in names:
                    out.emit(DUPLICATE_DEFINITION,
                             f"label {lab.name!r} is defined twice in label set {ls.name!r}",
                             at, lab.name, *where, "labels", li, "name",
                             hint=HINTS[DUPLICATE_DEFINITION])
                    continue
                names[lab.name] = lab
                idx.label_owners.setdefault(lab.name, []).append(ls.name)
            idx.labels[ls.name] = names
            for li, lab in enumerate(ls.labels):
                if lab.parent is not None and lab.parent not in names:
                    out.emit(LABEL_PARENT_UNKNOWN,
                             f"label {lab.name!r} has parent {lab.parent!r}, which is not a "
                             f"label of set {ls.name!r}", at, lab.name,
                             *where, "labels", li, "parent", hint=HINTS[LABEL_PARENT_UNKNOWN])
                for ei, edge in enumerate(lab.skeleton):
                    for k, end in enumerate(edge):
                        if not 0 <= end < len(lab.keypoints):
                            out.emit(SKELETON_INDEX,
                                     f"skeleton edge {list(edge)} of label {lab.name!r} names "
                                     f"keypoint {end}, but the label has {len(lab.keypoints)}",
                                     at, lab.name, *where, "labels", li, "skeleton", ei, k,
                                     hint=HINTS[SKELETON_INDEX])
        for ai, ann in enumerate(manifest.annotators):
            if ann.id in idx.annotators:
                out.emit(DUPLICATE_DEFINITION, f"annotator {ann.id!r} is defined twice", at,
                         ann.id, "annotators", ai, "id", hint=HINTS[DUPLICATE_DEFINITION])
            idx.annotators[ann.id] = ann
        for gi, g in enumerate(manifest.guidelines):
            versions = idx.guidelines.setdefault(g.id, set())
            if g.version in versions:
                out.emit(DUPLICATE_DEFINITION, f"guideline {g.id}@{g.version} is defined twice",
                         at, g.id, "guidelines", gi, "version", hint=HINTS[DUPLICATE_DEFINITION])
            versions.add(g.version)
        for pi, sp in enumerate(manifest.splits):
            if sp.name in idx.splits:
                out.emit(DUPLICATE_DEFINITION, f"split {sp.name!r} is defined twice", at,
                         sp.name, "splits", pi, "name", hint=HINTS[DUPLICATE_DEFINITION])
            idx.splits.add(sp.name)
        return idx

    def resolve(self, ann_type: str, label: str | None, label_set: str | None) -> Resolved:
        """Which label set and label an annotation means, or why none."""
        key = (ann_type, label, label_set)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._cache[key] = self._resolve(ann_type, label, label_set)
        return hit

    def sets_for_type(self, ann_type: str) -> list[LabelSet]:
        return [s for s in self.sets.values()
                if not s.annotation_types or ann_type in s.annotation_types]

    def _resolve(self, ann_type: str, label: str | None, label_set: str | None) -> Resolved:
        if label_set is not None:
            ls = self.sets.get(label_set)
            if ls is None:
                return Resolved("set-unknown")
            if label is None:
                return Resolved("none", ls)
            lab = self.labels[ls.name].get(label)
            if lab is not None:
                return Resolved("ok", ls, lab)
            return Resolved("not-in-set" if label in self.label_owners else "unknown", ls)
        candidates = self.sets_for_type(ann_type)
        if label is None:
            return Resolved("none", candidates[0] if len(candidates) == 1 else None)
        if not self.sets:
            return Resolved("no-taxonomy")
        for ls in candidates:
            lab = self.labels[ls.name].get(label)
            if lab is not None:
                return Resolved("ok", ls, lab)
        return Resolved("not-in-set" if label in self.label_owners else "unknown")
