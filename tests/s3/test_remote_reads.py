"""Remote reads that read little: the moto server's tap counts the bytes sent back."""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow.compute as pc
import pytest
from click.testing import CliRunner

import groundtruth as gt
from groundtruth.cli import cli
from groundtruth.engine.synthetic import make_dataset
from groundtruth.io import DatasetWriter, open_native

pytestmark = pytest.mark.s3


@pytest.fixture(scope="module")
def dataset() -> gt.Dataset:
    # Wide rows (polygons, attributes, metadata) so that a few columns are a small share.
    return make_dataset(800, 24000, seed=5)


@pytest.fixture(scope="module")
def url(dataset: gt.Dataset, make_bucket: Any, s3_session_options: dict[str, Any]) -> str:
    """The dataset written once for the module (the tests only read it)."""
    location = f"{make_bucket()}/ds"
    _write_clustered(dataset, location, s3_session_options)
    return location


def _write_clustered(dataset: gt.Dataset, url: str, options: dict[str, Any]) -> None:
    """Annotations in label order, row groups of 6000 rows: each row group holds two or three
    labels, so row-group statistics can rule most of them out for a label filter."""
    with DatasetWriter(url, encoding="parquet", storage_options=options, rows_per_part=24000,
                       batch_size=6000) as w:
        w.write_all(dataset.items)
        w.write_all(sorted(dataset.annotations, key=lambda a: (a.label or "", a.id)))
        w.close(dataset.manifest)


def _needed_bytes(url: str, options: dict[str, Any], label: str, columns: list[str] | None
                  ) -> int:
    """Compressed bytes of the column chunks a reader must fetch: the wanted columns of the row
    groups whose `label` statistics do not rule `label` out."""
    import pyarrow.parquet as pq
    import s3fs

    src = open_native(url, storage_options=options)
    fs = s3fs.S3FileSystem(**options)
    total = 0
    for part in src.parts_of("annotations"):
        md = pq.ParquetFile(fs.open(f"{src.root}/{part.path}")).metadata
        for g in range(md.num_row_groups):
            rg = md.row_group(g)
            chunks = [rg.column(c) for c in range(rg.num_columns)]
            stats = next(c.statistics for c in chunks if c.path_in_schema == "label")
            if not stats.min <= label <= stats.max:
                continue
            total += sum(c.total_compressed_size for c in chunks
                         if columns is None or c.path_in_schema.split(".")[0] in columns)
    return total


def _part_bytes(url: str, options: dict[str, Any], kind: str) -> int:
    return sum(p.bytes for p in open_native(url, storage_options=options).parts_of(kind))


def test_stats_reads_only_the_counted_columns(dataset: gt.Dataset, url: str,
                                              s3_options: dict[str, Any], s3_endpoint: Any
                                              ) -> None:
    whole = _part_bytes(url, s3_options, "annotations")
    s3_endpoint.tap.reset()
    # range reads are what `verify=False` buys: by default every part is read whole, once,
    # to check it against the manifest's hash (test_part_attacks.py)
    assert gt.stats(url, storage_options=s3_options, verify=False) == dataset.stats()
    read = s3_endpoint.tap.bytes_read("/annotations/")
    assert 0 < read < 0.25 * whole, (read, whole)
    # every request for part data was a byte range, never a whole object
    gets = [r for r in s3_endpoint.tap.requests if r.method == "GET" and ".parquet" in r.path]
    assert gets
    assert all(r.range for r in gets)


def test_gt_info_does_not_download_whole_parts(dataset: gt.Dataset, url: str,
                                               s3_options: dict[str, Any], s3_endpoint: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _part_bytes(url, s3_options, "annotations") + _part_bytes(url, s3_options, "items")
    # the CLI reads credentials and the endpoint the standard AWS way: the environment
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_options["endpoint_url"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    s3_endpoint.tap.reset()
    result = CliRunner().invoke(cli, ["info", url, "--format", "json", "--no-verify"])
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.output)
    assert {k: data[k] for k in dataset.stats()} == dataset.stats()
    assert data["fingerprint"] == dataset.fingerprint()
    read = s3_endpoint.tap.bytes_read(".parquet")
    assert 0 < read < 0.25 * whole, (read, whole)


def test_label_filter_skips_row_groups(dataset: gt.Dataset, url: str,
                                       s3_options: dict[str, Any], s3_endpoint: Any) -> None:
    whole = _part_bytes(url, s3_options, "annotations")
    s3_endpoint.tap.reset()
    batches = list(gt.scan(url, columns=["id", "item_id", "label", "bbox"],
                           filter=pc.field("label") == "car", storage_options=s3_options,
                           verify=False))
    ids = sorted(i for b in batches for i in b.column("id").to_pylist())
    assert ids == sorted(a.id for a in dataset.annotations if a.label == "car")
    assert all(set(b.column("label").to_pylist()) == {"car"} for b in batches if b.num_rows)
    read = s3_endpoint.tap.bytes_read("/annotations/")
    needed = _needed_bytes(url, s3_options, "car", ["id", "item_id", "label", "bbox"])
    # the wanted chunks plus the footer (one 64 KiB read from the end): nothing else
    assert 0 < read <= needed + 80_000, (read, needed)
    assert read < 0.4 * whole, (read, whole)


def test_filter_without_projection_still_skips_row_groups(
        dataset: gt.Dataset, url: str, s3_options: dict[str, Any], s3_endpoint: Any
) -> None:
    whole = _part_bytes(url, s3_options, "annotations")
    s3_endpoint.tap.reset()
    rows = sum(b.num_rows for b in gt.scan(url, filter=pc.field("label") == "dog",
                                           storage_options=s3_options, verify=False))
    assert rows == sum(a.label == "dog" for a in dataset.annotations)
    read = s3_endpoint.tap.bytes_read("/annotations/")
    needed = _needed_bytes(url, s3_options, "dog", None)
    assert read <= needed + 80_000, (read, needed)
    assert needed < 0.6 * whole  # half the row groups are skipped
