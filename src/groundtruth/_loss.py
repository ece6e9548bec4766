"""What a conversion or export dropped beyond the target format's known limits.

A loss report lists what a format cannot carry (a COCO file has no annotator field): that is
expected and exits 0. Three things are not, and fill `ConversionReport.dropped`:

- `convert.read-dropped`: the reader skipped records or parts of records with error-level
  issues (a Label Studio box without image size, a COCO annotation of an unknown image), or
  found values no copy can hold as they are (NaN or infinity in a Parquet part).
- `convert.type-dropped`: the writer left out every annotation of a type (a span dataset
  written `--to jsonl`): the output has none of them.
- `convert.empty-output`: the writer wrote no record at all (images written `--to conll`).
- `export.empty`: a training export wrote no row.

The API returns the report (`report.dropped`, `report.lossy`, `report.raise_for_loss()`);
the CLI exits 1 unless `--allow-loss`. The output is written either way: it is complete for
what it holds, and the report says what it lacks.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .issues import Issue, define, issue

if TYPE_CHECKING:
    from .converters import ConversionReport
    from .dataset import Dataset

READ_DROPPED = define(
    "convert.read-dropped", "error",
    "Reading skipped records (or parts of records) with errors; the output lacks them")
TYPE_DROPPED = define(
    "convert.type-dropped", "error",
    "The target format left out every annotation of a type; the output has none of them")
NOT_FINITE = "content.not-finite"
EXPORT_EMPTY = define("export.empty", "error", "A training export wrote no row")
EMPTY_OUTPUT = define(
    "convert.empty-output", "error", "The target format wrote no record of a non-empty dataset")

ALLOW_HINT = "pass --allow-loss (allow_loss in the API: check report.dropped) to accept it"

# Codes a writer uses for "this annotation was not written at all", by convention: the
# built-in converters use these suffixes, and a third-party converter that follows them is
# covered too. Codes for partly written annotations must not end this way.
_DROP_CODE = re.compile(r"(annotation[.-]dropped|unsupported-annotation|write\.missing-size)$")
# ... and for "this item was not written, nor any of its annotations" (a drop code that
# names an item means the same).
_ITEM_DROP_CODE = re.compile(r"(unsupported-item|item\.no-text)$")
# How writers state the number of records they wrote, in `ConversionReport.details`.
_WRITTEN_KEYS = ("records", "lines", "sentences", "tasks", "rows")


def is_drop_code(code: str) -> bool:
    """Whether a write-report code means the named annotation was left out entirely."""
    return bool(_DROP_CODE.search(code))


def read_dropped(issues: Iterable[Issue], source: str, *, parquet_target: bool = False
                 ) -> list[Issue]:
    """One `convert.read-dropped` issue summing up the reader's error-level issues.

    `parquet_target`: the output is native Parquet, which keeps NaN and infinities as they
    are, so `content.not-finite` is not a loss there (still a read issue: run validate).
    """
    errors = [i for i in issues if i.severity == "error"
              and not (parquet_target and i.code == NOT_FINITE)]
    if not errors:
        return []
    counts = Counter(i.code for i in errors)
    reasons = ", ".join(f"{code} x{n}" for code, n in counts.most_common())
    first = errors[0]
    return [issue(
        READ_DROPPED,
        f"reading {source} found {len(errors)} error(s) whose data the output lacks or holds "
        f"altered (records or values skipped, NaN as null: {reasons}); first: "
        f"{first.location}: {first.message}".replace(": : ", ": "),
        file=source, hint=f"fix the source (run `gt validate` on it for every problem), or "
                          f"{ALLOW_HINT}")]


def types_dropped(dataset: Dataset, report: ConversionReport) -> list[Issue]:
    """A `convert.type-dropped` issue per annotation type the write left out entirely."""
    empty = _empty_output(dataset, report)
    left_out = {i.location.record_id for i in report.issues
                if i.location.record_id is not None and is_drop_code(i.code)}
    item_ids = {it.id for it in dataset.items}
    items_out = {i.location.record_id for i in report.issues
                 if i.location.record_id is not None and (
                     _ITEM_DROP_CODE.search(i.code)
                     or (is_drop_code(i.code) and i.location.record_id in item_ids))}
    if not empty and item_ids and item_ids <= items_out:  # every item left out
        empty = _empty_output(dataset, report, every_item_left_out=True)
    if not left_out and not items_out:
        return empty
    total: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    for a in dataset.annotations:
        kind = str(getattr(a, "type", "?"))
        total[kind] += 1
        if a.id in left_out or a.item_id in items_out:
            lost[kind] += 1
    return empty + [issue(
        TYPE_DROPPED,
        f"{report.format} wrote none of the {n} {kind} annotation(s)",
        hint=f"choose a target format that holds {kind} annotations (see `gt formats`), or "
             f"{ALLOW_HINT}")
        for kind, n in sorted(total.items()) if n and lost[kind] == n]


def _empty_output(dataset: Dataset, report: ConversionReport, *,
                  every_item_left_out: bool = False) -> list[Issue]:
    """`convert.empty-output` when the writer wrote no record of a non-empty dataset (as its
    record count says, or as its loss report says of every item)."""
    counts = [report.details[k] for k in _WRITTEN_KEYS
              if isinstance(report.details.get(k), int)]
    if not dataset.items or not (every_item_left_out or (counts and not any(counts))):
        return []
    return [issue(
        EMPTY_OUTPUT,
        f"{report.format} wrote no record of the {len(dataset.items)} item(s) and "
        f"{len(dataset.annotations)} annotation(s)",
        hint=f"the loss report says why; choose a target format that holds this data, or "
             f"{ALLOW_HINT}")]


def export_empty(report: ConversionReport, items: int) -> list[Issue]:
    """`export.empty` when an export wrote no row."""
    if report.details.get("rows"):
        return []
    reasons = ", ".join(f"{code} x{n}" for code, n in
                        Counter(i.code for i in report.issues).most_common())
    why = f" ({reasons})" if reasons else ""
    return [issue(
        EXPORT_EMPTY, f"the export wrote 0 rows from {items} item(s){why}",
        hint=f"check --task, --split and --label-set against the data (`gt info`), or "
             f"{ALLOW_HINT}")]
