"""The core's native datasets through a real S3 protocol endpoint (moto server + s3fs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import groundtruth as gt
from groundtruth.engine.synthetic import make_dataset
from groundtruth.errors import (
    DatasetExistsError,
    DatasetNotFoundError,
    GroundtruthError,
    IntegrityError,
)
from groundtruth.io import DatasetWriter, check_parts, open_native

pytestmark = pytest.mark.s3


@pytest.fixture(scope="module")
def dataset() -> gt.Dataset:
    return make_dataset(60, 400)


@pytest.mark.parametrize("encoding", ["jsonl", "parquet"])
def test_save_load_roundtrip(dataset: gt.Dataset, s3_bucket: str, s3_options: dict[str, Any],
                             tmp_path: Path, encoding: str) -> None:
    url = f"{s3_bucket}/ds"
    gt.save(dataset, url, encoding=encoding, storage_options=s3_options, rows_per_part=150)
    gt.save(dataset, tmp_path / "local", encoding=encoding, rows_per_part=150)
    back = gt.load(url, storage_options=s3_options)
    local = gt.load(tmp_path / "local")
    assert back.fingerprint() == local.fingerprint() == dataset.fingerprint()
    manifest = gt.read_manifest(url, storage_options=s3_options)
    assert manifest.fingerprint == dataset.fingerprint()
    assert manifest.encoding == encoding
    assert len(manifest.parts) > 2  # really sharded
    assert [r.id for r in gt.iter_records(url, kinds=("items",), storage_options=s3_options)] \
        == [r.id for r in local.items]


def test_overwrite(dataset: gt.Dataset, s3_bucket: str, s3_options: dict[str, Any]) -> None:
    url = f"{s3_bucket}/ds"
    gt.save(dataset, url, encoding="parquet", storage_options=s3_options)
    with pytest.raises(DatasetExistsError):
        gt.save(dataset, url, encoding="parquet", storage_options=s3_options)
    smaller = make_dataset(10, 30, seed=3)
    gt.save(smaller, url, encoding="jsonl", storage_options=s3_options, overwrite=True)
    back = gt.load(url, storage_options=s3_options)
    assert back.fingerprint() == smaller.fingerprint()
    assert gt.read_manifest(url, storage_options=s3_options).encoding == "jsonl"


@pytest.mark.parametrize("existing", [False, True])
def test_failed_write_leaves_nothing_that_looks_complete(
        dataset: gt.Dataset, s3_bucket: str, s3_options: dict[str, Any], s3_fs: Any,
        existing: bool) -> None:
    url = f"{s3_bucket}/ds"
    if existing:
        gt.save(dataset, url, encoding="parquet", storage_options=s3_options)

    class Boom(RuntimeError):
        pass

    def write_then_fail() -> None:
        with DatasetWriter(url, encoding="parquet", storage_options=s3_options,
                           overwrite=existing, batch_size=50) as writer:
            writer.write_all(dataset.records())  # parts reach the bucket ...
            raise Boom  # ... but the manifest, written last, never does

    with pytest.raises(Boom):
        write_then_fail()
    assert not s3_fs.exists(f"{s3_bucket[5:]}/ds/groundtruth.json")
    with pytest.raises(DatasetNotFoundError):
        open_native(url, storage_options=s3_options)
    with pytest.raises(GroundtruthError):
        gt.load(url, storage_options=s3_options)


def _part(s3_options: dict[str, Any], url: str, kind: str = "annotations") -> str:
    src = open_native(url, storage_options=s3_options)
    part = src.parts_of(kind)[0]
    return f"{src.root}/{part.path}"


def test_deleted_part_is_an_integrity_error(dataset: gt.Dataset, s3_bucket: str,
                                            s3_options: dict[str, Any], s3_fs: Any) -> None:
    url = f"{s3_bucket}/ds"
    gt.save(dataset, url, encoding="parquet", storage_options=s3_options, rows_per_part=100)
    s3_fs.rm(_part(s3_options, url))
    with pytest.raises(IntegrityError) as err:
        gt.load(url, storage_options=s3_options)
    assert err.value.location is not None
    assert "annotations/part-00000.parquet" in (err.value.location.file or "")


@pytest.mark.parametrize("encoding", ["jsonl", "parquet"])
def test_truncated_part_is_an_integrity_error(dataset: gt.Dataset, s3_bucket: str,
                                              s3_options: dict[str, Any], s3_fs: Any,
                                              encoding: str) -> None:
    url = f"{s3_bucket}/ds"
    gt.save(dataset, url, encoding=encoding, storage_options=s3_options, rows_per_part=100)
    key = _part(s3_options, url)
    s3_fs.pipe(key, s3_fs.cat(key)[:-10])
    with pytest.raises(IntegrityError):
        gt.load(url, storage_options=s3_options)


def test_same_size_corruption_is_found_by_hash(dataset: gt.Dataset, s3_bucket: str,
                                               s3_options: dict[str, Any], s3_fs: Any) -> None:
    url = f"{s3_bucket}/ds"
    gt.save(dataset, url, encoding="jsonl", storage_options=s3_options, rows_per_part=100)
    key = _part(s3_options, url)
    data = s3_fs.cat(key)
    s3_fs.pipe(key, data.replace(b'"car"', b'"cat"'))  # same size, different content
    assert len(s3_fs.cat(key)) == len(data)
    assert s3_fs.cat(key) != data
    src = open_native(url, storage_options=s3_options)  # sizes match: opens
    assert list(check_parts(src)) == []
    found = list(check_parts(src, hashes=True))
    assert [i.code for i in found] == ["part.hash-mismatch"]
    assert found[0].location.file is not None
    assert found[0].location.file.endswith("annotations/part-00000.jsonl")
