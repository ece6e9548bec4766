"""What the JSON-family converters share: reading records with locations, collecting labels and
annotators into a manifest, and writing JSONL or a JSON array atomically.

A file whose first non-blank byte is `[` is one JSON array (how Label Studio and doccano export
"JSON"); anything else is JSON Lines, read by the core's streaming line reader so line numbers,
BOMs and encoding errors are reported the same way everywhere.
"""

from __future__ import annotations

import contextlib
import gc
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import ConversionError, DatasetExistsError, UnknownOptionError
from ..io._fs import atomic_write, resolve
from ..io._jsonl import read_objects
from ..issues import Issue, define, issue
from ..models import Annotator, Item, Label, LabelSet, Manifest, Taxonomy

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

NOT_AN_OBJECT = define(
    "json.record.not-an-object", "error", "A record is not a JSON object and was skipped")
BOM = define("json.bom", "warning", "The JSON file starts with a UTF-8 byte-order mark")
DUPLICATE_ID = define(
    "json.record.duplicate-id", "error", "Two records have the same id; the later was renamed")

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class Where:
    """The location of one record in the foreign file: line (JSONL) or index (JSON array)."""

    file: str
    line: int | None = None
    index: int | None = None
    record_id: str | None = None

    def at(self, path: str = "", record_id: str | None = None) -> dict[str, Any]:
        """Keyword arguments for `issue(...)` locating `path` (relative: `.spans[2]`)."""
        root = f"$[{self.index}]" if self.index is not None else "$"
        out: dict[str, Any] = {"file": self.file, "path": root + path}
        if self.line is not None:
            out["line"] = self.line
        rid = record_id if record_id is not None else self.record_id
        if rid is not None:
            out["record_id"] = rid
        return out

    def with_id(self, record_id: str | None) -> Where:
        return Where(self.file, self.line, self.index, record_id)


def display_name(path: str) -> str:
    return posixpath.basename(path.rstrip("/")) or path


def dataset_name(path: str) -> str:
    """The name a dataset read from `path` gets: its file name without the extension, as every
    converter derives it (`reviews.jsonl`, `reviews.json`, `reviews.conll` -> `reviews`; a
    folder keeps its name)."""
    shown = display_name(path)
    return posixpath.splitext(shown)[0] or shown


def first_byte(head: bytes) -> bytes:
    """The first non-blank byte of a file head (after a BOM), b"" if none."""
    body = head[3:] if head.startswith(_BOM) else head
    stripped = body.lstrip()
    return stripped[:1]


def iter_json_records(
    path: str, *, fs: AbstractFileSystem | None, issues: list[Issue]
) -> Iterator[tuple[Where, dict[str, Any]]]:
    """Every object record of a JSONL file or JSON array, with its location.

    Unparseable lines and non-object records are reported into `issues` and skipped; a JSON
    array that does not parse as a whole raises `ConversionError` (nothing can be read).
    """
    filesystem, fpath = resolve(path, fs=fs)
    name = display_name(fpath)
    with filesystem.open(fpath, "rb") as f:
        head = f.read(4096)
        f.seek(0)
        if first_byte(head) == b"[":
            data = f.read()
            yield from _array_records(data, name, issues)
            return
        for line, value, found in read_objects(f, name):
            issues.extend(found)
            if value is None:
                continue
            where = Where(name, line=line)
            if not isinstance(value, dict):
                issues.append(issue(
                    NOT_AN_OBJECT, f"line holds a JSON {type(value).__name__}, not an object",
                    hint="each line must be one JSON object", **where.at()))
                continue
            yield where, value


def _array_records(
    data: bytes, name: str, issues: list[Issue]
) -> Iterator[tuple[Where, dict[str, Any]]]:
    if data.startswith(_BOM):
        data = data[3:]
        issues.append(issue(BOM, "UTF-8 byte-order mark at the start of the file", file=name,
                            line=1, hint="save the file as UTF-8 without BOM"))
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ConversionError(
            f"{name} is not valid JSON: {exc}",
            hint="export the file again from the tool; a JSON array must be complete",
        ) from None
    if not isinstance(value, list):
        raise ConversionError(f"{name} is not a JSON array of records")
    for i, rec in enumerate(value):
        where = Where(name, index=i)
        if not isinstance(rec, dict):
            issues.append(issue(
                NOT_AN_OBJECT, f"record {i} is a JSON {type(rec).__name__}, not an object",
                hint="the array must hold one object per record", **where.at()))
            continue
        yield where, rec


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a reader builds many objects.

    A reader allocates millions of small objects and frees none; CPython's collector would
    rescan all of them again and again (half the read time on span files with tokens).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 string or a Unix timestamp (seconds) as an aware datetime, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            return None
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return None


def iso(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Collector:
    """Label sets and annotators seen while reading, turned into a manifest at the end."""

    tool: str
    labels: dict[str, dict[str, None]] = field(default_factory=dict)
    types: dict[str, dict[str, None]] = field(default_factory=dict)
    multi: set[str] = field(default_factory=set)
    annotators: dict[str, Annotator] = field(default_factory=dict)

    def label(self, label_set: str, name: str | None, ann_type: str) -> None:
        self.labels.setdefault(label_set, {})
        self.types.setdefault(label_set, {})[ann_type] = None
        if name:  # "" is no label name (ids are non-empty)
            self.labels[label_set][name] = None

    def annotator(self, annotator_id: str | None, **fields: Any) -> str | None:
        if not annotator_id:
            return None
        if annotator_id not in self.annotators:
            fields.setdefault("kind", "human")
            fields.setdefault("tool", self.tool)
            self.annotators[annotator_id] = Annotator(id=annotator_id, **fields)
        return annotator_id

    def manifest(self, name: str, **extra: Any) -> Manifest:
        sets = [
            LabelSet(
                name=set_name,
                annotation_types=list(self.types.get(set_name, {})),
                labels=[Label(name=n) for n in names],
                multi_label=set_name in self.multi,
            )
            for set_name, names in self.labels.items()
        ]
        return Manifest(
            name=name, taxonomy=Taxonomy(label_sets=sets),
            annotators=list(self.annotators.values()), **extra,
        )


def check_destination(fs: AbstractFileSystem, path: str, overwrite: bool) -> None:
    """A file write replaces an existing file only with `overwrite`, and never a folder."""
    if fs.isdir(path):
        raise DatasetExistsError(
            f"{path} is a folder; writing a file there would replace it",
            hint="choose a file name")
    if fs.exists(path) and not overwrite:
        raise DatasetExistsError(
            f"{path} already exists",
            hint="choose another destination, or pass overwrite=True (--overwrite)",
        )


def write_jsonl(
    path: str, records: Iterable[dict[str, Any]], *, fs: AbstractFileSystem | None,
    overwrite: bool = False,
) -> int:
    """Write records as JSON Lines atomically; returns the number of lines."""
    filesystem, fpath = resolve(path, fs=fs)
    check_destination(filesystem, fpath, overwrite)
    n = 0
    with atomic_write(filesystem, fpath, overwrite=overwrite) as f:
        for rec in records:
            f.write(orjson.dumps(rec) + b"\n")
            n += 1
    return n


def write_json_array(
    path: str, records: list[dict[str, Any]], *, fs: AbstractFileSystem | None,
    overwrite: bool = False,
) -> None:
    filesystem, fpath = resolve(path, fs=fs)
    check_destination(filesystem, fpath, overwrite)
    with atomic_write(filesystem, fpath, overwrite=overwrite) as f:
        f.write(orjson.dumps(records, option=orjson.OPT_INDENT_2))


def reject_unknown(fmt: str, options: dict[str, Any]) -> None:
    options.pop("storage_options", None)
    if options:
        raise UnknownOptionError(f"unknown option(s) for {fmt}: {', '.join(sorted(options))}")


def head_objects(head: bytes, limit: int = 20) -> list[Any]:
    """Complete JSON values on the first lines of a head (for detection); [] if none parse."""
    body = head[3:] if head.startswith(_BOM) else head
    out: list[Any] = []
    lines = body.split(b"\n")
    if len(lines) > 1:
        lines = lines[:-1]  # the last may be cut by the head's size
    for line in lines:
        if not line.strip():
            continue
        try:
            out.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            return out
        if len(out) >= limit:
            break
    return out


def ext_of(path: str) -> str:
    base = display_name(path).lower()
    for e in (".jsonl", ".ndjson", ".json", ".jsonl.gz"):
        if base.endswith(e):
            return e
    return ""


_CHUNKS = re.compile(r"(\d+)")


def natural_order(record_id: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders ids by their digit runs as numbers: `a-2` < `a-10` < `a-e2`."""
    return tuple((0, int(part)) if part.isascii() and part.isdigit() else (1, part)
                 for part in _CHUNKS.split(record_id) if part)


def source_order(items: Iterable[Item], namespace: str) -> list[Item]:
    """Items in the order of the file they were read from (`extensions[ns]["order"]`), the
    others after them in their current order: a round trip keeps the record order even after
    the dataset was stored natively (which sorts by id)."""
    listed = list(items)
    big = len(listed)

    def key(pair: tuple[int, Item]) -> tuple[int, int]:
        order = pair[1].extensions.get(namespace, {}).get("order")
        return (order if isinstance(order, int) else big + pair[0], pair[0])

    return [it for _, it in sorted(enumerate(listed), key=key)]


def unique_id(seen: set[str], item_id: str, where: Where, issues: list[Issue],
              path: str = ".id") -> str:
    """`item_id`, or `<id>~<line or index>` when an earlier record had it (reported)."""
    if item_id in seen:
        new = f"{item_id}~{where.line if where.line is not None else where.index}"
        issues.append(issue(DUPLICATE_ID, f"id {item_id!r} seen before; this record is {new!r}",
                            hint="ids must be unique", **where.at(path, item_id)))
        item_id = new
    seen.add(item_id)
    return item_id
