"""A native dataset -> a YOLO folder in bounded memory.

A label file needs all the annotations of its image, and a native dataset need not keep them
together (a COCO stream keeps COCO's annotation order). So one pass spreads items and
annotations over temporary buckets by a hash of the item id (about 20,000 annotations a
bucket), counting what the task default needs; then each bucket is read whole, grouped by item
and written. Memory holds one bucket, plus a few short strings per image (paths, sizes).
"""

from __future__ import annotations

import shutil
import tempfile
import zlib
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ...io._fs import PathLike, resolve
from ...io._native import iter_native_records, open_native
from ...models import AnnotationBase, BBox, Item, annotation_adapter
from . import _codes as C
from ._read import natural
from ._write import Choices, YoloWriter, infer_task

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from .._base import ConversionReport

BUCKET = 20_000
"""Annotations a bucket holds (on average)."""


def native_to_yolo(
    src: PathLike, dst: PathLike, *, fs: AbstractFileSystem | None = None,
    storage_options: dict[str, Any] | None = None, **options: Any,
) -> ConversionReport:
    """Write a native dataset as a YOLO folder, one bucket of images at a time (the same
    options and output as `YoloConverter.write`)."""
    from . import _report

    source = open_native(src, fs=fs, storage_options=storage_options)
    choices = Choices.parse(options)
    filesystem, path = resolve(dst, storage_options=storage_options)
    n_anns = sum(p.records for p in source.parts if p.kind == "annotations")
    buckets = max(1, n_anns // BUCKET)
    tmp = Path(tempfile.mkdtemp(prefix="gt-yolo-buckets-"))
    try:
        types: Counter[str] = Counter()
        rotated = False
        used: set[str] = set()
        files = {kind: [open(tmp / f"{kind}-{b}.jsonl", "wb") for b in range(buckets)]  # noqa: SIM115
                 for kind in ("items", "annotations")}
        try:
            for record in iter_native_records(source):
                if isinstance(record, Item):
                    kind, key = "items", record.id
                else:
                    kind, key = "annotations", record.item_id
                    types[str(getattr(record, "type", ""))] += 1
                    rotated = rotated or (isinstance(record, BBox) and record.rotation is not None)
                    if record.label is not None:
                        used.add(record.label)
                bucket = zlib.crc32(key.encode()) % buckets
                files[kind][bucket].write(orjson.dumps(record.to_json_dict()) + b"\n")
        finally:
            for handles in files.values():
                for h in handles:
                    h.close()
        task = choices.task or infer_task(types, rotated, source.manifest)
        writer = YoloWriter(source.manifest, path, filesystem, choices, task=task,
                            used_labels=used, source=source.url, display=str(dst))
        try:
            for b in range(buckets):
                by_item: dict[str, list[AnnotationBase]] = {}
                with open(tmp / f"annotations-{b}.jsonl", "rb") as f:
                    for line in f:
                        ann: AnnotationBase = annotation_adapter.validate_json(line)
                        by_item.setdefault(ann.item_id, []).append(ann)
                with open(tmp / f"items-{b}.jsonl", "rb") as f:
                    items = [Item.model_validate_json(line) for line in f]
                for item in sorted(items, key=lambda it: natural(it.id)):
                    writer.add(item, by_item.pop(item.id, []))
                for item_id, anns in by_item.items():
                    for a in anns:
                        writer.loss.add(C.LOST_ANNOTATION, f"annotation of unknown item "
                                        f"{item_id!r}: left out", a.id)
            outputs = writer.finish()
        except BaseException:
            writer.abort()
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report = _report(writer, str(dst), outputs)
    report.details["streamed"] = True
    return report
