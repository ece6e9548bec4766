"""Moving a finished write into place on a local disk: never a silent replace, never a gap.

Everything is written under a temporary name next to the destination first; this module makes
the last step safe.

Files (`publish_file`)
    Without `overwrite` the move must not replace anything: the existence check done when the
    command started cannot stop a second writer that appears meanwhile. The move is
    `renameat2(RENAME_NOREPLACE)` (Linux), else a hard link (`link` fails if the name exists)
    and an unlink of the temporary name. Where neither works (a filesystem without hard links),
    the name is claimed with an exclusive create (`O_CREAT | O_EXCL`) and the data renamed
    over our own claim: a second groundtruth writer fails at the claim; a foreign program
    that writes without claiming can still race (a known limit of that fallback).
    With `overwrite` a file is replaced by `os.replace` (atomic), never a folder.

Dataset folders (`publish_dir`)
    A new destination is created by `rename`, which on POSIX fails when a non-empty folder
    is already there (`RENAME_NOREPLACE` where available, which also refuses an empty one).
    Replacing a dataset swaps the two folders in one step with `renameat2(RENAME_EXCHANGE)`:
    at every instant the destination holds a whole dataset, the old one until the swap and the
    new one after it; the old one, now under the temporary name, is removed last. A crash
    leaves either the old or the new dataset at the destination, plus a hidden folder the next
    write removes (see stale stages below).
    Where the exchange is not available (not Linux, or a filesystem without it) the fallback
    is two renames: the old folder to a hidden `.NAME.gt-old-<host>-<pid>-<id>` sibling, the
    new one into place. A crash between them leaves the destination missing for that moment;
    the next write to the same destination puts the old version back first
    (`recover_destination`), and readers are told where it is.

Object stores
    There is no rename there: a new dataset's parts are uploaded and its manifest last, and
    `overwrite` removes the old manifest first, so between the two the destination is not a
    dataset (readers fail clearly instead of mixing versions); the no-replace check is the
    existence check at the start. Neither guarantee above holds on object stores.

Signals
    SIGINT and SIGTERM received during the final move are held until it is done (the move is a
    few system calls), so an interrupt never lands between its steps; the interrupt is then
    raised as usual. `published()` lists what was moved into place in this process, so the
    CLI can say "interrupted after writing X" rather than "aborted".

Stale stages
    Temporary folders are named `.gt-stage-<host>-<pid>-<id>` (`.NAME.gt-old-…` for replaced
    versions, `.NAME.gt-tmp-…` for files being written). A later write into the same folder removes those whose process is provably
    gone (same host, no such pid) and names the others in a warning. "Same host" is the host
    name: machines or containers that share a folder must not share a host name.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import signal
import socket
import tempfile
import threading
import uuid
import warnings
from collections.abc import Iterator
from types import FrameType

from ..errors import DatasetExistsError

STAGE_PREFIX = ".gt-stage-"
OLD_TAG = ".gt-old-"
TMP_TAG = ".gt-tmp-"

_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2

_published: list[str] = []
_held_signals = (signal.SIGINT, signal.SIGTERM)


class StaleStageWarning(UserWarning):
    """A temporary folder left by an interrupted write whose owner may still be running."""


def published() -> list[str]:
    """Destinations moved into place by this process (newest last)."""
    return list(_published)


# ---------------------------------------------------------------------------------------------
# system calls


def _renameat2(src: str, dst: str, flags: int) -> bool:
    """`renameat2(2)`; False when the system or filesystem does not support the flag."""
    libc = _libc()
    fn = getattr(libc, "renameat2", None) if libc is not None else None
    if fn is None:
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), src, None, dst)


_LIBC: list[ctypes.CDLL | None] = []


def _libc() -> ctypes.CDLL | None:
    if not _LIBC:
        try:
            _LIBC.append(ctypes.CDLL(None, use_errno=True))
        except OSError:  # pragma: no cover - a platform without a C library handle
            _LIBC.append(None)
    return _LIBC[0]


# ---------------------------------------------------------------------------------------------
# signals


@contextlib.contextmanager
def held_signals() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while the body runs; deliver them after it (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def _hold(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = {s: signal.signal(s, _hold) for s in _held_signals}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for signum in dict.fromkeys(received):
            signal.raise_signal(signum)


# ---------------------------------------------------------------------------------------------
# names of temporary folders


def _host() -> str:
    return socket.gethostname().replace("-", "_").replace("/", "_") or "host"


def stage_dir(parent: str) -> str:
    """A new private-looking temporary folder in `parent`, named after this process."""
    collect_stale(parent)
    return tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{_host()}-{os.getpid()}-", dir=parent)


def temp_file_name(path: str) -> str:
    """The hidden temporary name a file is written under before it is moved to `path`."""
    head, tail = os.path.split(path)
    return os.path.join(head, f".{tail}{TMP_TAG}{_host()}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def _owner(name: str) -> tuple[str, int] | None:
    """`(host, pid)` from a stage, old-version or temporary file name; None without them."""
    for tag in (STAGE_PREFIX, OLD_TAG, TMP_TAG):
        if tag in name:
            rest = name.split(tag, 1)[1]
            host, _, tail = rest.partition("-")
            pid, _, _ = tail.partition("-")
            if host and pid.isdigit():
                return host, int(pid)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def collect_stale(parent: str) -> list[str]:
    """Remove temporary folders of dead writers in `parent`; warn about undecidable ones.

    Returns the paths removed. Old versions whose destination is missing are put back first
    (`recover_destination`), never deleted.
    """
    removed: list[str] = []
    try:
        names = os.listdir(parent or ".")
    except OSError:
        return removed
    host = _host()
    for name in names:
        if not (name.startswith(STAGE_PREFIX) or OLD_TAG in name or TMP_TAG in name):
            continue
        full = os.path.join(parent, name)
        owner = _owner(name)
        if owner is None or owner[0] != host:
            warnings.warn(
                f"{full} was left by an interrupted groundtruth write (another host, or an "
                "older version): remove it if no write is running", StaleStageWarning,
                stacklevel=3)
            continue
        if _alive(owner[1]):
            continue
        if OLD_TAG in name:
            base = name[1:].split(OLD_TAG, 1)[0]
            target = os.path.join(parent, base)
            if not os.path.lexists(target):
                with contextlib.suppress(OSError):
                    os.rename(full, target)  # the replaced version, back where it was
                    continue
        if os.path.isdir(full) and not os.path.islink(full):
            shutil.rmtree(full, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(full)
        removed.append(full)
    return removed


def recover_destination(target: str) -> None:
    """Put an old version back at `target` when a crash left it only under its hidden name."""
    parent, base = os.path.split(target.rstrip("/"))
    if os.path.lexists(target):
        return
    with contextlib.suppress(OSError):
        for name in sorted(os.listdir(parent or ".")):
            if name.startswith(f".{base}{OLD_TAG}"):
                os.rename(os.path.join(parent, name), target)
                return


# ---------------------------------------------------------------------------------------------
# moving into place


def _exists_error(path: str) -> DatasetExistsError:
    return DatasetExistsError(
        f"{path} appeared while this write ran (another writer?); it was not replaced",
        hint="check what is there now; pass --overwrite (overwrite=True) to replace it")


def publish_file(tmp: str, path: str, *, overwrite: bool) -> None:
    """Move the finished file `tmp` to `path` (see the module documentation)."""
    with held_signals():
        if overwrite:
            if os.path.isdir(path):
                raise DatasetExistsError(f"{path} is a folder; a file write does not replace it",
                                         hint="choose a file name")
            os.replace(tmp, path)
        else:
            _move_noreplace_file(tmp, path)
        _published.append(path)


def _move_noreplace_file(tmp: str, path: str) -> None:
    try:
        if _renameat2(tmp, path, _RENAME_NOREPLACE):
            return
    except FileExistsError:
        raise _exists_error(path) from None
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise _exists_error(path) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV,
                             errno.EMLINK, errno.ENOSYS):
            raise
        try:  # no hard links here: claim the name exclusively, then fill it
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            raise _exists_error(path) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def publish_dir(stage: str, target: str, *, overwrite: bool) -> None:
    """Move the finished dataset folder `stage` to `target` (see the module documentation)."""
    target = target.rstrip("/")
    with held_signals():
        if not overwrite or not os.path.lexists(target):
            _move_noreplace_dir(stage, target)
        else:
            _swap(stage, target)
        _published.append(target)


def _move_noreplace_dir(stage: str, target: str) -> None:
    try:
        if _renameat2(stage, target, _RENAME_NOREPLACE):
            return
    except FileExistsError:
        if os.path.islink(target) or not os.path.isdir(target):
            raise _exists_error(target) from None
        # An empty folder holds nothing to lose; `rename` below replaces only an empty one.
    try:
        os.rename(stage, target)  # POSIX: fails on a non-empty folder and on a file
    except (FileExistsError, NotADirectoryError, IsADirectoryError):
        raise _exists_error(target) from None
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise _exists_error(target) from None
        raise


def _swap(stage: str, target: str) -> None:
    if _renameat2(stage, target, _RENAME_EXCHANGE):
        # The old dataset is now at `stage`; the destination was whole at every instant.
        shutil.rmtree(stage, ignore_errors=True)
        return
    parent, base = os.path.split(target)
    old = os.path.join(parent, f".{base}{OLD_TAG}{_host()}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    os.rename(target, old)
    try:
        os.rename(stage, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
