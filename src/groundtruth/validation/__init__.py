"""`validate`: every problem of a dataset, as data, in layers.

1. structure — each record against the models (what the JSON Schema states), plus what reading
   the files found (manifest, parts, JSONL lines, Parquet columns, a foreign reader's issues);
2. references — ids unique, annotations on existing items, labels in the taxonomy and in their
   task's label set, annotators and guidelines defined, relation endpoints on the same item,
   rankings over the item's candidates, `sources` that exist;
3. geometry and content — finite numbers, shapes inside their image, RLE sums and sizes, span
   and token offsets inside the text, times inside the media, confidences, ratings, rankings;
4. dataset — warnings: unused labels, unannotated items, annotators without guideline,
   duplicate media, split leakage, undeclared splits.

`validate` never raises for bad data: it returns a `ValidationReport`.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..dataset import Dataset
from ..errors import UnknownOptionError
from ._report import At, Collector, ValidationReport

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from ..io._fs import PathLike
    from ._engine import Engine

# The readers (groundtruth.io) use the structure layer of this package, so the modules that
# read files are imported when `validate` runs, not when this package is.

__all__ = ["At", "Collector", "ValidationReport", "validate"]

DOCUMENT_FORMAT = "document"
"""`format=` for a dataset held as one JSON document (`{"manifest", "items", "annotations"}`)."""


def validate(
    source: PathLike | Dataset | dict[str, Any],
    *,
    format: str | None = None,
    strict: bool = False,
    max_issues: int | None = None,
    tolerance: float = 0.0,
    verify_hashes: bool = True,
    fs: AbstractFileSystem | None = None,
    storage_options: dict[str, Any] | None = None,
    engine: Any = None,
    workers: int | None = None,
    **options: Any,
) -> ValidationReport:
    """Check a dataset and report every problem found, located as exactly as the input allows.

    Args:
        source: a native dataset (folder, .zip, or URL), a file in any format a converter reads
            (`format=` or detected), a one-file JSON document, a `Dataset`, or the dict of a
            document.
        format: converter name (`coco`, `conll`, ...), `groundtruth`, or `document`.
        strict: warnings make the report fail (`ok` is False) too.
        max_issues: keep at most this many issues in the report (counts stay exact).
        tolerance: pixels a shape may reach outside its image before it is an error.
        verify_hashes: check each native data part against its sha256 in the manifest.
        fs, storage_options: where to read from (see `groundtruth.load`).
        engine, workers: run on an engine (`"local"`, `"dask"` with `workers`, or an engine
            object; see `groundtruth.engine`): parts are read and buckets of items checked in
            parallel, with the same report. Native datasets only.
        **options: reading options of a foreign format.

    Raises only for usage errors: nothing at `source` (`DatasetNotFoundError`), a format that
    cannot be told or does not exist (`UnknownFormatError`), an unknown reading option.
    """
    if engine is not None:
        return _on_engine(source, format, engine, workers, strict=strict, max_issues=max_issues,
                          tolerance=tolerance, verify_hashes=verify_hashes, fs=fs,
                          storage_options=storage_options, options=options)
    with _no_cyclic_gc():
        return _validate(source, format=format, strict=strict, max_issues=max_issues,
                         tolerance=tolerance, verify_hashes=verify_hashes, fs=fs,
                         storage_options=storage_options, **options)


def _on_engine(source: Any, format: str | None, engine: Any, workers: int | None, *,
               strict: bool, max_issues: int | None, tolerance: float, verify_hashes: bool,
               fs: AbstractFileSystem | None, storage_options: dict[str, Any] | None,
               options: dict[str, Any]) -> ValidationReport:
    from ..engine import EngineError
    from ..engine._validate import validate as validate_on_engine

    what = type(source).__name__ if isinstance(source, Dataset | dict) else None
    if what is None and fs is not None:
        what = "a path on a filesystem object"  # workers open storage_options, not objects
    if what is None:
        fmt = _format_of(source, format, fs=None, storage_options=storage_options)
        what = None if fmt == "groundtruth" and not options else f"{fmt} data"
    if what is not None:
        raise EngineError(f"an engine validates native datasets (a folder or URL); this is "
                          f"{what}", hint="convert it first (gt convert SRC OUT --encoding "
                                          "parquet), or validate it without an engine")
    with _no_cyclic_gc():
        return validate_on_engine(source, engine=engine, workers=workers, strict=strict,
                                  max_issues=max_issues, tolerance=tolerance,
                                  verify_hashes=verify_hashes, storage_options=storage_options)


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Validation builds millions of small, long-lived, acyclic objects (ids, facts); the
    cyclic garbage collector would rescan them all again and again (a third of the time)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _validate(
    source: PathLike | Dataset | dict[str, Any], *, format: str | None, strict: bool,
    max_issues: int | None, tolerance: float, verify_hashes: bool,
    fs: AbstractFileSystem | None, storage_options: dict[str, Any] | None, **options: Any,
) -> ValidationReport:
    from ._sources import read_document, read_foreign, run_dataset, run_document, run_native

    out = Collector(max_issues)
    engine: Engine | None
    if isinstance(source, Dataset):
        engine = run_dataset(source, out, tolerance=tolerance, file=source.source,
                             positional=source.source_format in (None, "groundtruth"))
        return _report(out, engine, source.source, source.source_format or "dataset", strict)
    if isinstance(source, dict):
        engine = run_document(source, out, file=None, tolerance=tolerance)
        return _report(out, engine, None, DOCUMENT_FORMAT, strict)
    name = str(source)
    fmt = _format_of(source, format, fs=fs, storage_options=storage_options)
    if fmt == "groundtruth":
        if options:
            raise UnknownOptionError(f"unknown option(s) for groundtruth: {', '.join(options)}")
        engine = run_native(source, out, tolerance=tolerance, verify_hashes=verify_hashes,
                            fs=fs, storage_options=storage_options)
    elif fmt == DOCUMENT_FORMAT:
        data, parsed = read_document(source, out, fs=fs, storage_options=storage_options)
        engine = run_document(data, out, file=name, tolerance=tolerance) if parsed else None
    else:
        ds = read_foreign(fmt, source, out, fs=fs, storage_options=storage_options,
                          options=options)
        engine = None
        if ds is not None:
            engine = run_dataset(ds, out, tolerance=tolerance, file=name, positional=False)
    return _report(out, engine, name, fmt, strict)


def _format_of(source: PathLike, format: str | None, *, fs: AbstractFileSystem | None,
               storage_options: dict[str, Any] | None) -> str:
    from ..api import resolve_format
    from ..io._native import is_native
    from ._sources import head_of, looks_like_document

    if format == DOCUMENT_FORMAT:
        return format
    if format is None:
        if is_native(source, fs=fs, storage_options=storage_options):
            return "groundtruth"
        if looks_like_document(head_of(source, fs=fs, storage_options=storage_options)):
            return DOCUMENT_FORMAT
    return resolve_format(source, format, fs=fs, storage_options=storage_options)


def _report(out: Collector, engine: Engine | None, source: str | None, fmt: str,
            strict: bool) -> ValidationReport:
    return ValidationReport.from_collector(
        out, source=source, format=fmt, strict=strict,
        stats=engine.stats() if engine is not None else None)
