"""The engine: runs the reference, content and dataset layers over a stream of records.

Records arrive one at a time, items first (the order every reader yields). The engine keeps only
ids and small per-id facts:

- per item: `ItemFacts` (kind, sizes, duration, text length, candidate ids, where it is);
- per annotation: its item id (relation endpoints and `sources` are checked at the end, when
  every id is known);
- per span that states its covered `text`: the offsets and that text (or its hash when long).

A span's covered text is compared with `item.text[start:end]` in a second pass over the items,
fetching only the texts of items that have such spans: item texts can be large, so they are
never all held at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from .._text import quote, where_differ
from ..fingerprint import Fingerprinter
from ..models import AnnotationBase, Item, Manifest, Rating, Relation, Span
from . import _references as ref
from ._content import HINTS as CONTENT_HINTS
from ._content import SCALE_INVALID, SPAN_TEXT, ContentChecks, ItemFacts
from ._dataset import DatasetChecks
from ._report import At, Collector

TextSource = Callable[[set[str]], Iterable[tuple[str, str | None]]]
"""Given item ids, yields `(item_id, text)` for those items (a second pass over the items)."""

_LONG = 128


def _text_key(text: str) -> str | bytes:
    if len(text) <= _LONG:
        return text
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class Engine:
    """Reference, content and dataset checks over records, in memory bounded by the ids."""

    def __init__(self, manifest: Manifest | None, out: Collector, *, manifest_at: At,
                 tolerance: float = 0.0, foreign: bool = False) -> None:
        self.out = out
        self.index = ref.TaxonomyIndex.build(manifest, out, manifest_at) if manifest else None
        if manifest is not None:
            for si, ls in enumerate(manifest.taxonomy.label_sets):
                if (ls.min_value is not None and ls.max_value is not None
                        and ls.min_value > ls.max_value):
                    out.emit(SCALE_INVALID, f"label set {ls.name!r} has min_value "
                             f"{ls.min_value} > max_value {ls.max_value}", manifest_at, ls.name,
                             "taxonomy", "label_sets", si, "min_value",
                             hint=CONTENT_HINTS[SCALE_INVALID])
        self.manifest_at = manifest_at
        self.guide_examples = _worked_examples(manifest, out, manifest_at)
        self.content = ContentChecks(out, tolerance)
        self.dataset = DatasetChecks(out, self.index, manifest_at, foreign=foreign)
        self.tags_spans = manifest is not None and any(
            "span" in ls.annotation_types for ls in manifest.taxonomy.label_sets)
        self.items: dict[str, tuple[ItemFacts, At, str | None] | None] = {}
        self.ann_item: dict[str, str | None] = {}
        self.relations: list[tuple[str, str, str, str, At]] = []
        self.sources: list[tuple[str, list[str], At]] = []
        self.spans: dict[str, list[tuple[str, int, int, str | bytes, At]]] = {}
        self.n_items = 0
        self.n_annotations = 0
        # When a data file could not be read whole, or a record's id could not be read, some
        # ids are unknown: references to records of that kind are then not reported, or one
        # unreadable line would bury the report in noise (the read error is reported anyway).
        self.items_complete = True
        self.annotated: set[str] = set()  # items annotated by rows the fast path registered
        self.fast: Any = None  # the vectorised checker, built once the items are known
        self.annotations_complete = True
        self._warned_no_taxonomy = False
        self.part_number = 0  # which data part records come from (orders them across parts)
        # The content fingerprint of what was read, when the manifest states one to check.
        self.fp: Fingerprinter | None = None

    # -- records that failed the structure layer: keep their ids, so nothing cascades -------
    def lost_record(self, kind: str) -> None:
        """A record whose id cannot be known (its line did not parse, or it has no id)."""
        if kind == "items":
            self.items_complete = False
        else:
            self.annotations_complete = False

    def broken_item(self, data: Any) -> None:
        self.n_items += 1
        rid = data.get("id") if isinstance(data, dict) else None
        if not isinstance(rid, str):
            self.lost_record("items")
        elif rid not in self.items:
            self.items[rid] = None

    def broken_annotation(self, data: Any) -> None:
        self.n_annotations += 1
        rid = data.get("id") if isinstance(data, dict) else None
        if not isinstance(rid, str):
            self.lost_record("annotations")
        if not isinstance(data, dict):
            return
        item_id = data.get("item_id")
        if isinstance(rid, str) and rid not in self.ann_item:
            self.ann_item[rid] = item_id if isinstance(item_id, str) else None
        if isinstance(item_id, str):
            entry = self.items.get(item_id)
            if entry is not None:
                entry[0].annotated = True

    # -- items ---------------------------------------------------------------------------------
    def item(self, item: Item, at: At) -> None:
        self.n_items += 1
        rid = item.id
        if rid in self.items:
            self.out.emit(ref.DUPLICATE_ID, f"item id {rid!r} is used twice", at, rid, "id",
                          hint=ref.HINTS[ref.DUPLICATE_ID])
            first = self.items[rid]
            if first is not None and first[2] != item.split:
                self.dataset.split_leak(rid, first[2], item.split, at,
                                        what=f"another item {rid!r}")
        else:
            facts = ItemFacts.of(item)
            # token columns (POS, lemma, ...) are labels too: a CoNLL-U sentence is annotated;
            # and a tokenised text under a span (NER) label set had every token tagged, so a
            # sentence with no entity is an all-`O` label, a negative example, not a gap
            facts.annotated = bool(item.tokens) and (
                self.tags_spans or any(tok.attributes for tok in item.tokens))
            self.items[rid] = (facts, at, item.split)
        self.content.item(item, at)
        self.dataset.item(item, at)

    # -- annotations ---------------------------------------------------------------------------
    def annotation(self, ann: AnnotationBase, at: At) -> None:
        self.n_annotations += 1
        rid = ann.id
        out = self.out
        if rid in self.ann_item:
            out.emit(ref.DUPLICATE_ID, f"annotation id {rid!r} is used twice", at, rid, "id",
                     hint=ref.HINTS[ref.DUPLICATE_ID])
        else:
            self.ann_item[rid] = ann.item_id
        facts: ItemFacts | None = None
        if ann.item_id not in self.items:
            if self.items_complete:
                    out.emit(ref.ITEM_MISSING, f"item {ann.item_id!r} does not exist", at, rid,
                         "item_id", hint=ref.HINTS[ref.ITEM_MISSING])
        else:
            entry = self.items[ann.item_id]
            if entry is not None:
                facts = entry[0]
                facts.annotated = True
        ann_type: str = ann.type  # type: ignore[attr-defined]
        resolved = self._references(ann, ann_type, at)
        self.content.annotation(ann, facts, resolved.label, resolved.label_set, at)
        if isinstance(ann, Relation):
            self.relations.append((rid, ann.item_id, ann.source, ann.target, at))
        if ann.sources:
            self.sources.append((rid, list(ann.sources), at))
        if ann.adjudication is not None:
            listed = set(ann.sources)
            for name in ("accepted", "overruled"):
                for k, aid in enumerate(getattr(ann.adjudication, name)):
                    if aid not in listed:
                        out.emit(ref.ADJUDICATION_SOURCE, f"adjudication {name} {aid!r} is not "
                                 "in `sources`", at, rid, "adjudication", name, k,
                                 hint=ref.HINTS[ref.ADJUDICATION_SOURCE])
        if (isinstance(ann, Span) and ann.text is not None and facts is not None
                and facts.text_len is not None and ann.start <= ann.end <= facts.text_len):
            self.spans.setdefault(ann.item_id, []).append(
                (rid, ann.start, ann.end, _text_key(ann.text), at))

    def _references(self, ann: AnnotationBase, ann_type: str, at: At) -> ref.Resolved:
        idx = self.index
        if idx is None:
            return ref.Resolved("none")
        out = self.out
        rid = ann.id
        r = idx.resolve(ann_type, ann.label, ann.label_set)
        status = r.status
        if status == "ok":
            if r.label_set is not None and r.label is not None:
                self.dataset.used_labels.add((r.label_set.name, r.label.name))
        elif status == "unknown":
            out.emit(ref.LABEL_UNKNOWN, f"label {ann.label!r} is in no label set of the "
                     "taxonomy", at, rid, "label", hint=ref.HINTS[ref.LABEL_UNKNOWN])
        elif status == "not-in-set":
            where = (f"label set {ann.label_set!r}" if ann.label_set is not None
                     else f"the label sets of `{ann_type}` annotations")
            owners = ", ".join(idx.label_owners.get(ann.label or "", []))
            out.emit(ref.LABEL_NOT_IN_SET, f"label {ann.label!r} is not in {where} (it is in: "
                     f"{owners})", at, rid, "label", hint=ref.HINTS[ref.LABEL_NOT_IN_SET])
        elif status == "set-unknown":
            out.emit(ref.LABEL_SET_UNKNOWN, f"label set {ann.label_set!r} does not exist", at,
                     rid, "label_set", hint=ref.HINTS[ref.LABEL_SET_UNKNOWN])
        elif status == "no-taxonomy" and not self._warned_no_taxonomy:
            self._warned_no_taxonomy = True
            out.emit(ref.NO_TAXONOMY, f"label {ann.label!r} (and maybe others) cannot be "
                     "checked: the manifest's taxonomy has no label set", at, rid, "label",
                     hint=ref.HINTS[ref.NO_TAXONOMY])
        if isinstance(ann, Rating) and r.label_set is not None:
            for lab in r.label_set.labels:
                if lab.value is not None and lab.value == ann.value:
                    self.dataset.used_labels.add((r.label_set.name, lab.name))
        if ann.annotator is not None and ann.annotator not in idx.annotators:
            out.emit(ref.ANNOTATOR_UNKNOWN, f"annotator {ann.annotator!r} is not in the "
                     "manifest's `annotators`", at, rid, "annotator",
                     hint=ref.HINTS[ref.ANNOTATOR_UNKNOWN])
        g = ann.guideline
        if g is not None:
            versions = idx.guidelines.get(g.id)
            if versions is None:
                out.emit(ref.GUIDELINE_UNKNOWN, f"guideline {g.id!r} is not in the manifest's "
                         "`guidelines`", at, rid, "guideline", "id",
                         hint=ref.HINTS[ref.GUIDELINE_UNKNOWN])
            elif g.version is not None and g.version not in versions:
                known = ", ".join(sorted(versions))
                out.emit(ref.GUIDELINE_VERSION_UNKNOWN, f"guideline {g.id}@{g.version} is not "
                         f"defined (versions: {known})", at, rid, "guideline", "version",
                         hint=ref.HINTS[ref.GUIDELINE_VERSION_UNKNOWN])
        self.dataset.annotation(rid, ann.annotator, g is not None, self.where(at))
        return r

    def where(self, at: At) -> tuple[int, int]:
        """A record's place in reading order: (part number, line or row)."""
        return (self.part_number, at.line if at.line is not None else (at.row or 0))

    # -- the end -------------------------------------------------------------------------------
    def finish(self, texts: TextSource | None = None) -> None:
        """Checks that need every id: relation endpoints, sources, span texts, warnings."""
        out, known, complete = self.out, self.ann_item, self.annotations_complete
        for rid, item_id, source, target, at in self.relations:
            for name, end in (("source", source), ("target", target)):
                check_endpoint(out, rid, item_id, name, end, at, end in known, known.get(end),
                               complete)
        for rid, sources, at in self.sources:
            for k, sid in enumerate(sources):
                check_source(out, rid, k, sid, at, sid in known, complete)
        if self.items_complete:
            for path, item_id in self.guide_examples:
                if item_id not in self.items:
                    out.emit(ref.EXAMPLE_ITEM_MISSING, f"worked example item {item_id!r} is "
                             "not in the dataset", self.manifest_at, None, *path,
                             hint=ref.HINTS[ref.EXAMPLE_ITEM_MISSING])
        if self.spans and texts is not None:
            for item_id, text in texts(set(self.spans)):
                self.check_span_texts(item_id, text)
        self.dataset.finish(self.unannotated())

    def check_span_texts(self, item_id: str, text: str | None) -> None:
        """Compare the spans waiting on this item (if any) with its text; they wait no more."""
        pending = self.spans.pop(item_id, None)
        if pending is None or text is None:
            return
        for span_id, lo, hi, expected, span_at in pending:
            covered = text[lo:hi]
            if _text_key(covered) != expected:
                if not isinstance(expected, str):  # a long span text, kept as its hash
                    message = f"text[{lo}:{hi}] is {quote(covered)}, the span says otherwise"
                elif len(expected) <= 40 and len(covered) <= 40:
                    message = f"text[{lo}:{hi}] is {quote(covered)}, the span says " \
                              f"{quote(expected)}"
                else:
                    i, mine, theirs = where_differ(expected, covered)
                    message = (f"the span's text and text[{lo}:{hi}] differ from character "
                               f"{i}: span {quote(mine, 60)}, text {quote(theirs, 60)}")
                self.out.emit(SPAN_TEXT, message, span_at, span_id, "text",
                              hint=CONTENT_HINTS[SPAN_TEXT])

    def unannotated(self) -> list[tuple[str, At]]:
        """Items no annotation refers to, in the order they were read."""
        return [(rid, e[1]) for rid, e in self.items.items()
                if e is not None and not e[0].annotated and rid not in self.annotated]

    def stats(self) -> dict[str, int]:
        return {"items": self.n_items, "annotations": self.n_annotations}


def _worked_examples(
    manifest: Manifest | None, out: Collector, at: At,
) -> list[tuple[tuple[str | int, ...], str]]:  # fmt: skip
    """The worked examples' item ids with their manifest path; sections checked here."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    if manifest is None:
        return found
    for gi, g in enumerate(manifest.guidelines):
        sections = {s.id for s in g.sections}
        for ei, ex in enumerate(g.worked_examples):
            path: tuple[str | int, ...] = ("guidelines", gi, "worked_examples", ei)
            found.append(((*path, "item_id"), ex.item_id))
            if ex.section is not None and ex.section not in sections:
                out.emit(ref.EXAMPLE_SECTION_UNKNOWN, f"guideline {g.id}@{g.version} has no "
                         f"section {ex.section!r}", at, None, *path, "section",
                         hint=ref.HINTS[ref.EXAMPLE_SECTION_UNKNOWN])
    return found


def check_endpoint(out: Collector, rid: str, item_id: str, name: str, end: str, at: At,
                   found: bool, other: str | None, complete: bool) -> None:
    """A relation's `source` or `target`: an annotation (`found`) on the same item (`other`)."""
    if not found:
        if complete:
            out.emit(ref.RELATION_ENDPOINT_MISSING, f"{name} {end!r} is not an annotation", at,
                     rid, name, hint=ref.HINTS[ref.RELATION_ENDPOINT_MISSING])
        return
    if other is not None and other != item_id:
        out.emit(ref.RELATION_CROSS_ITEM, f"{name} {end!r} is on item {other!r}, "
                 f"the relation on {item_id!r}", at, rid, name,
                 hint=ref.HINTS[ref.RELATION_CROSS_ITEM])


def check_source(out: Collector, rid: str, k: int, sid: str, at: At, found: bool,
                 complete: bool) -> None:
    """One of an annotation's `sources`: an annotation (`found`), unless ids are incomplete."""
    if not found and complete:
        out.emit(ref.SOURCE_MISSING, f"source {sid!r} is not an annotation", at, rid,
                 "sources", k, hint=ref.HINTS[ref.SOURCE_MISSING])
