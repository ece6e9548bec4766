"""Exporting groundtruth to COCO: id policies, the loss report, --embed, holes as RLE."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from groundtruth import Dataset
from groundtruth.cli import main
from groundtruth.converters import _rle, get
from groundtruth.errors import ConversionError
from groundtruth.models import (
    Annotator,
    BBox,
    Classification,
    GuidelineRef,
    Item,
    Keypoints,
    Label,
    LabelSet,
    Manifest,
    Mask,
    Polygon,
    Relation,
    Rle,
    Span,
    Taxonomy,
    TextAnswer,
)

COCO = pytest.importorskip("pycocotools.coco").COCO
mask_utils = pytest.importorskip("pycocotools.mask")

SQUARE = [2.0, 2.0, 22.0, 2.0, 22.0, 22.0, 2.0, 22.0]
HOLE = [8.0, 8.0, 16.0, 8.0, 16.0, 16.0, 8.0, 16.0]


def native() -> Dataset:
    manifest = Manifest(
        name="demo",
        annotators=[Annotator(id="ann-1", kind="human"), Annotator(id="yolo", kind="model")],
        taxonomy=Taxonomy(
            label_sets=[
                LabelSet(
                    name="objects",
                    labels=[
                        Label(name="cat", description="a cat"),
                        Label(name="dog"),
                        Label(
                            name="person",
                            keypoints=["head", "l_hand", "r_hand"],
                            skeleton=[[0, 1], [0, 2]],
                        ),
                    ],
                )
            ]
        ),
    )
    items = [
        Item(id="img1", kind="image", uri="a.jpg", width=40, height=30, split="train"),
        Item(id="7", kind="image", uri="b.jpg", width=30, height=25),
        Item(id="t1", kind="text", text="hello world"),
    ]
    m = np.zeros((25, 30), bool)
    m[3:9, 4:12] = True
    anns = [
        Polygon(
            id="p1",
            item_id="img1",
            label="cat",
            polygon=[SQUARE],
            annotator="ann-1",
            created=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            status="accepted",
            guideline=GuidelineRef(id="g", version="2"),
        ),
        Polygon(id="p2", item_id="img1", label="dog", polygon=[SQUARE], holes=[HOLE]),
        BBox(id="b1", item_id="7", label="dog", bbox=[1.0, 2.0, 3.0, 4.0], rotation=15.0),
        BBox(
            id="b2",
            item_id="7",
            label="cat",
            bbox=[5.0, 5.0, 10.0, 10.0],
            confidence=0.9,
            annotator="yolo",
        ),
        Mask(
            id="m1",
            item_id="7",
            label="cat",
            rle=Rle(size=[25, 30], counts=[int(c) for c in _rle.encode(m)]),
        ),
        Keypoints(
            id="k1",
            item_id="img1",
            label="person",
            keypoints=[10.0, 10.0, 2.0, 0.0, 0.0, 0.0, 20.0, 12.0, 1.0],
        ),
        TextAnswer(id="c1", item_id="img1", text="a cat and a dog"),
        Classification(id="cl1", item_id="img1", label="cat"),
        Span(id="s1", item_id="t1", start=0, end=5, label="cat"),
        Relation(id="r1", item_id="img1", source="p1", target="p2", label="near"),
        Polygon(id="p3", item_id="7", polygon=[SQUARE]),
    ]
    return Dataset(manifest, items, anns)


def _write(ds: Dataset, path: Path, **opts: Any) -> Any:
    return get("coco").write(ds, str(path), **opts)


def test_loss_report_names_every_lost_thing(tmp_path: Path) -> None:
    report = _write(native(), tmp_path / "out.json")
    loss = report.loss_summary(examples=10)
    assert loss["coco.export.unsupported-item"]["examples"] == ["t1"]
    assert sorted(loss["coco.export.unsupported-annotation"]["examples"]) == ["cl1", "r1"]
    assert loss["coco.export.rotation"]["examples"] == ["b1"]
    assert loss["coco.export.holes-as-rle"]["examples"] == ["p2"]
    assert loss["coco.export.unlabelled"]["examples"] == ["p3"]
    assert sorted(loss["coco.export.provenance"]["examples"]) == ["b2", "p1"]
    assert loss["coco.export.item-fields"]["examples"] == ["img1"]
    assert loss["coco.export.manifest-fields"]["count"] == 1
    assert loss["coco.export.label-fields"]["examples"] == ["cat"]
    assert not report.lossless


def test_export_loads_in_pycocotools_and_matches_mask_utils(tmp_path: Path) -> None:
    report = _write(native(), tmp_path / "out.json")
    coco = COCO(str(tmp_path / "out.json"))
    assert report.details["category_ids"] == {"cat": 1, "dog": 2, "person": 3}
    assert report.details["renumbered_ids"] == {"images": 1, "annotations": 8}
    assert sorted(coco.imgs) == [7, 8]  # "7" kept, "img1" renumbered after it
    for ann in coco.dataset["annotations"]:
        if "segmentation" not in ann or not ann["segmentation"]:
            continue
        rle = coco.annToRLE(ann)
        assert ann["area"] == pytest.approx(float(mask_utils.area(rle)), rel=0.05)
        if isinstance(ann["segmentation"], dict):
            assert ann["area"] == float(mask_utils.area(rle))
            assert ann["bbox"] == list(mask_utils.toBbox(rle))
    holed = next(
        a
        for a in coco.dataset["annotations"]
        if isinstance(a["segmentation"], dict) and a["category_id"] == 2
    )
    pixels = coco.annToMask(holed).astype(bool)
    assert pixels[5, 5]
    assert not pixels[12, 12]
    kp = next(a for a in coco.dataset["annotations"] if "keypoints" in a)
    assert kp["num_keypoints"] == 2
    assert kp["keypoints"] == [10, 10, 2, 0, 0, 0, 20, 12, 1]
    person = coco.cats[3]
    assert person["skeleton"] == [[1, 2], [1, 3]]
    assert [a["caption"] for a in coco.dataset["annotations"] if "caption" in a] == [
        "a cat and a dog"
    ]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("1-based", {"cat": 1, "dog": 2, "person": 3}),
        ("0-based", {"cat": 0, "dog": 1, "person": 2}),
        ({"cat": 17, "dog": 18, "person": 1}, {"cat": 17, "dog": 18, "person": 1}),
    ],
)
def test_category_id_policies(tmp_path: Path, policy: Any, expected: dict[str, int]) -> None:
    report = _write(native(), tmp_path / "out.json", category_ids=policy)
    assert report.details["category_ids"] == expected
    out = orjson.loads((tmp_path / "out.json").read_bytes())
    assert {c["name"]: c["id"] for c in out["categories"]} == expected
    cat_anns = [a for a in out["annotations"] if a.get("category_id") == expected["cat"]]
    assert len(cat_anns) == 3


def test_preserve_keeps_coco_ids_and_numbers_new_labels_after_them(
    coco_dir: Path, tmp_path: Path
) -> None:
    ds = get("coco").read(str(coco_dir / "cocostuff_stuff_examples.json"))
    ds.manifest.taxonomy.label_sets[0].labels.append(Label(name="new thing"))
    report = _write(ds, tmp_path / "out.json")
    ids = report.details["category_ids"]
    assert ids["banner"] == 92
    assert ids["other"] == 183
    assert ids["new thing"] == 184


def test_explicit_map_missing_a_label_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="person"):
        _write(native(), tmp_path / "out.json", category_ids={"cat": 1, "dog": 2})
    assert not (tmp_path / "out.json").exists()


def test_embed_restores_provenance_on_import(tmp_path: Path) -> None:
    ds = native()
    report = _write(ds, tmp_path / "out.json", embed=True)
    codes = {i.code for i in report.issues}
    assert not codes & {
        "coco.export.provenance",
        "coco.export.item-fields",
        "coco.export.manifest-fields",
        "coco.export.label-fields",
    }
    COCO(str(tmp_path / "out.json"))  # the extra keys do not disturb pycocotools
    back = get("coco").read(str(tmp_path / "out.json"))
    anns = {a.id: a for a in back.annotations}
    p1 = anns["p1"]
    assert p1.annotator == "ann-1"
    assert p1.status == "accepted"
    assert p1.created == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert p1.guideline == GuidelineRef(id="g", version="2")
    assert anns["b2"].confidence == 0.9
    assert anns["b2"].annotator == "yolo"
    assert back.item("img1").split == "train"
    assert [a.id for a in back.manifest.annotators] == ["ann-1", "yolo"]
    assert back.manifest.taxonomy.label_sets[0].labels[0].description == "a cat"
    assert anns["k1"].item_id == "img1"


def test_existing_destination_needs_overwrite(tmp_path: Path) -> None:
    (tmp_path / "out.json").write_text("{}")
    with pytest.raises(FileExistsError):
        _write(native(), tmp_path / "out.json")
    _write(native(), tmp_path / "out.json", overwrite=True)
    assert "images" in orjson.loads((tmp_path / "out.json").read_bytes())


def test_results_export_is_an_array_loadres_accepts(coco_dir: Path, tmp_path: Path) -> None:
    src = coco_dir / "tinycoco_instances_val2017.json"
    ds = get("coco").read(str(src))
    for a in ds.annotations:
        a.confidence = 0.5
    _write(ds, tmp_path / "res.json", results=True)
    res = orjson.loads((tmp_path / "res.json").read_bytes())
    assert isinstance(res, list)
    assert all("score" in r and "id" not in r for r in res)
    gt = COCO(str(src))
    dt = gt.loadRes(str(tmp_path / "res.json"))
    assert len(dt.anns) == len(res)


def test_cli_convert_with_policy_and_embed(
    coco_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = coco_dir / "tinycoco_instances_val2017.json"
    with pytest.raises(SystemExit) as ok:
        main(["convert", str(src), str(tmp_path / "native"), "--from", "coco"])
    assert ok.value.code == 0
    capsys.readouterr()
    ids_file = tmp_path / "ids.json"
    with pytest.raises(SystemExit) as ok:
        main(
            [
                "convert",
                str(tmp_path / "native"),
                str(tmp_path / "back.json"),
                "--to",
                "coco",
                "--category-ids",
                "1-based",
                "--embed",
                "--format",
                "json",
            ]
        )
    assert ok.value.code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["details"]["category_id_policy"] == "1-based"
    assert out["details"]["category_ids"]["toothbrush"] == 80
    ids_file.write_text(json.dumps(out["details"]["category_ids"]))
    with pytest.raises(SystemExit) as ok:
        main(
            [
                "convert",
                str(tmp_path / "native"),
                str(tmp_path / "again.json"),
                "--to",
                "coco",
                "--category-ids",
                str(ids_file),
            ]
        )
    assert ok.value.code == 0
    again = orjson.loads((tmp_path / "again.json").read_bytes())
    assert {c["name"]: c["id"] for c in again["categories"]} == out["details"]["category_ids"]
