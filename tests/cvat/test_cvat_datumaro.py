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
