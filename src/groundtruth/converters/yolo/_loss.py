"""The loss report of a YOLO write, in bounded memory.

A COCO file of a million annotations may lose the same field on every one of them: the report
keeps every count but only the first `EXAMPLES` issues of each code (with their record ids);
`totals` holds the true counts (`ConversionReport.totals`).
"""

from __future__ import annotations

from collections import Counter

from ...issues import Issue, issue

EXAMPLES = 100


class Loss:
    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.totals: Counter[str] = Counter()

    def add(self, code: str, message: str, record_id: str | None = None,
            path: str | None = None, hint: str | None = None) -> None:
        self.totals[code] += 1
        if self.totals[code] <= EXAMPLES:
            self.issues.append(issue(code, message, record_id=record_id, path=path, hint=hint))
