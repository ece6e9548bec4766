"""Label Studio features the real files do not show: built from the export schema (formats.md 3.4)."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest

import groundtruth as gt
from groundtruth.converters import _lsbrush
from groundtruth.converters.labelstudio import (
    BAD_BRUSH,
    DANGLING,
    MISSING_MEDIA,
    MISSING_SIZE,
    PERCENT_RANGE,
    UNSUPPORTED,
    pseudonym,
    rotate_to_center,
)
from groundtruth.models import (
    BBox,
    Classification,
    Keypoints,
    Mask,
    Ranking,
    Rating,
    Relation,
    Span,
    TextAnswer,
)

W, H = 400, 200


def rect(rid, x, y, w, h, rot=0, label="car", **extra):
    return {"id": rid, "type": "rectanglelabels", "from_name": "label", "to_name": "image",
            "original_width": W, "original_height": H, "image_rotation": 0,
            "value": {"x": x, "y": y, "width": w, "height": h, "rotation": rot,
                      "rectanglelabels": [label]}, **extra}


def export(tmp_path, tasks):
    path = tmp_path / "export.json"
    path.write_bytes(orjson.dumps(tasks))
    return path


def image_task(tid, annotations, predictions=(), data=None):
    return {"id": tid, "data": data if data is not None else {"image": "/data/upload/1/a.jpg"},
            "annotations": list(annotations), "predictions": list(predictions)}


def test_rotation_converted_in_pixels_about_the_centre(tmp_path):
    # 25% x 50% of a 400x200 image is a 100x100 square: rotating about the corner by 90
    # degrees clockwise swings it to the left of the anchor.
    task = image_task(1, [{"id": 1, "completed_by": 1,
                           "result": [rect("r1", 50, 25, 25, 50, rot=90)]}])
    ds = gt.load(str(export(tmp_path, [task])))
    (box,) = ds.annotations
    assert isinstance(box, BBox)
    assert box.rotation == 90
    # anchor (200, 50); the square's far corner goes to (100, 150): centre (150, 100)
    x, y, w, h = box.bbox
    assert (w, h) == pytest.approx((100, 100))
    assert (x + w / 2, y + h / 2) == pytest.approx((150, 100))


def test_rotation_non_square_image_differs_from_percent_space():
    # In pixels, a 30-degree turn of a 100x20 box; the SDK's percent-space rotation would
    # give another centre on a non-square image.
    x, y = rotate_to_center(0, 0, 100, 20, 30)
    cx, cy = x + 50, y + 10
    r = math.radians(30)
    assert (cx, cy) == pytest.approx((50 * math.cos(r) - 10 * math.sin(r),
                                      50 * math.sin(r) + 10 * math.cos(r)))


def test_emails_pseudonymised_predictions_cancelled_and_kept_apart(tmp_path):
    task = image_task(7, [
        {"id": 11, "completed_by": {"id": 3, "email": "ann@example.com"},
         "created_username": "ann@example.com, 3",
         "result": [rect("a", 10, 10, 10, 10)]},
        {"id": 12, "completed_by": {"id": 4, "email": "bob@example.com"},
         "result": [rect("a", 11, 10, 10, 10)]},
        {"id": 13, "completed_by": 5, "was_cancelled": True, "result": []},
        {"id": 14, "completed_by": 6, "was_cancelled": True,
         "result": [rect("c", 1, 1, 1, 1)]},
    ], predictions=[{"id": 2, "model_version": "yolo-v8", "score": 0.75,
                     "result": [rect("p", 10, 10, 10, 10)]}])
    path = export(tmp_path, [task])
    ds = gt.load(str(path))
    who = {a.annotator for a in ds.annotations}
    assert who == {pseudonym("ann@example.com"), pseudonym("bob@example.com"), "ls-user-6",
                   "model-yolo-v8"}
    assert len({a.id for a in ds.annotations}) == len(ds.annotations) == 4
    pred = next(a for a in ds.annotations if a.annotator == "model-yolo-v8")
    assert pred.confidence == 0.75
    assert ds.manifest.annotator("model-yolo-v8").kind == "model"
    assert ds.manifest.annotator("model-yolo-v8").model_version == "yolo-v8"
    cancelled = [a for a in ds.annotations if a.status == "cancelled"]
    assert [a.annotator for a in cancelled] == ["ls-user-6"]
    # no address anywhere in what was read, nor in what is written back
    gt.save(ds, str(tmp_path / "native"))
    blob = b"".join(p.read_bytes() for p in (tmp_path / "native").iterdir())
    assert b"example.com" not in blob
    gt.save(ds, str(tmp_path / "back.json"), format="labelstudio")
    back = (tmp_path / "back.json").read_bytes()
    assert b"example.com" not in back
    # the cancelled, empty annotation 13 survives the round trip
    assert [a["id"] for a in orjson.loads(back)[0]["annotations"]] == [11, 12, 13, 14]
    kept = gt.load(str(path), keep_emails=True)
    assert "ann@example.com" in {a.annotator for a in kept.annotations}


def test_brush_mask_decoded_to_coco_rle(tmp_path):
    mask = np.zeros((H, W), bool)
    mask[20:60, 100:180] = True
    res = {"id": "b", "type": "brushlabels", "from_name": "brush", "to_name": "image",
           "original_width": W, "original_height": H,
           "value": {"format": "rle", "rle": _lsbrush.encode_mask(mask),
                     "brushlabels": ["road"]}}
    bad = {**res, "id": "bad", "value": {"format": "rle", "rle": [0, 0, 1],
                                         "brushlabels": ["road"]}}
    ds = gt.load(str(export(tmp_path, [image_task(1, [{"id": 1, "result": [res, bad]}])])))
    (m,) = ds.annotations
    assert isinstance(m, Mask)
    assert m.label == "road"
    assert m.rle.size == [H, W]
    assert np.array_equal(_lsbrush.coco_decode(m.rle.counts, H, W), mask)
    assert m.bbox == [100.0, 20.0, 80.0, 40.0]
    assert [i.code for i in ds.issues] == [BAD_BRUSH]
    assert ds.issues[0].location.path == "$[0].annotations[0].result[1].value.rle"


def test_keypoint_parent_relations_and_region_choices(tmp_path):
    kp = {"id": "k", "type": "keypointlabels", "from_name": "kp", "to_name": "image",
          "original_width": W, "original_height": H, "parentID": "a",
          "value": {"x": 50, "y": 50, "width": 1, "keypointlabels": ["nose"]}}
    occl = {"id": "a", "type": "choices", "from_name": "occluded", "to_name": "image",
            "value": {"choices": ["yes"]}}
    rel = {"type": "relation", "from_id": "k", "to_id": "a", "direction": "right",
           "labels": ["part-of"]}
    ghost = {"type": "relation", "from_id": "k", "to_id": "zzz", "direction": "right"}
    whole = {"id": "t", "type": "choices", "from_name": "weather", "to_name": "image",
             "value": {"choices": ["sunny", "dry"]}}
    note = {"id": "n", "type": "textarea", "from_name": "notes", "to_name": "image",
            "value": {"text": ["blurry", "dark"]}}
    stars = {"id": "s", "type": "rating", "from_name": "quality", "to_name": "image",
             "value": {"rating": 4}}
    odd = {"id": "v", "type": "videorectangle", "from_name": "v", "to_name": "image",
           "value": {"sequence": []}}
    result = [rect("a", 10, 10, 20, 20), kp, occl, rel, ghost, whole, note, stars, odd]
    path = export(tmp_path, [image_task(1, [{"id": 1, "completed_by": 1, "result": result}])])
    ds = gt.load(str(path))
    by_type = {}
    for a in ds.annotations:
        by_type.setdefault(type(a), []).append(a)
    (box,) = by_type[BBox]
    (point,) = by_type[Keypoints]
    assert box.attributes == {"occluded": ["yes"]}
    assert point.attributes["parent"] == "a"
    assert point.keypoints == [200.0, 100.0, 2.0]
    (relation,) = by_type[Relation]
    assert (relation.source, relation.target, relation.label) == (point.id, box.id, "part-of")
    assert sorted(c.label for c in by_type[Classification]) == ["dry", "sunny"]
    assert "weather" in {s.name for s in ds.manifest.taxonomy.label_sets if s.multi_label}
    assert by_type[TextAnswer][0].text == "blurry\ndark"
    assert by_type[Rating][0].value == 4
    assert sorted(i.code for i in ds.issues) == sorted([DANGLING, UNSUPPORTED])
    out = tmp_path / "back.json"
    gt.save(ds, str(out), format="labelstudio")
    back = orjson.loads(out.read_bytes())[0]["annotations"][0]["result"]
    assert sorted(r.get("id", "") for r in back) == sorted(
        r.get("id", "") for r in result if r is not ghost)


def test_text_spans_utf16_offsets_converted(tmp_path):
    text = "😀 Ana met 😀 Bob"
    u16 = lambda i: len(text[:i].encode("utf-16-le")) // 2
    s = text.index("Bob")
    task = {"id": 3, "data": {"text": text}, "annotations": [{"id": 1, "result": [
        {"id": "x", "type": "labels", "from_name": "ner", "to_name": "text",
         "value": {"start": u16(s), "end": u16(s) + 3, "text": "Bob", "labels": ["PER"]}},
        {"id": "y", "type": "labels", "from_name": "ner", "to_name": "text",
         "value": {"start": 2, "end": 5, "text": "Zed", "labels": ["PER"]}},
        {"id": "z", "type": "labels", "from_name": "ner", "to_name": "text",
         "value": {"start": 40, "end": 45, "labels": ["PER"]}},
    ]}]}
    ds = gt.load(str(export(tmp_path, [task])))
    spans = [a for a in ds.annotations if isinstance(a, Span)]
    assert (spans[0].start, spans[0].end, spans[0].text) == (s, s + 3, "Bob")
    codes = [(i.code, i.location.path) for i in ds.issues]
    assert codes == [
        ("span.offsets-utf16-converted", "$[0].annotations[0].result[0].value"),
        ("span.text-mismatch", "$[0].annotations[0].result[1].value"),
        ("span.out-of-range", "$[0].annotations[0].result[2].value"),
    ]
    # the converted span goes back with the tool's own offsets
    gt.save(ds, str(tmp_path / "b.json"), format="labelstudio")
    back = orjson.loads((tmp_path / "b.json").read_bytes())[0]["annotations"][0]["result"][0]
    assert (back["value"]["start"], back["value"]["end"]) == (u16(s), u16(s) + 3)


def test_bad_tasks_reported_rest_read(tmp_path):
    no_size = rect("q", 1, 1, 1, 1)
    del no_size["original_width"]
    tasks = [
        image_task(1, [{"id": 1, "result": [rect("a", 90, 10, 20, 10)]}]),  # x+w = 110%
        image_task(2, [{"id": 2, "result": [rect("b", 1, 1, 1, 1)]}], data={"other": 1}),
        image_task(3, [{"id": 3, "result": [no_size]}]),
        "not a task",
        image_task(5, [{"id": 5, "result": [rect("c", 1, 1, 1, 1)]}]),
    ]
    ds = gt.load(str(export(tmp_path, tasks)))
    assert [it.id for it in ds.items] == ["1", "3", "5"]
    got = [(i.code, i.location.record_id, i.location.path) for i in ds.issues]
    assert (PERCENT_RANGE, "1", "$[0].annotations[0].result[0].value") in got
    assert (MISSING_MEDIA, "2", "$[1].data.image") in got
    assert (MISSING_SIZE, "3", "$[2].annotations[0].result[0]") in got
    assert ("json.record.not-an-object", None, "$[3]") in got
    assert len(ds.annotations) == 2


def test_ranker_and_pairwise(tmp_path):
    tasks = [
        {"id": 1, "data": {"posts": [{"id": "p1", "body": "a"}, {"id": "p2", "body": "b"},
                                     {"id": "p3", "body": "c"}]},
         "annotations": [{"id": 1, "result": [
             {"id": "r", "type": "ranker", "from_name": "rank", "to_name": "posts",
              "value": {"ranker": {"rank": ["p2", "p3", "p1"]}}}]}]},
        {"id": 2, "data": {"text1": "left answer", "text2": "right answer"},
         "annotations": [{"id": 2, "result": [
             {"id": "w", "type": "pairwise", "from_name": "pw", "to_name": "text1,text2",
              "value": {"selected": "right"}}]}]},
    ]
    path = export(tmp_path, tasks)
    ds = gt.load(str(path))
    r1, r2 = (a for a in ds.annotations if isinstance(a, Ranking))
    assert r1.ranking == [["p2"], ["p3"], ["p1"]]
    assert [c.id for c in ds.item("1").candidates] == ["p1", "p2", "p3"]
    assert r2.ranking == [["right"], ["left"]]
    assert ds.item("2").candidates[1].text == "right answer"
