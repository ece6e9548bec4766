"""Worker processes die with the process that started them.

A forked worker inherits the parent's stdout and stderr. When the parent is killed (SIGKILL,
or SIGTERM from a CI runner or `timeout`), a worker left behind keeps those pipes open, so
whatever waits for the output (a shell pipeline, a CI step) waits forever.

`die_with_parent` is run first thing in each worker (a pool's `initializer`):

- on Linux it asks the kernel for SIGKILL when the parent dies (`prctl(PR_SET_PDEATHSIG)`,
  through ctypes); the kernel delivers it even when the parent was SIGKILLed;
- elsewhere (or if prctl fails) a daemon thread polls `getppid()` twice a second and exits
  the worker when the parent is gone (the worker is then re-parented).

Either way it checks once that the parent is still the one that started it, since the parent
may have died between the fork and the call.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

_PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.5


def die_with_parent(parent_pid: int) -> None:
    """Make this (worker) process end when `parent_pid` ends.

    Also resets the signal handlers the fork copied: SIGTERM ends the worker, Ctrl-C (sent to
    the whole process group) is left to the parent, which stops its pool.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not _pdeathsig():
        threading.Thread(target=_watch, args=(parent_pid,), daemon=True,
                         name="groundtruth-parent-watch").start()
    if os.getppid() != parent_pid:  # the parent died before the request above
        os._exit(1)


def _pdeathsig() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0)
    return False


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(POLL_SECONDS)
    os._exit(1)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a process pool now: drop queued work and kill its workers (on an interrupt or an
    error, when waiting for running tasks would only delay the exit)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        with contextlib.suppress(OSError, AttributeError):
            proc.kill()
    for proc in processes:
        with contextlib.suppress(OSError, AttributeError, ValueError):
            proc.join(timeout=5)
