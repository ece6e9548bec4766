"""S3 problems on the command line: a missing key, no credentials, an endpoint that is down.

Each exits 2 with a message naming the location and what to do; never a botocore traceback.
The CLI is run as a user runs it, configured by the environment (AWS_ENDPOINT_URL pointing at
the local moto server, or at a closed port for an endpoint that is down).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from typing import Any

import pytest

import groundtruth as gt
from tests.helpers import all_examples

pytestmark = pytest.mark.s3

CLEAN = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
NO_CONFIG = {"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
             "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1",
             "AWS_DEFAULT_REGION": "us-east-1"}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "groundtruth", *args], capture_output=True,
                          text=True, timeout=180, check=False, env={**CLEAN, **NO_CONFIG, **env})


def assert_clean(res: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert "botocore.exceptions" not in res.stderr
    assert res.stderr.startswith("error: "), res.stderr
    for needle in needles:
        assert needle in res.stderr, res.stderr


@pytest.fixture
def dataset_url(s3_bucket: str, s3_options: dict[str, Any]) -> str:
    gt.save(all_examples(), f"{s3_bucket}/ds", storage_options=s3_options)
    return f"{s3_bucket}/ds"


def with_credentials(endpoint: Any) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": endpoint.endpoint_url, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing"}


def test_the_environment_reaches_the_dataset(dataset_url: str, s3_endpoint: Any) -> None:
    res = run(with_credentials(s3_endpoint), "info", dataset_url)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("fmt", [None, "coco"])
@pytest.mark.parametrize("command", ["info", "validate", "convert"])
def test_missing_key(dataset_url: str, s3_endpoint: Any, tmp_path: Any, command: str,
                     fmt: str | None) -> None:
    url = dataset_url.replace("/ds", "/missing.json")
    args = [command, url] + ([str(tmp_path / "o")] if command == "convert" else [])
    res = run(with_credentials(s3_endpoint), *args, *(["--from", fmt] if fmt else []))
    assert_clean(res, "nothing at", "missing.json")


@pytest.mark.parametrize("command", ["info", "validate"])
def test_no_credentials(dataset_url: str, s3_endpoint: Any, command: str) -> None:
    res = run({"AWS_ENDPOINT_URL": s3_endpoint.endpoint_url}, command, dataset_url)
    assert_clean(res, "no credentials", dataset_url, "AWS_ACCESS_KEY_ID")


def test_endpoint_down(dataset_url: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing"}
    for fmt in ([], ["--from", "coco"]):
        res = run(env, "info", dataset_url, *fmt)
        assert_clean(res, "cannot reach", dataset_url)
