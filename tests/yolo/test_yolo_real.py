"""The real YOLO folders in ../shared/data/yolo: read without error-level issues, with the
values the files state, and round-trip (yolo -> groundtruth -> yolo) to the same rows."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

import groundtruth as gt
from groundtruth import converters
from tests.yolo.helpers import REAL_FOLDERS, assert_same_rows, label_rows

# folder: (layout, task, items, annotations)
EXPECTED = {
    "datumaro/yolo": ("darknet", "detect", 1, 2),
    "datumaro/yolov8_detection": ("ultralytics", "detect", 1, 2),
    "datumaro/yolov8_detection_with_list_of_imgs": ("ultralytics", "detect", 1, 2),
    "datumaro/yolov8_detection_with_list_of_names": ("ultralytics", "detect", 1, 2),
    "datumaro/yolov8_detection_with_subset_txt": ("ultralytics", "detect", 1, 2),
    "datumaro/yolov8_oriented_boxes": ("ultralytics", "obb", 1, 2),
    "datumaro/yolov8_pose": ("ultralytics", "pose", 1, 1),
    "datumaro/yolov8_pose_two_values_per_point": ("ultralytics", "pose", 1, 1),
    "datumaro/yolov8_segmentation": ("ultralytics", "segment", 1, 2),
    "labelformat/object_detection/YOLOv8": ("ultralytics", "detect", 2, 16),
    "labelformat/instance_segmentation/YOLOv8": ("ultralytics", "segment", 2, 3),
    "labelstudio_sdk": ("labels", "detect", 7, 25),
}
ROUND_TRIP_TOL = 1e-6  # the files have 6 decimals; OBB corners are re-fitted to a rectangle


@pytest.mark.parametrize("folder", REAL_FOLDERS)
def test_reads_without_errors_and_is_detected(yolo_data: Path, folder: str) -> None:
    path = yolo_data / folder
    assert converters.detect_format(str(path)) == "yolo"
    ds = gt.load(str(path))  # format detected
    errors = [str(i) for i in ds.issues if i.severity == "error"]
    assert not errors
    layout, task, n_items, n_anns = EXPECTED[folder]
    yolo = ds.manifest.extensions["yolo"]
    assert (yolo["layout"], yolo["task"]) == (layout, task)
    assert (len(ds.items), len(ds.annotations)) == (n_items, n_anns)
    assert all(it.width and it.height for it in ds.items)
    # The spec's bounds rule applies to a rotated box's corners: the fixture's second box
    # reaches 0.098 px above the image (its YOLO corner y is -0.009808), reported by validate
    # unless that much is tolerated. The reader itself accepts it (MAPPING.md#coordinates).
    report = gt.validate(str(path), tolerance=0.1 if task == "obb" else 0.0)
    assert report.ok, [str(i) for i in report.issues if i.severity == "error"]
    if task == "obb":
        assert [i.code for i in gt.validate(str(path)).issues if i.severity == "error"] == [
            "geometry.out-of-bounds"]


@pytest.mark.parametrize("folder", REAL_FOLDERS)
def test_round_trip_gives_the_same_rows_names_and_splits(yolo_data: Path, folder: str,
                                                        tmp_path: Path) -> None:
    src = yolo_data / folder
    ds = gt.load(str(src), format="yolo")
    report = gt.save(ds, str(tmp_path / "out"), format="yolo")
    assert report.lossless, report.loss_summary()
    assert_same_rows(label_rows(src), label_rows(tmp_path / "out"), ROUND_TRIP_TOL)
    back = gt.load(str(tmp_path / "out"), format="yolo")
    assert not [i for i in back.issues if i.severity == "error"]
    assert [lab.name for lab in back.manifest.taxonomy.label_sets[0].labels] == [
        lab.name for lab in ds.manifest.taxonomy.label_sets[0].labels]
    assert [(i.id, i.uri, i.split, i.width, i.height) for i in back.items] == [
        (i.id, i.uri, i.split, i.width, i.height) for i in ds.items]
    assert [(a.id, a.label, a.type) for a in back.annotations] == [  # type: ignore[attr-defined]
        (a.id, a.label, a.type) for a in ds.annotations]  # type: ignore[attr-defined]
    configs = sorted(p.name for p in src.iterdir() if p.suffix in (".yaml", ".data"))
    for name in configs:
        written = tmp_path / "out" / ("data.yaml" if name.endswith(".yaml") else name)
        if name.endswith(".yaml"):
            a, b = yaml.safe_load((src / name).read_text()), yaml.safe_load(written.read_text())
            assert _as_map(a.pop("names")) == _as_map(b.pop("names"))
            assert a == b
        else:
            assert (src / name).read_text().splitlines() == written.read_text().splitlines()


def _as_map(names: list[str] | dict[int, str]) -> dict[int, str]:
    return dict(enumerate(names)) if isinstance(names, list) else names


def test_values_in_pixels(yolo_data: Path) -> None:
    det = gt.load(str(yolo_data / "datumaro/yolov8_detection"))
    box = det.annotations[0]
    assert box.label == "label_2"
    assert box.bbox == pytest.approx([0.0, 2.0, 4.0, 2.0], abs=1e-4)  # type: ignore[attr-defined]
    assert det.items[0].uri == "images/train/1.jpg"

    pose = gt.load(str(yolo_data / "datumaro/yolov8_pose"))
    kp = pose.annotations[0]
    assert kp.keypoints == pytest.approx([1.5, 2.0, 2, 4.5, 4.0, 2, 7.5, 6.0, 2])  # type: ignore[attr-defined]
    lset = pose.manifest.taxonomy.label_sets[0]
    assert lset.extensions["yolo"]["kpt_shape"] == [3, 3]
    assert lset.labels[0].keypoints == ["0", "1", "2"]
    # [3, 2]: no visibility column; the same 10 values are read as pose, not as a polygon
    two = gt.load(str(yolo_data / "datumaro/yolov8_pose_two_values_per_point"))
    assert two.annotations[0].type == "keypoints"  # type: ignore[attr-defined]
    assert two.annotations[0].keypoints[2::3] == [2, 2, 2]  # type: ignore[attr-defined]

    obb = gt.load(str(yolo_data / "datumaro/yolov8_oriented_boxes"))
    first, second = obb.annotations
    assert first.rotation == pytest.approx(30.0, abs=1e-3)  # type: ignore[attr-defined]
    assert first.bbox[2:] == pytest.approx([3.0, 4.0], abs=1e-3)  # type: ignore[attr-defined]
    assert second.rotation == pytest.approx(120.0, abs=1e-3)  # type: ignore[attr-defined]
    assert not obb.issues  # the corner at -0.0098 is a rotated box's, not an error

    seg = gt.load(str(yolo_data / "datumaro/yolov8_segmentation"))
    assert seg.annotations[0].polygon == [[1.5, 1.0, 6.0, 1.0, 6.0, 5.0]]  # type: ignore[attr-defined]


def test_layout_quirks(yolo_data: Path) -> None:
    # darknet: `data/` prefixes that do not exist in the folder
    dk = gt.load(str(yolo_data / "datumaro/yolo"))
    assert dk.items[0].id == "obj_train_data/1"
    assert dk.items[0].split == "train"
    # a subset list file with the same prefix
    sub = gt.load(str(yolo_data / "datumaro/yolov8_detection_with_subset_txt"))
    assert sub.items[0].uri == "images/train/1.jpg"
    # names with spaces, file names with dots and spaces, sizes from image_sizes.json
    lf = gt.load(str(yolo_data / "labelformat/object_detection/YOLOv8"))
    assert lf.manifest.taxonomy.label_sets[0].labels[1].name == "bicycle with space"
    assert {i.uri for i in lf.items} == {
        "images/a-difficult subfolder/a-weird Filename.asdf.jpg",
        "images/a-difficult subfolder/aNother-weird__ filename.with.many.characters.jpg"}
    # Label Studio: classes.txt, mixed image extensions found through image_sizes.json
    ls = gt.load(str(yolo_data / "labelstudio_sdk"))
    assert {i.id: (i.uri, i.width) for i in ls.items}["images/img_6"] == ("images/img_6.jpeg", 1280)
    assert ls.annotations[0].label == "bus"
    assert ls.items[0].split is None


@pytest.mark.parametrize(("name", "names", "numbered"), [
    ("classes.txt", ["OBJECT_A", "OBJECT_B"], True),
    ("data_v5.yaml", ["OBJECT_A", "OBJECT_B"], False),
    ("data_v7.yaml", ["OBJECT_A", "OBJECT_B"], False),
])
def test_kili_class_lists(yolo_data: Path, name: str, names: list[str], numbered: bool) -> None:
    ds = gt.load(str(yolo_data / "kili_export_expected" / name), format="yolo")
    assert [lab.name for lab in ds.manifest.taxonomy.label_sets[0].labels] == names
    assert not [i for i in ds.issues if i.severity == "error"]
    assert bool(ds.manifest.extensions["yolo"].get("config_keys", {}).get(
        "@names_numbered")) is numbered


def test_ids_follow_the_label_lines(yolo_data: Path) -> None:
    ds = gt.load(str(yolo_data / "labelstudio_sdk"))
    img1 = [a for a in ds.annotations if a.item_id == "images/img_1"]
    assert [a.id for a in img1] == [f"images/img_1#{n}" for n in range(1, len(img1) + 1)]
    assert math.isclose(img1[0].bbox[2], 617.0)  # type: ignore[attr-defined]
