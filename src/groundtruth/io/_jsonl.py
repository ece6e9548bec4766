"""The JSONL encoding: one record a line, with exact line numbers for every problem."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, Protocol

import orjson

from ..issues import Issue, define, issue

SYNTAX = define("jsonl.syntax", "error", "A line is not valid JSON")
ENCODING = define("jsonl.encoding", "error", "A line is not valid UTF-8")
BOM = define("jsonl.bom", "warning", "The file starts with a UTF-8 byte-order mark")
LINE_TOO_LONG = define("jsonl.line-too-long", "error", "A line is longer than the reader accepts")
TRUNCATED = define("jsonl.truncated", "error", "The last line is cut off (the file is truncated)")

MAX_LINE_BYTES = 256 * 1024 * 1024
"""Longest line accepted; a longer one is reported and skipped, never loaded whole."""

_CHUNK = 1 << 20


class Readable(Protocol):
    """What the line reader needs of a file: `read(n)` (a binary file, a `PartReader`...)."""

    def read(self, n: int = -1, /) -> bytes: ...


def iter_lines(
    f: Readable, max_line: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, bytes | None, bool]]:
    """Yield `(line_number, line, ended)` from a binary file.

    `line` is None for a line over `max_line` bytes; `ended` is False for a last line with no
    newline after it.

    Reads in chunks and keeps the pieces of an unfinished line in a list (joined once, when
    its newline comes), so a huge single-line file costs `max_line` bytes of memory at most and
    linear time: once a line is over the cap, its bytes are dropped as they are read.
    """
    pending: list[bytes] = []
    pending_len = 0
    lineno = 0
    skipping = False
    while True:
        chunk = f.read(_CHUNK)
        if not chunk:
            break
        start = 0
        while True:
            nl = chunk.find(b"\n", start)
            if nl < 0:
                break
            lineno += 1
            piece = chunk[start:nl]
            if skipping or pending_len + len(piece) > max_line:
                yield lineno, None, True
            elif pending:
                pending.append(piece)
                yield lineno, b"".join(pending), True
            else:
                yield lineno, piece, True
            skipping = False
            pending, pending_len = [], 0
            start = nl + 1
        if start < len(chunk) and not skipping:
            pending.append(chunk[start:])
            pending_len += len(chunk) - start
            if pending_len > max_line:
                skipping = True
                pending, pending_len = [], 0
    if skipping:
        yield lineno + 1, None, False
    elif pending:
        yield lineno + 1, b"".join(pending), False


def read_objects(
    f: Readable, file: str, *, sha: Any = None
) -> Iterator[tuple[int, Any | None, list[Issue]]]:
    """Parse each non-blank line: `(line, value, issues)`; value is None when it did not parse.

    When `sha` (a hashlib object) is given, it is updated with every byte read, so a caller
    can check the file against the manifest's hash in the same pass.
    """
    source: Readable = _HashingReader(f, sha) if sha is not None else f
    first = True
    for lineno, line, ended in iter_lines(source):
        if line is None:
            yield lineno, None, [
                issue(LINE_TOO_LONG, f"line is longer than {MAX_LINE_BYTES} bytes",
                      file=file, line=lineno,
                      hint="split the data into one record per line")
            ]
            continue
        issues: list[Issue] = []
        if first:
            first = False
            if line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
                issues.append(issue(BOM, "UTF-8 byte-order mark at the start of the file",
                                    file=file, line=lineno,
                                    hint="save the file as UTF-8 without BOM"))
        stripped = line.strip()
        if not stripped:
            if issues:
                yield lineno, None, issues
            continue
        try:
            value = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            try:
                stripped.decode("utf-8")
            except UnicodeDecodeError as uexc:
                issues.append(issue(
                    ENCODING, f"invalid UTF-8 byte at column {uexc.start + 1}",
                    file=file, line=lineno,
                    hint="re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"))
            else:
                if ended:
                    issues.append(issue(SYNTAX, f"not valid JSON: {exc}", file=file, line=lineno,
                                        hint="each line must hold exactly one JSON object"))
                else:
                    issues.append(issue(
                        TRUNCATED, f"the last line is incomplete JSON: {exc}",
                        file=file, line=lineno,
                        hint="the file was cut off; write it again or restore it"))
            yield lineno, None, issues
            continue
        yield lineno, value, issues


class _HashingReader:
    def __init__(self, f: Readable, sha: Any) -> None:
        self._f = f
        self._sha = sha
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self._f.read(n)
        self._sha.update(data)
        self.size += len(data)
        return data


def dumps_record(record: dict[str, Any]) -> bytes:
    """One JSONL line: the spec's key order (the model's field order), no whitespace."""
    return orjson.dumps(record) + b"\n"


def new_sha() -> Any:
    return hashlib.sha256()
