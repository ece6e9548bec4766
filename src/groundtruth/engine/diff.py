"""`groundtruth.diff` on an engine: both versions shuffled by item, each bucket diffed as one
process diffs a whole dataset, and the buckets' results merged into exactly the result of the
single-process diff.

    d = groundtruth.diff("s3://b/v1", "s3://b/v2", engine="dask", workers=8)

The steps:

1. Every data part of both versions is read on a worker and split into buckets by item id
   (the same hash on both sides, so an item's old and new records share a bucket); each
   bucket validates its records with the models and puts them in single-process read order.
   The split also reports whether the part is in the canonical order (items by id,
   annotations by item) and its first and last id: the caller decides from these whether one
   process would have streamed the two versions side by side or (a hand-made, unsorted
   dataset) read them whole, which groups items differently when ids repeat.
2. `match_by="auto"`: each bucket counts its annotation keys (id, type, item) per side and
   the keys both sides share; a key names its item, so it lives in one bucket and the counts
   add up to the single-process ones. The caller decides `id` or `content`.
3. Each bucket runs the single-process accumulator on its item groups, in the single-process
   order, and notes where each group's output starts in its lists (change records, issues,
   geometry scores, annotations waiting for a cross-item match, confusion entries).
4. The caller merges: counts add up; lists are merged group by group in the single-process
   order (natural order of item ids), so `max_changes`, float sums and stable sorts see the
   same sequence; then the cross-item step (an id that left one item and came back on another
   is a move) runs once, on the caller, as it does in one process.

Only native datasets (folders or URLs; not zipped for Dask) and `item_key="id"` run on an
engine; anything else is refused with a hint, never diffed differently.
"""

from __future__ import annotations

import heapq
import os
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..api import resolve_format
from ..dataset import Dataset, natural_key
from ..diff._engine import _Accumulator, decide_auto, result
from ..diff._options import DiffOptions
from ..diff._result import DatasetDiff
from ..diff._sources import (
    Group,
    groups_in_memory,
    merge_groups,
    side_groups,
)
from ..diff._sources import Side as DiffSide
from ..errors import GroundtruthError
from ..fingerprint import Fingerprinter
from ..io._native import _raise, iter_part_dicts, open_native
from ..models import AnnotationBase, Item
from ..quality._gc import paused_gc
from ..validation._structure import parse_record
from . import _engine
from .partition import (
    Order,
    RouteTask,
    Side,
    assemble,
    default_buckets,
    pack,
    route_tasks,
    unpack,
)

ENGINE_HINT = "run the diff without an engine (engine=None; no --engine option)"


# ---------------------------------------------------------------------------------------------
# step 1: the shuffle


def item_bucket(item_id: object, buckets: int) -> int:
    """The bucket of an item id. Ids one process might group together land together: ids
    equal as numbers (`7`, `007`: the natural order cannot tell them apart) and ids a
    duplicate was renamed into (`it5`, `it5'`: see `groups_in_memory`)."""
    if not isinstance(item_id, str):
        return 0
    base = item_id.rstrip("'")
    if base.isdigit():
        base = str(natural_key(base)[1])
    return zlib.crc32(base.encode("utf-8", "surrogatepass")) % buckets


@dataclass(frozen=True)
class PartReport:
    """What the caller needs of one part: its size, and whether it is in canonical order."""

    records: int
    empty: int  # JSONL lines holding `{}`: not records, but `auto` counts their keys
    first: str | None  # first (item) id: an item's id, an annotation's item_id
    last: str | None
    ordered: bool


Raw = tuple[Order, dict[str, Any], int | None, int | None]
"""A record as read (order, dict, line, row): validated in its bucket. Dicts travel between
workers several times faster than models, and validating the very dict one process validates
gives the very same model (and, for a bad record, the same located error)."""

Piece = tuple[str, str, list[Raw]]
"""What one part gives one bucket: (part as shown in errors, kind, records)."""


def split_part(task: tuple[RouteTask, bool]) -> tuple[list[Any], PartReport]:
    """Read one part and split its records into buckets by item; report its order. Bad JSON
    fails here, a record the models refuse fails in its bucket (`DataFormatError`, located).
    With `task[1]`, pieces are pickled here (they travel between processes: `pack`)."""
    with paused_gc():  # see `_assemble_two`
        pieces, report = _split(task[0])
        return [pack(p, task[1]) for p in pieces], report


def _split(rt: RouteTask) -> tuple[list[Piece], PartReport]:
    src, part, kind = rt.task.source(), rt.task.part, rt.kind
    shown = src.display(part.path)
    rows: list[list[Raw]] = [[] for _ in range(rt.buckets)]
    n = empty = 0
    first: str | None = None
    last: str | None = None
    last_key: Any = None
    ordered = True
    name = "id" if kind == "items" else "item_id"
    # as `iter_native_records` reads a part, also counting the empty records it skips
    for data, line, row, issues in iter_part_dicts(src, part):
        errors = [i for i in issues if i.severity == "error"]
        if errors:
            _raise(errors)
        if not data:
            empty += 1
            continue
        value: Any = data  # a JSON line may hold a list or a number: not a record
        key = value.get(name) if isinstance(value, dict) else None
        rows[item_bucket(key, rt.buckets)].append((rt.order(n), data, line, row))
        n += 1
        if not isinstance(key, str):
            continue  # not a record: it fails in its bucket
        # the order `diff._sources.side_groups` requires: items strictly by id, annotations
        # in runs of one item, runs strictly by item id
        if kind == "items" or key != last:
            k = natural_key(key)
            if last_key is not None and k <= last_key:
                ordered = False
            last_key = k
        first = key if first is None else first
        last = key
    return [(shown, kind, r) for r in rows], PartReport(n, empty, first, last, ordered)


def _validated(piece: Piece) -> list[tuple[Order, Item | AnnotationBase]]:
    shown, kind, rows = piece
    out: list[tuple[Order, Item | AnnotationBase]] = []
    for order, data, line, row in rows:
        parsed = parse_record(data, kind, file=shown, line=line, row=row)
        if isinstance(parsed, list):
            _raise(parsed)
        out.append((order, parsed))
    return out


def _assemble_two(bucket: list[Piece]) -> list[Side]:
    """A bucket's records validated and put in single-process read order, per version."""
    # The records stay alive until the bucket is diffed: the cyclic collector would scan them
    # all again and again (models hold no cycles; reference counting frees them).
    with paused_gc():
        return assemble([_validated(unpack(p)) for p in bucket], sides=2)


def _in_order(kind: str, reports: list[PartReport]) -> bool:
    """Whether the parts of one kind, read in order, are in the canonical order."""
    last: str | None = None
    for r in reports:
        if not r.ordered:
            return False
        if r.first is None:
            continue
        if last is not None and (kind == "items" or r.first != last) \
                and natural_key(r.first) <= natural_key(last):
            return False
        last = r.last
    return True


# ---------------------------------------------------------------------------------------------
# steps 2 and 3: per bucket


def _bucket_keys(bucket: list[Any]) -> tuple[int, int, int]:
    """Annotation keys (see `annotation_keys`) of each side in this bucket, and how many
    distinct keys both sides have (hashes compare within one process only, so per bucket).

    From the records as read, without building models: the bucket's models are built once,
    by the task that diffs it, and freed with it (a worker holds one bucket's models at a
    time). A record the models refuse fails there, as it would have here.
    """
    import numpy as np

    keys: list[list[int]] = [[], []]
    with paused_gc():
        for piece in bucket:
            _shown, kind, rows = unpack(piece)
            if kind != "annotations":
                continue
            for order, data, _line, _row in rows:
                if isinstance(data, dict):
                    keys[order[0]].append(hash((str(data.get("id")), data.get("type"),
                                                str(data.get("item_id")))))
    ka, kb = (np.unique(np.array(k, dtype=np.int64)) for k in keys)
    return len(keys[0]), len(keys[1]), len(np.intersect1d(ka, kb, assume_unique=True))


Tag = tuple[tuple[int, int, str], int, int]
"""Where an item group comes in the single-process order: (natural key of its item id,
bucket, position in the bucket). Ids that tie in natural order share a bucket."""

_LISTS = 7  # item changes, annotation changes, issues, geometry scores, pending removed and
# added (id matching: settled on the caller), confusion entries (in first-seen order)


def _sizes(acc: _Accumulator) -> tuple[int, ...]:
    return (len(acc.item_changes), len(acc.ann_changes), len(acc.issues), len(acc.geo_scores),
            len(acc.pending_removed), len(acc.pending_added), len(acc.confusion))


@dataclass
class BucketDiff:
    """A bucket's accumulator, the output of each of its item groups, its fingerprints."""

    acc: _Accumulator
    segments: list[tuple[Tag, tuple[int, ...]]]
    fp_old: Fingerprinter | None
    fp_new: Fingerprinter | None


def _bucket_diff(args: tuple[list[Any], int, DiffOptions, str, bool, tuple[bool, bool]]
                 ) -> BucketDiff:
    bucket, index, options, mode, streaming, want_fp = args
    sides = _assemble_two(bucket)
    old, new = sides
    acc = _Accumulator(options, mode)
    if streaming:  # the order was checked globally: a bucket's share of it is in order too
        groups: Iterable[Group] = merge_groups(side_groups(old.items, old.annotations, "old"),
                                               side_groups(new.items, new.annotations, "new"))
    else:
        groups = groups_in_memory(Dataset(None, old.items, old.annotations),
                                  Dataset(None, new.items, new.annotations), "id")
    segments: list[tuple[Tag, tuple[int, ...]]] = []
    with paused_gc():
        before = _sizes(acc)
        for position, group in enumerate(groups):
            acc.group(*group)
            after = _sizes(acc)
            if after != before:
                segments.append(((natural_key(group[0]), index, position),
                                 tuple(a - b for a, b in zip(after, before, strict=True))))
                before = after
    fps: list[Fingerprinter | None] = []
    for side, wanted in zip(sides, want_fp, strict=True):
        fp = Fingerprinter() if wanted else None
        if fp is not None:
            for item in side.items:
                fp.add(item)
            for ann in side.annotations:
                fp.add(ann)
        fps.append(fp)
    return BucketDiff(acc, segments, fps[0], fps[1])


# ---------------------------------------------------------------------------------------------
# step 4: the merge


def _merge(parts: list[BucketDiff], options: DiffOptions, mode: str) -> _Accumulator:
    """One accumulator holding what a single process holds before its final step."""
    acc = _Accumulator(options, mode)
    for p in parts:
        one = p.acc
        for mine, theirs in ((acc.items, one.items), (acc.anns, one.anns),
                             (acc.n_old, one.n_old), (acc.n_new, one.n_new)):
            for k, v in theirs.items():
                mine[k] += v
        acc.item_kinds.update(one.item_kinds)
        acc.ann_kinds.update(one.ann_kinds)
        for mine_t, theirs_t in ((acc.by_type, one.by_type), (acc.by_label, one.by_label),
                                 (acc.by_annotator, one.by_annotator)):
            for key, counts in theirs_t.items():
                for k, v in counts.items():
                    mine_t[key][k] += v
        acc.used_old |= one.used_old
        acc.used_new |= one.used_new
        acc.truncated |= one.truncated
    # the ordered lists, group by group in single-process order
    sources: list[tuple[list[Any], ...]] = [(p.acc.item_changes.raw, p.acc.ann_changes, p.acc.issues, p.acc.geo_scores,
                p.acc.pending_removed, p.acc.pending_added, list(p.acc.confusion))
               for p in parts]
    offsets = [[0] * _LISTS for _ in parts]
    merged: list[list[Any]] = [[] for _ in range(_LISTS)]
    runs = [[(tag, b, sizes) for tag, sizes in p.segments] for b, p in enumerate(parts)]
    for _tag, b, sizes in heapq.merge(*runs, key=lambda s: s[0]):
        for i, n in enumerate(sizes):
            if n:
                start = offsets[b][i]
                merged[i].extend(sources[b][i][start:start + n])
                offsets[b][i] = start + n
    item_raw, ann_changes, issues, scores, removed, added, confusion_keys = merged
    limit = options.max_changes
    for lst in (item_raw, ann_changes):
        if limit is not None and len(lst) > limit:
            del lst[limit:]
            acc.truncated = True
    acc.item_changes.raw.extend(item_raw)
    acc.ann_changes = ann_changes
    acc.issues = issues
    acc.geo_scores = scores
    acc.pending_removed, acc.pending_added = removed, added
    # the confusion table in the order its entries first occurred (it breaks ties in sorting)
    for key in confusion_keys:
        if key not in acc.confusion:
            acc.confusion[key] = 0
    for p in parts:
        acc.confusion.update(p.acc.confusion)
    return acc


def _fingerprint(parts: list[Fingerprinter | None]) -> Fingerprinter:
    total = Fingerprinter()
    for fp in parts:
        assert fp is not None
        total.merge(fp)
    return total


# ---------------------------------------------------------------------------------------------
# the whole


def _native(obj: Any, which: str, fmt: str | None, storage_options: dict[str, Any] | None
            ) -> tuple[DiffSide, Any]:
    if isinstance(obj, Dataset):
        raise GroundtruthError(
            f"{which} is a Dataset in memory; an engine reads datasets from storage",
            hint=f"save it first (groundtruth.save), or {ENGINE_HINT}")
    url = os.fspath(obj) if isinstance(obj, os.PathLike) else str(obj)
    name = resolve_format(url, fmt, storage_options=storage_options)
    if name != "groundtruth":
        raise GroundtruthError(
            f"{which} ({url}) is in the {name} format; an engine diffs native datasets only",
            hint=f"convert it first (gt convert {url} OUT), or {ENGINE_HINT}")
    src = open_native(url, storage_options=storage_options)
    return DiffSide(url, name, src.manifest, native=src), src


def _run(eng: Any, old: Any, new: Any, options: DiffOptions, want_fp: tuple[bool, bool]
         ) -> tuple[bool, dict[str, Any], list[BucketDiff]]:
    """Steps 1-3: whether one process would stream, the match decision, the buckets' diffs."""
    n = default_buckets(eng, len(old.parts) + len(new.parts))
    tasks = route_tasks([old, new], n)
    handles, reports = eng.partition(split_part, [(t, eng.name != "local") for t in tasks], n)

    def of(side: int, kind: str) -> list[PartReport]:
        return [r for t, r in zip(tasks, reports, strict=True)
                if t.side == side and t.kind == kind]

    try:
        streaming = all(_in_order(kind, of(side, kind))
                        for side in (0, 1) for kind in ("items", "annotations"))
        if options.match_by != "auto":
            decision: dict[str, Any] = {"method": options.match_by, "reason": "asked for"}
        else:
            counts = eng.map(_bucket_keys, handles)
            empty = [sum(r.empty for r in of(side, "annotations")) for side in (0, 1)]
            # records with no content (`{}` lines) all have one key: shared if both have one
            decision = decide_auto(sum(c[0] for c in counts) + empty[0],
                                   sum(c[1] for c in counts) + empty[1],
                                   sum(c[2] for c in counts) + (min(empty) > 0), True)
        parts = eng.map(_bucket_diff, [(h, b, options, decision["method"], streaming, want_fp)
                                       for b, h in enumerate(handles)])
    finally:
        eng.release(handles)
    return streaming, decision, parts


def diff(old: Any, new: Any, options: DiffOptions, *, engine: Any, workers: int | None,
         old_format: str | None, new_format: str | None,
         storage_options: dict[str, Any] | None, read_options: dict[str, Any]) -> DatasetDiff:
    """`groundtruth.diff(old, new, ..., engine=...)`: see the module docstring."""
    if options.item_key != "id":
        raise GroundtruthError(
            f"item_key={options.item_key!r} cannot run on an engine: items are spread over "
            "workers by id, and matching them by another key needs every item in one place",
            hint=f"use item_key='id', or {ENGINE_HINT}")
    if read_options:
        raise GroundtruthError(
            f"reading options ({', '.join(sorted(read_options))}) cannot be used on an engine",
            hint=f"an engine reads native datasets as they are; {ENGINE_HINT}")
    old_side, old_src = _native(old, "OLD", old_format, storage_options)
    new_side, new_src = _native(new, "NEW", new_format, storage_options)
    # Each side's fingerprint is computed from its records, never taken from its manifest
    # (`result` checks the manifest's against it).
    want_fp = (True, True)
    # Records stay alive between steps: on the local engine (workers pause it themselves)
    # the cyclic collector would scan them all again and again (see `_assemble_two`).
    with paused_gc():
        with _engine(engine, workers, old_src, new_src) as eng:
            streaming, decision, parts = _run(eng, old_src, new_src, options, want_fp)
        acc = _merge(parts, options, decision["method"])
        if want_fp[0]:
            acc.fp_old = _fingerprint([p.fp_old for p in parts])
        if want_fp[1]:
            acc.fp_new = _fingerprint([p.fp_new for p in parts])
        acc.finish()
    decision["streamed"] = streaming
    return result(old_side, new_side, options, decision, acc)

