"""Issues are data: a stable code, a severity, where, what, and what to do.

Every module that reports issues defines its codes here with `define()`, at import time, so the
registry knows every code and a test can require a section in `spec/v1.0/spec.md` for each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class IssueCode:
    code: str
    severity: Severity
    title: str


ISSUE_CODES: dict[str, IssueCode] = {}
"""Every issue code any part of groundtruth can emit, by code."""


def define(code: str, severity: Severity, title: str) -> str:
    """Register an issue code (idempotent) and return it, for use as a module constant."""
    known = ISSUE_CODES.get(code)
    if known is not None and known != IssueCode(code, severity, title):
        raise ValueError(f"issue code {code!r} is defined twice with different meanings")
    ISSUE_CODES[code] = IssueCode(code, severity, title)
    return code


@dataclass(frozen=True, slots=True)
class Location:
    """Where an issue is: any of file, line (1-based), row (0-based), record id, field path."""

    file: str | None = None
    line: int | None = None
    row: int | None = None
    record_id: str | None = None
    path: str | None = None  # JSON path of the field: `$.bbox[2]`, or `$.images[3].width`

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
            elif self.row is not None:
                where += f" row {self.row}"
            parts.append(where)
        elif self.line is not None:
            parts.append(f"line {self.line}")
        elif self.row is not None:
            parts.append(f"row {self.row}")
        if self.record_id is not None:
            parts.append(f"id={self.record_id}")
        if self.path is not None:
            parts.append(self.path)
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (
                ("file", self.file),
                ("line", self.line),
                ("row", self.row),
                ("record_id", self.record_id),
                ("path", self.path),
            )
            if v is not None
        }


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found in data. `code` is the contract; `message` is for people."""

    code: str
    message: str
    severity: Severity = "error"
    location: Location = field(default_factory=Location)
    hint: str | None = None

    def __str__(self) -> str:
        where = str(self.location)
        head = f"{where}: " if where else ""
        text = f"{head}{self.severity} [{self.code}] {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "location": self.location.to_dict(),
        }
        if self.hint is not None:
            out["hint"] = self.hint
        return out


def issue(
    code: str, message: str, *, hint: str | None = None, severity: Severity | None = None,
    **where: Any,
) -> Issue:
    """Build an Issue with the code's registered severity (unless overridden)."""
    known = ISSUE_CODES.get(code)
    if severity is None:
        severity = known.severity if known is not None else "error"
    return Issue(code, message, severity, Location(**where), hint)


def json_path(loc: Iterable[str | int], root: str = "$") -> str:
    """Render a pydantic/jsonschema location as a JSON path: `$.annotations[3].bbox`."""
    out = root
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def count_by_severity(issues: Iterable[Issue]) -> dict[Severity, int]:
    counts: dict[Severity, int] = dict.fromkeys(SEVERITIES, 0)
    for i in issues:
        counts[i.severity] += 1
    return counts
