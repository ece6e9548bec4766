"""The validation report, and the collector every layer reports into.

`At` says where a record is (file and line or row, or its path in a larger document); layers add
the field path of the problem to it. The `Collector` keeps at most `max_issues` issues but counts
every one, so `ok` and the counts stay exact when the list is cut short.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .._inert import plain
from .._text import count
from ..errors import DatasetValidationError
from ..issues import ISSUE_CODES, SEVERITIES, Issue, Location, Severity, json_path


@dataclass(frozen=True, slots=True)
class At:
    """Where a record is: a file and line (JSONL) or row (Parquet), and its own JSON path."""

    file: str | None = None
    line: int | None = None
    row: int | None = None
    prefix: tuple[str | int, ...] = ()

    def location(self, record_id: str | None, path: tuple[str | int, ...] = ()) -> Location:
        return Location(file=self.file, line=self.line, row=self.row, record_id=record_id,
                        path=json_path((*self.prefix, *path)))


class Collector:
    """Collects issues: keeps the first `max_issues` (all when None), counts every one."""

    def __init__(self, max_issues: int | None = None) -> None:
        self.max_issues = max_issues
        self.issues: list[Issue] = []
        self.by_severity: Counter[str] = Counter()
        self.by_code: Counter[str] = Counter()

    @property
    def truncated(self) -> bool:
        return sum(self.by_code.values()) > len(self.issues)

    def add(self, item: Issue) -> None:
        self.by_severity[item.severity] += 1
        self.by_code[item.code] += 1
        if self.max_issues is None or len(self.issues) < self.max_issues:
            self.issues.append(item)

    def extend(self, items: list[Issue]) -> None:
        for i in items:
            self.add(i)

    def emit(
        self, code: str, message: str, at: At, record_id: str | None,
        *path: str | int, hint: str | None = None, severity: Severity | None = None,
    ) -> None:
        """Report `code` at `at`; `severity` overrides the code's own (e.g. info for a
        foreign source that cannot carry what the warning asks for)."""
        if severity is None:
            known = ISSUE_CODES.get(code)
            severity = known.severity if known is not None else "error"
        self.add(Issue(code, message, severity, at.location(record_id, path), hint))


@dataclass
class ValidationReport:
    """What `groundtruth.validate` found. Never raised; `raise_for_errors()` raises on request.

    `issues` may be cut at `max_issues`; `counts` always counts every issue found.
    """

    issues: list[Issue] = field(default_factory=list)
    source: str | None = None
    format: str | None = None
    strict: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    codes: dict[str, int] = field(default_factory=dict)
    truncated: bool = False
    stats: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_collector(
        cls, out: Collector, *, source: str | None, format: str | None, strict: bool,
        stats: dict[str, int] | None = None,
    ) -> ValidationReport:
        counts: dict[str, int] = {s: out.by_severity.get(s, 0) for s in SEVERITIES}
        return cls(list(out.issues), source, format, strict, counts, dict(out.by_code),
                   out.truncated, dict(stats or {}))

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        """No errors (and, when `strict`, no warnings either)."""
        if self.counts.get("error", 0):
            return False
        return not (self.strict and self.counts.get("warning", 0))

    def raise_for_errors(self) -> None:
        """Raise `DatasetValidationError` when not `ok`, leading with the first error."""
        if self.ok:
            return
        failing = [i for i in self.issues if i.severity == "error"] or self.warnings
        raise DatasetValidationError(failing or list(self.issues))

    def by_code(self) -> dict[str, list[Issue]]:
        """Issues grouped by code, most frequent code first."""
        groups: dict[str, list[Issue]] = {}
        for i in self.issues:
            groups.setdefault(i.code, []).append(i)
        order = sorted(groups, key=lambda c: (-self.codes.get(c, len(groups[c])), c))
        return {c: groups[c] for c in order}

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "source": self.source,
            "format": self.format,
            "strict": self.strict,
            "counts": {**self.counts, "by_code": dict(sorted(self.codes.items()))},
            "truncated": self.truncated,
            "stats": self.stats,
            "issues": [_issue_dict(i) for i in self.issues],
        }

    def render(self, *, examples: int = 5) -> str:
        """A readable report: a verdict, then per code its count and first locations."""
        e, w, n = (self.counts.get(s, 0) for s in SEVERITIES)
        verdict = "valid" if self.ok else "INVALID"
        what = ", ".join(count(v, k[:-1]) if k.endswith("s") else f"{v} {k}"
                         for k, v in self.stats.items())
        lines = [f"{self.source or 'dataset'} ({self.format or '?'}): {verdict}"
                 + (f" — {what}" if what else ""),
                 f"{count(e, 'error')}, {count(w, 'warning')}, {n} info"
                 + (" (strict: warnings fail)" if self.strict else "")]
        for code, group in self.by_code().items():
            first = group[0]
            total = self.codes.get(code, len(group))
            lines.append("")
            if total == 1:  # one issue: its message heads it, its location follows
                lines.append(f"{first.severity} [{code}]: {first.message}")
                lines.append(f"  at {str(first.location) or '(dataset)'}")
            else:  # a group: the code's title heads it, every location carries its message
                known = ISSUE_CODES.get(code)
                title = f": {known.title}" if known is not None else ""
                lines.append(f"{first.severity} [{code}] × {total}{title}")
                for i in group[:examples]:
                    where = str(i.location) or "(dataset)"
                    lines.append(f"  at {where}: {i.message}")
                if total > examples:
                    lines.append(f"  ... and {total - min(examples, len(group))} more")
            if first.hint:
                lines.append(f"  hint: {first.hint}")
        if self.truncated:
            lines.append("")
            lines.append(f"(only the first {len(self.issues)} issues were kept: raise "
                         "--max-issues to see more)")
        # messages quote ids, labels, texts and file names from the data: shown, never obeyed
        return "\n".join(plain(line) for line in lines)

    def __str__(self) -> str:
        return self.render()


def _issue_dict(i: Issue) -> dict[str, Any]:
    d = i.to_dict()
    d.setdefault("hint", None)
    return d
