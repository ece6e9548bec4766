"""Reading a data part safely: confined to the dataset, bounded in size, verified as it is read.

A dataset can come from a stranger, so nothing in its manifest is trusted on its word:

- **Confinement.** A part path is a relative POSIX path inside the dataset: no absolute path, no
  `.`/`..` segment, no URL scheme or drive, no backslash or control character, and a `.jsonl` or
  `.parquet` name. The check is on the text, before anything is opened or stat'ed, so a refused
  path tells nothing about what exists outside. On a local disk a part (or a folder on its way)
  that is a symbolic link must also resolve inside the dataset folder.
- **Bounds.** While verifying (and always in a `.zip`), a part is not read past the size the
  manifest declares for it (a longer stream stops with an error there), and a member of a `.zip` dataset is refused before it is
  opened when its size (from the zip's directory) is over a ceiling:
  `GROUNDTRUTH_MAX_MEMBER_BYTES` or the `max_member_bytes` keyword, default 4 GiB.
- **Integrity.** Every byte read is hashed on the way (no second pass): at the end of the part
  its SHA-256 and size must be the manifest's, and the reader checks the record count.
  `verify=False` turns off hash and count (never the bounds or the confinement).
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, Self

from fsspec import AbstractFileSystem
from fsspec.implementations.zip import ZipFileSystem

from ..errors import DataFormatError, GroundtruthError, IntegrityError
from ..issues import Issue, define, issue
from ..models import Part
from ..models.manifest import PART_PATH_PATTERN
from ._fs import is_local

PART_PATH = define("part.path-unsafe", "error",
                   "A part path is absolute, has `..`, is a URL or leaves the dataset")
PART_UNLISTED = define("part.unlisted", "error",
                       "A data file in the dataset is not listed in the manifest")
PARTS_NOT_LISTED = define("manifest.parts-absent", "warning",
                          "The manifest lists no parts: data files found by name are unchecked")
PART_TOO_LARGE = define("part.too-large", "error",
                        "A zipped part is larger than the reader accepts")
PART_RECORDS = define("part.records-mismatch", "error",
                      "A data part holds another number of records than listed")
PART_HASH = define("part.hash-mismatch", "error", "A data part's hash differs from the manifest")
PART_SIZE = define("part.size-mismatch", "error", "A data part's size differs from the manifest")
PART_UNREADABLE = define("part.unreadable", "error",
                         "A data part cannot be read from its container (damaged .zip)")

MAX_MEMBER_ENV = "GROUNDTRUTH_MAX_MEMBER_BYTES"
DEFAULT_MAX_MEMBER_BYTES = 4 << 30
"""Largest decompressed `.zip` member read (4 GiB) unless the env var or keyword says else."""

MAX_MANIFEST_BYTES = 64 << 20
"""A manifest is parsed whole; a longer one is refused (a manifest lists parts, not records)."""

PART_PATTERN = PART_PATH_PATTERN
"""The rule for `parts[].path` as a JSON Schema (ECMA 262) pattern (stated in the schema);
`unsafe_reason` is the same rule in words, used by the readers."""

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_verify_default: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "groundtruth_verify", default=True)


def default_verify() -> bool:
    """Whether reads verify parts when the caller did not say (True unless `reading(...)`)."""
    return _verify_default.get()


@contextlib.contextmanager
def reading(*, verify: bool) -> Iterator[None]:
    """Within the block, native reads that are not told otherwise verify (or not) their parts.

    For callers that reach the readers through code that takes no `verify` argument (the CLI's
    `--no-verify`); not for generators, whose body runs outside the block.
    """
    token = _verify_default.set(verify)
    try:
        yield
    finally:
        _verify_default.reset(token)


def max_member_bytes(explicit: int | None = None) -> int:
    """The ceiling for a decompressed `.zip` member: the keyword, else the env var, else 4 GiB."""
    if explicit is not None:
        if explicit <= 0:
            raise ValueError(f"max_member_bytes must be positive, not {explicit}")
        return explicit
    raw = os.environ.get(MAX_MEMBER_ENV)
    if not raw:
        return DEFAULT_MAX_MEMBER_BYTES
    try:
        value = int(raw)
    except ValueError:
        raise GroundtruthError(f"{MAX_MEMBER_ENV}={raw!r} is not a number of bytes",
                               hint=f"set {MAX_MEMBER_ENV} to a positive integer, e.g. "
                                    f"{DEFAULT_MAX_MEMBER_BYTES}") from None
    if value <= 0:
        raise GroundtruthError(f"{MAX_MEMBER_ENV}={raw!r} must be positive")
    return value


# ---------------------------------------------------------------------------------------------
# confinement


def unsafe_reason(path: str) -> str | None:
    """Why a part path may not be read (it could name something outside the dataset), or None."""
    if not path:
        return "it is empty"
    if _CONTROL.search(path):
        return "it holds a control character"
    if "\\" in path:
        return "it holds a backslash (part paths use `/`)"
    if _SCHEME.match(path):
        return "it is a URL or a drive path, not a path inside the dataset"
    if path.startswith("/"):
        return "it is absolute"
    segments = path.split("/")
    if ".." in segments:
        return "it has a `..` segment"
    if "." in segments or "" in segments:
        return "it has an empty or `.` segment (write it in its plain form)"
    if not path.endswith((".jsonl", ".parquet")):
        return "it is neither a .jsonl nor a .parquet file"
    return None


def confine(parts: list[Part], manifest_file: str) -> Iterator[Issue]:
    """An issue per part whose path may leave the dataset (checked on the text alone)."""
    for n, part in enumerate(parts):
        reason = unsafe_reason(part.path)
        if reason is not None:
            yield issue(
                PART_PATH, f"part path {part.path!r} is refused: {reason}",
                file=manifest_file, path=f"$.parts[{n}].path",
                hint="a part path is relative to the dataset folder, e.g. "
                     "annotations/part-00000.parquet; nothing outside the dataset is read")


def escapes_root(fs: AbstractFileSystem, root: str, part: Part) -> bool:
    """Whether a (textually safe) part resolves outside the dataset through a symbolic link.

    Only a local disk has links; elsewhere a safe path is inside by construction.
    """
    if not is_local(fs):
        return False
    base = os.path.realpath(root or ".")
    target = os.path.realpath(os.path.join(base, *part.path.split("/")))
    return os.path.commonpath([base, target]) != base


def symlink_issue(part: Part, n: int, manifest_file: str) -> Issue:
    return issue(PART_PATH, f"part {part.path!r} is a symbolic link (or inside one) that "
                            "points outside the dataset folder; it is not followed",
                 file=manifest_file, path=f"$.parts[{n}].path",
                 hint="copy the data into the dataset folder instead of linking to it")


# ---------------------------------------------------------------------------------------------
# files the manifest does not list

_DATA_SUFFIXES = (".jsonl", ".parquet")
_KIND_FOLDERS = ("items", "annotations")


def data_files(fs: AbstractFileSystem, root: str) -> list[str]:
    """Data files by name: `*.jsonl`/`*.parquet` at the top and under `items/`,
    `annotations/` (relative paths, sorted); hidden names (a writer's temporary files) aside."""
    def rel(p: str) -> str:
        p = p.rstrip("/")
        return posixpath.relpath(p, root) if root else p.lstrip("/")

    found: set[str] = set()
    top = root or ""
    with contextlib.suppress(FileNotFoundError):
        for entry in fs.ls(top, detail=True):
            name = rel(entry["name"])
            if entry.get("type") == "file" and name.endswith(_DATA_SUFFIXES):
                found.add(name)
    for kind in _KIND_FOLDERS:
        folder = posixpath.join(root, kind) if root else kind
        if not fs.isdir(folder):
            continue
        for p in fs.find(folder):
            name = rel(p)
            if name.endswith(_DATA_SUFFIXES):
                found.add(name)
    return sorted(f for f in found if not any(s.startswith(".") for s in f.split("/")))


def unlisted(fs: AbstractFileSystem, root: str, parts: list[Part], manifest_file: str,
             display: str) -> Iterator[Issue]:
    """An issue per data file in the dataset folder that the manifest does not list."""
    listed = {p.path for p in parts}
    for name in data_files(fs, root):
        if name not in listed:
            yield issue(
                PART_UNLISTED,
                f"data file {name} is in the dataset but not listed in the manifest's parts",
                file=posixpath.join(display, name),
                hint="it is not read, but tools that read the folder by pattern (DuckDB, "
                     "Spark) would: remove it, or write the dataset again so the manifest "
                     "lists it")


# ---------------------------------------------------------------------------------------------
# reading a part: bounded, hashed while read


def _too_large(part: Part, shown: str, size: int, limit: int) -> IntegrityError:
    return IntegrityError(
        f"data part {part.path} decompresses to {size} bytes, more than the {limit} this "
        "reader accepts from a .zip", location=issue(PART_TOO_LARGE, "", file=shown).location,
        hint=f"if the dataset is trusted, raise the ceiling (max_member_bytes=, or the "
             f"{MAX_MEMBER_ENV} environment variable), or unzip it to a folder")


def check_member(fs: AbstractFileSystem, full: str, part: Part, shown: str,
                 limit: int) -> None:
    """Refuse a zip member larger than `limit` before decompressing any of it."""
    if not isinstance(fs, ZipFileSystem):
        return
    size = int(fs.info(full).get("size", 0))
    if size > limit:
        raise _too_large(part, shown, size, limit)


class PartReader:
    """A binary stream over one part that hashes and counts every byte it hands out.

    With `verify` (or when reading a `.zip` member, whose size bounds decompression) it never
    reads past the declared size (plus one byte, to notice a longer file), nor past `limit`;
    at the end of the stream it checks the size and, with `verify`, the SHA-256. Errors of the
    container (a torn zip) become `IntegrityError`s naming the part.
    """

    def __init__(self, f: IO[bytes], part: Part, shown: str, *, verify: bool,
                 limit: int | None = None) -> None:
        self._f = f
        self.part = part
        self.shown = shown
        self._sha = hashlib.sha256() if verify and part.sha256 else None
        self._sized = (verify or limit is not None) and part.bytes >= 0
        self._limit = limit
        self.size = 0
        self._done = False

    def read(self, n: int = -1) -> bytes:
        if self._done:
            return b""
        cap = self.part.bytes + 1 if self._sized else None
        if self._limit is not None:
            cap = min(cap, self._limit + 1) if cap is not None else self._limit + 1
        if cap is not None:
            n = cap - self.size if n < 0 else min(n, cap - self.size)
        try:
            data: bytes = self._f.read(n)
        except FileNotFoundError as exc:  # object stores open lazily: gone since listed
            raise open_error(self.part, self.shown, exc) from None
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise IntegrityError(
                f"data part {self.part.path} cannot be read from the .zip: {exc}",
                location=issue(PART_UNREADABLE, "", file=self.shown).location,
                hint="the .zip is damaged or truncated: copy it again") from None
        self.size += len(data)
        if self._limit is not None and self.size > self._limit:
            raise _too_large(self.part, self.shown, self.size, self._limit)
        if self._sized and self.size > self.part.bytes:
            raise self._size_error("more than")
        if self._sha is not None:
            self._sha.update(data)
        if not data:
            self.finish()
        return data

    def finish(self) -> None:
        """Check size and hash (once); called at the end of the stream."""
        if self._done:
            return
        self._done = True
        if self._sized and self.size != self.part.bytes:
            raise self._size_error("only" if self.size < self.part.bytes else "more than")
        if self._sha is not None and self._sha.hexdigest() != self.part.sha256:
            raise IntegrityError(
                f"data part {self.part.path} does not match its hash in the manifest "
                f"(sha256 {self._sha.hexdigest()}, expected {self.part.sha256})",
                location=issue(PART_HASH, "", file=self.shown).location,
                hint="the part was changed or corrupted after it was written: copy the "
                     "dataset again from its source (verify=False / --no-verify reads it "
                     "anyway)")

    def _size_error(self, how: str) -> IntegrityError:
        return IntegrityError(
            f"data part {self.part.path}: read {how} the {self.part.bytes} bytes the manifest "
            f"declares ({self.size} read)",
            location=issue(PART_SIZE, "", file=self.shown).location,
            hint="the part was truncated or changed after it was written: copy the dataset "
                 "again")

    def readall(self) -> bytes:
        chunks: list[bytes] = []
        while chunk := self.read(1 << 22):
            chunks.append(chunk)
        self.finish()
        return b"".join(chunks)

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def count_error(part: Part, shown: str, count: int) -> IntegrityError:
    return IntegrityError(
        f"data part {part.path} holds {count} records, the manifest lists {part.records}",
        location=issue(PART_RECORDS, "", file=shown).location,
        hint="the part was changed after it was written: copy the dataset again "
             "(verify=False / --no-verify reads it anyway)")


def open_error(part: Part, shown: str, exc: BaseException) -> GroundtruthError:
    """What a failure to open a listed part means: gone, or a damaged container."""
    if isinstance(exc, FileNotFoundError):
        return IntegrityError(f"data part {part.path} is listed in the manifest but absent",
                              location=issue("part.missing", "", file=shown).location,
                              hint="the dataset is incomplete: copy it again from its source")
    return DataFormatError(f"data part {part.path} cannot be opened: {exc}",
                           location=issue(PART_UNREADABLE, "", file=shown).location,
                           hint="the dataset is damaged: copy it again from its source")


def open_part_stream(fs: AbstractFileSystem, full: str, part: Part, shown: str, *,
                     verify: bool, limit: int | None) -> PartReader:
    """Open a part for a sequential read through a `PartReader`."""
    zip_limit = limit if isinstance(fs, ZipFileSystem) else None
    if zip_limit is not None:
        check_member(fs, full, part, shown, zip_limit)
    try:
        f: IO[bytes] = fs.open(full, "rb")
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise open_error(part, shown, exc) from None
    return PartReader(f, part, shown, verify=verify, limit=zip_limit)


def read_part_bytes(fs: AbstractFileSystem, full: str, part: Part, shown: str, *,
                    verify: bool, limit: int | None) -> bytes:
    """A whole part, read once, bounded and (with `verify`) checked against its hash."""
    with open_part_stream(fs, full, part, shown, verify=verify, limit=limit) as r:
        return r.readall()


def read_manifest_bytes(fs: AbstractFileSystem, path: str) -> bytes | None:
    """The manifest's bytes, or None when it is longer than `MAX_MANIFEST_BYTES`."""
    if isinstance(fs, ZipFileSystem) and int(fs.info(path).get("size", 0)) > MAX_MANIFEST_BYTES:
        return None
    with fs.open(path, "rb") as f:
        data: bytes = f.read(MAX_MANIFEST_BYTES + 1)
    return None if len(data) > MAX_MANIFEST_BYTES else data


def wrap_zip_errors(exc: BaseException, shown: str) -> GroundtruthError:
    """A torn or non-zip `.zip` as a located error."""
    return DataFormatError(f"{shown} is not a readable .zip: {exc}",
                           hint="the file is truncated or not a zip archive: copy it again")

