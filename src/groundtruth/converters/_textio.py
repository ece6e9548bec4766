"""Line-oriented text files for the CoNLL converters: streaming reads, atomic writes.

Reads decode line by line, so one bad byte costs one located issue (file:line) rather than
the whole file: a line that is not valid in the declared encoding is decoded as Latin-1 (which
never fails) and reported. A leading BOM is dropped; CRLF line ends are accepted and reported.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from ..errors import ConversionError, DatasetExistsError, DatasetNotFoundError
from ..io._fs import atomic_write
from ..io._fs import resolve as _resolve

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem


def resolve(
    path: str, fs: AbstractFileSystem | None, storage_options: dict[str, Any] | None = None
) -> tuple[AbstractFileSystem, str]:
    return _resolve(path, fs=fs, storage_options=storage_options)


@dataclass
class LineStats:
    """What the reader saw about the file as a whole."""

    crlf_lines: list[int] = field(default_factory=list)
    bad_lines: list[int] = field(default_factory=list)
    bom: bool = False
    final_newline: bool = True


def iter_lines(
    path: str,
    fs: AbstractFileSystem | None = None,
    encoding: str = "utf-8",
    stats: LineStats | None = None,
) -> Iterator[tuple[int, str]]:
    """`(line number, line without its line end)`, 1-based, streaming."""
    filesystem, resolved = resolve(path, fs)
    if not filesystem.exists(resolved):
        raise DatasetNotFoundError(f"no such file: {path}")
    if filesystem.isdir(resolved):
        raise ConversionError(f"{path} is a folder, not a CoNLL file")
    st = stats if stats is not None else LineStats()
    with filesystem.open(resolved, "rb") as f:
        number = 0
        raw = b""
        for raw in f:
            number += 1
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
                st.bom = True
            raw_line = raw[:-1] if raw.endswith(b"\n") else raw
            if raw_line.endswith(b"\r"):
                raw_line = raw_line[:-1]
                st.crlf_lines.append(number)
            try:
                text = raw_line.decode(encoding)
            except UnicodeDecodeError:
                text = raw_line.decode("latin-1")
                st.bad_lines.append(number)
            yield number, text
        st.final_newline = number == 0 or raw.endswith(b"\n")


@contextlib.contextmanager
def atomic_text(
    path: str, fs: AbstractFileSystem | None = None, encoding: str = "utf-8"
) -> Iterator[IO[str]]:
    """A text stream whose file appears at `path` only once it is complete."""
    filesystem, resolved = resolve(path, fs)
    with atomic_write(filesystem, resolved, "wb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        try:
            yield text
            text.flush()
        finally:
            text.detach()


def refuse_existing(path: str, fs: AbstractFileSystem | None, overwrite: bool) -> None:
    """A write never replaces a file unless asked to (`--overwrite`, `overwrite=True`)."""
    filesystem, resolved = resolve(path, fs)
    if not overwrite and filesystem.exists(resolved):
        raise DatasetExistsError(
            f"{path} already exists", hint="pass --overwrite (overwrite=True) to replace it"
        )
