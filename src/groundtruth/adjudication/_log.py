"""The decisions log: JSONL, append-only, one `DecisionRecord` per line (spec section 5.5).

Appending is crash-safe: each decision is one `write` of a whole line to a file opened with
O_APPEND, followed by `fsync`, so after a crash the log holds every decision acknowledged
before it, plus at most one torn last line. Reading reports a torn last line
(`decision.truncated`); `read_decisions(..., repair=True)` cuts it off instead, which is what a
review session does when it resumes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
from pydantic import ValidationError

from ..errors import DecisionLogError
from ..issues import Issue, define, issue, json_path
from ..models import DecisionRecord

if TYPE_CHECKING:
    from collections.abc import Iterable

SYNTAX = define("decision.syntax", "error", "A line of a decisions log is not a JSON object")
TRUNCATED = define(
    "decision.truncated", "error", "The last line of a decisions log was cut off by a crash"
)
STRUCTURE = define(
    "decision.structure", "error", "A line of a decisions log is not a valid decision"
)
DUPLICATE = define("decision.duplicate-id", "error", "Two decisions of a log share an id")

HINTS = {
    SYNTAX: "each line is one JSON object (a decision); fix or remove the line",
    TRUNCATED: "the writer stopped mid-line (a crash): delete the last line, or resume the "
               "review session, which does so",
    STRUCTURE: "see the decision schema (spec/v1.0/schema/decision.schema.json)",
    DUPLICATE: "give every decision its own id",
}


@dataclass(frozen=True, slots=True)
class LoggedDecision:
    """A decision and where it is in the log (1-based line)."""

    line: int
    record: DecisionRecord


def read_decisions(path: str | os.PathLike[str], *, repair: bool = False) -> list[LoggedDecision]:
    """Every decision of a log, in order. Raises `DecisionLogError` listing every bad line.

    A missing file is an empty log. With `repair`, a torn last line (no newline at the end and
    not valid JSON: a crash while appending) is cut off the file instead of reported.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    torn = lines[-1] != b""
    if torn and _torn(lines[-1]):
        if repair:
            _truncate(name, len(data) - len(lines[-1]))
            lines = lines[:-1]
            torn = False
    elif not torn:
        lines = lines[:-1]
    out: list[LoggedDecision] = []
    problems: list[Issue] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        last = n == len(lines)
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            code = TRUNCATED if last and torn else SYNTAX
            problems.append(issue(code, f"line {n} is not JSON: {exc}", hint=HINTS[code],
                                  file=name, line=n))
            continue
        if not isinstance(obj, dict):
            problems.append(issue(SYNTAX, f"line {n} is a JSON {type(obj).__name__}, not an "
                                  "object", hint=HINTS[SYNTAX], file=name, line=n))
            continue
        try:
            rec = DecisionRecord.model_validate(obj)
        except ValidationError as exc:
            problems.extend(issue(
                STRUCTURE, f"{err['msg']} (decision {obj.get('id', '?')!s})",
                hint=HINTS[STRUCTURE], file=name, line=n, path=json_path(err["loc"]),
            ) for err in exc.errors())
            continue
        if rec.id in seen:
            problems.append(issue(DUPLICATE, f"decision id {rec.id!r} is also on line "
                                  f"{seen[rec.id]}", hint=HINTS[DUPLICATE], file=name, line=n,
                                  path="$.id"))
            continue
        seen[rec.id] = n
        out.append(LoggedDecision(n, rec))
    if problems:
        raise DecisionLogError(problems)
    return out


def _torn(tail: bytes) -> bool:
    try:
        orjson.loads(tail)
    except orjson.JSONDecodeError:
        return True
    return False


def _truncate(name: str, size: int) -> None:
    with open(name, "r+b") as f:
        f.truncate(size)
        f.flush()
        os.fsync(f.fileno())


def decision_line(record: DecisionRecord) -> bytes:
    """The JSONL line of a decision (keys in schema order, empty fields left out)."""
    return orjson.dumps(record.to_json_dict()) + b"\n"


def append_decision(path: str | os.PathLike[str], record: DecisionRecord) -> None:
    """Append one decision and fsync: when this returns, the decision survives a crash."""
    append_lines(path, [decision_line(record)])


def append_lines(path: str | os.PathLike[str], lines: Iterable[bytes]) -> None:
    name = os.fspath(path)
    new = not os.path.exists(name)
    fd = os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        for line in lines:
            view = memoryview(line)
            while view:  # a short write on a full disk must not leave half a line unnoticed
                view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    if new:  # the new directory entry must survive a crash too
        _fsync_dir(os.path.dirname(os.path.abspath(name)))


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot fsync a directory; the data itself is synced
    finally:
        os.close(fd)
