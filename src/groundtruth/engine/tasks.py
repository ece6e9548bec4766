"""Per-part tasks: what one worker does with one data part. Plain, picklable functions.

A task carries the filesystem (fsspec filesystems pickle as their constructor options), the
dataset root and the part as the manifest lists it, so a worker reads the part straight from
storage: nothing but the small results travels back.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from fsspec import AbstractFileSystem

from .. import batch as B
from ..errors import DataFormatError, GroundtruthError
from ..fingerprint import Fingerprinter
from ..io import _arrow
from ..io._fs import apply_retries
from ..io._native import PARQUET_UNREADABLE, PART_SIZE, NativeSource, iter_part_dicts
from ..io._parts import count_error
from ..io._remote import RemoteReadError, scan_parts
from ..issues import issue
from ..models import Manifest, Part
from ..validation._structure import parse_record


@dataclass(frozen=True)
class PartTask:
    fs: AbstractFileSystem
    root: str
    url: str
    part: Part
    retries: int | None = None  # the filesystem's retry budget (not part of its pickle)
    verify: bool = True  # check the part's hash and record count as it is read
    max_member_bytes: int | None = None  # ceiling of a decompressed .zip member

    @property
    def kind(self) -> str:
        return self.part.kind

    @property
    def full(self) -> str:
        return posixpath.join(self.root, self.part.path) if self.root else self.part.path

    @property
    def shown(self) -> str:
        return posixpath.join(self.url, self.part.path)

    @property
    def is_parquet(self) -> bool:
        return self.part.path.endswith(".parquet")

    def source(self) -> NativeSource:
        return NativeSource(apply_retries(self.fs, self.retries), self.root, self.url, Manifest(),
                            [self.part], verify=self.verify,
                            max_member_bytes=self.max_member_bytes)


def tasks_for(src: NativeSource, kinds: tuple[str, ...] = ("items", "annotations")
              ) -> list[PartTask]:
    retries = getattr(src.fs, "retries", None)
    return [PartTask(src.fs, src.root, src.url, p, retries if isinstance(retries, int) else None,
                     src.verify, src.max_member_bytes)
            for p in src.parts if p.kind in kinds]


# ---------------------------------------------------------------------------------------------
# reading one part


def read_verified(task: PartTask) -> bytes:
    """The whole part, read once: bounded, and checked against the manifest's size and SHA-256
    while it is read (IntegrityError), whatever the task's `verify` says."""
    return fetch(task, verify=True)


def fetch(task: PartTask, *, verify: bool | None = None) -> bytes:
    """The whole part, read with the filesystem's retries (and with `verify`, default the
    task's, checked as it is read). Storage that keeps refusing is a `RemoteReadError`, a part
    gone since the manifest was read an `IntegrityError`: neither is a problem of the data,
    and neither may pass for one."""
    src = task.source()
    if verify is not None:
        src.verify = verify
    try:
        return src.part_bytes(task.part)
    except GroundtruthError:
        raise
    except OSError as exc:
        raise RemoteReadError(
            f"reading data part {task.part.path} failed after the filesystem's retries: {exc}",
            location=issue(PART_SIZE, "", file=task.shown).location,
            hint="the storage refused or dropped requests; try again later, or raise the "
                 "retry budget in storage_options (see docs/scale.md)") from None


def part_table(task: PartTask, columns: list[str] | None = None, *,
               verify: bool | None = None) -> pa.Table:
    """A Parquet part as a table of the spec's schema (projected to `columns`).

    With `verify` the whole part is fetched once and checked against the manifest's hash and
    record count; without, only the columns' byte ranges are fetched (sizes were checked at
    open). `verify=None`: the task's setting (the dataset was opened with it).
    """
    if verify is None:
        verify = task.verify
    if not verify:
        batches = list(scan_parts(task.source(), task.kind, columns=columns,
                                  parts=[task.part], use_threads=False))
        schema = _arrow.SCHEMAS[task.kind]
        if columns:
            schema = pa.schema([schema.field(c) for c in columns], metadata=schema.metadata)
        return pa.Table.from_batches(batches, schema=schema)
    data = read_verified(task)
    try:
        if task.part.records >= 0:
            rows = pq.read_metadata(pa.BufferReader(data)).num_rows
            if rows != task.part.records:
                raise count_error(task.part, task.shown, rows)
        present = pq.read_schema(pa.BufferReader(data)).names
        table = pq.read_table(pa.BufferReader(data),
                              columns=[c for c in columns if c in present] if columns else None)
        table = _arrow.conform(table, task.kind, columns)
    except GroundtruthError:
        raise
    except (pa.ArrowInvalid, ValueError, OSError) as exc:
        raise DataFormatError(f"cannot read Parquet part {task.part.path}: {exc}",
                              location=issue(PARQUET_UNREADABLE, "", file=task.shown).location,
                              hint="the file is not Parquet of the spec's schema: write it again"
                              ) from None
    return table.select(columns) if columns else table


def _jsonl_dicts(task: PartTask) -> Any:
    return iter_part_dicts(task.source(), task.part)


# ---------------------------------------------------------------------------------------------
# per-part work


def part_stats(task: PartTask) -> dict[str, Any]:
    """Counts of one part; for Parquet reads only the counted columns."""
    columns = list(B.STATS_COLUMNS[task.kind].values())
    if task.is_parquet:
        table = part_table(task, columns)
    else:
        rows = [{c: d.get(c) for c in columns} for d, _, _, _ in _jsonl_dicts(task) if d]
        schema = pa.schema([_arrow.SCHEMAS[task.kind].field(c) for c in columns])
        table = pa.Table.from_pylist(rows, schema=schema)
    return B.stats_batch(table, task.kind)


def part_fingerprint(task: PartTask) -> tuple[Fingerprinter, int]:
    """The part's partial fingerprint and its record count (checked against the manifest)."""
    fp = Fingerprinter()
    if task.is_parquet:
        table = part_table(task)
        for b in table.to_batches(max_chunksize=65536):
            fp.merge(B.fingerprint_batch(b, task.kind))
        return fp, table.num_rows
    for data, line, row, issues in _jsonl_dicts(task):
        errors = [i for i in issues if i.severity == "error"]
        parsed = parse_record(data, task.kind, file=task.shown, line=line, row=row) \
            if data and not errors else errors
        if isinstance(parsed, list):
            if not parsed:
                continue
            first = parsed[0]
            raise DataFormatError(f"[{first.code}] {first.message}", location=first.location,
                                  hint="run `gt validate` for a full report")
        fp.add(parsed)
    return fp, fp.counts[task.kind]


def part_digests(task: PartTask) -> pa.Table:
    """(id, digest) of every record of one part, digest = hex SHA-256 of its canonical form:
    the input of diff's join on ids."""
    ids: list[str] = []
    digests: list[str] = []
    if task.is_parquet:
        for b in part_table(task).to_batches(max_chunksize=65536):
            for d in B.canonical_dicts(b, task.kind):
                ids.append(d["id"])
                digests.append(f"{B.digest(d):064x}")
    else:
        for data, line, row, _ in _jsonl_dicts(task):
            parsed = parse_record(data, task.kind, file=task.shown, line=line, row=row) \
                if data else []
            if isinstance(parsed, list):
                continue
            d = parsed.to_json_dict()
            ids.append(d["id"])
            digests.append(f"{B.digest(d):064x}")
    return pa.table({"id": pa.array(ids, pa.string()), "digest": pa.array(digests, pa.string())})


def part_labels(task: PartTask) -> pa.Table:
    """(item_id, label) of one annotation part: the input of the agreement (votes) table."""
    columns = ["item_id", "label"]
    if task.is_parquet:
        return part_table(task, columns)
    rows = [{c: d.get(c) for c in columns} for d, _, _, _ in _jsonl_dicts(task) if d]
    return pa.Table.from_pylist(rows, schema=pa.schema([(c, pa.string()) for c in columns]))


ITEM_FACTS = ["id", "uri", "width", "height", "split"]


def part_item_facts(task: PartTask) -> pa.Table:
    """What a training row needs of an item (`id`, `uri`, `width`, `height`, `split`)."""
    if task.is_parquet:
        return part_table(task, ITEM_FACTS)
    schema = pa.schema([_arrow.ITEM_SCHEMA.field(c) for c in ITEM_FACTS])
    rows = [{c: d.get(c) for c in ITEM_FACTS} for d, _, _, _ in _jsonl_dicts(task) if d]
    return pa.Table.from_pylist(rows, schema=schema)


def part_training(args: tuple[PartTask, pa.Table, dict[str, int], str]) -> int:
    """Write the training rows of one annotation part, joined with its items' facts, to
    `dst` (a `.parquet` path); returns the number of rows written.

    The items' facts arrive once per worker (broadcast), so the join is local to the task.
    """
    task, items, label_index, dst = args
    columns = [c for c in B.TRAINING_COLUMNS if c in _arrow.ANNOTATION_SCHEMA.names]
    if task.is_parquet:
        table = part_table(task, columns)
    else:
        records = [parsed for d, line, row, _ in _jsonl_dicts(task) if d
                   and not isinstance(parsed := parse_record(d, task.kind, file=task.shown,
                                                             line=line, row=row), list)]
        table = pa.Table.from_batches([_arrow.records_to_batch(records, task.kind)]) \
            .select(columns)
    rows = B.training_rows(table, label_index)
    # A left join by position (Arrow's hash join does not carry list columns such as bbox);
    # an annotation whose item is missing gets nulls, as a left join gives.
    positions = pc.index_in(rows.column("item_id"), value_set=items.column("id"))
    joined = rows
    for name in ITEM_FACTS[1:]:
        joined = joined.append_column(name, items.column(name).take(positions))
    fs = apply_retries(task.fs, task.retries)
    with fs.open(dst, "wb") as f:
        pq.write_table(joined, f, compression="zstd")
    return int(joined.num_rows)
