"""I/O problems exit 2 with a clear message on every command, with or without `--from`.

Never "INVALID" (that is exit 1, for bad data), never "report this reader failure as a bug",
never a traceback. Each problem is real: a missing path, a folder, a file the process may not
read, a host that refuses connections (a closed local port), memory running out in a reader.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import groundtruth as gt
from groundtruth.cli import main
from groundtruth.errors import AccessError, DatasetNotFoundError, OutOfMemoryError
from groundtruth.io._access import access_error, check_readable
from tests.helpers import all_examples

COCO = b'{"images": [], "annotations": [], "categories": []}'
FORMATS = [None, "coco", "conll", "labelstudio", "jsonl"]


def gt_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


def commands(path: str, tmp: Path) -> dict[str, list[str]]:
    """Every reading command, reading `path`."""
    ds = str(tmp / "good")
    return {
        "info": ["info", path],
        "validate": ["validate", path],
        "convert": ["convert", path, str(tmp / "out")],
        "export": ["export", path, str(tmp / "out.jsonl"), "--task", "ner"],
        "diff": ["diff", ds, path],
        "agreement": ["agreement", path],
        "consensus": ["consensus", path, str(tmp / "cons")],
    }


def with_format(args: list[str], fmt: str | None) -> list[str]:
    """`--from FMT` for the input under test (`--new-from` for diff, whose OLD is a dataset)."""
    if fmt is None:
        return args
    return [*args, "--new-from" if args[0] == "diff" else "--from", fmt]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: connecting is refused


def assert_clean_io_error(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert err.startswith("error: "), err
    assert "Traceback" not in err
    assert "INVALID" not in err
    assert "report this reader failure" not in err
    for needle in needles:
        assert needle in err, err


@pytest.fixture
def tmp(tmp_path: Path) -> Path:
    gt.save(all_examples(), tmp_path / "good")
    return tmp_path


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", ["info", "validate", "convert", "export", "diff",
                                     "agreement", "consensus"])
def test_missing_path(capsys: pytest.CaptureFixture[str], tmp: Path, command: str,
                      fmt: str | None) -> None:
    missing = str(tmp / "nope.json")
    args = commands(missing, tmp)[command]
    code, _, err = gt_cli(capsys, *with_format(args, fmt))
    assert_clean_io_error(code, err, "nope.json", "no such file or folder")
    assert not (tmp / "out").exists()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", ["info", "validate", "convert", "export", "diff"])
def test_folder_instead_of_file(capsys: pytest.CaptureFixture[str], tmp: Path, command: str,
                                fmt: str | None) -> None:
    folder = tmp / "photos"
    folder.mkdir()
    (folder / "a.json").write_bytes(COCO)
    args = commands(str(folder), tmp)[command]
    code, _, err = gt_cli(capsys, *with_format(args, fmt))
    assert_clean_io_error(code, err, "photos", "is a folder")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", ["info", "validate", "convert", "export"])
def test_unreachable_url(capsys: pytest.CaptureFixture[str], tmp: Path, command: str,
                         fmt: str | None) -> None:
    url = f"http://127.0.0.1:{closed_port()}/delivery.json"
    args = commands(url, tmp)[command] + (["--from", fmt] if fmt else [])
    code, _, err = gt_cli(capsys, *args)
    assert_clean_io_error(code, err, url, "cannot reach")


def _without_file_permission_bypass() -> list[str]:
    """A prefix that runs a command unable to bypass file permissions (root can)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot drop the permission bypass")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


@pytest.mark.parametrize("fmt", [None, "coco"])
@pytest.mark.parametrize("command", ["info", "validate", "convert"])
def test_permission_denied(tmp: Path, command: str, fmt: str | None) -> None:
    locked = tmp / "locked.json"
    locked.write_bytes(COCO)
    locked.chmod(0)
    args = commands(str(locked), tmp)[command] + (["--from", fmt] if fmt else [])
    res = subprocess.run(
        [*_without_file_permission_bypass(), sys.executable, "-m", "groundtruth", *args],
        capture_output=True, text=True, timeout=120, check=False)
    assert_clean_io_error(res.returncode, res.stderr, "permission denied", "locked.json")


def test_permission_denied_on_a_dataset_folder(tmp: Path) -> None:
    (tmp / "good").chmod(0)
    try:
        res = subprocess.run(
            [*_without_file_permission_bypass(), sys.executable, "-m", "groundtruth",
             "validate", str(tmp / "good")],
            capture_output=True, text=True, timeout=120, check=False)
    finally:
        (tmp / "good").chmod(0o755)
    assert_clean_io_error(res.returncode, res.stderr, "permission denied")


def test_out_of_memory_names_the_streaming_path(capsys: pytest.CaptureFixture[str], tmp: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from groundtruth.converters.coco import CocoConverter

    src = tmp / "big.json"
    src.write_bytes(COCO)

    def exhausted(*_a: object, **_k: object) -> None:
        raise MemoryError

    monkeypatch.setattr(CocoConverter, "read", exhausted)
    for args in (["info", str(src)], ["validate", str(src)],
                 ["convert", str(src), str(tmp / "o"), "--from", "coco"]):
        code, _, err = gt_cli(capsys, *args)
        assert_clean_io_error(code, err, "ran out of memory", "--encoding parquet", "--engine")


def test_api_raises_the_clear_errors(tmp: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="no such file"):
        check_readable(tmp / "nope")
    with pytest.raises(AccessError, match=r"folder without groundtruth\.json"):
        check_readable(tmp)
    assert check_readable(tmp / "good") == "directory"
    with pytest.raises(AccessError, match="is a folder, not a file"):
        check_readable(tmp / "good", file_only=True)
    # validate (the API) no longer turns a folder read as COCO into a "reader failed" issue
    with pytest.raises(AccessError, match="is a folder"):
        gt.validate(tmp / "good", format="coco")


def test_access_error_maps_foreign_exceptions() -> None:
    assert isinstance(access_error(MemoryError()), OutOfMemoryError)
    assert isinstance(access_error(PermissionError(13, "denied"), "x"), AccessError)
    assert isinstance(access_error(FileNotFoundError(2, "gone"), "x"), DatasetNotFoundError)
    assert isinstance(access_error(ConnectionRefusedError(111, "refused"), "x"), AccessError)
    assert access_error(ValueError("a bug")) is None
    assert access_error(KeyError("a bug")) is None


def test_permission_denied_writing(tmp: Path) -> None:
    locked = tmp / "readonly"
    locked.mkdir()
    locked.chmod(0o555)
    for dst, extra in ((locked / "ds", []), (locked / "out.json", ["--to", "coco"])):
        res = subprocess.run(
            [*_without_file_permission_bypass(), sys.executable, "-m", "groundtruth",
             "convert", str(tmp / "good"), str(dst), *extra],
            capture_output=True, text=True, timeout=120, check=False)
        assert_clean_io_error(res.returncode, res.stderr,
                              f"permission denied writing in {locked}")
    assert list(locked.iterdir()) == []


@pytest.mark.parametrize("command", ["validate", "info", "convert"])
def test_permission_denied_on_a_data_part(tmp: Path, command: str) -> None:
    part = tmp / "good" / "annotations.jsonl"
    part.chmod(0)
    args = commands(str(tmp / "good"), tmp)[command]
    res = subprocess.run(
        [*_without_file_permission_bypass(), sys.executable, "-m", "groundtruth", *args],
        capture_output=True, text=True, timeout=120, check=False)
    part.chmod(0o644)
    assert_clean_io_error(res.returncode, res.stderr, f"permission denied: {part}")
