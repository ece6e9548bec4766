"""Bad COCO input: located issues (JSON path + record id), the rest of the file still read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from groundtruth.cli import main
from groundtruth.converters import get
from groundtruth.errors import ConversionError
from groundtruth.models import BBox, Mask, Polygon


def _ok_ann(i: int, **kw: Any) -> dict[str, Any]:
    rec = {
        "id": i,
        "image_id": 1,
        "category_id": 1,
        "segmentation": [[0, 0, 5, 0, 5, 5]],
        "area": 12.5,
        "bbox": [0, 0, 5, 5],
        "iscrowd": 0,
    }
    rec.update(kw)
    return rec


BAD = {
    "images": [
        {"id": 1, "file_name": "a.jpg", "width": 10, "height": 20},
        {"id": 2, "file_name": "b.jpg"},
        {"id": 1, "file_name": "dup.jpg", "width": 5, "height": 5},
    ],
    "categories": [{"id": 0, "name": "bg"}, {"id": 1, "name": "cat"}],
    "annotations": [
        _ok_ann(1),
        _ok_ann(2, segmentation=[0, 0, 5, 0, 5, 5]),
        _ok_ann(3, segmentation={"size": [20, 10], "counts": [5, 5]}),
        _ok_ann(4, segmentation={"size": [10, 20], "counts": [200]}),
        _ok_ann(5, iscrowd="false"),
        _ok_ann(6, image_id=99),
        _ok_ann(7, category_id=42),
        _ok_ann(1),
        _ok_ann(8, segmentation=[[0, 0, 5, 5]]),
        _ok_ann(9, segmentation={"size": [20, 10], "counts": "not rle~"}),
        _ok_ann(0),
    ],
}

EXPECTED = [
    ("coco.image.missing-size", "$.images[1].width", "2"),
    ("coco.record.duplicate-id", "$.images[2].id", "1"),
    ("coco.category.id-zero", "$.categories[0].id", "0"),
    ("coco.segmentation.flat-list", "$.annotations[1].segmentation", "2"),
    ("coco.rle.bad-sum", "$.annotations[2].segmentation.counts", "3"),
    ("coco.rle.size-transposed", "$.annotations[3].segmentation.size", "4"),
    ("coco.annotation.iscrowd-not-int", "$.annotations[4].iscrowd", "5"),
    ("coco.annotation.unknown-image", "$.annotations[5].image_id", "6"),
    ("coco.annotation.unknown-category", "$.annotations[6].category_id", "7"),
    ("coco.record.duplicate-id", "$.annotations[7].id", "1"),
    ("coco.segmentation.short-polygon", "$.annotations[8].segmentation[0]", "8"),
    ("coco.rle.bad-counts", "$.annotations[9].segmentation.counts", "9"),
    ("coco.annotation.id-zero", "$.annotations[10].id", "0"),
]


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    path = tmp_path / "bad.json"
    path.write_bytes(orjson.dumps(BAD))
    return path


def test_every_problem_is_located_and_the_rest_is_read(bad_file: Path) -> None:
    ds = get("coco").read(str(bad_file))
    got = [(i.code, i.location.path, i.location.record_id) for i in ds.issues]
    assert got == EXPECTED
    assert all(i.location.file == str(bad_file) for i in ds.issues)
    assert [it.id for it in ds.items] == ["1", "2"]
    anns = {a.id: a for a in ds.annotations}
    # annotation 6 (unknown image) is skipped; every other record is kept
    assert sorted(anns) == sorted(["1", "2", "3", "4", "5", "7", "1~7", "8", "9", "0"])
    assert isinstance(anns["2"], Polygon)
    assert anns["2"].polygon == [[0, 0, 5, 0, 5, 5]]  # flat list read as one part
    assert isinstance(anns["3"], BBox)  # bad RLE dropped, the box kept
    assert isinstance(anns["4"], Mask)  # transposed size kept, reported
    assert anns["5"].extensions["coco"]["iscrowd"] == 0
    assert anns["7"].label is None
    assert anns["7"].extensions["coco"]["category_id"] == 42
    assert isinstance(anns["8"], BBox)
    assert ds.item("2").width is None


def test_bad_file_written_back_keeps_the_odd_values(bad_file: Path, tmp_path: Path) -> None:
    conv = get("coco")
    ds = conv.read(str(bad_file))
    conv.write(ds, str(tmp_path / "out.json"))
    out = orjson.loads((tmp_path / "out.json").read_bytes())
    by_id: dict[Any, list[dict[str, Any]]] = {}
    for a in out["annotations"]:
        by_id.setdefault(a["id"], []).append(a)
    assert len(by_id[1]) == 2  # the duplicate keeps its id on the way out
    assert by_id[7][0]["category_id"] == 42
    assert by_id[2][0]["segmentation"] == [[0, 0, 5, 0, 5, 5]]  # repaired shape


@pytest.mark.parametrize("content", [b"{not json", b"", b"\xff\xfe", b'"a string"'])
def test_unreadable_files_raise_a_located_conversion_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(ConversionError) as err:
        get("coco").read(str(path))
    assert err.value.location is not None
    assert err.value.location.file == str(path)
    assert err.value.hint


def test_cli_reports_not_json_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b'{"images": [1, 2,, 3]}')
    with pytest.raises(SystemExit) as exit_:
        main(["convert", str(path), str(tmp_path / "out"), "--from", "coco"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "coco.file.not-json" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_sections_of_the_wrong_type(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(orjson.dumps({"images": {"id": 1}, "annotations": [5]}))
    ds = get("coco").read(str(path))
    assert [(i.code, i.location.path) for i in ds.issues] == [
        ("coco.file.section-not-list", "$.images"),
        ("coco.record.not-object", "$.annotations[0]"),
    ]


def test_polygon_parts_odd_and_invalid(tmp_path: Path) -> None:
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [
            _ok_ann(1, segmentation=[[0, 0, 5, 0, 5], [0, 0, 4, 0, 4, 4], ["x", 1, 2, 3, 4, 5]]),
            _ok_ann(2, segmentation="nope", bbox=None),
        ],
    }
    path = tmp_path / "x.json"
    path.write_bytes(orjson.dumps(doc))
    ds = get("coco").read(str(path))
    assert [(i.code, i.location.path) for i in ds.issues] == [
        ("coco.segmentation.odd-polygon", "$.annotations[0].segmentation[0]"),
        ("coco.segmentation.invalid", "$.annotations[0].segmentation[2]"),
        ("coco.segmentation.invalid", "$.annotations[1].segmentation"),
        ("coco.annotation.no-geometry", "$.annotations[1]"),
    ]
    assert ds.annotations[0].polygon == [[0, 0, 4, 0, 4, 4]]
