"""Cross-check with an independent reader: Datumaro (in a venv of its own, see
tests/datumaro_env.py) imports our YOLO export to the same items, labels and boxes as it
imports the original folder.

Datumaro 1.13 (PyPI) reads YOLO detection only (darknet `obj.data`, `obj.names` + labels/, and
Ultralytics `data.yaml` detection); its segmentation/pose/obb readers exist only in CVAT's fork,
which is not on PyPI, so those tasks are checked against the files themselves (test_yolo_real).
Datumaro needs the images (it reads their sizes): both sides get the same blank images, of the
sizes in image_sizes.json. It also wants its own file names (`data.yaml`, `obj.names`): where
a source uses another name (`example.yaml`, `classes.txt`) both sides get a copy under Datumaro's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import groundtruth as gt
from tests.yolo.helpers import make_images

DETECTION = [
    "datumaro/yolo",
    "datumaro/yolov8_detection",
    "datumaro/yolov8_detection_with_list_of_names",
    "datumaro/yolov8_detection_with_list_of_imgs",
    "datumaro/yolov8_detection_with_subset_txt",
    "labelformat/object_detection/YOLOv8",
    "labelstudio_sdk",
]

IMPORT = r"""
import json, sys
import datumaro as dm
ds = dm.Dataset.import_from(sys.argv[1], "yolo")
labels = ds.categories()[dm.AnnotationType.label]
out = []
for item in ds:
    anns = sorted(
        [labels[a.label].name, [float(v) for v in a.points]]
        for a in item.annotations if a.type == dm.AnnotationType.bbox)
    out.append({"id": item.id, "subset": item.subset, "size": list(item.media.size), "anns": anns})
print(json.dumps({"labels": [c.name for c in labels], "items": sorted(out, key=lambda i: i["id"])}))
"""


def _prepare(folder: Path) -> None:
    """Images of the right sizes, and the file names Datumaro looks for."""
    make_images(folder)
    yamls = [p for p in folder.glob("*.yaml") if p.name != "data.yaml"]
    if yamls and not (folder / "data.yaml").exists():
        shutil.copy(yamls[0], folder / "data.yaml")
    if (folder / "classes.txt").exists() and not (folder / "obj.names").exists():
        shutil.copy(folder / "classes.txt", folder / "obj.names")


@pytest.mark.parametrize("folder", DETECTION)
def test_datumaro_reads_our_export_as_it_reads_the_original(
        datumaro, yolo_data: Path, folder: str, tmp_path: Path) -> None:
    original = tmp_path / "original"
    shutil.copytree(yolo_data / folder, original)
    for p in original.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)  # the shared copy is read-only
    exported = tmp_path / "exported"
    ds = gt.load(str(yolo_data / folder), format="yolo")
    report = gt.save(ds, str(exported), format="yolo")
    assert report.lossless
    _prepare(original)
    _prepare(exported)
    want = datumaro(IMPORT, str(original))
    got = datumaro(IMPORT, str(exported))
    assert want["items"], "Datumaro read nothing from the original"
    assert got["labels"] == want["labels"]
    assert [(i["id"], i["subset"], i["size"]) for i in got["items"]] == [
        (i["id"], i["subset"], i["size"]) for i in want["items"]]
    for a, b in zip(got["items"], want["items"], strict=True):
        assert [n for n, _ in a["anns"]] == [n for n, _ in b["anns"]], a["id"]
        for (_, pa), (_, pb) in zip(a["anns"], b["anns"], strict=True):
            assert pa == pytest.approx(pb, abs=1e-4), a["id"]  # pixels


def test_datumaro_reads_a_coco_conversion(datumaro, tmp_path: Path) -> None:
    from tests.conftest import shared_path

    src = shared_path("coco", "tinycoco_instances_val2017.json")
    ds = gt.load(str(src))
    gt.save(ds, str(tmp_path / "yolo"), format="yolo", task="detect", crowd="box")
    _prepare(tmp_path / "yolo")
    got = datumaro(IMPORT, str(tmp_path / "yolo"))
    coco = json.loads(src.read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    stems = {im["id"]: im["file_name"].rsplit(".", 1)[0] for im in coco["images"]}
    want: dict[str, list[list]] = {}
    for a in coco["annotations"]:
        x, y, w, h = a["bbox"]
        want.setdefault(stems[a["image_id"]], []).append(
            [names[a["category_id"]], [x, y, x + w, y + h]])
    assert sorted(i["id"] for i in got["items"]) == sorted(want)
    for item in got["items"]:
        expected = sorted(want[item["id"]])
        assert [n for n, _ in item["anns"]] == [n for n, _ in expected]
        for (_, p), (_, q) in zip(item["anns"], expected, strict=True):
            assert p == pytest.approx(q, abs=1e-4)
