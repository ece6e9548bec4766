"""Spans, classifications, ratings, text, relations, segments, masks, polygons, keypoints."""

from __future__ import annotations

import numpy as np
import pytest

import groundtruth as gt
from groundtruth import Dataset
from groundtruth.diff._similarity import interval_iou
from groundtruth.geometry import box_iou, polygon_iou, rle_encode
from groundtruth.models import (
    BBox,
    Classification,
    Item,
    Keypoints,
    Mask,
    Polygon,
    Rating,
    Relation,
    Rle,
    Segment,
    Span,
    TextAnswer,
    Transcription,
)

TEXT = "Ada Lovelace met Charles Babbage in London in 1833."


def _text_ds(anns) -> Dataset:
    return Dataset(items=[Item(id="t1", kind="text", text=TEXT)], annotations=anns)


def _by_old(result):
    return {c.get("old_id", c["id"]): c for c in result.annotation_changes}


def test_interval_iou():
    got = interval_iou([[0, 10], [5, 5]], [[5, 15], [5, 5], [20, 30]])
    assert got == pytest.approx(np.array([[5 / 15, 0, 0], [0, 1.0, 0]]))


def test_spans_renumbered_boundary_label_and_text_changes():
    old = _text_ds([
        Span(id="s1", item_id="t1", label="PER", start=0, end=12, text="Ada Lovelace"),
        Span(id="s2", item_id="t1", label="PER", start=17, end=32, text="Charles Babbage"),
        Span(id="s3", item_id="t1", label="LOC", start=36, end=42, text="London"),
        Span(id="s4", item_id="t1", label="DATE", start=46, end=50, text="1833"),
    ])
    new = _text_ds([
        Span(id="e1", item_id="t1", label="PER", start=0, end=12, text="Ada Lovelace"),
        Span(id="e2", item_id="t1", label="PER", start=25, end=32, text="Babbage"),  # boundary
        Span(id="e3", item_id="t1", label="GPE", start=36, end=42, text="London"),  # label
        Span(id="e4", item_id="t1", label="ORG", start=4, end=12, text="Lovelace"),  # overlaps s1
    ])
    result = gt.diff(old, new, overlap=0.4)  # s2 -> e2 overlaps 7/15
    assert result.match_by["method"] == "content"
    by = _by_old(result)
    assert "s1" not in by  # unchanged
    assert by["s2"]["kinds"] == ["geometry", "text"]
    assert by["s2"]["details"]["geometry"]["delta"] == {"start": 8}
    assert by["s2"]["details"]["geometry"]["overlap"] == pytest.approx(7 / 15, abs=1e-4)
    assert by["s2"]["details"]["text"] == {"text": {"old": "Charles Babbage", "new": "Babbage"}}
    assert by["s3"]["kinds"] == ["label"]
    assert by["s3"]["id"] == "e3"
    assert by["s4"]["change"] == "removed"
    added = [c for c in result.annotation_changes if c["change"] == "added"]
    assert [c["id"] for c in added] == ["e4"]


def test_span_overlap_threshold():
    old = _text_ds([Span(id="a", item_id="t1", label="PER", start=17, end=32)])
    new = _text_ds([Span(id="b", item_id="t1", label="PER", start=25, end=32)])
    assert gt.diff(old, new, overlap=0.4).summary["annotations"]["changed"] == 1
    s = gt.diff(old, new, overlap=0.5).summary["annotations"]  # 7/15 < 0.5
    assert (s["added"], s["removed"], s["changed"]) == (1, 1, 0)


def test_classification_flip_and_multilabel_addition():
    items = [Item(id=str(i), kind="text", text=f"doc {i}") for i in range(3)]
    old = Dataset(items=items, annotations=[
        Classification(id="1", item_id="0", label="pos"),
        Classification(id="2", item_id="1", label="neg"),
        Classification(id="3", item_id="2", label="neu"),
    ])
    new = Dataset(items=items, annotations=[
        Classification(id="x", item_id="0", label="pos"),
        Classification(id="y", item_id="1", label="pos"),
        Classification(id="z", item_id="2", label="neu"),
        Classification(id="w", item_id="2", label="urgent", label_set="flags"),
    ])
    result = gt.diff(old, new)
    by = _by_old(result)
    assert by["2"]["details"]["label"] == {"old": "neg", "new": "pos"}
    assert by["w"]["change"] == "added"  # another label set: not a flip of `neu`
    assert {(c["old"], c["new"]): c["count"] for c in result.summary["confusion"]} == {
        ("pos", "pos"): 1, ("neg", "pos"): 1, ("neu", "neu"): 1, (None, "urgent"): 1}


def test_ratings_text_answers_and_transcriptions():
    item = Item(id="a", kind="audio", uri="a.wav")
    old = Dataset(items=[item], annotations=[
        Rating(id="1", item_id="a", label="quality", value=3.0, annotator="r1"),
        TextAnswer(id="2", item_id="a", text="A dog barks at a passing car."),
        Transcription(id="3", item_id="a", text="hello world", start_time=0.0, end_time=1.5),
    ])
    new = Dataset(items=[item], annotations=[
        Rating(id="9", item_id="a", label="quality", value=4.0, annotator="r1"),
        TextAnswer(id="8", item_id="a", text="A dog barks at the passing car."),
        Transcription(id="7", item_id="a", text="hello word", start_time=0.1, end_time=1.5),
    ])
    by = _by_old(gt.diff(old, new))
    assert by["1"]["kinds"] == ["value"]
    assert by["1"]["details"]["value"] == {"value": {"old": 3.0, "new": 4.0}}
    assert by["2"]["kinds"] == ["text"]
    assert by["2"]["id"] == "8"
    assert by["3"]["kinds"] == ["geometry", "text"]
    assert by["3"]["details"]["geometry"]["delta"] == {"start_time": 0.1}


def test_relations_follow_renumbered_ends():
    old = _text_ds([
        Span(id="s1", item_id="t1", label="PER", start=0, end=12),
        Span(id="s2", item_id="t1", label="PER", start=17, end=32),
        Span(id="s3", item_id="t1", label="LOC", start=36, end=42),
        Relation(id="r1", item_id="t1", label="met", source="s1", target="s2"),
        Relation(id="r2", item_id="t1", label="in", source="s2", target="s3"),
    ])
    new = _text_ds([
        Span(id="a", item_id="t1", label="PER", start=0, end=12),
        Span(id="b", item_id="t1", label="PER", start=17, end=32),
        Span(id="c", item_id="t1", label="LOC", start=36, end=42),
        Relation(id="q1", item_id="t1", label="met", source="a", target="b"),
        Relation(id="q2", item_id="t1", label="in", source="a", target="c"),  # other source
    ])
    result = gt.diff(old, new)
    s = result.summary["annotations"]
    # r1 still links the same two spans (renumbered): unchanged; r2's source moved
    assert (s["unchanged"], s["removed"], s["added"], s["changed"]) == (4, 1, 1, 0)
    assert {c["id"] for c in result.annotation_changes} == {"r2", "q2"}


def test_segments_by_time_overlap():
    item = Item(id="v", kind="video", uri="v.mp4")
    old = Dataset(items=[item], annotations=[
        Segment(id="1", item_id="v", label="run", start_time=0.0, end_time=10.0),
        Segment(id="2", item_id="v", label="walk", start_time=20.0, end_time=30.0)])
    new = Dataset(items=[item], annotations=[
        Segment(id="a", item_id="v", label="walk", start_time=21.0, end_time=30.0),
        Segment(id="b", item_id="v", label="jump", start_time=1.0, end_time=10.0)])
    by = _by_old(gt.diff(old, new))
    assert by["1"]["id"] == "b"
    assert by["1"]["kinds"] == ["label", "geometry"]
    assert by["2"]["id"] == "a"
    assert by["2"]["details"]["geometry"]["overlap"] == 0.9


def _img(anns) -> Dataset:
    return Dataset(items=[Item(id="i", kind="image", uri="i.png", width=100, height=100)],
                   annotations=anns)


def test_rotated_box_iou_uses_the_polygon():
    a = BBox(id="1", item_id="i", bbox=[20.0, 20.0, 40.0, 20.0], rotation=90.0)
    b = BBox(id="2", item_id="i", bbox=[30.0, 10.0, 20.0, 40.0])  # the same region, unrotated
    result = gt.diff(_img([a]), _img([b]), match_by="content")
    c = result.annotation_changes[0]
    assert c["change"] == "changed"
    assert c["details"]["geometry"]["iou"] == pytest.approx(1.0, abs=0.01)
    assert box_iou([a.bbox], [b.bbox])[0, 0] < 0.5  # the axis-aligned reading would not pair


def test_polygon_with_hole_and_mask_iou():
    ring = [10.0, 10.0, 60.0, 10.0, 60.0, 60.0, 10.0, 60.0]
    hole = [20.0, 20.0, 50.0, 20.0, 50.0, 50.0, 20.0, 50.0]
    p_old = Polygon(id="1", item_id="i", label="donut", polygon=[ring])
    p_new = Polygon(id="2", item_id="i", label="donut", polygon=[ring], holes=[hole])
    want = polygon_iou(([ring], [hole]), ([ring], []))
    assert want == pytest.approx((2500 - 900) / 2500, abs=0.01)
    m = np.zeros((100, 100), dtype=bool)
    m[10:40, 10:40] = True
    m2 = np.zeros_like(m)
    m2[12:40, 10:40] = True
    k_old = Mask(id="3", item_id="i", label="blob", rle=Rle(size=[100, 100], counts=rle_encode(m)))
    k_new = Mask(id="4", item_id="i", label="blob",
                 rle=Rle(size=[100, 100], counts=rle_encode(m2)))
    result = gt.diff(_img([p_old, k_old]), _img([p_new, k_new]))
    by = _by_old(result)
    assert by["1"]["details"]["geometry"]["iou"] == pytest.approx(want, abs=1e-4)
    assert by["1"]["details"]["geometry"]["fields"] == ["holes"]
    assert by["3"]["details"]["geometry"]["iou"] == pytest.approx(28 / 30, abs=1e-4)


def test_keypoints_by_oks():
    kp = [10.0, 10.0, 2.0, 30.0, 10.0, 2.0, 20.0, 40.0, 2.0]
    moved = [11.0, 10.0, 2.0, 30.0, 10.0, 2.0, 20.0, 40.0, 2.0]
    far = [80.0, 80.0, 2.0, 90.0, 80.0, 2.0, 85.0, 95.0, 2.0]
    old = _img([Keypoints(id="1", item_id="i", label="hand", keypoints=kp, bbox=[10, 10, 20, 30])])
    new = _img([Keypoints(id="a", item_id="i", label="hand", keypoints=far),
                Keypoints(id="b", item_id="i", label="hand", keypoints=moved, bbox=[10, 10, 20, 30])])
    by = _by_old(gt.diff(old, new))
    assert by["1"]["id"] == "b"
    assert 0.5 < by["1"]["details"]["geometry"]["oks"] < 1.0
    assert by["a"]["change"] == "added"


def test_attributes_status_annotator_confidence():
    a = BBox(id="1", item_id="i", label="car", bbox=[1, 1, 5, 5], status="submitted",
             annotator="u1", confidence=0.5, attributes={"occluded": False, "color": "red"})
    b = a.model_copy(update={"status": "accepted", "annotator": "u2", "confidence": 0.9,
                             "attributes": {"occluded": True, "make": "vw"}})
    c = gt.diff(_img([a]), _img([b])).annotation_changes[0]
    assert c["kinds"] == ["attributes", "status", "annotator", "confidence"]
    assert c["details"]["attributes"] == {"added": ["make"], "removed": ["color"],
                                          "changed": ["occluded"]}
    assert c["details"]["status"] == {"old": "submitted", "new": "accepted"}
    ign = gt.diff(_img([a]), _img([b]), ignore=["annotator", "attributes.occluded",
                                                "confidence"]).annotation_changes[0]
    assert ign["kinds"] == ["attributes", "status"]
    assert ign["details"]["attributes"] == {"added": ["make"], "removed": ["color"]}


def test_float_noise_is_not_a_change():
    a = BBox(id="1", item_id="i", bbox=[10.0, 10.0, 5.0, 5.0])
    b = a.model_copy(update={"bbox": [10.0 + 1e-9, 10.0, 5.0, 5.0]})
    assert gt.diff(_img([a]), _img([b])).identical
    assert not gt.diff(_img([a]), _img([b]), tolerance=0).identical


def test_converter_bookkeeping_in_extensions_is_not_a_change():
    a = BBox(id="1", item_id="i", bbox=[1.0, 1.0, 5.0, 5.0],
             extensions={"coco": {"@index": 0, "area": 25}})
    moved_in_file = a.model_copy(update={"extensions": {"coco": {"@index": 7, "area": 25}}})
    assert gt.diff(_img([a]), _img([moved_in_file])).identical
    renumbered = moved_in_file.model_copy(update={"id": "9"})
    assert gt.diff(_img([a]), _img([renumbered]), match_by="content").identical
    recomputed = a.model_copy(update={"extensions": {"coco": {"@index": 0, "area": 24}}})
    (c,) = gt.diff(_img([a]), _img([recomputed])).annotation_changes
    assert c["kinds"] == ["other"]
    assert c["details"]["other"] == {"fields": ["extensions"]}


def test_extension_bookkeeping_keys_are_not_changes():
    from groundtruth.diff._compare import compare_annotations
    from groundtruth.diff._options import DiffOptions
    from groundtruth.models import BBox

    a = BBox(id="1", item_id="i", bbox=[0, 0, 1, 1], extensions={"coco": {"@index": 3, "area": 1}})
    b = a.model_copy(update={"extensions": {"coco": {"@index": 2, "area": 1}}})
    assert compare_annotations(a, b, DiffOptions(), set()) == ([], {})
    c = a.model_copy(update={"extensions": {"coco": {"@index": 3, "area": 2}}})
    assert compare_annotations(a, c, DiffOptions(), set())[0] == ["other"]
