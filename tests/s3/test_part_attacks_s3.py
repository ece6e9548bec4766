"""A dataset from a stranger in a bucket (issue 13): part paths that name another bucket or
leave the dataset are refused before any request is made for them; a tampered part is refused;
a write never creates a bucket; an overwrite leaves no stale parts behind."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

import groundtruth as gt
from groundtruth.engine.synthetic import make_dataset
from groundtruth.errors import DatasetNotFoundError, IntegrityError

pytestmark = pytest.mark.s3

ATTACKS = {
    "dotdot": "../outside/x.jsonl",
    "other-bucket-absolute": "/{other}/secret.jsonl",
    "other-bucket-url": "s3://{other}/secret.jsonl",
    "file-url": "file:///etc/hostname",
    "dotdot-to-other-bucket": "../../{other}/secret.jsonl",
}


@pytest.fixture(scope="module")
def dataset() -> gt.Dataset:
    return make_dataset(20, 120)


def _edit_manifest(fs: Any, url: str, edit: Any) -> dict[str, Any]:
    key = url.removeprefix("s3://") + "/groundtruth.json"
    manifest: dict[str, Any] = json.loads(fs.cat_file(key))
    edit(manifest)
    fs.pipe_file(key, json.dumps(manifest).encode())
    fs.invalidate_cache()
    return manifest


@pytest.mark.parametrize("template", list(ATTACKS.values()), ids=list(ATTACKS))
def test_part_path_leaving_the_dataset_is_refused_without_a_request(
        dataset: gt.Dataset, s3_bucket: str, s3_options: dict[str, Any], s3_fs: Any,
        s3_endpoint: Any, make_bucket: Any, template: str) -> None:
    other = make_bucket().removeprefix("s3://")
    s3_fs.pipe_file(f"{other}/secret.jsonl", b'{"id": "secret"}\n')
    url = f"{s3_bucket}/ds"
    gt.save(dataset, url, storage_options=s3_options)
    target = template.format(other=other)

    def point(m: dict[str, Any]) -> None:
        n = next(i for i, p in enumerate(m["parts"]) if p["kind"] == "annotations")
        m["parts"][n]["path"] = target

    _edit_manifest(s3_fs, url, point)
    s3_endpoint.tap.reset()
    with pytest.raises(IntegrityError) as err:
        gt.load(url, storage_options=s3_options)
    assert err.value.location is not None
    assert err.value.location.path is not None
    assert err.value.location.path.startswith("$.parts[")
    assert target in err.value.message
    # no request of any kind (HEAD, GET, LIST) touched the other bucket or left the dataset
    paths = [r.path for r in s3_endpoint.tap.requests]
    assert paths
    assert not [p for p in paths if other in p or "outside" in p], paths
    report = gt.validate(url, storage_options=s3_options)
    assert "part.path-unsafe" in [i.code for i in report.issues]


def test_tampered_part_in_a_bucket_is_refused(dataset: gt.Dataset, s3_bucket: str,
                                              s3_options: dict[str, Any], s3_fs: Any) -> None:
    url = f"{s3_bucket}/ds"
    gt.save(dataset, url, encoding="parquet", storage_options=s3_options)
    manifest = json.loads(s3_fs.cat_file(url.removeprefix("s3://") + "/groundtruth.json"))
    part = next(p for p in manifest["parts"] if p["kind"] == "annotations")
    key = url.removeprefix("s3://") + "/" + part["path"]
    data = bytearray(s3_fs.cat_file(key))
    _flip_a_value_byte(data)
    s3_fs.pipe_file(key, bytes(data))
    for call in (lambda: gt.load(url, storage_options=s3_options),
                 lambda: gt.stats(url, storage_options=s3_options),
                 lambda: list(gt.scan(url, storage_options=s3_options))):
        with pytest.raises(IntegrityError, match="does not match its hash"):
            call()
    assert gt.stats(url, storage_options=s3_options, verify=False)["annotations"] == 120


def test_unlisted_file_in_a_bucket_is_refused(dataset: gt.Dataset, s3_bucket: str,
                                              s3_options: dict[str, Any], s3_fs: Any) -> None:
    url = f"{s3_bucket}/ds"
    gt.save(dataset, url, encoding="parquet", storage_options=s3_options)
    root = url.removeprefix("s3://")
    s3_fs.pipe_file(f"{root}/annotations/part-00099.parquet", b"PAR1")
    s3_fs.invalidate_cache()
    with pytest.raises(IntegrityError, match=r"part-00099\.parquet"):
        gt.load(url, storage_options=s3_options)


@pytest.mark.parametrize("encoding", ["jsonl", "parquet"])
def test_write_to_a_missing_bucket_fails_and_creates_nothing(
        dataset: gt.Dataset, s3_endpoint: Any, s3_options: dict[str, Any], s3_fs: Any,
        encoding: str) -> None:
    bucket = f"gt-missing-{uuid.uuid4().hex[:10]}"
    with pytest.raises(DatasetNotFoundError, match=bucket) as err:
        gt.save(dataset, f"s3://{bucket}/ds", encoding=encoding, storage_options=s3_options)
    assert err.value.hint is not None
    assert "never creates buckets" in err.value.hint
    s3_fs.invalidate_cache()
    assert not s3_fs.exists(bucket)
    with pytest.raises(DatasetNotFoundError):
        gt.save(dataset, f"s3://{bucket}/out.json", format="coco",
                storage_options=s3_options)
    s3_fs.invalidate_cache()
    assert not s3_fs.exists(bucket)


def test_overwrite_on_a_bucket_leaves_no_stale_parts(s3_bucket: str, s3_options: dict[str, Any],
                                                     s3_fs: Any) -> None:
    url = f"{s3_bucket}/ds"
    gt.save(make_dataset(40, 300), url, encoding="parquet", storage_options=s3_options,
            rows_per_part=100)
    smaller = make_dataset(5, 20, seed=2)
    gt.save(smaller, url, encoding="parquet", storage_options=s3_options, overwrite=True)
    s3_fs.invalidate_cache()
    names = sorted(p.rsplit("/ds/", 1)[1] for p in s3_fs.find(url.removeprefix("s3://")))
    assert names == ["annotations/part-00000.parquet", "groundtruth.json",
                     "items/part-00000.parquet"]
    assert gt.load(url, storage_options=s3_options).fingerprint() == smaller.fingerprint()


def _flip_a_value_byte(data: bytearray) -> None:
    """Flip one bit where the file still parses (a value, not Parquet's metadata), so only
    the hash can tell: the first such byte from the middle on."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = pq.read_metadata(pa.BufferReader(bytes(data))).num_rows
    for at in range(len(data) // 2, len(data) - 8):
        data[at] ^= 1
        try:
            if pq.read_table(pa.BufferReader(bytes(data))).num_rows == rows:
                return
        except (pa.ArrowException, OSError):
            pass
        data[at] ^= 1
    raise AssertionError("no byte of the part could be flipped and still parse")
