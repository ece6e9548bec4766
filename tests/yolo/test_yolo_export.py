"""Writing YOLO: COCO -> YOLO -> COCO keeps the boxes; what YOLO cannot carry is in the loss
report, with the `-w` mappings (masks traced, parts merged, crowd skipped or boxed, ...)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import yaml

import groundtruth as gt
from groundtruth import Dataset
from groundtruth.converters import _rle
from groundtruth.models import (
    BBox,
    Classification,
    Item,
    Keypoints,
    Label,
    LabelSet,
    Manifest,
    Mask,
    Polygon,
    Rle,
    Taxonomy,
    TextAnswer,
)
from tests.conftest import shared_path


def _boxes_by_image(coco: dict) -> dict[str, list[tuple[str, list[float]]]]:
    names = {c["id"]: c["name"] for c in coco["categories"]}
    files = {im["id"]: im["file_name"].rsplit("/", 1)[-1] for im in coco["images"]}
    out: dict[str, list[tuple[str, list[float]]]] = defaultdict(list)
    for a in coco["annotations"]:
        out[files[a["image_id"]]].append((names[a["category_id"]], a["bbox"]))
    return {k: sorted(v) for k, v in out.items()}


def _close(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), 1.0)


@pytest.mark.parametrize("name", ["tinycoco_instances_val2017.json",
                                  "datumaro_cvat_style/instances_val.json",
                                  "panoptic_coco_detection_format.json"])
def test_coco_to_yolo_to_coco_keeps_every_box(name: str, tmp_path: Path) -> None:
    src = shared_path("coco", name)
    ds = gt.load(str(src))
    report = gt.save(ds, str(tmp_path / "yolo"), format="yolo", task="detect", crowd="box")
    assert report.details["task"] == "detect"
    back = gt.load(str(tmp_path / "yolo"))
    assert not [i for i in back.issues if i.severity != "info"]
    gt.save(back, str(tmp_path / "back.json"), format="coco")
    want = _boxes_by_image(json.loads(src.read_text()))
    got = _boxes_by_image(json.loads((tmp_path / "back.json").read_text()))
    assert sorted(got) == sorted(want)
    for image, boxes in want.items():
        assert [n for n, _ in got[image]] == [n for n, _ in boxes], image
        for (_, b), (_, g) in zip(boxes, got[image], strict=True):
            assert all(_close(x, y) for x, y in zip(b, g, strict=True)), (image, b, g)


def test_coco_keypoints_to_yolo_pose_and_back(tmp_path: Path) -> None:
    src = shared_path("coco", "minicoco_person_keypoints_train2017.json")
    ds = gt.load(str(src))
    report = gt.save(ds, str(tmp_path / "pose"), format="yolo")
    assert report.details["task"] == "pose"
    cfg = yaml.safe_load((tmp_path / "pose/data.yaml").read_text())
    assert cfg["kpt_shape"] == [17, 3]
    assert cfg["kpt_names"][0][:3] == ["nose", "left_eye", "right_eye"]
    assert cfg["flip_idx"][:5] == [0, 2, 1, 4, 3]  # from the left_/right_ names
    loss = report.loss_summary()
    assert loss["yolo.export.crowd"]["count"] == 1
    assert "skeleton" in loss["yolo.export.label-fields"]["message"]
    # the segmentation half of each COCO record has no place in a pose row
    assert loss["yolo.export.unsupported-annotation"]["count"] == sum(
        1 for a in ds.annotations
        if not isinstance(a, Keypoints) and not a.extensions["coco"].get("iscrowd"))
    back = gt.load(str(tmp_path / "pose"))
    want = {a.id: a for a in ds.annotations if isinstance(a, Keypoints)
            and not a.extensions.get("coco", {}).get("iscrowd")}
    got = [a for a in back.annotations if isinstance(a, Keypoints)]
    assert len(got) == len(want)
    by_item: dict[str, list[Keypoints]] = defaultdict(list)
    for a in want.values():
        by_item[a.item_id].append(a)
    for a in got:
        item = a.item_id.rsplit("/", 1)[-1].lstrip("0")
        original = by_item[item].pop(0)
        for x, y in zip(original.keypoints, a.keypoints, strict=True):
            assert _close(x, y)


def _manifest(*labels: Label) -> Manifest:
    return Manifest(name="t", taxonomy=Taxonomy(label_sets=[LabelSet(name="objects",
                                                                     labels=list(labels))]))


def _image(item_id: str = "img", w: int = 100, h: int = 80, **kw: object) -> Item:
    return Item(id=item_id, kind="image", uri=f"{item_id}.jpg", width=w, height=h, **kw)


def _fill(ring: list[float], height: int, width: int) -> np.ndarray:
    """Pixels whose centre is inside the ring (even-odd rule)."""
    yy, xx = np.mgrid[:height, :width] + 0.5
    inside = np.zeros((height, width), dtype=bool)
    pts = np.asarray(ring).reshape(-1, 2)
    for (x0, y0), (x1, y1) in zip(pts, np.roll(pts, -1, axis=0), strict=True):
        crosses = (y0 > yy) != (y1 > yy)
        with np.errstate(divide="ignore", invalid="ignore"):
            at = x0 + (yy - y0) * (x1 - x0) / (y1 - y0)
        inside ^= crosses & (xx < at)
    return inside


def _rows(path: Path) -> list[list[float]]:
    return [[float(v) for v in line.split()] for line in path.read_text().splitlines()]


def test_loss_report_names_each_kind_with_example_ids(tmp_path: Path) -> None:
    square = [10.0, 10.0, 50.0, 10.0, 50.0, 50.0, 10.0, 50.0]
    mask = np.zeros((80, 100), dtype=bool)
    mask[20:40, 30:60] = True
    ds = Dataset(_manifest(Label(name="a", description="the a class"), Label(name="b")), [
        _image("img", split="train"),
        _image("empty", split="val"),
        Item(id="doc", kind="text", text="hello"),
    ], [
        Polygon(id="hole", item_id="img", label="a", polygon=[square],
                holes=[[20.0, 20.0, 30.0, 20.0, 30.0, 30.0]]),
        Polygon(id="parts", item_id="img", label="b",
                polygon=[square, [60.0, 60.0, 70.0, 60.0, 70.0, 70.0]]),
        Mask(id="rle", item_id="img", label="a",
             rle=Rle(size=[80, 100], counts=_rle.encode(mask).tolist())),
        Polygon(id="crowd", item_id="img", label="a", polygon=[square],
                extensions={"coco": {"iscrowd": 1}}),
        BBox(id="who", item_id="img", label="b", bbox=[1, 2, 3, 4], annotator="ann-1",
             attributes={"occluded": True}),
        Classification(id="tag", item_id="img", label="a"),
        TextAnswer(id="caption", item_id="doc", text="hi"),
        BBox(id="nolabel", item_id="img", bbox=[1, 2, 3, 4]),
    ])
    report = gt.save(ds, str(tmp_path / "out"), format="yolo", task="segment", mask_tolerance=0)
    loss = report.loss_summary()
    assert loss["yolo.export.holes"]["examples"] == ["hole"]
    assert loss["yolo.export.multi-part"]["examples"] == ["parts"]
    assert loss["yolo.export.mask-traced"]["examples"] == ["rle"]
    assert loss["yolo.export.crowd"]["examples"] == ["crowd"]
    assert loss["yolo.export.provenance"]["examples"] == ["who"]
    assert "annotator" in loss["yolo.export.provenance"]["message"]
    assert "attributes" in loss["yolo.export.provenance"]["message"]
    assert loss["yolo.export.unsupported-annotation"]["examples"] == ["tag"]
    assert loss["yolo.export.unsupported-item"]["examples"] == ["doc"]
    assert loss["yolo.export.unlabelled"]["examples"] == ["nolabel"]
    assert loss["yolo.export.label-fields"]["examples"] == ["a"]
    assert loss["yolo.export.box-as-polygon"]["examples"] == ["who"]
    out = tmp_path / "out"
    # one label file per image, the empty one included (a negative example)
    assert (out / "labels/val/empty.txt").read_text() == ""
    cfg = yaml.safe_load((out / "data.yaml").read_text())
    assert cfg == {"train": "images/train", "val": "images/val", "nc": 2,
                   "names": {0: "a", 1: "b"}}
    rows = _rows(out / "labels/train/img.txt")
    assert [r[0] for r in rows] == [0, 1, 0, 1]  # hole, parts, rle, who (crowd skipped)
    # the mask traced along pixel edges, tolerance 0: exactly the mask's pixels
    ring = [v * (100 if i % 2 == 0 else 80) for i, v in enumerate(rows[2][1:])]
    filled = _fill(ring, 80, 100)
    assert (filled == mask).all()
    # the merged ring passes through every vertex of both parts
    merged = {(round(x * 100, 6), round(y * 80, 6)) for x, y in zip(rows[1][1::2], rows[1][2::2], strict=False)}
    assert {(60.0, 60.0), (70.0, 70.0), (10.0, 10.0), (50.0, 50.0)} <= merged


def test_mask_tolerance_simplifies_and_the_choices_apply(tmp_path: Path) -> None:
    yy, xx = np.mgrid[:80, :100]
    disc = (xx - 50) ** 2 + (yy - 40) ** 2 <= 30**2
    ann = Mask(id="m", item_id="img", label="a",
               rle=Rle(size=[80, 100], counts=_rle.counts_to_string(_rle.encode(disc))))
    ds = Dataset(_manifest(Label(name="a")), [_image()], [ann])
    exact = gt.save(ds, str(tmp_path / "exact"), format="yolo", mask_tolerance=0)
    smooth = gt.save(ds, str(tmp_path / "smooth"), format="yolo", mask_tolerance=1.0)
    assert exact.details["task"] == smooth.details["task"] == "segment"
    n_exact = len(_rows(tmp_path / "exact/labels/train/img.txt")[0]) // 2
    row = _rows(tmp_path / "smooth/labels/train/img.txt")[0]
    assert len(row) // 2 < n_exact / 2  # far fewer points
    ring = [v * (100 if i % 2 == 0 else 80) for i, v in enumerate(row[1:])]
    filled = _fill(ring, 80, 100)
    iou = (filled & disc).sum() / (filled | disc).sum()
    assert iou > 0.97
    gt.save(ds, str(tmp_path / "box"), format="yolo", masks="box", task="segment")
    box = _rows(tmp_path / "box/labels/train/img.txt")[0]
    assert box[1:] == pytest.approx([0.2, 0.125, 0.81, 0.125, 0.81, 0.8875, 0.2, 0.8875])
    skipped = gt.save(ds, str(tmp_path / "skip"), format="yolo", masks="skip")
    assert (tmp_path / "skip/labels/train/img.txt").read_text() == ""
    assert "yolo.export.mask-skipped" in skipped.loss_summary()


def test_multipart_choices(tmp_path: Path) -> None:
    big = [10.0, 10.0, 50.0, 10.0, 50.0, 50.0, 10.0, 50.0]
    small = [60.0, 60.0, 70.0, 60.0, 70.0, 70.0]
    ds = Dataset(_manifest(Label(name="a")), [_image()],
                 [Polygon(id="p", item_id="img", label="a", polygon=[big, small])])
    gt.save(ds, str(tmp_path / "largest"), format="yolo", multipart="largest")
    assert len(_rows(tmp_path / "largest/labels/train/img.txt")[0]) == 9  # 4 points
    gt.save(ds, str(tmp_path / "split"), format="yolo", multipart="split")
    assert [len(r) for r in _rows(tmp_path / "split/labels/train/img.txt")] == [9, 7]


def test_detect_task_boxes_shapes_and_rotation(tmp_path: Path) -> None:
    ds = Dataset(_manifest(Label(name="a")), [_image()], [
        BBox(id="r", item_id="img", label="a", bbox=[40, 30, 20, 10], rotation=90),
        Polygon(id="p", item_id="img", label="a", polygon=[[10, 10, 30, 10, 20, 40]]),
        BBox(id="s", item_id="img", label="a", bbox=[0, 0, 50, 40], confidence=0.75),
    ])
    report = gt.save(ds, str(tmp_path / "det"), format="yolo", task="detect", confidence=True)
    rows = _rows(tmp_path / "det/labels/train/img.txt")
    assert rows[0] == pytest.approx([0, 0.5, 0.4375, 0.1, 0.25])  # rotated box's extent
    assert rows[1] == pytest.approx([0, 0.2, 0.3125, 0.2, 0.375])
    assert rows[2] == pytest.approx([0, 0.25, 0.25, 0.5, 0.5, 0.75])  # conf column
    loss = report.loss_summary()
    assert loss["yolo.export.rotation"]["examples"] == ["r"]
    assert loss["yolo.export.shape-as-box"]["examples"] == ["p"]
    back = gt.load(str(tmp_path / "det"))
    assert back.annotations[2].confidence == 0.75


def test_obb_task_writes_rotated_boxes_and_minimum_rectangles(tmp_path: Path) -> None:
    ds = Dataset(_manifest(Label(name="a")), [_image(w=100, h=100)], [
        BBox(id="r", item_id="img", label="a", bbox=[40, 45, 20, 10], rotation=30),
        Polygon(id="p", item_id="img", label="a",
                polygon=[[20, 10, 30, 20, 20, 30, 10, 20, 20, 20]]),  # a diamond (+ centre)
    ])
    report = gt.save(ds, str(tmp_path / "obb"), format="yolo", task="obb")
    back = gt.load(str(tmp_path / "obb"))
    assert back.manifest.extensions["yolo"]["task"] == "obb"
    r, p = back.annotations
    assert r.rotation == pytest.approx(30)  # type: ignore[attr-defined]
    assert r.bbox == pytest.approx([40, 45, 20, 10])  # type: ignore[attr-defined]
    assert p.bbox[2] * p.bbox[3] == pytest.approx(200)  # type: ignore[attr-defined]
    assert report.loss_summary()["yolo.export.shape-as-box"]["examples"] == ["p"]


def test_pose_without_visibility_reports_occluded_points(tmp_path: Path) -> None:
    lab = Label(name="p", keypoints=["left", "right"])
    ds = Dataset(_manifest(lab), [_image()], [
        Keypoints(id="k", item_id="img", label="p", keypoints=[10, 20, 2, 30, 40, 1],
                  bbox=[5, 5, 40, 40]),
        Keypoints(id="k3", item_id="img", label="p", keypoints=[10, 20, 2, 0, 0, 0, 1, 1, 2]),
    ])
    report = gt.save(ds, str(tmp_path / "pose"), format="yolo", kpt_dim=2)
    assert (tmp_path / "pose/labels/train/img.txt").read_text() == (
        "0 0.25 0.3125 0.4 0.5 0.1 0.25 0.3 0.5\n")
    loss = report.loss_summary()
    assert loss["yolo.export.keypoints"]["count"] == 2
    cfg = yaml.safe_load((tmp_path / "pose/data.yaml").read_text())
    assert cfg["kpt_shape"] == [2, 2]
    assert cfg["flip_idx"] == [1, 0]


def test_darknet_layout_round_trip(tmp_path: Path) -> None:
    ds = Dataset(_manifest(Label(name="a"), Label(name="b")), [
        _image("one", split="train"), _image("two", split="val")], [
        BBox(id="x", item_id="one", label="b", bbox=[10, 20, 30, 40])])
    report = gt.save(ds, str(tmp_path / "dk"), format="yolo", layout="darknet")
    out = tmp_path / "dk"
    assert (out / "obj.data").read_text() == (
        "classes = 2\ntrain = data/train.txt\nvalid = data/valid.txt\n"
        "names = data/obj.names\nbackup = backup/\n")
    assert (out / "train.txt").read_text() == "data/obj_train_data/one.jpg\n"
    assert (out / "obj_train_data/one.txt").read_text() == "1 0.25 0.5 0.3 0.5\n"
    assert (out / "obj_valid_data/two.txt").read_text() == ""
    back = gt.load(str(out))
    assert back.manifest.extensions["yolo"]["layout"] == "darknet"
    assert [(i.id, i.split) for i in back.items] == [
        ("obj_train_data/one", "train"), ("obj_valid_data/two", "val")]
    assert back.annotations[0].bbox == pytest.approx([10, 20, 30, 40])  # type: ignore[attr-defined]
    assert report.lossless


def test_classification_folders_are_written_and_read(tmp_path: Path) -> None:
    from PIL import Image

    media = tmp_path / "media"
    media.mkdir()
    for name in ("a", "b", "c"):
        Image.new("RGB", (8, 6)).save(media / f"{name}.png")
    ds = Dataset(_manifest(Label(name="cat"), Label(name="dog")), [
        Item(id="a", kind="image", uri="a.png", split="train"),
        Item(id="b", kind="image", uri="b.png", split="val"),
        Item(id="c", kind="image", uri="c.png"),
        Item(id="gone", kind="image", uri="gone.png"),
    ], [Classification(id="1", item_id="a", label="cat"),
        Classification(id="2", item_id="b", label="dog"),
        Classification(id="3", item_id="gone", label="dog")])
    report = gt.save(ds, str(tmp_path / "cls"), format="yolo", media_root=str(media))
    assert report.details["task"] == "classify"
    files = sorted(p.relative_to(tmp_path / "cls").as_posix()
                   for p in (tmp_path / "cls").rglob("*") if p.is_file())
    assert files == ["train/cat/a.png", "val/dog/b.png"]
    loss = report.loss_summary()
    assert loss["yolo.export.classify-labels"]["examples"] == ["c"]
    assert loss["yolo.export.media-missing"]["examples"] == ["gone"]
    back = gt.load(str(tmp_path / "cls"))
    assert back.manifest.extensions["yolo"]["task"] == "classify"
    assert [(i.id, i.split, i.width) for i in back.items] == [
        ("train/cat/a", "train", 8), ("val/dog/b", "val", 8)]
    assert [a.label for a in back.annotations] == ["cat", "dog"]


def test_destination_is_never_half_written_or_overwritten(tmp_path: Path) -> None:
    ds = Dataset(_manifest(Label(name="a")), [_image()],
                 [BBox(id="x", item_id="img", label="a", bbox=[1, 1, 2, 2])])
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(gt.errors.DatasetExistsError):
        gt.save(ds, str(out), format="yolo")
    with pytest.raises(gt.errors.DatasetExistsError, match="not a YOLO dataset"):
        gt.save(ds, str(out), format="yolo", overwrite=True)  # never wipes other files
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    out = tmp_path / "yolo"
    gt.save(ds, str(out), format="yolo")
    (out / "labels/train/stale.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    gt.save(ds, str(out), format="yolo", overwrite=True)  # a YOLO dataset is replaced whole
    assert not (out / "labels/train/stale.txt").exists()
    assert (out / "labels/train/img.txt").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_frequent_losses_keep_true_totals(tmp_path: Path) -> None:
    items = [_image(f"i{n}") for n in range(150)]
    anns = [BBox(id=f"a{n}", item_id=f"i{n}", label="a", bbox=[1, 1, 2, 2], annotator="x")
            for n in range(150)]
    report = gt.save(Dataset(_manifest(Label(name="a")), items, anns), str(tmp_path / "o"),
                     format="yolo")
    assert report.loss_summary()["yolo.export.provenance"]["count"] == 150
    assert len(report.issues) == 100
