"""What every command shares: reading options, output formats, progress, error exits."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import click
import orjson

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

T = TypeVar("T")


def parse_options(values: Iterable[str]) -> dict[str, Any]:
    """`-o key=value` pairs; values are read as JSON when they parse (numbers, true, lists)."""
    out: dict[str, Any] = {}
    for raw in values:
        key, sep, value = raw.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{raw!r} is not key=value", param_hint="-o/--option")
        try:
            out[key.replace("-", "_")] = orjson.loads(value)
        except orjson.JSONDecodeError:
            out[key.replace("-", "_")] = value
    return out


def from_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--from FMT` and `-o key=value` reading options, shared by every reading command."""
    f = click.option(
        "-o", "--option", "read_options", multiple=True, metavar="KEY=VALUE",
        help="A reading option of the source format (repeatable), e.g. -o scheme=iob1.",
    )(f)
    return click.option(
        "--from", "from_format", metavar="FMT", default=None,
        help="Format of the input (see `gt formats`); detected when omitted.",
    )(f)


def verify_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--no-verify`: read native datasets without checking parts against their hashes and
    record counts (sizes, confinement and zip ceilings are still checked)."""

    @functools.wraps(f)
    def run(*args: Any, no_verify: bool, **kwargs: Any) -> Any:
        from ..io import reading

        with reading(verify=not no_verify):
            return f(*args, **kwargs)

    return click.option(
        "--no-verify", "no_verify", is_flag=True,
        help="Do not check native data parts against the manifest's SHA-256 and record "
             "counts while reading (faster; for data you trust).",
    )(run)


def format_option(*choices: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--format", "output_format", type=click.Choice(choices), default=choices[0],
        show_default=True, help="How to print the result.",
    )


def message_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """`-m/--message`: a note recorded in the written version's lineage."""
    return click.option("-m", "--message", "message", metavar="TEXT", default=None,
                        help="A note recorded in the new version's lineage (see `gt log`).")(f)


def echo_json(data: Any) -> None:
    click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode())


def progress(iterable: Iterable[T], *, label: str, total: int | None = None) -> Iterator[T]:
    """A progress bar on a terminal (stderr), nothing when piped or in CI."""
    if not sys.stderr.isatty():
        yield from iterable
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=total)
        for x in iterable:
            yield x
            bar.advance(task)


@contextlib.contextmanager
def working(message: str) -> Iterator[None]:
    """A spinner with `message` on stderr while a long step runs; nothing unless a terminal."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


def allow_loss_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """`--allow-loss`: data dropped beyond the format's limits is reported, exit 0 (not 1)."""
    return click.option(
        "--allow-loss", is_flag=True,
        help="Exit 0 even when data was dropped (records the reader skipped with errors, "
             "every annotation of a type, an export of no rows); it is still reported.",
    )(f)


def check_source(path: str, from_format: str | None = None) -> None:
    """Fail early, with exit 2 and a clear message, when PATH cannot be read: nothing there,
    no permission, an unreachable store or missing credentials, a folder that is not a
    dataset (or any folder when a foreign format is named)."""
    from .. import converters
    from ..io._access import check_readable

    if from_format in (None, "groundtruth"):
        def folder_format(fs: Any, folder: str) -> bool:  # a YOLO or VOC folder, say
            return any(float(look(fs, folder)) > 0 for look in (
                getattr(converters.get(name), "detect_folder", None)
                for name in converters.available()) if look is not None)
        check_readable(path, file_only=False,
                       folder_format=folder_format if from_format is None else None)
        return
    from ..errors import UnknownFormatError

    try:
        reads_folders = hasattr(converters.get(from_format), "detect_folder")
    except UnknownFormatError:  # said by the command itself, where it reads
        reads_folders = False
    check_readable(path, file_only=not reads_folders,
                   folder_format=(lambda fs, folder: True) if reads_folders else None)


def report_dropped(dropped: list[Any], allow_loss: bool) -> int:
    """Print what was dropped on stderr; EXIT_INVALID unless `allow_loss`."""
    if not dropped:
        return EXIT_OK
    head = "data dropped (accepted with --allow-loss)" if allow_loss else "DATA DROPPED"
    click.echo(f"{head}:", err=True)
    for i in dropped:
        click.echo(f"  [{i.code}] {i.message}", err=True)
    if not allow_loss:
        click.echo("  the output was written; exit 1 because it lacks this data. "
                   "Pass --allow-loss to accept it.", err=True)
    return EXIT_OK if allow_loss else EXIT_INVALID


def load_for_command(path: str, from_format: str | None, read_options: Iterable[str]) -> Any:
    """Load a dataset for a command, with a spinner on a terminal for slow reads."""
    from ..api import load

    check_source(path, from_format)
    with working(f"reading {path}"):
        return load(path, format=from_format, **parse_options(read_options))
