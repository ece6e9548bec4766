"""Cross-check against an independent reader: Datumaro imports our VOC export to the same
objects, labels, attributes and coordinates as it imports the original."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from groundtruth import converters
from tests.conftest import shared_path
from tests.datumaro_objects import objects

# The folders Datumaro's VOC importer accepts (it needs ImageSets/Main lists; the plain
# folders of XML files elsewhere in ../shared/data/voc are not VOC datasets to it).
SOURCES = ["datumaro/voc_dataset1", "datumaro/voc_dataset2", "datumaro/voc_dataset3"]


@pytest.mark.parametrize("source", SOURCES)
def test_datumaro_reads_our_voc_export_as_the_original(source: str, tmp_path: Path,
                                                      datumaro) -> None:
    src = shared_path("voc", *source.split("/"))
    conv = converters.get("voc")
    out = tmp_path / "export"
    report = conv.write(conv.read(str(src)), str(out))
    # The report says the segmentation PNGs are referenced, not copied: copy them, as it asks.
    if any(i.code == "voc.export.mask-file" for i in report.issues):
        for folder in ("SegmentationClass", "SegmentationObject"):
            shutil.copytree(src / folder, out / folder)
    original = objects(datumaro, str(src), "voc")
    ours = objects(datumaro, str(out), "voc")
    assert original, "Datumaro read nothing from the original"
    assert sum(len(v) for v in original.values()) > 0
    assert ours == original
