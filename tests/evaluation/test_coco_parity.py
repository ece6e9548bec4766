"""`groundtruth.evaluate` equals pycocotools' COCOeval (evaluate + accumulate + summarize).

Real files: the ground-truth files in ../shared/data/coco with predictions made from them, and
the real results files of cocoapi with ground truth made for their images (they name val2014
images no ground-truth file here has). Generated data: random boxes, masks and keypoints with
crowd regions, keypoint-less (ignored) ground truth, more than 100 detections on an image (the
maxDets cut), tied scores, categories with no detections and detections of absent categories.
"""

from __future__ import annotations

import contextlib
import io
import random
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

import groundtruth as gt
from tests.conftest import shared_path

pytest.importorskip("pycocotools")
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

TOL = 1e-9
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pycocotools on numpy 2


def _cocoeval(gt_path: Path, res_path: Path, iou_type: str, max_dets: list[int] | None = None):
    with contextlib.redirect_stdout(io.StringIO()):
        c = COCO(str(gt_path))
        r = c.loadRes(str(res_path))
        e = COCOeval(c, r, iou_type)
        if max_dets is not None:
            e.params.maxDets = max_dets
        e.evaluate()
        e.accumulate()
        e.summarize()
    return e


def _assert_same(gt_path: Path, res_path: Path, iou_type: str, max_dets: list[int] | None = None):
    ref = _cocoeval(gt_path, res_path, iou_type, max_dets)
    report = gt.evaluate(str(gt_path), str(res_path), tasks=[iou_type], max_dets=max_dets)
    ours = report.coco[iou_type]
    assert ours.precision.shape == ref.eval["precision"].shape
    np.testing.assert_allclose(ours.stats, ref.stats, rtol=0, atol=TOL)
    np.testing.assert_allclose(ours.precision, ref.eval["precision"], rtol=0, atol=TOL)
    np.testing.assert_allclose(ours.recall, ref.eval["recall"], rtol=0, atol=TOL)
    np.testing.assert_allclose(ours.scores, ref.eval["scores"], rtol=0, atol=TOL)
    # the report's figures are the same numbers
    first = next(iter(report.sections[iou_type]["stats"].values()))
    assert first == (None if ref.stats[0] == -1 else pytest.approx(ref.stats[0], abs=TOL))
    return ref, report


def _write(path: Path, data: Any) -> Path:
    path.write_bytes(orjson.dumps(data))
    return path


def _rle(mask: np.ndarray) -> dict[str, Any]:
    r = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    r["counts"] = r["counts"].decode()
    return r


# -- real ground truth, predictions derived from it -------------------------------------------------


def _box_results(data: dict[str, Any], seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    cats = [c["id"] for c in data["categories"]]
    out = []
    for a in data["annotations"]:
        if "bbox" not in a:
            continue
        x, y, w, h = a["bbox"]
        for _ in range(rng.randint(0, 3)):
            out.append({  # noqa: PERF401
                "image_id": a["image_id"],
                "category_id": a["category_id"] if rng.random() < 0.8 else rng.choice(cats),
                "bbox": [x + rng.gauss(0, w * 0.1 + 1), y + rng.gauss(0, h * 0.1 + 1),
                         w * rng.uniform(0.7, 1.3), h * rng.uniform(0.7, 1.3)],
                "score": round(rng.random(), 2),  # rounded: ties between images happen
            })
    return out


def _mask_results(gt_path: Path, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    with contextlib.redirect_stdout(io.StringIO()):
        c = COCO(str(gt_path))
    out = []
    for a in c.dataset["annotations"]:
        m = c.annToMask(a)
        for _ in range(rng.randint(0, 2)):
            moved = np.roll(np.roll(m, rng.randint(-6, 6), 1), rng.randint(-6, 6), 0)
            out.append({"image_id": a["image_id"], "category_id": a["category_id"],
                        "segmentation": _rle(moved), "score": round(rng.random(), 2)})
    return out


@pytest.mark.parametrize(
    "name",
    ["tinycoco_instances_val2017.json", "cocostuff_stuff_examples.json",
     "panoptic_coco_detection_format.json", "datumaro_cvat_style/instances_val.json"],
)
@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_real_ground_truth(name: str, iou_type: str, tmp_path: Path) -> None:
    gt_path = shared_path("coco", *name.split("/"))
    data = orjson.loads(gt_path.read_bytes())
    res = _box_results(data, 7) if iou_type == "bbox" else _mask_results(gt_path, 7)
    if not res:
        pytest.skip("no annotation to derive predictions from")
    ref, _ = _assert_same(gt_path, _write(tmp_path / "res.json", res), iou_type)
    assert (ref.stats > -1).any()


def test_real_keypoints(tmp_path: Path) -> None:
    gt_path = shared_path("coco", "minicoco_person_keypoints_train2017.json")
    data = orjson.loads(gt_path.read_bytes())
    rng = np.random.default_rng(3)
    res = []
    for a in data["annotations"]:
        for _ in range(int(rng.integers(0, 3))):
            k = np.asarray(a["keypoints"], dtype=float).reshape(-1, 3)
            k[:, :2] += rng.normal(0, 8, (len(k), 2))
            if a["num_keypoints"] == 0:  # scored against the box (the ignore path)
                x, y, w, h = a["bbox"]
                k[:, 0] = x + w * rng.random(len(k))
                k[:, 1] = y + h * rng.random(len(k))
            k[:, 2] = 1
            res.append({"image_id": a["image_id"], "category_id": 1,
                        "keypoints": k.ravel().round(2).tolist(),
                        "score": round(float(rng.random()), 2)})
    ref, report = _assert_same(gt_path, _write(tmp_path / "res.json", res), "keypoints")
    assert ref.stats[0] > 0
    assert report.sections["keypoints"]["n_gt_crowd_or_ignored"] >= 34  # num_keypoints 0


# -- real results files, ground truth made for their images ----------------------------------------


def _categories() -> list[dict[str, Any]]:
    data = orjson.loads(shared_path("coco", "tinycoco_instances_val2017.json").read_bytes())
    return list(data["categories"])


def test_real_bbox_results(tmp_path: Path) -> None:
    res_path = shared_path("coco", "results", "instances_val2014_fakebbox100_results.json")
    res = orjson.loads(res_path.read_bytes())
    rng = random.Random(11)
    images, anns = {}, []
    for r in res:
        images[r["image_id"]] = {"id": r["image_id"], "width": 640, "height": 480,
                                 "file_name": f"{r['image_id']}.jpg"}
        if rng.random() < 0.6:
            x, y, w, h = r["bbox"]
            box = [x + rng.gauss(0, 4), y + rng.gauss(0, 4), w * rng.uniform(0.8, 1.2),
                   h * rng.uniform(0.8, 1.2)]
            crowd = int(rng.random() < 0.05)
            anns.append({"id": len(anns) + 1, "image_id": r["image_id"],
                         "category_id": r["category_id"], "bbox": box, "area": box[2] * box[3],
                         "iscrowd": crowd, "segmentation": [[box[0], box[1], box[0] + box[2],
                                                             box[1], box[0] + box[2],
                                                             box[1] + box[3]]]})
    gt_path = _write(tmp_path / "gt.json", {"images": list(images.values()), "annotations": anns,
                                            "categories": _categories()})
    ref, report = _assert_same(gt_path, res_path, "bbox")
    assert 0 < ref.stats[0] < 1
    assert report.counts["predictions_relabelled_by_category_id"] == len(res)


def test_real_segm_results(tmp_path: Path) -> None:
    res_path = shared_path("coco", "results", "instances_val2014_fakesegm100_results.json")
    res = orjson.loads(res_path.read_bytes())
    rng = random.Random(12)
    images, anns = {}, []
    for r in res:
        h, w = r["segmentation"]["size"]
        images[r["image_id"]] = {"id": r["image_id"], "width": w, "height": h}
        if rng.random() < 0.6:
            m = mask_utils.decode(r["segmentation"])
            m = np.roll(m, rng.randint(-5, 5), 1)
            area = float(m.sum())
            crowd = int(rng.random() < 0.05)
            seg = _rle(m)
            if crowd:  # crowd regions as COCO stores them: uncompressed RLE
                seg = {"size": [h, w], "counts": _uncompressed(m)}
            anns.append({"id": len(anns) + 1, "image_id": r["image_id"],
                         "category_id": r["category_id"], "segmentation": seg, "area": area,
                         "bbox": mask_utils.toBbox(_rle(m)).tolist(), "iscrowd": crowd})
    gt_path = _write(tmp_path / "gt.json", {"images": list(images.values()), "annotations": anns,
                                            "categories": _categories()})
    ref, _ = _assert_same(gt_path, res_path, "segm")
    assert 0 < ref.stats[0] < 1


def _uncompressed(m: np.ndarray) -> list[int]:
    """COCO's uncompressed RLE (column-major runs, 0-run first), as crowd regions are stored."""
    flat = m.ravel(order="F").astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    runs = np.diff(np.r_[0, change, flat.size]).tolist()
    return [0, *runs] if flat[0] else runs


def test_real_keypoint_results(tmp_path: Path) -> None:
    res_path = shared_path("coco", "results", "person_keypoints_val2014_fakekeypoints100_results.json")
    res = orjson.loads(res_path.read_bytes())
    rng = np.random.default_rng(5)
    images, anns = {}, []
    for r in res:
        images[r["image_id"]] = {"id": r["image_id"], "width": 640, "height": 480}
        if rng.random() < 0.7:
            k = np.asarray(r["keypoints"], dtype=float).reshape(-1, 3)
            k[:, :2] += rng.normal(0, 5, (len(k), 2))
            vis = rng.random(len(k)) < 0.7
            k[:, 2] = np.where(vis, 2, 0)
            k[~vis, :2] = 0
            x0, y0 = k[vis, 0].min(initial=0), k[vis, 1].min(initial=0)
            x1, y1 = k[vis, 0].max(initial=1), k[vis, 1].max(initial=1)
            box = [float(x0), float(y0), float(x1 - x0 + 10), float(y1 - y0 + 10)]
            anns.append({"id": len(anns) + 1, "image_id": r["image_id"], "category_id": 1,
                         "keypoints": k.ravel().tolist(), "num_keypoints": int(vis.sum()),
                         "bbox": box, "area": box[2] * box[3] * 0.6,
                         "iscrowd": int(rng.random() < 0.05)})
    cats = orjson.loads(shared_path(
        "coco", "minicoco_person_keypoints_train2017.json").read_bytes())["categories"]
    gt_path = _write(tmp_path / "gt.json", {"images": list(images.values()), "annotations": anns,
                                            "categories": cats})
    ref, _ = _assert_same(gt_path, res_path, "keypoints")
    assert 0 < ref.stats[0] < 1


# -- generated -------------------------------------------------------------------------------------


def _generated(seed: int, n_images: int = 30) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    cats = [{"id": i, "name": f"c{i}"} for i in (1, 2, 5, 9)]  # 9: no detections
    images, anns, res = [], [], []
    for img in range(1, n_images + 1):
        images.append({"id": img * 3, "width": 200, "height": 150})
        for _ in range(int(rng.integers(0, 8))):
            w, h = float(rng.uniform(2, 120)), float(rng.uniform(2, 120))
            x, y = float(rng.uniform(0, 200 - w)), float(rng.uniform(0, 150 - h))
            crowd = int(rng.random() < 0.1)
            cat = int(rng.choice([1, 2, 5, 9]))
            anns.append({"id": len(anns) + 1, "image_id": img * 3, "category_id": cat,
                         "bbox": [x, y, w, h], "area": w * h * float(rng.uniform(0.5, 1)),
                         "iscrowd": crowd,
                         "segmentation": [[x, y, x + w, y, x + w, y + h, x, y + h]]})
            for _ in range(int(rng.integers(0, 4))):
                res.append({"image_id": img * 3,  # noqa: PERF401
                            "category_id": cat if rng.random() < 0.85 else 2,
                            "bbox": [x + float(rng.normal(0, 5)), y + float(rng.normal(0, 5)),
                                     w * float(rng.uniform(0.6, 1.4)),
                                     h * float(rng.uniform(0.6, 1.4))],
                            "score": float(rng.integers(0, 20)) / 20})  # many ties
        # background detections, some of a category absent from the ground truth
        for _ in range(int(rng.integers(0, 5))):
            w, h = float(rng.uniform(1, 90)), float(rng.uniform(1, 90))
            res.append({"image_id": img * 3, "category_id": int(rng.choice([1, 2, 5])),
                        "bbox": [float(rng.uniform(0, 150)), float(rng.uniform(0, 100)), w, h],
                        "score": float(rng.random())})
    # one image flooded with detections: the per-image maxDets cut decides
    res.extend(
        {"image_id": 3, "category_id": 1, "bbox": [float(k % 50), float(k % 40), 30.0, 30.0],
         "score": float(rng.integers(0, 50)) / 50}
        for k in range(260)
    )
    data = {"images": images, "annotations": anns, "categories": cats}
    return data, res


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generated_boxes(seed: int, tmp_path: Path) -> None:
    data, res = _generated(seed)
    gt_path = _write(tmp_path / "gt.json", data)
    res_path = _write(tmp_path / "res.json", res)
    ref, _ = _assert_same(gt_path, res_path, "bbox")
    assert 0 < ref.stats[0] < 1
    _assert_same(gt_path, res_path, "bbox", max_dets=[1, 5, 20])


def test_generated_masks(tmp_path: Path) -> None:
    data, _ = _generated(4, n_images=12)
    gt_path = _write(tmp_path / "gt.json", data)
    with contextlib.redirect_stdout(io.StringIO()):
        c = COCO(str(gt_path))
    rng = np.random.default_rng(9)
    seg = []
    for a in data["annotations"]:
        m = c.annToMask(a)
        for _ in range(int(rng.integers(0, 3))):
            moved = np.roll(m, int(rng.integers(-10, 10)), int(rng.integers(0, 2)))
            seg.append({"image_id": a["image_id"], "category_id": a["category_id"],
                        "segmentation": _rle(moved), "score": float(rng.integers(0, 10)) / 10})
    seg.append({"image_id": 3, "category_id": 1,  # a mask of another size: IoU -1, never matched
                "segmentation": _rle(np.ones((10, 10))), "score": 0.99})
    res_path = _write(tmp_path / "res.json", seg)
    ref, _ = _assert_same(gt_path, res_path, "segm")
    assert 0 < ref.stats[0] < 1


def test_generated_keypoints_with_other_sigmas(tmp_path: Path) -> None:
    """Five-point schema with sigmas from the taxonomy; pycocotools given the same sigmas."""
    rng = np.random.default_rng(21)
    images, anns, res = [], [], []
    for img in range(1, 25):
        images.append({"id": img, "width": 300, "height": 300})
        for _ in range(int(rng.integers(0, 5))):
            pts = rng.uniform(20, 280, (5, 2))
            vis = rng.random(5) < 0.8
            k = np.c_[np.where(vis[:, None], pts, 0), np.where(vis, 2, 0)]
            x0, y0 = pts.min(axis=0)
            x1, y1 = pts.max(axis=0)
            box = [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]
            anns.append({"id": len(anns) + 1, "image_id": img, "category_id": 1,
                         "keypoints": k.ravel().tolist(), "num_keypoints": int(vis.sum()),
                         "bbox": box, "area": box[2] * box[3] / 2, "iscrowd": 0})
            for _ in range(int(rng.integers(0, 3))):
                d = np.c_[pts + rng.normal(0, 10, (5, 2)), np.ones(5)]
                res.append({"image_id": img, "category_id": 1, "keypoints": d.ravel().tolist(),
                            "score": float(rng.random())})
    sigmas = [0.05, 0.1, 0.02, 0.08, 0.06]
    cats = [{"id": 1, "name": "hand", "keypoints": list("abcde"), "skeleton": []}]
    gt_path = _write(tmp_path / "gt.json", {"images": images, "annotations": anns,
                                            "categories": cats})
    res_path = _write(tmp_path / "res.json", res)
    with contextlib.redirect_stdout(io.StringIO()):
        c = COCO(str(gt_path))
        e = COCOeval(c, c.loadRes(str(res_path)), "keypoints")
        e.params.kpt_oks_sigmas = np.array(sigmas)
        e.evaluate()
        e.accumulate()
        e.summarize()
    ds = gt.load(str(gt_path))
    ds.manifest.taxonomy.label_sets[0].labels[0].extensions["oks"] = {"sigmas": sigmas}
    report = gt.evaluate(ds, str(res_path))
    np.testing.assert_allclose(report.coco["keypoints"].stats, e.stats, rtol=0, atol=TOL)
    assert e.stats[0] > 0
    # without the sigmas the figures differ (0.05 each, and a note says so)
    plain = gt.evaluate(str(gt_path), str(res_path))
    assert not np.allclose(plain.coco["keypoints"].stats, e.stats)
    assert any("OKS sigmas" in n for n in plain.notes)


def test_split_slices_equal_cocoeval_on_those_images(tmp_path: Path) -> None:
    """A `--by split` slice is COCOeval restricted to the slice's images (params.imgIds)."""
    data, res = _generated(5)
    gt_path = _write(tmp_path / "gt.json", data)
    res_path = _write(tmp_path / "res.json", res)
    ds = gt.load(str(gt_path))
    for it in ds.items:
        it.split = "night" if int(it.id) % 2 else "day"
    report = gt.evaluate(ds, str(res_path), tasks=["bbox"], by=["split"])
    rows = {s["value"]: s for s in report.slices}
    assert set(rows) == {"day", "night"}
    with contextlib.redirect_stdout(io.StringIO()):
        c = COCO(str(gt_path))
        r = c.loadRes(str(res_path))
        for name, parity in (("night", 1), ("day", 0)):
            e = COCOeval(c, r, "bbox")
            e.params.imgIds = [i for i in sorted(c.getImgIds()) if i % 2 == parity]
            e.evaluate()
            e.accumulate()
            e.summarize()
            assert rows[name]["metrics"]["bbox.AP"] == pytest.approx(e.stats[0], abs=TOL)
            assert rows[name]["metrics"]["bbox.AP50"] == pytest.approx(e.stats[1], abs=TOL)
            assert rows[name]["counts"]["items"] == len(e.params.imgIds)
    assert rows["day"]["metrics"]["bbox.AP"] != rows["night"]["metrics"]["bbox.AP"]
