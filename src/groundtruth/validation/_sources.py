"""Feeding the engine: a native dataset (streamed part by part), a one-file JSON document, an
in-memory `Dataset`, or a foreign file read by its converter.

Nothing here raises for bad data. A file that cannot be parsed further is reported where it
stopped, and the other files are still read.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec import AbstractFileSystem

from ..batch import fingerprint_batch
from ..dataset import Dataset
from ..errors import DataFormatError, GroundtruthError
from ..fingerprint import Fingerprinter
from ..io._access import access_error
from ..io._fs import PathLike, read_head, resolve
from ..io._jsonl import MAX_LINE_BYTES
from ..io._native import (
    KINDS,
    PARQUET_COLUMNS,
    PARQUET_UNREADABLE,
    NativeSource,
    _discover_parts,
    _locate,
    check_parts,
    iter_part_batches,
    iter_part_dicts,
    read_manifest_issues,
    vet_parts,
)
from ..issues import ISSUE_CODES, define, issue
from ..migrate import migrate_manifest
from ..models import AnnotationBase, Item, Manifest, Part
from ._engine import Engine
from ._report import At, Collector
from ._structure import MISSING_FIELD, NOT_OBJECT, UNKNOWN_FIELD, WRONG_TYPE, parse_record

SOURCE_UNREADABLE = define(
    "source.unreadable", "error", "The file cannot be read as the format it is said to be"
)
READER_CRASHED = define(
    "source.reader-failed", "error", "A format reader failed unexpectedly on the file"
)
DOCUMENT_SYNTAX = define("source.syntax", "error", "A JSON document is not valid JSON")
DOCUMENT_TOO_LARGE = define(
    "source.too-large", "error", "A one-document dataset is larger than the reader accepts"
)
DOCUMENT_MAX_BYTES = MAX_LINE_BYTES
"""A document is parsed whole, so it gets the cap of one JSONL line."""
FINGERPRINT_MISMATCH = define(
    "manifest.fingerprint-mismatch", "error",
    "The records' fingerprint differs from the one the manifest states")
PART_RECORDS = define(
    "part.records-mismatch", "error", "A data part holds another number of records than listed"
)

VECTORISE = True
"""Check Parquet parts on Arrow batches (rows proven clean skip the per-record path)."""

_DOCUMENT_HEAD = re.compile(rb'^\s*\{\s*"manifest"\s*:')


def looks_like_document(head: bytes) -> bool:
    """A dataset as one JSON document starts with its `manifest` key."""
    return bool(_DOCUMENT_HEAD.match(head.removeprefix(b"\xef\xbb\xbf")))


# ---------------------------------------------------------------------------------------------
# native datasets


@dataclass
class Opened:
    """A native dataset opened for validation: its parts, manifest, and absent parts."""

    src: NativeSource
    manifest: Manifest | None
    manifest_file: str
    absent: set[str] = field(default_factory=set)


def open_for_validation(
    url: PathLike, out: Collector, *, verify_hashes: bool, fs: AbstractFileSystem | None,
    storage_options: dict[str, Any] | None, display: str | None = None,
) -> Opened | None:
    """Locate the dataset, read its manifest and check its parts (presence, size and, with
    `verify_hashes`, content), reporting into `out`; None when nothing could be opened.
    `display`: how to name the dataset in issues (default: `url`)."""
    try:
        filesystem, root, shown = _locate(url, fs, storage_options)
        display = display or shown
    except DataFormatError as exc:  # a torn .zip
        out.add(issue(SOURCE_UNREADABLE, f"cannot open the dataset: {exc.message}",
                      file=str(url), hint=exc.hint))
        return None
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        if isinstance(exc, GroundtruthError):
            raise
        access = access_error(exc, url) if isinstance(exc, OSError) else None
        if access is not None:
            raise access from exc
        out.add(issue(SOURCE_UNREADABLE, f"cannot open the dataset: {exc}", file=str(url),
                      hint="a dataset is a folder or a .zip with groundtruth.json"))
        return None
    manifest, problems = read_manifest_issues(filesystem, root, display)
    out.extend(problems)
    manifest_file = display if display.endswith("groundtruth.json") else posixpath.join(
        display, "groundtruth.json")
    # Validation reports hashes and record counts as issues itself: the readers do not raise.
    src = NativeSource(filesystem, root, display, manifest or Manifest(), verify=False)
    if manifest is not None:
        src.parts, listing = vet_parts(filesystem, root, display, manifest)
        out.extend(listing)
    else:
        src.parts = _discover_parts(filesystem, root)
    opened = Opened(src, manifest, manifest_file)
    for problem in check_parts(src, hashes=verify_hashes):
        out.add(problem)
        if problem.code in ("part.missing", "part.too-large"):  # not to be read
            opened.absent.add(problem.location.file or "")
    if manifest is not None and "parts" in manifest.model_fields_set:
        # Refused parts (paths leaving the dataset) count as absent: never read, and the
        # records of their kind are known to be incomplete (no cascade of missing references).
        for part in manifest.parts:
            if part not in src.parts:
                src.parts.append(part)
                opened.absent.add(src.display(part.path))
    return opened


def run_native(
    url: PathLike, out: Collector, *, tolerance: float, verify_hashes: bool,
    fs: AbstractFileSystem | None, storage_options: dict[str, Any] | None,
) -> Engine | None:
    """Validate a native dataset, streaming its parts; None when nothing could be opened."""
    opened = open_for_validation(url, out, verify_hashes=verify_hashes, fs=fs,
                                 storage_options=storage_options)
    if opened is None:
        return None
    src, absent = opened.src, opened.absent
    engine = Engine(opened.manifest, out, manifest_at=At(file=opened.manifest_file),
                    tolerance=tolerance)
    claimed = opened.manifest.fingerprint if opened.manifest is not None else None
    if verify_hashes and claimed:
        engine.fp = Fingerprinter()
    for kind in KINDS:
        for number, part in enumerate(src.parts_of(kind)):
            engine.part_number = number
            whole = src.display(part.path) not in absent and _stream_part(src, part, engine, out)
            if not whole:
                if kind == "items":
                    engine.items_complete = False
                else:
                    engine.annotations_complete = False

    def texts(wanted: set[str]) -> Iterator[tuple[str, str | None]]:
        for part in src.parts_of("items"):
            if src.display(part.path) not in absent:
                yield from _item_texts(src, part, wanted)

    engine.finish(texts)
    if (engine.fp is not None and opened.manifest is not None and engine.items_complete
            and engine.annotations_complete and fingerprint_applies(
                c for c, n in out.by_code.items() if n and ISSUE_CODES[c].severity == "error")):
        check_fingerprint(engine.fp, opened.manifest, opened.manifest_file, out)
    return engine


_READING_LAYERS = ("part.", "structure.", "jsonl.", "parquet.", "source.", "manifest.")


def fingerprint_applies(error_codes: Iterable[str]) -> bool:
    """Whether comparing the fingerprint tells anything new: not when a part or record could
    not be read or parsed whole (those errors already say why the content differs)."""
    return not any(c.startswith(_READING_LAYERS) for c in error_codes)


def check_fingerprint(fp: Fingerprinter, manifest: Manifest, manifest_file: str,
                      out: Collector) -> None:
    """The fingerprint of the records read against the manifest's; only when every record was
    read and parsed (otherwise the errors already say why they differ)."""
    if not manifest.fingerprint:
        return
    digest = fp.hexdigest(manifest)
    if digest != manifest.fingerprint:
        out.add(issue(
            FINGERPRINT_MISMATCH,
            f"the records give fingerprint {digest}; the manifest claims {manifest.fingerprint}",
            file=manifest_file, path="$.fingerprint",
            hint="the manifest's fingerprint was changed, or the data was changed and the "
                 "manifest rewritten: take the dataset again from its source; if this content "
                 "is the one you want, write it again (`gt convert`) to record its fingerprint"))


def _stream_part(src: NativeSource, part: Part, engine: Engine, out: Collector) -> bool:
    """Check every record of one part; False when the part could not be read to its end."""
    if part.path.endswith(".parquet"):
        if not _parquet_opens(src, part, out):
            return False
        if engine.index is not None and VECTORISE:
            return _stream_parquet(src, part, engine, out)
    elif part.path.endswith(".jsonl") and engine.index is not None and VECTORISE:
        return _stream_jsonl(src, part, engine, out)
    kind = part.kind
    lost = engine.lost_record

    def check(data: dict[str, Any], at: At) -> None:
        _exact(engine, out, data, kind, at)

    return stream_records(src, part, out, check, lost)


def stream_records(src: NativeSource, part: Part, out: Collector,
                   record: Callable[[dict[str, Any], At], None],
                   lost: Callable[[str], None]) -> bool:
    """The per-record path over one part: reading problems go to `out`, each record that
    parsed as JSON to `record(data, at)`, and `lost(kind)` is told of each line that did not
    (its id is unknown). False when the part could not be read to its end."""
    shown = src.display(part.path)
    kind = part.kind
    count = 0
    last_row: int | None = None
    try:
        for data, line, row, problems in iter_part_dicts(src, part):
            if problems:
                out.extend(problems)
                if data == {} and any(p.severity == "error" for p in problems):
                    lost(kind)  # the line did not parse: its id is unknown
                    continue
            count += 1
            last_row = row
            record(data, At(file=shown, line=line, row=row))
    except DataFormatError as exc:
        where = exc.location
        out.add(issue(PARQUET_COLUMNS, exc.message, hint=exc.hint, file=shown,
                      path=where.path if where is not None else None))
        return False
    except (pa.ArrowException, OSError, ValueError) as exc:
        row = last_row + 1 if last_row is not None else 0
        code = PARQUET_UNREADABLE if part.path.endswith(".parquet") else SOURCE_UNREADABLE
        out.add(issue(code, f"cannot read further: {exc}", file=shown,
                      row=row if code == PARQUET_UNREADABLE else None,
                      hint="the file is damaged: write the dataset again"))
        return False
    if part.records >= 0 and count != part.records:
        out.add(issue(PART_RECORDS, f"{count} records, the manifest lists {part.records}",
                      file=shown, hint="the part was changed after it was written: copy the "
                                       "dataset again"))
    return True


def _exact(engine: Engine, out: Collector, data: dict[str, Any], kind: str, at: At) -> None:
    """The per-record path: the models, then the engine's checks."""
    parsed = parse_record(data, kind, file=at.file, line=at.line, row=at.row)
    if isinstance(parsed, list):
        out.extend(parsed)
        (engine.broken_item if kind == "items" else engine.broken_annotation)(data)
        engine.fp = None  # a record that does not parse has no canonical form to hash
        return
    if engine.fp is not None:
        engine.fp.add(parsed)
    if kind == "items":
        engine.item(parsed, at)  # type: ignore[arg-type]
    else:
        engine.annotation(parsed, at)  # type: ignore[arg-type]


def _stream_parquet(src: NativeSource, part: Part, engine: Engine, out: Collector) -> bool:
    """A Parquet part batch by batch: rows proven clean on columns, the rest one by one."""
    from ..io._arrow import batch_to_dicts
    from ._fast import FastAnnotations, FastItems

    shown = src.display(part.path)
    kind = part.kind
    row0 = 0
    if kind == "items":
        fi = FastItems(engine)
    else:
        fa = engine.fast or FastAnnotations(engine, engine.content.tol)
        engine.fast = fa
    try:
        for batch in iter_part_batches(src, part):
            bad = fi.flag(batch) if kind == "items" else fa.flag(batch)
            flagged = np.flatnonzero(bad)
            dicts = iter(batch_to_dicts(batch.take(pa.array(flagged, pa.int64())), kind))
            if kind == "items":
                cols, text_len = fi.columns(batch)
                for i in range(batch.num_rows):  # in row order: media duplicates depend on it
                    at = At(file=shown, row=row0 + i)
                    if bad[i]:
                        _exact(engine, out, next(dicts), kind, at)
                    else:
                        fi.register_row(cols, text_len, i, at)
            else:
                for k in flagged:
                    _exact(engine, out, next(dicts), kind, At(file=shown, row=row0 + int(k)))
                fa.register(batch, ~bad, shown, row0)
            if engine.fp is not None:
                engine.fp.merge(fingerprint_batch(batch.filter(pa.array(~bad)), kind))
            row0 += batch.num_rows
    except DataFormatError as exc:
        where = exc.location
        out.add(issue(PARQUET_COLUMNS, exc.message, hint=exc.hint, file=shown,
                      path=where.path if where is not None else None))
        return False
    except (pa.ArrowException, OSError, ValueError) as exc:
        out.add(issue(PARQUET_UNREADABLE, f"cannot read further: {exc}", file=shown, row=row0,
                      hint="the file is damaged: write the dataset again"))
        return False
    if part.records >= 0 and row0 != part.records:
        out.add(issue(PART_RECORDS, f"{row0} records, the manifest lists {part.records}",
                      file=shown, hint="the part was changed after it was written: copy the "
                                       "dataset again"))
    return True


_JSONL_BATCH = 16384
_JSONL_CHUNK = 4 << 20


def _stream_jsonl(src: NativeSource, part: Part, engine: Engine, out: Collector) -> bool:
    """A JSONL part in batches: plain records proven clean on Arrow columns, the rest (and
    every line that does not parse) one by one, exactly as the per-record path reports them."""
    from ..io import _jsonl
    from ._fast import FastAnnotations, FastItems, jsonl_eligible

    shown = src.display(part.path)
    kind = part.kind
    fi = FastItems(engine)
    fa = None
    if kind == "annotations":
        fa = engine.fast = engine.fast or FastAnnotations(engine, engine.content.tol)
    full = posixpath.join(src.root, part.path) if src.root else part.path
    loads = orjson.loads
    batch: list[tuple[int, Any, bool]] = []
    count = 0

    def flush() -> None:
        if not batch:
            return
        picked = [k for k, (_l, _v, ok) in enumerate(batch) if ok]
        bad = np.ones(len(batch), dtype=bool)
        arrow = None
        if picked:
            try:
                arrow = _columns([batch[k][1] for k in picked], kind)
            except (pa.ArrowException, TypeError, ValueError, AttributeError, KeyError):
                arrow = None
            if arrow is not None:
                flagged = fi.flag(arrow) if fa is None else fa.flag(arrow)
                # ids of the batch's other rows (checked one by one) count as seen too
                others = {v["id"] for _l, v, ok in batch
                          if not ok and type(v) is dict and type(v.get("id")) is str}
                if others:
                    ids = arrow.column("id").to_pylist()
                    flagged |= np.array([rid in others for rid in ids], dtype=bool)
                bad[picked] = flagged
        if fa is None:
            cols, text_len = fi.columns(arrow) if arrow is not None else ([], [])
            where = {k: j for j, k in enumerate(picked)}
            for k, (line, value, _ok) in enumerate(batch):
                at = At(file=shown, line=line)
                if bad[k]:
                    _exact(engine, out, value, kind, at)
                else:
                    fi.register_row(cols, text_len, where[k], at)
        else:
            for k in np.flatnonzero(bad).tolist():
                line, value, _ok = batch[k]
                _exact(engine, out, value, kind, At(file=shown, line=line))
            if arrow is not None:
                clean = ~bad[picked]
                fa.register(arrow, clean, shown, 0, lines=[batch[k][0] for k in picked])
        if arrow is not None and engine.fp is not None:
            engine.fp.merge(fingerprint_batch(arrow.filter(pa.array(~bad[picked])), kind))
        batch.clear()

    def careful(line: bytes | None, lineno: int, ended: bool, first: bool) -> None:
        """One line as the per-line reader sees it (BOM, bad JSON, truncation, too long)."""
        nonlocal count
        if line is not None and ended and not (first and line.startswith(b"\xef\xbb\xbf")):
            stripped = line.strip()
            if not stripped:
                return
            if len(line) <= _jsonl.MAX_LINE_BYTES:
                try:
                    value = loads(stripped)
                except orjson.JSONDecodeError:
                    pass
                else:
                    plain = b"true" not in stripped and b"false" not in stripped
                    batch.append((lineno, value, plain and jsonl_eligible(value, kind)))
                    count += 1
                    return
            else:
                line = None
        flush()
        parsed, problems = _odd_line(line, lineno, ended, first, shown)
        out.extend(problems)
        if parsed is not _NOTHING:
            count += 1
            _exact(engine, out, parsed, kind, At(file=shown, line=lineno))
        elif any(p.severity == "error" for p in problems):
            engine.lost_record(kind)

    def arrow_chunk(lines: list[bytes], base: int) -> bool:
        """Whole lines of one chunk read by Arrow's strict JSON reader; False if it objects."""
        nonlocal count
        if not lines or (base == 0 and lines[0].startswith(b"\xef\xbb\xbf")):
            return False
        if any(not line.strip() for line in lines):
            return False  # blank lines would break the row -> line mapping
        data = b"\n".join(lines) + b"\n"
        try:
            data.decode("utf-8")  # Arrow's reader does not check strings' UTF-8
        except UnicodeDecodeError:
            return False
        if _SURROGATE.search(data):
            return False  # nor escaped lone surrogates, which the JSON parser refuses
        arrow = _arrow_json(data, kind)
        if arrow is None:
            return False
        flush()
        flagged = fi.flag(arrow) if fa is None else fa.flag(arrow)
        count += len(lines) - int(flagged.sum())  # flagged lines are counted by `careful`
        if engine.fp is not None:  # flagged lines are added by `_exact`
            engine.fp.merge(fingerprint_batch(arrow.filter(pa.array(~flagged)), kind))
        if fa is None:
            cols, text_len = fi.columns(arrow)
            for i in range(len(lines)):
                at = At(file=shown, line=base + i + 1)
                if flagged[i]:
                    careful(lines[i], base + i + 1, True, base + i == 0)
                    flush()
                else:
                    fi.register_row(cols, text_len, i, at)
            return True
        for i in np.flatnonzero(flagged).tolist():
            careful(lines[i], base + i + 1, True, base + i == 0)
        flush()
        fa.register(arrow, ~flagged, shown, 0,
                    lines=list(range(base + 1, base + len(lines) + 1)))
        return True

    def lines_of_chunk(lines: list[bytes], base: int, data: bytes) -> None:
        """Whole lines of one chunk: read by Arrow, or parsed in one comprehension, unless
        something is odd."""
        nonlocal count
        if arrow_chunk(lines, base):
            return
        first = base == 0
        try:
            if first and lines and lines[0].startswith(b"\xef\xbb\xbf"):
                raise ValueError
            values = [loads(line) if line else _NOTHING for line in lines]
        except (orjson.JSONDecodeError, ValueError):
            for i, line in enumerate(lines):
                careful(line, base + i + 1, True, first and i == 0)
            return
        plain_chunk = b"true" not in data and b"false" not in data
        for i, value in enumerate(values):
            if value is _NOTHING:
                continue
            line = lines[i]
            if len(line) > _jsonl.MAX_LINE_BYTES:
                careful(None, base + i + 1, True, False)
                continue
            plain = plain_chunk or (b"true" not in line and b"false" not in line)
            batch.append((base + i + 1, value, plain and jsonl_eligible(value, kind)))
            count += 1
            if len(batch) >= _JSONL_BATCH:
                flush()

    with src.fs.open(full, "rb") as f:
        lineno = 0
        rest = b""
        skipping = False
        while chunk := f.read(_JSONL_CHUNK):
            if skipping:  # inside a line longer than the reader accepts: drop it
                nl = chunk.find(b"\n")
                if nl < 0:
                    continue
                lineno += 1
                careful(None, lineno, True, False)
                chunk = chunk[nl + 1:]
                skipping = False
            data = rest + chunk
            lines = data.split(b"\n")
            rest = lines.pop()
            if len(rest) > _jsonl.MAX_LINE_BYTES:
                skipping, rest = True, b""
            lines_of_chunk(lines, lineno, data)
            lineno += len(lines)
        if skipping:
            careful(None, lineno + 1, False, False)
        elif rest:
            careful(rest, lineno + 1, False, lineno == 0)
    flush()
    if part.records >= 0 and count != part.records:
        out.add(issue(PART_RECORDS, f"{count} records, the manifest lists {part.records}",
                      file=shown, hint="the part was changed after it was written: copy the "
                                       "dataset again"))
    return True


_NOTHING = object()


_ARROW_JSON: dict[str, pa.Schema] = {}
_SURROGATE = re.compile(rb"\\[uU][dD][89a-fA-F]")
_NOT_AN_OBJECT = re.compile(rb"(?:^|\n)[ \t\r]*[^{ \t\r\n]")  # a line that starts no object


def _arrow_json(data: bytes, kind: str) -> pa.RecordBatch | None:
    """Lines read by pyarrow's JSON reader against the columns plain rows may hold, strictly
    (an unknown field, a JSON type that differs from the column's, a fraction in an integer
    column are all refusals); None when it refuses, so the caller looks line by line."""
    import io

    import pyarrow.json as pj

    from ..io._arrow import SCHEMAS
    from ._fast import ALLOWED_KEYS, ITEM_KEYS

    if _NOT_AN_OBJECT.search(data):
        # pyarrow's reader crashes the process on a `null` first line (pyarrow 26) and reads
        # a later `null` line as a row of nulls: lines that are no object go the careful way
        return None
    full = SCHEMAS[kind]
    schema = _ARROW_JSON.get(kind)
    if schema is None:
        names = ITEM_KEYS if kind == "items" else frozenset().union(*ALLOWED_KEYS.values())
        # `created` stays out: RFC 3339 parsing is the models' to judge
        schema = _ARROW_JSON[kind] = pa.schema(
            [f for f in full if f.name in names and f.name != "created"])
    try:
        table = pj.read_json(io.BytesIO(data), parse_options=pj.ParseOptions(
            explicit_schema=schema, unexpected_field_behavior="error"))
    except (pa.ArrowException, ValueError):
        return None
    n = table.num_rows
    cols = {name: table.column(name).combine_chunks() for name in table.column_names}
    return pa.RecordBatch.from_arrays(
        [cols[f.name] if f.name in cols else pa.nulls(n, f.type) for f in full], schema=full)


def _columns(rows: list[dict[str, Any]], kind: str) -> pa.RecordBatch:
    """Eligible JSONL rows as a batch of the kind's schema: only the columns such rows can
    hold are built (they hold no JSON-text field), the others are nulls."""
    from ..io._arrow import SCHEMAS
    from ._fast import ALLOWED_KEYS, ITEM_KEYS

    schema = SCHEMAS[kind]
    names = ITEM_KEYS if kind == "items" else frozenset().union(*ALLOWED_KEYS.values())
    n = len(rows)
    return pa.RecordBatch.from_arrays(
        [pa.array([r.get(f.name) for r in rows], type=f.type) if f.name in names
         else pa.nulls(n, f.type) for f in schema], schema=schema)


def _odd_line(line: bytes | None, lineno: int, ended: bool, first: bool,
              shown: str) -> tuple[Any, list[Any]]:
    """What the JSONL reader says of one line (too long, BOM, bad JSON, truncated)."""
    import dataclasses
    import io

    from ..io import _jsonl

    if line is None:
        return _NOTHING, [issue(_jsonl.LINE_TOO_LONG,
                                f"line is longer than {_jsonl.MAX_LINE_BYTES} bytes",
                                file=shown, line=lineno,
                                hint="split the data into one record per line")]
    # A leading blank line makes the reader treat this one as "not the first" (no BOM check).
    raw = (b"" if first else b"\n") + line + (b"\n" if ended else b"")
    for _n, value, problems in _jsonl.read_objects(io.BytesIO(raw), shown):
        fixed = [dataclasses.replace(p, location=dataclasses.replace(p.location, line=lineno))
                 for p in problems]
        return (value if value is not None else _NOTHING), fixed
    return _NOTHING, []


def _parquet_opens(src: NativeSource, part: Part, out: Collector) -> bool:
    full = posixpath.join(src.root, part.path) if src.root else part.path
    try:
        with src.fs.open(full, "rb") as f:
            pq.ParquetFile(f)
    except (pa.ArrowException, OSError, ValueError) as exc:
        out.add(issue(PARQUET_UNREADABLE, f"not a readable Parquet file: {exc}",
                      file=src.display(part.path),
                      hint="the file is not Parquet or is damaged: write the dataset again"))
        return False
    return True


def _item_texts(src: NativeSource, part: Part,
                wanted: set[str]) -> Iterator[tuple[str, str | None]]:
    """The second pass: texts of the wanted items only (a column projection for Parquet)."""
    try:
        if part.path.endswith(".parquet"):
            # Straight from pyarrow: `iter_part_batches` cannot project away required columns.
            full = posixpath.join(src.root, part.path) if src.root else part.path
            with src.fs.open(full, "rb") as f:
                pf = pq.ParquetFile(f)
                if "text" not in pf.schema_arrow.names:
                    return
                for batch in pf.iter_batches(columns=["id", "text"]):
                    ids = batch.column(0).to_pylist()
                    texts = batch.column(1)
                    for i, rid in enumerate(ids):
                        if rid in wanted:
                            yield rid, texts[i].as_py()
            return
        for data, _line, _row, _p in iter_part_dicts(src, part):
            if isinstance(data, dict):
                rid, text = data.get("id"), data.get("text")
                if rid in wanted and isinstance(text, str):
                    yield rid, text
    except (GroundtruthError, pa.ArrowException, OSError, ValueError):
        return  # already reported by the first pass


# ---------------------------------------------------------------------------------------------
# one JSON document {"manifest": ..., "items": [...], "annotations": [...]}


def run_document(data: Any, out: Collector, *, file: str | None, tolerance: float) -> Engine:
    """Validate a dataset held as one JSON value (the form of the spec's examples)."""
    if not isinstance(data, dict):
        out.add(issue(NOT_OBJECT, f"a dataset document is a JSON object, got "
                      f"{type(data).__name__}", file=file, path="$"))
        data = {}
    for key in data:
        if key not in ("manifest", "items", "annotations"):
            out.add(issue(UNKNOWN_FIELD, f"unknown top-level key {key!r}", file=file,
                          path=f"$.{key}", hint="a document holds manifest, items, annotations"))
    manifest = _document_manifest(data, out, file)
    engine = Engine(manifest, out, manifest_at=At(file=file, prefix=("manifest",)),
                    tolerance=tolerance)
    texts: dict[str, str] = {}
    for kind in KINDS:
        records = data.get(kind, [])
        if not isinstance(records, list):
            out.add(issue(WRONG_TYPE, f"`{kind}` must be a list, got {type(records).__name__}",
                          file=file, path=f"$.{kind}"))
            continue
        for i, rec in enumerate(records):
            prefix = (kind, i)
            parsed = parse_record(rec, kind, file=file, prefix=prefix)
            if isinstance(parsed, list):
                out.extend(parsed)
                (engine.broken_item if kind == "items" else engine.broken_annotation)(rec)
            elif isinstance(parsed, Item):
                if parsed.text is not None:
                    texts.setdefault(parsed.id, parsed.text)
                engine.item(parsed, At(file=file, prefix=prefix))
            else:
                engine.annotation(parsed, At(file=file, prefix=prefix))
    engine.finish(lambda wanted: ((k, texts.get(k)) for k in wanted))
    return engine


def _document_manifest(data: dict[str, Any], out: Collector, file: str | None) -> Manifest | None:
    from ..io._native import MANIFEST_VERSION
    from ._structure import parse_manifest

    raw = data.get("manifest")
    if raw is None:
        out.add(issue(MISSING_FIELD, "the document has no `manifest`", file=file,
                      path="$.manifest", hint="add the manifest object"))
        return None
    if isinstance(raw, dict):
        if "groundtruth" not in raw:
            out.add(issue(MANIFEST_VERSION, "the manifest has no `groundtruth` spec version",
                          file=file, path="$.manifest.groundtruth",
                          hint='add "groundtruth": "1.0" to the manifest'))
            return None
        try:
            raw = migrate_manifest(raw)
        except GroundtruthError as exc:
            out.add(issue(MANIFEST_VERSION, exc.message, file=file,
                          path="$.manifest.groundtruth", hint=exc.hint))
            return None
    parsed = parse_manifest(raw, file=file, prefix=("manifest",))
    if isinstance(parsed, list):
        out.extend(parsed)
        return None
    return parsed


def read_document(url: PathLike, out: Collector, *, fs: AbstractFileSystem | None,
                  storage_options: dict[str, Any] | None) -> tuple[Any, bool]:
    """The parsed JSON of a document file, or (None, False) with a syntax issue."""
    filesystem, path = resolve(url, fs=fs, storage_options=storage_options)
    size = filesystem.size(path)
    if size is not None and size > DOCUMENT_MAX_BYTES:
        out.add(issue(DOCUMENT_TOO_LARGE, f"{size} bytes is more than a one-document dataset "
                      f"may hold ({DOCUMENT_MAX_BYTES})", file=str(url),
                      hint="store large datasets natively (`gt convert`): JSONL or Parquet "
                           "parts stream in bounded memory"))
        return None, False
    raw = filesystem.cat_file(path)
    try:
        return orjson.loads(raw), True
    except orjson.JSONDecodeError as exc:
        out.add(issue(DOCUMENT_SYNTAX, f"not valid JSON: {exc}", file=str(url),
                      hint="fix the JSON syntax (the position is in the message)"))
        return None, False


def head_of(url: PathLike, *, fs: AbstractFileSystem | None,
            storage_options: dict[str, Any] | None) -> bytes:
    filesystem, path = resolve(url, fs=fs, storage_options=storage_options)
    return read_head(path, fs=filesystem, size=4096)


# ---------------------------------------------------------------------------------------------
# in-memory datasets and foreign files


def run_dataset(ds: Dataset, out: Collector, *, tolerance: float,
                file: str | None = None, positional: bool = True) -> Engine:
    """Validate a `Dataset` in memory (its records already passed the models).

    `positional`: locate records by their place in the dataset (`$.annotations[3]`); foreign
    files are located by record id instead (their order means nothing to the user).
    """
    out.extend(ds.issues)
    engine = Engine(ds.manifest, out, manifest_at=At(file=file, prefix=("manifest",)),
                    tolerance=tolerance, foreign=not positional)
    records: Iterable[tuple[int, Item | AnnotationBase]]
    for kind, records in (("items", enumerate(ds.items)),
                          ("annotations", enumerate(ds.annotations))):
        for i, rec in records:
            at = At(file=file, prefix=(kind, i) if positional else ())
            if kind == "items":
                engine.item(rec, at)  # type: ignore[arg-type]
            else:
                engine.annotation(rec, at)  # type: ignore[arg-type]
    texts = {it.id: it.text for it in ds.items if it.text is not None}
    engine.finish(lambda wanted: ((k, texts.get(k)) for k in wanted))
    return engine


def read_foreign(name: str, url: PathLike, out: Collector, *, fs: AbstractFileSystem | None,
                 storage_options: dict[str, Any] | None, options: dict[str, Any]) -> Dataset | None:
    """Read a foreign file with its converter; every failure becomes an issue."""
    from .. import converters
    from .._guideline import attach_guideline, parse_guideline

    options = dict(options)
    guideline = options.pop("guideline", None)
    ref = parse_guideline(guideline) if guideline is not None else None
    filesystem, path = resolve(url, fs=fs, storage_options=storage_options)
    try:
        ds = converters.get(name).read(path, fs=filesystem, **options)
        if ref is not None:
            attach_guideline(ds, ref)
        return ds
    except TypeError as exc:
        if "option" in str(exc):
            raise  # a usage error (an unknown reading option), not bad data
        out.add(_crash(name, url, exc))
    except GroundtruthError as exc:
        if exc.__class__.__name__ in ("UnknownFormatError", "BackendNotInstalledError",
                                      "DatasetNotFoundError"):
            raise
        loc = exc.location
        out.add(issue(SOURCE_UNREADABLE, exc.message, hint=exc.hint,
                      file=(loc.file if loc is not None and loc.file else str(url)),
                      line=loc.line if loc is not None else None,
                      row=loc.row if loc is not None else None,
                      path=loc.path if loc is not None else None))
    except (MemoryError, RecursionError, Exception) as exc:  # see below
        # Storage and memory failures are not the data's fault: a clear error (exit 2).
        access = access_error(exc, url)
        if access is not None:
            raise access from exc
        # A reader must report bad data as issues; one that does not is a bug, but validate
        # still answers, naming the failure, instead of crashing the caller.
        out.add(_crash(name, url, exc))
    return None


def _crash(name: str, url: PathLike, exc: BaseException) -> Any:
    return issue(READER_CRASHED, f"the {name} reader failed: {type(exc).__name__}: {exc}",
                 file=str(url), hint=f"check that the file is {name}; if it is, report this "
                                     "reader failure as a bug with the file")
