"""Columnar fast path of `yolo_to_native` (Parquet): plain rows straight to Arrow batches.

Most YOLO records are plain: an image item, a labelled box or polygon. For those the reader
hands over the record's JSON-shaped dict instead of a pydantic model; its fingerprint digest is
taken from the canonical JSON of that dict (the bytes `record_digest` hashes for the model) and
its Arrow row built by `rows_to_batch`, as the model path would. Other records (keypoints,
oriented boxes, unlabelled rows, rows with a confidence, items with extensions) come as models
and are turned into the same dicts. Tested: the fingerprint equals the model path's.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ...fingerprint import canonical_bytes, record_digest
from ...io._arrow import rows_to_batch
from ...io._native import DatasetWriter
from ...models import AnnotationBase, Item
from ...models._base import compact
from ...models.item import compact_item


class RowWriter(DatasetWriter):
    """A Parquet DatasetWriter that takes JSON-shaped rows (dicts) as well as models."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rows: dict[str, list[dict[str, Any]]] = {"items": [], "annotations": []}

    def write_row(self, kind: str, row: dict[str, Any]) -> None:
        digest = int.from_bytes(hashlib.sha256(canonical_bytes(row)).digest(), "big")
        self.fingerprint.add_digest(kind, digest)
        self._append(kind, row)

    def write(self, record: Item | AnnotationBase) -> None:
        kind = "items" if isinstance(record, Item) else "annotations"
        self.fingerprint.add_digest(kind, record_digest(record))
        row = compact(record.model_dump(exclude_none=True))
        self._append(kind, compact_item(row) if kind == "items" else row)

    def _append(self, kind: str, row: dict[str, Any]) -> None:
        rows = self._rows[kind]
        rows.append(row)
        if len(rows) >= self.batch_size:
            self._flush_rows(kind)

    def _flush_rows(self, kind: str) -> None:
        rows = self._rows[kind]
        if not rows:
            return
        batch = rows_to_batch(rows, kind)
        rows.clear()
        self._write_arrow(kind, batch)

    def _flush(self, kind: str) -> None:
        self._flush_rows(kind)
        super()._flush(kind)
