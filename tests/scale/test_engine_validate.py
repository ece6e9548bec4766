"""`validate` on an engine gives exactly the single-process report: same issues, same order,
same counts, on JSONL and Parquet, whatever the number of buckets and workers.

The planted problems are the ones whose checks span buckets (items and annotations are bucketed
by item): media shared by two items, an annotation id used on two items, relations and sources
pointing to other items or nowhere, the first item of an undeclared split, labels never used,
annotators without guideline; plus per-record ones, a missing part and a corrupted one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

import groundtruth as gt
import groundtruth.engine as gte
from groundtruth.cli import cli
from groundtruth.engine.synthetic import make_dataset
from groundtruth.models import Item, Relation

SPEC = Path(__file__).resolve().parents[2] / "spec" / "v1.0" / "examples"


def planted() -> gt.Dataset:
    ds = make_dataset(80, 900, seed=3)
    items, anns = ds.items, ds.annotations
    by_item: dict[str, list[str]] = {}
    for a in anns:
        by_item.setdefault(a.item_id, []).append(a.id)
    first, second = sorted(by_item)[:2]

    def edit(k: int, **update: Any) -> None:
        anns[k] = anns[k].model_copy(update=update)

    edit(5, id=anns[500].id)                       # one annotation id on two items
    edit(20, item_id="ghost")                      # an item that does not exist
    edit(30, label="zebra")                        # not in the taxonomy
    edit(31, annotator="mallory")                  # not in the manifest
    edit(7, sources=["nowhere", anns[9].id])       # one source missing, one fine
    anns.append(Relation(id="r-ok", item_id=first, label="near",
                         source=by_item[first][0], target=by_item[first][-1]))
    anns.append(Relation(id="r-cross", item_id=first, label="near",
                         source=by_item[first][0], target=by_item[second][0]))
    anns.append(Relation(id="r-missing", item_id=second, label="near",
                         source="nope", target=by_item[second][0]))
    items[3] = items[3].model_copy(update={"uri": items[40].uri})    # same media, other split
    items[41] = items[41].model_copy(update={"uri": items[40].uri})  # and a third time
    items[10] = items[10].model_copy(update={"split": "holdout"})     # undeclared, twice
    items[50] = items[50].model_copy(update={"split": "holdout"})
    items.append(Item(id="lonely", kind="image", uri="s3://media/lonely.jpg",
                      width=10, height=10))                         # no annotation
    return ds


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("engine-validate")
    ds = planted()
    out = {}
    for enc in ("jsonl", "parquet"):
        out[enc] = str(root / enc)
        gt.save(ds, out[enc], encoding=enc, rows_per_part=150)
    return out


@pytest.fixture(scope="module")
def dask_engine() -> Iterator[Any]:
    pytest.importorskip("distributed")
    with gte.get_engine("dask", workers=2) as engine:
        yield engine


def _same(url: str, **options: Any) -> dict[str, Any]:
    """The single-process report, after checking the local engine gives it at 1, 4 and 7
    buckets (7 > the number of parts: some buckets get nothing)."""
    want = gt.validate(url, **options).to_dict()
    for n in (1, 4, 7):
        assert gte.validate(url, buckets=n, **options).to_dict() == want, n
    return want


@pytest.mark.parametrize("encoding", ["jsonl", "parquet"])
def test_planted_problems_same_report(stores: dict[str, str], encoding: str) -> None:
    report = _same(stores[encoding])
    codes = report["counts"]["by_code"]
    for code in ("reference.duplicate-id", "reference.item-missing", "reference.label-unknown",
                 "reference.annotator-unknown", "reference.source-missing",
                 "reference.relation-cross-item", "reference.relation-endpoint-missing",
                 "dataset.duplicate-media", "dataset.split-leak", "dataset.split-undeclared",
                 "dataset.item-unannotated"):
        assert codes.get(code), code
    assert codes["dataset.split-undeclared"] == 1  # said once, at the first such item


def test_dask_gives_the_same_report(stores: dict[str, str], dask_engine: Any) -> None:
    for url in stores.values():
        want = gt.validate(url).to_dict()
        assert gte.validate(url, engine=dask_engine).to_dict() == want
        assert gt.validate(url, engine=dask_engine).to_dict() == want  # the public API


def test_max_issues_and_strict_cut_the_same_way(stores: dict[str, str]) -> None:
    report = _same(stores["jsonl"], max_issues=5, strict=True)
    assert report["truncated"]
    assert len(report["issues"]) == 5


def test_spec_vectors_as_multipart_datasets(tmp_path: Path) -> None:
    """Every validation vector of the spec, spread over 3 JSONL parts per kind."""
    cases = sorted(SPEC.glob("invalid/*/document.json")) + sorted(SPEC.glob("valid/*.json"))
    checked = 0
    for doc in cases:
        data = json.loads(doc.read_text())
        if not isinstance(data, dict) or not isinstance(data.get("manifest"), dict) or not all(
                isinstance(data.get(k, []), list) for k in ("items", "annotations")):
            continue  # a document whose outline is broken has no native form
        dst = tmp_path / doc.parent.name / doc.stem
        (dst / "items").mkdir(parents=True)
        (dst / "annotations").mkdir()
        (dst / "groundtruth.json").write_bytes(orjson.dumps(data["manifest"]))
        for kind in ("items", "annotations"):
            records = data.get(kind, [])
            for p in range(3):
                (dst / kind / f"part-{p}.jsonl").write_bytes(
                    b"".join(orjson.dumps(r) + b"\n" for r in records[p::3]))
        _same(str(dst))
        checked += 1
    assert checked >= 70


def test_missing_and_corrupted_parts(stores: dict[str, str], tmp_path: Path) -> None:
    url = tmp_path / "damaged"
    shutil.copytree(stores["parquet"], url)
    parts = sorted((url / "annotations").glob("*.parquet"))
    parts[0].unlink()
    data = bytearray(parts[1].read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, other bytes
    parts[1].write_bytes(bytes(data))
    report = _same(str(url))
    assert {"part.missing", "part.hash-mismatch"} <= set(report["counts"]["by_code"])
    assert _same(str(url), verify_hashes=False)["counts"]["by_code"].get(
        "part.hash-mismatch") is None


def test_cli_engine_flag(stores: dict[str, str], dask_engine: Any,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    address = dask_engine.client.scheduler.address
    monkeypatch.setenv("GROUNDTRUTH_DASK_ADDRESS", address)  # reuse the running cluster
    plain = CliRunner().invoke(cli, ["validate", stores["parquet"], "--format", "json"])
    dist = CliRunner().invoke(cli, ["validate", stores["parquet"], "--format", "json",
                                    "--engine", "dask"])
    assert plain.exit_code == dist.exit_code
    assert json.loads(dist.output) == json.loads(plain.output)
    assert not json.loads(plain.output)["ok"]


def test_engine_needs_a_native_dataset(tmp_path: Path) -> None:
    coco = tmp_path / "c.json"
    coco.write_text(json.dumps({"images": [], "annotations": [], "categories": []}))
    with pytest.raises(gte.EngineError, match="native"):
        gt.validate(coco, format="coco", engine="local")
    result = subprocess.run([sys.executable, "-m", "groundtruth", "validate", str(coco),
                             "--from", "coco", "--engine", "local"], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert "gt convert" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
