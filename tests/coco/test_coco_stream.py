"""Streaming COCO <-> native: same records (same fingerprint) as the model path, same JSON back."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import pytest

from groundtruth import api
from groundtruth.converters.coco import coco_to_native, native_to_coco

from .conftest import real_coco_files

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import coco_gen

FILES = [p for p in real_coco_files() if "results" not in p.parts]


def _fingerprint_via_models(src: Path, dst: Path, encoding: str) -> str:
    api.convert(src, dst, from_format="coco", write_options={"encoding": encoding})
    return api.read_manifest(dst).fingerprint or ""


@pytest.mark.parametrize("encoding", ["parquet", "jsonl"])
@pytest.mark.parametrize("src", FILES, ids=[p.name for p in FILES])
def test_stream_equals_model_path(src: Path, encoding: str, tmp_path: Path) -> None:
    result = coco_to_native(src, tmp_path / "stream", encoding=encoding)
    assert result.manifest.fingerprint == _fingerprint_via_models(src, tmp_path / "model", encoding)
    native_to_coco(tmp_path / "stream", tmp_path / "back.json")
    assert orjson.loads((tmp_path / "back.json").read_bytes()) == orjson.loads(src.read_bytes())


@pytest.mark.parametrize("workers", [1, 2])
def test_generated_file_takes_the_fast_path_and_round_trips(tmp_path: Path, workers: int) -> None:
    src = tmp_path / "gen.json"
    counts = coco_gen.generate(src, scale=0.001, seed=1)
    result = coco_to_native(src, tmp_path / "stream", chunk=1 << 15, workers=workers, big=1000)
    assert result.items == counts["images"]
    assert result.annotations == counts["annotations"]
    assert result.fast_records == counts["images"] + counts["annotations"]
    assert result.manifest.fingerprint == _fingerprint_via_models(
        src, tmp_path / "model", "parquet"
    )
    report = native_to_coco(tmp_path / "stream", tmp_path / "back.json")
    assert report.lossless
    assert orjson.loads((tmp_path / "back.json").read_bytes()) == orjson.loads(src.read_bytes())


def test_bad_records_fall_back_and_are_reported(tmp_path: Path) -> None:
    ring = [0.5 + i / 7 for i in range(40)]
    doc = {
        "images": [
            {"id": i, "file_name": f"{i}.jpg", "width": 10, "height": 10} for i in range(1, 4)
        ],
        "categories": [{"id": 1, "name": "a"}],
        "annotations": [
            {
                "id": i,
                "image_id": 1 + i % 3,
                "category_id": 1,
                "segmentation": [ring],
                "area": 12.5,
                "bbox": [0.5, 0.5, 5.0, 5.0],
                "iscrowd": 0,
            }
            for i in range(1, 301)
        ],
    }
    doc["annotations"][150]["iscrowd"] = "false"
    doc["annotations"][250]["image_id"] = 77
    src = tmp_path / "bad.json"
    src.write_bytes(orjson.dumps(doc))
    result = coco_to_native(src, tmp_path / "stream", chunk=6000, workers=2, big=1000)
    assert [(i.code, i.location.path) for i in result.issues] == [
        ("coco.annotation.iscrowd-not-int", "$.annotations[150].iscrowd"),
        ("coco.annotation.unknown-image", "$.annotations[250].image_id"),
    ]
    assert result.annotations == 299
    assert 200 < result.fast_records < 300
    assert result.manifest.fingerprint == _fingerprint_via_models(
        src, tmp_path / "model", "parquet"
    )


def test_not_json_is_a_conversion_error(tmp_path: Path) -> None:
    from groundtruth.errors import ConversionError

    src = tmp_path / "x.json"
    src.write_bytes(b'{"images": [1, 2')
    with pytest.raises(ConversionError):
        coco_to_native(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_stream_out_of_a_sorted_native_dataset_keeps_image_order(
    coco_dir: Path, tmp_path: Path
) -> None:
    """`gt` sorts records when it saves a Dataset; images still come back in COCO order."""
    src = coco_dir / "tinycoco_instances_val2017.json"
    api.convert(src, tmp_path / "sorted", from_format="coco", write_options={"encoding": "parquet"})
    native_to_coco(tmp_path / "sorted", tmp_path / "back.json")
    back = orjson.loads((tmp_path / "back.json").read_bytes())
    original = orjson.loads(src.read_bytes())
    assert back["images"] == original["images"]
    key = lambda a: a["id"]
    assert sorted(back["annotations"], key=key) == sorted(original["annotations"], key=key)
