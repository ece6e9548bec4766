"""Span, classification and rating figures equal seqeval's, scikit-learn's and scipy's."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

import groundtruth as gt
from groundtruth.dataset import Dataset
from groundtruth.evaluation import EvaluationInputError
from groundtruth.models import (
    Annotator,
    Classification,
    Item,
    LabelSet,
    Manifest,
    Rating,
    Taxonomy,
)
from groundtruth.models import Label as TaxLabel
from tests.conftest import shared_path

TOL = 1e-12


# -- spans vs seqeval ------------------------------------------------------------------------------


def _read_tags(path: Path) -> list[list[tuple[str, str]]]:
    sents: list[list[tuple[str, str]]] = [[]]
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if sents[-1]:
                sents.append([])
            continue
        parts = line.split()
        sents[-1].append((parts[0], parts[-1]))
    return [s for s in sents if s]


def _perturb(sents: list[list[tuple[str, str]]], seed: int, *, valid: bool) -> list[list[str]]:
    """Model-like tags: dropped, retyped, shifted and invented entities; with `valid=False` also
    entities that start with I- (the invalid IOB2 transitions seqeval's modes treat apart)."""
    rng = random.Random(seed)
    types = sorted({t[2:] for s in sents for _, t in s if t != "O"})
    out = []
    for s in sents:
        tags = [t for _, t in s]
        new = list(tags)
        for i, t in enumerate(tags):
            r = rng.random()
            if t.startswith("B-") and r < 0.15:
                j = i
                while j < len(tags) and (j == i or tags[j].startswith("I-")):
                    new[j] = "O"
                    j += 1
            elif t.startswith("B-") and r < 0.3:
                typ = rng.choice(types)
                new[i] = f"B-{typ}"
                j = i + 1
                while j < len(tags) and tags[j].startswith("I-"):
                    new[j] = f"I-{typ}"
                    j += 1
            elif t == "O" and r < 0.03:
                new[i] = f"B-{rng.choice(types)}"
            elif t.startswith("B-") and r < 0.4 and not valid:
                new[i] = "I-" + t[2:]
        if valid:  # repair: an I- must follow a B-/I- of its type
            for i, t in enumerate(new):
                if t.startswith("I-") and (i == 0 or new[i - 1] == "O" or new[i - 1][2:] != t[2:]):
                    new[i] = "B-" + t[2:]
        out.append(new)
    return out


def _write_conll(path: Path, sents: list[list[tuple[str, str]]], tags: list[list[str]]) -> Path:
    lines = []
    for s, ts in zip(sents, tags, strict=True):
        lines.extend(f"{tok}\t{t}" for (tok, _), t in zip(s, ts, strict=True))
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("valid", [False, True])
def test_spans_equal_seqeval(valid: bool, tmp_path: Path) -> None:
    seqeval = pytest.importorskip("seqeval.metrics")
    from seqeval.scheme import IOB2
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    src = shared_path("conll", "wnut17_emerging.dev.conll")
    sents = _read_tags(src)
    truth = [[t for _, t in s] for s in sents]
    pred = _perturb(sents, 5, valid=valid)
    gt_path = _write_conll(tmp_path / "gold.conll", sents, truth)
    pred_path = _write_conll(tmp_path / "pred.conll", sents, pred)

    report = gt.evaluate(str(gt_path), str(pred_path), gt_format="conll", pred_format="conll")
    sec = report.sections["spans"]
    modes = [{}] + ([{"mode": "strict", "scheme": IOB2}] if valid else [])
    for kw in modes:
        ref = seqeval.classification_report(truth, pred, output_dict=True, zero_division=0, **kw)
        for row in sec["per_label"]:
            want = ref[row["label"]]
            assert row["precision"] == pytest.approx(want["precision"], abs=TOL)
            assert row["recall"] == pytest.approx(want["recall"], abs=TOL)
            assert row["f1"] == pytest.approx(want["f1-score"], abs=TOL)
            assert row["support"] == want["support"]
        for avg in ("micro", "macro", "weighted"):
            for key, name in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
                assert sec[avg][key] == pytest.approx(ref[f"{avg} avg"][name], abs=TOL), (avg, key)
        assert sec["micro"]["f1"] == pytest.approx(seqeval.f1_score(truth, pred, **kw), abs=TOL)
    if not valid:  # strict mode would drop the I-initial entities: the figures differ
        strict = seqeval.f1_score(truth, pred, mode="strict", scheme=IOB2)
        assert sec["micro"]["f1"] != pytest.approx(strict, abs=1e-6)

    # token level: each token's entity type (prefix dropped), as decoded
    def types(seq: list[list[str]]) -> list[str]:
        flat = []
        for s in seq:
            from groundtruth.converters._tagging import decode

            row = ["O"] * len(s)
            for typ, a, b in decode(s):
                row[a:b] = [typ] * (b - a)
            flat.extend(row)
        return flat

    tt, pp = types(truth), types(pred)
    labels = sorted((set(tt) | set(pp)) - {"O"})
    p, r, f, _ = precision_recall_fscore_support(tt, pp, labels=labels, zero_division=0)
    tok = sec["token"]
    assert tok["accuracy"] == pytest.approx(accuracy_score(tt, pp), abs=TOL)
    for i, row in enumerate(tok["per_label"]):
        assert row["label"] == labels[i]
        assert (row["precision"], row["recall"], row["f1"]) == pytest.approx((p[i], r[i], f[i]))


# -- classification vs scikit-learn ------------------------------------------------------------------


def _classification_dataset(seed: int, n: int = 300) -> Dataset:
    rng = np.random.default_rng(seed)
    labels = ["cat", "dog", "bird", "fish"]
    items, anns = [], []
    for i in range(n):
        items.append(Item(id=f"i{i:03d}", kind="image", uri=f"{i}.jpg",
                          split="train" if i % 3 else "test", metadata={"site": f"s{i % 2}"}))
        true = labels[int(rng.choice(4, p=[0.5, 0.3, 0.15, 0.05]))]
        who = "alice" if i % 2 else "bob"
        anns.append(Classification(id=f"g{i}", item_id=f"i{i:03d}", label=true, annotator=who,
                                   attributes={"light": "night" if i % 5 == 0 else "day"}))
        if i % 17 == 0:  # a second annotator disagreeing: left out and counted
            anns.append(Classification(id=f"g{i}b", item_id=f"i{i:03d}", label="fish",
                                       annotator="carol"))
        if i % 23 == 0:
            continue  # no prediction
        keep = rng.random() < 0.7 and true != "fish"
        guess = true if keep else labels[int(rng.integers(0, 3))]  # never fish
        anns.append(Classification(id=f"p{i}", item_id=f"i{i:03d}", label=guess, annotator="net",
                                   confidence=float(rng.random())))
    manifest = Manifest(
        name="cls",
        annotators=[Annotator(id=a, kind="human") for a in ("alice", "bob", "carol")]
        + [Annotator(id="net", kind="model")],
        taxonomy=Taxonomy(label_sets=[LabelSet(name="animals",
                                               labels=[TaxLabel(name=x) for x in labels])]),
    )
    return Dataset(manifest, items, anns)


def test_classification_equals_sklearn() -> None:
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
    )

    ds = _classification_dataset(1)
    report = gt.evaluate(ds, model="net")
    sec = report.sections["classification"]
    truth = {a.item_id: set() for a in ds.annotations if a.annotator != "net"}
    for a in ds.annotations:
        if a.annotator != "net":
            truth[a.item_id].add(a.label)
    pred = {a.item_id: a.label for a in ds.annotations if a.annotator == "net"}
    keys = sorted(k for k in truth if len(truth[k]) == 1 and k in pred)
    y_true = [next(iter(truth[k])) for k in keys]
    y_pred = [pred[k] for k in keys]
    labels = sec["labels"]
    assert set(labels) == set(y_true) | set(y_pred)
    assert sec["n"] == len(keys)
    assert sec["items_with_disagreeing_ground_truth"] == sum(len(v) > 1 for v in truth.values())
    assert sec["items_without_prediction"] == sum(
        1 for k, v in truth.items() if len(v) == 1 and k not in pred
    )
    assert sec["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred), abs=TOL)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    for i, row in enumerate(sec["per_label"]):
        assert (row["precision"], row["recall"], row["f1"]) == pytest.approx(
            (p[i], r[i], f[i]), abs=TOL
        )
        assert row["support"] == s[i]
    for avg in ("macro", "micro", "weighted"):
        assert sec[avg]["f1"] == pytest.approx(
            f1_score(y_true, y_pred, labels=labels, average=avg, zero_division=0), abs=TOL
        )
    assert sec["confusion_matrix"] == confusion_matrix(y_true, y_pred, labels=labels).tolist()
    # fish is never predicted: precision 0 by zero_division, and it is in the table
    fish = next(r for r in sec["per_label"] if r["label"] == "fish")
    assert fish["predicted"] == 0
    assert fish["precision"] == 0.0


def test_classification_slices_count_and_score_each_value() -> None:
    from sklearn.metrics import accuracy_score

    ds = _classification_dataset(2)
    report = gt.evaluate(ds, model="net", by=["split", "annotator", "attribute:light",
                                              "field:site", "label"])
    rows = {(s["by"], s["value"]): s for s in report.slices}
    assert {("split", "train"), ("split", "test"), ("annotator", "alice"), ("annotator", "bob"),
            ("attribute:light", "night"), ("field:site", "s0"), ("label", "cat")} <= set(rows)
    # the split=test slice is exactly the accuracy on test items
    test_ids = {it.id for it in ds.items if it.split == "test"}
    truth: dict[str, set[str]] = {}
    for a in ds.annotations:
        if a.annotator != "net" and a.item_id in test_ids:
            truth.setdefault(a.item_id, set()).add(a.label)
    pred = {a.item_id: a.label for a in ds.annotations if a.annotator == "net"}
    keys = sorted(k for k in truth if k in pred and len(truth[k]) == 1)
    row = rows[("split", "test")]
    assert row["counts"]["items"] == len(test_ids)
    assert row["metrics"]["classification.accuracy"] == pytest.approx(
        accuracy_score([next(iter(truth[k])) for k in keys], [pred[k] for k in keys])
    )
    # annotator slices score each annotator's own labels
    alice = rows[("annotator", "alice")]
    assert alice["counts"]["ground_truth"] == sum(1 for a in ds.annotations
                                                  if a.annotator == "alice")
    with pytest.raises(EvaluationInputError, match="unknown slice"):
        gt.evaluate(ds, model="net", by=["colour"])


# -- ratings vs scipy -------------------------------------------------------------------------------


def test_ratings_equal_scipy() -> None:
    from scipy import stats

    rng = np.random.default_rng(4)
    items = [Item(id=f"r{i}", kind="text", text=f"answer {i}") for i in range(80)]
    anns = []
    for i in range(80):
        v = float(rng.integers(1, 6))
        anns.append(Rating(id=f"g{i}", item_id=f"r{i}", value=v, label="helpful", annotator="h"))
        anns.append(Rating(id=f"p{i}", item_id=f"r{i}", label="helpful", annotator="m",
                           value=float(np.clip(v + rng.normal(0, 1), 1, 5).round())))
    ds = Dataset(Manifest(annotators=[Annotator(id="h", kind="human"),
                                      Annotator(id="m", kind="model")]), items, anns)
    sec = gt.evaluate(ds, model="m").sections["ratings"]
    t = np.array([a.value for a in anns if a.annotator == "h"])
    p = np.array([a.value for a in anns if a.annotator == "m"])
    assert sec["n"] == 80
    assert sec["mae"] == pytest.approx(np.abs(p - t).mean(), abs=TOL)
    assert sec["rmse"] == pytest.approx(np.sqrt(((p - t) ** 2).mean()), abs=TOL)
    assert sec["pearson"] == pytest.approx(stats.pearsonr(t, p)[0], abs=TOL)
    assert sec["spearman"] == pytest.approx(stats.spearmanr(t, p)[0], abs=TOL)  # many ties


def test_constant_ratings_have_no_correlation() -> None:
    items = [Item(id=str(i), kind="text", text="x") for i in range(3)]
    anns = [Rating(id=f"g{i}", item_id=str(i), value=3.0, annotator="h") for i in range(3)]
    anns += [Rating(id=f"p{i}", item_id=str(i), value=float(i), annotator="m") for i in range(3)]
    ds = Dataset(Manifest(annotators=[Annotator(id="h", kind="human"),
                                      Annotator(id="m", kind="model")]), items, anns)
    sec = gt.evaluate(ds, model="m").sections["ratings"]
    assert sec["pearson"] is None
    assert sec["spearman"] is None
    assert sec["mae"] == pytest.approx(2.0)  # |3-0|, |3-1|, |3-2|
