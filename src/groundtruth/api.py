"""The verbs: one function each, shared by the Python API and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from . import converters
from ._guideline import attach_guideline, parse_guideline
from .dataset import Dataset
from .io._fs import PathLike, resolve
from .io._native import KINDS, iter_native_records, open_native
from .io._native import is_native as _is_native

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from .converters import ConversionReport
    from .models import AnnotationBase, Item, Manifest


def resolve_format(
    url: PathLike, format: str | None = None, *, fs: AbstractFileSystem | None = None,
    storage_options: dict[str, Any] | None = None,
) -> str:
    """`format` if given, `groundtruth` for a native dataset, else what detection finds."""
    if format:
        converters.get(format)  # unknown names fail here, listing the known ones
        return format
    if _is_native(url, fs=fs, storage_options=storage_options):
        return "groundtruth"
    filesystem, path = resolve(url, fs=fs, storage_options=storage_options)
    return converters.detect_format(path, fs=filesystem)


def load(
    url: PathLike,
    *,
    format: str | None = None,
    fs: AbstractFileSystem | None = None,
    storage_options: dict[str, Any] | None = None,
    verify: bool | None = None,
    max_member_bytes: int | None = None,
    **options: Any,
) -> Dataset:
    """Read a dataset, native or in any registered format, from a path or URL.

    Args:
        url: local path or fsspec URL (`s3://bucket/ds`, `memory://x`, `zip://...`).
        format: a converter name (`coco`, `conll`, ...); detected when omitted.
        fs: an fsspec filesystem to read from instead of resolving `url`.
        storage_options: passed to fsspec when `url` is a URL.
        verify: native datasets: check every part's SHA-256 and record count against the
            manifest while reading it (`IntegrityError` naming the part). Default True;
            False reads a dataset known to be damaged, or saves the hashing time.
        max_member_bytes: native `.zip` datasets: the largest decompressed part accepted
            (default: the `GROUNDTRUTH_MAX_MEMBER_BYTES` environment variable, else 4 GiB).
        **options: format-specific reading options, and for every format
            `guideline="ID@VERSION"`: the guideline the delivery was made under, recorded on
            each annotation by a human (or unnamed) annotator that names none.

    Record-level problems a foreign reader worked around are in `Dataset.issues`.
    """
    name = resolve_format(url, format, fs=fs, storage_options=storage_options)
    if fs is None:
        fs, path = resolve(url, storage_options=storage_options)
    else:
        path = str(url)
    guideline = options.pop("guideline", None)
    ref = parse_guideline(guideline) if guideline is not None else None
    if name == "groundtruth":
        options.update(verify=verify, max_member_bytes=max_member_bytes)
    ds = converters.get(name).read(path, fs=fs, **options)
    # a URL as given (git://repo:ref@path, s3://...) names the version; the reader only saw
    # the path inside the filesystem
    ds.source = str(url) if "://" in str(url) else (ds.source or str(url))
    if ref is not None:
        attach_guideline(ds, ref)
    return ds


def iter_records(
    url: PathLike,
    *,
    kinds: tuple[str, ...] = KINDS,
    format: str | None = None,
    fs: AbstractFileSystem | None = None,
    storage_options: dict[str, Any] | None = None,
    verify: bool | None = None,
    max_member_bytes: int | None = None,
    **options: Any,
) -> Iterator[Item | AnnotationBase]:
    """Stream records (items first, then annotations) in bounded memory.

    Native datasets stream part by part; foreign formats are read by their converter.
    `verify` and `max_member_bytes` as for `load`: a part's hash and record count are checked
    when the part has been read, so records of a damaged JSONL part are yielded before the
    `IntegrityError` that names it (a Parquet part is checked before its first record).
    """
    name = resolve_format(url, format, fs=fs, storage_options=storage_options)
    if name == "groundtruth":
        src = open_native(url, fs=fs, storage_options=storage_options, verify=verify,
                          max_member_bytes=max_member_bytes)
        yield from iter_native_records(src, kinds)
        return
    ds = load(url, format=name, fs=fs, storage_options=storage_options, **options)
    if "items" in kinds:
        yield from ds.items
    if "annotations" in kinds:
        yield from ds.annotations


def read_manifest(
    url: PathLike, *, fs: AbstractFileSystem | None = None,
    storage_options: dict[str, Any] | None = None,
) -> Manifest:
    """The manifest of a native dataset, without reading its records."""
    return open_native(url, fs=fs, storage_options=storage_options).manifest


def with_lineage(dataset: Dataset, message: str | None = None) -> Dataset:
    """`dataset` (a shallow copy) with its lineage stamped into the manifest, as `save` writes
    it: the operation's lineage if one was set (`dataset.lineage`), else a `save` of the
    version it was read from."""
    from .lineage import make_lineage, parent_of, stamp

    lineage = dataset.lineage or make_lineage("save", [parent_of(dataset)])
    if message is not None:
        lineage = lineage.model_copy(update={
            "derivation": lineage.derivation.model_copy(update={"message": message})})
    out = Dataset(stamp(dataset.manifest, lineage), issues=dataset.issues,
                  source=dataset.source, source_format=dataset.source_format)
    out.items, out.annotations = dataset.items, dataset.annotations  # shared, not copied
    return out


def save(
    dataset: Dataset,
    url: PathLike,
    *,
    format: str = "groundtruth",
    encoding: str = "jsonl",
    overwrite: bool = False,
    fs: AbstractFileSystem | None = None,
    storage_options: dict[str, Any] | None = None,
    message: str | None = None,
    **options: Any,
) -> ConversionReport:
    """Write a dataset natively (`encoding` jsonl or parquet) or in another format.

    Writes are atomic: a failure leaves no half-written dataset behind. The report lists what
    the target format could not carry (empty for the native format). A native write records
    the dataset's lineage in the manifest (see `with_lineage`), with `message` as its note.

    An existing destination raises `DatasetExistsError` unless `overwrite`; even then a
    dataset only replaces a dataset and a file only a file (never a folder, a plain file or a
    folder without a manifest), and a destination that appears while the write runs is never
    replaced (see `groundtruth.io._publish`).
    """
    if fs is None:
        fs, path = resolve(url, storage_options=storage_options)
    else:
        path = str(url)
    if format == "groundtruth":
        options.update(encoding=encoding)
        dataset = with_lineage(dataset, message)
    return converters.get(format).write(dataset, path, fs=fs, overwrite=overwrite, **options)


def convert(
    src: PathLike,
    dst: PathLike,
    *,
    from_format: str | None = None,
    to_format: str = "groundtruth",
    read_options: dict[str, Any] | None = None,
    write_options: dict[str, Any] | None = None,
    overwrite: bool = False,
    storage_options: dict[str, Any] | None = None,
    verify: bool | None = None,
    message: str | None = None,
) -> tuple[Dataset, ConversionReport]:
    """Read `src` in one format and write `dst` in another.

    Returns the dataset read (its `issues` say what reading had to work around) and the write
    report: `report.issues` is what the target format could not carry; `report.dropped` (and
    `report.lossy`) what was lost beyond that: records the reader skipped with errors, or every
    annotation of a type the writer left out. Loss does not raise: the output is written and
    complete for what it holds; call `report.raise_for_loss()` to make it an error (the CLI
    exits 1 unless --allow-loss). `verify` as for `load`.

    `dst` is never the input itself, a folder that contains it or a path inside it, even with
    `overwrite`. A native `dst` records `src` as its parent (lineage operation `convert`).
    """
    from ._loss import read_dropped, types_dropped
    from .lineage import convert_lineage

    refuse_input_as_output(src, dst, storage_options)
    ds = load(src, format=from_format, storage_options=storage_options, verify=verify,
              **(read_options or {}))
    ds.lineage = convert_lineage(ds, to_format=to_format, read_options=read_options,
                                 write_options=write_options, message=message)
    report = save(ds, dst, format=to_format, overwrite=overwrite,
                  storage_options=storage_options, **(write_options or {}))
    parquet = to_format == "groundtruth" and (write_options or {}).get("encoding") == "parquet"
    report.dropped = (read_dropped(ds.issues, str(src), parquet_target=parquet)
                      + types_dropped(ds, report))
    return ds, report


def refuse_input_as_output(
    src: PathLike, dst: PathLike, storage_options: dict[str, Any] | None = None
) -> None:
    """`DatasetExistsError` when writing `dst` would replace or delete `src`.

    Both are resolved (absolute, symlinks followed on a local disk): the same file, the same
    folder, a `dst` folder that contains `src`, or a `dst` inside the `src` folder (a file
    the dataset's manifest would not list) are refused whatever `overwrite` says.
    """
    from .errors import DatasetExistsError
    from .io._fs import is_local

    sfs, spath = resolve(src, storage_options=storage_options)
    dfs, dpath = resolve(dst, storage_options=storage_options)
    if is_local(sfs) != is_local(dfs):
        return
    if is_local(sfs):
        import os

        a, b = os.path.realpath(spath), os.path.realpath(dpath)
    else:
        if sfs.protocol != dfs.protocol:
            return
        a, b = spath.rstrip("/"), dpath.rstrip("/")
    if a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/"):
        raise DatasetExistsError(
            f"{dst} is the input {src}, holds it or is inside it: writing there would replace "
            "or change the input", hint="choose a destination outside the input")
