"""A dataset from a stranger: part paths that leave the dataset, links out of it, files the
manifest does not list, zip bombs and torn zips. Each test tries the attack (issue 13)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fsspec.implementations.local import LocalFileSystem

import groundtruth as gt
from groundtruth.cli import main
from groundtruth.errors import DataFormatError, IntegrityError
from groundtruth.io import MAX_MEMBER_ENV
from groundtruth.io._parts import PART_PATTERN, PartReader, unsafe_reason
from groundtruth.models import Part
from tests.helpers import example

ATTACKS = {
    "dotdot": "../outside/x.jsonl",
    "absolute": "/etc/hostname",
    "file-url": "file:///etc/hostname",
    "other-bucket": "s3://other/k.jsonl",
    "nested-dotdot": "annotations/../../outside/x.jsonl",
}


@pytest.fixture
def dataset_dir(tmp_path: Path) -> Path:
    root = tmp_path / "ds"
    gt.save(example("image-detection"), root)
    return root


def _manifest(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "groundtruth.json").read_text())
    return data


def _write_manifest(root: Path, data: dict[str, Any]) -> None:
    (root / "groundtruth.json").write_text(json.dumps(data))


def _point_part_at(root: Path, target: str) -> int:
    """Make the annotations part's path `target` (size and hash of a real outside file)."""
    m = _manifest(root)
    n = next(i for i, p in enumerate(m["parts"]) if p["kind"] == "annotations")
    m["parts"][n]["path"] = target
    _write_manifest(root, m)
    return n


class _Spy(LocalFileSystem):
    """A local filesystem that records every path it is asked about."""

    touched: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.touched = []

    def _log(self, path: Any) -> None:
        self.touched.append(str(path))

    def exists(self, path: Any, **kw: Any) -> bool:
        self._log(path)
        return bool(super().exists(path, **kw))

    def info(self, path: Any, **kw: Any) -> Any:
        self._log(path)
        return super().info(path, **kw)

    def _open(self, path: Any, *a: Any, **kw: Any) -> Any:
        self._log(path)
        return super()._open(path, *a, **kw)


@pytest.mark.parametrize("target", list(ATTACKS.values()), ids=list(ATTACKS))
def test_unsafe_part_path_is_refused_before_anything_is_opened(
        dataset_dir: Path, tmp_path: Path, target: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.jsonl").write_text('{"id": "secret"}\n')
    n = _point_part_at(dataset_dir, target)
    spy = _Spy(skip_instance_cache=True)
    with pytest.raises(IntegrityError) as err:
        gt.load(str(dataset_dir), fs=spy, format="groundtruth")
    e = err.value
    assert e.location is not None
    assert e.location.file is not None
    assert e.location.file.endswith("groundtruth.json")
    assert e.location.path == f"$.parts[{n}].path"
    assert target in e.message
    assert e.hint
    assert "relative" in e.hint
    # nothing outside the dataset was stat'ed or opened: no existence or size leaks
    assert not [p for p in spy.touched if "outside" in p or "hostname" in p or "other" in p]


@pytest.mark.parametrize("target", list(ATTACKS.values()), ids=list(ATTACKS))
def test_validate_reports_unsafe_paths_as_located_issues(dataset_dir: Path,
                                                         target: str) -> None:
    n = _point_part_at(dataset_dir, target)
    report = gt.validate(dataset_dir)
    found = [i for i in report.issues if i.code == "part.path-unsafe"]
    assert len(found) == 1
    assert found[0].location.path == f"$.parts[{n}].path"
    assert not report.ok


def test_refusal_does_not_depend_on_whether_the_target_exists(dataset_dir: Path,
                                                              tmp_path: Path) -> None:
    messages = []
    for present in (True, False):
        target = tmp_path / "outside" / "x.jsonl"
        if present:
            target.parent.mkdir(exist_ok=True)
            target.write_text("{}\n")
        elif target.exists():
            shutil.rmtree(target.parent)
        _point_part_at(dataset_dir, "../outside/x.jsonl")
        with pytest.raises(IntegrityError) as err:
            gt.load(dataset_dir)
        messages.append(str(err.value))
    assert messages[0] == messages[1]


def test_symlinked_part_pointing_out_is_not_followed(dataset_dir: Path, tmp_path: Path) -> None:
    # the link's target holds exactly the bytes the manifest lists: only the link is wrong
    part = dataset_dir / "annotations.jsonl"
    outside = tmp_path / "elsewhere.jsonl"
    shutil.move(part, outside)
    part.symlink_to(outside)
    with pytest.raises(IntegrityError) as err:
        gt.load(dataset_dir)
    assert "symbolic link" in err.value.message
    assert err.value.location is not None
    assert err.value.location.path is not None
    assert any(i.code == "part.path-unsafe" for i in gt.validate(dataset_dir).issues)


def test_symlinked_folder_pointing_out_is_not_followed(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    gt.save(example("image-detection"), root, encoding="parquet")
    shutil.move(root / "annotations", tmp_path / "ann-elsewhere")
    (root / "annotations").symlink_to(tmp_path / "ann-elsewhere")
    with pytest.raises(IntegrityError, match="symbolic link"):
        gt.load(root)


def test_symlink_inside_the_dataset_is_fine(dataset_dir: Path) -> None:
    (dataset_dir / "data").mkdir()
    shutil.move(dataset_dir / "annotations.jsonl", dataset_dir / "data" / "a.jsonl")
    (dataset_dir / "annotations.jsonl").symlink_to(dataset_dir / "data" / "a.jsonl")
    assert len(gt.load(dataset_dir).annotations) == 8


def _zip_dataset(root: Path, dst: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(root).as_posix())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return dst


@pytest.mark.parametrize("target", list(ATTACKS.values()), ids=list(ATTACKS))
def test_unsafe_part_path_in_a_zip_is_refused(dataset_dir: Path, tmp_path: Path,
                                              target: str) -> None:
    n = _point_part_at(dataset_dir, target)
    z = _zip_dataset(dataset_dir, tmp_path / "ds.zip")
    with pytest.raises(IntegrityError) as err:
        gt.load(z)
    assert err.value.location is not None
    assert err.value.location.path == f"$.parts[{n}].path"


def test_zip_symlink_entry_is_never_followed(dataset_dir: Path, tmp_path: Path) -> None:
    # a zip member marked as a symlink holds the link's text; reading it never reaches /etc
    m = _manifest(dataset_dir)
    link = zipfile.ZipInfo("annotations.jsonl")
    link.external_attr = (0o120777 << 16)
    target = b"/etc/hostname"
    for p in m["parts"]:
        if p["kind"] == "annotations":
            p.update(bytes=len(target), sha256=hashlib.sha256(target).hexdigest(), records=0)
    _write_manifest(dataset_dir, m)
    (dataset_dir / "annotations.jsonl").unlink()
    z = tmp_path / "ds.zip"
    _zip_dataset(dataset_dir, z)
    with zipfile.ZipFile(z, "a") as zf:
        zf.writestr(link, target)
    with pytest.raises(DataFormatError) as err:
        gt.load(z)
    assert "annotations.jsonl:1" in str(err.value)  # the link's text, read as (bad) JSON


@pytest.mark.parametrize("rule_case", [
    "items.jsonl", "annotations/part-00000.parquet", "a/b/c.jsonl",
])
def test_safe_paths_pass_the_rule_and_the_schema_pattern(rule_case: str) -> None:
    import re

    assert unsafe_reason(rule_case) is None
    # the JSON Schema's pattern is ECMA 262; Python's re reads this one the same way
    assert re.match(PART_PATTERN, rule_case)


@pytest.mark.parametrize("bad", [*ATTACKS.values(), "", "a//b.jsonl", "./a.jsonl",
                                 "a\\..\\b.jsonl", "C:/x.jsonl", "items.csv", "a\nb.jsonl"])
def test_unsafe_paths_fail_the_rule_and_the_schema_pattern(bad: str) -> None:
    import re

    assert unsafe_reason(bad) is not None
    assert not re.match(PART_PATTERN, bad)


def test_schema_states_the_part_path_rule() -> None:
    schema = json.loads((Path(__file__).parents[2] / "spec" / "v1.0" / "schema"
                         / "manifest.schema.json").read_text())
    assert schema["$defs"]["Part"]["properties"]["path"]["pattern"] == PART_PATTERN


# -- files the manifest does not list ---------------------------------------------------------


def test_explicit_empty_parts_with_data_present_is_an_error(dataset_dir: Path) -> None:
    m = _manifest(dataset_dir)
    m["parts"] = []
    _write_manifest(dataset_dir, m)
    with pytest.raises(IntegrityError) as err:
        gt.load(dataset_dir)
    assert "annotations.jsonl" in str(err.value) or "items.jsonl" in str(err.value)
    codes = [i.code for i in gt.validate(dataset_dir).issues]
    assert codes.count("part.unlisted") == 2


def test_unlisted_data_file_is_an_error_naming_it(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    gt.save(example("image-detection"), root, encoding="parquet")
    shutil.copy(root / "annotations" / "part-00000.parquet",
                root / "annotations" / "part-00001.parquet")
    with pytest.raises(IntegrityError) as err:
        gt.load(root)
    assert "annotations/part-00001.parquet" in str(err.value)
    issues = [i for i in gt.validate(root).issues if i.code == "part.unlisted"]
    assert [i.location.file for i in issues] == [str(root / "annotations/part-00001.parquet")]


def test_hidden_and_other_files_are_not_data(dataset_dir: Path) -> None:
    (dataset_dir / ".annotations.jsonl.tmp-1234").write_text("x")
    (dataset_dir / "README.md").write_text("notes")
    assert len(gt.load(dataset_dir).annotations) == 8


def test_hand_made_dataset_is_read_with_a_warning_naming_the_files(dataset_dir: Path) -> None:
    m = _manifest(dataset_dir)
    del m["parts"], m["fingerprint"]
    _write_manifest(dataset_dir, m)
    ds = gt.load(dataset_dir)
    assert len(ds.annotations) == 8
    warned = [i for i in ds.issues if i.code == "manifest.parts-absent"]
    assert len(warned) == 1
    assert warned[0].severity == "warning"
    assert "annotations.jsonl" in warned[0].message
    assert "items.jsonl" in warned[0].message
    assert "manifest.parts-absent" in [i.code for i in gt.validate(dataset_dir).issues]


# -- zip bombs and torn zips ------------------------------------------------------------------

BOMB = 48 << 20  # decompresses to 48 MiB from ~50 KiB


def _bomb(tmp_path: Path, *, declared: int = BOMB + 1) -> Path:
    """A zipped dataset whose annotations part is 48 MiB of spaces and a newline: valid JSONL
    holding no record, so only its size is wrong for a reader with a lower ceiling."""
    root = tmp_path / "bomb"
    gt.save(example("image-detection"), root)
    m = _manifest(root)
    sha = hashlib.sha256()
    chunk = b" " * (1 << 20)
    for _ in range(BOMB >> 20):
        sha.update(chunk)
    sha.update(b"\n")
    for p in m["parts"]:
        if p["kind"] == "annotations":
            p.update(bytes=declared, sha256=sha.hexdigest(), records=0)
    _write_manifest(root, m)
    (root / "annotations.jsonl").unlink()
    z = tmp_path / "bomb.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("groundtruth.json", "items.jsonl"):
            zf.write(root / name, name)
        with zf.open("annotations.jsonl", "w") as w:
            for _ in range(BOMB >> 20):
                w.write(chunk)
            w.write(b"\n")
    assert z.stat().st_size < 1 << 20
    return z


def test_zip_member_over_the_ceiling_is_refused_before_decompressing(tmp_path: Path) -> None:
    import tracemalloc

    z = _bomb(tmp_path)
    tracemalloc.start()
    try:
        with pytest.raises(IntegrityError) as err:
            gt.load(z, max_member_bytes=8 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "annotations.jsonl" in str(err.value)
    assert str(8 << 20) in err.value.message
    assert MAX_MEMBER_ENV in (err.value.hint or "")
    assert peak < 4 << 20, peak
    # under the ceiling the (valid) member is read
    assert len(gt.load(z, max_member_bytes=64 << 20).annotations) == 0


def test_zip_ceiling_from_the_environment(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    z = _bomb(tmp_path)
    monkeypatch.setenv(MAX_MEMBER_ENV, str(1 << 20))
    with pytest.raises(IntegrityError, match="decompresses to"):
        gt.load(z)
    assert any(i.code == "part.too-large" for i in gt.validate(z).issues)
    monkeypatch.setenv(MAX_MEMBER_ENV, "lots")
    with pytest.raises(gt.GroundtruthError, match=MAX_MEMBER_ENV):
        gt.load(z)


def test_zip_member_larger_than_declared_is_refused(tmp_path: Path) -> None:
    z = _bomb(tmp_path, declared=1000)
    with pytest.raises(IntegrityError, match="1000"):
        gt.load(z)


class _Endless(io.RawIOBase):
    """A stream of newlines that never ends; counts what was read from it."""

    def __init__(self) -> None:
        self.given = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = 1 << 16 if n is None or n < 0 else n
        self.given += n
        return b"\n" * n


def test_part_reader_stops_at_the_declared_size_while_streaming() -> None:
    part = Part(path="a.jsonl", kind="annotations", records=0, bytes=1000, sha256="0" * 64)
    src = _Endless()
    reader = PartReader(src, part, "ds/a.jsonl", verify=True)  # type: ignore[arg-type]

    def drain() -> None:
        while reader.read(1 << 20):
            pass

    with pytest.raises(IntegrityError, match="more than the 1000 bytes"):
        drain()
    assert src.given <= 1001


def test_part_reader_stops_at_the_ceiling_while_streaming() -> None:
    part = Part(path="a.jsonl", kind="annotations", records=0, bytes=10 << 30, sha256="0" * 64)
    src = _Endless()
    reader = PartReader(src, part, "ds/a.jsonl", verify=False,  # type: ignore[arg-type]
                        limit=1 << 20)

    def drain() -> None:
        while reader.read(1 << 16):
            pass

    with pytest.raises(IntegrityError, match="decompresses to"):
        drain()
    assert src.given <= (1 << 20) + (1 << 16)


@pytest.mark.parametrize("cut", [0.5, 0.97])
def test_torn_zip_is_a_clear_error(dataset_dir: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str], cut: float) -> None:
    z = _zip_dataset(dataset_dir, tmp_path / "ds.zip")
    data = z.read_bytes()
    z.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises((DataFormatError, IntegrityError)):
        gt.load(z)
    with pytest.raises(SystemExit) as code:
        main(["info", str(z)])
    assert code.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "ds.zip" in err
    assert not gt.validate(z).ok


def test_torn_member_inside_a_whole_zip_names_the_part(dataset_dir: Path,
                                                       tmp_path: Path) -> None:
    # the zip's directory is whole, but the annotations member's compressed bytes are damaged
    z = _zip_dataset(dataset_dir, tmp_path / "ds.zip")
    with zipfile.ZipFile(z) as zf:
        info = zf.getinfo("annotations.jsonl")
    data = bytearray(z.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 5, start + min(60, info.compress_size - 5)):
        data[k] ^= 0x5A
    z.write_bytes(bytes(data))
    with pytest.raises((DataFormatError, IntegrityError)) as err:
        gt.load(z)
    assert "annotations.jsonl" in str(err.value)


def test_manifest_over_the_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            dataset_dir: Path) -> None:
    from groundtruth.io import _parts

    monkeypatch.setattr(_parts, "MAX_MANIFEST_BYTES", 100)
    with pytest.raises(DataFormatError, match="larger than 100 bytes"):
        gt.load(dataset_dir)
    assert os.path.getsize(dataset_dir / "groundtruth.json") > 100


def test_hand_made_dataset_with_a_link_out_is_refused(dataset_dir: Path, tmp_path: Path) -> None:
    m = _manifest(dataset_dir)
    del m["parts"], m["fingerprint"]
    _write_manifest(dataset_dir, m)
    outside = tmp_path / "elsewhere.jsonl"
    shutil.move(dataset_dir / "annotations.jsonl", outside)
    (dataset_dir / "annotations.jsonl").symlink_to(outside)
    with pytest.raises(IntegrityError, match="symbolic link"):
        gt.load(dataset_dir)


def test_damaged_manifest_member_is_a_located_error(dataset_dir: Path, tmp_path: Path) -> None:
    z = _zip_dataset(dataset_dir, tmp_path / "ds.zip")
    with zipfile.ZipFile(z) as zf:
        info = zf.getinfo("groundtruth.json")
    data = bytearray(z.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(start + 2, start + min(40, info.compress_size - 2)):
        data[k] ^= 0x5A
    z.write_bytes(bytes(data))
    with pytest.raises(DataFormatError) as err:
        gt.load(z)
    assert "groundtruth.json" in str(err.value)
    assert not gt.validate(z).ok
