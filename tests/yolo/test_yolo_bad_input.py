"""Bad YOLO input: every problem is an issue at file:line (with the image's item id), the
rest of the dataset is read; a dataset that cannot be read at all is one located error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import groundtruth as gt
from groundtruth.errors import ConversionError
from tests.conftest import ROOT


def _dataset(root: Path, rows: dict[str, bytes], *, yaml: str | None = None,
             sizes: dict[str, tuple[int, int]] | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "data.yaml").write_text(yaml or "train: images/train\nnames: [a, b]\n")
    for name, data in rows.items():
        f = root / "labels" / "train" / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(data)
    sizes = sizes if sizes is not None else {"x.jpg": (100, 50)}
    (root / "image_sizes.json").write_text(json.dumps(
        {f"images/train/{k}": {"width": w, "height": h} for k, (w, h) in sizes.items()}))
    return root


def _codes(ds: gt.Dataset) -> list[tuple[str, int | None, str]]:
    return [(i.code, i.location.line, i.severity) for i in ds.issues]


def test_each_bad_row_is_located_and_the_rest_is_read(tmp_path: Path) -> None:
    rows = (b"0 0.5 0.5 0.2 0.2\r\n"      # 1 fine
            b"5 0.5 0.5 0.2 0.2\r\n"      # 2 class id beyond the 2 names
            b"0 1.5 0.5 0.2 0.2\r\n"      # 3 coordinate > 1
            b"0 -0.005 0.5 0.2 0.2\r\n"   # 4 within Ultralytics' 1% tolerance
            b"\r\n"                       # 5 empty
            b"1 0.1 0.1 0.2 0.1 0.3 0.4 0.5\r\n"  # 6 odd number of coordinates
            b"x 0.5 0.5 0.2 0.2\r\n"      # 7 class not a number
            b"0 0.5 abc 0.2 0.2\r\n"      # 8 value not a number
            b"-1 0.5 0.5 0.1 0.1\r\n"     # 9 negative class
            b"0 0.5 0.5 0.2 0.2\r\n"      # 10 duplicate of line 1
            b"1 0.5 0.5\r\n")             # 11 too few values
    src = _dataset(tmp_path / "ds", {"x.txt": rows})
    ds = gt.load(str(src))
    where = str(src / "labels/train/x.txt")
    got = _codes(ds)
    assert ("yolo.row.class-out-of-range", 2, "error") in got
    assert ("yolo.row.out-of-range", 3, "error") in got
    assert ("yolo.row.near-range", 4, "warning") in got
    assert ("yolo.line.empty", 5, "info") in got
    assert ("yolo.row.columns", 6, "error") in got
    assert ("yolo.row.class-invalid", 7, "error") in got
    assert ("yolo.row.not-a-number", 8, "error") in got
    assert ("yolo.row.class-invalid", 9, "error") in got
    assert ("yolo.row.duplicate", 10, "warning") in got
    assert ("yolo.row.columns", 11, "error") in got
    assert ("yolo.file.crlf", 1, "info") in got
    assert all(i.location.file == where and i.location.record_id == "images/train/x"
               for i in ds.issues)
    # kept: lines 1-4 and 10 (the unknown class without a label, its id kept)
    assert [a.id for a in ds.annotations] == [f"images/train/x#{n}" for n in (1, 2, 3, 4, 10)]
    unknown = ds.annotations[1]
    assert unknown.label is None
    assert unknown.extensions == {"yolo": {"class_id": 5}}
    assert "odd number of coordinates (7)" in next(
        i.message for i in ds.issues if i.location.line == 6)


def test_unknown_class_survives_a_round_trip(tmp_path: Path) -> None:
    src = _dataset(tmp_path / "ds", {"x.txt": b"5 0.5 0.5 0.2 0.2\n"})
    ds = gt.load(str(src))
    report = gt.save(ds, str(tmp_path / "out"), format="yolo")
    assert (tmp_path / "out/labels/train/x.txt").read_text() == "5 0.5 0.5 0.2 0.2\n"
    assert report.lossless


def test_missing_image_and_size_keep_the_rows_verbatim(tmp_path: Path) -> None:
    src = _dataset(tmp_path / "ds", {"x.txt": b"0 0.5 0.5 0.2 0.2\n",
                                     "lost.txt": b"1 0.25 0.25 0.1 0.1\n"})
    ds = gt.load(str(src))
    got = {(i.code, i.location.record_id, i.severity) for i in ds.issues}
    assert ("yolo.image.missing", "images/train/lost", "warning") in got
    assert ("yolo.image.no-size", "images/train/lost", "error") in got
    lost = ds.item("images/train/lost")
    assert lost.width is None
    assert lost.extensions == {"yolo": {"rows": ["1 0.25 0.25 0.1 0.1"]}}
    report = gt.save(ds, str(tmp_path / "out"), format="yolo")
    assert (tmp_path / "out/labels/train/lost.txt").read_text() == "1 0.25 0.25 0.1 0.1\n"
    assert [i.code for i in report.issues] == ["yolo.export.unsized-rows"]


def test_image_header_gives_the_size_without_a_sizes_file(tmp_path: Path) -> None:
    from PIL import Image

    src = _dataset(tmp_path / "ds", {"x.txt": b"0 0.5 0.5 0.2 0.2\n"}, sizes={})
    (src / "images/train").mkdir(parents=True)
    Image.new("RGB", (40, 30)).save(src / "images/train/x.png")
    ds = gt.load(str(src))
    assert (ds.items[0].uri, ds.items[0].width, ds.items[0].height) == (
        "images/train/x.png", 40, 30)
    assert ds.annotations[0].bbox == pytest.approx([16, 12, 8, 6])  # type: ignore[attr-defined]
    assert not ds.issues


def test_a_named_sizes_file_wins(tmp_path: Path) -> None:
    src = _dataset(tmp_path / "ds", {"x.txt": b"0 0.5 0.5 0.2 0.2\n"})
    named = tmp_path / "sizes.json"
    named.write_text(json.dumps({"images/train/x.jpg": {"width": 200, "height": 400}}))
    ds = gt.load(str(src), sizes=str(named))
    assert (ds.items[0].width, ds.items[0].height) == (200, 400)


def test_pose_rows_are_checked_against_kpt_shape(tmp_path: Path) -> None:
    yaml = "train: images/train\nkpt_shape: [2, 3]\nflip_idx: [1, 0]\nnames: [p]\n"
    rows = (b"0 0.5 0.5 0.2 0.2 0.4 0.4 2 0.6 0.4 1\n"
            b"0 0.5 0.5 0.2 0.2 0.4 0.4 2\n"          # too few keypoint values
            b"0 0.5 0.5 0.2 0.2 0.4 0.4 5 0.6 0.4 1\n")  # visibility 5
    ds = gt.load(str(_dataset(tmp_path / "ds", {"x.txt": rows}, yaml=yaml)))
    assert _codes(ds) == [("yolo.row.columns", 2, "error"), ("yolo.row.visibility", 3, "error")]
    assert ds.annotations[0].keypoints == pytest.approx([40, 20, 2, 60, 20, 1])  # type: ignore[attr-defined]
    assert ds.manifest.taxonomy.label_sets[0].extensions["yolo"]["flip_idx"] == [1, 0]


def test_obb_corners_outside_are_fine_a_centre_outside_is_not(tmp_path: Path) -> None:
    yaml = "train: images/train\nnames: [a]\n"
    rows = (b"0 -0.05 0.1 0.3 0.1 0.3 0.3 -0.05 0.3\n"  # corners outside, centre inside
            b"0 1.1 0.1 1.3 0.1 1.3 0.3 1.1 0.3\n"      # centre outside: an error
            b"0 0.1 0.1 0.3 0.1 0.3 0.3 0.2 0.5\n")     # not a rectangle
    ds = gt.load(str(_dataset(tmp_path / "ds", {"x.txt": rows}, yaml=yaml)), task="obb")
    assert _codes(ds) == [("yolo.row.out-of-range", 2, "error"),
                          ("yolo.obb.not-rectangle", 3, "warning")]
    assert [a.type for a in ds.annotations] == ["bbox", "bbox", "polygon"]  # type: ignore[attr-defined]
    out = tmp_path / "out"
    gt.save(ds, str(out), format="yolo")
    written = (out / "labels/train/x.txt").read_text().splitlines()
    assert written[2] == "0 0.1 0.1 0.3 0.1 0.3 0.3 0.2 0.5"  # the 4 corners as they were


def test_counterclockwise_obb_corners_keep_their_order(tmp_path: Path) -> None:
    row = "0 0.1 0.1 0.1 0.3 0.3 0.3 0.3 0.1"
    src = _dataset(tmp_path / "ds", {"x.txt": (row + "\n").encode()},
                   yaml="train: images/train\nnames: [a]\n")
    ds = gt.load(str(src), task="obb")
    assert ds.annotations[0].extensions["yolo"]["corners"] == "counterclockwise"
    gt.save(ds, str(tmp_path / "out"), format="yolo")
    got = [float(v) for v in (tmp_path / "out/labels/train/x.txt").read_text().split()]
    assert got == pytest.approx([float(v) for v in row.split()], abs=1e-9)


@pytest.mark.parametrize(("yaml", "code"), [
    ("train: [images/train\nnames: [a]\n", "yolo.config.invalid"),
    ("- just\n- a list\n", "yolo.config.invalid"),
])
def test_unreadable_config_is_one_located_error(tmp_path: Path, yaml: str, code: str) -> None:
    src = _dataset(tmp_path / "ds", {"x.txt": b""}, yaml=yaml)
    with pytest.raises(ConversionError, match=code) as err:
        gt.load(str(src), format="yolo")
    assert err.value.location is not None
    assert err.value.location.file == str(src / "data.yaml")
    report = gt.validate(str(src), format="yolo")
    assert not report.ok
    assert report.issues[0].location.file == str(src / "data.yaml")


def test_names_problems_are_reported(tmp_path: Path) -> None:
    yaml = "train: images/train\nnc: 3\nnames: {0: a, 2: a}\n"
    ds = gt.load(str(_dataset(tmp_path / "ds", {"x.txt": b"2 0.5 0.5 0.1 0.1\n"}, yaml=yaml)))
    codes = [i.code for i in ds.issues]
    assert codes == ["yolo.names.not-contiguous", "yolo.names.count-mismatch",
                     "yolo.names.duplicate"]
    assert ds.annotations[0].label == "a (2)"
    out = tmp_path / "out"
    gt.save(ds, str(out), format="yolo")
    assert "  2: a\n" in (out / "data.yaml").read_text()
    assert (out / "labels/train/x.txt").read_text().startswith("2 ")


def test_cli_exit_codes_and_no_traceback(tmp_path: Path) -> None:
    src = _dataset(tmp_path / "bad", {"x.txt": b"7 0.5 0.5 0.2 0.2\n"})
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}

    def gt_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "groundtruth", *args], capture_output=True,
                              text=True, env=env, check=False)

    bad = gt_cli("validate", str(src))
    assert bad.returncode == 1
    assert "labels/train/x.txt:1" in bad.stdout
    assert "yolo.row.class-out-of-range" in bad.stdout
    (src / "data.yaml").write_text("names: [a\n")
    broken = gt_cli("convert", str(src), str(tmp_path / "out"))
    assert broken.returncode == 2
    assert "Traceback" not in broken.stderr
    assert "data.yaml" in broken.stderr


def test_roboflow_dotdot_paths(tmp_path: Path) -> None:
    root = tmp_path / "rf"
    (root / "train/labels").mkdir(parents=True)
    (root / "valid/labels").mkdir(parents=True)
    (root / "data.yaml").write_text(
        "train: ../train/images\nval: ../valid/images\nnc: 1\nnames: ['pothole']\n")
    (root / "train/labels/a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (root / "valid/labels/b.txt").write_text("")
    (root / "image_sizes.json").write_text(json.dumps({
        "train/images/a.jpg": {"width": 10, "height": 10},
        "valid/images/b.jpg": {"width": 10, "height": 10}}))
    ds = gt.load(str(root))
    assert not ds.issues
    assert [(i.id, i.split) for i in ds.items] == [("train/images/a", "train"),
                                                  ("valid/images/b", "val")]
    assert ds.annotations[0].bbox == [2.5, 2.5, 5.0, 5.0]  # type: ignore[attr-defined]


def test_bad_kpt_shape_is_an_error_and_kept_verbatim(tmp_path: Path) -> None:
    yaml = "train: images/train\nkpt_shape: [3, 4]\nnames: [p]\n"
    src = _dataset(tmp_path / "ds", {"x.txt": b"0 0.5 0.5 0.2 0.2\n"}, yaml=yaml)
    ds = gt.load(str(src))
    assert [(i.code, i.severity, i.location.path) for i in ds.issues] == [
        ("yolo.config.kpt-shape", "error", "$.kpt_shape")]
    gt.save(ds, str(tmp_path / "out"), format="yolo")
    assert "kpt_shape:\n- 3\n- 4\n" in (tmp_path / "out/data.yaml").read_text()
