"""SIGTERM handled like SIGINT, and an honest word when a command is interrupted.

`kill PID` (what CI runners, `timeout` and container stops send) used to end `gt` without
running any cleanup: staging folders stayed behind. Inside `handle_termination` SIGTERM raises
`KeyboardInterrupt`, as Ctrl-C does, so the same cleanup runs (a write in progress is dropped,
nothing half-written is published). The final move of a write holds both signals until it is
done (`groundtruth.io._publish.held_signals`), so an interrupt lands before or after it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

import click

EXIT_SIGINT, EXIT_SIGTERM = 130, 143

_received: list[int] = []


def _terminate(signum: int, _frame: FrameType | None) -> None:
    _received.append(signum)
    raise KeyboardInterrupt


@contextlib.contextmanager
def handle_termination() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupted_exit(before: int) -> int:
    """Report an interrupt on stderr and return the exit status (130 SIGINT, 143 SIGTERM).

    `before`: how many destinations were published before the command started; any published
    since are complete, and the message says so instead of "aborted".
    """
    from ..io._publish import published

    code = EXIT_SIGTERM if signal.SIGTERM in _received else EXIT_SIGINT
    done = published()[before:]
    if done:
        click.echo(f"interrupted after writing {', '.join(done)} (complete); the rest of the "
                   "command did not run", err=True)
    else:
        click.echo("aborted: interrupted before anything was written", err=True)
    return code
