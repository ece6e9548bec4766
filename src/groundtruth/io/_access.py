"""I/O problems as clear errors: what could not be reached, and what to do about it.

Storage libraries raise their own exceptions (an `OSError` with an errno, aiohttp's
`ClientConnectorError`, botocore's `NoCredentialsError` or `EndpointConnectionError`); users
see none of them. `access_error` turns one into a `GroundtruthError` that names the location
(`DatasetNotFoundError`, `AccessError`, `OutOfMemoryError`), and `check_readable` probes a
location before a command reads it, so every command and every `--from` fails the same way
on a missing path, a folder, a permission problem or an unreachable store.
"""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING, Any

from ..errors import AccessError, DatasetNotFoundError, GroundtruthError, OutOfMemoryError
from ._fs import PathLike, is_local, resolve

if TYPE_CHECKING:
    from collections.abc import Callable

    from fsspec import AbstractFileSystem

MANIFEST = "groundtruth.json"

STREAMING_HINT = (
    "convert it once to native Parquet, which streams in bounded memory "
    "(gt convert SRC DST --encoding parquet; COCO files stream), then run commands on that "
    "dataset, with --engine local or --engine dask for validate, diff and export"
)

_CREDENTIALS = ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError",
                "NoAuthTokenError", "ProfileNotFound", "DefaultCredentialsError",
                "ClientAuthenticationError")
_UNREACHABLE = ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError",
                "ConnectionClosedError", "ProxyConnectionError", "SSLError",
                "ClientConnectorError", "ServerDisconnectedError", "ServerTimeoutError",
                "ClientConnectionError", "ClientOSError", "ServiceRequestError")


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def access_error(exc: BaseException, where: PathLike | None = None) -> GroundtruthError | None:
    """The clear error for a storage or memory failure while reading `where`; None when
    `exc` is not one (a bug or a data problem, left to its own handler).

    Our own errors are returned as they are.
    """
    if isinstance(exc, GroundtruthError):
        return exc
    shown = os.fspath(where) if where is not None else (
        getattr(exc, "filename", None) or "the location")
    names = _names(exc)
    if isinstance(exc, MemoryError):
        return OutOfMemoryError(f"ran out of memory while reading {shown}", hint=STREAMING_HINT)
    if names & set(_CREDENTIALS):
        return AccessError(
            f"no credentials to read {shown}: {exc}",
            hint="configure credentials for the store (for s3: AWS_ACCESS_KEY_ID and "
                 "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance role); in the API a "
                 "public bucket is read with storage_options={'anon': True}")
    if names & set(_UNREACHABLE) or isinstance(exc, ConnectionError | TimeoutError):
        return AccessError(
            f"cannot reach the storage for {shown}: {exc}",
            hint="check the network, the host name and the endpoint (AWS_ENDPOINT_URL or "
                 "storage_options endpoint_url), then try again")
    if "ClientError" in names and hasattr(exc, "response"):  # botocore: the service said no
        err = getattr(exc, "response", {}).get("Error", {})
        code = str(err.get("Code", ""))
        if code in ("NoSuchKey", "NoSuchBucket", "404", "NotFound"):
            return DatasetNotFoundError(f"nothing at {shown} ({code})",
                                        hint="check the bucket and key")
        return AccessError(f"the store refused access to {shown}: {code or exc}",
                           hint="check the credentials' rights on the bucket and key")
    if isinstance(exc, FileNotFoundError):
        return DatasetNotFoundError(f"nothing at {shown}: no such file or folder",
                                    hint="check the path or URL")
    if isinstance(exc, IsADirectoryError):
        return AccessError(
            f"{shown} is a folder, not a file",
            hint="name the file inside it, or pass a groundtruth dataset folder (one with "
                 "groundtruth.json)")
    if isinstance(exc, NotADirectoryError):
        return AccessError(f"{shown}: a part of the path is a file, not a folder",
                           hint="check the path")
    if isinstance(exc, PermissionError):
        if ".gt-stage-" in shown or ".gt-tmp-" in shown:  # our temporary name: the folder
            return AccessError(f"permission denied writing in {os.path.dirname(shown)}",
                               hint="check that the destination folder is writable")
        return AccessError(f"permission denied: {shown}",
                           hint="check the permissions of the file and its folders (or the "
                                "store's access rights)")
    if isinstance(exc, OSError) and exc.errno in (errno.ENAMETOOLONG, errno.ELOOP, errno.EIO,
                                                  errno.ENOSPC, errno.EROFS, errno.EMFILE):
        return AccessError(f"cannot access {shown}: {exc.strerror or exc}")
    return None


def check_readable(
    url: PathLike, *, fs: AbstractFileSystem | None = None,
    storage_options: dict[str, Any] | None = None, file_only: bool = False,
    folder_format: Callable[[AbstractFileSystem, str], bool] | None = None,
) -> str:
    """Probe `url` before reading it; return `"file"` or `"directory"`.

    Raises `DatasetNotFoundError` when nothing is there, `AccessError` when it cannot be
    read (permissions, credentials, an unreachable store) or is a folder that is not a
    groundtruth dataset (a folder is read only as a dataset with groundtruth.json), and with
    `file_only` (a foreign format was named) for any folder. `folder_format(fs, path)` says
    whether a folder without a manifest is one of the folder formats (YOLO, VOC) instead.
    """
    shown = os.fspath(url)
    filesystem, path = resolve(url, fs=fs, storage_options=storage_options)
    try:
        info = filesystem.info(path)
    except FileNotFoundError:
        _probe_remote(filesystem, path, shown)
        raise DatasetNotFoundError(f"nothing at {shown}: no such file or folder",
                                   hint="check the path or URL") from None
    except Exception as exc:  # mapped, or re-raised as it is
        mapped = access_error(exc, shown)
        if mapped is None:
            raise
        raise mapped from exc
    kind = "directory" if info.get("type") == "directory" else "file"
    try:
        if kind == "file":
            with filesystem.open(path, "rb") as f:
                f.read(1)
        elif is_local(filesystem):
            os.listdir(path)
    except Exception as exc:
        mapped = access_error(exc, shown)
        if mapped is None:
            raise
        raise mapped from exc
    if kind == "directory":
        if file_only:
            raise AccessError(f"{shown} is a folder, not a file",
                              hint="the format named with --from reads one file: name it")
        if not filesystem.exists(path.rstrip("/") + "/" + MANIFEST) and not (
                folder_format is not None and folder_format(filesystem, path)):
            raise AccessError(
                f"{shown} is a folder without {MANIFEST}, so not a groundtruth dataset",
                hint="name a file inside it (with --from FORMAT if needed), or a dataset "
                     "folder")
    return kind


def _probe_remote(filesystem: AbstractFileSystem, path: str, shown: str) -> None:
    """HTTP filesystems answer "not found" for a host that does not answer: ask once more by
    reading, which raises the connection error itself."""
    protocol = filesystem.protocol if isinstance(filesystem.protocol, str) else (
        filesystem.protocol[0])
    if protocol not in ("http", "https"):
        return
    try:
        filesystem.cat_file(path, start=0, end=1)
    except FileNotFoundError:
        return
    except Exception as exc:
        mapped = access_error(exc, shown)
        if mapped is not None:
            raise mapped from exc
