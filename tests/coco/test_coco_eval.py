"""COCOeval gives the same statistics on our export as on the original file."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from groundtruth import api
from groundtruth.converters import _rle

pytest.importorskip("pycocotools")
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def _quiet(fn: Any, *args: Any) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        return fn(*args)


def _stats(gt_path: Path, results: list[dict[str, Any]], iou_type: str) -> np.ndarray:
    gt = _quiet(COCO, str(gt_path))
    dt = _quiet(gt.loadRes, orjson.loads(orjson.dumps(results)))  # loadRes mutates its input
    ev = COCOeval(gt, dt, iou_type)
    _quiet(ev.evaluate)
    _quiet(ev.accumulate)
    _quiet(ev.summarize)
    return ev.stats


def _noisy_results(gt_path: Path, iou_type: str, seed: int = 0) -> list[dict[str, Any]]:
    """Detections made from the ground truth with jitter, misses and false positives."""
    rng = np.random.default_rng(seed)
    gt = _quiet(COCO, str(gt_path))
    out: list[dict[str, Any]] = []
    for ann in gt.dataset["annotations"]:
        if ann["iscrowd"] or rng.random() < 0.15:
            continue
        img = gt.imgs[ann["image_id"]]
        rec: dict[str, Any] = {
            "image_id": ann["image_id"],
            "category_id": ann["category_id"],
            "score": float(rng.random()),
        }
        if iou_type == "bbox":
            x, y, w, h = ann["bbox"]
            rec["bbox"] = [
                x + rng.normal(0, 3),
                y + rng.normal(0, 3),
                w * rng.uniform(0.8, 1.2),
                h * rng.uniform(0.8, 1.2),
            ]
        elif iou_type == "segm":
            m = gt.annToMask(ann).astype(bool)
            m = np.roll(m, (int(rng.integers(-3, 4)), int(rng.integers(-3, 4))), axis=(0, 1))
            counts = _rle.encode(m)
            rec["segmentation"] = {
                "size": [img["height"], img["width"]],
                "counts": _rle.counts_to_string(counts),
            }
        else:
            if ann["num_keypoints"] == 0:
                continue
            kps = np.asarray(ann["keypoints"], dtype=float).reshape(-1, 3)
            kps[:, :2] += rng.normal(0, 4, (len(kps), 2))
            rec["keypoints"] = [float(v) for v in kps.ravel()]
        out.append(rec)
    if iou_type == "bbox":  # false positives
        cat = gt.dataset["annotations"][0]["category_id"]
        out += [
            {"image_id": i, "category_id": cat, "bbox": [1.0, 1.0, 20.0, 20.0], "score": 0.99}
            for i in list(gt.imgs)[:3]
        ]
    return out


def _through_native(src: Path, tmp: Path, encoding: str = "parquet") -> Path:
    api.convert(src, tmp / "native", from_format="coco", write_options={"encoding": encoding})
    api.convert(tmp / "native", tmp / "export.json", to_format="coco")
    return tmp / "export.json"


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_instances_eval_is_unchanged(coco_dir: Path, tmp_path: Path, iou_type: str) -> None:
    src = coco_dir / "tinycoco_instances_val2017.json"
    ours = _through_native(src, tmp_path)
    results = _noisy_results(src, iou_type)
    before = _stats(src, results, iou_type)
    after = _stats(ours, results, iou_type)
    assert before[0] > 0.1  # a real, non-trivial evaluation
    np.testing.assert_array_equal(before, after)


def test_keypoints_eval_is_unchanged(coco_dir: Path, tmp_path: Path) -> None:
    src = coco_dir / "minicoco_person_keypoints_train2017.json"
    ours = _through_native(src, tmp_path, "jsonl")
    results = _noisy_results(src, "keypoints")
    before = _stats(src, results, "keypoints")
    np.testing.assert_array_equal(before, _stats(ours, results, "keypoints"))
    assert before[0] > 0.1


def test_results_file_round_trip_gives_the_same_eval(coco_dir: Path, tmp_path: Path) -> None:
    """Detections read as model annotations and written back score exactly the same."""
    src = coco_dir / "tinycoco_instances_val2017.json"
    res_path = tmp_path / "res.json"
    res_path.write_bytes(orjson.dumps(_noisy_results(src, "segm", seed=4)))
    api.convert(res_path, tmp_path / "dt", from_format="coco")
    ds = api.load(tmp_path / "dt")
    assert {a.annotator for a in ds.annotations} == {"model"}
    api.convert(tmp_path / "dt", tmp_path / "back.json", to_format="coco")
    back = orjson.loads((tmp_path / "back.json").read_bytes())
    original = orjson.loads(res_path.read_bytes())
    assert back == original
    np.testing.assert_array_equal(_stats(src, original, "segm"), _stats(src, back, "segm"))


def test_real_results_file_against_a_gt_built_from_results(coco_dir: Path, tmp_path: Path) -> None:
    """The real fake-segm results, as a GT (via groundtruth), scored by the real fake-bbox file."""
    segm = coco_dir / "results" / "instances_val2014_fakesegm100_results.json"
    bbox = coco_dir / "results" / "instances_val2014_fakebbox100_results.json"
    ds = api.load(segm, format="coco")
    sizes: dict[str, tuple[int, int]] = {}
    for a in ds.annotations:
        sizes[a.item_id] = tuple(a.rle.size)  # type: ignore[attr-defined]
    for it in ds.items:
        it.height, it.width = sizes[it.id]
    report = api.save(ds, tmp_path / "gt.json", format="coco", results=False)
    # the model annotator and the scores are what a GT file cannot carry
    assert {i.code for i in report.issues} == {
        "coco.export.provenance",
        "coco.export.manifest-fields",
    }
    gt = _quiet(COCO, str(tmp_path / "gt.json"))
    results = orjson.loads(bbox.read_bytes())
    stats = _stats(tmp_path / "gt.json", results, "bbox")
    assert len(gt.anns) == 734
    for ann in gt.anns.values():  # boxes and areas are pycocotools' own, from the masks
        rle = gt.annToRLE(ann)
        assert ann["bbox"] == list(mask_utils.toBbox(rle))
        assert ann["area"] == float(mask_utils.area(rle))
    assert np.isfinite(stats[0])
