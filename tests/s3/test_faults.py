"""Faults on the way to the data: a throttling endpoint, missing and corrupted parts.

Each is injected for real: the moto server's tap answers 503 SlowDown (what S3 says when it
throttles), parts are deleted or overwritten in the bucket.
"""

from __future__ import annotations

from typing import Any

import pytest

import groundtruth as gt
import groundtruth.engine as gte
from groundtruth.cli import main
from groundtruth.engine.synthetic import make_dataset
from groundtruth.errors import IntegrityError
from groundtruth.io import open_native
from groundtruth.io._remote import RemoteReadError

pytestmark = pytest.mark.s3

# A small retry budget so the persistent-failure tests end in a second, not minutes:
# botocore's own attempts (config_kwargs) and s3fs's retry loop on top (retries).
FAST_FAIL = {"config_kwargs": {"retries": {"max_attempts": 2, "mode": "standard"}},
             "retries": 1}


@pytest.fixture(scope="module")
def dataset() -> gt.Dataset:
    return make_dataset(50, 600, seed=9)


@pytest.fixture
def url(dataset: gt.Dataset, s3_bucket: str, s3_options: dict[str, Any], s3_endpoint: Any
        ) -> str:
    location = f"{s3_bucket}/ds"
    gt.save(dataset, location, encoding="parquet", storage_options=s3_options,
            rows_per_part=200)
    s3_endpoint.tap.reset()
    return location


def test_transient_refusals_are_retried(dataset: gt.Dataset, url: str,
                                        s3_options: dict[str, Any], s3_endpoint: Any) -> None:
    s3_endpoint.tap.refuse_first(3, key_part=".parquet")
    assert gte.fingerprint(url, storage_options=s3_options) == dataset.fingerprint()
    assert s3_endpoint.tap.refused == 3
    s3_endpoint.tap.refuse_first(3, key_part=".parquet")
    assert gt.stats(url, storage_options=s3_options) == dataset.stats()  # Arrow range reads
    assert s3_endpoint.tap.refused == 3


@pytest.mark.parametrize("operation", ["fingerprint", "stats", "validate"])
def test_persistent_refusal_is_a_clear_error(url: str, s3_options: dict[str, Any],
                                             s3_endpoint: Any, operation: str) -> None:
    options = {**s3_options, **FAST_FAIL}
    src = open_native(url, storage_options=options)
    s3_endpoint.tap.refuse_all(key_part=".parquet")
    with pytest.raises(RemoteReadError) as err:
        getattr(gte, operation)(src, storage_options=options)
    assert err.value.hint
    assert "retr" in err.value.hint
    assert s3_endpoint.tap.refused >= 2  # it did retry before giving up


def test_cli_reports_refusal_without_traceback(url: str, s3_options: dict[str, Any],
                                               s3_endpoint: Any, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_options["endpoint_url"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    monkeypatch.setattr("s3fs.S3FileSystem.retries", 2)
    s3_endpoint.tap.refuse_all(key_part=".parquet")
    with pytest.raises(SystemExit) as exit_:
        main(["info", url])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error:")
    assert "hint:" in err
    assert "Traceback" not in err


def test_missing_part(url: str, s3_options: dict[str, Any], s3_fs: Any) -> None:
    src = open_native(url, storage_options=s3_options)
    part = src.parts_of("annotations")[1]
    s3_fs.rm(f"{src.root}/{part.path}")  # after open: the run finds it gone
    for operation in (gte.fingerprint, gte.stats):
        with pytest.raises(IntegrityError):
            operation(src)
    report = gte.validate(url, storage_options=s3_options)  # a report, as without an engine
    assert report.to_dict() == gt.validate(url, storage_options=s3_options).to_dict()
    assert report.codes.get("part.missing") == 1
    with pytest.raises(IntegrityError):  # and a fresh open refuses the dataset
        open_native(url, storage_options=s3_options)


def test_corrupted_part_same_size(url: str, s3_options: dict[str, Any], s3_fs: Any) -> None:
    src = open_native(url, storage_options=s3_options)
    part = src.parts_of("annotations")[0]
    key = f"{src.root}/{part.path}"
    data = bytearray(s3_fs.cat(key))
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle of the data pages
    s3_fs.pipe(key, bytes(data))
    with pytest.raises(IntegrityError) as err:
        gte.fingerprint(url, storage_options=s3_options)
    assert err.value.location is not None
    assert (err.value.location.file or "").endswith(part.path)
    report = gte.validate(url, storage_options=s3_options)
    assert report.to_dict() == gt.validate(url, storage_options=s3_options).to_dict()
    bad = [i for i in report.issues if i.code == "part.hash-mismatch"]
    assert [(i.location.file or "").endswith(part.path) for i in bad] == [True]
