"""One place that turns "where" (a path, a URL, an fsspec filesystem) into a filesystem.

Also the atomic-write helpers: data goes to a temporary name first and is moved into place, so
a failure never leaves a file that looks complete.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import uuid
from collections.abc import Iterator
from typing import IO, Any

import fsspec
from fsspec import AbstractFileSystem

from ..errors import BackendNotInstalledError, DatasetNotFoundError, GroundtruthError

PathLike = str | os.PathLike[str]

_BACKEND_EXTRAS = {
    "s3": "s3",
    "s3a": "s3",
    "gs": "gcs",
    "gcs": "gcs",
    "az": "azure",
    "abfs": "azure",
    "abfss": "azure",
    "adl": "azure",
}


def resolve(
    url: PathLike,
    *,
    fs: AbstractFileSystem | None = None,
    storage_options: dict[str, Any] | None = None,
) -> tuple[AbstractFileSystem, str]:
    """Return `(filesystem, path)` for a local path, any fsspec URL, or a path on a given fs."""
    if fs is not None:
        if storage_options:
            raise TypeError(
                "'storage_options' was given with 'fs'; it is only used when the location is "
                "a URL string. Configure the filesystem object instead."
            )
        return fs, os.fspath(url)
    text = os.fspath(url)
    options = dict(storage_options or {})
    retries = options.pop("retries", None)
    try:
        filesystem, path = fsspec.core.url_to_fs(text, **options)
    except ImportError as exc:
        protocol = text.split("://", 1)[0] if "://" in text else "file"
        extra = _BACKEND_EXTRAS.get(protocol)
        hint = (
            f"install it with: pip install 'groundtruth-labels[{extra}]'"
            if extra
            else f"install the fsspec backend for '{protocol}://' ({exc})"
        )
        raise BackendNotInstalledError(
            f"no filesystem backend for '{protocol}://' is installed", hint=hint
        ) from None
    except ValueError as exc:
        raise GroundtruthError(f"cannot open {text}: {exc}") from None
    return apply_retries(filesystem, retries), path


def apply_retries(fs: AbstractFileSystem, retries: int | None) -> AbstractFileSystem:
    """Set the retry budget of filesystems that retry transient errors themselves.

    s3fs and gcsfs keep it in a `retries` attribute their constructors do not take, so
    `storage_options={"retries": N}` is taken off the options and applied here (and again on an
    engine's worker, where the filesystem is rebuilt from its options).
    """
    if retries is not None and hasattr(fs, "retries"):
        fs.retries = retries
    return fs


_BUCKET_STORES = frozenset(("s3", "s3a", "gs", "gcs", "az", "abfs", "abfss"))


def check_bucket(fs: AbstractFileSystem, path: str) -> None:
    """Refuse to write into a bucket that does not exist (object stores only).

    s3fs and gcsfs create a missing bucket when asked to make a "directory" in it: a typo in
    a URL would silently create a bucket (with the account's default settings) instead of
    failing. Writers call this before writing anything.
    """
    protocols = {fs.protocol} if isinstance(fs.protocol, str) else set(fs.protocol)
    if not protocols & _BUCKET_STORES:
        return
    bucket = path.lstrip("/").split("/", 1)[0]
    try:
        present = bool(fs.exists(bucket))
    except (PermissionError, OSError):
        present = True  # cannot tell (no list permission): the write itself will say
    if not present:
        scheme = min(protocols & _BUCKET_STORES)
        raise DatasetNotFoundError(
            f"bucket {scheme}://{bucket} does not exist; nothing was written",
            hint="check the URL; groundtruth never creates buckets: create it with your "
                 "cloud's tools first")


def is_local(fs: AbstractFileSystem) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in ("file", "local")


def join(*parts: str) -> str:
    return posixpath.join(*parts)


def read_head(url: PathLike, *, fs: AbstractFileSystem | None = None, size: int = 65536) -> bytes:
    """The first `size` bytes of a file (for format detection); b"" for a folder."""
    filesystem, path = resolve(url, fs=fs)
    if not filesystem.exists(path):
        raise DatasetNotFoundError(f"no such file or folder: {os.fspath(url)}")
    if filesystem.isdir(path):
        return b""
    with filesystem.open(path, "rb") as f:
        data: bytes = f.read(size)
        return data


def _temp_name(path: str) -> str:
    head, tail = posixpath.split(path)
    return posixpath.join(head, f".{tail}.tmp-{uuid.uuid4().hex[:8]}")


@contextlib.contextmanager
def atomic_write(
    fs: AbstractFileSystem, path: str, mode: str = "wb", **open_kwargs: Any
) -> Iterator[IO[Any]]:
    """Open `path` for writing so that it appears only when the write completed.

    On filesystems with rename (local disk, most others) the data goes to a hidden temporary
    name in the same folder and is moved into place at the end. On object stores an upload is
    only visible once complete anyway, so the file is written directly; the dataset manifest,
    written last, is what commits a dataset there.
    """
    if not is_local(fs):
        check_bucket(fs, path)
        with fs.open(path, mode, **open_kwargs) as f:
            yield f
        return
    parent = posixpath.dirname(path)
    if parent:
        fs.makedirs(parent, exist_ok=True)
    tmp = _temp_name(path)
    try:
        with fs.open(tmp, mode, **open_kwargs) as f:
            yield f
        fs.mv(tmp, path)
    except BaseException:
        with contextlib.suppress(Exception):
            fs.rm(tmp)
        raise


def atomic_write_bytes(fs: AbstractFileSystem, path: str, data: bytes) -> None:
    with atomic_write(fs, path, "wb") as f:
        f.write(data)
