"""Integrity on every read (issue 13, items 6, 7, 9): a tampered part is never loaded silently.

Every entry point that reads a native dataset checks each part's SHA-256 (hashed as it is read)
and record count, and raises `IntegrityError` naming the part; `verify=False` / `--no-verify`
opt out. The manifest's fingerprint is checked where it is computed (validate, diff).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import groundtruth as gt
from groundtruth.cli import main
from groundtruth.errors import DataFormatError, IntegrityError
from groundtruth.io import iter_batches, read_table
from tests.helpers import example


def _part(root: Path, kind: str = "annotations") -> tuple[Path, dict[str, Any], dict[str, Any]]:
    manifest = json.loads((root / "groundtruth.json").read_text())
    part = next(p for p in manifest["parts"] if p["kind"] == kind)
    return root / part["path"], part, manifest


def flip_digit(root: Path) -> None:
    """One digit of a coordinate changes: same size, still valid data."""
    path, _, _ = _part(root)
    text = path.read_bytes()
    m = re.search(rb'"bbox":\[(\d)', text)
    assert m is not None
    k = m.start(1)
    path.write_bytes(text[:k] + (b"7" if text[k:k + 1] != b"7" else b"8") + text[k + 1:])


def swap_label(root: Path) -> None:
    """A label replaced by another, padded to the same size ("car" -> "cat")."""
    path, _, _ = _part(root)
    text = path.read_bytes()
    assert b'"label":"car"' in text
    path.write_bytes(text.replace(b'"label":"car"', b'"label":"cat"', 1))


def truncate(root: Path) -> None:
    path, _, _ = _part(root)
    path.write_bytes(path.read_bytes()[:-40])


def count_mismatch(root: Path) -> None:
    """The manifest lists one record more than the (untouched) part holds."""
    _, part, manifest = _part(root)
    part["records"] += 1
    (root / "groundtruth.json").write_text(json.dumps(manifest))


def flip_byte(root: Path) -> None:
    """A Parquet part with one byte changed in the middle (same size)."""
    path, _, _ = _part(root)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


JSONL_ATTACKS: dict[str, Callable[[Path], None]] = {
    "flipped-digit": flip_digit, "swapped-label": swap_label, "truncated": truncate,
    "record-count": count_mismatch,
}
PARQUET_ATTACKS: dict[str, Callable[[Path], None]] = {
    "flipped-byte": flip_byte, "truncated": truncate, "record-count": count_mismatch,
}
CASES = [("jsonl", n, f) for n, f in JSONL_ATTACKS.items()] + [
    ("parquet", n, f) for n, f in PARQUET_ATTACKS.items()]


def _entry_points(root: Path, tmp: Path) -> dict[str, Callable[[], Any]]:
    return {
        "load": lambda: gt.load(root),
        "iter_records": lambda: list(gt.iter_records(root)),
        "iter_batches": lambda: list(iter_batches(root)),
        "read_table": lambda: read_table(root),
        "scan": lambda: list(gt.scan(root)),
        "stats": lambda: gt.stats(root),
        "convert": lambda: gt.convert(root, tmp / "converted"),
        "export": lambda: gt.export(root, tmp / "train.jsonl", task="classification"),
        "diff": lambda: gt.diff(root, root),
    }


@pytest.fixture
def dataset() -> gt.Dataset:
    return example("image-detection")


@pytest.mark.parametrize(("encoding", "attack", "tamper"), CASES,
                         ids=[f"{e}-{n}" for e, n, _ in CASES])
def test_every_entry_point_refuses_a_tampered_part(dataset: gt.Dataset, tmp_path: Path,
                                                   encoding: str, attack: str,
                                                   tamper: Callable[[Path], None]) -> None:
    root = tmp_path / "ds"
    gt.save(dataset, root, encoding=encoding)
    tamper(root)
    _, part, _ = _part(root)
    for name, call in _entry_points(root, tmp_path).items():
        with pytest.raises(IntegrityError) as err:
            call()
        assert part["path"] in str(err.value), (name, str(err.value))
        if attack == "flipped-digit" or attack == "flipped-byte":
            assert part["sha256"] in str(err.value), name  # expected and actual are named
    assert not (tmp_path / "converted").exists()
    assert not (tmp_path / "train.jsonl").exists()


@pytest.mark.parametrize("attack", ["flipped-digit", "swapped-label", "record-count"])
def test_verify_false_reads_it_anyway(dataset: gt.Dataset, tmp_path: Path,
                                      attack: str) -> None:
    root = tmp_path / "ds"
    gt.save(dataset, root)
    JSONL_ATTACKS[attack](root)
    ds = gt.load(root, verify=False)
    assert len(ds.annotations) == len(dataset.annotations)
    if attack == "swapped-label":
        assert [a.label for a in ds.annotations].count("cat") == 1
    assert len(list(gt.iter_records(root, verify=False))) == len(list(dataset.records()))
    assert read_table(root, verify=False).num_rows == len(dataset.annotations)
    assert gt.stats(root, verify=False)["annotations"] == len(dataset.annotations)
    gt.convert(root, tmp_path / "copy", verify=False)
    gt.export(root, tmp_path / "t.jsonl", task="classification", verify=False)
    gt.diff(root, tmp_path / "copy", verify=False)


def test_parquet_verify_false_reads_a_part_that_is_only_relabelled(dataset: gt.Dataset,
                                                                   tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    root = tmp_path / "ds"
    gt.save(dataset, root, encoding="parquet")
    part_path, part, manifest = _part(root)
    table = pq.read_table(part_path)
    labels = table.column("label").to_pylist()
    labels[0] = "cat"
    import pyarrow as pa

    table = table.set_column(table.schema.get_field_index("label"), "label",
                             pa.array(labels, table.schema.field("label").type))
    pq.write_table(table, part_path, compression="zstd")
    part["bytes"] = part_path.stat().st_size  # a careful forger keeps the size right
    (root / "groundtruth.json").write_text(json.dumps(manifest))
    with pytest.raises(IntegrityError, match="does not match its hash"):
        gt.load(root)
    assert gt.load(root, verify=False).annotations[0].label == "cat"


@pytest.mark.parametrize("command", [
    ["info", "{root}"],
    ["info", "{root}", "--format", "json"],
    ["convert", "{root}", "{tmp}/out"],
    ["convert", "{root}", "{tmp}/out.json", "--to", "coco"],
    ["export", "{root}", "{tmp}/t.jsonl", "--task", "classification"],
    ["diff", "{root}", "{root}"],
])
@pytest.mark.parametrize("encoding", ["jsonl", "parquet"])
def test_cli_refuses_a_tampered_part_and_no_verify_reads_it(
        dataset: gt.Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        command: list[str], encoding: str) -> None:
    root = tmp_path / "ds"
    gt.save(dataset, root, encoding=encoding)
    (flip_digit if encoding == "jsonl" else flip_byte)(root)
    argv = [a.format(root=root, tmp=tmp_path) for a in command]
    with pytest.raises(SystemExit) as code:
        main(argv)
    err = capsys.readouterr().err
    assert code.value.code != 0
    assert "Traceback" not in err
    assert "does not match its hash" in err
    if encoding == "parquet":
        return  # a flipped byte in a compressed page need not stay readable
    with pytest.raises(SystemExit) as code:
        main([*argv, "--no-verify"])
    assert code.value.code in (0, 1), capsys.readouterr().err  # 1: diff's own verdict


def test_integrity_error_location_and_hint(dataset: gt.Dataset, tmp_path: Path) -> None:
    root = tmp_path / "ds"
    gt.save(dataset, root)
    flip_digit(root)
    with pytest.raises(IntegrityError) as err:
        gt.load(root)
    e = err.value
    assert e.location is not None
    assert e.location.file == str(root / "annotations.jsonl")
    assert e.hint is not None
    assert "verify=False" in e.hint


def test_hashing_is_streamed_not_a_second_pass(dataset: gt.Dataset, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # every byte of the part is read exactly once on a verified load
    from fsspec.implementations.local import LocalFileOpener

    root = tmp_path / "ds"
    gt.save(dataset, root)
    read: dict[str, int] = {}
    original = LocalFileOpener.read

    def counting(self: Any, *args: Any) -> Any:
        data = original(self, *args)
        read[self.path] = read.get(self.path, 0) + len(data)
        return data

    monkeypatch.setattr(LocalFileOpener, "read", counting)
    gt.load(root)
    part_path, part, _ = _part(root)
    assert read[str(part_path)] == part["bytes"]


# -- the manifest's fingerprint ---------------------------------------------------------------


def _claim(root: Path, fingerprint: str) -> None:
    manifest = json.loads((root / "groundtruth.json").read_text())
    manifest["fingerprint"] = fingerprint
    (root / "groundtruth.json").write_text(json.dumps(manifest))


FAKE = "sha256:" + "0" * 64


@pytest.mark.parametrize("encoding", ["jsonl", "parquet"])
def test_validate_checks_the_fingerprint(dataset: gt.Dataset, tmp_path: Path,
                                         encoding: str) -> None:
    root = tmp_path / "ds"
    gt.save(dataset, root, encoding=encoding)
    assert not [i for i in gt.validate(root).issues if i.severity == "error"]
    _claim(root, FAKE)
    found = [i for i in gt.validate(root).issues if i.code == "manifest.fingerprint-mismatch"]
    assert len(found) == 1
    assert found[0].location.path == "$.fingerprint"
    assert dataset.fingerprint() in found[0].message
    assert FAKE in found[0].message
    # skipping hashes skips this check as well
    assert not [i for i in gt.validate(root, verify_hashes=False).issues
                if i.code == "manifest.fingerprint-mismatch"]


@pytest.mark.parametrize("name", ["image-detection", "consensus", "text-ner-relations",
                                  "conversation-preference", "document-and-other",
                                  "audio-transcription", "video-tracking"])
@pytest.mark.parametrize("encoding", ["jsonl", "parquet"])
def test_validate_fingerprint_agrees_on_every_example(tmp_path: Path, name: str,
                                                      encoding: str) -> None:
    root = tmp_path / "ds"
    gt.save(example(name), root, encoding=encoding)
    codes = [i.code for i in gt.validate(root).issues]
    assert "manifest.fingerprint-mismatch" not in codes


@pytest.mark.parametrize("encoding", ["jsonl", "parquet"])
def test_diff_shows_the_computed_fingerprint_and_refuses_a_false_claim(
        dataset: gt.Dataset, tmp_path: Path, encoding: str) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    gt.save(dataset, old, encoding=encoding)
    gt.save(dataset, new, encoding=encoding)
    result = gt.diff(old, new)
    assert result.old["fingerprint"] == dataset.fingerprint()
    _claim(new, FAKE)
    with pytest.raises(IntegrityError, match="manifest claims"):
        gt.diff(old, new)
    result = gt.diff(old, new, verify=False)
    assert result.new["fingerprint"] == dataset.fingerprint()  # computed, never the claim
    from groundtruth.diff import render

    assert FAKE not in render(result, "json")
    assert FAKE[:15] not in render(result, "text")


def test_engine_fingerprint_refuses_a_false_claim(dataset: gt.Dataset, tmp_path: Path) -> None:
    root = tmp_path / "ds"
    gt.save(dataset, root, encoding="parquet")
    _claim(root, FAKE)
    with pytest.raises(IntegrityError, match="does not match the fingerprint"):
        gt.fingerprint(root)


# -- a damaged Parquet page -------------------------------------------------------------------


def test_corrupted_parquet_page_names_the_part(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    root = tmp_path / "ds"
    ds = example("image-detection")
    gt.save(ds, root, encoding="parquet")
    part_path, part, manifest = _part(root)
    # an uncompressed part, so that damage lands in page data, not in a compressed frame;
    # the manifest states its new size (a hash is not checked without verify)
    table = pq.read_table(part_path)
    pq.write_table(table, part_path, compression="none")
    part["bytes"] = part_path.stat().st_size
    (root / "groundtruth.json").write_text(json.dumps(manifest))
    meta = pq.read_metadata(part_path)
    col = meta.row_group(0).column(table.schema.get_field_index("id"))
    data = bytearray(part_path.read_bytes())
    start = col.data_page_offset
    for k in range(start, start + 12):  # the page header: no longer a valid page
        data[k] = 0xFF
    part_path.write_bytes(bytes(data))
    for call in (lambda: gt.load(root, verify=False),
                 lambda: read_table(root, verify=False),
                 lambda: list(gt.iter_records(root, verify=False))):
        with pytest.raises((DataFormatError, IntegrityError)) as err:
            call()
        assert part["path"] in str(err.value)
    with pytest.raises(IntegrityError, match="does not match its hash"):
        gt.load(root)


@pytest.mark.parametrize("encoding", ["jsonl", "parquet"])
def test_engine_validate_checks_the_fingerprint_as_validate_does(
        dataset: gt.Dataset, tmp_path: Path, encoding: str) -> None:
    from groundtruth.engine import validate as validate_on_engine

    root = tmp_path / "ds"
    gt.save(dataset, root, encoding=encoding)
    _claim(root, FAKE)
    single = gt.validate(root)
    engine = validate_on_engine(root, engine="local")
    assert [i.code for i in engine.issues] == [i.code for i in single.issues]
    assert "manifest.fingerprint-mismatch" in [i.code for i in engine.issues]


def test_no_fingerprint_error_on_top_of_a_damaged_part(dataset: gt.Dataset,
                                                       tmp_path: Path) -> None:
    root = tmp_path / "ds"
    gt.save(dataset, root)
    flip_digit(root)
    codes = [i.code for i in gt.validate(root).issues]
    assert "part.hash-mismatch" in codes
    assert "manifest.fingerprint-mismatch" not in codes
