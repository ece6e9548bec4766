"""YOLO in and out: the Ultralytics layout (`data.yaml`) and the darknet one (`obj.data`), for
detection, segmentation, pose, oriented boxes and classification folders.

See converters/yolo/MAPPING.md for the mapping and docs/yolo.md for use.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ...io._fs import PathLike, resolve
from ...issues import Issue
from ...models import AnnotationBase, BBox, Manifest
from .._base import ConversionReport
from .._options import Option, OptionSpec, check_options
from . import _codes
from ._layout import folder_score
from ._read import TASKS, YoloReader, natural, read_all
from ._write import WRITE_OPTIONS, Choices, YoloWriter, infer_task

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from ...dataset import Dataset

__all__ = ["READ_OPTIONS", "TASKS", "WRITE_OPTIONS", "StreamResult", "YoloConverter", "native_to_yolo", "yolo_to_native"]

READ_OPTIONS: OptionSpec = {
    "name": Option(str, None, "the dataset name (default: the folder name)"),
    "label_set": Option(str, "classes", "the label set of the classes"),
    "task": Option(str, None, "the YOLO task (default: detected from the rows)",
                   choices=TASKS),
    "sizes": Option(str, None, "a JSON file of image sizes (default: image_sizes.json beside "
                    "the labels, else the images)"),
}


@dataclass
class StreamResult:
    """What `yolo_to_native` did: the manifest written and the reading issues."""

    manifest: Manifest
    issues: list[Issue] = field(default_factory=list)
    items: int = 0
    annotations: int = 0


def _reader(path: str, fs: AbstractFileSystem | None, options: dict[str, Any]) -> YoloReader:
    check_options("yolo", options, READ_OPTIONS)
    filesystem, p = resolve(path, fs=fs, storage_options=options.get("storage_options"))
    return YoloReader(filesystem, p, str(path), task=options.get("task"),
                      sizes=options.get("sizes"), name=options.get("name"),
                      label_set=options.get("label_set"))


def yolo_to_native(
    src: PathLike, dst: PathLike, *, encoding: str = "parquet", overwrite: bool = False,
    fs: AbstractFileSystem | None = None, **options: Any,
) -> StreamResult:
    """Convert a YOLO dataset to a native one, one image at a time (bounded memory)."""
    from ...io._native import DatasetWriter

    reader = _reader(str(src), fs, options)
    # Batches of 8192 records: what memory holds of the output, whatever the folder's size.
    if encoding == "parquet":
        from ._fast import RowWriter

        fast = RowWriter(dst, encoding="parquet", overwrite=overwrite, batch_size=8192)
        with fast:
            for record in reader.rows():
                if type(record) is tuple:
                    fast.write_row(*record)
                else:
                    fast.write(record)
            manifest = fast.close(reader.manifest)
        return StreamResult(manifest, reader.issues, reader.counts["items"],
                            reader.counts["annotations"])
    writer = DatasetWriter(dst, encoding=encoding, overwrite=overwrite,  # type: ignore[arg-type]
                           batch_size=8192)
    with writer:
        # Items and annotations go to separate parts, each in the order given.
        writer.write_all(reader.records())
        manifest = writer.close(reader.manifest)
    return StreamResult(manifest, reader.issues, reader.counts["items"],
                        reader.counts["annotations"])


class YoloConverter:
    """YOLO label folders: Ultralytics (`data.yaml`) and darknet (`obj.data`) layouts."""

    name: ClassVar[str] = "yolo"
    description: ClassVar[str] = (
        "YOLO (Ultralytics data.yaml, darknet obj.data): detect, segment, pose, obb, classify"
    )
    extensions: ClassVar[tuple[str, ...]] = ("", ".yaml", ".data")
    # the options `-o` (reading) and `-w` (writing) take: type, default, help (`gt formats`)
    read_options: ClassVar[OptionSpec] = READ_OPTIONS
    write_options: ClassVar[OptionSpec] = WRITE_OPTIONS

    def detect(self, head: bytes, path: str) -> float:
        base = path.rstrip("/").rsplit("/", 1)[-1]
        if base.endswith(".data") and re.search(rb"(?m)^\s*(names|train)\s*=", head):
            return 0.95
        if base.endswith((".yaml", ".yml")) and re.search(rb"(?m)^names\s*:", head):
            return 0.9
        return 0.0

    def detect_folder(self, fs: AbstractFileSystem, path: str) -> float:
        """How surely the folder `path` is a YOLO dataset."""
        return folder_score(fs, path)

    def stream_to_native(
        self, path: str, dst: str, *, encoding: str = "parquet", overwrite: bool = False,
        **options: Any,
    ) -> StreamResult:
        """Convert straight to a native dataset in bounded memory (`yolo_to_native`)."""
        return yolo_to_native(path, dst, encoding=encoding, overwrite=overwrite, **options)

    def stream_from_native(self, src: str, dst: str, *, overwrite: bool = False,
                           **options: Any) -> ConversionReport:
        """Write a native dataset as YOLO in bounded memory (`native_to_yolo`)."""
        from ._stream import native_to_yolo

        return native_to_yolo(src, dst, overwrite=overwrite, **options)

    def read(self, path: str, *, fs: AbstractFileSystem | None = None, **options: Any) -> Dataset:
        """Read a YOLO dataset (its folder, data.yaml or obj.data). Options: `task`
        (detect|segment|pose|obb|classify; detected when omitted), `sizes` (a JSON file of image
        sizes), `name`, `label_set` (default `classes`)."""
        from ...dataset import Dataset

        reader = _reader(path, fs, options)
        items, annotations = read_all(reader)
        return Dataset(reader.manifest, items, annotations, issues=reader.issues,
                       source=str(path), source_format=self.name)

    def write(
        self, dataset: Dataset, path: str, *, fs: AbstractFileSystem | None = None,
        **options: Any,
    ) -> ConversionReport:
        """Write a YOLO dataset folder. Options (see MAPPING.md#writing): `task`, `layout`
        (ultralytics|darknet|labels), `label_set`, `masks` (polygon|box|skip),
        `mask_tolerance` (px), `crowd` (skip|box|keep), `multipart` (merge|largest|split),
        `precision` (decimals), `confidence`, `kpt_dim`, `split`, `media_root`."""
        storage_options = options.pop("storage_options", None)
        choices = Choices.parse(options)
        filesystem, p = resolve(path, fs=fs, storage_options=storage_options)
        by_item: dict[str, list[AnnotationBase]] = {}
        types: Counter[str] = Counter()
        rotated = False
        used: set[str] = set()
        for ann in dataset.annotations:
            by_item.setdefault(ann.item_id, []).append(ann)
            types[str(getattr(ann, "type", ""))] += 1
            rotated = rotated or (isinstance(ann, BBox) and ann.rotation is not None)
            if ann.label is not None:
                used.add(ann.label)
        task = choices.task or infer_task(types, rotated, dataset.manifest)
        writer = YoloWriter(dataset.manifest, p, filesystem, choices, task=task,
                            used_labels=used, source=dataset.source, display=str(path))
        try:
            known = set()
            for item in sorted(dataset.items, key=lambda it: natural(it.id)):
                known.add(item.id)
                writer.add(item, by_item.get(item.id, []))
            for item_id, anns in by_item.items():
                if item_id not in known:
                    for ann in anns:
                        writer.loss.add(_codes.LOST_ANNOTATION, f"annotation of unknown item "
                                        f"{item_id!r}: left out", ann.id)
            outputs = writer.finish()
        except BaseException:
            writer.abort()
            raise
        return _report(writer, str(path), outputs)


def native_to_yolo(src: PathLike, dst: PathLike, **options: Any) -> ConversionReport:
    """A native dataset -> a YOLO folder in bounded memory (see `_stream.native_to_yolo`)."""
    from ._stream import native_to_yolo as stream

    return stream(src, dst, **options)


def _report(writer: YoloWriter, path: str, outputs: list[str]) -> ConversionReport:
    report = ConversionReport(format="yolo", outputs=[path], issues=writer.loss.issues,
                              totals=dict(writer.loss.totals))
    report.details = {
        "task": writer.task,
        "layout": writer.layout,
        "class_ids": {name: writer.class_ids[name] for name in writer.class_ids},
        "images": writer.counts["items"],
        "label_files": writer.counts["label_files"],
        "rows": writer.counts["rows"],
        "config": outputs,
    }
    if writer.task != "classify":
        report.details["media"] = ("label files only: put the images at the paths the splits "
                                   "name (images/<split>/... beside labels/<split>/...)")
    return report
