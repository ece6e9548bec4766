"""Big COCO files: COCO -> native and native -> COCO in bounded memory.

`coco_to_native` never holds the parsed file: a byte scan (`_scan`) locates the sections, the
small ones are parsed whole, and `images`/`annotations` are parsed in slices of whole records.
Plain records become Arrow columns directly (`_fast`); any other slice goes through the model
path, which reports its issues. Records are written in COCO order, so a native dataset made
here streams back out in the original order.

`native_to_coco` reads a native dataset part by part and writes one COCO JSON file, one record
at a time.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from ...errors import ConversionError
from ...io._fs import PathLike, atomic_write, is_local, resolve
from ...io._native import DatasetWriter, iter_part_dicts, open_native, parquet_part
from ...io._publish import held_signals
from ...issues import Issue, Location
from ...models import (
    ANNOTATION_TYPES,
    AnnotationBase,
    ConsensusInfo,
    GuidelineRef,
    Item,
    Manifest,
    Rle,
)
from .._base import ConversionReport
from . import _codes as C
from . import _fast, _scan
from ._read import (
    NS,
    _Ctx,
    _read_annotation,
    _read_categories,
    _read_images,
    finish_manifest,
    top_level,
)
from ._write import (
    _TOP_ORDER,
    _annotation,
    _assign_ids,
    _categories,
    _exportable,
    _images,
    _label_set,
    _manifest_loss,
    _Out,
    _source_order,
    _write_array,
    category_map,
)
from ._write import (
    _Ctx as _WCtx,
)

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

CHUNK = 1 << 23
"""Bytes of COCO JSON parsed at a time."""


class _BatchWriter(DatasetWriter):
    """A DatasetWriter that also takes whole Arrow batches (with their records' digests)."""

    def write_batch(self, kind: str, batch: pa.RecordBatch, digests: list[int]) -> None:
        self._flush(kind)  # records written one by one so far go first: order is kept
        for d in digests:
            self.fingerprint.add_digest(kind, d)
        self._write_arrow(kind, batch)


@dataclass
class StreamResult:
    """What `coco_to_native` did: the manifest written and the reading issues."""

    manifest: Manifest
    issues: list[Issue] = field(default_factory=list)
    items: int = 0
    annotations: int = 0
    fast_records: int = 0


def _not_json(src: str, err: Exception) -> ConversionError:
    return ConversionError(
        f"not JSON [{C.NOT_JSON}]: {err}",
        hint="a COCO file is one JSON object (or a JSON array of results)",
        location=Location(file=src),
    )


def coco_to_native(
    src: PathLike,
    dst: PathLike,
    *,
    encoding: str = "parquet",
    overwrite: bool = False,
    name: str | None = None,
    label_set: str = "categories",
    embed: bool = True,
    fs: AbstractFileSystem | None = None,
    chunk: int = CHUNK,
    workers: int | None = None,
    big: int = _scan.BIG,
) -> StreamResult:
    """Convert a COCO object file to a native dataset without holding the parsed file.

    Results arrays and panoptic files (small in practice) go through `CocoConverter.read`.
    `workers` processes (default: up to 2) parse and convert slices in parallel on a local
    file; records are still written in file order. Sections larger than `big` bytes are
    parsed in slices of about `chunk` bytes; smaller ones with the top level.
    """
    from . import CocoConverter

    rfs, rpath = resolve(src, fs=fs)
    stem = posixpath.splitext(posixpath.basename(rpath))[0]
    with rfs.open(rpath, "rb") as f:
        try:
            layout = _scan.scan(f)
            doc, where, order = _scan.skeleton(f, layout, big=big)
        except (ValueError, orjson.JSONDecodeError) as err:
            raise _not_json(str(src), err) from None
        panoptic = layout.root == 123 and _first_is_panoptic(f, doc, where, layout)
        if layout.root != 123 or panoptic or not isinstance(doc, dict):
            ds = CocoConverter().read(
                rpath, fs=rfs, name=name or stem, label_set=label_set, embed=embed
            )
            writer = DatasetWriter(dst, encoding=encoding, overwrite=overwrite)  # type: ignore[arg-type]
            with writer:
                writer.write_all(ds.items)
                writer.write_all(ds.annotations)
                manifest = writer.close(ds.manifest)
            return StreamResult(manifest, ds.issues, len(ds.items), len(ds.annotations))

        ctx = _Ctx(file=str(src))
        result = StreamResult(Manifest(name=name or stem))
        cats = doc.get("categories")
        if "categories" in where:
            cats = [x for part in _slices(f, where["categories"], layout, chunk) for x, _ in part]
        lset = _read_categories(cats if isinstance(cats, list) else [], ctx, label_set, embed)
        fast = encoding == "parquet"
        if workers is None:
            workers = min(2, os.cpu_count() or 1)
        if not is_local(rfs) or "fork" not in mp.get_all_start_methods():
            workers = 1
        writer = _BatchWriter(dst, encoding=encoding, overwrite=overwrite)  # type: ignore[arg-type]
        with writer:
            for kind, key in (("items", "images"), ("annotations", "annotations")):
                slices = _plan(doc, where, layout, key, chunk)
                jobs = [(kind, rpath, a, b, first) for a, b, first in slices]
                results = _run(jobs, workers if fast and len(jobs) > 1 else 1, fast, ctx)
                for (a, b, first), got in zip(slices, results, strict=True):

                    def load(a: int = a, b: int = b, key: str = key) -> list[Any]:
                        if a < 0:
                            return list(doc[key])
                        return _scan.parse_slice(_scan.read_range(f, a, b))

                    result.fast_records += _write_slice(
                        writer, kind, got, load, first, ctx, embed, result
                    )
            top = top_level(doc, order)
            finish_manifest(result.manifest, top, lset, embed)
            result.manifest = writer.close(result.manifest)
        result.issues = ctx.issues
        return result


def _plan(
    doc: dict[str, Any],
    where: dict[str, tuple[int, int]],
    layout: _scan.Layout,
    key: str,
    chunk: int,
) -> list[tuple[int, int, int]]:
    """A section's slices; `(-1, -1, 0)` for a small section already parsed in `doc`."""
    if key in where:
        start = where[key][0]
        return _scan.plan(start, layout.ends[start], chunk)
    return [(-1, -1, 0)] if isinstance(doc.get(key), list) else []


# Worker state: set in the parent before the pool forks, so children inherit it for free.
_SHARED: dict[str, Any] = {}


def _work(job: tuple[str, str, int, int, int]) -> Any:
    """Parse one slice and build its Arrow batch (in a worker process, or inline)."""
    kind, path, a, b, first = job
    if a < 0:  # a small section, parsed with the top level: read through the models
        return None
    with open(path, "rb") as f:
        records = _scan.parse_slice(_scan.read_range(f, a, b))
    if kind == "items":
        keys: dict[Any, str] = {}
        sizes: dict[str, tuple[int, int]] = {}
        got = _fast.images_batch(records, first, keys, sizes)
        return None if got is None else (*got, (keys, sizes))
    seen: set[str] = set()
    got = _fast.annotations_batch(
        records, first, _SHARED["image_keys"], _SHARED["sizes"], _SHARED["labels"], seen
    )
    return None if got is None else (*got, seen)


def _run(
    jobs: list[tuple[str, str, int, int, int]], workers: int, fast: bool, ctx: _Ctx
) -> Iterator[Any]:
    """Results of `_work` in job order, through a forked pool (bounded in flight) or inline."""
    if not fast:
        yield from (None for _ in jobs)
        return
    _SHARED.update(image_keys=ctx.image_keys, sizes=ctx.sizes, labels=ctx.labels)
    if workers <= 1:
        yield from (_work(job) for job in jobs)
        return
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    from ..._orphans import die_with_parent, stop_pool

    # Workers share the caller's stdout/stderr: they must not outlive this process (a killed
    # `gt convert` would leave them holding a CI step's pipes open), and an interrupted
    # conversion stops them at once instead of waiting for their slices.
    pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"),
                               initializer=die_with_parent, initargs=(os.getpid(),))
    try:
        pending: deque[Any] = deque()
        todo = iter(jobs)
        # The first submit forks the workers. An interrupt that lands in the fork handlers
        # would be swallowed there ("Exception ignored"), so it is held until they are done.
        with held_signals():
            for job in todo:
                pending.append(pool.submit(_work, job))
                if len(pending) >= 2 * workers:
                    break
        while pending:
            yield pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(_work, nxt))
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown()


def _write_slice(
    writer: _BatchWriter,
    kind: str,
    got: Any,
    load: Callable[[], list[Any]],
    first: int,
    ctx: _Ctx,
    embed: bool,
    result: StreamResult,
) -> int:
    """Write one slice: its fast batch if it has one that fits, else through the models."""
    if got is not None:
        batch, digests, extra = got
        if kind == "items":
            keys, sizes = extra
            if keys.keys().isdisjoint(ctx.image_keys):
                ctx.image_keys.update(keys)
                ctx.sizes.update(sizes)
                writer.write_batch("items", batch, digests)
                result.items += batch.num_rows
                return int(batch.num_rows)
        elif extra.isdisjoint(ctx.ann_ids):
            ctx.ann_ids.update(extra)
            writer.write_batch("annotations", batch, digests)
            result.annotations += batch.num_rows
            return int(batch.num_rows)
        # A clash with an earlier slice (duplicate ids): read this one through the models.
    records = load()
    if kind == "items":
        _read_images(records, ctx, embed, first)
        writer.write_all(ctx.items.values())
        result.items += len(ctx.items)
        ctx.items.clear()
        return 0
    for k, rec in enumerate(records, first):
        _read_annotation(rec, k, ctx, results=False, annotator=None, embed=embed)
    writer.write_all(ctx.annotations)
    result.annotations += len(ctx.annotations)
    ctx.annotations.clear()
    return 0


def _first_is_panoptic(
    f: IO[bytes], doc: dict[str, Any], where: dict[str, tuple[int, int]], layout: _scan.Layout
) -> bool:
    anns = doc.get("annotations")
    if isinstance(anns, list):
        return bool(anns) and isinstance(anns[0], dict) and "segments_info" in anns[0]
    if "annotations" not in where:
        return False
    start = where["annotations"][0]
    ends = layout.ends.get(start)
    if ends is None or not ends.size:
        return False
    first = orjson.loads(b"[" + _scan.read_range(f, start + 1, int(ends[0])) + b"]")
    return bool(first) and isinstance(first[0], dict) and "segments_info" in first[0]


def _slices(
    f: IO[bytes], span: tuple[int, int], layout: _scan.Layout, chunk: int
) -> Iterator[list[tuple[Any, int]]]:
    start = span[0]
    k = 0
    for part in _scan.iter_elements(f, start, layout.ends[start], chunk=chunk):
        yield [(x, k + i) for i, x in enumerate(part)]
        k += len(part)


# -- native -> COCO ------------------------------------------------------------------------------
_DEFAULTS: dict[type[AnnotationBase], dict[str, Any]] = {
    cls: {
        name: f.get_default(call_default_factory=True)
        for name, f in cls.model_fields.items()
        if not f.is_required()
    }
    for cls in ANNOTATION_TYPES.values()
}


def _construct(data: dict[str, Any]) -> AnnotationBase:
    """A model from a record read from a native dataset (already validated when written).

    Every field is passed (defaults filled in here): pydantic's `model_construct` is slow at
    resolving default factories itself.
    """
    cls = ANNOTATION_TYPES[data["type"]]
    fields = {**_DEFAULTS[cls], **data}
    if isinstance(fields.get("rle"), dict):
        fields["rle"] = Rle.model_construct(**fields["rle"])
    if isinstance(fields.get("guideline"), dict):
        fields["guideline"] = GuidelineRef.model_construct(**fields["guideline"])
    if isinstance(fields.get("consensus"), dict):
        fields["consensus"] = ConsensusInfo.model_validate(fields["consensus"], strict=False)
    return cls.model_construct(**fields)


_JSON_COLUMNS = ("extensions", "attributes")


def _rings(column: pa.Array) -> list[Any]:
    """A `list<list<double>>` column as per-row lists of numpy views (no Python float each).

    orjson writes numpy float64 exactly as it writes Python floats (OPT_SERIALIZE_NUMPY).
    """
    outer = column.offsets.to_numpy()
    inner_array = column.values
    inner = inner_array.offsets.to_numpy()
    flat = inner_array.values.to_numpy(zero_copy_only=False)
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    out: list[Any] = []
    for r in range(len(column)):
        if not valid[r]:
            out.append(None)
            continue
        out.append([flat[inner[j] : inner[j + 1]] for j in range(outer[r], outer[r + 1])])
    return out


def _iter_dicts(source: Any, kind: str, numpy_rings: bool = False) -> Iterator[dict[str, Any]]:
    """Records of a native dataset as JSON-shaped dicts, column by column for Parquet parts.

    `numpy_rings`: polygons as lists of numpy arrays (for writing, not for models).
    """

    for part in source.parts_of(kind):
        if not part.path.endswith(".parquet"):
            for d, *_ in iter_part_dicts(source, part):
                yield d
            continue
        with parquet_part(source, part) as pf:  # hashed and counted against the manifest
            for batch in pf.iter_batches(batch_size=16384):
                cols: list[tuple[str, list[Any]]] = []
                for name, column in zip(batch.schema.names, batch.columns, strict=True):
                    if column.null_count == len(column):
                        continue
                    if name == "polygon" and numpy_rings:
                        values = _rings(column)
                        cols.append((name, values))
                        continue
                    values = column.to_pylist()
                    if name in _JSON_COLUMNS:
                        values = [None if v is None else orjson.loads(v) for v in values]
                    elif name == "rle":
                        values = [
                            None
                            if v is None
                            else {
                                "size": v["size"],
                                "counts": v["compressed"]
                                if v.get("compressed") is not None
                                else v["counts"],
                            }
                            for v in values
                        ]
                    cols.append((name, values))
                for i in range(batch.num_rows):
                    yield {name: values[i] for name, values in cols if values[i] is not None}


def native_to_coco(
    src: PathLike,
    dst: PathLike,
    *,
    category_ids: Any = "preserve",
    embed: bool = False,
    overwrite: bool = False,
    fs: AbstractFileSystem | None = None,
) -> ConversionReport:
    """Write a native dataset as one COCO object file, streaming its parts.

    Annotations are written in the dataset's stored order, a keypoints annotation joined with
    its `-segmentation` part when they are stored next to each other in one item's run.
    """
    from ...errors import DatasetExistsError

    source = open_native(src, fs=fs)
    manifest = source.manifest
    wfs, wpath = resolve(dst)
    if wfs.exists(wpath) and not overwrite:
        raise DatasetExistsError(
            f"{dst} already exists", hint="choose another destination or pass --overwrite"
        )
    if manifest.extensions.get(NS, {}).get("kind") in ("results", "panoptic"):
        # Results and panoptic files are small: write them through the in-memory path.
        from ...api import load
        from . import CocoConverter

        ds = load(src, format="groundtruth", fs=fs)
        return CocoConverter().write(
            ds, wpath, fs=wfs, category_ids=category_ids, embed=embed, overwrite=overwrite
        )
    out = _Out()
    items = [
        Item.model_validate(d, strict=False)
        for part in source.parts_of("items")
        for d, *_ in iter_part_dicts(source, part)
    ]
    images = _source_order([it for it in items if it.kind == "image"])
    image_ids = _assign_ids([(it.id, it.extensions.get(NS, {})) for it in images], "images", out)
    sizes = {
        it.id: (it.height, it.width)
        for it in images
        if it.height is not None and it.width is not None
    }
    from ...dataset import Dataset

    shell = Dataset(manifest, images, [])
    lset = _label_set(shell, None)
    cats = category_map(shell, category_ids, lset)
    ctx = _WCtx(shell, out, cats, image_ids, sizes, embed, False)
    top = dict(manifest.extensions.get(NS, {}))
    top.pop("kind", None)
    keys = list(top.pop("keys", _TOP_ORDER))
    if "categories" in keys and cats:
        ctx.caption_category = 0 if 0 not in cats.values() else -1
    _manifest_loss(shell, out, embed, False)
    image_set = set(image_ids)

    def annotations() -> Iterator[dict[str, Any]]:
        run: list[AnnotationBase] = []
        used: set[Any] = set()
        counter = [_max_numeric_id(source) + 1]
        for d in _iter_dicts(source, "annotations", numpy_rings=True):
            rec = _plain_record(d, ctx, used) if not embed else None
            if rec is not None:
                if run:
                    yield from _emit(run, ctx, image_set, used, counter)
                    run = []
                yield rec
                continue
            if d.get("polygon") is not None:
                d["polygon"] = [r if isinstance(r, list) else r.tolist() for r in d["polygon"]]
            ann = _construct(d)
            if run and ann.item_id != run[0].item_id:
                yield from _emit(run, ctx, image_set, used, counter)
                run = []
            run.append(ann)
        yield from _emit(run, ctx, image_set, used, counter)

    sections: dict[str, Any] = {}
    for key in keys:
        if key == "images":
            sections[key] = _images(images, ctx)
        elif key == "annotations":
            sections[key] = annotations()
        elif key == "categories":
            sections[key] = _categories(lset, cats, out, embed)
        elif key in top:
            sections[key] = top[key]
        elif key == "info":
            sections[key] = {
                "description": manifest.description or manifest.name,
                "version": manifest.version or "",
            }
        elif key == "licenses":
            sections[key] = []
    with atomic_write(wfs, wpath, overwrite=overwrite) as f:
        f.write(b"{")
        for i, (key, value) in enumerate(sections.items()):
            f.write((b"," if i else b"") + orjson.dumps(key) + b":")
            if isinstance(value, Iterator):
                _write_array(f, value)
            else:
                f.write(orjson.dumps(value))
        f.write(b"}\n")
    report = ConversionReport(format="coco", outputs=[str(dst)], issues=out.issues)
    report.details = {
        "kind": "instances",
        "category_ids": cats,
        "category_id_policy": category_ids if isinstance(category_ids, str) else "map",
    }
    return report


_PLAIN_KEYS = frozenset(
    ("id", "item_id", "type", "label", "extensions", "bbox", "polygon", "rle", "holes")
)
_PLAIN_EXT = frozenset(("area", "iscrowd", "@index", "segmentation"))


def _plain_record(d: dict[str, Any], ctx: _WCtx, used: set[Any]) -> dict[str, Any] | None:
    """The COCO record of a plain polygon/mask/box read from COCO, without building a model.

    Plain: only geometry, label and COCO extension keys (`area`, `iscrowd`, order), an integer
    id not used before, a known image and label. Anything else goes through the models.
    """
    kind = d.get("type")
    if kind not in ("polygon", "mask", "bbox") or not d.keys() <= _PLAIN_KEYS or d.get("holes"):
        return None
    exts = d.get("extensions")
    if not isinstance(exts, dict) or exts.keys() != {NS}:
        return None
    ext = exts[NS]
    if not ext.keys() <= _PLAIN_EXT or "area" not in ext or "iscrowd" not in ext:
        return None
    text = d["id"]
    label = d.get("label")
    if (
        not (text.isascii() and text.isdigit())
        or text[0] == "0"
        or label not in ctx.cats
        or d["item_id"] not in ctx.image_ids
        or "bbox" not in d
    ):
        return None
    coco_id = int(text)
    if coco_id in used:
        return None
    if kind == "polygon":
        seg: Any = d.get("polygon")
    elif kind == "mask":
        rle = d.get("rle")
        if not isinstance(rle, dict) or "segmentation_extra" in ext:
            return None
        seg = {"size": rle["size"], "counts": rle["counts"]}
    else:
        if ext.get("segmentation") != []:
            return None
        seg = []
    if seg is None:
        return None
    used.add(coco_id)
    return {
        "id": coco_id,
        "image_id": ctx.image_ids[d["item_id"]],
        "category_id": ctx.cats[label],
        "segmentation": seg,
        "area": ext["area"],
        "bbox": d["bbox"],
        "iscrowd": ext["iscrowd"],
    }


def _max_numeric_id(source: Any) -> int:
    """The largest integer annotation id, from the `id` column only (new ids go after it)."""
    import pyarrow.compute as pc

    best = 0
    for part in source.parts_of("annotations"):
        if part.path.endswith(".parquet"):
            with parquet_part(source, part) as pf:
                col = pf.read(columns=["id"]).column(0)
        else:
            col = pa.chunked_array(
                [
                    pa.array(
                        [d.get("id", "") for d, *_ in iter_part_dicts(source, part)], pa.string()
                    )
                ]
            )
        digits = pc.filter(col, pc.match_substring_regex(col, "^[1-9][0-9]{0,17}$"))
        if len(digits):
            best = max(best, pc.max(pc.cast(digits, pa.int64())).as_py())
    return best


def _emit(
    run: list[AnnotationBase], ctx: _WCtx, image_set: set[str], used: set[Any], counter: list[int]
) -> Iterator[dict[str, Any]]:
    """One item's annotations as COCO records (parts joined to their keypoints)."""
    if not run:
        return
    if run[0].item_id not in image_set:
        for a in run:
            ctx.out.lose(
                C.LOST_ANNOTATION,
                f"annotation of item {a.item_id!r}, which is not "
                "written (not an image, or unknown)",
                a.id,
            )
        return
    ids = {a.id for a in run}
    parts = {
        a.extensions.get(NS, {}).get("part_of"): a
        for a in run
        if a.extensions.get(NS, {}).get("part_of") in ids
    }
    for a in run:
        if a.extensions.get(NS, {}).get("part_of") in ids:
            continue
        ext = a.extensions.get(NS, {})
        if "id" in ext:
            coco_id = ext["id"]
        elif a.id.isascii() and a.id.isdigit() and str(int(a.id)) == a.id:
            coco_id = int(a.id)
        else:
            coco_id = counter[0]
            counter[0] += 1
            ctx.out.renumbered["annotations"] += 1
        used.add(coco_id)
        if not _exportable(a):
            ctx.out.lose(
                C.LOST_ANNOTATION, f"{getattr(a, 'type', '?')} annotations have no COCO form", a.id
            )
            continue
        rec = _annotation(a, parts.get(a.id), coco_id, ctx)
        if rec is not None:
            yield rec
