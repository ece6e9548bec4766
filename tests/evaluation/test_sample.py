"""`gt sample`: textbook scores, expected rankings on a pool of known uncertainty, outputs."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import groundtruth as gt
from groundtruth.dataset import Dataset
from groundtruth.evaluation import EvaluationInputError
from groundtruth.models import Annotator, BBox, Classification, Item, Manifest
from groundtruth.sampling import entropy, least_confidence, margin, sample, vote_entropy


def test_scores_are_the_textbook_formulas() -> None:
    p = np.array([[0.5, 0.3, 0.2], [1.0, 0.0, 0.0], [0.9, 0.1, 0.0]])
    assert least_confidence(p).tolist() == pytest.approx([0.5, 0.0, 0.1])
    assert margin(p).tolist() == pytest.approx([1 - 0.2, 0.0, 1 - 0.8])
    h = -(0.5 * math.log(0.5) + 0.3 * math.log(0.3) + 0.2 * math.log(0.2))
    assert entropy(p).tolist() == pytest.approx([h, 0.0, -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))])
    assert vote_entropy([["a", "a", "b"], ["a", "a"], []]).tolist() == pytest.approx(
        [-(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)), 0.0, 0.0]
    )


LABELS = ["cat", "dog", "bird"]


def _pool(rows: dict[str, list[float]], *, labelled: set[str] = frozenset(),
          meta: dict[str, str] | None = None) -> Dataset:  # fmt: skip
    items = [Item(id=i, kind="image", uri=f"{i}.jpg", metadata={"cluster": (meta or {}).get(i, "c0")})
             for i in rows]  # fmt: skip
    anns = [
        Classification(id=f"p-{i}", item_id=i, label=LABELS[int(np.argmax(r))], annotator="net",
                       confidence=max(r),
                       attributes={"probabilities": dict(zip(LABELS, r, strict=True))})
        for i, r in rows.items()
    ]  # fmt: skip
    anns += [Classification(id=f"h-{i}", item_id=i, label="cat", annotator="alice")
             for i in labelled]  # fmt: skip
    manifest = Manifest(annotators=[Annotator(id="alice", kind="human"),
                                    Annotator(id="net", kind="model")])  # fmt: skip
    return Dataset(manifest, items, anns)


def test_each_strategy_ranks_a_known_pool_as_expected() -> None:
    rows = {
        "sure1": [0.96, 0.02, 0.02],
        "sure2": [0.02, 0.97, 0.01],
        "tie": [0.5, 0.5, 0.0],  # smallest margin; lower entropy than flat
        "flat": [0.4, 0.3, 0.3],  # least confident, highest entropy
        "mid": [0.7, 0.2, 0.1],
    }
    ds = _pool(rows)
    order = {s: [p["item_id"] for p in sample(ds, model="net", budget=5, strategy=s).picked]
             for s in ("least-confidence", "margin", "entropy")}  # fmt: skip
    assert order["least-confidence"][:3] == ["flat", "tie", "mid"]
    assert order["margin"][:3] == ["tie", "flat", "mid"]
    assert order["entropy"][:3] == ["flat", "mid", "tie"]  # 0.80 nats > ln 2
    for o in order.values():
        assert set(o[3:]) == {"sure1", "sure2"}
    top = sample(ds, model="net", budget=1, strategy="entropy").picked[0]
    assert top["score"] == pytest.approx(-(0.4 * math.log(0.4) + 2 * 0.3 * math.log(0.3)))
    assert top["predicted"] == "cat"


def test_generated_pool_with_known_uncertainty() -> None:
    """200 items whose true uncertainty is a known temperature: every strategy's top 20 is the
    20 hottest items, and labelled items never come back."""
    rng = np.random.default_rng(0)
    rows, temps = {}, {}
    for i in range(200):
        t = float(rng.uniform(0.05, 5.0))
        logits = np.array([2.0, 1.0, 0.0]) / t
        p = np.exp(logits) / np.exp(logits).sum()
        rows[f"i{i:03d}"] = p.tolist()
        temps[f"i{i:03d}"] = t
    labelled = {k for k in rows if int(k[1:]) % 10 == 0}
    ds = _pool(rows, labelled=labelled)
    hottest = sorted((k for k in rows if k not in labelled), key=lambda k: -temps[k])[:20]
    for strategy in ("least-confidence", "margin", "entropy"):
        sel = sample(ds, model="net", budget=20, strategy=strategy)
        got = [p["item_id"] for p in sel.picked]
        assert set(got) == set(hottest), strategy
        assert not set(got) & labelled
        assert sel.counts["pool"] == 180
        assert sel.counts["labelled"] == 20


def test_seed_breaks_ties_reproducibly() -> None:
    rows = {f"t{i}": [0.5, 0.5, 0.0] for i in range(12)}
    ds = _pool(rows)
    a = [p["item_id"] for p in sample(ds, model="net", budget=5, seed=1).picked]
    b = [p["item_id"] for p in sample(ds, model="net", budget=5, seed=1).picked]
    c = [p["item_id"] for p in sample(ds, model="net", budget=5, seed=2).picked]
    assert a == b
    assert a != c


def test_stratified_selection_covers_each_stratum() -> None:
    rows = {f"c{i}": [0.34 + i * 0.01, 0.33, 0.33 - i * 0.01] for i in range(6)}  # all "cat"
    rows |= {"d0": [0.1, 0.85, 0.05], "d1": [0.05, 0.9, 0.05]}  # two confident "dog"s
    ds = _pool(rows, meta={"d0": "c1", "d1": "c1"})
    plain = [p["item_id"] for p in sample(ds, model="net", budget=4).picked]
    assert all(i.startswith("c") for i in plain)
    strat = sample(ds, model="net", budget=4, stratify="predicted-class").picked
    assert [p["stratum"] for p in strat] == ["cat", "dog", "cat", "dog"]
    assert [p["item_id"] for p in strat] == ["c0", "d0", "c1", "d1"]
    by_cluster = sample(ds, model="net", budget=2, stratify="field:cluster").picked
    assert {p["stratum"] for p in by_cluster} == {"c0", "c1"}
    with pytest.raises(EvaluationInputError, match="unknown stratification"):
        sample(ds, model="net", budget=2, stratify="colour")


def test_disagreement_between_models_and_box_confidences() -> None:
    items = [Item(id=i, kind="image", uri=f"{i}.jpg") for i in ("a", "b", "c")]
    anns = []
    for who, labels in (("m1", "xxy"), ("m2", "xyy"), ("m3", "xyx")):
        for item, label in zip("abc", labels, strict=True):
            anns.append(Classification(id=f"{who}{item}", item_id=item, label=label,
                                       annotator=who, confidence=0.9))  # fmt: skip
    manifest = Manifest(annotators=[Annotator(id=m, kind="model") for m in ("m1", "m2", "m3")])
    pred = Dataset(manifest, items, anns)
    sel = sample(Dataset(Manifest(), items, []), pred, budget=3, strategy="disagreement")
    assert sel.picked[0]["item_id"] in ("b", "c")  # 2 votes to 1: vote entropy 0.64
    assert sel.picked[-1]["item_id"] == "a"
    assert sel.picked[-1]["score"] == 0.0
    one = Dataset(manifest, items, [a for a in anns if a.annotator == "m1"])
    with pytest.raises(EvaluationInputError, match="two or more models"):
        sample(Dataset(Manifest(), items, []), one, budget=1, strategy="disagreement")
    # boxes: the item whose most uncertain box is nearest 0.5 comes first
    boxes = [BBox(id="b1", item_id="a", label="car", bbox=[0, 0, 5, 5], confidence=0.95),
             BBox(id="b2", item_id="b", label="car", bbox=[0, 0, 5, 5], confidence=0.55),
             BBox(id="b3", item_id="c", label="car", bbox=[0, 0, 5, 5], confidence=0.99),
             BBox(id="b4", item_id="c", label="dog", bbox=[9, 9, 5, 5], confidence=0.7)]
    bsel = sample(Dataset(Manifest(), items, []), Dataset(Manifest(), items, boxes), budget=3)
    assert [p["item_id"] for p in bsel.picked] == ["b", "c", "a"]
    assert bsel.picked[1]["predicted"] == "dog"
    assert bsel.picked[0]["score"] == pytest.approx(0.45)


def test_cli_writes_subset_and_label_studio_tasks(tmp_path: Path) -> None:
    rows = {"a": [0.4, 0.3, 0.3], "b": [0.9, 0.05, 0.05], "c": [0.5, 0.5, 0.0]}
    ds = _pool(rows, labelled={"b"})
    for it in ds.items:
        it.uri = f"https://example.org/{it.id}.jpg"
    gt.save(ds, tmp_path / "ds")
    res = subprocess.run(
        [sys.executable, "-m", "groundtruth", "sample", str(tmp_path / "ds"), "--model", "net",
         "--budget", "5", "--strategy", "margin", "--format", "json",
         "--subset", str(tmp_path / "next"), "--tasks", str(tmp_path / "tasks.json")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert [p["item_id"] for p in data["picked"]] == ["c", "a"]  # b is labelled
    sub = gt.load(tmp_path / "next")
    ranks = {it.id: it.extensions["sample"]["rank"] for it in sub.items}  # saved sorted by id
    assert ranks == {"c": 1, "a": 2}
    assert {a.annotator for a in sub.annotations} == {"net"}
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    assert len(tasks) == 2
    assert all(t.get("predictions") for t in tasks)
    assert not any(t.get("annotations") for t in tasks)
    bad = subprocess.run(
        [sys.executable, "-m", "groundtruth", "sample", str(tmp_path / "ds"), "--model", "net",
         "--budget", "2", "--strategy", "disagreement"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert bad.returncode == 1
    assert "two or more models" in bad.stderr
    assert "Traceback" not in bad.stderr
