"""Native storage: both encodings, any filesystem, atomic writes, located errors."""

from __future__ import annotations

import hashlib
import json
import os

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import groundtruth as gt
from tests.helpers import all_examples, example


@pytest.fixture
def ds() -> gt.Dataset:
    return all_examples()


@pytest.mark.parametrize("encoding", ["jsonl", "parquet"])
def test_round_trip_local(tmp_path, ds, encoding):
    report = gt.save(ds, tmp_path / "out", encoding=encoding)
    back = gt.load(tmp_path / "out")
    assert back.fingerprint() == ds.fingerprint()
    assert report.details["fingerprint"] == ds.fingerprint()
    assert back.manifest.fingerprint == ds.fingerprint()
    assert back.manifest.encoding == encoding
    by_key = {(a.item_id, a.id): a for a in back.annotations}
    for a in ds.annotations:
        assert by_key[a.item_id, a.id] == a


def test_encodings_are_lossless_with_each_other(tmp_path, ds):
    gt.save(ds, tmp_path / "j", encoding="jsonl")
    gt.convert(tmp_path / "j", tmp_path / "p", write_options={"encoding": "parquet"})
    gt.convert(tmp_path / "p", tmp_path / "j2", write_options={"encoding": "jsonl"})
    for name in ("items.jsonl", "annotations.jsonl"):
        assert (tmp_path / "j" / name).read_bytes() == (tmp_path / "j2" / name).read_bytes()


def test_jsonl_is_sorted_and_keyed_for_diffs(tmp_path):
    ds = example("image-detection")
    ds.annotations.reverse()
    gt.save(ds, tmp_path / "d")
    lines = (tmp_path / "d" / "annotations.jsonl").read_text().splitlines()
    ids = [json.loads(line)["id"] for line in lines]
    assert ids == sorted(ids)
    assert len(ids) == len(ds.annotations)
    assert all(line.startswith('{"id":') and '"item_id"' in line[:40] for line in lines)
    assert list(json.loads(lines[0]))[:3] == ["id", "item_id", "type"]


def test_memory_filesystem(memfs, ds):
    gt.save(ds, "memory://bucket/ds", encoding="parquet")
    assert memfs.exists("/bucket/ds/groundtruth.json")
    assert gt.load("memory://bucket/ds").fingerprint() == ds.fingerprint()


def test_zip_read_and_write(tmp_path, ds):
    gt.save(ds, tmp_path / "ds.zip")
    assert gt.load(tmp_path / "ds.zip").fingerprint() == ds.fingerprint()
    assert gt.load(f"zip://groundtruth.json::{tmp_path / 'ds.zip'}").fingerprint() == ds.fingerprint()


def test_parquet_has_typed_columns(tmp_path, ds):
    gt.save(ds, tmp_path / "p", encoding="parquet")
    table = pq.read_table(tmp_path / "p" / "annotations" / "part-00000.parquet")
    assert table.schema.field("bbox").type == pa.list_(pa.float64())
    assert table.schema.field("created").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("polygon").type == pa.list_(pa.list_(pa.float64()))
    labels = table.column("label").to_pylist()
    assert labels.count("car") == sum(a.label == "car" for a in ds.annotations) == 6


def test_parquet_is_sharded_and_fingerprint_independent_of_parts(tmp_path, ds):
    gt.save(ds, tmp_path / "one", encoding="parquet")
    gt.save(ds, tmp_path / "many", encoding="parquet", rows_per_part=3)
    parts = sorted(os.listdir(tmp_path / "many" / "annotations"))
    assert len(parts) == -(-len(ds.annotations) // 3)
    a = gt.read_manifest(tmp_path / "one")
    b = gt.read_manifest(tmp_path / "many")
    assert a.fingerprint == b.fingerprint == ds.fingerprint()


def test_fingerprint_ignores_order_but_not_content(ds):
    fp = ds.fingerprint()
    ds.annotations.reverse()
    ds.items.reverse()
    assert ds.fingerprint() == fp
    ds.annotations[0] = ds.annotations[0].model_copy(update={"label": "something-else"})
    assert ds.fingerprint() != fp


def test_refuses_to_overwrite_without_asking(tmp_path, ds):
    gt.save(ds, tmp_path / "d")
    with pytest.raises(gt.DatasetExistsError):
        gt.save(ds, tmp_path / "d")
    gt.save(example("consensus"), tmp_path / "d", overwrite=True)
    assert len(gt.load(tmp_path / "d").items) == 1


def test_failed_write_leaves_nothing(tmp_path, ds, monkeypatch):
    from groundtruth.io import _native

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(_native.DatasetWriter, "_publish", boom)
    with pytest.raises(RuntimeError):
        gt.save(ds, tmp_path / "d")
    assert not (tmp_path / "d").exists()
    assert [p for p in os.listdir(tmp_path) if p.startswith(".gt-stage")] == []


def test_failed_overwrite_keeps_the_old_version(tmp_path, ds, monkeypatch):
    gt.save(ds, tmp_path / "d")
    from groundtruth.io import _native

    monkeypatch.setattr(_native.DatasetWriter, "_flush", lambda self, kind: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        gt.save(example("consensus"), tmp_path / "d", overwrite=True)
    assert gt.load(tmp_path / "d").fingerprint() == ds.fingerprint()


def test_streaming_iter_records(tmp_path, ds):
    gt.save(ds, tmp_path / "d", encoding="parquet")
    records = list(gt.iter_records(tmp_path / "d"))
    assert len(records) == len(ds.items) + len(ds.annotations)
    assert [type(r).__name__ for r in records[: len(ds.items)]] == ["Item"] * len(ds.items)
    only = list(gt.iter_records(tmp_path / "d", kinds=("annotations",)))
    assert len(only) == len(ds.annotations)


def test_hand_written_dataset_without_parts_list(tmp_path):
    (tmp_path / "groundtruth.json").write_text('{"groundtruth": "1.0", "name": "hand"}')
    (tmp_path / "items.jsonl").write_text('{"id": "1", "kind": "text", "text": "hi"}\n')
    (tmp_path / "annotations.jsonl").write_text(
        '{"id": "a", "item_id": "1", "type": "classification", "label": "x"}\n'
    )
    ds = gt.load(tmp_path)
    assert (len(ds.items), len(ds.annotations)) == (1, 1)


# -- bad input ---------------------------------------------------------------------------------


def _write(tmp_path, items: bytes, manifest: dict | None = None):
    (tmp_path / "groundtruth.json").write_text(json.dumps(manifest or {"groundtruth": "1.0"}))
    (tmp_path / "items.jsonl").write_bytes(items)
    return tmp_path


def test_no_manifest(tmp_path):
    (tmp_path / "items.jsonl").write_text("{}\n")
    with pytest.raises(gt.DatasetNotFoundError) as err:
        gt.load(tmp_path, format="groundtruth")
    assert "groundtruth.json" in str(err.value)
    assert err.value.hint


def test_unknown_spec_version(tmp_path):
    _write(tmp_path, b"", {"groundtruth": "9.3"})
    with pytest.raises(gt.UnsupportedVersionError) as err:
        gt.load(tmp_path)
    assert err.value.location.path == "$.groundtruth"


@pytest.mark.parametrize(
    ("content", "code", "line"),
    [
        (b'{"id": "1", "kind": "text", "text": "a"}\n{"id": 2,,}\n', "jsonl.syntax", 2),
        (b'{"id": "1", "kind": "text", "text": "caf\xe9"}\n', "jsonl.encoding", 1),
        (b'{"id": "1", "kind": "text", "text": "a"}\n{"id": "2", "kind": "te', "jsonl.truncated", 2),
        (b'{"id": "1", "kind": "text"}\n', "structure.invalid-value", 1),
        (b'[1, 2]\n', "structure.not-object", 1),
    ],
)
def test_bad_jsonl_is_located(tmp_path, content, code, line):
    _write(tmp_path, content)
    with pytest.raises(gt.DataFormatError) as err:
        gt.load(tmp_path)
    assert f"[{code}]" in err.value.message
    assert err.value.location.file.endswith("items.jsonl")
    assert err.value.location.line == line


def test_truncated_part_is_an_integrity_error(tmp_path, ds):
    gt.save(ds, tmp_path / "d")
    path = tmp_path / "d" / "annotations.jsonl"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(gt.IntegrityError) as err:
        gt.load(tmp_path / "d")
    assert err.value.location.file.endswith("annotations.jsonl")


def test_missing_part_is_an_integrity_error(tmp_path, ds):
    gt.save(ds, tmp_path / "d", encoding="parquet")
    os.remove(tmp_path / "d" / "items" / "part-00000.parquet")
    with pytest.raises(gt.IntegrityError):
        gt.load(tmp_path / "d")


def test_parquet_with_missing_and_mistyped_columns(tmp_path):
    (tmp_path / "groundtruth.json").write_text('{"groundtruth": "1.0"}')
    (tmp_path / "annotations").mkdir()
    pq.write_table(pa.table({"id": ["a"], "type": ["bbox"]}),
                   tmp_path / "annotations" / "part-0.parquet")
    with pytest.raises(gt.DataFormatError) as err:
        gt.load(tmp_path)
    assert "item_id" in err.value.message
    pq.write_table(pa.table({"id": ["a"], "item_id": ["1"], "type": ["bbox"], "bbox": ["wide"]}),
                   tmp_path / "annotations" / "part-0.parquet")
    with pytest.raises(gt.DataFormatError) as err:
        gt.load(tmp_path)
    assert "bbox" in err.value.message


def test_url_whose_backend_is_missing(monkeypatch):
    import fsspec.core

    def no_backend(*a, **k):
        raise ImportError("Install s3fs to access S3")

    monkeypatch.setattr(fsspec.core, "url_to_fs", no_backend)
    with pytest.raises(gt.BackendNotInstalledError) as err:
        gt.load("s3://bucket/ds")
    assert "groundtruth-labels[s3]" in err.value.hint


def test_storage_options_with_fs_is_a_type_error(memfs):
    with pytest.raises(TypeError, match="storage_options"):
        gt.load("memory://x", fs=fsspec.filesystem("memory"), storage_options={"a": 1})


def test_read_table_is_the_same_for_both_encodings(tmp_path, ds):
    gt.save(ds, tmp_path / "j", encoding="jsonl")
    gt.save(ds, tmp_path / "p", encoding="parquet")
    for kind in ("items", "annotations"):
        tj = gt.read_table(tmp_path / "j", kind)
        tp = gt.read_table(tmp_path / "p", kind)
        assert tj.equals(tp), kind
    created = gt.read_table(tmp_path / "j", columns=["id", "created"]).column("created")
    assert str(created.drop_null()[0]) == "2026-03-01 12:00:00+00:00"


def test_read_table_projects_columns(tmp_path, ds):
    gt.save(ds, tmp_path / "p", encoding="parquet")
    t = gt.read_table(tmp_path / "p", columns=["label", "type"])
    assert t.column_names == ["label", "type"]
    assert t.num_rows == len(ds.annotations)


def test_iter_batches_never_repeats_records_when_it_falls_back(tmp_path, ds):
    gt.save(ds, tmp_path / "d")
    path = tmp_path / "d" / "annotations.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    # a valid last line without its newline, and a row Arrow's fast path cannot convert late in
    # the part: both must give each record exactly once
    path.write_bytes(b"".join(lines)[:-1])
    manifest = json.loads((tmp_path / "d" / "groundtruth.json").read_text())
    for p in manifest["parts"]:
        if p["path"] == "annotations.jsonl":
            p["bytes"] -= 1
            p["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "d" / "groundtruth.json").write_text(json.dumps(manifest))
    for batch_size in (1, 2, 1000):
        ids = [i for b in gt.iter_batches(tmp_path / "d", batch_size=batch_size)
               for i in b.column("id").to_pylist()]
        assert sorted(ids) == sorted(a.id for a in ds.annotations)
