"""Cross-check against an independent reader: Datumaro imports our CVAT export to the same
objects, labels, attributes and coordinates as it imports the original."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from groundtruth import converters
from tests.conftest import shared_path
from tests.datumaro_objects import objects

SOURCES = [
    "datumaro/for_images/train.xml",
    "datumaro/for_video/annotations.xml",
    "darwin/convert/cvat/to/output.xml",
]


def _with_images(xml: Path, folder: Path, names: list[str]) -> Path:
    """`folder/<stem>.xml` plus empty `images/<stem>/<name>` files: Datumaro's CVAT importer
    looks each image up (it takes sizes from the XML, so empty files do)."""
    folder.mkdir(parents=True)
    dst = folder / xml.name
    shutil.copy(xml, dst)
    for name in names:
        img = folder / "images" / xml.stem / name
        img.parent.mkdir(parents=True, exist_ok=True)
        img.touch()
    return dst


@pytest.mark.parametrize("source", SOURCES)
def test_datumaro_reads_our_cvat_export_as_the_original(source: str, tmp_path: Path,
                                                       datumaro) -> None:
    src = shared_path("cvat", *source.split("/"))
    conv = converters.get("cvat")
    ds = conv.read(str(src))
    names = [it.uri or it.id for it in ds.items if it.kind == "image"]
    written = tmp_path / "written" / src.name
    written.parent.mkdir()
    conv.write(ds, str(written))
    original = objects(datumaro, str(_with_images(src, tmp_path / "a", names)), "cvat")
    ours = objects(datumaro, str(_with_images(written, tmp_path / "b", names)), "cvat")
    assert sum(len(v) for v in original.values()) > 0
    assert ours == original


def test_datumaro_reads_a_coco_dataset_we_wrote_as_cvat(tmp_path: Path, datumaro) -> None:
    """Data that did not come from CVAT (COCO polygons, a crowd RLE mask): Datumaro reads our
    CVAT file to the same polygons (each part, to Datumaro's 2 decimals), labels and mask
    pixels as groundtruth holds."""
    import json

    import numpy as np

    from groundtruth.converters import _rle
    from groundtruth.models import Mask, Polygon
    from tests.datumaro_objects import DATUMARO_OBJECTS

    src = shared_path("coco", "tinycoco_instances_val2017.json")
    ds = converters.get("coco").read(str(src))
    written = tmp_path / "w" / "coco.xml"
    written.parent.mkdir()
    converters.get("cvat").write(ds, str(written))
    names = [it.uri or it.id for it in ds.items]
    got = datumaro(DATUMARO_OBJECTS, str(_with_images(written, tmp_path / "d", names)), "cvat")
    theirs: dict[str, list[str]] = {}
    for item in got:
        for a in item["annotations"]:
            if a["type"] == "polygon":
                key = json.dumps([a["label"], [round(v, 1) for v in a["points"]]])
            else:
                key = json.dumps([a["label"], a["type"], a["pixels"]])
            theirs.setdefault(item["id"], []).append(key)
    ours: dict[str, list[str]] = {}
    for ann in ds.annotations:
        stem = Path(ds.item(ann.item_id).uri or "").stem
        if isinstance(ann, Polygon):
            for part in ann.polygon:
                ours.setdefault(stem, []).append(
                    json.dumps([ann.label, [round(round(v, 2), 1) for v in part]]))
        elif isinstance(ann, Mask) and ann.rle is not None:
            h, w = ann.rle.size
            counts = (_rle.counts_from_string(ann.rle.counts)
                      if isinstance(ann.rle.counts, str) else ann.rle.counts)
            pixels = int(np.count_nonzero(_rle.decode(counts, h, w)))
            ours.setdefault(stem, []).append(json.dumps([ann.label, "mask", pixels]))
    assert sum(map(len, ours.values())) == 145  # 135 polygons, 144 parts; 1 crowd mask
    assert {k: sorted(v) for k, v in theirs.items()} == {k: sorted(v) for k, v in ours.items()}
