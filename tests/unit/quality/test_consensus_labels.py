"""consensus() on labels: majority, weighted, Dawid-Skene; provenance and round trips."""

from __future__ import annotations

import numpy as np
import pytest

import groundtruth as gt
from groundtruth import Dataset
from groundtruth.models import Classification, ConsensusInfo, Item
from groundtruth.quality import AgreementInputError, agreement, build_consensus, consensus
from tests.unit.quality.helpers import classification_dataset, label_set, manifest

LS = label_set("s", ["x", "y", "z"])


def cons(ds: Dataset) -> dict[str, Classification]:
    return {a.item_id: a for a in ds.annotations if a.consensus is not None}  # type: ignore[misc]


def test_majority_keeps_originals_and_records_provenance():
    table = {
        "1": {"a": "x", "b": "x", "c": "y"},
        "2": {"a": "y", "b": "z"},
        "3": {"a": "z", "b": "z", "c": "z"},
        "4": {"a": "y"},
    }
    ds = classification_dataset(table, [LS])
    out = consensus(ds, "majority")
    assert len(ds.annotations) == 9  # input untouched
    originals = [a for a in out.annotations if a.consensus is None]
    assert [a.id for a in originals] == [a.id for a in ds.annotations]
    c = cons(out)
    assert set(c) == {"1", "2", "3", "4"}
    assert c["1"].label == "x"
    assert c["1"].sources == ["1-a", "1-b", "1-c"]
    assert c["1"].consensus == ConsensusInfo(
        method="majority", votes={"x": 2.0, "y": 1.0}, agreement=0.666667
    )
    assert c["2"].consensus.needs_review
    assert "tie" in c["2"].consensus.reason
    assert c["2"].label == "y"  # placeholder: first tied label in label-set order
    assert not c["3"].consensus.needs_review
    assert c["4"].consensus.needs_review  # one vote is no consensus
    who = out.manifest.annotator("consensus-majority")
    assert who is not None
    assert (who.kind, who.method) == ("consensus", "majority")
    assert all(a.annotator == who.id for a in c.values())


def test_low_agreement_flagged():
    table = {"1": {"a": "x", "b": "x", "c": "y", "d": "z"}}
    c = cons(consensus(classification_dataset(table, [LS])))
    assert c["1"].label == "x"
    assert c["1"].consensus.needs_review
    assert "low agreement" in c["1"].consensus.reason
    c = cons(consensus(classification_dataset(table, [LS]), min_agreement=0.4))
    assert not c["1"].consensus.needs_review


def test_weighted_vote_uses_weights_and_breaks_ties():
    table = {"1": {"a": "x", "b": "y"}}
    ds = classification_dataset(table, [LS])
    c = cons(consensus(ds, "weighted", weights={"a": 1.0, "b": 3.0}))
    assert c["1"].label == "y"
    assert c["1"].consensus.votes == {"x": 1.0, "y": 3.0}
    assert c["1"].consensus.agreement == 0.75
    with pytest.raises(AgreementInputError, match="no weight"):
        consensus(ds, "weighted", weights={"a": 1.0})


def test_weighted_vote_estimates_weights():
    # c disagrees with a and b everywhere, so on the contested item a's word beats c's.
    table = {str(i): {"a": "x", "b": "x", "c": "y"} for i in range(5)}
    table["9"] = {"a": "z", "c": "y"}
    res = build_consensus(classification_dataset(table, [LS]), "weighted")
    w = res.details["weights"]
    assert w["a"] > w["c"]
    winner = {a.item_id: a.label for a in res.annotations}
    assert winner["9"] == "z"


def crowd_dataset(seed: int, n_items: int = 400):
    rng = np.random.default_rng(seed)
    accuracy = {"good1": 0.9, "good2": 0.85, "bad1": 0.4, "bad2": 0.4, "bad3": 0.35}
    truth = rng.integers(0, 3, n_items)
    anns = []
    for i in range(n_items):
        for who, acc in accuracy.items():
            if rng.random() < 0.2:
                continue
            lab = (
                truth[i]
                if rng.random() < acc
                else rng.choice([k for k in range(3) if k != truth[i]])
            )
            anns.append(Classification(id=f"{i}-{who}", item_id=str(i), label="xyz"[lab],
                                       annotator=who))  # fmt: skip
    items = [Item(id=str(i), kind="text", text="t") for i in range(n_items)]
    return Dataset(manifest([LS], list(accuracy)), items, anns), truth


def test_dawid_skene_beats_majority_on_a_noisy_crowd():
    ds, truth = crowd_dataset(0)
    acc = {}
    for method in ("majority", "dawid-skene"):
        c = cons(consensus(ds, method))
        acc[method] = np.mean([c[str(i)].label == "xyz"[t] for i, t in enumerate(truth)])
    assert acc["dawid-skene"] > acc["majority"] + 0.05
    res = build_consensus(ds, "dawid-skene")
    info = res.details["dawid_skene"]
    assert info["converged"]
    assert info["accuracy"]["good1"] > 0.8
    assert info["accuracy"]["bad3"] < 0.5
    post = res.annotations[0].consensus
    assert post.method == "dawid-skene"
    assert sum(post.votes.values()) == pytest.approx(1.0, abs=1e-5)


def test_dawid_skene_not_for_regions_and_unknown_method():
    ds = classification_dataset({"1": {"a": "x", "b": "x"}}, [LS])
    with pytest.raises(AgreementInputError, match="unknown consensus method"):
        consensus(ds, "median")  # type: ignore[arg-type]


def test_rerun_replaces_and_agreement_ignores_consensus(tmp_path):
    table = {"1": {"a": "x", "b": "x"}, "2": {"a": "y", "b": "x"}}
    ds = classification_dataset(table, [LS])
    once = consensus(ds)
    twice = consensus(once)
    assert len(twice.annotations) == len(once.annotations)
    assert [a.id for a in twice.manifest.annotators].count("consensus-majority") == 1
    assert agreement(twice).to_dict()["annotators"] == ["a", "b"]
    gt.save(twice, tmp_path / "out")
    back = gt.load(tmp_path / "out")
    c = cons(back)
    assert c["2"].consensus.needs_review
    assert c["1"].sources == ["1-a", "1-b"]
    assert back.manifest.annotator("consensus-majority").kind == "consensus"


@pytest.mark.parametrize("method", ["majority", "weighted", "dawid-skene"])
def test_consensus_of_the_example_is_a_valid_dataset(method):
    from tests.conftest import ROOT

    ds = gt.load(ROOT / "examples" / "reviews")
    out = consensus(ds, method)
    report = gt.validate(out)
    assert report.ok, [str(i) for i in report.issues if i.severity == "error"]
    assert len(out.annotations) == len(ds.annotations) + len(ds.items)
