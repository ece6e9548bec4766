"""Every real VOC file in ../shared/data/voc reads without error-level issues and round-trips
(VOC -> groundtruth -> VOC) to the same content, compared as parsed values."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest

from groundtruth import converters
from groundtruth.converters.voc._read import find_layout
from tests.conftest import shared_path
from tests.xmlvalues import file_value

SOURCES = [
    "datumaro/voc_dataset1",
    "datumaro/voc_dataset2",
    "datumaro/voc_dataset3",
    "kili_voc2012",
    "kili_export_expected",
    "labelformat/PascalVOC",
    "raccoon/annotations",
    "darwin/import/pascal_voc_annotations",
    "darwin/convert/pascalvoc/to/000000021295.xml",
]


def _lists(root: Path) -> set[tuple[str, str, str]]:
    """ImageSets as parsed values: (list, id, value) with `-1` (absent) left out."""
    out: set[tuple[str, str, str]] = set()
    base = root / "ImageSets"
    if not base.is_dir():
        return out
    for f in base.rglob("*.txt"):
        rel = str(f.relative_to(base))[:-4]
        for line in f.read_text().splitlines():
            tokens = line.split()
            if not tokens or tokens[0].startswith("#"):
                continue
            value = " ".join(tokens[1:])
            if value != "-1":
                out.add((rel, tokens[0], value))
    return out


@pytest.mark.parametrize("source", SOURCES)
def test_real_voc_round_trips(source: str, tmp_path: Path) -> None:
    src = shared_path("voc", *source.split("/"))
    conv = converters.get("voc")
    ds = conv.read(str(src))
    assert not [i for i in ds.issues if i.severity == "error"], ds.issues
    assert ds.items
    out = tmp_path / "out"
    report = conv.write(ds, str(out))
    # Only VOC segmentation PNGs (referenced, not copied) are reported as lost.
    assert {i.code for i in report.issues} <= {"voc.export.mask-file"}
    layout = find_layout(fsspec.filesystem("file"), str(src))
    for item_id, xml in layout.annotations:
        assert file_value(out / "Annotations" / f"{item_id}.xml") == file_value(xml), item_id
    if src.is_dir() and (src / "ImageSets").is_dir():
        assert _lists(out) == _lists(src)
    again = conv.read(str(out))
    assert [a.to_json_dict() for a in again.annotations if a.type != "mask"] == [  # type: ignore[attr-defined]
        a.to_json_dict() for a in ds.annotations if a.type != "mask"  # type: ignore[attr-defined]
    ]


def test_real_voc_values(tmp_path: Path) -> None:
    src = shared_path("voc", "kili_voc2012")
    ds = converters.get("voc").read(str(src))
    by_id = {a.id: a for a in ds.annotations}
    person = by_id["2007_000027:1"]
    # <xmin>174</xmin> <ymin>101</ymin> <xmax>349</xmax> <ymax>351</ymax>: 1-based, inclusive
    assert person.bbox == [173.0, 100.0, 176.0, 251.0]  # type: ignore[attr-defined]
    assert person.attributes == {"pose": "Unspecified", "truncated": False, "difficult": False}
    head = by_id["2007_000027:1.1"]
    assert (head.label, head.label_set) == ("head", "voc-parts")
    assert head.extensions["voc"]["part_of"] == "2007_000027:1"
    rider = by_id["2011_004772:1"]
    assert rider.attributes["ridingbike"] is True
    assert rider.attributes["jumping"] is False
    assert rider.extensions["voc"]["point"] == {"x": "130", "y": "119"}
    cars = [a for a in ds.annotations if a.item_id == "2010_001121"]
    assert [a.attributes.get("occluded") for a in cars][:3] == [False, False, True]
    assert [a.attributes.get("pose") for a in cars][:3] == ["Unspecified", "Left", "Left"]
    hard = [a for a in ds.annotations if a.item_id == "2010_001140"]
    assert any(a.attributes.get("difficult") is True for a in hard)


def test_real_voc_folder_layout(tmp_path: Path) -> None:
    src = shared_path("voc", "datumaro", "voc_dataset1")
    ds = converters.get("voc").read(str(src))
    items = {it.id: it for it in ds.items}
    assert items["2007_000001"].split == "train"
    assert items["2007_000002"].split == "test"  # listed in test.txt, no annotation file
    assert items["2007_000001"].extensions["voc"]["sets"] == {
        "Action/train": "", "Layout/train": "", "Segmentation/train": ""}
    masks = sorted(a.uri for a in ds.annotations if a.type == "mask")  # type: ignore[attr-defined]
    assert masks == ["SegmentationClass/2007_000001.png", "SegmentationObject/2007_000001.png"]
    # <class>_train.txt: `1` lines are image-level labels, `-1` lines are not
    labels = sorted(a.label or "" for a in ds.annotations if a.type == "classification")  # type: ignore[attr-defined]
    assert "person" in labels
    assert "cat" not in labels
    assert {s.name for s in ds.manifest.splits} == {"train", "test"}


def test_stream_to_native_matches_read(tmp_path: Path) -> None:
    src = shared_path("voc", "kili_voc2012")
    conv = converters.get("voc")
    result = conv.stream_to_native(str(src), str(tmp_path / "n"), encoding="parquet")  # type: ignore[attr-defined]
    ds = conv.read(str(src))
    assert (result.items, result.annotations) == (len(ds.items), len(ds.annotations))
    from groundtruth import Dataset

    assert Dataset.from_file(str(tmp_path / "n")) == ds
