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
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from fsspec import AbstractFileSystem

from ..errors import DataFormatError, GroundtruthError
from ..fingerprint import Fingerprinter
from ..io import _arrow
from ..io._arrow import batch_to_dicts
from ..io._fs import PathLike
from ..io._native import (
    PARQUET_COLUMNS,
    PARQUET_UNREADABLE,
    PART_HASH,
    NativeSource,
    iter_part_batches,
)
from ..issues import Issue, issue
from ..models import AnnotationBase, Manifest
from ..quality._gc import paused_gc
from ..validation._dataset import DatasetChecks
from ..validation._engine import Engine as Checks
from ..validation._engine import check_endpoint, check_source
from ..validation._fast import FastAnnotations, FastItems
from ..validation._references import DUPLICATE_ID, NO_TAXONOMY
from ..validation._references import HINTS as REFERENCE_HINTS
from ..validation._report import At, Collector, ValidationReport
from ..validation._sources import (
    PART_RECORDS,
    VECTORISE,
    _parquet_opens,
    check_fingerprint,
    fingerprint_applies,
    open_for_validation,
    stream_records,
)
from ..validation._structure import parse_record
from .partition import KIND_RANK, Order, RouteTask, bucket_of, default_buckets, pack, unpack
from .tasks import fetch, part_fingerprint, tasks_for

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
    pack: bool  # pieces travel between processes (see `partition.pack`)


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


@dataclass
class _Columns:
    """Parquet rows of one part bound for one bucket: Arrow columns, checked on columns."""

    kind_rank: int
    part_index: int
    file: str
    rows: Any  # numpy int64: each row's number in its part
    table: pa.Table


Piece = list[Record] | _Columns


def _read_part(t: _ReadTask) -> tuple[list[Any], _PartReport]:
    with paused_gc():  # millions of small, acyclic objects: the collector would rescan them
        pieces, report = _read(t)
        return [pack(p, t.pack) for p in pieces], report


def _read(t: _ReadTask) -> tuple[list[Piece], _PartReport]:
    rt, task = t.route, t.route.task
    keyed: Keyed = []
    data = fetch(task, verify=False)  # validation reports a mismatch, it does not raise
    if t.check_hash and task.part.sha256 and hashlib.sha256(data).hexdigest() != task.part.sha256:
        keyed.append(((*_PARTS, t.index, 1), issue(
            PART_HASH, f"data part {task.part.path} does not match its hash", file=task.shown,
            hint="the part is corrupted: copy the dataset again")))
    out = Collector()
    src = NativeSource(_InMemory(data), task.root, task.url, Manifest(), [task.part],
                       verify=False)
    if task.is_parquet:
        pieces, lost = _split_parquet(rt, src, out)
    else:
        pieces, lost = _split_records(rt, src, out)
    for k, i in enumerate(out.issues):
        keyed.append(((_RECORDS, KIND_RANK[rt.kind], rt.part_index, _pos(None, i), 0, k), i))
    return pieces, _PartReport(keyed, lost)


def _split_records(rt: RouteTask, src: NativeSource, out: Collector) -> tuple[list[Piece], bool]:
    """A JSONL part, line by line as a single process reads it; records as dicts."""
    pieces: list[list[Record]] = [[] for _ in range(rt.buckets)]
    name = "id" if rt.kind == "items" else "item_id"
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

    whole = stream_records(src, rt.task.part, out, record, line_lost)
    return list(pieces), lost or not whole


def _split_parquet(rt: RouteTask, src: NativeSource, out: Collector) -> tuple[list[Piece], bool]:
    """A Parquet part, batch by batch as a single process reads it; rows stay columns."""
    part, shown = rt.task.part, rt.task.shown
    taken: list[list[tuple[Any, pa.RecordBatch]]] = [[] for _ in range(rt.buckets)]
    name = "id" if rt.kind == "items" else "item_id"
    row0 = 0
    whole = _parquet_opens(src, part, out)
    lost = False
    try:
        for batch in iter_part_batches(src, part) if whole else ():
            lost = lost or batch.column("id").null_count > 0
            codes = np.fromiter((bucket_of(k, rt.buckets) for k in
                                 batch.column(name).to_pylist()), np.int64, batch.num_rows)
            for b in np.unique(codes):
                rows = np.flatnonzero(codes == b)
                taken[b].append((rows + row0, batch.take(pa.array(rows, pa.int64()))))
            row0 += batch.num_rows
    except DataFormatError as exc:  # (as a single process reports a part it cannot read)
        where = exc.location
        out.add(issue(PARQUET_COLUMNS, exc.message, hint=exc.hint, file=shown,
                      path=where.path if where is not None else None))
        whole = False
    except (pa.ArrowException, OSError, ValueError) as exc:
        out.add(issue(PARQUET_UNREADABLE, f"cannot read further: {exc}", file=shown, row=row0,
                      hint="the file is damaged: write the dataset again"))
        whole = False
    if whole and part.records >= 0 and row0 != part.records:
        out.add(issue(PART_RECORDS, f"{row0} records, the manifest lists {part.records}",
                      file=shown, hint="the part was changed after it was written: copy the "
                                       "dataset again"))
    pieces: list[Piece] = [
        _Columns(KIND_RANK[rt.kind], rt.part_index, shown,
                 np.concatenate([r for r, _ in got]) if got else np.zeros(0, np.int64),
                 pa.Table.from_batches([b for _, b in got], schema=_arrow.SCHEMAS[rt.kind]))
        for got in taken]
    return pieces, lost or not whole


# ---------------------------------------------------------------------------------------------
# 2. per bucket


@dataclass(frozen=True)
class _Context:
    manifest: Manifest | None
    manifest_file: str
    tolerance: float
    items_complete: bool


_IDS = pa.schema([("id", pa.string()), ("item", pa.string()), ("parsed", pa.bool_()),
                  ("part", pa.int32()), ("n", pa.int64()), ("pos", pa.int64())])
"""The first use of each annotation id in a bucket: its item, whether the record parsed, its
annotation part, record number and line or row. Columns, not tuples: there is one per
annotation, and they cross the second shuffle."""


@dataclass
class _Facts:
    """What one key bucket needs from the item buckets."""

    media: list[tuple[Order, str, str | None, str | None, str | None, At]] = field(
        default_factory=list)  # (order, item id, uri, sha256, split, at)
    ids: list[pa.Table] = field(default_factory=list)  # first uses of annotation ids: _IDS
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


class _Bucket:
    """One bucket's items and annotations through the checks of a single process."""

    def __init__(self, ctx: _Context) -> None:
        manifest_at = At(file=ctx.manifest_file)
        # the manifest's own issues are the caller's to report, once
        self.checks = checks = Checks(ctx.manifest, Collector(), manifest_at=manifest_at,
                                      tolerance=ctx.tolerance)
        self.out = out = Collector()
        checks.out = checks.content.out = out
        self.ds = checks.dataset = _BucketDataset(out, checks.index, manifest_at)
        checks.items_complete = ctx.items_complete
        self.keyed: Keyed = []
        self.first_item: dict[str, Order] = {}
        self.texts: list[tuple[Order, str, Any]] = []  # (order, id, text or (table, row))
        self.facts = _Facts()
        self.first_ids: list[tuple[str, str | None, bool, int, int, int]] = []

    def piece(self, piece: Piece) -> None:
        if not isinstance(piece, _Columns):
            for order, at, data in piece:
                self.record(order, at, data)
        elif self.checks.index is None or not VECTORISE:  # as a single process: one by one
            for i, data in enumerate(batch_to_dicts(piece.table, _KINDS[piece.kind_rank])):
                row = int(piece.rows[i])
                self.record((0, piece.kind_rank, piece.part_index, row),
                            At(file=piece.file, row=row), data)
        elif piece.kind_rank == 0:
            self.item_columns(piece)
        else:
            self.annotation_columns(piece)

    def record(self, order: Order, at: At, data: Any) -> None:
        """One record on the per-record path, exactly as a single process checks it."""
        checks, out, is_item = self.checks, self.out, order[1] == 0
        self.ds.order = order
        checks.part_number = order[2]
        before, relations, sources = len(out.issues), len(checks.relations), len(checks.sources)
        rid = data.get("id") if isinstance(data, dict) else None
        first_use = not is_item and isinstance(rid, str) and rid not in checks.ann_item
        parsed = parse_record(data, _KINDS[order[1]], file=at.file, line=at.line, row=at.row)
        if isinstance(parsed, list):
            out.extend(parsed)
            (checks.broken_item if is_item else checks.broken_annotation)(data)
        elif is_item:
            checks.item(parsed, at)  # type: ignore[arg-type]
        else:
            checks.annotation(parsed, at)  # type: ignore[arg-type]
        pos = _pos(at)
        for k in range(before, len(out.issues)):
            self.keyed.append(((_RECORDS, order[1], order[2], pos, 1, k), out.issues[k]))
        if not isinstance(rid, str):
            return
        if is_item:
            self.first_item.setdefault(rid, order)
            text = data.get("text")
            parquet = (at.file or "").endswith(".parquet")
            # the second pass of a single process: JSONL lines give their text only when it is
            # a string, Parquet rows always (a null text then spares the item's spans)
            if parquet or isinstance(text, str):
                self.texts.append((order, rid, text if isinstance(text, str) else None))
            return
        if first_use:
            item_id = (parsed.item_id if isinstance(parsed, AnnotationBase)
                       else data.get("item_id"))
            self.first_ids.append((rid, item_id if isinstance(item_id, str) else None,
                                   isinstance(parsed, AnnotationBase), order[2], order[3], pos))
        for rel_id, item, source, target, rel_at in checks.relations[relations:]:
            for k, (name, end) in enumerate((("source", source), ("target", target))):
                self.facts.endpoints.append((end, (*_RELATIONS, *order[1:], k), rel_id, item,
                                             name, rel_at))
        for ann_id, ids, src_at in checks.sources[sources:]:
            for k, sid in enumerate(ids):
                self.facts.sources.append((sid, (*_SOURCES, *order[1:], k), ann_id, k, src_at))

    def item_columns(self, piece: _Columns) -> None:
        """Item rows proven clean on columns are registered; the rest go one by one."""
        fi = FastItems(self.checks)
        offset = 0
        for batch in piece.table.to_batches():
            rows = piece.rows[offset:offset + batch.num_rows]
            offset += batch.num_rows
            bad = fi.flag(batch)
            dicts = iter(batch_to_dicts(batch.take(pa.array(np.flatnonzero(bad), pa.int64())),
                                        "items"))
            cols, text_len = fi.columns(batch)
            for i in range(batch.num_rows):  # in row order: media duplicates depend on it
                row = int(rows[i])
                order, at = (0, 0, piece.part_index, row), At(file=piece.file, row=row)
                if bad[i]:
                    self.record(order, at, next(dicts))
                    continue
                self.ds.order = order
                fi.register_row(cols, text_len, i, at)
                rid = cols[0][i]
                self.first_item.setdefault(rid, order)
                self.texts.append((order, rid, (batch, i)))

    def annotation_columns(self, piece: _Columns) -> None:
        """Annotation rows proven clean on columns are registered; the rest go one by one."""
        checks = self.checks
        fa = checks.fast = checks.fast or FastAnnotations(checks, checks.content.tol)
        checks.part_number = piece.part_index
        offset = 0
        for batch in piece.table.to_batches():
            rows = piece.rows[offset:offset + batch.num_rows]
            offset += batch.num_rows
            bad = fa.flag(batch)
            flagged = np.flatnonzero(bad)
            dicts = iter(batch_to_dicts(batch.take(pa.array(flagged, pa.int64())),
                                        "annotations"))
            for k in flagged:
                row = int(rows[k])
                self.record((0, 1, piece.part_index, row), At(file=piece.file, row=row),
                            next(dicts))
            fa.register(batch, ~bad, piece.file, 0, rows=rows)
            # clean rows have unique, unseen ids (duplicates are flagged): each is a first use
            clean = ~bad
            at_rows = rows[clean]
            self.facts.ids.append(pa.table([
                batch.column("id").filter(clean), batch.column("item_id").filter(clean),
                pa.array(np.ones(len(at_rows), bool)),
                pa.array(np.full(len(at_rows), piece.part_index, np.int32)),
                pa.array(at_rows, pa.int64()), pa.array(at_rows, pa.int64())], schema=_IDS))

    def finish(self) -> _BucketResult:
        checks, out, ds = self.checks, self.out, self.ds
        wanted = set(checks.spans)  # span texts, compared in the items' reading order
        for order, rid, text in self.texts:
            if rid in wanted:
                if isinstance(text, tuple):
                    text = text[0].column("text")[text[1]].as_py()
                before = len(out.issues)
                checks.check_span_texts(rid, text)
                self.keyed += [((*_SPANS, *order[1:], k), out.issues[k])
                               for k in range(before, len(out.issues))]
        for rid, at in checks.unannotated():
            before = len(out.issues)
            ds.report_unannotated([(rid, at)])
            self.keyed += [((*_UNANNOTATED, *self.first_item[rid][1:]), i)
                           for i in out.issues[before:]]
        self.facts.media = ds.media_facts
        if self.first_ids:
            self.facts.ids.append(pa.Table.from_pylist(
                [dict(zip(_IDS.names, f, strict=True)) for f in self.first_ids], schema=_IDS))
        no_guideline = {a: (ds.no_guideline_first[a], n) for a, n in ds.no_guideline.items()}
        return _BucketResult(self.keyed, self.facts, ds.first_undeclared, no_guideline,
                             ds.used_labels, checks.n_items, checks.n_annotations,
                             not checks.annotations_complete)


_KINDS = ("items", "annotations")


def _check_bucket(args: tuple[list[Any], _Context]) -> _BucketResult:
    pieces, ctx = args
    with paused_gc():
        bucket = _Bucket(ctx)
        for piece in pieces:  # in task order: item parts, then annotation parts, each in order
            bucket.piece(unpack(piece))
        return bucket.finish()


# ---------------------------------------------------------------------------------------------
# 3. per key bucket


def _split_facts(args: tuple[_BucketResult, int, bool]) -> tuple[list[Any], _BucketResult]:
    result, n, packed = args
    with paused_gc():
        pieces, report = _split(result, n)
        return [pack(p, packed) for p in pieces], report


def _split(result: _BucketResult, n: int) -> tuple[list[_Facts], _BucketResult]:
    pieces = [_Facts() for _ in range(n)]
    f = result.facts
    for m in f.media:
        pieces[bucket_of("sha256:" + m[3] if m[3] else "uri:" + (m[2] or ""), n)].media.append(m)
    if f.ids:
        ids = pa.concat_tables(f.ids)
        codes = np.fromiter((bucket_of(k, n) for k in ids.column("id").to_pylist()), np.int64,
                            ids.num_rows)
        for b in np.unique(codes):
            pieces[b].ids.append(ids.filter(pa.array(codes == b)))
    for e in f.endpoints:
        pieces[bucket_of(e[0], n)].endpoints.append(e)
    for s in f.sources:
        pieces[bucket_of(s[0], n)].sources.append(s)
    result.facts = _Facts()  # the report goes back to the caller: without the facts
    return pieces, result


def _check_keys(args: tuple[list[Any], bool, tuple[str, ...]]) -> Keyed:
    packed, complete, files = args
    with paused_gc():
        return _keys([unpack(p) for p in packed], complete, files)


def _annotation_at(files: tuple[str, ...], part: int, pos: int) -> At:
    file = files[part]
    return At(file=file, row=pos) if file.endswith(".parquet") else At(file=file, line=pos)


def _keys(pieces: list[_Facts], complete: bool, files: tuple[str, ...]) -> Keyed:
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
    # annotation ids: the first use wins; a later use on another bucket's item is a duplicate.
    # Columns until the few ids that matter: used twice, or pointed at.
    tables = [t for p in pieces for t in p.ids]
    ids = pa.concat_tables(tables) if tables else _IDS.empty_table()
    counts = pc.value_counts(ids.column("id"))
    twice = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
    pointed = {e[0] for p in pieces for e in p.endpoints} | {
        s[0] for p in pieces for s in p.sources}
    wanted = pa.concat_arrays([twice.cast(pa.string()), pa.array(sorted(pointed), pa.string())])
    uses = ids.filter(pc.is_in(ids.column("id"), value_set=wanted)).to_pylist()
    first: dict[str, str | None] = {}
    for u in sorted(uses, key=lambda u: (u["part"], u["n"])):
        rid = u["id"]
        if rid not in first:
            first[rid] = u["item"]
        elif u["parsed"]:
            at = _annotation_at(files, u["part"], u["pos"])
            keyed.append(((_RECORDS, 1, u["part"], u["pos"], 1, -1), issue(
                DUPLICATE_ID, f"annotation id {rid!r} is used twice", file=at.file,
                line=at.line, row=at.row, record_id=rid, path="$.id",
                hint=REFERENCE_HINTS[DUPLICATE_ID])))
    for end, key, rel_id, item, name, at in (e for p in pieces for e in p.endpoints):
        before = len(out.issues)
        check_endpoint(out, rel_id, item, name, end, at, end in first, first.get(end), complete)
        keyed += [(key, i) for i in out.issues[before:]]
    for sid, key, ann_id, k, at in (s for p in pieces for s in p.sources):
        before = len(out.issues)
        check_source(out, ann_id, k, sid, at, sid in first, complete)
        keyed += [(key, i) for i in out.issues[before:]]
    return keyed




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
        packed = eng.name != "local"
        reads = []
        for kind in KIND_RANK:
            for number, task in enumerate(tasks_for(src, (kind,))):
                if src.display(task.part.path) in opened.absent:
                    continue
                reads.append(_ReadTask(RouteTask(task, 0, number, n), places[task.shown],
                                       verify_hashes and task.shown not in sized, packed))
        handles, reports = eng.partition(_read_part, reads, n)
        for t, report in zip(reads, reports, strict=True):
            keyed += report.issues
            if report.lost:
                complete[t.route.kind] = False
        files = tuple(src.display(p.path) for p in src.parts_of("annotations"))
        ctx = _Context(opened.manifest, opened.manifest_file, tolerance, complete["items"])
        results = eng.map_keep(_check_bucket, [(h, ctx) for h in handles])
        eng.release(handles)
        fact_handles, bucket_reports = eng.partition(
            _split_facts, [(r, n, packed) for r in results], n)
        eng.release(results)
        for r in bucket_reports:
            keyed += r.issues
        lost = any(r.annotations_lost for r in bucket_reports)
        ann_complete = complete["annotations"] and not lost
        for keys in eng.map(_check_keys, [(h, ann_complete, files) for h in fact_handles]):
            keyed += keys
        eng.release(fact_handles)
        if (verify_hashes and opened.manifest is not None and opened.manifest.fingerprint
                and complete["items"] and ann_complete and fingerprint_applies(
                    i.code for _k, i in keyed if i.severity == "error")):
            keyed += _fingerprint_check(eng, src, opened)
    keyed += _totals(bucket_reports, checks, manifest_at)
    return _report(keyed, name, strict, max_issues, bucket_reports)


def _fingerprint_check(eng: Any, src: NativeSource, opened: Any) -> Keyed:
    """The records' fingerprint against the manifest's (as `groundtruth.validate` checks it),
    one task per part; only run when every part was read whole and every record parsed."""
    try:
        partials = eng.map(part_fingerprint, tasks_for(src))
    except GroundtruthError:
        return []  # a record the fingerprint cannot take: reported by the checks already
    total = Fingerprinter()
    for fp, _count in partials:
        total.merge(fp)
    out = Collector()
    check_fingerprint(total, opened.manifest, opened.manifest_file, out)
    return [((*_TOTALS, 10_000 + k), i) for k, i in enumerate(out.issues)]  # last, as there


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
