"""Three-way merge of labeled data at the level of items, annotations and labels.

Both sides are diffed against the base with `groundtruth.diff` (ids when they are stable,
content matching otherwise), so "the same annotation" means what it means in `gt diff`. Then,
per base record (an item, or an annotation keyed by its base item and id):

- changed (or removed) on one side only: the change applies;
- the same change on both sides (equal records, or both removed): it applies once;
- different changes (changed/changed, changed/removed): a conflict.

Annotations added on both sides apply once when they are the same record, or the same record
but for its id (two teams adding the same missing box); two different additions under one id
conflict. A conflict is resolved by `prefer` (that side's change wins, a removal included) or
kept as a dispute: every side's version stays in the dataset as an annotation of its own, id
`ID~ours` / `ID~theirs`, carrying its annotator and `extensions.merge` = {conflict, side,
reason, base_id}, so agreement and review tools see the disagreement on that item. An item
cannot be held twice: an item conflict keeps the base item (for added/added the version whose
canonical JSON sorts first, so that the result does not depend on which side is `ours`) with
both versions in `extensions.merge`; an item removed on one side stays when the other side
still annotates it.

Taxonomy: label sets and labels three-way by name (added on either side: added; removed on
one side and untouched on the other: removed; a label changed differently on both sides: a
conflict). A rename one side made (as `gt diff` infers it) is applied to the other side's
new and changed annotations still using the old name. Annotators, guidelines and splits merge
by id, manifest scalars and `metadata` keys field by field. The merged manifest names both
sides as parents (ours, theirs); its version label is the one given, else none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from ..dataset import Dataset
from ..diff import DatasetDiff, diff
from ..models import AnnotationBase, Item, Manifest, annotation_adapter

Side = Literal["ours", "theirs"]
SIDES: tuple[Side, Side] = ("ours", "theirs")
MERGE_EXTENSION = "merge"


def canon(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


@dataclass
class Conflict:
    """Two sides changed one record differently."""

    kind: Literal["item", "annotation", "label_set", "label", "annotator", "guideline", "split",
                  "manifest"]
    key: str
    reason: str
    ours: Any
    theirs: Any
    item_id: str | None = None
    resolved: Side | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "key": self.key, "reason": self.reason}
        if self.item_id is not None:
            out["item_id"] = self.item_id
        if self.kind == "annotation":
            for side in SIDES:
                v = getattr(self, side)
                out[f"{side}_annotator"] = v.get("annotator") if isinstance(v, dict) else None
        out |= {"ours": self.ours, "theirs": self.theirs, "resolved": self.resolved}
        return out


@dataclass
class Change:
    """One side's change to one base record: `new` is None for a removal."""

    new: dict[str, Any] | None

    @property
    def removed(self) -> bool:
        return self.new is None


@dataclass
class SideChanges:
    """What one side did to the base, from its diff."""

    items: dict[str, Change] = field(default_factory=dict)
    items_added: dict[str, dict[str, Any]] = field(default_factory=dict)
    anns: dict[tuple[str, str], Change] = field(default_factory=dict)
    anns_added: list[dict[str, Any]] = field(default_factory=list)
    renames: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_diff(cls, d: DatasetDiff) -> SideChanges:
        out = cls()
        for r in d.item_changes:
            if r["change"] == "added":
                out.items_added[r["item_id"]] = r["new"]
            elif r["change"] == "removed":
                out.items[r["item_id"]] = Change(None)
            elif set(r.get("kinds", ())) - {"annotations"} and "new" in r:
                out.items[r.get("old_id", r["item_id"])] = Change(r["new"])
        for r in d.annotation_changes:
            if r["change"] == "added":
                out.anns_added.append(r["new"])
            elif r["change"] == "removed":
                out.anns[(r["old"]["item_id"], r["old"]["id"])] = Change(None)
            else:
                out.anns[(r["old"]["item_id"], r["old"]["id"])] = Change(r["new"])
        out.renames = {r["old"]: r["new"] for r in d.taxonomy["labels"]["renamed"]}
        return out


def _same(a: Change, b: Change) -> bool:
    return a.removed == b.removed and (a.removed or canon(a.new) == canon(b.new))


def _reason(a: Change | None, b: Change | None) -> str:
    def word(c: Change | None) -> str:
        return "unchanged" if c is None else ("removed" if c.removed else "changed")

    return f"{word(a)}/{word(b)}"


@dataclass
class MergeOutcome:
    dataset: Dataset
    conflicts: list[Conflict]
    counts: dict[str, dict[str, int]]
    diffs: dict[Side, DatasetDiff]


def _counter() -> dict[str, int]:
    return {"ours": 0, "theirs": 0, "both": 0, "conflicts": 0}


class _Merger:
    def __init__(self, base: Dataset, ours: Dataset, theirs: Dataset,
                 prefer: Side | None, diff_options: dict[str, Any]) -> None:
        self.base, self.sides = base, {"ours": ours, "theirs": theirs}
        self.prefer = prefer
        self.diffs: dict[Side, DatasetDiff] = {
            s: diff(base, self.sides[s], **diff_options) for s in SIDES}
        self.ch = {s: SideChanges.from_diff(self.diffs[s]) for s in SIDES}
        self.conflicts: list[Conflict] = []
        self.counts = {"items": _counter(), "annotations": _counter(), "taxonomy": _counter(),
                       "manifest": _counter()}

    # -- helpers ----------------------------------------------------------------------------
    def _conflict(self, c: Conflict, counts: str) -> Side | None:
        c.resolved = self.prefer
        self.conflicts.append(c)
        self.counts[counts]["conflicts"] += 1
        return self.prefer

    def _relabel(self, data: dict[str, Any], side: Side) -> dict[str, Any]:
        """The other side's renames, applied to a label this side still uses by its old name."""
        other = self.ch["theirs" if side == "ours" else "ours"].renames
        own = self.ch[side].renames
        label = data.get("label")
        if label in other and label not in own:
            return {**data, "label": other[label]}
        return data

    # -- items ------------------------------------------------------------------------------
    def items(self) -> dict[str, Item]:
        merged = {it.id: it for it in self.base.items}
        o, t = self.ch["ours"], self.ch["theirs"]
        for key in sorted(set(o.items) | set(t.items)):
            a, b = o.items.get(key), t.items.get(key)
            if a is None or b is None:
                side: Side = "ours" if b is None else "theirs"
                self.counts["items"][side] += 1
                self._apply_item(merged, key, a or b)
            elif _same(a, b):
                self.counts["items"]["both"] += 1
                self._apply_item(merged, key, a)
            else:
                won = self._conflict(Conflict("item", key, _reason(a, b), a.new, b.new,
                                              item_id=key), "items")
                if won is not None:
                    self._apply_item(merged, key, a if won == "ours" else b)
                else:
                    kept = a.new if b.removed else (b.new if a.removed else None)
                    base_item = merged[key]
                    data = kept if kept is not None else base_item.to_json_dict()
                    merged[key] = self._marked_item(data, key, _reason(a, b), a.new, b.new)
        for key in sorted(set(o.items_added) | set(t.items_added)):
            ja, jb = o.items_added.get(key), t.items_added.get(key)
            if ja is None or jb is None:
                self.counts["items"]["ours" if jb is None else "theirs"] += 1
                merged[key] = Item.model_validate(ja or jb)
            elif canon(ja) == canon(jb):
                self.counts["items"]["both"] += 1
                merged[key] = Item.model_validate(ja)
            else:
                won = self._conflict(Conflict("item", key, "added/added", ja, jb, item_id=key),
                                     "items")
                if won is not None:
                    merged[key] = Item.model_validate(ja if won == "ours" else jb)
                else:
                    first = min((ja, jb), key=canon)
                    merged[key] = self._marked_item(first, key, "added/added", ja, jb)
        return merged

    @staticmethod
    def _apply_item(merged: dict[str, Item], key: str, change: Change | None) -> None:
        assert change is not None
        if change.new is None:
            merged.pop(key, None)
        else:
            merged[key] = Item.model_validate(change.new)

    @staticmethod
    def _marked_item(data: dict[str, Any], key: str, reason: str, ours: Any,
                     theirs: Any) -> Item:
        ext = dict(data.get("extensions") or {})
        ext[MERGE_EXTENSION] = {"conflict": f"item:{key}", "reason": reason, "ours": ours,
                                "theirs": theirs}
        return Item.model_validate({**data, "extensions": ext})

    # -- annotations ------------------------------------------------------------------------
    def annotations(self) -> list[AnnotationBase]:
        kept: list[AnnotationBase] = []  # untouched base records stay as they are (no re-parse)
        out: list[dict[str, Any]] = []
        o, t = self.ch["ours"], self.ch["theirs"]
        for ann in self.base.annotations:
            key = (ann.item_id, ann.id)
            a, b = (o.anns.get(key), t.anns.get(key)) if o.anns or t.anns else (None, None)
            if a is None and b is None:
                kept.append(ann)
            elif a is None or b is None:
                side: Side = "ours" if b is None else "theirs"
                self.counts["annotations"][side] += 1
                change = a or b
                assert change is not None
                if change.new is not None:
                    out.append(self._relabel(change.new, side))
            elif _same(a, b):
                self.counts["annotations"]["both"] += 1
                if a.new is not None:
                    out.append(a.new)
            else:
                na = None if a.new is None else self._relabel(a.new, "ours")
                nb = None if b.new is None else self._relabel(b.new, "theirs")
                reason = _reason(a, b)
                won = self._conflict(Conflict("annotation", f"{ann.item_id}/{ann.id}", reason,
                                              na, nb, item_id=ann.item_id), "annotations")
                if won is not None:
                    chosen = na if won == "ours" else nb
                    if chosen is not None:
                        out.append(chosen)
                else:
                    out += self._disputed(ann.id, ann.item_id, reason, na, nb)
        out += self._additions()
        return kept + [annotation_adapter.validate_python(d) for d in out]

    def _disputed(self, base_id: str, item_id: str, reason: str,
                  na: dict[str, Any] | None, nb: dict[str, Any] | None) -> list[dict[str, Any]]:
        kept = []
        for side, data in (("ours", na), ("theirs", nb)):
            if data is None:
                continue
            ext = dict(data.get("extensions") or {})
            ext[MERGE_EXTENSION] = {"conflict": f"{item_id}/{base_id}", "side": side,
                                    "reason": reason, "base_id": base_id}
            kept.append({**data, "id": f"{base_id}~{side}", "extensions": ext})
        return kept

    def _additions(self) -> list[dict[str, Any]]:
        o, t = self.ch["ours"], self.ch["theirs"]
        mine = [self._relabel(d, "ours") for d in o.anns_added]
        theirs = [self._relabel(d, "theirs") for d in t.anns_added]

        def body(d: dict[str, Any]) -> bytes:
            return canon({k: v for k, v in d.items() if k != "id"})

        by_key = {(d["item_id"], d["id"]): d for d in theirs}
        by_body: dict[bytes, list[dict[str, Any]]] = {}
        for d in theirs:
            by_body.setdefault(body(d), []).append(d)
        used: set[int] = set()
        out: list[dict[str, Any]] = []
        for d in mine:
            twin = by_key.get((d["item_id"], d["id"]))
            if twin is not None and id(twin) not in used and canon(twin) == canon(d):
                used.add(id(twin))
                self.counts["annotations"]["both"] += 1
                out.append(d)
                continue
            if twin is not None and id(twin) not in used:
                used.add(id(twin))
                won = self._conflict(Conflict("annotation", f"{d['item_id']}/{d['id']}",
                                              "added/added", d, twin, item_id=d["item_id"]),
                                     "annotations")
                if won is not None:
                    out.append(d if won == "ours" else twin)
                else:
                    out += self._disputed(d["id"], d["item_id"], "added/added", d, twin)
                continue
            same = next((x for x in by_body.get(body(d), []) if id(x) not in used), None)
            if same is not None:  # the same addition under another id: once, the smaller id
                used.add(id(same))
                self.counts["annotations"]["both"] += 1
                out.append(min(d, same, key=lambda x: str(x["id"])))
                continue
            self.counts["annotations"]["ours"] += 1
            out.append(d)
        for d in theirs:
            if id(d) not in used:
                self.counts["annotations"]["theirs"] += 1
                out.append(d)
        return out

    # -- manifest ---------------------------------------------------------------------------
    def _by_id(self, kind: Any, get: Callable[[Manifest], Iterable[Any]],
               key: Callable[[Any], str], counts: str) -> list[Any]:
        """Three-way merge of a list of models keyed by `key`; base order, then additions."""
        def table(m: Manifest) -> dict[str, dict[str, Any]]:
            return {key(x): x.model_dump(mode="json", exclude_none=True) for x in get(m)}

        b = table(self.base.manifest)
        sides = {s: table(self.sides[s].manifest) for s in SIDES}
        order = list(b) + [k for s in SIDES for k in sides[s] if k not in b]
        out: dict[str, dict[str, Any]] = {}
        for k in dict.fromkeys(order):
            vals = {s: sides[s].get(k) for s in SIDES}
            base = b.get(k)
            changed = {s: canon(vals[s]) != canon(base) for s in SIDES}
            if not any(changed.values()):
                value = base
            elif changed["ours"] and changed["theirs"]:
                if canon(vals["ours"]) == canon(vals["theirs"]):
                    self.counts[counts]["both"] += 1
                    value = vals["ours"]
                else:
                    reason = ("added/added" if base is None
                              else _reason(Change(vals["ours"]), Change(vals["theirs"])))
                    won = self._conflict(Conflict(kind, k, reason, vals["ours"],
                                                  vals["theirs"]), counts)
                    if won is not None:
                        value = vals[won]
                    elif base is not None:
                        value = base
                    else:
                        value = min((vals["ours"], vals["theirs"]), key=canon)
            else:
                side: Side = "ours" if changed["ours"] else "theirs"
                self.counts[counts][side] += 1
                value = vals[side]
            if value is not None:
                out[k] = value
        return list(out.values())

    def manifest(self) -> Manifest:
        bm = self.base.manifest
        sets = self._label_sets()
        annotators = self._by_id("annotator", lambda m: m.annotators, lambda a: a.id, "manifest")
        guidelines = self._by_id("guideline", lambda m: m.guidelines, lambda g: g.id, "manifest")
        splits = self._by_id("split", lambda m: m.splits, lambda s: s.name, "manifest")
        scalars: dict[str, Any] = {}
        for name in ("name", "description", "license", "creators", "metadata"):
            base = getattr(bm, name)
            vals = {s: getattr(self.sides[s].manifest, name) for s in SIDES}
            dumped = {s: canon(_jsonable(vals[s])) for s in SIDES}
            bd = canon(_jsonable(base))
            if dumped["ours"] == dumped["theirs"] or dumped["theirs"] == bd:
                scalars[name] = vals["ours"]
            elif dumped["ours"] == bd:
                scalars[name] = vals["theirs"]
            elif name == "metadata":
                scalars[name] = self._merge_metadata(base, vals["ours"], vals["theirs"])
            else:
                won = self._conflict(Conflict("manifest", name, "changed/changed",
                                              _jsonable(vals["ours"]), _jsonable(vals["theirs"])),
                                     "manifest")
                scalars[name] = base if won is None else vals[won]
        data = bm.model_dump(mode="json", exclude_none=True)
        data.update({k: _jsonable(v) for k, v in scalars.items()})
        data.update({"taxonomy": {"label_sets": sets}, "annotators": annotators,
                     "guidelines": guidelines, "splits": splits})
        for k in ("fingerprint", "parts", "encoding", "created", "version"):
            data.pop(k, None)
        data["parents"] = [self.diffs[s].new["fingerprint"] for s in SIDES]
        return Manifest.model_validate(data)

    def _merge_metadata(self, base: dict[str, Any], ours: dict[str, Any],
                        theirs: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k in dict.fromkeys([*base, *ours, *theirs]):
            b, o, t = base.get(k), ours.get(k), theirs.get(k)
            if canon(o) == canon(t) or canon(t) == canon(b):
                v = o
            elif canon(o) == canon(b):
                v = t
            else:
                won = self._conflict(Conflict("manifest", f"metadata.{k}", "changed/changed",
                                              o, t), "manifest")
                v = b if won is None else (o if won == "ours" else t)
            if v is not None:
                out[k] = v
        return out

    def _label_sets(self) -> list[dict[str, Any]]:
        def table(m: Manifest) -> dict[str, dict[str, Any]]:
            return {s.name: s.model_dump(mode="json", exclude_none=True)
                    for s in m.taxonomy.label_sets}

        b = table(self.base.manifest)
        sides = {s: table(self.sides[s].manifest) for s in SIDES}
        out: list[dict[str, Any]] = []
        for name in dict.fromkeys([*b, *sides["ours"], *sides["theirs"]]):
            base, o, t = b.get(name), sides["ours"].get(name), sides["theirs"].get(name)
            if o is None or t is None:
                # removed on a side: gone unless the other side changed it (then a conflict)
                other, gone_side = (t, "ours") if o is None else (o, "theirs")
                if base is None:
                    if other is not None:
                        self.counts["taxonomy"]["theirs" if o is None else "ours"] += 1
                        out.append(other)
                    continue
                if other is None:
                    self.counts["taxonomy"]["both"] += 1
                    continue
                if canon(other) == canon(base):
                    self.counts["taxonomy"][gone_side] += 1
                    continue
                won = self._conflict(Conflict("label_set", name,
                                              "removed/changed" if o is None else "changed/removed",
                                              o, t), "taxonomy")
                if won is None or (won == "ours" and o is not None) or (won == "theirs"
                                                                         and t is not None):
                    out.append(other)
                continue
            out.append(self._label_set(name, base, o, t))
        return out

    def _label_set(self, name: str, base: dict[str, Any] | None, o: dict[str, Any],
                   t: dict[str, Any]) -> dict[str, Any]:
        b = base or {}
        merged: dict[str, Any] = {}
        for k in dict.fromkeys([*b, *o, *t]):
            if k == "labels":
                continue
            bv, ov, tv = b.get(k), o.get(k), t.get(k)
            if canon(ov) == canon(tv) or canon(tv) == canon(bv):
                v = ov
            elif canon(ov) == canon(bv):
                v = tv
            else:
                won = self._conflict(Conflict("label_set", f"{name}.{k}", "changed/changed",
                                              ov, tv), "taxonomy")
                v = bv if won is None else (ov if won == "ours" else tv)
            if v is not None:
                merged[k] = v
        bl = {lb["name"]: lb for lb in b.get("labels", [])}
        ol = {lb["name"]: lb for lb in o.get("labels", [])}
        tl = {lb["name"]: lb for lb in t.get("labels", [])}
        labels: list[dict[str, Any]] = []
        order: list[str] = []
        for ln in bl:  # a renamed label takes the place of its old name
            order += [ln, *(self.ch[side].renames[ln] for side in SIDES
                            if ln in self.ch[side].renames)]
        for ln in dict.fromkeys([*order, *ol, *tl]):
            bv, ov, tv = bl.get(ln), ol.get(ln), tl.get(ln)
            if canon(ov) == canon(tv):
                v = ov
                if canon(ov) != canon(bv):
                    self.counts["taxonomy"]["both"] += 1
            elif canon(tv) == canon(bv):
                v = ov
                self.counts["taxonomy"]["ours"] += 1
            elif canon(ov) == canon(bv):
                v = tv
                self.counts["taxonomy"]["theirs"] += 1
            else:
                reason = "added/added" if bv is None else _reason(Change(ov), Change(tv))
                won = self._conflict(Conflict("label", f"{name}/{ln}", reason, ov, tv),
                                     "taxonomy")
                if won is not None:
                    v = ov if won == "ours" else tv
                else:  # the base label stays (for added/added: the first, canonically)
                    v = bv if bv is not None else min((ov, tv), key=canon)
            if v is not None:
                labels.append(v)
        merged["labels"] = labels
        return merged

    def run(self, version: str | None) -> MergeOutcome:
        items = self.items()
        anns = self.annotations()
        annotated = {a.item_id for a in anns}
        settled = {c.key for c in self.conflicts if c.kind == "item"}
        base_items = {it.id: it for it in self.base.items}
        # an item one side removed, which the other side still annotates: a conflict
        for s in SIDES:
            other: Side = "theirs" if s == "ours" else "ours"
            for key, change in self.ch[s].items.items():
                if not change.removed or key in items or key not in annotated:
                    continue
                if key in settled:  # removed/changed, resolved by `prefer` for the removal
                    anns = [a for a in anns if a.item_id != key]
                    continue
                reason = "removed/annotated" if s == "ours" else "annotated/removed"
                c = Conflict("item", key, reason, None, None, item_id=key)
                won = self._conflict(c, "items")
                if won == s:
                    anns = [a for a in anns if a.item_id != key]
                elif won == other:
                    items[key] = base_items[key]
                else:
                    items[key] = self._marked_item(base_items[key].to_json_dict(), key,
                                                   reason, None, None)
        manifest = self.manifest()
        if version is not None:
            manifest = manifest.model_copy(update={"version": version})
        ds = Dataset(manifest, items.values(), anns, source=None, source_format="groundtruth")
        ds.sort()
        return MergeOutcome(ds, self.conflicts, self.counts, self.diffs)


def _jsonable(v: Any) -> Any:
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    if hasattr(v, "model_dump"):
        return v.model_dump(mode="json", exclude_none=True)
    return v


def three_way(base: Dataset, ours: Dataset, theirs: Dataset, *, prefer: Side | None = None,
              version: str | None = None, **diff_options: Any) -> MergeOutcome:
    """Merge `ours` and `theirs`, both derived from `base` (see the module doc)."""
    return _Merger(base, ours, theirs, prefer, diff_options).run(version)
