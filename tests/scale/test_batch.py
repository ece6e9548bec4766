"""Batch functions of a pyarrow.RecordBatch agree with the record-by-record results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import groundtruth as gt
from groundtruth import batch as B
from groundtruth.engine.synthetic import make_dataset
from groundtruth.fingerprint import Fingerprinter
from groundtruth.io import _arrow
from groundtruth.models import annotation_adapter
from tests.helpers import all_examples


def _tricky() -> gt.Dataset:
    """Every example of the spec (every item kind and annotation type) plus edge values."""
    ds = all_examples()
    item = ds.items[0].id
    extra = [
        {"id": "x-nan", "item_id": item, "type": "rating", "value": float("nan")},
        {"id": "x-inf", "item_id": item, "type": "rating", "value": float("inf"),
         "confidence": 0.5},
        {"id": "x-us", "item_id": item, "type": "classification", "label": "a",
         "created": datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)},
        {"id": "x-ms", "item_id": item, "type": "classification", "label": "a",
         "created": datetime(1969, 12, 31, 23, 59, 59, 123000, tzinfo=UTC)},
        {"id": "x-tz", "item_id": item, "type": "classification", "label": "a",
         "created": datetime(2025, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))},
        {"id": "x-null-in-json", "item_id": item, "type": "classification", "label": "b",
         "attributes": {"a": None, "b": [1, None], "c": {}}, "guideline": {"id": "g"}},
        {"id": "x-rle", "item_id": item, "type": "mask",
         "rle": {"size": [2, 2], "counts": "04"}},
    ]
    ds.annotations += [annotation_adapter.validate_python(d) for d in extra]
    return ds


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[gt.Dataset, str]:
    ds = _tricky()
    url = str(tmp_path_factory.mktemp("batch") / "ds")
    gt.save(ds, url, encoding="parquet", rows_per_part=7)
    return ds, url


def _tables(url: str, kind: str) -> list[pa.Table]:
    return [pq.read_table(p) for p in sorted(Path(url, kind).glob("*.parquet"))]


@pytest.mark.parametrize("kind", ["items", "annotations"])
def test_canonical_form_equals_the_models(saved: tuple[gt.Dataset, str], kind: str) -> None:
    _, url = saved
    checked = 0
    for table in _tables(url, kind):
        table = _arrow.conform(table, kind)
        for batch in table.to_batches():
            for data, record in zip(B.canonical_dicts(batch, kind),
                                    B.records_batch(batch, kind), strict=True):
                # compared as canonical bytes: NaN != NaN as a Python value
                assert B.canonical_bytes(data) == B.canonical_bytes(record.to_json_dict()), \
                    record.id
                checked += 1
    assert checked >= (8 if kind == "items" else 20)


def test_fingerprint_of_batches(saved: tuple[gt.Dataset, str]) -> None:
    ds, url = saved
    total = Fingerprinter()
    for kind in ("items", "annotations"):
        for table in _tables(url, kind):
            total.merge(B.fingerprint_batch(_arrow.conform(table, kind), kind))
    loaded = gt.load(url)
    assert total.hexdigest(loaded.manifest) == loaded.fingerprint()
    assert total.counts == {"items": len(ds.items), "annotations": len(ds.annotations)}


def test_fingerprint_independent_of_batching() -> None:
    ds = make_dataset(30, 300)
    batch = _arrow.records_to_batch(ds.annotations, "annotations")
    whole = B.fingerprint_batch(batch)
    pieces = Fingerprinter()
    for offset in range(0, 300, 17):
        pieces.merge(B.fingerprint_batch(batch.slice(offset, 17)))
    assert whole == pieces
    changed = list(ds.annotations)
    changed[5] = changed[5].model_copy(update={"label": "other"})
    assert B.fingerprint_batch(_arrow.records_to_batch(changed, "annotations")) != whole


def test_stats_batch_merges_to_dataset_stats() -> None:
    ds = make_dataset(40, 500)
    ib = _arrow.records_to_batch(ds.items, "items")
    ab = _arrow.records_to_batch(ds.annotations, "annotations")
    total = B.empty_stats()
    for b in (ib, ab.slice(0, 123), ab.slice(123)):
        total = B.merge_stats(total, B.stats_batch(b))
    assert total == ds.stats()


def test_validate_batch_locates_rows() -> None:
    rows = [
        {"id": "a", "item_id": "i", "type": "bbox", "bbox": [1.0, 2.0, 3.0, 4.0]},
        {"id": "b", "item_id": "i", "type": "span", "start": -3, "end": 2},
        {"id": "c", "item_id": "i", "type": "rating"},
    ]
    batch = pa.RecordBatch.from_pylist(rows, schema=_arrow.ANNOTATION_SCHEMA)
    issues = B.validate_batch(batch, file="p.parquet", first_row=100)
    found = {(i.code, i.location.row, i.location.record_id) for i in issues}
    assert ("structure.invalid-value", 101, "b") in found
    assert ("structure.missing-field", 102, "c") in found
    assert all(i.location.row != 100 for i in issues)


def test_training_rows() -> None:
    ds = make_dataset(10, 60)
    batch = _arrow.records_to_batch(ds.annotations, "annotations")
    index = B.label_indices(["person", "car"])
    table = B.training_rows(batch, index)
    assert table.num_rows == 60
    for label, class_id in zip(table.column("label").to_pylist(),
                               table.column("class_id").to_pylist(), strict=True):
        assert class_id == index.get(label, -1)
