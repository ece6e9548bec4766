"""Pascal VOC XML in and out: `Annotations/*.xml`, ImageSets lists, parts, actions, masks.

See converters/voc/MAPPING.md for the mapping field by field.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ...dataset import Dataset
from ...io import resolve
from ...issues import Issue
from ...models import Item
from .._base import ConversionReport
from .._options import Option, OptionSpec, check_options
from ._read import Ctx, build_manifest, find_layout, iter_voc
from ._write import write_voc

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from ...models import Manifest

__all__ = ["VocConverter"]

READ_OPTIONS: OptionSpec = {
    "name": Option(str, None, "the dataset name (default: the folder or file name)"),
    "label_set": Option(str, "voc", "the label set of the object classes"),
    "part_label_set": Option(str, "voc-parts", "the label set of person parts (head, hand...)"),
}
WRITE_OPTIONS: OptionSpec = {
    "label_set": Option(str, None, "the label set written as classes (default: every one but "
                        "the parts')"),
    "shape_boxes": Option(bool, False, "write polygons, masks, keypoints and polylines as "
                          "their box (reported) instead of leaving them out (reported)"),
}
_VOC_ROOT = re.compile(rb"<annotation[\s>]")


@dataclass
class StreamResult:
    manifest: Manifest
    issues: list[Issue] = field(default_factory=list)
    items: int = 0
    annotations: int = 0


class VocConverter:
    """Pascal VOC: a VOC folder (Annotations/, ImageSets/), a folder of XMLs or one XML."""

    name: ClassVar[str] = "voc"
    description: ClassVar[str] = "Pascal VOC XML: a VOC folder, a folder of .xml files, or one"
    extensions: ClassVar[tuple[str, ...]] = (".xml",)
    # the options `-o` (reading) and `-w` (writing) take: type, default, help (`gt formats`)
    read_options: ClassVar[OptionSpec] = READ_OPTIONS
    write_options: ClassVar[OptionSpec] = WRITE_OPTIONS

    def detect(self, head: bytes, path: str) -> float:
        if not path.lower().endswith(".xml"):
            return 0.0
        start = head.lstrip()[:4096]
        if _VOC_ROOT.search(start) and b"<annotations" not in start:
            return 0.8 if (b"<object" in head or b"<filename" in head) else 0.5
        return 0.0

    def detect_folder(self, fs: AbstractFileSystem, path: str) -> float:
        """A folder with `Annotations/*.xml`, or a folder of VOC `.xml` files."""
        ann = posixpath.join(path, "Annotations")
        if fs.isdir(ann):
            return 0.9
        for p in fs.ls(path, detail=False)[:50]:
            if str(p).lower().endswith(".xml"):
                with fs.open(p, "rb") as f:
                    return 0.7 if self.detect(f.read(4096), str(p)) else 0.0
        return 0.0

    def _ctx(self, display: str, options: dict[str, Any]) -> Ctx:
        check_options(self.name, options, READ_OPTIONS)
        return Ctx(file=display, label_set=options.get("label_set") or "voc",
                   part_set=options.get("part_label_set") or "voc-parts")

    def read(self, path: str, *, fs: AbstractFileSystem | None = None, **options: Any) -> Dataset:
        """Read VOC. Options: `name`, `label_set` (default `voc`), `part_label_set`
        (default `voc-parts`)."""
        ctx = self._ctx(path, options)
        filesystem, p = resolve(path, fs=fs, storage_options=options.get("storage_options"))
        layout = find_layout(filesystem, p)
        records = list(iter_voc(filesystem, p, ctx, layout))
        stem = posixpath.splitext(posixpath.basename(p.rstrip("/")))[0]
        items = [r for r in records if isinstance(r, Item)]
        anns = [r for r in records if not isinstance(r, Item)]
        return Dataset(build_manifest(ctx, options.get("name") or stem), items, anns,
                       issues=ctx.issues, source=path, source_format=self.name)

    def stream_to_native(
        self, path: str, dst: str, *, encoding: str = "parquet", overwrite: bool = False,
        **options: Any,
    ) -> StreamResult:
        """Convert to a native dataset one annotation file at a time (bounded memory)."""
        from ...io import DatasetWriter

        ctx = self._ctx(path, options)
        filesystem, p = resolve(path, storage_options=options.get("storage_options"))
        layout = find_layout(filesystem, p)
        result = StreamResult(manifest=build_manifest(ctx, "voc"))
        writer = DatasetWriter(dst, encoding=encoding, overwrite=overwrite)  # type: ignore[arg-type]
        with writer:
            for record in iter_voc(filesystem, p, ctx, layout):
                writer.write(record)
                if isinstance(record, Item):
                    result.items += 1
                else:
                    result.annotations += 1
            stem = posixpath.splitext(posixpath.basename(p.rstrip("/")))[0]
            result.manifest = writer.close(build_manifest(ctx, options.get("name") or stem))
        result.issues = ctx.issues
        return result

    def write(
        self, dataset: Dataset, path: str, *, fs: AbstractFileSystem | None = None,
        **options: Any,
    ) -> ConversionReport:
        """Write a VOC folder. Options: `label_set` (the classes; default: every label set but
        the parts'), `shape_boxes` (write polygons, masks, keypoints and polylines as their
        stated box or extent, reported; default: they are reported as not written)."""
        check_options(self.name, options, WRITE_OPTIONS, direction="writing")
        filesystem, p = resolve(path, fs=fs, storage_options=options.get("storage_options"))
        _, issues, details = write_voc(
            dataset, filesystem, p.rstrip("/"), overwrite=bool(options.get("overwrite")),
            label_set=options.get("label_set"),
            shape_boxes=bool(options.get("shape_boxes")),
        )
        return ConversionReport(format=self.name, outputs=[str(path)], issues=issues,
                                details=details)
