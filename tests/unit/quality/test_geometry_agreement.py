"""agreement() and consensus() on spans, boxes, polygons, masks and keypoints."""

from __future__ import annotations

import json

import krippendorff
import numpy as np
import pytest
from pycocotools import mask as cocomask
from scipy.optimize import linear_sum_assignment

import groundtruth as gt
from groundtruth import Dataset
from groundtruth.models import BBox, Classification, Item, Keypoints, Mask, Polygon, Rle, Span
from groundtruth.quality import agreement, consensus
from tests.conftest import shared_path
from tests.unit.quality.helpers import classification_dataset, label_set, manifest

TEXT = "Alice met Bob in Paris"


def span_dataset():
    spans = {
        "a": [(0, 5, "PER"), (10, 13, "PER"), (17, 22, "LOC")],
        "b": [(0, 5, "PER"), (10, 13, "ORG"), (16, 22, "LOC")],
    }
    anns = [
        Span(id=f"{who}{n}", item_id="1", start=s, end=e, label=lab, annotator=who, text=TEXT[s:e])
        for who, rows in spans.items()
        for n, (s, e, lab) in enumerate(rows)
    ]
    return Dataset(manifest([], ["a", "b"]), [Item(id="1", kind="text", text=TEXT)], anns)


def test_span_f1_exact_and_overlap():
    rep = agreement(span_dataset()).to_dict()
    f1 = rep["span_f1"]
    assert f1["exact_f1"] == pytest.approx(2 / 6, abs=1e-6)
    assert f1["f1"] == pytest.approx(4 / 6, abs=1e-6)
    assert f1["mean_iou"] == pytest.approx((1 + 5 / 6) / 2, abs=1e-6)
    assert f1["pairs"][0]["annotators"] == ["a", "b"]
    assert rep["per_label"]["PER"]["exact_f1"] == pytest.approx(2 / 3, abs=1e-6)
    assert rep["per_label"]["ORG"]["f1"] == 0.0
    assert rep["per_label"]["LOC"]["f1"] == 1.0
    assert rep["per_label"]["LOC"]["exact_f1"] == 0.0
    assert rep["disputed_items"][0]["item_id"] == "1"


def test_span_unitised_agreement_on_characters():
    rep = agreement(span_dataset()).to_dict()
    assert rep["unit"] == "character"
    assert "do not count" in rep["percent_agreement"]["unit"]
    # 14 covered characters; they differ on "Bob" (PER/ORG) and on the space before Paris.
    assert rep["percent_agreement"]["n_units"] == 14
    assert rep["percent_agreement"]["value"] == pytest.approx(10 / 14, abs=1e-6)
    codes = {"(none)": 0, "LOC": 1, "ORG": 2, "PER": 3}
    a = ["PER"] * 5 + ["PER"] * 3 + ["(none)"] + ["LOC"] * 5
    b = ["PER"] * 5 + ["ORG"] * 3 + ["LOC"] * 6
    data = np.array([[codes[x] for x in a], [codes[x] for x in b]], dtype=float)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert rep["krippendorff_alpha"]["value"] == pytest.approx(expected, abs=1e-6)


def test_span_consensus():
    out = consensus(span_dataset())
    cons = sorted((a for a in out.annotations if a.consensus is not None), key=lambda a: a.start)
    assert [(a.start, a.end, a.label) for a in cons] == [(0, 5, "PER"), (10, 13, "ORG"),
                                                        (17, 22, "LOC")]  # fmt: skip
    assert not cons[0].consensus.needs_review
    assert cons[1].consensus.needs_review  # PER vs ORG: a tie
    assert cons[2].consensus.needs_review  # boundaries 16 vs 17: a tie
    assert cons[0].sources == ["a0", "b0"]
    assert cons[0].text == "Alice"


def box_dataset():
    boxes = {
        "a": [([0, 0, 10, 10], "cat"), ([20, 20, 10, 10], "dog")],
        "b": [([1, 0, 10, 10], "cat"), ([20, 20, 10, 10], "cat"), ([50, 50, 5, 5], "cat")],
        "c": [([0, 1, 10, 10], "cat")],
    }
    anns = [
        BBox(id=f"{who}{n}", item_id="img", bbox=list(b), label=lab, annotator=who)
        for who, rows in boxes.items()
        for n, (b, lab) in enumerate(rows)
    ]
    items = [Item(id="img", kind="image", uri="img.jpg", width=100, height=100)]
    return Dataset(manifest([], ["a", "b", "c"]), items, anns)


def test_box_matched_f1_and_iou():
    rep = agreement(box_dataset()).to_dict()
    f1 = rep["region_f1"]
    assert f1["f1"] == pytest.approx(3 / 6, abs=1e-6)
    pairs = {tuple(p["annotators"]): p for p in f1["pairs"]}
    assert pairs[("a", "b")]["f1"] == pytest.approx(0.4)
    assert pairs[("a", "c")]["f1"] == pytest.approx(2 / 3, abs=1e-6)
    assert pairs[("b", "c")]["f1"] == pytest.approx(0.5)
    assert f1["mean_iou"] == pytest.approx((90 / 110 * 2 + 81 / 119) / 3, abs=1e-6)
    assert rep["unit"] == "region"
    # units: {cat,cat,cat}, {dog,cat,(none)}, {(none),cat,(none)}
    assert rep["percent_agreement"]["n_units"] == 3
    assert rep["percent_agreement"]["value"] == pytest.approx((1 + 0 + 1 / 3) / 3, abs=1e-6)
    per = rep["per_annotator"]
    assert per["a"]["f1_with_consensus"] == pytest.approx(2 * 1 / (2 + 1), abs=1e-6)
    assert per["b"]["f1_with_others"] == pytest.approx(2 * 2 / (5 + 4), abs=1e-6)


def test_box_consensus_median_and_flags():
    out = consensus(box_dataset())
    cons = [a for a in out.annotations if a.consensus is not None]
    assert len(cons) == 3
    by_sources = {tuple(a.sources): a for a in cons}
    k1 = by_sources[("a0", "b0", "c0")]
    assert k1.bbox == [0.0, 0.0, 10.0, 10.0]
    assert k1.label == "cat"
    assert not k1.consensus.needs_review
    assert k1.consensus.agreement == 1.0
    k2 = by_sources[("a1", "b1")]
    assert k2.consensus.needs_review
    assert "tie" in k2.consensus.reason
    k3 = by_sources[("b2",)]
    assert k3.consensus.needs_review
    assert k3.consensus.agreement == pytest.approx(1 / 3, abs=1e-6)
    weighted = consensus(box_dataset(), "weighted", weights={"a": 2.0, "b": 1.0, "c": 1.0})
    k2w = next(a for a in weighted.annotations if a.consensus and a.sources == ["a1", "b1"])
    assert k2w.label == "dog"


def test_polygon_mask_keypoint_agreement():
    sq = [0.0, 0.0, 10.0, 0.0, 10.0, 10.0, 0.0, 10.0]
    sq2 = [2.0, 0.0, 12.0, 0.0, 12.0, 10.0, 2.0, 10.0]  # IoU 80/120
    m1 = np.zeros((20, 20), dtype=np.uint8)
    m1[2:12, 2:12] = 1
    m2 = np.zeros((20, 20), dtype=np.uint8)
    m2[2:12, 4:14] = 1
    r1, r2 = (cocomask.encode(np.asfortranarray(m)) for m in (m1, m2))
    kp_a = [10.0, 10.0, 2, 20.0, 20.0, 2, 0.0, 0.0, 0]
    kp_b = [11.0, 10.0, 2, 20.0, 21.0, 2, 0.0, 0.0, 0]
    items = [Item(id=i, kind="image", uri=f"{i}.jpg") for i in ("p", "m", "k")]
    anns = [
        Polygon(id="pa", item_id="p", polygon=[sq], label="x", annotator="a"),
        Polygon(id="pb", item_id="p", polygon=[sq2], label="x", annotator="b"),
        Mask(id="ma", item_id="m", rle=Rle(size=[20, 20], counts=r1["counts"].decode()),
             label="x", annotator="a"),
        Mask(id="mb", item_id="m", rle=Rle(size=[20, 20], counts=r2["counts"].decode()),
             label="x", annotator="b"),
    ]  # fmt: skip
    ds = Dataset(manifest([], ["a", "b"]), items, anns)
    for t, iou in (("polygon", 80 / 120), ("mask", 80 / 120)):
        rep = agreement(ds, annotation_type=t)
        assert rep["region_f1"]["f1"] == 1.0
        assert rep["region_f1"]["mean_iou"] == pytest.approx(iou, abs=0.01)
    kps = Dataset(manifest([], ["a", "b"]), items, [
        Keypoints(id="ka", item_id="k", keypoints=kp_a, bbox=[0, 0, 30, 30], label="person",
                  annotator="a"),
        Keypoints(id="kb", item_id="k", keypoints=kp_b, bbox=[0, 0, 30, 30], label="person",
                  annotator="b"),
    ])  # fmt: skip
    rep = agreement(kps)
    assert rep["region_f1"]["f1"] == 1.0
    e = 1.0 / (2 * 0.05) ** 2 / 900 / 2
    assert rep["region_f1"]["mean_iou"] == pytest.approx(np.exp(-e), abs=1e-6)
    out = consensus(kps)
    c = next(a for a in out.annotations if a.consensus is not None)
    assert c.keypoints[:6] == [10.5, 10.0, 2.0, 20.0, 20.5, 2.0]
    assert c.keypoints[6:] == [0.0, 0.0, 0.0]


def test_mask_without_rle_is_reported():
    items = [Item(id="m", kind="image", uri="m.jpg")]
    anns = [
        Mask(id="ma", item_id="m", uri="a.png", label="x", annotator="a"),
        BBox(id="b1", item_id="m", bbox=[0, 0, 1, 1], label="x", annotator="b"),
    ]
    rep = agreement(Dataset(manifest([], ["a", "b"]), items, anns))
    assert "agreement.uncomparable-shape" in [i.code for i in rep.issues]


def labelstudio_boxes():
    """The real Label Studio export: task 1 was boxed by two annotators."""
    tasks = json.loads(shared_path("jsonl", "labelstudio_image_bbox_export.json").read_text())
    items, anns = [], []
    for task in tasks:
        items.append(Item(id=str(task["id"]), kind="image", uri=task["data"]["image"]))
        for ann in task["annotations"]:
            for n, r in enumerate(ann["result"]):
                v, w, h = r["value"], r["original_width"], r["original_height"]
                box = [v["x"] * w / 100, v["y"] * h / 100, v["width"] * w / 100,
                       v["height"] * h / 100]  # fmt: skip
                anns.append(BBox(id=f"{ann['id']}-{n}", item_id=str(task["id"]), bbox=box,
                                 label=v["rectanglelabels"][0],
                                 annotator=str(ann["completed_by"])))  # fmt: skip
    people = sorted({a.annotator for a in anns})
    return Dataset(manifest([], people), items, anns)


def test_real_labelstudio_boxes_match_pycocotools_assignment():
    ds = labelstudio_boxes()
    rep = agreement(ds).to_dict()
    task = [a for a in ds.annotations if a.item_id == "1"]
    a = [x for x in task if x.annotator == "1"]
    b = [x for x in task if x.annotator == "2"]
    iou = cocomask.iou([list(x.bbox) for x in a], [list(x.bbox) for x in b], [0] * len(b))
    same = np.array([[x.label == y.label for y in b] for x in a])
    sim = iou * same
    rows, cols = linear_sum_assignment(-sim)
    hits = [sim[r, c] for r, c in zip(rows, cols, strict=True) if sim[r, c] >= 0.5]
    assert rep["n_items_shared"] == 1
    assert rep["region_f1"]["f1"] == pytest.approx(2 * len(hits) / (len(a) + len(b)), abs=1e-6)
    assert rep["region_f1"]["mean_iou"] == pytest.approx(np.mean(hits), abs=1e-6)
    assert rep["disputed_items"][0]["item_id"] == "1"


def test_real_labelstudio_export_through_the_converter():
    path = shared_path("jsonl", "labelstudio_image_bbox_export.json")
    via_converter = agreement(gt.load(path, format="labelstudio")).to_dict()
    by_hand = agreement(labelstudio_boxes()).to_dict()
    for key in ("region_f1", "krippendorff_alpha", "percent_agreement"):
        ours, theirs = via_converter[key], by_hand[key]
        for field in ("f1", "mean_iou", "value"):
            if field in ours:
                assert ours[field] == pytest.approx(theirs[field], abs=1e-6)
    out = consensus(gt.load(path, format="labelstudio"))
    cons = [a for a in out.annotations if a.consensus is not None]
    # task 1: the two `parasites` boxes match (resolved); the two `white` boxes do not (one
    # annotator each: flagged); task 2 was boxed by one annotator only (flagged).
    assert len(cons) == 5
    assert [a.label for a in cons if not a.consensus.needs_review] == ["parasites"]


def test_participation_needs_the_analysed_kind():
    ds = box_dataset()
    # d wrote a caption-like classification on the image but never drew a box: not a box
    # annotator, so no "(none)" votes from d.
    ds.annotations.append(Classification(id="d0", item_id="img", label="street", annotator="d"))
    rep = agreement(ds, annotation_type="bbox").to_dict()
    assert rep["annotators"] == ["a", "b", "c"]
    assert rep["percent_agreement"]["n_labels"] == 9
    # but a box annotator who only classified an item did look at it and drew nothing.
    ds.items.append(Item(id="img2", kind="image", uri="img2.jpg"))
    ds.annotations += [
        Classification(id="a9", item_id="img2", label="empty", annotator="a"),
        BBox(id="b9", item_id="img2", bbox=[0, 0, 5, 5], label="cat", annotator="b"),
    ]
    rep = agreement(ds, annotation_type="bbox").to_dict()
    assert rep["n_items_shared"] == 2
    assert rep["disputed_items"][0]["item_id"] == "img2"


def _figures(node, path="$"):
    """Every dict in the report that carries a number (value / f1 / agreement)."""
    if isinstance(node, dict):
        if any(k in node for k in ("value", "f1", "agreement_with_others", "f1_with_others",
                                   "specific_agreement")):  # fmt: skip
            yield path, node
        for k, v in node.items():
            if k not in ("issues", "disputed_items"):
                yield from _figures(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _figures(v, f"{path}[{i}]")


def label_dataset():
    table = {"1": {"a": "x", "b": "x", "c": "y"}, "2": {"a": "y", "b": "y"}, "3": {"a": "x"}}
    return classification_dataset(table, [label_set("s", ["x", "y"], scale="ordinal")])


@pytest.mark.parametrize("make", [span_dataset, box_dataset, label_dataset])
def test_every_figure_states_unit_and_level(make):
    rep = agreement(make()).to_dict()
    found = list(_figures(rep))
    assert len(found) > 10
    for path, fig in found:
        assert fig.get("unit"), path
        assert fig.get("level") in ("nominal", "ordinal", "interval", "ratio"), path
