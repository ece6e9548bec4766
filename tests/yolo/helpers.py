"""Helpers for the YOLO tests: label folders as parsed values, blank images of given sizes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import SHARED_DATA

YOLO_DATA = SHARED_DATA / "yolo"
REAL_FOLDERS = [
    *(f"datumaro/{n}" for n in (
        "yolo", "yolov8_detection", "yolov8_detection_with_list_of_imgs",
        "yolov8_detection_with_list_of_names", "yolov8_detection_with_subset_txt",
        "yolov8_oriented_boxes", "yolov8_pose", "yolov8_pose_two_values_per_point",
        "yolov8_segmentation")),
    "labelformat/object_detection/YOLOv8",
    "labelformat/instance_segmentation/YOLOv8",
    "labelstudio_sdk",
]
CONFIGS = {"data.yaml", "dataset.yaml", "example.yaml", "obj.data", "obj.names", "classes.txt",
           "train.txt", "image_sizes.json"}


def label_rows(folder: Path) -> dict[str, list[list[float]]]:
    """Every label file under `folder` (not config or list files): rows as numbers."""
    out: dict[str, list[list[float]]] = {}
    for f in sorted(folder.rglob("*.txt")):
        rel = f.relative_to(folder).as_posix()
        if rel in CONFIGS:
            continue
        out[rel] = [[float(v) for v in line.split()] for line in f.read_text().splitlines()
                    if line.strip()]
    return out


def assert_same_rows(a: dict[str, list[list[float]]], b: dict[str, list[list[float]]],
                     tol: float) -> None:
    assert sorted(a) == sorted(b), f"label files differ: {sorted(a)} vs {sorted(b)}"
    for name, rows in a.items():
        assert len(rows) == len(b[name]), name
        for ra, rb in zip(rows, b[name], strict=True):
            assert len(ra) == len(rb), (name, ra, rb)
            assert ra[0] == rb[0], (name, ra, rb)  # the class id exactly
            worst = max((abs(x - y) for x, y in zip(ra[1:], rb[1:], strict=True)), default=0.0)
            assert worst <= tol, (name, ra, rb, worst)


def make_images(folder: Path, sizes: dict[str, dict[str, int]] | None = None) -> None:
    """Blank images at the paths (and sizes) of `image_sizes.json`, for readers that need the
    pixels' headers (Datumaro)."""
    from PIL import Image

    if sizes is None:
        sizes = json.loads((folder / "image_sizes.json").read_text())
    for rel, size in sizes.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        fmt = {".png": "PNG", ".jpeg": "JPEG", ".jpg": "JPEG"}.get(path.suffix.lower(), "PNG")
        Image.new("RGB", (size["width"], size["height"])).save(path, fmt)
