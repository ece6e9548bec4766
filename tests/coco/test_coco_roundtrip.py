"""COCO -> groundtruth -> COCO gives back the same JSON values, for every real file."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from groundtruth import api
from groundtruth.converters import get
from groundtruth.models import Keypoints, Mask, Polygon, TextAnswer

from .conftest import real_coco_files

FILES = real_coco_files()


def _json(path: Path) -> object:
    return orjson.loads(path.read_bytes())


@pytest.mark.parametrize("src", FILES, ids=[p.name for p in FILES])
def test_direct_round_trip_is_lossless(src: Path, tmp_path: Path) -> None:
    conv = get("coco")
    ds = conv.read(str(src))
    report = conv.write(ds, str(tmp_path / "back.json"))
    assert _json(tmp_path / "back.json") == _json(src)
    assert report.lossless, report.loss_summary()


@pytest.mark.parametrize("encoding", ["jsonl", "parquet"])
@pytest.mark.parametrize("src", FILES, ids=[p.name for p in FILES])
def test_round_trip_through_a_saved_native_dataset(
    src: Path, encoding: str, tmp_path: Path
) -> None:
    api.convert(src, tmp_path / "native", from_format="coco", write_options={"encoding": encoding})
    assert (tmp_path / "native" / "groundtruth.json").exists()
    _, report = api.convert(tmp_path / "native", tmp_path / "back.json", to_format="coco")
    assert _json(tmp_path / "back.json") == _json(src)
    assert report.details["category_id_policy"] == "preserve"


def test_instances_map_to_the_model(coco_dir: Path) -> None:
    ds = api.load(coco_dir / "tinycoco_instances_val2017.json", format="coco")
    assert len(ds.items) == 6
    assert len(ds.annotations) == 136
    item = ds.item("565004")
    assert (item.kind, item.uri, item.width, item.height) == ("image", "000000565004.jpg", 640, 427)
    assert item.extensions["coco"]["coco_url"].endswith("000000565004.jpg")
    labels = ds.manifest.taxonomy.label_sets[0]
    assert len(labels.labels) == 80
    ids = labels.extensions["coco"]["category_ids"]
    assert ids["person"] == 1
    assert ids["toothbrush"] == 90
    assert next(lab for lab in labels.labels if lab.name == "dog").group == "animal"
    crowd = [a for a in ds.annotations if a.extensions["coco"].get("iscrowd") == 1]
    assert len(crowd) == 1
    assert isinstance(crowd[0], Mask)
    assert isinstance(crowd[0].rle.counts, list)  # uncompressed RLE stays uncompressed
    poly = ds.annotations[0]
    assert isinstance(poly, Polygon)
    assert poly.id == "82052"
    assert poly.label == "bottle"
    assert poly.bbox == [0.0, 1.38, 311.97, 162.89]


def test_keypoints_map_with_zero_based_skeleton(coco_dir: Path) -> None:
    ds = api.load(coco_dir / "minicoco_person_keypoints_train2017.json", format="coco")
    person = ds.manifest.taxonomy.label_sets[0].labels[0]
    assert person.keypoints[0] == "nose"
    assert len(person.keypoints) == 17
    assert person.skeleton[0] == [15, 13]  # COCO [16, 14], 1-based
    kps = [a for a in ds.annotations if isinstance(a, Keypoints)]
    assert len(kps) == 87
    first = next(a for a in kps if a.id == "232100")
    assert first.keypoints[6:9] == [99, 158, 1]
    seg = next(a for a in ds.annotations if a.id == "232100-segmentation")
    assert isinstance(seg, Polygon)
    assert seg.label == "person"


def test_compressed_rle_and_captions(coco_dir: Path) -> None:
    ds = api.load(coco_dir / "cocostuff_stuff_examples.json", format="coco")
    assert all(isinstance(a, Mask) and isinstance(a.rle.counts, str) for a in ds.annotations)
    caps = api.load(coco_dir / "datumaro_cvat_style" / "captions_val.json", format="coco")
    assert [a.text for a in caps.annotations if isinstance(a, TextAnswer)] == ["world", "text"]


def test_results_file_becomes_model_annotations(coco_dir: Path) -> None:
    src = coco_dir / "results" / "instances_val2014_fakebbox100_results.json"
    ds = api.load(src, format="coco", annotator="fakebbox")
    assert ds.manifest.annotators[0].id == "fakebbox"
    assert ds.manifest.annotators[0].kind == "model"
    raw = _json(src)
    assert [a.confidence for a in ds.annotations] == [r["score"] for r in raw]
    assert all(a.annotator == "fakebbox" for a in ds.annotations)
    assert ds.annotations[0].id == "1"  # COCO.loadRes numbering


def test_panoptic_segments_point_at_the_png(coco_dir: Path) -> None:
    ds = api.load(coco_dir / "panoptic" / "panoptic_examples.json", format="coco")
    masks = [a for a in ds.annotations if isinstance(a, Mask)]
    assert masks
    assert all(m.uri.startswith("panoptic_examples/") for m in masks)
    assert (coco_dir / "panoptic" / masks[0].uri).exists()
