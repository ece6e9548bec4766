"""The two sides of a diff, read as item groups: an item and its annotations at a time.

Native datasets are written sorted (items by id, annotations by item then id), so two of them
stream side by side, merge-joined on the item id, holding one item's annotations at a time.
A dataset that turns out not to be sorted (hand-made, or written as a stream) raises
`Unsorted`, and the diff is redone in memory. Foreign formats (and `Dataset` objects) are in
memory anyway, and so is matching items by a key other than the id.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..api import load, resolve_format
from ..dataset import Dataset, natural_key
from ..io._native import NativeSource, iter_native_records, iter_part_batches, iter_part_dicts
from ..io._native import open_native as _open_native
from ..models import AnnotationBase, Item, Manifest
from ._similarity import annotation_type

Group = tuple[str, Item | None, Item | None, list[AnnotationBase], list[AnnotationBase]]
"""(key, old item, new item, old annotations, new annotations) of one item."""


class Unsorted(Exception):  # a signal, not an error users see
    """A native dataset's records are not in the canonical order: stream merge impossible."""


@dataclass
class Side:
    """One side of a diff: a dataset in memory, or a native dataset to stream."""

    source: str
    format: str
    manifest: Manifest
    dataset: Dataset | None = None
    native: NativeSource | None = None
    stored: bool = False
    """Read from storage (its manifest's fingerprint is a claim to check), not given in memory."""

    def materialise(self) -> Dataset:
        if self.dataset is None:
            assert self.native is not None
            ds = Dataset(self.manifest, source=self.source, source_format="groundtruth")
            for record in iter_native_records(self.native):
                if isinstance(record, Item):
                    ds.items.append(record)
                else:
                    ds.annotations.append(record)
            self.dataset = ds
        return self.dataset


def open_side(obj: Dataset | str | Any, format: str | None,
              storage_options: dict[str, Any] | None, read_options: dict[str, Any]) -> Side:
    """A `Dataset` as it is; a path or URL opened for streaming (native) or loaded."""
    if isinstance(obj, Dataset):
        return Side(obj.source or "<dataset>", obj.source_format or "groundtruth", obj.manifest,
                    dataset=obj)
    url = str(obj)
    name = resolve_format(url, format, storage_options=storage_options)
    if name == "groundtruth" and not read_options:
        src = _open_native(url, storage_options=storage_options)
        return Side(url, name, src.manifest, native=src, stored=True)
    ds = load(url, format=name, storage_options=storage_options, **read_options)
    return Side(url, name, ds.manifest, dataset=ds, stored=True)


# -- keys for auto-detecting stable ids ---------------------------------------------------------


def annotation_keys(side: Side, with_item: bool) -> np.ndarray:
    """A hash per annotation of (id, type[, item_id]): cheap to intersect across sides.

    8 bytes per annotation, filled chunk by chunk (no list of Python ints for the whole side).
    """
    chunks: list[np.ndarray] = []

    def add(keys: Iterator[int]) -> None:
        chunks.append(np.fromiter(keys, dtype=np.int64))

    if side.dataset is not None or side.native is None:
        add(hash((a.id, annotation_type(a), a.item_id if with_item else ""))
            for a in side.materialise().annotations)
        return np.concatenate(chunks)
    src = side.native
    cols = ["id", "item_id", "type"]
    for part in src.parts_of("annotations"):
        if part.path.endswith(".parquet"):
            for batch in iter_part_batches(src, part, columns=cols):
                ids, items, types = (batch.column(c).to_pylist() for c in cols)
                add(hash((i, t, it if with_item else ""))
                    for i, it, t in zip(ids, items, types, strict=True))
        else:
            # a line that is not an object is no annotation: reading it later says where it is
            values: Iterator[Any] = (d for d, _line, _row, _issues in iter_part_dicts(src, part))
            add(hash((str(data.get("id")), data.get("type"),
                      str(data.get("item_id")) if with_item else ""))
                for data in values if isinstance(data, dict))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)


# -- grouping -----------------------------------------------------------------------------------


def _item_key(item: Item, key: str) -> str:
    if key == "sha256" and item.sha256:
        return f"sha256:{item.sha256}"
    if key == "uri" and item.uri:
        return f"uri:{item.uri}"
    if key == "name" and item.uri:
        return f"name:{posixpath.basename(item.uri.rstrip('/').split('?', 1)[0])}"
    return item.id if key == "id" else f"id:{item.id}"


def _keyed(ds: Dataset, key: str) -> tuple[dict[str, Item], dict[str, list[AnnotationBase]]]:
    items: dict[str, Item] = {}
    key_of_id: dict[str, str] = {}
    for it in ds.items:
        k = _item_key(it, key)
        while k in items:  # two items with one key (same image twice): keep both, in order
            k += "'"
        items[k] = it
        key_of_id[it.id] = k
    anns: dict[str, list[AnnotationBase]] = defaultdict(list)
    for a in ds.annotations:
        anns[key_of_id.get(a.item_id, a.item_id if key == "id" else f"id:{a.item_id}")].append(a)
    return items, anns


def groups_in_memory(old: Dataset, new: Dataset, item_key: str) -> Iterator[Group]:
    old_items, old_anns = _keyed(old, item_key)
    new_items, new_anns = _keyed(new, item_key)
    keys = set(old_items) | set(new_items) | set(old_anns) | set(new_anns)
    for k in sorted(keys, key=natural_key):
        yield k, old_items.get(k), new_items.get(k), old_anns.get(k, []), new_anns.get(k, [])


SideGroup = tuple[str, Item | None, list[AnnotationBase]]
"""(item id, item, annotations) of one item on one side."""


def _side_groups(src: NativeSource) -> Iterator[SideGroup]:
    """One native side as (item id, item, annotations), in natural id order, or `Unsorted`."""
    return side_groups(iter_native_records(src, ("items",)),
                       iter_native_records(src, ("annotations",)), src.url)


def side_groups(items: Iterable[Item | AnnotationBase], anns: Iterable[Item | AnnotationBase],
                name: str) -> Iterator[SideGroup]:
    """Items and annotations, each in read order, as (item id, item, annotations) in natural
    id order; `Unsorted` (naming `name`) when they are not in the canonical order."""

    def ann_runs() -> Iterator[tuple[str, list[AnnotationBase]]]:
        current: str | None = None
        last_key: Any = None
        run: list[AnnotationBase] = []
        for a in anns:
            assert isinstance(a, AnnotationBase)
            if a.item_id != current:
                k = natural_key(a.item_id)
                if last_key is not None and k <= last_key:
                    raise Unsorted(name)
                if run:
                    yield current or "", run
                current, last_key, run = a.item_id, k, []
            run.append(a)
        if run:
            yield current or "", run

    runs = ann_runs()
    next_run = next(runs, None)
    last_item: Any = None
    for it in items:
        assert isinstance(it, Item)
        k = natural_key(it.id)
        if last_item is not None and k <= last_item:
            raise Unsorted(name)
        last_item = k
        while next_run is not None and natural_key(next_run[0]) < k:
            yield next_run[0], None, next_run[1]  # annotations of an item that is not there
            next_run = next(runs, None)
        if next_run is not None and next_run[0] == it.id:
            yield it.id, it, next_run[1]
            next_run = next(runs, None)
        else:
            yield it.id, it, []
    while next_run is not None:
        yield next_run[0], None, next_run[1]
        next_run = next(runs, None)


def groups_streaming(old: NativeSource, new: NativeSource) -> Iterator[Group]:
    """Merge-join the two sides on the item id; memory holds one item's annotations."""
    return merge_groups(_side_groups(old), _side_groups(new))


def merge_groups(a_iter: Iterator[SideGroup], b_iter: Iterator[SideGroup]) -> Iterator[Group]:
    """The item groups of two sides (each from `side_groups`), merge-joined on the item id."""
    a, b = next(a_iter, None), next(b_iter, None)
    while a is not None or b is not None:
        ka = natural_key(a[0]) if a is not None else None
        kb = natural_key(b[0]) if b is not None else None
        if b is None or (a is not None and ka is not None and kb is not None and ka < kb):
            assert a is not None
            yield a[0], a[1], None, a[2], []
            a = next(a_iter, None)
        elif a is None or (ka is not None and kb is not None and kb < ka):
            yield b[0], None, b[1], [], b[2]
            b = next(b_iter, None)
        else:
            yield a[0], a[1], b[1], a[2], b[2]
            a, b = next(a_iter, None), next(b_iter, None)
