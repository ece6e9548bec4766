"""A YOLO folder works with every verb: detected without --from, validated at its own
locations, diffed, converted (streamed to Parquet in bounded memory) and written back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import groundtruth as gt
from groundtruth.cli import main
from groundtruth.converters.yolo import yolo_to_native


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    out = capsys.readouterr()
    return int(exit_.value.code or 0), out.out, out.err


@pytest.mark.parametrize("entry", ["", "data.yaml"])
def test_convert_detects_the_folder_or_its_yaml(
        yolo_data: Path, entry: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = yolo_data / "datumaro/yolov8_segmentation" / entry
    code, out, _ = _cli(["convert", str(src), str(tmp_path / "ds"), "--format", "json"], capsys)
    assert code == 0
    got = json.loads(out)
    assert (got["from"], got["items"], got["annotations"]) == ("yolo", 1, 2)
    assert got["lossless"] is True


def test_convert_detects_obj_data(yolo_data: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(["convert", str(yolo_data / "datumaro/yolo/obj.data"),
                         str(tmp_path / "ds")], capsys)
    assert code == 0
    assert "(yolo)" in out


@pytest.mark.parametrize("folder", ["labelstudio_sdk", "labelformat/instance_segmentation/YOLOv8",
                                    "datumaro/yolov8_oriented_boxes", "datumaro/yolov8_pose"])
def test_streamed_parquet_equals_the_in_memory_read(
        yolo_data: Path, folder: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the Parquet stream builds plain rows without models: same records, same fingerprint
    src = yolo_data / folder
    code, out, _ = _cli(["convert", str(src), str(tmp_path / "pq"), "--encoding", "parquet",
                         "--format", "json"], capsys)
    assert code == 0
    details = json.loads(out)["details"]
    assert details["streamed"] is True
    streamed = gt.load(str(tmp_path / "pq"))
    direct = gt.load(str(src))
    assert streamed.fingerprint() == direct.sort().fingerprint() == details["fingerprint"]
    assert [a.to_json_dict() for a in streamed.sort().annotations] == [
        a.to_json_dict() for a in direct.annotations]
    result = yolo_to_native(str(src), str(tmp_path / "jsonl"), encoding="jsonl")
    assert (result.items, result.annotations) == (len(direct.items), len(direct.annotations))
    assert gt.load(str(tmp_path / "jsonl")).fingerprint() == direct.fingerprint()


def test_validate_diff_info_on_yolo(yolo_data: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    src = yolo_data / "labelstudio_sdk"
    code, out, _ = _cli(["validate", str(src)], capsys)
    assert code == 0
    assert "valid" in out
    # a re-export diffs as unchanged; a relabelled row shows as a label change
    ds = gt.load(str(src))
    gt.save(ds, str(tmp_path / "same"), format="yolo")
    code, out, _ = _cli(["diff", str(src), str(tmp_path / "same"), "--format", "json"], capsys)
    assert code == 0
    summary = json.loads(out)["summary"]
    assert summary["annotations"]["changed"] == 0
    assert summary["annotations"]["unchanged"] == 25
    label = tmp_path / "same/labels/img_7.txt"
    rows = label.read_text().splitlines()
    label.write_text("\n".join(["0" + rows[0][1:], *rows[1:]]) + "\n")
    code, out, _ = _cli(["diff", str(src), str(tmp_path / "same"), "--format", "json",
                         "--fail-on", "changed-labels>0"], capsys)
    assert code == 1
    code, out, _ = _cli(["info", str(src), "--format", "json"], capsys)
    assert code == 0
    assert json.loads(out)["annotations"] == 25


def test_validate_reports_bad_rows_at_their_lines(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "ds"
    (root / "labels/train").mkdir(parents=True)
    (root / "data.yaml").write_text("train: images/train\nnames: [a]\n")
    (root / "labels/train/x.txt").write_text("0 0.5 0.5 0.1 0.1\n0 0.5 0.5\n")
    (root / "image_sizes.json").write_text('{"images/train/x.jpg": {"width": 10, "height": 10}}')
    code, out, _ = _cli(["validate", str(root), "--format", "json"], capsys)
    assert code == 1
    issues = json.loads(out)["issues"]
    bad = next(i for i in issues if i["code"] == "yolo.row.columns")
    assert bad["location"] == {"file": str(root / "labels/train/x.txt"), "line": 2,
                               "record_id": "images/train/x"}


def test_write_options_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   yolo_data: Path) -> None:
    code, _, err = _cli(["convert", str(yolo_data / "labelstudio_sdk"), str(tmp_path / "o"),
                         "--to", "yolo", "-w", "task=banana"], capsys)
    assert code == 2
    assert 'writing option task="banana" for yolo is not one of detect, segment' in err
    code, _, err = _cli(["convert", str(yolo_data / "labelstudio_sdk"), str(tmp_path / "o"),
                         "-o", "colour=red"], capsys)
    assert code == 2
    assert "colour" in err


def test_any_fsspec_url(memfs, yolo_data: Path) -> None:
    src = yolo_data / "labelstudio_sdk"
    for f in src.rglob("*"):
        if f.is_file():
            memfs.pipe(f"/ls/{f.relative_to(src).as_posix()}", f.read_bytes())
    ds = gt.load("memory://ls")  # detected inside the memory filesystem
    assert (ds.source_format, len(ds.items), len(ds.annotations)) == ("yolo", 7, 25)
    gt.save(ds, "memory://out", format="yolo")
    written = memfs.cat_file("/out/labels/img_7.txt").decode().split()
    assert [float(v) for v in written] == pytest.approx(
        [float(v) for v in (src / "labels/img_7.txt").read_text().split()], abs=1e-10)


@pytest.mark.parametrize("encoding", ["jsonl", "parquet"])
def test_streamed_write_equals_the_in_memory_write(
        tmp_path: Path, encoding: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from groundtruth.converters.coco import coco_to_native
    from groundtruth.converters.yolo import _stream, native_to_yolo
    from tests.conftest import shared_path

    src = shared_path("coco", "tinycoco_instances_val2017.json")
    native = tmp_path / "native"
    coco_to_native(src, native, encoding=encoding)  # COCO's order: annotations not by image
    monkeypatch.setattr(_stream, "BUCKET", 10)  # many buckets
    streamed = native_to_yolo(str(native), str(tmp_path / "streamed"), crowd="box")
    direct = gt.save(gt.load(str(native)), str(tmp_path / "direct"), format="yolo",
                     crowd="box")
    assert streamed.details["streamed"] is True
    assert {k: v["count"] for k, v in streamed.loss_summary().items()} == {
        k: v["count"] for k, v in direct.loss_summary().items()}
    files = sorted(p.relative_to(tmp_path / "direct") for p in (tmp_path / "direct").rglob("*")
                   if p.is_file())
    assert len(files) == 6 + 2
    for f in files:
        assert (tmp_path / "streamed" / f).read_bytes() == (tmp_path / "direct" / f).read_bytes()
    # the CLI takes the streamed path for a native source
    code, out, _ = _cli(["convert", str(native), str(tmp_path / "cli"), "--to", "yolo",
                         "--format", "json"], capsys)
    assert code == 0
    assert json.loads(out)["details"]["streamed"] is True
