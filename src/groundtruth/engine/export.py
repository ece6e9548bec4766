"""`groundtruth.export` on an engine: the same training file and report, computed by buckets.

    gt.export("s3://bucket/ds", "s3://bucket/train.jsonl", task="ner", engine="dask")

The dataset is shuffled by item (`partition`): a bucket holds some items with every annotation
of theirs, in the order one process reads them, so the single-process exporter (`_Exporter`)
runs on each bucket as it runs on a whole dataset. While the parts are read, each reports the
few facts the exporter takes from the whole dataset, merged on the caller before the buckets
run:

- the splits present (the error when no item is in `split`) and the items counted;
- classification: how many annotations name each label set (the default `label_set` is the
  one used most, ties to the first used), which also decides multi-label rows;
- preference: whether any item of the split is a conversation (rows hold messages or text);
- `resolve="consensus"`: whether the dataset holds consensus annotations.

Each bucket returns its rows (JSONL lines, or an Arrow table) and its loss-report issues, each
tagged with where it comes from: the item, in read order; or, for consensus annotations flagged
`needs_review` (reported before any item, in annotation order), that annotation. The caller
sorts them into the single-process order and writes the one file as `export` does
(atomically). Rows come back to the caller rather than being written by the buckets as parts to
merge: a cluster's workers may not see the destination (a local path of the caller), and the
rows travel compactly, once, as their JSONL bytes or Arrow columns; the caller holds that one
copy (plus one Parquet row group as it is taken in order), never the dataset nor row dicts.

Refused, because the engine could not give the same result: a dataset already in memory or in
a foreign format (`gt convert` it first), and `resolve="consensus"` when the consensus must be
computed (agreement and participation are dataset-wide: run `gt consensus` first, then export
with its consensus annotations).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pyarrow as pa

from ..converters import ConversionReport
from ..dataset import Dataset
from ..errors import ConversionError, UnknownOptionError
from ..export import _arrow_schema, _Exporter, counts_as_answer, of_kind
from ..io._fs import PathLike
from ..io._native import NativeSource, open_native
from ..issues import Issue
from ..models import AnnotationBase, Classification, Item, Manifest, Span
from ..quality._gc import paused_gc
from . import _engine
from ._base import EngineError
from .partition import (
    Order,
    Routed,
    RouteTask,
    assemble,
    default_buckets,
    pack,
    route_tasks,
    split_records,
    unpack,
)

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

ROW_GROUP = 1024 * 1024
"""Rows per Parquet row group: pyarrow's default, which `pq.write_table` uses in one process."""

CONSENSUS_TYPES: dict[str, type[AnnotationBase]] = {"classification": Classification,
                                                    "span": Span}


@dataclass(frozen=True)
class Plan:
    """What every part and bucket task needs to know (small: it travels with each task)."""

    task: str
    split: str | None
    resolve: str
    label_set: str | None
    include_models: bool
    skip_empty: bool
    format: str
    manifest: Manifest
    # decided on the caller from every part's facts, before the buckets run
    label_sets: Counter[str | None] = field(default_factory=Counter)
    conversational: bool = False
    pack: bool = False  # pieces travel between processes: pickle them in the task
    ties: str = "skip"  # what a majority tie does (groundtruth.export's `ties`)
    negatives: bool = False  # rejected classifications are answers (groundtruth.export's)

    @property
    def kinds(self) -> dict[str, str]:
        return {a.id: a.kind for a in self.manifest.annotators}


@dataclass
class Facts:
    """What one part (then, merged in part order, the whole dataset) says about the export."""

    splits: set[str] = field(default_factory=set)
    items: int = 0  # items of the split (every item without one)
    conversational: bool = False
    label_sets: Counter[str | None] = field(default_factory=Counter)
    consensus: dict[str, set[str | None]] = field(default_factory=dict)  # type -> label sets
    answers: dict[str, set[str | None]] = field(default_factory=dict)  # usable, same keys

    def merge(self, other: Facts) -> Facts:
        self.splits |= other.splits
        self.items += other.items
        self.conversational |= other.conversational
        self.label_sets.update(other.label_sets)  # new keys after old ones: first-use order
        for mine, theirs in ((self.consensus, other.consensus), (self.answers, other.answers)):
            for key, sets in theirs.items():
                mine.setdefault(key, set()).update(sets)
        return self

    def any_of(self, which: dict[str, set[str | None]], ann_type: str,
               label_set: str | None) -> bool:
        sets = which.get(ann_type, set())
        return bool(sets) if label_set is None else label_set in sets


Piece = Routed | bytes
"""A bucket's share of one part: its records, or (`Plan.pack`) those pickled."""


def split_part(task: tuple[RouteTask, Plan]) -> tuple[list[Piece], Facts]:
    """Read one part and split it into buckets (`split_records`), noting the part's facts."""
    with paused_gc():  # no cycles made; a full collection would rescan every record held
        pieces, facts = _split_part(*task)
        return [pack(p, task[1].pack) for p in pieces], facts


def _split_part(rt: RouteTask, plan: Plan) -> tuple[list[Routed], Facts]:
    pieces, _ = split_records(rt)
    facts = Facts()
    kinds = plan.kinds
    for _, record in heapq.merge(*pieces, key=lambda r: r[0]):  # the part's order
        if isinstance(record, Item):
            if record.split:
                facts.splits.add(record.split)
            if plan.split is None or record.split == plan.split:
                facts.items += 1
                facts.conversational = facts.conversational or record.kind == "conversation" \
                    or any(c.messages for c in record.candidates)
            continue
        if isinstance(record, Classification):
            facts.label_sets[record.label_set] += 1
        for ann_type, cls in CONSENSUS_TYPES.items():
            if isinstance(record, cls):
                if kinds.get(record.annotator or "") == "consensus":
                    facts.consensus.setdefault(ann_type, set()).add(record.label_set)
                elif counts_as_answer(record, kinds, plan.include_models):
                    facts.answers.setdefault(ann_type, set()).add(record.label_set)
    return pieces, facts


Key = tuple[int, int, int]
"""Where a row or issue goes: (0, annotation part, record) for a consensus flagged for review
(reported first), (1, item part, record) for everything about an item."""


def _key(phase: int, order: Order) -> Key:
    return (phase, order[2], order[3])


class BucketExporter(_Exporter):
    """The single-process exporter on one bucket, with the dataset-wide facts given, noting
    which item (or consensus annotation) each issue is about."""

    def __init__(self, ds: Dataset, report: ConversionReport, plan: Plan,
                 item_orders: list[Order], annotation_orders: dict[int, Order]) -> None:
        super().__init__(ds, report, plan.resolve, plan.include_models, plan.label_set,
                         ties=plan.ties, negatives=plan.negatives)
        self.plan = plan
        self.item_orders = item_orders
        self.annotation_orders = annotation_orders  # id(annotation) -> its order
        self.key: Key = (0, -1, -1)
        self.issue_keys: list[Key] = []

    def _drop(self, code: str, message: str, record_id: str) -> None:
        super()._drop(code, message, record_id)
        self.issue_keys.append(self.key)

    def _each(self, items: list[Item]) -> Iterator[Item]:
        for item, order in zip(items, self.item_orders, strict=True):
            self.key = _key(1, order)
            yield item

    def _needs_review(self, ann: Any) -> None:
        self.key = _key(0, self.annotation_orders[id(ann)])
        super()._needs_review(ann)

    def _classification_sets(self) -> Counter[str | None]:
        return self.plan.label_sets

    def _conversational(self, items: list[Item]) -> bool:
        return self.plan.conversational

    def _consensus_annotations(self, cls: type[AnnotationBase], ann_type: str,
                               label_set: str | None) -> list[Any]:
        # The caller checked that the dataset holds consensus annotations of this kind, or
        # nothing to compute one from: either way, this bucket's share is the answer.
        return [a for a in self.ds.annotations if of_kind(a, cls, label_set)
                and self.kinds.get(a.annotator or "") == "consensus"]


@dataclass
class BucketResult:
    keys: np.ndarray  # one per row: item part << 32 | record number (rows are per item)
    lines: list[bytes] | None  # JSONL
    table: pa.Table | None  # Parquet, every column a row may have
    issues: list[Issue]
    issue_keys: list[Key]
    multi: bool
    tokens: bool  # some row has tokens (NER)


def export_bucket(args: tuple[list[Piece], Plan]) -> BucketResult:
    """The rows and loss-report issues of one bucket's items, tagged with their place."""
    pieces, plan = args
    with paused_gc():
        return _export_bucket([unpack(p) for p in pieces], plan)


def _export_bucket(pieces: list[Routed], plan: Plan) -> BucketResult:
    (side,) = assemble(pieces)
    chosen = [(it, o) for it, o in zip(side.items, side.item_orders, strict=True)
              if plan.split is None or it.split == plan.split]
    items = [it for it, _ in chosen]
    ds = Dataset(plan.manifest, side.items, side.annotations)
    report = ConversionReport(format=f"{plan.task}-{plan.format}")
    ex = BucketExporter(ds, report, plan, [o for _, o in chosen],
                        {id(a): o for a, o in zip(side.annotations, side.annotation_orders,
                                                  strict=True)})
    rows: list[dict[str, Any]] = []
    keys: list[int] = []
    for row in ex.rows(plan.task, items, plan.skip_empty):
        _, part, record = ex.key
        keys.append(part << 32 | record)
        rows.append(row)
    tokens = any("tokens" in r for r in rows)
    lines = table = None
    if plan.format == "jsonl":
        lines = [orjson.dumps(r) + b"\n" for r in rows]  # as `write_jsonl` writes them
    else:
        table = pa.Table.from_pylist(rows, schema=_full_schema(plan, ex.multi))
    return BucketResult(np.asarray(keys, dtype=np.int64), lines, table, report.issues,
                        ex.issue_keys, ex.multi, tokens)


def _full_schema(plan: Plan, multi: bool, *, tokens: bool = True) -> pa.Schema:
    """The file's schema as one process gives it (`_arrow_schema`), from the global facts."""
    probe: list[dict[str, Any]] = []
    if plan.task == "ner" and tokens:
        probe = [{"tokens": []}]
    elif plan.task == "preference" and plan.conversational:
        probe = [{"prompt": []}]
    return _arrow_schema(plan.task, multi, probe)


def export(
    source: Dataset | PathLike | NativeSource,
    dst: PathLike,
    *,
    task: str,
    split: str | None = None,
    resolve: str = "majority",
    ties: str = "skip",
    format: str = "jsonl",
    from_format: str | None = None,
    label_set: str | None = None,
    include_models: bool = False,
    skip_empty: bool = False,
    negatives: bool = False,
    overwrite: bool = False,
    fs: AbstractFileSystem | None = None,
    storage_options: dict[str, Any] | None = None,
    engine: Any = "local",
    workers: int | None = None,
    buckets: int | None = None,
    **read_options: Any,
) -> ConversionReport:
    """`groundtruth.export` of a native dataset on an engine (see the module documentation).

    `buckets`: how many buckets the items are shuffled into (default: enough for the workers).
    """
    src = _source(source, from_format, storage_options, read_options)
    with _engine(engine, workers, src) as eng:
        plan = Plan(task, split, resolve, label_set, include_models, skip_empty, format,
                    src.manifest, pack=eng.name != "local", ties=ties,
                    negatives=negatives)
        n = buckets or default_buckets(eng, len(src.parts))
        handles, reports = eng.partition(split_part, [(rt, plan) for rt in route_tasks([src], n)],
                                         n)
        try:
            facts = Facts()
            for part_facts in reports:
                facts.merge(part_facts)
            plan = _decide(plan, facts)
            results: list[BucketResult] = eng.map(export_bucket, [(h, plan) for h in handles])
        finally:
            eng.release(handles)
    return _write(results, plan, facts, dst, fs, storage_options, overwrite)


def _source(source: Dataset | PathLike | NativeSource, from_format: str | None,
            storage_options: dict[str, Any] | None, read_options: dict[str, Any]
            ) -> NativeSource:
    if isinstance(source, NativeSource):
        return source
    if isinstance(source, Dataset):
        raise EngineError("an engine reads a dataset from storage; this one is in memory",
                          hint="export it without an engine, or save it and pass its path")
    from ..api import resolve_format

    name = resolve_format(source, from_format, storage_options=storage_options)
    if name != "groundtruth":
        raise EngineError(f"an engine reads native datasets; {source} is {name}",
                          hint="convert it first (gt convert PATH OUT), or export without "
                               "--engine")
    if read_options:  # what reading a native dataset in one process says
        raise UnknownOptionError(f"unknown option(s) for groundtruth: {', '.join(read_options)}")
    return open_native(source, storage_options=storage_options)


def _decide(plan: Plan, facts: Facts) -> Plan:
    """The dataset-wide decisions, and the errors one process raises after reading."""
    if plan.split is not None and not facts.items:
        present = sorted(facts.splits) or ["(none)"]
        raise ConversionError(f"no item is in split {plan.split!r}",
                              hint=f"splits in the data: {', '.join(present)}")
    if plan.resolve == "consensus":
        if plan.task not in ("classification", "ner"):
            raise ValueError("resolve='consensus' works for classification and ner; use "
                             "majority or first for preference and sft")
        if plan.task == "classification":
            ann_type = "classification"
            lset = plan.label_set or (facts.label_sets.most_common(1)[0][0]
                                      if facts.label_sets else None)
        else:
            ann_type, lset = "span", plan.label_set
        if not facts.any_of(facts.consensus, ann_type, lset) and facts.any_of(
                facts.answers, ann_type, lset):
            raise EngineError(
                "resolve='consensus' must compute the consensus here, over the whole dataset "
                "(who took part where, the label sets in use), which buckets of items cannot "
                "do identically",
                hint="compute it once (gt consensus PATH OUT) and export OUT with "
                     "--resolve consensus on the engine, or export without --engine")
    return replace(plan, label_sets=facts.label_sets, conversational=facts.conversational)


def _write(results: list[BucketResult], plan: Plan, facts: Facts, dst: PathLike,
           fs: AbstractFileSystem | None, storage_options: dict[str, Any] | None,
           overwrite: bool) -> ConversionReport:
    """Rows and issues in single-process order; the file written as `export` writes it."""
    from ..converters._jsonio import check_destination
    from ..io._fs import atomic_write
    from ..io._fs import resolve as resolve_fs

    tagged = [(k, i) for r in results for k, i in zip(r.issue_keys, r.issues, strict=True)]
    tagged.sort(key=lambda t: t[0])  # stable: an item's issues keep their order
    report = ConversionReport(format=f"{plan.task}-{plan.format}", outputs=[str(dst)])
    report.issues = [i for _, i in tagged]
    order = np.argsort(np.concatenate([r.keys for r in results]), kind="stable")
    filesystem, path = resolve_fs(dst, fs=fs, storage_options=storage_options)
    check_destination(filesystem, path, overwrite)
    if plan.format == "jsonl":
        lines = [line for r in results for line in r.lines or []]
        with atomic_write(filesystem, path, overwrite=overwrite) as f:
            for start in range(0, len(order), 4096):
                f.write(b"".join(lines[i] for i in order[start:start + 4096].tolist()))
    else:
        _write_parquet(results, plan, order, filesystem, path, overwrite)
    report.details = {"task": plan.task, "rows": len(order), "items": facts.items,
                      "resolve": plan.resolve, "ties": plan.ties, "split": plan.split,
                      "dropped": dict(Counter(i.code for i in report.issues))}
    return report


def _write_parquet(results: list[BucketResult], plan: Plan, order: np.ndarray,
                   filesystem: AbstractFileSystem, path: str, overwrite: bool) -> None:
    """One row group at a time, taken in order from the buckets' tables: the bytes
    `pq.write_table` writes for the whole table, without a second copy of it."""
    import pyarrow.parquet as pq

    from ..io._fs import atomic_write

    multi = results[0].multi
    tokens = any(r.tokens for r in results)
    rows = len(order)
    schema = _full_schema(plan, multi, tokens=tokens) if rows else \
        _arrow_schema(plan.task, multi, [])
    tables = [r.table for r in results if r.table is not None]
    table = pa.concat_tables(tables).select(schema.names) if tables else schema.empty_table()
    with atomic_write(filesystem, path, overwrite=overwrite) as f, \
            pq.ParquetWriter(f, schema) as writer:
        if not rows:
            writer.write_table(schema.empty_table())
        for start in range(0, rows, ROW_GROUP):
            writer.write_table(table.take(pa.array(order[start:start + ROW_GROUP])))
