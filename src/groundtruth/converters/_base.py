"""What a format converter is: a small object with `name`, `read`, `write` (and `detect`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from ..dataset import Dataset
    from ..issues import Issue


@dataclass
class ConversionReport:
    """What a write produced and what it could not carry.

    `issues` holds the loss report (warnings whose codes name what was lost) and records that
    were skipped; `outputs` the files written; `details` format-specific facts a user needs
    (e.g. the COCO category id map used). `totals`, where set, holds the true count per code
    when a writer kept only the first examples of a frequent loss in `issues`.
    """

    format: str
    outputs: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    dropped: list[Issue] = field(default_factory=list)
    """Data lost beyond what the target format cannot carry (error issues, one per reason):
    records the reader skipped, every annotation of a type left out, an export of no rows.
    Filled by `groundtruth.convert` and `groundtruth.export`; the CLI exits 1 when it is not
    empty (unless --allow-loss)."""

    @property
    def lossless(self) -> bool:
        return not self.issues

    @property
    def lossy(self) -> bool:
        """Whether data was dropped (see `dropped`); format limits alone do not count."""
        return bool(self.dropped)

    def raise_for_loss(self) -> None:
        """Raise `DataLossError` when `dropped` is not empty (the output is written anyway)."""
        if self.dropped:
            from ..errors import DataLossError

            raise DataLossError(self.dropped)

    def loss_summary(self, examples: int = 3) -> dict[str, dict[str, Any]]:
        """Per code: how many, and the first few record ids, for people and JSON output."""
        counts = Counter(i.code for i in self.issues)
        out: dict[str, dict[str, Any]] = {}
        for code, n in counts.most_common():
            firsts = [i for i in self.issues if i.code == code][:examples]
            out[code] = {
                "count": self.totals.get(code, n),
                "message": firsts[0].message,
                "examples": [i.location.record_id for i in firsts if i.location.record_id],
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "outputs": self.outputs,
            "lossless": self.lossless,
            "lossy": self.lossy,
            "dropped": [i.to_dict() for i in self.dropped],
            "loss": self.loss_summary(),
            "details": self.details,
        }


@runtime_checkable
class Converter(Protocol):
    """A format converter. Register instances with `groundtruth.converters.register`.

    - `read` never raises for record-level problems: it skips or repairs the record and reports
      an Issue at the foreign file's own location into `Dataset.issues`. It raises
      `ConversionError` only when the file cannot be read at all.
    - `write` reports everything it cannot carry in `ConversionReport.issues`, and writes
      atomically (temporary name, then move).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]

    def detect(self, head: bytes, path: str) -> float:
        """How likely (0..1) a file starting with `head` (first 64 KiB) is in this format."""
        ...

    def read(
        self, path: str, *, fs: AbstractFileSystem | None = None, **options: Any
    ) -> Dataset: ...

    def write(
        self, dataset: Dataset, path: str, *, fs: AbstractFileSystem | None = None, **options: Any
    ) -> ConversionReport: ...
