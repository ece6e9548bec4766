"""Defaults that do not cry wolf: warnings only where a person should act (issue 16)."""

from __future__ import annotations

import pytest

import groundtruth as gt
from groundtruth import validate

CONLL = "John B-PER\nruns O\n\nIt O\nrains O\n\n"


def codes(report) -> list[str]:
    return sorted(i.code for i in report.issues)


def test_a_sentence_with_no_entity_is_a_label(tmp_path):
    path = tmp_path / "ner.conll"
    path.write_text(CONLL)
    report = validate(path)
    assert "dataset.item-unannotated" not in codes(report)
    ds = gt.load(path)
    assert len(ds.items) == 2  # the all-O sentence is still read
    assert len(ds.annotations) == 1


def test_an_untokenised_text_with_no_span_is_still_reported(tmp_path):
    path = tmp_path / "ner.conll"
    path.write_text(CONLL)
    ds = gt.load(path)
    ds.items[1] = ds.items[1].model_copy(update={"tokens": []})
    assert "dataset.item-unannotated" in codes(validate(ds))


def _coco(tmp_path, n_categories: int):
    import json

    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 100}],
           "categories": [{"id": i, "name": f"c{i}"} for i in range(1, n_categories + 1)],
           "annotations": [{"id": 7, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5],
                            "area": 25, "iscrowd": 0}]}
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(doc))
    return path


def test_unused_labels_are_one_summary_at_info_level_for_a_foreign_file(tmp_path):
    report = validate(_coco(tmp_path, 80))
    unused = [i for i in report.issues if i.code == "dataset.label-unused"]
    assert len(unused) == 1
    assert unused[0].severity == "info"
    assert unused[0].message.startswith("79 of 80 labels (set categories) are never used: c2, c3")
    assert unused[0].message.endswith("and 71 more")
    assert unused[0].location.record_id == "c2"  # located at the first unused label
    assert report.counts["warning"] == 0


def test_unused_labels_of_a_native_dataset_stay_a_warning(tmp_path):
    ds = gt.load(_coco(tmp_path, 2))
    gt.save(ds, tmp_path / "native")
    [unused] = [i for i in validate(tmp_path / "native").issues
                if i.code == "dataset.label-unused"]
    assert unused.severity == "warning"
    assert unused.message == "1 of 2 labels (set categories) is never used: c2"


def test_annotators_without_guideline_are_one_summary(tmp_path):
    from groundtruth.models import Annotator, Classification

    ds = gt.load(_coco(tmp_path, 1))
    ds.manifest.annotators[:] = [Annotator(id="ann1", kind="human"),
                                 Annotator(id="ann2", kind="human"),
                                 Annotator(id="bot", kind="model")]
    ds.annotations[:] = [Classification(id=f"k{i}", item_id=ds.items[0].id, label="c1",
                                        annotator=who)
                         for i, who in enumerate(["ann2", "ann1", "ann2", "bot"])]
    gt.save(ds, tmp_path / "native")
    [issue] = [i for i in validate(tmp_path / "native").issues
               if i.code == "dataset.annotator-without-guideline"]
    assert issue.severity == "warning"
    assert issue.message == ("3 annotations by 2 annotators name no guideline: "
                             "ann2 (2 annotations, first k0), ann1 (1 annotation, first k1)")
    assert issue.location.record_id == "ann2"


def test_report_text_reads_well(tmp_path):
    path = tmp_path / "ner.conll"
    path.write_text(CONLL)
    ds = gt.load(path)
    ds.items[0] = ds.items[0].model_copy(update={"tokens": []})
    ds.items[1] = ds.items[1].model_copy(update={"tokens": []})
    ds.annotations.clear()
    text = validate(ds).render()
    assert "0 errors, 2 warnings, 1 info" in text  # label-unused: info, a foreign file
    assert "2 items, 0 annotations" in text
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if "[dataset.item-unannotated]" in line)
    assert lines[head].endswith("× 2: An item with no annotation")
    # every location of a group carries its message, the first one too
    assert lines[head + 1].endswith(": no annotation refers to this item")
    assert lines[head + 2].endswith(": no annotation refers to this item")
    single = next(line for line in lines if "[dataset.label-unused]" in line)
    assert single.endswith("]: 1 of 1 label (set ner) is never used: PER")


def _polygon_dataset(box):
    from groundtruth.models import Item, Polygon

    return gt.Dataset(items=[Item(id="i", kind="image", uri="a.jpg", width=640, height=480)],
                      annotations=[Polygon(id="p", item_id="i", label="car",
                                           polygon=[[322, 321, 416, 321, 416, 348, 322, 348]],
                                           bbox=box)])


@pytest.mark.parametrize("encoding", ["jsonl", "parquet"])
@pytest.mark.parametrize("vectorise", [True, False])
def test_polygon_bbox_not_its_extent_is_a_warning(tmp_path, monkeypatch, encoding, vectorise):
    from groundtruth.validation import _sources

    monkeypatch.setattr(_sources, "VECTORISE", vectorise)
    gt.save(_polygon_dataset([322, 321, 200, 27]), tmp_path / "bad", encoding=encoding)
    [issue] = [i for i in validate(tmp_path / "bad").issues
               if i.code == "geometry.bbox-extent-mismatch"]
    assert issue.severity == "warning"
    assert issue.location.record_id == "p"
    assert issue.message == ("bbox covers x in [322, 522], y in [321, 348]; the polygon x in "
                             "[322, 416], y in [321, 348]")
    # a box equal to the extent within a pixel is fine
    gt.save(_polygon_dataset([322.4, 321, 94.5, 27]), tmp_path / "ok", encoding=encoding)
    assert "geometry.bbox-extent-mismatch" not in codes(validate(tmp_path / "ok"))


def test_real_coco_boxes_match_their_polygons():
    from tests.conftest import shared_path

    report = validate(shared_path("coco", "tinycoco_instances_val2017.json"))
    assert "geometry.bbox-extent-mismatch" not in codes(report)
