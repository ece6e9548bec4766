"""The shuffle by item: every record lands once, with its item, in single-process order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import groundtruth as gt
import groundtruth.engine as gte
from groundtruth.engine.partition import assemble, bucket_of, route_tasks, split_records
from groundtruth.engine.synthetic import make_dataset
from groundtruth.io._native import open_native


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[gt.Dataset, str]:
    ds = make_dataset(60, 700, seed=5)
    url = str(tmp_path_factory.mktemp("partition") / "ds")
    gt.save(ds, url, encoding="parquet", rows_per_part=100)
    return ds, url


@pytest.fixture(scope="module", params=["local", "dask"])
def engine(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "dask":
        pytest.importorskip("distributed")
    with gte.get_engine(request.param, workers=2) as eng:
        yield eng


def test_bucket_of_is_stable_and_spreads() -> None:
    assert bucket_of("item-1", 7) == bucket_of("item-1", 7)
    assert bucket_of(None, 7) == 0
    assert len({bucket_of(f"item-{i}", 7) for i in range(100)}) == 7


def test_every_record_lands_once_with_its_item(saved: tuple[gt.Dataset, str],
                                               engine: Any) -> None:
    ds, url = saved
    src = open_native(url)
    handles, counts = engine.partition(split_records, route_tasks([src], 5), 5)
    buckets = engine.map(assemble, handles)
    engine.release(handles)
    assert sum(counts) == len(ds.items) + len(ds.annotations)
    seen_items = [it for b in buckets for it in b[0].items]
    seen_anns = [a for b in buckets for a in b[0].annotations]
    assert sorted(i.id for i in seen_items) == sorted(i.id for i in ds.items)
    assert sorted(a.id for a in seen_anns) == sorted(a.id for a in ds.annotations)
    position = {a.id: k for k, a in enumerate(gt.load(url).annotations)}  # as read
    for b in buckets:
        side = b[0]
        ids = {it.id for it in side.items}
        assert all(a.item_id in ids for a in side.annotations)
        # in the order one process reads them
        assert side.annotation_orders == sorted(side.annotation_orders)
        assert [position[a.id] for a in side.annotations] == sorted(
            position[a.id] for a in side.annotations)


def test_bad_record_fails_the_shuffle(tmp_path: Path) -> None:
    ds = make_dataset(5, 20, seed=1)
    url = tmp_path / "ds"
    gt.save(ds, url, encoding="jsonl")
    part = url / "annotations.jsonl"
    lines = part.read_bytes().splitlines()
    lines[3] = lines[3].replace(b'"item_id"', b'"item_ix"')
    part.write_bytes(b"\n".join(lines) + b"\n")
    with gte.get_engine("local") as eng, pytest.raises(gt.errors.DataFormatError):
        eng.partition(split_records, route_tasks([open_native(str(url))], 2), 2)
