"""`gt evaluate` as a user runs it: outputs, exit codes, located errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import groundtruth as gt
from groundtruth.dataset import Dataset
from groundtruth.evaluation import EvaluationInputError
from groundtruth.models import Annotator, BBox, Item, Manifest, Polygon


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "groundtruth", "evaluate", *args], capture_output=True, text=True,
        timeout=120, check=False,
    )


@pytest.fixture
def coco_pair(tmp_path: Path) -> tuple[Path, Path]:
    images = [{"id": i, "width": 100, "height": 100, "file_name": f"{i}.jpg"} for i in (1, 2)]
    anns = [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 40], "area": 1600,
         "iscrowd": 0},
        {"id": 2, "image_id": 1, "category_id": 2, "bbox": [60, 60, 20, 20], "area": 400,
         "iscrowd": 0},
        {"id": 3, "image_id": 2, "category_id": 1, "bbox": [0, 0, 50, 90], "area": 4500,
         "iscrowd": 0},
    ]
    cats = [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}]
    res = [
        {"image_id": 1, "category_id": 1, "bbox": [10, 10, 40, 40], "score": 0.9},  # exact
        {"image_id": 1, "category_id": 2, "bbox": [0, 0, 10, 10], "score": 0.8},  # wrong place
        {"image_id": 2, "category_id": 1, "bbox": [0, 0, 50, 90], "score": 0.7},  # exact
    ]
    g = tmp_path / "gt.json"
    g.write_bytes(orjson.dumps({"images": images, "annotations": anns, "categories": cats}))
    r = tmp_path / "res.json"
    r.write_bytes(orjson.dumps(res))
    return g, r


def test_json_report(coco_pair: tuple[Path, Path]) -> None:
    g, r = coco_pair
    res = run(str(g), str(r), "--format", "json", "--by", "label")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    bbox = data["tasks"]["bbox"]
    # cat: both found exactly (AP 1); dog: missed (AP 0); mean over categories 0.5
    assert bbox["stats"]["AP"] == pytest.approx(0.5)
    per = {row["label"]: row for row in bbox["per_label"]}
    assert per["cat"]["AP"] == pytest.approx(1.0)
    assert per["dog"]["AP"] == pytest.approx(0.0)
    assert bbox["worst_items"][0] == {"item_id": "1", "missed": 1, "false_positives": 1,
                                      "error": pytest.approx(1.8)}
    labels = {s["value"]: s for s in data["slices"]}
    assert labels["dog"]["counts"]["bbox.n_gt"] == 1
    assert data["counts"]["predictions"] == 3
    assert data["counts"]["predictions_with_unknown_labels"] == 0


def test_unknown_labels_are_counted_not_dropped_silently(tmp_path: Path) -> None:
    items = [Item(id="a", kind="image", uri="a.jpg", width=50, height=50)]
    anns = [
        BBox(id="g1", item_id="a", label="car", bbox=[0, 0, 10, 10], annotator="ann"),
        BBox(id="p1", item_id="a", label="car", bbox=[0, 0, 10, 10], annotator="m",
             confidence=0.9),
        BBox(id="p2", item_id="a", label="zebra", bbox=[0, 0, 10, 10], annotator="m",
             confidence=0.99),
    ]
    ds = Dataset(Manifest(annotators=[Annotator(id="ann", kind="human"),
                                      Annotator(id="m", kind="model")]), items, anns)
    report = gt.evaluate(ds, model="m")
    assert report.counts["predictions_with_unknown_labels"] == 1
    assert any("zebra" in n for n in report.notes)
    # as pycocotools: the unknown category does not count against the known one
    assert report.sections["bbox"]["stats"]["AP"] == pytest.approx(1.0)


def test_text_markdown_and_output_file(coco_pair: tuple[Path, Path], tmp_path: Path) -> None:
    g, r = coco_pair
    text = run(str(g), str(r))
    assert text.returncode == 0, text.stderr
    assert "bbox (COCO: 3 ground truth, 3 predictions on 2 items" in text.stdout
    assert "AP50" in text.stdout
    out = tmp_path / "report.md"
    md = run(str(g), str(r), "--format", "markdown", "--output", str(out))
    assert md.returncode == 0, md.stderr
    body = out.read_text()
    assert body.startswith("## Evaluation:")
    assert "| AP | AP50 |" in body
    assert "| cat |" in body


def test_model_in_the_same_dataset(tmp_path: Path) -> None:
    items = [Item(id="a", kind="image", uri="a.jpg", width=50, height=50, split="val")]
    anns = [
        BBox(id="g1", item_id="a", label="car", bbox=[0, 0, 10, 10], annotator="ann"),
        BBox(id="p1", item_id="a", label="car", bbox=[0, 0, 10, 10], annotator="yolo",
             confidence=0.9),
        BBox(id="p2", item_id="a", label="car", bbox=[30, 30, 10, 10], annotator="yolo",
             confidence=0.95),
    ]
    manifest = Manifest(annotators=[Annotator(id="ann", kind="human"),
                                    Annotator(id="yolo", kind="model")])
    gt.save(Dataset(manifest, items, anns), tmp_path / "ds")
    res = run(str(tmp_path / "ds"), "--model", "yolo", "--format", "json", "--by", "split")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    # the false positive outranks the hit: precision 1/2 at recall 1
    assert data["tasks"]["bbox"]["stats"]["AP50"] == pytest.approx(0.5)
    assert data["counts"]["ground_truth_annotations"] == 1
    assert data["slices"][0]["value"] == "val"
    none = run(str(tmp_path / "ds"))
    assert none.returncode == 1
    assert "no predictions" in none.stderr
    assert "Traceback" not in none.stderr
    other = run(str(tmp_path / "ds"), "--model", "nobody")
    assert other.returncode == 1
    assert "annotators with annotations: ann, yolo" in other.stderr


def test_predictions_on_other_items_fail_clearly(coco_pair: tuple[Path, Path],
                                                 tmp_path: Path) -> None:
    g, _ = coco_pair
    r = tmp_path / "other.json"
    r.write_bytes(orjson.dumps([{"image_id": 99, "category_id": 1, "bbox": [0, 0, 1, 1],
                                 "score": 1.0}]))
    res = run(str(g), str(r))
    assert res.returncode == 1
    assert "no prediction is on an item of the ground truth" in res.stderr
    assert "hint:" in res.stderr
    assert "Traceback" not in res.stderr


def test_usage_errors_exit_2(coco_pair: tuple[Path, Path], tmp_path: Path) -> None:
    g, r = coco_pair
    bad = run(str(g), str(r), "--max-dets", "1,x")
    assert bad.returncode == 2
    assert "--max-dets" in bad.stderr
    missing = run(str(tmp_path / "nope.json"), str(r))
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    task = run(str(g), str(r), "--task", "spans")
    assert task.returncode == 1
    assert "nothing to score for 'spans'" in task.stderr
    sl = run(str(g), str(r), "--by", "weather")
    assert sl.returncode == 1
    assert "unknown slice 'weather'" in sl.stderr


def test_polygon_on_an_image_without_size_is_located(tmp_path: Path) -> None:
    items = [Item(id="a", kind="image", uri="a.jpg")]
    anns = [
        Polygon(id="g1", item_id="a", label="car", polygon=[[0, 0, 10, 0, 10, 10]],
                annotator="ann"),
        Polygon(id="p1", item_id="a", label="car", polygon=[[0, 0, 10, 0, 10, 10]],
                annotator="m", confidence=0.5),
    ]
    ds = Dataset(Manifest(annotators=[Annotator(id="ann", kind="human"),
                                      Annotator(id="m", kind="model")]), items, anns)
    with pytest.raises(EvaluationInputError, match="has no width/height") as err:
        gt.evaluate(ds, model="m", tasks=["segm"])
    assert err.value.location is not None
    assert err.value.location.record_id == "g1"
    # boxes need no size: bbox evaluation of the same polygons works (their extents match)
    bbox = gt.evaluate(ds, model="m", tasks=["bbox"]).sections["bbox"]
    assert bbox["stats"]["AP50"] == pytest.approx(1.0)


def test_html_report_draws_the_worst_items(coco_pair: tuple[Path, Path], tmp_path: Path) -> None:
    g, r = coco_pair
    out = tmp_path / "eval.html"
    res = run(str(g), str(r), "--format", "html", "--output", str(out))
    assert res.returncode == 0, res.stderr
    page = out.read_text()
    assert page.startswith("<!doctype html>")
    assert "bbox: item 1" in page  # the worst item's card
    assert page.count("<svg") == 1  # item 2 was found exactly: not among the worst
    assert 'stroke-dasharray="6 4"' in page  # ground truth dashed
    assert ">dog</text>" in page  # the results file's category 2, named as the ground truth's
