"""The diff itself: walk the item groups of both sides, match, compare, count."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np
import orjson

from ..dataset import Dataset, natural_key
from ..errors import IntegrityError
from ..fingerprint import Fingerprinter
from ..io import default_verify
from ..issues import Issue, define, issue
from ..models import AnnotationBase, Item, annotation_adapter
from ._changes import ChangeList
from ._compare import compare_annotations, compare_items
from ._match import GroupMatch, match_by_content, match_by_id
from ._options import DiffOptions
from ._result import DatasetDiff
from ._similarity import annotation_type
from ._sources import (
    Group,
    Side,
    Unsorted,
    annotation_keys,
    groups_in_memory,
    groups_streaming,
    open_side,
)
from ._taxonomy import compare_taxonomies

TAXONOMY_CHANGED = define("diff.taxonomy-changed", "warning",
                          "The two versions use different labels or label sets")
KIND_CHANGED = define("diff.item-kind-changed", "warning", "An item's kind differs between versions")
DUPLICATE_ID = define("diff.duplicate-id", "warning",
                      "An annotation id occurs twice in one version of an item")
IDS_RENUMBERED = define("diff.ids-renumbered", "info",
                        "Annotation ids are not stable: annotations were matched by content")

STABLE_SHARE = 0.5
"""`auto` matches by id when at least this share of annotations keep id, type and item."""

_COUNTS = ("added", "removed", "changed", "unchanged")
_ORDER = {"removed": 0, "changed": 1, "added": 2}


def _counter() -> dict[str, int]:
    return dict.fromkeys(_COUNTS, 0)


def _json(record: Item | AnnotationBase) -> dict[str, Any]:
    return record.to_json_dict()


class _Accumulator:
    """Counts and change records, built one item group at a time."""

    def __init__(self, options: DiffOptions, mode: str) -> None:
        self.options = options
        self.mode = mode
        self.ignored = options.ignored_annotation_fields()
        self.ignored_item = options.ignored_item_fields()
        self.label_map = options.label_map
        self.items = _counter()
        self.anns = _counter()
        self.item_kinds: Counter[str] = Counter()
        self.ann_kinds: Counter[str] = Counter()
        self.by_type: dict[str, dict[str, int]] = defaultdict(_counter)
        self.by_label: dict[str, dict[str, int]] = defaultdict(_counter)
        self.by_annotator: dict[str, dict[str, int]] = defaultdict(_counter)
        self.confusion: Counter[tuple[str | None, str | None]] = Counter()
        self.used_old: set[str] = set()
        self.used_new: set[str] = set()
        self.n_old = {"items": 0, "annotations": 0}
        self.n_new = {"items": 0, "annotations": 0}
        self.geo_scores: list[float] = []
        self.item_changes = ChangeList()
        # annotation changes wait with their sort key (item, kind of change, id) for the end
        self.ann_changes: list[tuple[Any, bytes]] = []
        self.issues: list[Issue] = []
        self.truncated = False
        # id matching: additions/removals wait for the end, where a shared id means a move
        # (as compact JSON: they wait for the end, and are few unless the ids are not stable)
        self.pending_removed: list[bytes] = []
        self.pending_added: list[bytes] = []
        self.fp_old: Fingerprinter | None = None
        self.fp_new: Fingerprinter | None = None

    # -- helpers --------------------------------------------------------------------------
    def _keep(self, target: ChangeList | list[tuple[Any, bytes]],
              record: dict[str, Any]) -> None:
        limit = self.options.max_changes
        if limit is not None and len(target) >= limit:
            self.truncated = True
            return
        if isinstance(target, ChangeList):
            target.append(record)
            return
        key = (natural_key(str(record["item_id"])), _ORDER[record["change"]],
               natural_key(str(record["id"])))
        target.append((key, orjson.dumps(record)))

    def _relabel(self, anns: list[AnnotationBase]) -> list[AnnotationBase]:
        if not self.label_map:
            return anns
        return [a.model_copy(update={"label": self.label_map[a.label]})
                if a.label in self.label_map else a for a in anns]

    def _count(self, what: str, ann: AnnotationBase, annotator: str | None) -> None:
        self.anns[what] += 1
        self.by_type[annotation_type(ann)][what] += 1
        self.by_label[ann.label or "(none)"][what] += 1
        self.by_annotator[annotator or "(none)"][what] += 1

    def _added(self, b: AnnotationBase) -> None:
        self._count("added", b, b.annotator)
        self.confusion[(None, b.label)] += 1
        self._keep(self.ann_changes, {
            "change": "added", "item_id": b.item_id, "type": annotation_type(b),
            "id": b.id, "label": b.label, "new": _json(b)})

    def _removed(self, a: AnnotationBase) -> None:
        self._count("removed", a, a.annotator)
        self.confusion[(a.label, None)] += 1
        self._keep(self.ann_changes, {
            "change": "removed", "item_id": a.item_id, "type": annotation_type(a),
            "id": a.id, "label": a.label, "old": _json(a)})

    def _pair(self, a: AnnotationBase, b: AnnotationBase, sim: float | None,
              id_map: dict[str, str] | None, *, moved: bool = False) -> bool:
        kinds, details = compare_annotations(a, b, self.options, self.ignored, id_map,
                                             check_item=moved)
        self.confusion[(a.label, b.label)] += 1
        if not kinds:
            self._count("unchanged", a, b.annotator)
            return False
        self._count("changed", a, b.annotator)
        self.ann_kinds.update(kinds)
        geo = details.get("geometry", {})
        score = geo.get("iou", geo.get("oks", geo.get("overlap")))
        if score is not None:
            self.geo_scores.append(float(score))
        record: dict[str, Any] = {
            "change": "changed", "item_id": b.item_id, "type": annotation_type(b), "id": b.id,
            "label": b.label, "kinds": kinds, "details": details}
        if a.id != b.id:
            record["old_id"] = a.id
        if sim is not None:
            record["similarity"] = round(sim, 4)
        record["old"] = _json(a)
        record["new"] = _json(b)
        self._keep(self.ann_changes, record)
        return True

    # -- one item ---------------------------------------------------------------------------
    def group(self, key: str, oi: Item | None, ni: Item | None,
              oa: list[AnnotationBase], na: list[AnnotationBase]) -> None:
        if self.fp_old is not None:
            for r in ([oi] if oi else []) + oa:
                self.fp_old.add(r)
        if self.fp_new is not None:
            for r in ([ni] if ni else []) + na:
                self.fp_new.add(r)
        self.n_old["items"] += oi is not None
        self.n_new["items"] += ni is not None
        self.n_old["annotations"] += len(oa)
        self.n_new["annotations"] += len(na)
        oa = self._relabel(oa)
        self.used_old.update(a.label for a in oa if a.label)
        self.used_new.update(b.label for b in na if b.label)
        m: GroupMatch = (match_by_id(oa, na) if self.mode == "id"
                         else match_by_content(oa, na, self.options, self.ignored))
        for dup in m.duplicate_ids:
            self.issues.append(issue(
                DUPLICATE_ID, f"annotation id {dup!r} occurs more than once on item {key!r}",
                record_id=dup, hint="ids should be unique; duplicates are paired in order"))
        id_map = {a.id: b.id for a, b, _ in m.pairs} if self.mode == "content" else None
        per_item = _counter()
        for a, b, sim in m.pairs:
            per_item["changed" if self._pair(a, b, sim, id_map) else "unchanged"] += 1
        per_item["removed"] = len(m.removed)
        per_item["added"] = len(m.added)
        if self.mode == "id":
            self.pending_removed.extend(orjson.dumps(_json(a)) for a in m.removed)
            self.pending_added.extend(orjson.dumps(_json(b)) for b in m.added)
        else:
            for a in m.removed:
                self._removed(a)
            for b in m.added:
                self._added(b)
        self._item(key, oi, ni, per_item)

    def _item(self, key: str, oi: Item | None, ni: Item | None, per_item: dict[str, int]) -> None:
        ann_changed = per_item["added"] + per_item["removed"] + per_item["changed"] > 0
        if oi is None and ni is None:
            if not ann_changed:
                return
            # annotations of an item neither side has: reported under the item id they name
            record: dict[str, Any] = {"change": "changed", "item_id": key, "kinds": ["annotations"],
                                      "details": {}, "annotations": per_item}
            self.items["changed"] += 1
            self.item_kinds["annotations"] += 1
            self._keep(self.item_changes, record)
            return
        if oi is None or ni is None:
            which = "added" if oi is None else "removed"
            it = ni if ni is not None else oi
            assert it is not None
            self.items[which] += 1
            self._keep(self.item_changes, {
                "change": which, "item_id": it.id, "item_kind": it.kind,
                "annotations": per_item, "new" if which == "added" else "old": _json(it)})
            return
        kinds, details = compare_items(oi, ni, self.options, self.ignored_item)
        if "kind" in kinds:
            self.issues.append(issue(
                KIND_CHANGED, f"item {ni.id!r} was a(n) {oi.kind} item and is now {ni.kind}",
                record_id=ni.id, path="$.kind",
                hint="its annotations were still compared; check the item is the same media"))
        if ann_changed:
            kinds = [*kinds, "annotations"]
        if not kinds:
            self.items["unchanged"] += 1
            return
        self.items["changed"] += 1
        self.item_kinds.update(kinds)
        record = {"change": "changed", "item_id": ni.id, "item_kind": ni.kind, "kinds": kinds,
                  "details": details, "annotations": per_item}
        if oi.id != ni.id:
            record["old_id"] = oi.id
        record["old"] = _json(oi)
        record["new"] = _json(ni)
        self._keep(self.item_changes, record)

    # -- the end ------------------------------------------------------------------------------
    def finish(self) -> None:
        """Settle id-matched additions/removals (a shared id across items is a move)."""
        def model(raw: bytes) -> AnnotationBase:
            return annotation_adapter.validate_json(raw)

        removed: dict[str, list[bytes]] = defaultdict(list)
        for raw in self.pending_removed:
            removed[orjson.loads(raw)["id"]].append(raw)
        for raw in self.pending_added:
            b = model(raw)
            bucket = removed.get(b.id)
            if bucket:
                self._pair(model(bucket.pop(0)), b, None, None, moved=True)
            else:
                self._added(b)
        for bucket in removed.values():
            for raw in bucket:
                self._removed(model(raw))
        self.pending_added, self.pending_removed = [], []
        self.ann_changes.sort(key=lambda kr: kr[0])


def _side_info(side: Side, ds: Dataset | None, counts: dict[str, int],
               fp: Fingerprinter | None) -> dict[str, Any]:
    m = side.manifest
    fingerprint: str | None
    if fp is not None:
        fingerprint = fp.hexdigest(m)
    else:
        fingerprint = ds.fingerprint() if ds is not None else None
    _check_claim(side, fingerprint)
    return {"source": side.source, "format": side.format, "name": m.name, "version": m.version,
            "spec_version": m.groundtruth, "fingerprint": fingerprint, **counts}


def _check_claim(side: Side, computed: str | None) -> None:
    """A native dataset read from storage must hold what its manifest's fingerprint names:
    the report shows the computed value, and a different claim is an error (not shown)."""
    claimed = side.manifest.fingerprint
    if not (side.stored and side.format == "groundtruth" and claimed and computed):
        return
    verify = side.native.verify if side.native is not None else default_verify()
    if verify and computed != claimed:
        raise IntegrityError(
            f"{side.source}: the records give fingerprint {computed}, the manifest claims "
            f"{claimed}",
            hint="the manifest's fingerprint was changed, or the data and the manifest were "
                 "rewritten by hand: take the dataset again from its source (--no-verify "
                 "compares it anyway, showing the computed fingerprint)")


def _decide(old: Side, new: Side, options: DiffOptions) -> dict[str, Any]:
    if options.match_by != "auto":
        return {"method": options.match_by, "reason": "asked for"}
    with_item = options.item_key == "id"
    ka, kb = annotation_keys(old, with_item), annotation_keys(new, with_item)
    return decide_auto(len(ka), len(kb), len(np.intersect1d(ka, kb)), with_item)


def decide_auto(n_old: int, n_new: int, shared: int, with_item: bool) -> dict[str, Any]:
    """`auto`: ids when at least `STABLE_SHARE` of the smaller side's annotation keys (see
    `annotation_keys`: n_old, n_new of them) are on both sides (`shared` distinct keys)."""
    smaller = min(n_old, n_new)
    if smaller == 0:
        return {"method": "id", "reason": "one side has no annotations", "stable_share": None}
    share = shared / smaller
    method = "id" if share >= STABLE_SHARE else "content"
    return {"method": method, "stable_share": round(share, 4),
            "reason": f"{share:.0%} of annotations keep their id, type"
                      + (" and item" if with_item else "")}


def _groups(old: Side, new: Side, options: DiffOptions, force_memory: bool) -> Iterable[Group]:
    if (not force_memory and old.native is not None and new.native is not None
            and old.dataset is None and new.dataset is None and options.item_key == "id"):
        return groups_streaming(old.native, new.native)
    return groups_in_memory(old.materialise(), new.materialise(), options.item_key)


def run(old_obj: Any, new_obj: Any, options: DiffOptions, *, old_format: str | None,
        new_format: str | None, storage_options: dict[str, Any] | None,
        read_options: dict[str, Any]) -> DatasetDiff:
    old = open_side(old_obj, old_format, storage_options, read_options)
    new = open_side(new_obj, new_format, storage_options, read_options)
    decision = _decide(old, new, options)
    force_memory = False
    while True:
        acc = _Accumulator(options, decision["method"])
        streaming = old.dataset is None and new.dataset is None and not force_memory
        if streaming:  # computed, never taken from the manifest (see `_check_claim`)
            acc.fp_old = Fingerprinter()
            acc.fp_new = Fingerprinter()
        try:
            for g in _groups(old, new, options, force_memory):
                acc.group(*g)
        except Unsorted:
            force_memory = True  # a hand-made, unsorted dataset: redo it in memory
            continue
        break
    acc.finish()
    decision["streamed"] = not force_memory and old.dataset is None and new.dataset is None
    return result(old, new, options, decision, acc)


def result(old: Side, new: Side, options: DiffOptions, decision: dict[str, Any],
           acc: _Accumulator) -> DatasetDiff:
    """The diff from a finished accumulator: taxonomy, issues, summary, side descriptions."""
    taxonomy = compare_taxonomies(old.manifest, new.manifest, acc.used_old, acc.used_new,
                                  acc.confusion, options.label_map)
    issues = list(acc.issues)
    if decision["method"] == "content" and options.match_by == "auto":
        issues.insert(0, issue(IDS_RENUMBERED,
                               f"annotation ids are not stable ({decision['reason']}): "
                               "annotations were matched by content",
                               hint="pass match_by='id' (--match-by id) to force id matching"))
    if taxonomy["changed"]:
        labels = taxonomy["labels"]
        parts = [f"{len(labels[k])} label(s) {k}" for k in ("added", "removed", "renamed")
                 if labels[k]]
        issues.insert(0, issue(
            TAXONOMY_CHANGED, "the taxonomy changed: " + (", ".join(parts) or "label sets differ"),
            hint="map old labels to new ones with label_map (--label-map FILE) to compare "
                 "through a rename"))
    summary = _summary(acc)
    return DatasetDiff(
        old=_side_info(old, old.dataset, acc.n_old, acc.fp_old),
        new=_side_info(new, new.dataset, acc.n_new, acc.fp_new),
        options=options, match_by=decision, summary=summary, taxonomy=taxonomy, issues=issues,
        item_changes=acc.item_changes,
        annotation_changes=ChangeList.from_raw([raw for _, raw in acc.ann_changes]),
        truncated=acc.truncated)


def _sorted_table(table: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {k: table[k] for k in sorted(table)}


def _summary(acc: _Accumulator) -> dict[str, Any]:
    scores = acc.geo_scores
    confusion = [
        {"old": o, "new": n, "count": c}
        for (o, n), c in sorted(acc.confusion.items(),
                                key=lambda kv: (-kv[1], str(kv[0][0]), str(kv[0][1])))
    ]
    return {
        "items": {**acc.items, "old": acc.n_old["items"], "new": acc.n_new["items"],
                  "by_change": dict(sorted(acc.item_kinds.items()))},
        "annotations": {
            **acc.anns, "old": acc.n_old["annotations"], "new": acc.n_new["annotations"],
            "by_change": dict(sorted(acc.ann_kinds.items())),
            "geometry": {
                "changed": len(scores),
                "mean_similarity": round(float(np.mean(scores)), 4) if scores else None,
                "min_similarity": round(float(np.min(scores)), 4) if scores else None,
            },
        },
        "by_type": _sorted_table(acc.by_type),
        "by_label": _sorted_table(acc.by_label),
        "by_annotator": _sorted_table(acc.by_annotator),
        "confusion": confusion,
    }
