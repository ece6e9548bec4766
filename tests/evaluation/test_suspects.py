"""`gt suspects`: the same label issues and ranking as cleanlab, and the box/span cases."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import groundtruth as gt
from groundtruth.dataset import Dataset
from groundtruth.label_errors import find_label_issues, suspects
from groundtruth.models import (
    Annotator,
    BBox,
    Classification,
    Item,
    Label,
    LabelSet,
    Manifest,
    Span,
    Taxonomy,
)

cleanlab_filter = pytest.importorskip("cleanlab.filter")


def _noisy(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(30, 2500)), int(rng.integers(2, 7))
    true = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), true] += rng.uniform(0.5, 3)
    p = np.exp(logits)
    p /= p.sum(1, keepdims=True)
    if seed % 3 == 0:  # rounded probabilities: many ties in every sort
        p = p.round(2)
        p /= p.sum(1, keepdims=True)
    labels = np.where(rng.random(n) < 0.15, rng.integers(0, k, n), true)
    if seed % 5 == 0:
        labels[labels == k - 1] = 0  # a class nobody labelled
    return labels, p


def _cleanlab(labels: np.ndarray, p: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cleanlab_filter.find_label_issues(
            labels, p, return_indices_ranked_by="self_confidence", n_jobs=1
        )


@pytest.mark.parametrize("seed", range(12))
def test_confident_learning_equals_cleanlab(seed: int) -> None:
    labels, p = _noisy(seed)
    ours = find_label_issues(labels, p)
    assert ours.tolist() == _cleanlab(labels, p).tolist()
    assert ours.size > 0


def _dataset(labels: np.ndarray, p: np.ndarray, *, per_label: bool) -> Dataset:
    names = [f"class{i}" for i in range(p.shape[1])]
    items = [Item(id=f"x{i:05d}", kind="text", text=f"example {i}") for i in range(len(labels))]
    anns = [Classification(id=f"g{i}", item_id=f"x{i:05d}", label=names[int(lbl)], annotator="h")
            for i, lbl in enumerate(labels)]  # fmt: skip
    for i, row in enumerate(p):
        if per_label:
            anns.extend(
                Classification(id=f"p{i}-{k}", item_id=f"x{i:05d}", label=names[k],
                               annotator="net", confidence=float(row[k]))
                for k in range(len(names)) if row[k] > 0
            )  # fmt: skip
        else:
            anns.append(Classification(
                id=f"p{i}", item_id=f"x{i:05d}", label=names[int(row.argmax())], annotator="net",
                confidence=float(row.max()),
                attributes={"probabilities": {n: float(v) for n, v in zip(names, row, strict=True)}},
            ))  # fmt: skip
    manifest = Manifest(
        annotators=[Annotator(id="h", kind="human"), Annotator(id="net", kind="model")],
        taxonomy=Taxonomy(label_sets=[LabelSet(name="c", labels=[Label(name=n) for n in names])]),
    )
    return Dataset(manifest, items, anns)


@pytest.mark.parametrize(("seed", "per_label"), [(1, False), (2, True), (3, False), (4, True)])
def test_classification_suspects_rank_as_cleanlab(seed: int, per_label: bool) -> None:
    labels, p = _noisy(seed)
    ds = _dataset(labels, p, per_label=per_label)
    report = suspects(ds, model="net")
    got = [s.item_id for s in report.suspects if s.issue == "label-issue"]
    want = [f"x{i:05d}" for i in _cleanlab(labels, p)]
    assert got == want
    first = report.suspects[0]
    i = int(first.item_id[1:])
    assert first.label == f"class{labels[i]}"
    assert first.suggested == f"class{int(p[i].argmax())}"
    assert first.score == pytest.approx(1 - p[i, labels[i]])
    assert report.counts["label-issue"] == len(want)


def test_disagreeing_annotators_are_evidence() -> None:
    items = [Item(id=str(i), kind="text", text="t") for i in range(3)]
    anns = [
        Classification(id="a0", item_id="0", label="pos", annotator="a"),
        Classification(id="b0", item_id="0", label="neg", annotator="b"),
        Classification(id="c0", item_id="0", label="neg", annotator="c"),
        Classification(id="a1", item_id="1", label="pos", annotator="a"),
        Classification(id="b1", item_id="1", label="pos", annotator="b"),
        Classification(id="m0", item_id="0", label="neg", annotator="m", confidence=0.9),
        Classification(id="m1", item_id="1", label="pos", annotator="m", confidence=0.9),
    ]
    ds = Dataset(Manifest(annotators=[Annotator(id=x, kind="human") for x in "abc"]
                          + [Annotator(id="m", kind="model")]), items, anns)  # fmt: skip
    report = suspects(ds, model="m")
    dis = [s for s in report.suspects if s.issue == "annotators-disagree"]
    assert [s.item_id for s in dis] == ["0"]
    assert dis[0].score == pytest.approx(1 / 3)
    assert dis[0].label == "neg"
    assert "neg x2, pos x1" in dis[0].reason
    assert any("top-1 prediction" in n for n in report.notes)


def _boxes() -> Dataset:
    items = [Item(id="img", kind="image", uri="img.jpg", width=200, height=200)]
    g = [
        BBox(id="ok", item_id="img", label="car", bbox=[0, 0, 50, 50], annotator="h"),
        BBox(id="cls", item_id="img", label="car", bbox=[100, 100, 40, 40], annotator="h"),
        BBox(id="off", item_id="img", label="person", bbox=[0, 120, 30, 60], annotator="h"),
        BBox(id="crowd", item_id="img", label="person", bbox=[60, 0, 80, 60], annotator="h",
             extensions={"coco": {"iscrowd": 1}}),  # a crowd region: no single object
    ]
    p = [
        BBox(id="p-ok", item_id="img", label="car", bbox=[1, 1, 50, 50], annotator="m",
             confidence=0.95),
        BBox(id="p-cls", item_id="img", label="truck", bbox=[100, 100, 40, 42], annotator="m",
             confidence=0.9),
        BBox(id="p-off", item_id="img", label="person", bbox=[12, 130, 30, 60], annotator="m",
             confidence=0.8),
        BBox(id="p-new", item_id="img", label="dog", bbox=[150, 10, 30, 30], annotator="m",
             confidence=0.7),
        BBox(id="p-weak", item_id="img", label="dog", bbox=[150, 150, 30, 30], annotator="m",
             confidence=0.2),
        BBox(id="p-in-crowd", item_id="img", label="person", bbox=[70, 5, 20, 50],
             annotator="m", confidence=0.9),  # inside the crowd: neither missed nor misplaced
    ]
    return Dataset(Manifest(annotators=[Annotator(id="h", kind="human"),
                                        Annotator(id="m", kind="model")]), items, g + p)


def test_box_cases() -> None:
    report = suspects(_boxes(), model="m")
    by = {s.issue: s for s in report.suspects}
    assert set(by) == {"wrong-class", "badly-placed", "missed"}
    assert len(report.suspects) == 3  # the crowd region and the detection inside it: no suspect
    assert by["wrong-class"].annotation_id == "cls"
    assert by["wrong-class"].suggested == "truck"
    assert by["badly-placed"].annotation_id == "off"
    iou = (18 * 50) / (2 * 30 * 60 - 18 * 50)
    assert by["badly-placed"].score == pytest.approx(0.8 * (1 - iou))
    assert by["missed"].suggested == "dog"
    assert by["missed"].score == pytest.approx(0.7)  # the 0.2 dog is under the threshold
    assert [s.score for s in report.suspects] == sorted((s.score for s in report.suspects),
                                                         reverse=True)  # fmt: skip
    lower = suspects(_boxes(), model="m", threshold=0.1)
    assert sum(s.issue == "missed" for s in lower.suspects) == 2


def test_span_cases() -> None:
    text = "Ada Lovelace met Charles Babbage in London"
    items = [Item(id="s", kind="text", text=text)]
    g = [
        Span(id="g1", item_id="s", label="PER", start=0, end=12, annotator="h"),
        Span(id="g2", item_id="s", label="LOC", start=17, end=31, annotator="h"),  # wrong type
        Span(id="g3", item_id="s", label="PER", start=35, end=38, annotator="h"),  # spurious
    ]
    p = [
        Span(id="p1", item_id="s", label="PER", start=0, end=3, annotator="m", confidence=0.9),
        Span(id="p2", item_id="s", label="PER", start=17, end=31, annotator="m", confidence=0.8),
        Span(id="p3", item_id="s", label="LOC", start=35, end=41, annotator="m", confidence=0.4),
    ]
    ds = Dataset(Manifest(annotators=[Annotator(id="h", kind="human"),
                                      Annotator(id="m", kind="model")]), items, g + p)
    report = suspects(ds, model="m")
    got = {(s.issue, s.annotation_id) for s in report.suspects}
    assert got == {("boundary", "g1"), ("wrong-type", "g2")}  # p3 is under the threshold
    assert next(s for s in report.suspects if s.issue == "boundary").score == pytest.approx(
        0.9 * (1 - 3 / 12)
    )
    low = suspects(ds, model="m", threshold=0.3)
    assert ("boundary", "g3") not in {(s.issue, s.annotation_id) for s in low.suspects}
    no_pred = [p[0]]
    ds2 = Dataset(ds.manifest, items, g + no_pred)
    issues = {(s.issue, s.annotation_id) for s in suspects(ds2, model="m").suspects}
    assert ("spurious", "g2") in issues
    assert ("spurious", "g3") in issues


def test_subset_dataset_and_cli(tmp_path: Path) -> None:
    ds = _boxes()
    report = suspects(ds, model="m")
    sub = report.subset()
    assert [it.id for it in sub.items] == ["img"]
    assert sub.items[0].extensions["suspects"]["rank"] == 1
    assert [s["issue"] for s in sub.items[0].extensions["suspects"]["found"]] == [
        s.issue for s in report.suspects
    ]
    assert {a.id for a in sub.annotations} == {a.id for a in ds.annotations}
    assert not gt.validate(sub).errors

    gt.save(ds, tmp_path / "ds")
    res = subprocess.run(
        [sys.executable, "-m", "groundtruth", "suspects", str(tmp_path / "ds"), "--model", "m",
         "--format", "json", "--subset", str(tmp_path / "sub")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["counts"]["suspects"] == 3
    assert "no `gt review` yet" in res.stderr
    written = gt.load(tmp_path / "sub")
    found = written.items[0].extensions["suspects"]["found"]
    assert found[0]["issue"] == data["suspects"][0]["issue"]
    bad = subprocess.run(
        [sys.executable, "-m", "groundtruth", "suspects", str(tmp_path / "ds")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert bad.returncode == 1
    assert "no predictions" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_annotator_disagreement_on_boxes_reuses_agreement() -> None:
    items = [Item(id=i, kind="image", uri=f"{i}.jpg", width=100, height=100) for i in "ij"]
    anns = [
        BBox(id="a1", item_id="i", label="car", bbox=[0, 0, 10, 10], annotator="a"),
        BBox(id="b1", item_id="i", label="car", bbox=[0, 0, 10, 10], annotator="b"),
        BBox(id="a2", item_id="j", label="car", bbox=[0, 0, 10, 10], annotator="a"),
        BBox(id="b2", item_id="j", label="car", bbox=[50, 50, 10, 10], annotator="b"),
        BBox(id="m1", item_id="i", label="car", bbox=[0, 0, 10, 10], annotator="m",
             confidence=0.9),
    ]
    ds = Dataset(Manifest(annotators=[Annotator(id="a", kind="human"),
                                      Annotator(id="b", kind="human"),
                                      Annotator(id="m", kind="model")]), items, anns)
    report = suspects(ds, model="m")
    dis = [s for s in report.suspects if s.issue == "annotators-disagree"]
    assert [s.item_id for s in dis] == ["j"]  # on i they agree
    want = gt.agreement(Dataset(ds.manifest, items, anns[:4]), annotation_type="bbox")
    disputed = {d["item_id"]: d["disagreement"] for d in want.to_dict()["disputed_items"]}
    assert dis[0].score == pytest.approx(disputed["j"])
    assert "matched F1" in dis[0].reason
