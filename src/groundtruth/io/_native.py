"""Native datasets on any filesystem: a folder (or .zip of one) with a manifest and data parts.

    groundtruth.json                      the manifest, written last: it lists every part
    items.jsonl, annotations.jsonl        JSONL encoding (one file per kind, or parts)
    items/part-00000.parquet ...          Parquet encoding (sharded)

Readers trust only what the manifest lists; a part that is missing or whose size differs is an
`IntegrityError`, so a torn write is never taken for a whole dataset. Part paths are confined to
the dataset, and every part is hashed as it is read and checked at its end (see `_parts`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, Literal, NoReturn, Self

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec import AbstractFileSystem
from fsspec.implementations.zip import ZipFileSystem

from ..errors import (
    DataFormatError,
    DatasetExistsError,
    DatasetNotFoundError,
    GroundtruthError,
    IntegrityError,
    UnsupportedVersionError,
)
from ..fingerprint import Fingerprinter
from ..issues import Issue, define, issue
from ..migrate import migrate_manifest
from ..models import AnnotationBase, Item, Manifest, Part
from ..spec import SPEC_VERSION
from ..validation._structure import NOT_OBJECT, parse_manifest, parse_record
from . import _arrow, _jsonl, _parts
from ._fs import PathLike, atomic_write, check_bucket, is_local, resolve
from ._parts import PartReader
from ._publish import publish_dir, recover_destination, stage_dir

MANIFEST = "groundtruth.json"
KINDS = ("items", "annotations")
Encoding = Literal["jsonl", "parquet"]

MANIFEST_MISSING = define("manifest.missing", "error", "No groundtruth.json in the folder")
MANIFEST_SYNTAX = define("manifest.syntax", "error", "The manifest is not valid JSON")
MANIFEST_VERSION = define("manifest.version-unknown", "error", "Unknown spec version")
PART_MISSING = define("part.missing", "error", "A data part listed in the manifest is absent")
PART_SIZE = _parts.PART_SIZE
PART_HASH = _parts.PART_HASH
MANIFEST_UNREADABLE = define("manifest.unreadable", "error",
                             "The manifest cannot be read from its container (damaged .zip)")
MANIFEST_TOO_LARGE = define("manifest.too-large", "error",
                            "The manifest is larger than a reader accepts (64 MiB)")
PARQUET_UNREADABLE = define("parquet.unreadable", "error", "A Parquet part cannot be read")
PARQUET_COLUMNS = define("parquet.columns", "error", "A Parquet part has missing or mistyped columns")


@dataclass
class NativeSource:
    """An opened native dataset: where it is, its manifest, and its parts."""

    fs: AbstractFileSystem
    root: str
    url: str
    manifest: Manifest
    parts: list[Part] = field(default_factory=list)
    verify: bool = True
    """Check each part's SHA-256 and record count as it is read (IntegrityError if not)."""
    max_member_bytes: int | None = None
    """Ceiling for a decompressed `.zip` member (None: the environment's or 4 GiB)."""
    issues: list[Issue] = field(default_factory=list)
    """Warnings found on opening (e.g. a manifest that lists no parts)."""

    def display(self, rel: str) -> str:
        return posixpath.join(self.url, rel)

    def full(self, part: Part) -> str:
        return posixpath.join(self.root, part.path) if self.root else part.path

    @property
    def zipped(self) -> bool:
        return isinstance(self.fs, ZipFileSystem)

    def open_part(self, part: Part) -> PartReader:
        """A sequential, bounded stream of the part, hashed as it is read (with `verify`)."""
        return _parts.open_part_stream(
            self.fs, self.full(part), part, self.display(part.path), verify=self.verify,
            limit=_parts.max_member_bytes(self.max_member_bytes) if self.zipped else None)

    def part_bytes(self, part: Part) -> bytes:
        """The whole part, read once, bounded and checked (with `verify`)."""
        with self.open_part(part) as r:
            return r.readall()

    def check_count(self, part: Part, count: int) -> None:
        """With `verify`, the number of records read must be the manifest's."""
        if self.verify and part.records >= 0 and count != part.records:
            raise _parts.count_error(part, self.display(part.path), count)

    def parts_of(self, kind: str) -> list[Part]:
        return [p for p in self.parts if p.kind == kind]


# ---------------------------------------------------------------------------------------------
# reading


def is_native(url: PathLike, *, fs: AbstractFileSystem | None = None,
              storage_options: dict[str, Any] | None = None) -> bool:
    """Whether `url` is a native dataset (a folder or .zip with a manifest, or the manifest)."""
    filesystem, path = resolve(url, fs=fs, storage_options=storage_options)
    if path.endswith(".zip") and filesystem.isfile(path):
        with filesystem.open(path, "rb") as f, contextlib.suppress(zipfile.BadZipFile):
            names = zipfile.ZipFile(f).namelist()
            return any(n == MANIFEST or n.endswith("/" + MANIFEST) for n in names)
        return False
    if posixpath.basename(path) == MANIFEST:
        return bool(filesystem.isfile(path))
    return bool(filesystem.isdir(path) and filesystem.exists(posixpath.join(path, MANIFEST)))


def _locate(url: PathLike, fs: AbstractFileSystem | None,
            storage_options: dict[str, Any] | None) -> tuple[AbstractFileSystem, str, str]:
    display = str(url)
    filesystem, path = resolve(url, fs=fs, storage_options=storage_options)
    if not filesystem.exists(path):
        raise DatasetNotFoundError(f"no dataset at {display}: nothing is there",
                                   hint="check the path or URL")
    if posixpath.basename(path) == MANIFEST and filesystem.isfile(path):
        return filesystem, posixpath.dirname(path), display
    if path.endswith(".zip") and filesystem.isfile(path):
        try:
            zfs = ZipFileSystem(fo=filesystem.open(path, "rb"))
        except (zipfile.BadZipFile, EOFError, ValueError) as exc:
            raise _parts.wrap_zip_errors(exc, display) from None
        root = ""
        if not zfs.exists(MANIFEST):
            tops = [p for p in zfs.ls("", detail=False) if zfs.isdir(p)]
            if len(tops) == 1 and zfs.exists(posixpath.join(tops[0], MANIFEST)):
                root = tops[0].strip("/")
        return zfs, root, display
    return filesystem, path, display


def read_manifest_issues(
    fs: AbstractFileSystem, root: str, display: str
) -> tuple[Manifest | None, list[Issue]]:
    """Read and check the manifest; every problem as an Issue (nothing raised for bad data)."""
    path = posixpath.join(root, MANIFEST) if root else MANIFEST
    shown = posixpath.join(display, MANIFEST) if not display.endswith(MANIFEST) else display
    if not fs.exists(path):
        return None, [issue(
            MANIFEST_MISSING, f"no {MANIFEST} in {display}", file=shown,
            hint="a groundtruth dataset is a folder with groundtruth.json; to read another "
                 "format pass --from FORMAT (see `gt formats`)")]
    try:
        raw = _parts.read_manifest_bytes(fs, path)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        return None, [issue(MANIFEST_UNREADABLE, f"the manifest cannot be read: {exc}",
                            file=shown, hint="the .zip is damaged or truncated: copy it again")]
    if raw is None:
        return None, [issue(
            MANIFEST_TOO_LARGE, f"the manifest is larger than {_parts.MAX_MANIFEST_BYTES} bytes",
            file=shown, hint="a manifest lists parts, not records: this is not a groundtruth "
                             "manifest, or it was damaged")]
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return None, [issue(MANIFEST_SYNTAX, f"the manifest is not valid JSON: {exc}",
                            file=shown, hint="fix the JSON syntax of groundtruth.json")]
    if isinstance(data, dict):
        if "groundtruth" not in data:
            return None, [issue(
                MANIFEST_VERSION, "the manifest has no `groundtruth` spec version field",
                file=shown, path="$.groundtruth",
                hint=f'add "groundtruth": "{SPEC_VERSION}" to the manifest')]
        try:
            data = migrate_manifest(data)
        except UnsupportedVersionError as exc:
            return None, [issue(MANIFEST_VERSION, exc.message, file=shown,
                                path="$.groundtruth", hint=exc.hint)]
    parsed = parse_manifest(data, file=shown)
    if isinstance(parsed, list):
        return None, parsed
    return parsed, []


def _discover_parts(fs: AbstractFileSystem, root: str) -> list[Part]:
    """Parts of a hand-made dataset whose manifest lists none: found by name."""
    found: list[Part] = []
    for kind in KINDS:
        candidates = [f"{kind}.jsonl", f"{kind}.parquet"]
        folder = posixpath.join(root, kind) if root else kind
        if fs.isdir(folder):
            candidates += sorted(
                posixpath.relpath(p, root) if root else p.lstrip("/")
                for p in fs.ls(folder, detail=False)
                if p.endswith((".jsonl", ".parquet"))
            )
        for rel in candidates:
            full = posixpath.join(root, rel) if root else rel
            if fs.isfile(full):
                found.append(Part.model_construct(path=rel, kind=kind, records=-1,  # type: ignore[arg-type]
                                                  bytes=-1, sha256=""))
    return found


def vet_parts(fs: AbstractFileSystem, root: str, display: str,
              manifest: Manifest) -> tuple[list[Part], list[Issue]]:
    """The parts to read and what is wrong with the listing, before any part is opened.

    Part paths that may leave the dataset (text, then symbolic links) are refused and left out
    of the parts; a data file the manifest does not list is an error; a manifest that lists no
    parts at all (written by hand) has its files found by name, with a warning naming them.
    """
    manifest_file = display if display.endswith(MANIFEST) else posixpath.join(display, MANIFEST)
    problems: list[Issue] = []
    if "parts" not in manifest.model_fields_set:
        found = _discover_parts(fs, root)
        for part in [p for p in found if _parts.escapes_root(fs, root, p)]:
            found.remove(part)
            problems.append(issue(
                _parts.PART_PATH, f"data file {part.path} is a symbolic link (or inside one) "
                "that points outside the dataset folder; it is not followed",
                file=posixpath.join(display, part.path),
                hint="copy the data into the dataset folder instead of linking to it"))
        if found:
            names = ", ".join(p.path for p in found)
            problems.append(issue(
                _parts.PARTS_NOT_LISTED,
                f"the manifest lists no parts; read by name, unchecked: {names}",
                file=manifest_file, path="$.parts",
                hint="write the dataset with groundtruth (`gt convert DS NEW`) so the manifest "
                     "lists every part with its size and hash"))
        return found, problems
    listed = list(manifest.parts)
    bad = {i for i, p in enumerate(listed) if _parts.unsafe_reason(p.path) is not None}
    problems.extend(_parts.confine(listed, manifest_file))
    for n, part in enumerate(listed):
        if n not in bad and _parts.escapes_root(fs, root, part):
            bad.add(n)
            problems.append(_parts.symlink_issue(part, n, manifest_file))
    problems.extend(_parts.unlisted(fs, root, listed, manifest_file, display))
    return [p for i, p in enumerate(listed) if i not in bad], problems


def open_native(url: PathLike, *, fs: AbstractFileSystem | None = None,
                storage_options: dict[str, Any] | None = None, verify: bool | None = None,
                max_member_bytes: int | None = None) -> NativeSource:
    """Open a native dataset: read the manifest and check every listed part is there whole.

    `verify` (default True, or what `groundtruth.io.reading(verify=...)` set): check every
    part's SHA-256 and record count while it is read. `max_member_bytes`: the ceiling for a
    decompressed member of a `.zip` dataset (default `GROUNDTRUTH_MAX_MEMBER_BYTES` or 4 GiB).
    """
    limit = _parts.max_member_bytes(max_member_bytes)  # a bad setting fails before any read
    filesystem, root, display = _locate(url, fs, storage_options)
    manifest, issues = read_manifest_issues(filesystem, root, display)
    if manifest is None:
        first = issues[0]
        cls = UnsupportedVersionError if first.code == MANIFEST_VERSION else (
            DatasetNotFoundError if first.code == MANIFEST_MISSING else DataFormatError)
        raise cls(first.message, hint=first.hint, location=first.location)
    src = NativeSource(filesystem, root, display, manifest,
                       verify=_parts.default_verify() if verify is None else verify,
                       max_member_bytes=limit)
    src.parts, problems = vet_parts(filesystem, root, display, manifest)
    for problem in problems:
        if problem.severity == "error":
            raise IntegrityError(problem.message, hint=problem.hint, location=problem.location)
    src.issues = problems
    for problem in check_parts(src):
        raise IntegrityError(problem.message, hint=problem.hint, location=problem.location)
    return src


def check_parts(src: NativeSource, *, hashes: bool = False) -> Iterator[Issue]:
    """Missing parts and size mismatches (and, with `hashes`, content hash mismatches)."""
    for part in src.parts:
        full = posixpath.join(src.root, part.path) if src.root else part.path
        shown = src.display(part.path)
        if not src.fs.exists(full):
            yield issue(PART_MISSING, f"data part {part.path} is listed in the manifest but absent",
                        file=shown, hint="the dataset is incomplete: copy it again from its source")
            continue
        if part.bytes >= 0:
            size = src.fs.size(full)
            if size != part.bytes:
                yield issue(
                    PART_SIZE,
                    f"data part {part.path} has {size} bytes, the manifest says {part.bytes}",
                    file=shown, hint="the part was truncated or changed after it was written: "
                                     "copy the dataset again")
                continue
        if src.zipped:
            limit = _parts.max_member_bytes(src.max_member_bytes)
            size = src.fs.size(full)
            if size > limit:
                yield issue(_parts.PART_TOO_LARGE,
                            f"data part {part.path} decompresses to {size} bytes, more than "
                            f"the {limit} this reader accepts from a .zip", file=shown,
                            hint=f"raise max_member_bytes (or {_parts.MAX_MEMBER_ENV}) if the "
                                 "dataset is trusted, or unzip it")
                continue
        if hashes and part.sha256:
            sha = hashlib.sha256()
            try:
                with src.fs.open(full, "rb") as f:
                    while chunk := f.read(1 << 22):
                        sha.update(chunk)
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                yield issue(_parts.PART_UNREADABLE, f"data part {part.path} cannot be read: "
                            f"{exc}", file=shown, hint="the dataset is damaged: copy it again")
                continue
            if sha.hexdigest() != part.sha256:
                yield issue(PART_HASH, f"data part {part.path} does not match its hash",
                            file=shown, hint="the part is corrupted: copy the dataset again")


def iter_part_dicts(
    src: NativeSource, part: Part, *, batch_size: int = 8192, columns: list[str] | None = None
) -> Iterator[tuple[dict[str, Any], int | None, int | None, list[Issue]]]:
    """Records of one part as raw dicts: `(dict, line, row, issues)`; dict may be {} on issues.

    With `src.verify` the part's hash and record count are checked at its end (IntegrityError).
    """
    if part.path.endswith(".jsonl"):
        count = 0
        with src.open_part(part) as f:
            for line, value, issues in _jsonl.read_objects(f, src.display(part.path)):
                if value is not None:
                    count += 1
                elif not issues:  # a literal `null` line: a record that is no object
                    issues = [issue(NOT_OBJECT, "the record is null, not a JSON object",
                                    file=src.display(part.path), line=line,
                                    hint="each line of a part must be one JSON object")]
                yield (value if value is not None else {}), line, None, issues
        src.check_count(part, count)
        return
    row = 0
    for batch in iter_part_batches(src, part, batch_size=batch_size, columns=columns):
        for d in _arrow.batch_to_dicts(batch, part.kind):
            yield d, None, row, []
            row += 1


def _unreadable(shown: str, exc: BaseException, row: int | None = None) -> DataFormatError:
    return DataFormatError(
        f"cannot read Parquet part: {exc}",
        location=issue(PARQUET_UNREADABLE, "", file=shown, row=row).location,
        hint="the file is not Parquet or is damaged: copy the dataset again, or write it again")


def open_parquet(src: NativeSource, part: Part) -> tuple[pq.ParquetFile, IO[bytes] | None]:
    """A part as a `ParquetFile`, and the file to close after it (None when read to memory).

    With `verify` (or from a .zip, where seeking means decompressing again) the part is read
    once, whole, hashed and bounded on the way, and parsed from memory; otherwise Arrow reads
    the ranges it needs. The footer's row count must be the manifest's (with `verify`).
    """
    shown = src.display(part.path)
    f: IO[bytes] | None = None
    try:
        if src.verify or src.zipped:
            pf = pq.ParquetFile(pa.BufferReader(src.part_bytes(part)))
        else:
            try:
                f = src.fs.open(src.full(part), "rb")
            except (OSError, zipfile.BadZipFile, KeyError) as exc:
                raise _parts.open_error(part, shown, exc) from None
            pf = pq.ParquetFile(f)
    except (pa.ArrowException, OSError) as exc:
        if f is not None:
            f.close()
        if isinstance(exc, GroundtruthError):
            raise
        raise _unreadable(shown, exc) from None
    src.check_count(part, pf.metadata.num_rows)
    return pf, f


@contextlib.contextmanager
def parquet_part(src: NativeSource, part: Part) -> Iterator[pq.ParquetFile]:
    """`open_parquet` as a context: the part's `ParquetFile`, its file closed afterwards."""
    pf, f = open_parquet(src, part)
    try:
        yield pf
    finally:
        if f is not None:
            f.close()


def iter_part_batches(
    src: NativeSource, part: Part, *, batch_size: int = 65536, columns: list[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """A Parquet part as record batches of the kind's schema (projected to `columns`)."""
    shown = src.display(part.path)
    with parquet_part(src, part) as pf:
        schema = _arrow.SCHEMAS[part.kind]
        wanted = columns or schema.names
        present = [c for c in wanted if c in pf.schema_arrow.names]
        for c in ("id",) if part.kind == "items" else ("id", "item_id", "type"):
            if c in wanted and c not in present:
                raise DataFormatError(
                    f"required column {c!r} is missing",
                    location=issue(PARQUET_COLUMNS, "", file=shown, path=c).location,
                    hint="write the part with groundtruth, or add the column")
        row = 0
        batches = pf.iter_batches(batch_size=batch_size, columns=present)
        while True:
            try:
                batch = next(batches, None)
            except (pa.ArrowException, OSError) as exc:
                # A damaged page (read without verify, or a writer's bug): say where.
                raise _unreadable(shown, exc, row) from None
            if batch is None:
                break
            table = pa.Table.from_batches([batch])
            try:
                table = _arrow.conform(table, part.kind, columns)
            except ValueError as exc:
                raise DataFormatError(
                    str(exc), location=issue(PARQUET_COLUMNS, "", file=shown).location,
                    hint="the columns must have the types of spec/v1.0 (see `gt schema`)",
                ) from None
            row += batch.num_rows
            yield from table.to_batches()


def iter_native_records(
    src: NativeSource, kinds: Iterable[str] = KINDS
) -> Iterator[Item | AnnotationBase]:
    """Validated records, items first. Raises DataFormatError at the first bad record."""
    for kind in kinds:
        for part in src.parts_of(kind):
            shown = src.display(part.path)
            for data, line, row, issues in iter_part_dicts(src, part):
                errors = [i for i in issues if i.severity == "error"]
                if errors:
                    _raise(errors)
                if not data and not issues:
                    continue
                if not data:
                    continue
                parsed = parse_record(data, kind, file=shown, line=line, row=row)
                if isinstance(parsed, list):
                    _raise(parsed)
                else:
                    yield parsed


def _raise(issues: list[Issue]) -> NoReturn:
    first = issues[0]
    more = f" ({len(issues) - 1} more problem(s) in this record)" if len(issues) > 1 else ""
    raise DataFormatError(
        f"[{first.code}] {first.message}{more}",
        hint=(first.hint or "") + ("; " if first.hint else "")
        + "run `gt validate` for a full report",
        location=first.location,
    )


# ---------------------------------------------------------------------------------------------
# writing


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class _CountingWriter:
    """Wraps a binary file: counts and hashes every byte written (for the manifest's parts)."""

    def __init__(self, f: IO[bytes]) -> None:
        self._f = f
        self.sha = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data: bytes | memoryview) -> int:
        b = bytes(data)
        self._f.write(b)
        self.sha.update(b)
        self.size += len(b)
        return len(b)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


class DatasetWriter:
    """Streams records into a native dataset; `close()` writes the manifest last.

    Memory holds one batch per kind. Records are written in the order given: `save()` sorts a
    `Dataset` first so JSONL diffs stay readable; a stream is written as it comes.

    On a local disk the dataset is built in a hidden sibling folder and moved into place, so
    the destination only ever holds a whole dataset. On object stores (no rename) the parts are
    written first and the manifest last: readers check every part against it.
    """

    def __init__(
        self,
        url: PathLike,
        *,
        encoding: Encoding = "jsonl",
        fs: AbstractFileSystem | None = None,
        storage_options: dict[str, Any] | None = None,
        overwrite: bool = False,
        rows_per_part: int | None = None,
        batch_size: int = 65536,
    ) -> None:
        if encoding not in ("jsonl", "parquet"):
            raise GroundtruthError(f"unknown encoding {encoding!r}", hint="use jsonl or parquet")
        self.url = str(url)
        self.encoding = encoding
        self.fs, self.path = resolve(url, fs=fs, storage_options=storage_options)
        self.rows_per_part = rows_per_part or (1_000_000 if encoding == "parquet" else 0)
        self.batch_size = batch_size
        self._zip = self.path.endswith(".zip")
        check_bucket(self.fs, self.path)  # before any makedirs, which would create it
        self._check_destination(overwrite)
        self._overwrite = overwrite
        if self._zip or is_local(self.fs):
            # Stage locally, then move/upload as one step (`_publish` explains the move).
            self._stage: str | None = (
                tempfile.mkdtemp(prefix=".gt-stage-") if self._zip
                else stage_dir(self._local_parent()))
            from fsspec.implementations.local import LocalFileSystem

            os.chmod(self._stage, 0o777 & ~_umask())  # mkdtemp makes it private
            self._wfs: AbstractFileSystem = LocalFileSystem()
            self._root = self._stage
        else:
            self._stage = None
            self._wfs = self.fs
            self._root = self.path
            if overwrite and self.fs.exists(posixpath.join(self.path, MANIFEST)):
                self.fs.rm(posixpath.join(self.path, MANIFEST))  # uncommit the old version first
        self.fingerprint = Fingerprinter()
        self.parts: list[Part] = []
        self._buffers: dict[str, list[Item | AnnotationBase]] = {k: [] for k in KINDS}
        self._open: dict[str, Any] = {}
        self._rows_in_part: dict[str, int] = dict.fromkeys(KINDS, 0)
        self._part_index: dict[str, int] = dict.fromkeys(KINDS, 0)
        self._closed = False

    def _local_parent(self) -> str:
        parent = posixpath.dirname(self.path.rstrip("/")) or "."
        self.fs.makedirs(parent, exist_ok=True)
        return parent

    def _check_destination(self, overwrite: bool) -> None:
        """Refuse to replace anything without `overwrite`, and with it anything that is not
        a groundtruth dataset (a plain file, a folder without a manifest, a foreign .zip)."""
        if is_local(self.fs) and not self._zip:
            recover_destination(self.fs._strip_protocol(self.path))
        if not self.fs.exists(self.path):
            return
        if self.fs.isdir(self.path) and not self.fs.ls(self.path, detail=False):
            return
        if not overwrite:
            raise DatasetExistsError(
                f"{self.url} already exists",
                hint="choose another destination, or pass overwrite=True (--overwrite)",
            )
        if self._zip and self.fs.isfile(self.path):
            if not is_native(self.path, fs=self.fs):
                raise DatasetExistsError(
                    f"{self.url} is a .zip that is not a groundtruth dataset; not overwriting "
                    "it", hint="choose another destination")
            return
        if not self.fs.isdir(self.path):
            raise DatasetExistsError(
                f"{self.url} is a file, not a groundtruth dataset; not overwriting it",
                hint="choose another destination (a dataset is a folder, or a .zip)")
        if not self.fs.exists(posixpath.join(self.path, MANIFEST)):
            raise DatasetExistsError(
                f"{self.url} holds files that are not a groundtruth dataset; not overwriting it",
                hint="choose an empty or new destination",
            )

    # -- records ------------------------------------------------------------------------------
    def write(self, record: Item | AnnotationBase) -> None:
        kind = "items" if isinstance(record, Item) else "annotations"
        self.fingerprint.add(record)
        buf = self._buffers[kind]
        buf.append(record)
        if len(buf) >= self.batch_size:
            self._flush(kind)

    def write_all(self, records: Iterable[Item | AnnotationBase]) -> None:
        for r in records:
            self.write(r)

    def _write_arrow(self, kind: str, batch: pa.RecordBatch) -> None:
        """Append an Arrow batch of the kind's schema (Parquet encoding: fast paths that build
        columns themselves), split across parts at `rows_per_part`. The caller accounts for
        the records' fingerprint."""
        offset = 0
        while offset < batch.num_rows:
            state = self._open.get(kind) or self._start_part(kind)
            room = batch.num_rows - offset
            if self.rows_per_part:
                room = min(room, self.rows_per_part - state["records"])
            state["writer"].write_batch(batch.slice(offset, room))
            state["records"] += room
            offset += room
            if self.rows_per_part and state["records"] >= self.rows_per_part:
                self._finish_part(kind)

    def _part_name(self, kind: str) -> str:
        if self.encoding == "jsonl" and not self.rows_per_part:
            return f"{kind}.jsonl"
        return f"{kind}/part-{self._part_index[kind]:05d}.{self.encoding}"

    def _start_part(self, kind: str) -> Any:
        rel = self._part_name(kind)
        full = posixpath.join(self._root, rel)
        self._wfs.makedirs(posixpath.dirname(full), exist_ok=True)
        raw = self._wfs.open(full, "wb")
        counting = _CountingWriter(raw)
        writer = (
            pq.ParquetWriter(counting, _arrow.SCHEMAS[kind], compression="zstd")
            if self.encoding == "parquet"
            else None
        )
        state = {"rel": rel, "raw": raw, "counting": counting, "writer": writer, "records": 0}
        self._open[kind] = state
        return state

    def _flush(self, kind: str) -> None:
        buf = self._buffers[kind]
        while buf:
            state = self._open.get(kind) or self._start_part(kind)
            room = len(buf)
            if self.rows_per_part:
                room = min(room, self.rows_per_part - state["records"])
            chunk, rest = buf[:room], buf[room:]
            if self.encoding == "parquet":
                state["writer"].write_batch(_arrow.records_to_batch(chunk, kind))
            else:
                state["counting"].write(b"".join(_jsonl.dumps_record(r.to_json_dict())
                                                 for r in chunk))
            state["records"] += len(chunk)
            buf[:] = rest
            if self.rows_per_part and state["records"] >= self.rows_per_part:
                self._finish_part(kind)

    def _finish_part(self, kind: str) -> None:
        state = self._open.pop(kind, None)
        if state is None:
            return
        if state["writer"] is not None:
            state["writer"].close()
        state["raw"].close()
        c = state["counting"]
        self.parts.append(Part(path=state["rel"], kind=kind,  # type: ignore[arg-type]
                               records=state["records"], bytes=c.size,
                               sha256=c.sha.hexdigest()))
        self._part_index[kind] += 1

    # -- finishing ----------------------------------------------------------------------------
    def close(self, manifest: Manifest) -> Manifest:
        """Flush, write the manifest (with parts and fingerprint), and publish the dataset."""
        if self._closed:
            raise GroundtruthError("this writer is already closed")
        try:
            for kind in KINDS:
                self._flush(kind)
                if kind not in self._open and not any(p.kind == kind for p in self.parts):
                    self._start_part(kind)  # an empty part still says "no records", explicitly
                self._finish_part(kind)
            final = manifest.model_copy(update={
                "groundtruth": SPEC_VERSION,
                "encoding": self.encoding,
                "parts": sorted(self.parts, key=lambda p: (KINDS.index(p.kind), p.path)),
                "fingerprint": self.fingerprint.hexdigest(manifest),
                "created": manifest.created or datetime.now(UTC).replace(microsecond=0),
            })
            # Defaults left out keep the manifest short; the version is always stated.
            shown = {"groundtruth": SPEC_VERSION,
                     **final.model_dump(mode="json", exclude_defaults=True, exclude_none=True)}
            body = orjson.dumps(shown, option=orjson.OPT_INDENT_2) + b"\n"
            if self._stage is not None:  # private until published whole: a plain write
                with open(posixpath.join(self._stage, MANIFEST), "wb") as f:
                    f.write(body)
            else:
                with atomic_write(self._wfs, posixpath.join(self._root, MANIFEST),
                                  overwrite=True) as f:
                    f.write(body)
            self._publish()
        except BaseException:
            self.abort()
            raise
        self._closed = True
        return final

    def _publish(self) -> None:
        if self._stage is None:
            if self._overwrite:
                self._drop_stale_parts()
            return
        if self._zip:
            fd, tmpzip = tempfile.mkstemp(suffix=".zip")
            os.close(fd)
            try:
                with zipfile.ZipFile(tmpzip, "w", zipfile.ZIP_DEFLATED) as zf:
                    for p in sorted(self._wfs.find(self._stage)):
                        zf.write(p, posixpath.relpath(p, self._stage))
                with open(tmpzip, "rb") as src, atomic_write(
                        self.fs, self.path, overwrite=self._overwrite) as dst:
                    shutil.copyfileobj(src, dst, 1 << 22)
            finally:
                os.unlink(tmpzip)
                shutil.rmtree(self._stage, ignore_errors=True)
            return
        publish_dir(self._stage, self.fs._strip_protocol(self.path), overwrite=self._overwrite)

    def _drop_stale_parts(self) -> None:
        # On an object store the new version was written over the old one: the old version's
        # parts the new manifest does not list would be read by tools that glob the folder
        # (and are refused by readers as unlisted), so they go once the new manifest is in.
        listed = {p.path for p in self.parts}
        stale = [posixpath.join(self.path, f) for f in _parts.data_files(self.fs, self.path)
                 if f not in listed]
        if stale:
            self.fs.rm(stale)

    def abort(self) -> None:
        """Drop everything written so far (nothing is published)."""
        for kind in list(self._open):
            state = self._open.pop(kind)
            with contextlib.suppress(Exception):
                if state["writer"] is not None:
                    state["writer"].close()
                state["raw"].close()
        if self._stage is not None:
            shutil.rmtree(self._stage, ignore_errors=True)
        self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._closed:
            self.abort()
