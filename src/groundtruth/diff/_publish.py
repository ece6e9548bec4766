"""Write a report file without replacing what is there, unless asked, and without a race.

`gt diff --output FILE` writes the rendering to a temporary name next to FILE and publishes it
in one step:

- without `overwrite`, by a hard link to FILE (`link(2)` fails when FILE exists, whatever it is:
  a file, a folder, a symlink, dangling or not), so the existence check and the publish are one
  atomic operation: of two writers racing for the same FILE, one wins and the other gets
  `DatasetExistsError`; nobody's file is silently replaced. Where the filesystem has no hard
  links, FILE is first claimed by an exclusive create (`O_CREAT|O_EXCL`) and then replaced by
  the temporary file (a reader may see it empty for that moment, never half-written);
- with `overwrite`, by `rename(2)` over FILE (atomic); a folder is never replaced, and neither
  is a file the diff was reading.

On object stores (s3://, gs://, ...) there is neither link nor rename: an upload becomes
visible only once complete, and the existence check is a separate request before it, so two
writers racing there can still both write (the last one wins).
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from collections.abc import Iterable

from ..errors import DatasetExistsError, GroundtruthError

# link(2) is not offered by every filesystem (FAT, some network and FUSE mounts)
_NO_LINK = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK,
                      errno.ENOSYS, errno.EACCES})


def _exists_error(shown: str, folder: bool = False) -> DatasetExistsError:
    if folder:
        return DatasetExistsError(f"{shown} is a folder; a report is written to a file",
                                  hint="give a file name, e.g. " + os.path.join(shown, "diff.html"))
    return DatasetExistsError(f"{shown} already exists",
                              hint="pass --overwrite to replace it, or choose another name")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _publish_local(data: bytes, path: str, overwrite: bool, shown: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.tmp-{uuid.uuid4().hex[:12]}")
    # O_EXCL on a random name: never follows a planted symlink; 0o666 so the umask applies
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            if os.path.isdir(path) and not os.path.islink(path):
                raise _exists_error(shown, folder=True)
            os.replace(tmp, path)  # replaces a symlink itself, never writes through it
            return
        try:
            os.link(tmp, path, follow_symlinks=False)
        except FileExistsError:
            raise _exists_error(shown, folder=os.path.isdir(path)) from None
        except OSError as exc:
            if exc.errno not in _NO_LINK:
                raise
            try:  # claim the name, then move the complete file over our own claim
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            except FileExistsError:
                raise _exists_error(shown, folder=os.path.isdir(path)) from None
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def check_target(output: str | os.PathLike[str], *, overwrite: bool = False,
                 protect: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Fail early (before a long diff) when `publish` would refuse `output`; `publish` checks
    again, atomically, when it writes."""
    from ..io._fs import is_local, resolve

    shown = os.fspath(output)
    fs, path = resolve(output)
    if not is_local(fs):
        return
    _check_inputs(shown, path, protect)
    if os.path.isdir(path) and not os.path.islink(path):
        raise _exists_error(shown, folder=True)
    if not overwrite and os.path.lexists(path):
        raise _exists_error(shown)


def _check_inputs(shown: str, path: str, protect: Iterable[str | os.PathLike[str]]) -> None:
    for src in protect:
        if _same_file(os.fspath(src), path):
            raise DatasetExistsError(
                f"{shown} is one of the inputs of this diff; it is not overwritten",
                hint="write the report to another file")


def publish(data: bytes, output: str | os.PathLike[str], *, overwrite: bool = False,
            protect: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Write `data` to `output` (a local path or an fsspec URL), atomically.

    Raises `DatasetExistsError` when `output` exists and `overwrite` is false, when it is a
    folder, or when it is one of `protect` (the files the report was made from).
    """
    from ..io._fs import is_local, resolve

    shown = os.fspath(output)
    fs, path = resolve(output)
    if is_local(fs):
        _check_inputs(shown, path, protect)
        _publish_local(data, path, overwrite, shown)
        return
    if fs.isdir(path):
        raise _exists_error(shown, folder=True)
    if not overwrite and fs.exists(path):
        raise _exists_error(shown)
    try:
        with fs.open(path, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise GroundtruthError(f"cannot write {shown}: {exc}") from None
