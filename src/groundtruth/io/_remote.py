"""Reading native Parquet datasets so that remote reads fetch little.

`scan_parts` reads the parts a manifest lists through `pyarrow.dataset` on top of the fsspec
filesystem, which gives:

- column projection: only the byte ranges of the requested columns' chunks are fetched;
- row-group filtering: a filter such as `pc.field("label") == "car"` is checked against each row
  group's min/max statistics first, and row groups that cannot match are never fetched;
- concurrent reads: several parts (fragments) and column chunks are fetched at once by Arrow's
  I/O thread pool, adjacent ranges coalesced into one request (`pre_buffer`).

Remote files are opened without fsspec's read-ahead cache (s3fs reads 50 MiB blocks by default,
which would download a whole part to read one column of it). Transient errors are retried by the
filesystem (s3fs, gcsfs and adlfs retry throttling and connection errors; see docs/scale.md);
what still fails is raised as a `RemoteReadError` naming the part.

With `src.verify` (the default) each part is instead read whole, once, hashed on the way and
checked against the manifest before Arrow sees it (`_VerifiedReadHandler`): projection and
filters then save decoding, not transfer. `verify=False` gets the range reads back.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from fsspec import AbstractFileSystem

from ..errors import GroundtruthError, IntegrityError
from ..models import Part
from . import _arrow
from ._fs import is_local
from ._native import NativeSource


class RemoteReadError(GroundtruthError, OSError):
    """A part could not be read from its storage, after the filesystem's own retries."""


class _RangeReadHandler(pafs.FSSpecHandler):  # type: ignore[misc]
    """fsspec files for Arrow, opened without read-ahead: Arrow asks for exact ranges."""

    def open_input_file(self, path: str) -> Any:
        if not self.fs.isfile(path):
            raise FileNotFoundError(path)
        return pa.PythonFile(self.fs.open(path, mode="rb", cache_type="none"), mode="r")


class _VerifiedReadHandler(pafs.FSSpecHandler):  # type: ignore[misc]
    """Each listed part is handed to Arrow from memory, after a whole, checked read."""

    def __init__(self, src: NativeSource, parts: list[Part]) -> None:
        super().__init__(src.fs)
        self.src = src
        self.parts = {_full(src, p): p for p in parts}

    def open_input_file(self, path: str) -> Any:
        part = self.parts.get(path)
        if part is None:  # Arrow asks only for the paths it was given
            raise FileNotFoundError(path)
        data = self.src.part_bytes(part)
        if self.src.verify:
            try:
                rows = pq.read_metadata(pa.BufferReader(data)).num_rows
            except (pa.ArrowException, OSError):
                rows = None  # not Parquet: Arrow says so when it reads it
            if rows is not None:
                self.src.check_count(part, rows)
        return pa.BufferReader(data)


def arrow_filesystem(fs: AbstractFileSystem) -> pafs.FileSystem:
    """An Arrow filesystem for an fsspec one (Arrow's own for local disk)."""
    if is_local(fs):
        return pafs.LocalFileSystem()
    return pafs.PyFileSystem(_RangeReadHandler(fs))


def _source_filesystem(src: NativeSource, parts: list[Part]) -> pafs.FileSystem:
    if src.verify or src.zipped:
        return pafs.PyFileSystem(_VerifiedReadHandler(src, parts))
    return arrow_filesystem(src.fs)


def _full(src: NativeSource, part: Part) -> str:
    return posixpath.join(src.root, part.path) if src.root else part.path


def is_parquet(src: NativeSource) -> bool:
    return bool(src.parts) and all(p.path.endswith(".parquet") for p in src.parts)


def part_dataset(src: NativeSource, kind: str, parts: list[Part] | None = None) -> pads.Dataset:
    """The listed Parquet parts of `kind` as one Arrow dataset with the spec's schema."""
    chosen = parts if parts is not None else src.parts_of(kind)
    fmt = pads.ParquetFileFormat(
        default_fragment_scan_options=pads.ParquetFragmentScanOptions(pre_buffer=True))
    return pads.dataset([_full(src, p) for p in chosen], schema=_arrow.SCHEMAS[kind],
                        format=fmt, filesystem=_source_filesystem(src, chosen))


def scan_parts(
    src: NativeSource,
    kind: str,
    *,
    columns: list[str] | None = None,
    filter: pads.Expression | None = None,
    parts: list[Part] | None = None,
    batch_size: int = 65536,
    use_threads: bool = True,
) -> Iterator[pa.RecordBatch]:
    """Record batches of the listed parts, projected to `columns`, rows matching `filter`."""
    chosen = parts if parts is not None else src.parts_of(kind)
    if not chosen:
        return
    try:
        dataset = part_dataset(src, kind, chosen)
        scanner = dataset.scanner(columns=columns, filter=filter, batch_size=batch_size,
                                  use_threads=use_threads)
        yield from scanner.to_batches()
    except GroundtruthError:
        raise
    except FileNotFoundError as exc:
        raise IntegrityError(
            f"a data part of {src.url} disappeared while reading it: {exc}",
            hint="the dataset is incomplete: copy it again from its source") from None
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise IntegrityError(
            f"a data part of {src.url} cannot be read as Parquet of the spec's schema: {exc}",
            hint="the part is damaged: run `gt validate` and copy the dataset again") from None
    except OSError as exc:
        raise RemoteReadError(
            f"reading {src.url} failed after the filesystem's retries: {exc}",
            hint="the storage refused or dropped requests; try again later, or raise the "
                 "retry budget in storage_options (see docs/scale.md)") from None

