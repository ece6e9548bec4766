"""`validate` on an engine: the report of `groundtruth.validate`, computed part by part and
bucket by bucket.

1. **Per data part** (in parallel): the part against its sha256, then every line or row read as
   a single process reads it. Reading problems are reported here; each record goes to the
   bucket of its item (a shuffle: `Engine.partition`).
2. **Per bucket**: the bucket's items and their annotations, in read order, through the checks a
   single process runs (structure, references, geometry and content, span texts, unannotated
   items). What depends on other buckets comes back as facts: each item's media key, the first
   use of each annotation id, relation endpoints and sources, the first item of each undeclared
   split, the labels used, annotators without guideline.
3. **Per key bucket** (a second shuffle, of those narrow facts, by media key and annotation id):
   media shared by two items, annotation ids used on two items, endpoints and sources that
   point nowhere or across items.

Every issue carries the place a single process reports it at — (phase, kind, part, line or
row, ...) — so the caller sorts them and then keeps the first `max_issues`: the report is the
single-process report, whatever the number of workers and buckets.
"""

from __future__ import annotations

import hashlib
import heapq
import io
from dataclasses import dataclass, field
from typing import Any

from fsspec import AbstractFileSystem

from ..io._fs import PathLike
from ..io._native import PART_HASH, NativeSource
from ..issues import Issue, issue
from ..models import AnnotationBase, Manifest
from ..validation._dataset import DatasetChecks
from ..validation._engine import Engine as Checks
from ..validation._engine import check_endpoint, check_source
from ..validation._references import NO_TAXONOMY
from ..validation._report import At, Collector, ValidationReport
from ..validation._sources import _parquet_opens, open_for_validation, stream_records
from ..validation._structure import parse_record
from .partition import KIND_RANK, Order, RouteTask, bucket_of, default_buckets
from .tasks import fetch, tasks_for

INF = 1 << 62
Key = tuple[int, ...]
Keyed = list[tuple[Key, Issue]]
Record = tuple[Order, At, Any]  # a record on its way to its bucket: where it was read, its JSON

# Where issues sort, by phase (the order a single process emits them in):
_MANIFEST, _PARTS, _TAXONOMY = (0, 0), (0, 1), (0, 2)  # phase 0: before any record
_RECORDS = 1  # phase 1: (1, kind, part, line/row, step, n) -- step 0 reading, 1 checks, 2 media
_RELATIONS, _SOURCES, _SPANS, _UNANNOTATED, _TOTALS = ((2, k) for k in range(5))  # phase 2


def _pos(at: At | None, i: Issue | None = None) -> int:
    """A record's line (JSONL) or row (Parquet); the end of its part when it has neither."""
    loc = i.location if i is not None else at
    assert loc is not None
    if loc.line is not None:
        return loc.line
    return loc.row if loc.row is not None else INF


# ---------------------------------------------------------------------------------------------
# 1. per data part


@dataclass(frozen=True)
class _ReadTask:
    route: RouteTask
    index: int  # the part's place in the manifest: where a hash mismatch sorts
    check_hash: bool


@dataclass
class _PartReport:
    issues: Keyed
    lost: bool  # a record of this kind whose id is unknown: references to it are not reported


class _InMemory(AbstractFileSystem):  # type: ignore[misc]
    """One part's bytes as a filesystem: the part is fetched once (storage errors are raised
    then), and the readers of a single process parse it from memory."""

    cachable = False

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.data = data

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> io.BytesIO:
        return io.BytesIO(self.data)


def _read_part(t: _ReadTask) -> tuple[list[list[Record]], _PartReport]:
    rt, task = t.route, t.route.task
    keyed: Keyed = []
    data = fetch(task)
    if t.check_hash and task.part.sha256 and hashlib.sha256(data).hexdigest() != task.part.sha256:
        keyed.append(((*_PARTS, t.index, 1), issue(
            PART_HASH, f"data part {task.part.path} does not match its hash", file=task.shown,
            hint="the part is corrupted: copy the dataset again")))
    pieces: list[list[Record]] = [[] for _ in range(rt.buckets)]
    kind, name = rt.kind, ("id" if rt.kind == "items" else "item_id")
    lost = False
    n = 0

    def record(data: Any, at: At) -> None:
        nonlocal n, lost
        key = data.get(name) if isinstance(data, dict) else None
        if not (isinstance(data, dict) and isinstance(data.get("id"), str)):
            lost = True  # as the checks will find: a record whose id cannot be known
        pieces[bucket_of(key, rt.buckets)].append((rt.order(n), at, data))
        n += 1

    def line_lost(_kind: str) -> None:
        nonlocal lost
        lost = True

    out = Collector()
    src = NativeSource(_InMemory(data), task.root, task.url, Manifest(), [task.part])
    whole = (not task.is_parquet or _parquet_opens(src, task.part, out)) and stream_records(
        src, task.part, out, record, line_lost)
    for k, i in enumerate(out.issues):
        keyed.append(((_RECORDS, KIND_RANK[kind], rt.part_index, _pos(None, i), 0, k), i))
    return pieces, _PartReport(keyed, lost or not whole)


# ---------------------------------------------------------------------------------------------
# 2. per bucket


@dataclass(frozen=True)
class _Context:
    manifest: Manifest | None
    manifest_file: str
    tolerance: float
    items_complete: bool
    key_buckets: int


@dataclass
class _Facts:
    """What one key bucket needs from the item buckets."""

    media: list[tuple[Order, str, str | None, str | None, str | None, At]] = field(
        default_factory=list)  # (order, item id, uri, sha256, split, at)
    ids: list[tuple[str, Order, str | None, bool, At]] = field(
        default_factory=list)  # first use of an annotation id: (id, order, item, parsed, at)
    endpoints: list[tuple[str, Key, str, str, str, At]] = field(
        default_factory=list)  # (endpoint id, key, relation id, its item, name, at)
    sources: list[tuple[str, Key, str, int, At]] = field(
        default_factory=list)  # (source id, key, annotation id, index, at)


@dataclass
class _BucketResult:
    issues: Keyed
    facts: _Facts
    undeclared: dict[str, tuple[Order, str, At]]  # split -> its first item
    no_guideline: dict[str, tuple[tuple[tuple[int, int], str], int]]  # annotator -> (first, n)
    used_labels: set[tuple[str, str]]
    items: int
    annotations: int
    annotations_lost: bool


@dataclass
class _BucketDataset(DatasetChecks):
    """The dataset-level checks of one bucket: what needs every item is kept as facts."""

    order: Order = (0, 0, 0, 0)
    media_facts: list[tuple[Order, str, str | None, str | None, str | None, At]] = field(
        default_factory=list)
    first_undeclared: dict[str, tuple[Order, str, At]] = field(default_factory=dict)

    def media_and_split(self, rid: str, uri: str | None, sha256: str | None,
                        split: str | None, at: At) -> None:
        if sha256 or uri:
            self.media_facts.append((self.order, rid, uri, sha256, split, at))
        if (split is not None and self.index is not None and split not in self.index.splits
                and split not in self.first_undeclared):
            self.first_undeclared[split] = (self.order, rid, at)


def _check_bucket(args: tuple[list[list[Record]], _Context]) -> _BucketResult:
    pieces, ctx = args
    manifest_at = At(file=ctx.manifest_file)
    # the manifest's own issues are the caller's to report, once
    checks = Checks(ctx.manifest, Collector(), manifest_at=manifest_at, tolerance=ctx.tolerance)
    out = Collector()
    checks.out = out
    checks.content.out = out
    ds = _BucketDataset(out, checks.index, manifest_at)
    checks.dataset = ds
    checks.items_complete = ctx.items_complete
    keyed: Keyed = []
    first_item: dict[str, Order] = {}
    texts: list[tuple[Order, str, Any, bool]] = []
    facts = _Facts()
    seen_ids: set[str] = set()
    for order, at, data in heapq.merge(*pieces, key=lambda r: r[0]):
        is_item = order[1] == 0
        kind = "items" if is_item else "annotations"
        ds.order = order
        checks.part_number = order[2]
        before, relations, sources = len(out.issues), len(checks.relations), len(checks.sources)
        parsed = parse_record(data, kind, file=at.file, line=at.line, row=at.row)
        if isinstance(parsed, list):
            out.extend(parsed)
            (checks.broken_item if is_item else checks.broken_annotation)(data)
        elif is_item:
            checks.item(parsed, at)  # type: ignore[arg-type]
        else:
            checks.annotation(parsed, at)  # type: ignore[arg-type]
        pos = _pos(at)
        for k in range(before, len(out.issues)):
            keyed.append(((_RECORDS, order[1], order[2], pos, 1, k), out.issues[k]))
        rid = data.get("id") if isinstance(data, dict) else None
        if not isinstance(rid, str):
            continue
        if is_item:
            first_item.setdefault(rid, order)
            texts.append((order, rid, data.get("text"), (at.file or "").endswith(".parquet")))
            continue
        if rid not in seen_ids:
            seen_ids.add(rid)
            item_id = (parsed.item_id if isinstance(parsed, AnnotationBase)
                       else data.get("item_id"))
            facts.ids.append((rid, order, item_id if isinstance(item_id, str) else None,
                              isinstance(parsed, AnnotationBase), at))
        for rel_id, item, source, target, rel_at in checks.relations[relations:]:
            for k, (name, end) in enumerate((("source", source), ("target", target))):
                facts.endpoints.append((end, (*_RELATIONS, *order[1:], k), rel_id, item, name,
                                        rel_at))
        for ann_id, ids, src_at in checks.sources[sources:]:
            for k, sid in enumerate(ids):
                facts.sources.append((sid, (*_SOURCES, *order[1:], k), ann_id, k, src_at))
    # span texts: the items' texts, in read order, as the single process's second pass
    wanted = set(checks.spans)
    for order, rid, text, parquet in texts:
        if rid in wanted and (parquet or isinstance(text, str)):
            before = len(out.issues)
            checks.check_span_texts(rid, text if isinstance(text, str) else None)
            keyed += [((*_SPANS, *order[1:], k), out.issues[k])
                      for k in range(before, len(out.issues))]
    for rid, at in checks.unannotated():
        before = len(out.issues)
        ds.report_unannotated([(rid, at)])
        keyed += [((*_UNANNOTATED, *first_item[rid][1:]), i) for i in out.issues[before:]]
    facts.media = ds.media_facts
    no_guideline = {a: (ds.no_guideline_first[a], n) for a, n in ds.no_guideline.items()}
    return _BucketResult(keyed, facts, ds.first_undeclared, no_guideline, ds.used_labels,
                         checks.n_items, checks.n_annotations, not checks.annotations_complete)


# ---------------------------------------------------------------------------------------------
# 3. per key bucket


def _split_facts(args: tuple[_BucketResult, int]) -> tuple[list[_Facts], _BucketResult]:
    result, n = args
    pieces = [_Facts() for _ in range(n)]
    f = result.facts
    for m in f.media:
        pieces[bucket_of("sha256:" + m[3] if m[3] else "uri:" + (m[2] or ""), n)].media.append(m)
    for i in f.ids:
        pieces[bucket_of(i[0], n)].ids.append(i)
    for e in f.endpoints:
        pieces[bucket_of(e[0], n)].endpoints.append(e)
    for s in f.sources:
        pieces[bucket_of(s[0], n)].sources.append(s)
    result.facts = _Facts()  # the report goes back to the caller: without the facts
    return pieces, result


def _check_keys(args: tuple[list[_Facts], bool]) -> Keyed:
    pieces, complete = args
    keyed: Keyed = []
    out = Collector()
    # media: in read order, through the same checks (no taxonomy: splits are checked elsewhere)
    media = DatasetChecks(out, None, At())
    for order, rid, uri, sha256, split, at in sorted(
            (m for p in pieces for m in p.media), key=lambda m: m[0]):
        before = len(out.issues)
        media.media_and_split(rid, uri, sha256, split, at)
        keyed += [((_RECORDS, order[1], order[2], _pos(at), 2, k - before), out.issues[k])
                  for k in range(before, len(out.issues))]
    # annotation ids: the first use wins; a later use on another bucket's item is a duplicate
    first: dict[str, str | None] = {}
    for rid, order, item, parsed, at in sorted((i for p in pieces for i in p.ids),
                                               key=lambda i: i[1]):
        if rid not in first:
            first[rid] = item
        elif parsed:
            keyed.append(((_RECORDS, order[1], order[2], _pos(at), 1, -1), issue(
                "reference.duplicate-id", f"annotation id {rid!r} is used twice",
                file=at.file, line=at.line, row=at.row, record_id=rid, path="$.id",
                hint=_DUPLICATE_HINT)))
    for end, key, rel_id, item, name, at in (e for p in pieces for e in p.endpoints):
        before = len(out.issues)
        check_endpoint(out, rel_id, item, name, end, at, end in first, first.get(end), complete)
        keyed += [(key, i) for i in out.issues[before:]]
    for sid, key, ann_id, k, at in (s for p in pieces for s in p.sources):
        before = len(out.issues)
        check_source(out, ann_id, k, sid, at, sid in first, complete)
        keyed += [(key, i) for i in out.issues[before:]]
    return keyed


def _duplicate_hint() -> str:
    from ..validation._references import DUPLICATE_ID, HINTS

    return HINTS[DUPLICATE_ID]


_DUPLICATE_HINT = _duplicate_hint()


# ---------------------------------------------------------------------------------------------
# the run


def validate(
    url: PathLike | NativeSource, *, engine: Any = "local", workers: int | None = None,
    strict: bool = False, max_issues: int | None = None, tolerance: float = 0.0,
    verify_hashes: bool = True, storage_options: dict[str, Any] | None = None,
    buckets: int | None = None,
) -> ValidationReport:
    """The report `groundtruth.validate(url, ...)` gives for a native dataset, computed on
    `engine` (see the module documentation). `buckets`: how many item buckets (default: four
    per worker, at most one per part)."""
    from . import _engine

    head = Collector()
    if isinstance(url, NativeSource):  # already opened: read it again where it is
        name = url.url
        opened = open_for_validation(url.root, head, verify_hashes=False, fs=url.fs,
                                     storage_options=None, display=name)
    else:
        name = str(url)
        opened = open_for_validation(url, head, verify_hashes=False, fs=None,
                                     storage_options=storage_options)
    if opened is None:
        return ValidationReport.from_collector(head, source=name, format="groundtruth",
                                               strict=strict)
    src = opened.src
    keyed: Keyed = []
    sized = {i.location.file for i in head.issues if i.code == "part.size-mismatch"}
    places = {src.display(p.path): n for n, p in enumerate(src.parts)}
    for k, found in enumerate(head.issues):
        place = places.get(found.location.file or "")
        keyed.append(((*_PARTS, place, 0, k) if place is not None else (*_MANIFEST, k), found))
    taxonomy = Collector()
    manifest_at = At(file=opened.manifest_file)
    checks = Checks(opened.manifest, taxonomy, manifest_at=manifest_at, tolerance=tolerance)
    keyed += [((*_TAXONOMY, k), i) for k, i in enumerate(taxonomy.issues)]
    present = [p for p in src.parts if src.display(p.path) not in opened.absent]
    complete = {kind: not any(p.kind == kind for p in src.parts
                              if src.display(p.path) in opened.absent) for kind in KIND_RANK}
    with _engine(engine, workers, src) as eng:
        n = buckets or default_buckets(eng, len(present))
        reads = []
        for kind in KIND_RANK:
            for number, task in enumerate(tasks_for(src, (kind,))):
                if src.display(task.part.path) in opened.absent:
                    continue
                reads.append(_ReadTask(RouteTask(task, 0, number, n), places[task.shown],
                                       verify_hashes and task.shown not in sized))
        handles, reports = eng.partition(_read_part, reads, n)
        for t, report in zip(reads, reports, strict=True):
            keyed += report.issues
            if report.lost:
                complete[t.route.kind] = False
        ctx = _Context(opened.manifest, opened.manifest_file, tolerance, complete["items"], n)
        results = eng.map_keep(_check_bucket, [(h, ctx) for h in handles])
        eng.release(handles)
        fact_handles, bucket_reports = eng.partition(_split_facts, [(r, n) for r in results], n)
        eng.release(results)
        for r in bucket_reports:
            keyed += r.issues
        lost = any(r.annotations_lost for r in bucket_reports)
        ann_complete = complete["annotations"] and not lost
        for keys in eng.map(_check_keys, [(h, ann_complete) for h in fact_handles]):
            keyed += keys
        eng.release(fact_handles)
    keyed += _totals(bucket_reports, checks, manifest_at)
    return _report(keyed, name, strict, max_issues, bucket_reports)


def _totals(results: list[_BucketResult], checks: Checks, manifest_at: At) -> Keyed:
    """The dataset-wide warnings, from every bucket's facts."""
    keyed: Keyed = []
    out = Collector()
    splits = DatasetChecks(out, checks.index, manifest_at)
    firsts: dict[str, tuple[Order, str, At]] = {}
    for r in results:
        for split, candidate in r.undeclared.items():
            if split not in firsts or candidate[0] < firsts[split][0]:
                firsts[split] = candidate
    for split, (order, rid, at) in firsts.items():
        before = len(out.issues)
        splits.media_and_split(rid, None, None, split, at)
        keyed += [((_RECORDS, order[1], order[2], _pos(at), 2, 2), i)
                  for i in out.issues[before:]]
    totals = DatasetChecks(out, checks.index, manifest_at)
    for r in results:
        totals.used_labels |= r.used_labels
        for annotator, (first, count) in r.no_guideline.items():
            known = totals.no_guideline_first.get(annotator)
            if known is None or first[0] < known[0]:
                totals.no_guideline_first[annotator] = first
            totals.no_guideline[annotator] += count
    before = len(out.issues)
    totals.report_totals()
    keyed += [((*_TOTALS, k), i) for k, i in enumerate(out.issues[before:])]
    return keyed


def _report(keyed: Keyed, name: str, strict: bool, max_issues: int | None,
            results: list[_BucketResult]) -> ValidationReport:
    out = Collector(max_issues)
    warned = False
    for _key, i in sorted(keyed, key=lambda ki: ki[0]):
        if i.code == NO_TAXONOMY:  # said once, at the first label that could not be checked
            if warned:
                continue
            warned = True
        out.add(i)
    stats = {"items": sum(r.items for r in results),
             "annotations": sum(r.annotations for r in results)}
    return ValidationReport.from_collector(out, source=name, format="groundtruth", strict=strict,
                                           stats=stats)



