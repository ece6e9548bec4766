"""CVAT XML in and out: CVAT for images 1.1 and CVAT for video 1.1.

See converters/cvat/MAPPING.md for the mapping field by field.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ...dataset import Dataset
from ...errors import DatasetExistsError
from ...io import atomic_write, resolve
from ...issues import Issue
from ...models import Item
from .._base import ConversionReport
from .._options import Option, OptionSpec, check_options
from ._read import Ctx, build_manifest, frames_issue, iter_cvat
from ._write import WCtx, write_document

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from ...models import Manifest

__all__ = ["CvatConverter"]

READ_OPTIONS: OptionSpec = {
    "name": Option(str, None, "the dataset name (default: the file name)"),
    "label_set": Option(str, "cvat", "the label set of the labels in <meta>"),
    "frames": Option(str, "all", "all: every frame of an interpolated track; keyframes: only "
                     "the keyframes", choices=("all", "keyframes")),
}
WRITE_OPTIONS: OptionSpec = {
    "layout": Option(str, None, "images or video (default: video when the dataset has a "
                     "video item)", choices=("images", "video")),
    "label_set": Option(str, None, "the label set written to <meta> (default: all)"),
}


@dataclass
class StreamResult:
    manifest: Manifest
    issues: list[Issue] = field(default_factory=list)
    items: int = 0
    annotations: int = 0


class CvatConverter:
    """CVAT for images 1.1 and CVAT for video 1.1 XML (one file)."""

    name: ClassVar[str] = "cvat"
    description: ClassVar[str] = "CVAT XML 1.1: CVAT for images and CVAT for video (tracks)"
    extensions: ClassVar[tuple[str, ...]] = (".xml",)
    # the options `-o` (reading) and `-w` (writing) take: type, default, help (`gt formats`)
    read_options: ClassVar[OptionSpec] = READ_OPTIONS
    write_options: ClassVar[OptionSpec] = WRITE_OPTIONS

    def detect(self, head: bytes, path: str) -> float:
        if not path.lower().endswith(".xml"):
            return 0.0
        start = head.lstrip()[:4096]
        if b"<annotations" in start and (b"<version>1.1" in start or b"<meta" in start
                                         or b"<image" in start or b"<track" in start):
            return 0.9
        return 0.0

    def _ctx(self, path: str, options: dict[str, Any]) -> Ctx:
        check_options(self.name, options, READ_OPTIONS)
        frames = options.get("frames") or "all"
        return Ctx(file=path, label_set=options.get("label_set") or "cvat", frames=frames)

    def read(self, path: str, *, fs: AbstractFileSystem | None = None, **options: Any) -> Dataset:
        """Read one CVAT XML file. Options: `name`, `label_set` (default `cvat`), `frames`
        (`all`: every frame of a track, as CVAT dumps them; `keyframes`: keyframes only)."""
        ctx = self._ctx(path, options)
        filesystem, p = resolve(path, fs=fs, storage_options=options.get("storage_options"))
        items: list[Item] = []
        anns: list[Any] = []
        with filesystem.open(p, "rb") as f:
            for record in iter_cvat(f, ctx):
                if isinstance(record, Item):
                    items.append(record)
                else:
                    anns.append(record)
        frames_issue(ctx)
        stem = posixpath.splitext(posixpath.basename(p))[0]
        return Dataset(build_manifest(ctx, options.get("name") or stem), items, anns,
                       issues=ctx.issues, source=path, source_format=self.name)

    def stream_to_native(
        self, path: str, dst: str, *, encoding: str = "parquet", overwrite: bool = False,
        **options: Any,
    ) -> StreamResult:
        """Convert to a native dataset one image or track at a time (bounded memory)."""
        from ...io import DatasetWriter

        ctx = self._ctx(path, options)
        filesystem, p = resolve(path, storage_options=options.get("storage_options"))
        stem = posixpath.splitext(posixpath.basename(p))[0]
        result = StreamResult(manifest=build_manifest(ctx, stem))
        writer = DatasetWriter(dst, encoding=encoding, overwrite=overwrite)  # type: ignore[arg-type]
        with writer, filesystem.open(p, "rb") as f:
            for record in iter_cvat(f, ctx):
                writer.write(record)
                if isinstance(record, Item):
                    result.items += 1
                else:
                    result.annotations += 1
            frames_issue(ctx)
            result.manifest = writer.close(build_manifest(ctx, options.get("name") or stem))
        result.issues = ctx.issues
        return result

    def write(
        self, dataset: Dataset, path: str, *, fs: AbstractFileSystem | None = None,
        **options: Any,
    ) -> ConversionReport:
        """Write one CVAT XML file. Options: `layout` (`images` or `video`; default: video
        when the dataset has a video item), `label_set`."""
        check_options(self.name, options, WRITE_OPTIONS, direction="writing")
        layout = options.get("layout") or (
            "video" if any(it.kind == "video" for it in dataset.items) else "images")
        filesystem, p = resolve(path, fs=fs, storage_options=options.get("storage_options"))
        if filesystem.exists(p) and not options.get("overwrite"):
            raise DatasetExistsError(
                f"{path} already exists", hint="choose another destination or pass --overwrite"
            )
        sets = dataset.manifest.taxonomy.label_sets
        wanted = options.get("label_set")
        chosen = [s for s in sets if s.name == wanted] if wanted else sets
        labels = []
        seen: set[str] = set()
        for s in chosen:
            for lab in s.labels:
                if lab.name not in seen:
                    seen.add(lab.name)
                    labels.append(lab)
        w = WCtx(dataset, labels, layout == "video",
                 label_by_name={lab.name: lab for lab in labels})
        with atomic_write(filesystem, p, overwrite=bool(options.get("overwrite"))) as f:
            details = write_document(f, w)
        return ConversionReport(format=self.name, outputs=[str(path)], issues=w.issues,
                                details=details)
