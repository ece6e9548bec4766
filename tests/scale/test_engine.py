"""The Dask engine gives exactly the single-process results, on a 2-worker LocalCluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import groundtruth as gt
import groundtruth.engine as gte
from groundtruth.cli import cli
from groundtruth.engine.synthetic import make_dataset
from groundtruth.io import _arrow
from groundtruth.models import Manifest

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def dask_engine() -> Iterator[Any]:
    # processes=True: real worker processes, as in production (and the kill test needs them)
    with gte.get_engine("dask", workers=2) as engine:
        yield engine


@pytest.fixture(scope="module")
def dataset() -> gt.Dataset:
    return make_dataset(120, 1500, seed=2)


@pytest.fixture(scope="module")
def stores(dataset: gt.Dataset, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("engine")
    out = {}
    for enc in ("parquet", "jsonl"):
        out[enc] = str(root / enc)
        gt.save(dataset, out[enc], encoding=enc, rows_per_part=250)
    edited = make_dataset(120, 1500, seed=2)
    edited.annotations[3] = edited.annotations[3].model_copy(update={"label": "zebra"})
    edited.annotations.pop(10)
    out["edited"] = str(root / "edited")
    gt.save(edited, out["edited"], encoding="parquet", rows_per_part=400)
    return out


@pytest.mark.parametrize("encoding", ["parquet", "jsonl"])
def test_same_results_as_single_process(dataset: gt.Dataset, stores: dict[str, str],
                                        dask_engine: Any, encoding: str) -> None:
    url = stores[encoding]
    assert len(gt.read_manifest(url).parts) >= 6  # work really is spread over parts
    local_stats = gte.stats(url)
    assert local_stats == dataset.stats()
    assert gte.stats(url, engine=dask_engine) == local_stats
    assert gte.fingerprint(url) == dataset.fingerprint()
    assert gte.fingerprint(url, engine=dask_engine) == dataset.fingerprint()
    local, dist = gt.validate(url), gte.validate(url, engine=dask_engine)
    assert local.errors == []
    assert local.to_dict() == dist.to_dict()
    assert gte.votes(url, engine=dask_engine) == gte.votes(url)


def test_diff_join(stores: dict[str, str], dask_engine: Any) -> None:
    local = gte.diff_ids(stores["parquet"], stores["edited"])
    assert local == {"added": [], "removed": ["a10"], "changed": ["a3"]}
    assert gte.diff_ids(stores["jsonl"], stores["edited"], engine=dask_engine) == local


def _broken_dataset(root: Path) -> str:
    """A hand-made dataset (manifest lists no parts) with every kind of problem validate finds:
    bad records in a JSONL part and in a Parquet part, duplicate ids, unknown items."""
    ds = root / "broken"
    (ds / "annotations").mkdir(parents=True)
    (ds / "groundtruth.json").write_bytes(orjson.dumps(Manifest(name="broken").to_json_dict()))
    items = [{"id": "i1", "kind": "text", "text": "hello world"},
             {"id": "i2", "kind": "text", "text": "x"}, {"id": "i2", "kind": "text", "text": "y"}]
    (ds / "items.jsonl").write_bytes(b"".join(orjson.dumps(i) + b"\n" for i in items))
    rows = [
        {"id": "a1", "item_id": "i1", "type": "span", "start": 0, "end": 5, "label": "x"},
        {"id": "a2", "item_id": "i9", "type": "classification", "label": "x"},  # unknown item
        {"id": "a3", "item_id": "i1", "type": "span", "start": -1, "end": 5},  # start < 0
        {"id": "a1", "item_id": "i1", "type": "classification", "label": "y"},  # duplicate id
        {"id": "a4", "item_id": "i1", "type": "bbox", "bbox": [1.0, 2.0, 3.0]},  # 3 numbers
    ]
    table = pa.Table.from_pylist(rows, schema=_arrow.ANNOTATION_SCHEMA)
    pq.write_table(table, ds / "annotations" / "part-00000.parquet")
    (ds / "annotations" / "part-00001.jsonl").write_bytes(
        b'{"id": "a5", "item_id": "i2", "type": "rating"}\n'  # missing value
        b'{"id": "a6", "item_id": "i7", "type": "classification", "label": "z"}\n'
        b"not json\n")
    return str(ds)


def test_validate_finds_the_same_issues(tmp_path: Path, dask_engine: Any) -> None:
    url = _broken_dataset(tmp_path)
    local = gt.validate(url)
    dist = gte.validate(url, engine=dask_engine)
    assert local.to_dict() == dist.to_dict()
    found = {(i.code, i.location.file.rsplit("/", 1)[-1] if i.location.file else None,
              i.location.row, i.location.line, i.location.record_id) for i in dist.issues}
    assert ("reference.duplicate-id", "items.jsonl", None, 3, "i2") in found
    assert ("reference.duplicate-id", "part-00000.parquet", 3, None, "a1") in found
    assert ("reference.item-missing", "part-00000.parquet", 1, None, "a2") in found
    assert ("reference.item-missing", "part-00001.jsonl", None, 2, "a6") in found
    codes_at = {(c, f, r, ln) for c, f, r, ln, _ in found}
    assert ("structure.invalid-value", "part-00000.parquet", 2, None) in codes_at  # a3
    assert any(c.startswith("structure.") and f == "part-00000.parquet" and r == 4
               for c, f, r, _ in codes_at)  # a4's bbox
    assert ("structure.missing-field", "part-00001.jsonl", None, 1) in codes_at  # a5
    assert ("jsonl.syntax", "part-00001.jsonl", None, 3) in codes_at
    assert not dist.ok


def test_cli_info_same_output(stores: dict[str, str]) -> None:
    runner = CliRunner()
    outputs = []
    for args in (["info", stores["jsonl"]], ["info", stores["parquet"]],
                 ["info", stores["parquet"], "--engine", "dask", "--workers", "2"]):
        result = runner.invoke(cli, [*args, "--format", "json"])
        assert result.exit_code == 0, result.output
        data = orjson.loads(result.output)
        data.pop("path")
        outputs.append(data)
    assert outputs[0] == outputs[1] == outputs[2]


def test_missing_dask_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(gte.EngineError) as err:
        gte.get_engine("dask")
    assert "groundtruth-labels[dask]" in (err.value.hint or "")


def test_unknown_engine() -> None:
    with pytest.raises(gt.GroundtruthError):
        gte.stats(".", engine="spark")


def test_training_export(dataset: gt.Dataset, stores: dict[str, str], dask_engine: Any,
                         tmp_path: Path) -> None:
    local = gte.export_training(stores["parquet"], tmp_path / "local")
    dist = gte.export_training(stores["jsonl"], tmp_path / "dask", engine=dask_engine)
    assert local == dist
    assert local["rows"] == len(dataset.annotations)
    a = pq.read_table(sorted((tmp_path / "local").glob("part-*.parquet")))
    b = pq.read_table(sorted((tmp_path / "dask").glob("part-*.parquet")))
    assert a.equals(b)
    items = dataset.items_by_id()
    classes = {name: i for i, name in enumerate(local["classes"])}
    for row in a.to_pylist()[:200]:
        item = items[row["item_id"]]
        assert (row["uri"], row["width"], row["split"]) == (item.uri, item.width, item.split)
        assert row["class_id"] == classes.get(row["label"], -1)
    assert (tmp_path / "local" / "_SUCCESS").exists()
    with pytest.raises(gt.DatasetExistsError):
        gte.export_training(stores["parquet"], tmp_path / "local")


def test_zipped_dataset_runs_locally_on_one_thread(dataset: gt.Dataset, tmp_path: Path) -> None:
    url = str(tmp_path / "ds.zip")
    gt.save(dataset, url, encoding="parquet", rows_per_part=250)
    assert gte.fingerprint(url) == dataset.fingerprint()
    assert gte.stats(url) == dataset.stats()
    with pytest.raises(gte.EngineError):
        gte.stats(url, engine="dask")


def test_cli_engine_needs_native_parquet(stores: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["info", stores["jsonl"], "--engine", "dask"])
    assert result.exit_code == 2
    assert "--engine dask" in result.output
