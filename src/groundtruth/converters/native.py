"""The native format as a converter, so `--from/--to groundtruth` goes through the registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from ..dataset import Dataset
from ..errors import UnknownOptionError
from ..io._finite import non_finite_issues
from ..io._native import MANIFEST, DatasetWriter, iter_native_records, open_native
from ..models import AnnotationBase, Item
from ._base import ConversionReport
from ._options import OptionSpec, check_options

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem


_WRITE_OPTIONS: OptionSpec = {"encoding": str, "rows_per_part": int, "batch_size": int}


class NativeConverter:
    write_options: ClassVar[OptionSpec] = _WRITE_OPTIONS
    name: ClassVar[str] = "groundtruth"
    description: ClassVar[str] = "groundtruth native dataset (folder or .zip; JSONL or Parquet)"
    extensions: ClassVar[tuple[str, ...]] = ("", ".zip")

    def detect(self, head: bytes, path: str) -> float:
        if path.rstrip("/").endswith(MANIFEST):
            return 1.0
        if head.startswith(b"PK") and path.endswith(".zip"):
            return 0.5
        return 0.0

    def read(self, path: str, *, fs: AbstractFileSystem | None = None, **options: Any) -> Dataset:
        storage_options = options.pop("storage_options", None)
        verify = options.pop("verify", None)
        max_member_bytes = options.pop("max_member_bytes", None)
        if options:
            raise UnknownOptionError(f"unknown option(s) for groundtruth: {', '.join(options)}")
        src = open_native(path, fs=fs, storage_options=storage_options, verify=verify,
                          max_member_bytes=max_member_bytes)
        items: list[Item] = []
        annotations: list[AnnotationBase] = []
        for record in iter_native_records(src):
            if isinstance(record, Item):
                items.append(record)
            else:
                annotations.append(record)
        # Parquet can hold NaN/Infinity, which the spec (and JSON) cannot: say where, rather
        # than let a JSONL or foreign write turn them into null silently.
        issues = [*src.issues, *non_finite_issues(src.fs, src.root, src.parts, src.url)]
        return Dataset(src.manifest, items, annotations, issues=issues, source=src.url,
                       source_format="groundtruth")

    def write(
        self, dataset: Dataset, path: str, *, fs: AbstractFileSystem | None = None,
        **options: Any,
    ) -> ConversionReport:
        check_options(self.name, options, _WRITE_OPTIONS, direction="writing")
        writer = DatasetWriter(path, fs=fs, **options)
        with writer:
            writer.write_all(sorted_records(dataset))
            manifest = writer.close(dataset.manifest)
        report = ConversionReport(format=self.name, outputs=[str(path)])
        report.details = {"fingerprint": manifest.fingerprint, "encoding": manifest.encoding,
                          "parts": len(manifest.parts)}
        return report


def sorted_records(dataset: Dataset) -> list[Any]:
    """The dataset's records in canonical order, without reordering the dataset itself."""
    from ..dataset import natural_key

    items = sorted(dataset.items, key=lambda it: natural_key(it.id))
    anns = sorted(dataset.annotations, key=lambda a: (natural_key(a.item_id), natural_key(a.id)))
    return [*items, *anns]
