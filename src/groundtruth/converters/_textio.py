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
    chunk_size: int = 1 << 20,
) -> Iterator[tuple[int, str]]:
    """`(line number, line without its line end)`, 1-based, streaming.

    Reads about `chunk_size` bytes at a time and decodes each chunk in one call; only a chunk
    that fails to decode is decoded line by line (bad lines as Latin-1, recorded in `stats`).
    """
    filesystem, resolved = resolve(path, fs)
    if not filesystem.exists(resolved):
        raise DatasetNotFoundError(f"no such file: {path}")
    if filesystem.isdir(resolved):
        raise ConversionError(f"{path} is a folder, not a CoNLL file")
    st = stats if stats is not None else LineStats()
    number = 0
    rest = b""
    first = True
    with filesystem.open(resolved, "rb") as f:
        while True:
            block = f.read(chunk_size)
            if not block:
                break
            data = rest + block
            if first:  # the BOM may span reads when chunks are tiny
                if len(data) < 3 and b"\xef\xbb\xbf".startswith(data):
                    rest = data
                    continue
                first = False
                if data.startswith(b"\xef\xbb\xbf"):
                    data = data[3:]
                    st.bom = True
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                continue
            rest = data[cut:]
            for line in _decode_lines(data[:cut - 1], number, encoding, st):
                number += 1
                yield number, line
    if rest:
        for line in _decode_lines(rest, number, encoding, st):
            number += 1
            yield number, line
        st.final_newline = False
    else:
        st.final_newline = True


def _decode_lines(data: bytes, before: int, encoding: str, st: LineStats) -> list[str]:
    """The lines of `data` (which holds whole lines, without the last line end)."""
    try:
        lines = data.decode(encoding).split("\n")
    except UnicodeDecodeError:
        lines = []
        for k, raw in enumerate(data.split(b"\n"), start=before + 1):
            try:
                lines.append(raw.decode(encoding))
            except UnicodeDecodeError:
                lines.append(raw.decode("latin-1"))
                st.bad_lines.append(k)
    if b"\r" in data:
        for k, line in enumerate(lines):
            if line.endswith("\r"):
                lines[k] = line[:-1]
                st.crlf_lines.append(before + k + 1)
    return lines


@contextlib.contextmanager
def atomic_text(
    path: str, fs: AbstractFileSystem | None = None, encoding: str = "utf-8", *,
    overwrite: bool = False,
) -> Iterator[IO[str]]:
    """A text stream whose file appears at `path` only once it is complete."""
    filesystem, resolved = resolve(path, fs)
    with atomic_write(filesystem, resolved, "wb", overwrite=overwrite) as raw:
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
