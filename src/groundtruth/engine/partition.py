"""Records shuffled into buckets by item: an item and all its annotations land in one bucket.

Per-item work (validation's reference and content checks, diff's matching, export's answers)
then runs on a bucket exactly as it runs on a whole dataset, and the buckets run in parallel.

Every record travels with its `Order` — (side, kind, part, record number) — so a bucket can put
its records back in the order a single process reads them, and results merged from buckets can
be sorted into the single-process order. Buckets are chosen by a hash of the item id (CRC-32,
the same in every process), so the two versions of a dataset bucket their items alike.
"""

from __future__ import annotations

import heapq
import pickle
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..io._native import NativeSource, iter_native_records
from ..models import AnnotationBase, Item
from ..quality._gc import paused_gc
from .tasks import PartTask, tasks_for

KIND_RANK = {"items": 0, "annotations": 1}

Order = tuple[int, int, int, int]
"""(side, kind rank, part index within its kind, record number within the part)."""


def bucket_of(key: object, buckets: int) -> int:
    """The bucket of an item id; anything that is not a string goes to bucket 0."""
    if not isinstance(key, str):
        return 0
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % buckets


def routing_key(record: dict[str, Any] | Item | AnnotationBase, kind: str) -> object:
    """What a record is bucketed by: its own id (items) or its item's id (annotations)."""
    name = "id" if kind == "items" else "item_id"
    if isinstance(record, dict):
        return record.get(name)
    return getattr(record, name)


def default_buckets(engine: Any, parts: int) -> int:
    """Enough buckets to keep every worker busy and each bucket a fraction of the data."""
    workers = getattr(engine, "workers", 1) or 1
    return max(1, min(max(parts, 1), 4 * workers))


@dataclass(frozen=True)
class RouteTask:
    """One part to read and split into buckets."""

    task: PartTask
    side: int
    part_index: int
    buckets: int

    @property
    def kind(self) -> str:
        return self.task.kind

    def order(self, n: int) -> Order:
        return (self.side, KIND_RANK[self.kind], self.part_index, n)


def route_tasks(sources: Sequence[NativeSource], buckets: int) -> list[RouteTask]:
    """A task per data part of every source (side = its position in `sources`)."""
    out = []
    for side, src in enumerate(sources):
        for kind in KIND_RANK:
            for i, task in enumerate(tasks_for(src, (kind,))):
                out.append(RouteTask(task, side, i, buckets))
    return out


Routed = list[tuple[Order, Item | AnnotationBase]]


def split_records(rt: RouteTask) -> tuple[list[Routed], int]:
    """Read one part with the models and split its records by bucket; returns the pieces and
    the number of records. A bad record raises `DataFormatError`, as `groundtruth.load` does."""
    pieces: list[Routed] = [[] for _ in range(rt.buckets)]
    n = 0
    for n, record in enumerate(iter_native_records(rt.task.source(), (rt.kind,)), 1):
        pieces[bucket_of(routing_key(record, rt.kind), rt.buckets)].append(
            (rt.order(n - 1), record))
    return pieces, n


@dataclass
class Side:
    """One dataset's records in one bucket, in the order a single process reads them."""

    items: list[Item] = field(default_factory=list)
    annotations: list[AnnotationBase] = field(default_factory=list)
    item_orders: list[Order] = field(default_factory=list)
    annotation_orders: list[Order] = field(default_factory=list)


def assemble(pieces: Iterable[Routed], sides: int = 1) -> list[Side]:
    """The records of a bucket (its pieces, each already in order) merged into order, per side."""
    out = [Side() for _ in range(sides)]
    for order, record in heapq.merge(*pieces, key=lambda r: r[0]):
        side = out[order[0]]
        if order[1] == 0:
            side.items.append(record)  # type: ignore[arg-type]
            side.item_orders.append(order)
        else:
            side.annotations.append(record)  # type: ignore[arg-type]
            side.annotation_orders.append(order)
    return out


def pack(value: Any, enabled: bool) -> Any:
    """`value` pickled here, with the garbage collector paused, when it is to travel between
    processes: an engine pickling millions of small records itself, collector running, spends
    most of a run in the collector. `unpack` undoes it (and passes anything else through)."""
    if not enabled:
        return value
    with paused_gc():
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(value: Any) -> Any:
    if not isinstance(value, bytes):
        return value
    with paused_gc():
        return pickle.loads(value)
