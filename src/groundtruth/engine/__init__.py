"""Running groundtruth's work past one machine: per-part tasks and global steps on an engine.

    import groundtruth.engine as gte
    gte.stats("s3://bucket/ds", engine="dask", workers=8)
    gte.fingerprint("s3://bucket/ds", engine="dask")
    report = gte.validate("s3://bucket/ds", engine="dask")   # = groundtruth.validate's report

`engine="local"` runs the same tasks and steps in this process (the reference); `"dask"` runs
them on a Dask cluster (a LocalCluster of `workers` processes, or the cluster at
`GROUNDTRUTH_DASK_ADDRESS`); an engine object (`DaskEngine(...)`) can be passed to reuse one
cluster across calls. Every function gives exactly the same result on every engine.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import reduce
from typing import Any

import pyarrow.dataset as pads

from .. import batch as B
from ..errors import IntegrityError
from ..fingerprint import Fingerprinter
from ..io._fs import PathLike
from ..io._native import NativeSource, open_native
from ..io._remote import RemoteReadError, is_parquet, scan_parts
from . import steps
from ._base import ENGINES, Engine, EngineError, LocalEngine, get_engine
from ._validate import validate
from .tasks import (
    PartTask,
    part_digests,
    part_fingerprint,
    part_labels,
    part_stats,
    tasks_for,
)

__all__ = [
    "ENGINES",
    "Engine",
    "EngineError",
    "LocalEngine",
    "PartTask",
    "RemoteReadError",
    "diff_ids",
    "export_training",
    "fingerprint",
    "get_engine",
    "scan",
    "stats",
    "validate",
    "votes",
]


@contextlib.contextmanager
def _engine(engine: Any, workers: int | None, *sources: NativeSource) -> Iterator[Any]:
    """A named engine lives for one call; an engine object is the caller's to close.

    A zipped dataset is read through one open file: its parts can be read neither from other
    processes nor from several threads at once, so it runs on one thread, locally.
    """
    from fsspec.implementations.zip import ZipFileSystem

    if any(isinstance(s.fs, ZipFileSystem) for s in sources):
        if engine != "local" and not isinstance(engine, LocalEngine):
            raise EngineError("a zipped dataset cannot be spread over workers",
                              hint="unzip it to a folder or a bucket first")
        engine = LocalEngine(threads=1)
    eng = get_engine(engine, workers=workers)
    try:
        if getattr(eng, "client", None) is not None:
            with eng.client.as_current():
                yield eng
        else:
            yield eng
    finally:
        if isinstance(engine, str) or isinstance(eng, LocalEngine):
            eng.close()


Source = PathLike | NativeSource
"""A path or URL of a native dataset, or one already opened with `open_native`."""


def _open(url: Source, storage_options: dict[str, Any] | None, verify: bool | None = None
          ) -> NativeSource:
    if isinstance(url, NativeSource):
        return url
    return open_native(url, storage_options=storage_options, verify=verify)


def scan(
    url: Source,
    *,
    kind: str = "annotations",
    columns: list[str] | None = None,
    filter: pads.Expression | None = None,
    storage_options: dict[str, Any] | None = None,
    verify: bool | None = None,
) -> Iterator[Any]:
    """Arrow record batches of a native Parquet dataset: only `columns`, only rows matching
    `filter` (e.g. `pyarrow.compute.field("label") == "car"`). JSONL datasets are read whole
    and filtered.

    With `verify` (the default) every part is read whole once and checked against the
    manifest's hash and record count; `verify=False` reads only the byte ranges needed: the
    requested columns, and no row group whose statistics rule the filter out."""
    src = _open(url, storage_options, verify)
    if is_parquet(src):
        yield from scan_parts(src, kind, columns=columns, filter=filter)
        return
    import pyarrow as pa

    from ..io import _arrow
    from ..io._native import iter_native_records

    records = list(iter_native_records(src, (kind,)))
    table = pa.Table.from_batches([_arrow.records_to_batch(records, kind)])
    if filter is not None:
        table = table.filter(filter)
    yield from (table.select(columns) if columns else table).to_batches()


def stats(url: Source, *, engine: Any = "local", workers: int | None = None,
          storage_options: dict[str, Any] | None = None, verify: bool | None = None
          ) -> dict[str, Any]:
    """Counts per item kind, split, annotation type, label, annotator and status (as
    `Dataset.stats()`). With `verify=False` only those columns of a Parquet dataset are read;
    by default each part is read whole and checked against the manifest (see `scan`)."""
    src = _open(url, storage_options, verify)
    with _engine(engine, workers, src) as eng:
        partials = eng.map(part_stats, tasks_for(src))
    return reduce(B.merge_stats, partials, B.empty_stats())


def fingerprint(url: Source, *, engine: Any = "local", workers: int | None = None,
                storage_options: dict[str, Any] | None = None, verify: bool = True) -> str:
    """The content fingerprint computed from the data, part by part (`Dataset.fingerprint()`).

    Every part is checked against the manifest's size, hash and record count; with `verify`
    the result must also equal the fingerprint the manifest records (IntegrityError if not).
    """
    src = _open(url, storage_options)
    tasks = tasks_for(src)
    with _engine(engine, workers, src) as eng:
        results = eng.map(part_fingerprint, tasks)
    total = Fingerprinter()
    for task, (fp, count) in zip(tasks, results, strict=True):
        if task.part.records >= 0 and count != task.part.records:
            raise IntegrityError(
                f"data part {task.part.path} holds {count} records, the manifest says "
                f"{task.part.records}", hint="the part was changed after it was written")
        total.merge(fp)
    digest = total.hexdigest(src.manifest)
    recorded = src.manifest.fingerprint
    if verify and recorded and src.manifest.parts and digest != recorded:
        raise IntegrityError(
            f"the data of {src.url} does not match the fingerprint in its manifest "
            f"({digest} != {recorded})",
            hint="a part was changed after the dataset was written: copy it again")
    return digest


def votes(url: Source, *, engine: Any = "local", workers: int | None = None,
          storage_options: dict[str, Any] | None = None) -> dict[str, dict[str, int]]:
    """The agreement table: item_id -> {label: number of annotations giving it}."""
    src = _open(url, storage_options)
    tasks = tasks_for(src, ("annotations",))
    with _engine(engine, workers, src) as eng:
        if eng.name == "dask":
            return steps.votes_dask(part_labels, tasks)
        return steps.votes_local(eng.map(part_labels, tasks))


def diff_ids(old: Source, new: Source, *, kind: str = "annotations", engine: Any = "local",
             workers: int | None = None, storage_options: dict[str, Any] | None = None
             ) -> dict[str, list[str]]:
    """Ids added, removed and changed (record content differs) from `old` to `new`: the join
    on ids that diff starts from, run as a shuffle on the engine."""
    import pyarrow as pa

    a, b = _open(old, storage_options), _open(new, storage_options)
    ta, tb = tasks_for(a, (kind,)), tasks_for(b, (kind,))
    with _engine(engine, workers, a, b) as eng:
        if eng.name == "dask":
            return steps.diff_ids_dask(part_digests, ta, tb)
        empty = pa.table({"id": pa.array([], pa.string()), "digest": pa.array([], pa.string())})
        return steps.diff_ids_local(pa.concat_tables([empty, *eng.map(part_digests, ta)]),
                                    pa.concat_tables([empty, *eng.map(part_digests, tb)]))


def export_training(url: Source, dst: PathLike, *, engine: Any = "local",
                    workers: int | None = None, storage_options: dict[str, Any] | None = None,
                    overwrite: bool = False) -> dict[str, Any]:
    """Write a flat training table (Parquet, one file per annotation part) to `dst`: each
    annotation with its class id (taxonomy order) and its item's uri, width, height and split.

    The items' facts are read once (five columns) and broadcast to the workers; each task joins
    and writes one part. `dst/_SUCCESS` is written last, so a folder without it is a run that
    did not finish.
    """
    import posixpath

    import orjson

    from ..errors import DatasetExistsError
    from ..io._fs import atomic_write_bytes, resolve
    from .tasks import part_item_facts, part_training

    src = _open(url, storage_options)
    fs, root = resolve(dst, storage_options=storage_options)
    if fs.exists(root) and fs.ls(root, detail=False):
        if not overwrite:
            raise DatasetExistsError(f"{dst} already exists",
                                     hint="choose another destination, or pass overwrite=True")
        fs.rm(root, recursive=True)
    fs.makedirs(root, exist_ok=True)
    labels = [lab.name for s in src.manifest.taxonomy.label_sets for lab in s.labels]
    index = B.label_indices(labels)
    item_tasks, ann_tasks = tasks_for(src, ("items",)), tasks_for(src, ("annotations",))
    import pyarrow as pa

    with _engine(engine, workers, src) as eng:
        facts = pa.concat_tables(eng.map(part_item_facts, item_tasks),
                                 promote_options="permissive") if item_tasks else None
        shared = eng.broadcast(facts) if hasattr(eng, "broadcast") else facts
        outputs = [posixpath.join(root, f"part-{i:05d}.parquet") for i in range(len(ann_tasks))]
        counts = eng.map(part_training, [(t, shared, index, out)
                                         for t, out in zip(ann_tasks, outputs, strict=True)])
    summary = {"rows": sum(counts), "parts": [posixpath.basename(o) for o in outputs],
               "classes": labels}
    atomic_write_bytes(fs, posixpath.join(root, "_SUCCESS"), orjson.dumps(summary))
    return summary
