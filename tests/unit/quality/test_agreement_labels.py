"""agreement() and consensus() on classification and rating annotations."""

from __future__ import annotations

from datetime import UTC, datetime

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from groundtruth import Dataset, GroundtruthError
from groundtruth.models import Classification, Item, Rating
from groundtruth.quality import AgreementInputError, agreement, consensus
from tests.unit.quality.helpers import classification_dataset, label_set, manifest

LABELS = ["neg", "neu", "pos"]


def random_table(seed: int, n_items: int = 60, coders: str = "abcd", missing: float = 0.2):
    rng = np.random.default_rng(seed)
    table = {}
    for i in range(n_items):
        truth = rng.integers(0, 3)
        row = {}
        for who in coders:
            if rng.random() < missing:
                continue
            lab = truth if rng.random() < 0.7 else rng.integers(0, 3)
            row[who] = LABELS[lab]
        table[f"i{i}"] = row
    return table


def reliability(table, coders="abcd", values=None):
    values = values or {n: float(i) for i, n in enumerate(LABELS)}
    return np.array(
        [[values[row[c]] if c in row else np.nan for row in table.values()] for c in coders]
    )


@pytest.mark.parametrize("scale", ["nominal", "ordinal", "interval"])
def test_label_figures_match_references(scale):
    table = random_table(1)
    ls = label_set("sent", LABELS, scale=scale, values=[-1.0, 0.0, 2.0])
    rep = agreement(classification_dataset(table, [ls])).to_dict()
    assert rep["level"] == scale
    data = reliability(table, values={"neg": -1.0, "neu": 0.0, "pos": 2.0})
    alpha = rep["krippendorff_alpha"]
    assert alpha["level"] == scale
    assert alpha["unit"].startswith("item")
    assert alpha["value"] == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement=scale), abs=1e-6
    )
    weights = {"nominal": None, "ordinal": "linear", "interval": "quadratic"}[scale]
    assert rep["cohen_kappa"]["weights"] == weights
    for pair in rep["cohen_kappa"]["pairs"]:
        a, b = ("abcd".index(x) for x in pair["annotators"])
        both = ~np.isnan(data[a]) & ~np.isnan(data[b])
        expected = cohen_kappa_score(data[a][both], data[b][both], weights=weights)
        assert pair["value"] == pytest.approx(expected, abs=1e-6)
        assert pair["level"] == scale
    assert rep["fleiss_kappa"]["level"] == "nominal"


def test_fleiss_and_percent_on_complete_table():
    table = random_table(2, missing=0.0)
    rep = agreement(classification_dataset(table, [label_set("s", LABELS)]))
    counts = np.array([[list(row.values()).count(n) for n in LABELS] for row in table.values()])
    assert rep["fleiss_kappa"]["value"] == pytest.approx(sm_fleiss(counts), abs=1e-6)
    agree = ((counts * (counts - 1)).sum(axis=1) / (4 * 3)).mean()
    assert rep["percent_agreement"]["value"] == pytest.approx(agree, abs=1e-6)
    assert rep["percent_agreement"]["n_units"] == 60


def test_level_override_and_published_example():
    # Krippendorff (2011) 4 coders x 12 units, stored as classifications "1".."5".
    raw = [
        "1 2 3 3 2 1 4 1 2 . . .",
        "1 2 3 3 2 2 4 1 2 5 . 3",
        ". 3 3 3 2 3 4 2 2 5 1 .",
        "1 2 3 3 2 4 4 1 2 5 1 .",
    ]
    table: dict[str, dict[str, str]] = {f"u{i}": {} for i in range(12)}
    for who, line in zip("ABCD", raw, strict=True):
        for i, v in enumerate(line.split()):
            if v != ".":
                table[f"u{i}"][who] = v
    ls = label_set("r", ["1", "2", "3", "4", "5"], scale="nominal")
    ds = classification_dataset(table, [ls])
    assert agreement(ds)["krippendorff_alpha"]["value"] == pytest.approx(0.743, abs=5e-4)
    # no `value` on the labels: interval falls back to the numeric label names.
    assert agreement(ds, level="interval")["krippendorff_alpha"]["value"] == pytest.approx(
        0.849, abs=5e-4
    )
    assert agreement(ds, level="ratio")["krippendorff_alpha"]["value"] == pytest.approx(
        0.797, abs=5e-4
    )
    rep = agreement(ds)
    assert rep["n_items_shared"] == 11
    assert any(i.code == "agreement.single-label-items" for i in rep.issues)


def test_interval_without_values_is_undefined_not_an_error():
    table = {"1": {"a": "x", "b": "y"}, "2": {"a": "x", "b": "x"}}
    rep = agreement(classification_dataset(table, [label_set("s", ["x", "y"])]), level="interval")
    assert rep["krippendorff_alpha"]["value"] is None
    assert "numeric" in rep["krippendorff_alpha"]["reason"]
    assert [i.code for i in rep.issues] == ["agreement.level-needs-values"]
    assert rep["percent_agreement"]["value"] == 0.5


def test_per_annotator_and_disputed_ranking():
    table = {
        "1": {"a": "pos", "b": "pos", "c": "pos"},
        "2": {"a": "pos", "b": "pos", "c": "neg"},
        "3": {"a": "neg", "b": "neu", "c": "pos"},
        "4": {"a": "neu", "b": "neu", "c": "neu"},
    }
    rep = agreement(classification_dataset(table, [label_set("s", LABELS)]))
    disputed = rep["disputed_items"]
    assert [d["item_id"] for d in disputed] == ["3", "2"]
    assert disputed[0]["tie"] is True
    assert disputed[0]["labels"] == {"a": "neg", "b": "neu", "c": "pos"}
    assert disputed[1]["votes"] == {"neg": 1, "pos": 2}
    per = rep["per_annotator"]
    # a and b agree with everyone but on item 3; c is the odd one out.
    assert per["a"]["agreement_with_consensus"] == 1.0
    assert per["c"]["agreement_with_consensus"] == pytest.approx(2 / 3)
    assert per["c"]["agreement_with_others"] < per["a"]["agreement_with_others"]
    assert rep["per_label"]["neu"]["n_labels"] == 4
    assert set(rep.to_dict()) >= {
        "percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha",
        "per_label", "per_annotator", "disputed_items",
    }  # fmt: skip


def test_one_annotator_only():
    ds = classification_dataset({"1": {"a": "x"}, "2": {"a": "y"}}, [label_set("s", ["x", "y"])])
    rep = agreement(ds)
    assert not rep.ok
    assert [i.code for i in rep.issues] == ["agreement.single-annotator"]
    assert rep["krippendorff_alpha"]["value"] is None
    assert rep["cohen_kappa"]["pairs"] == []
    assert rep["cohen_kappa"]["reason"]


def test_no_item_shared():
    ds = classification_dataset({"1": {"a": "x"}, "2": {"b": "y"}}, [label_set("s", ["x", "y"])])
    rep = agreement(ds)
    assert [i.code for i in rep.issues] == ["agreement.no-overlap"]
    assert rep["percent_agreement"]["value"] is None
    assert rep["cohen_kappa"]["pairs"] == []
    assert rep["cohen_kappa"]["pairs_without_shared_units"] == 1
    assert rep["cohen_kappa"]["reason"]


def test_perfect_agreement_single_category_is_documented():
    ds = classification_dataset(
        {"1": {"a": "x", "b": "x"}, "2": {"a": "x", "b": "x"}}, [label_set("s", ["x", "y"])]
    )
    rep = agreement(ds)
    assert rep["percent_agreement"]["value"] == 1.0
    for key in ("fleiss_kappa", "krippendorff_alpha"):
        assert rep[key]["value"] is None
        assert "chance disagreement is zero" in rep[key]["reason"]
    assert rep["cohen_kappa"]["pairs"][0]["value"] is None
    assert "chance disagreement is zero" in rep["cohen_kappa"]["pairs"][0]["reason"]
    assert rep["disputed_items"] == []


def test_labels_outside_the_set_are_reported_and_left_out():
    table = {"1": {"a": "x", "b": "zzz"}, "2": {"a": "x", "b": "y"}}
    rep = agreement(classification_dataset(table, [label_set("s", ["x", "y"])]))
    bad = [i for i in rep.issues if i.code == "agreement.label-unknown"]
    assert [i.location.record_id for i in bad] == ["1-b"]
    assert rep["n_items_shared"] == 2
    assert rep["percent_agreement"]["n_units"] == 1


def test_label_set_choice():
    ds = classification_dataset({"1": {"a": "x", "b": "x"}}, [label_set("s", ["x"])])
    with pytest.raises(AgreementInputError) as err:
        agreement(ds, label_set="nope")
    assert isinstance(err.value, GroundtruthError)
    assert "s" in (err.value.hint or "")
    two = classification_dataset(
        {"1": {"a": "x", "b": "q"}}, [label_set("s", ["x"]), label_set("t", ["q"])]
    )
    with pytest.raises(AgreementInputError, match="several label sets"):
        agreement(two)
    assert agreement(two, label_set="t")["label_set"] == "t"
    with pytest.raises(AgreementInputError, match="level"):
        agreement(ds, level="cardinal")  # type: ignore[arg-type]


def test_duplicate_label_uses_latest():
    ds = classification_dataset({"1": {"a": "x", "b": "y"}}, [label_set("s", ["x", "y"])])
    ds.annotations.append(Classification(id="1-b2", item_id="1", label="x", annotator="b"))
    rep = agreement(ds)
    assert [i.code for i in rep.issues] == ["agreement.duplicate-label"]
    assert rep["percent_agreement"]["value"] == 1.0


def test_excluded_annotations():
    ds = classification_dataset({"1": {"a": "x", "b": "y"}}, [label_set("s", ["x", "y"])])
    ds.annotations[1].status = "rejected"
    ds.annotations.append(Classification(id="n", item_id="1", label="x"))
    rep = agreement(ds)
    codes = [i.code for i in rep.issues]
    assert "agreement.no-annotator" in codes
    assert "agreement.single-annotator" in codes


def test_multi_label_units():
    ls = label_set("tags", ["a", "b", "c"], multi_label=True)
    ds = Dataset(manifest([ls], ["x", "y"]), [Item(id="1", kind="text", text="t")], [
        Classification(id="1", item_id="1", label="a", annotator="x"),
        Classification(id="2", item_id="1", label="b", annotator="x"),
        Classification(id="3", item_id="1", label="a", annotator="y"),
    ])  # fmt: skip
    rep = agreement(ds)
    assert rep["unit"] == "item x label"
    # units (1,a): yes/yes, (1,b): yes/no, (1,c): no/no -> 2 of 3 agree.
    assert rep["percent_agreement"]["value"] == pytest.approx(2 / 3)
    assert rep["per_label"]["b"]["specific_agreement"] == 0.0
    assert rep["per_label"]["a"]["specific_agreement"] == 1.0
    out = consensus(ds)
    cons = [a for a in out.annotations if a.consensus is not None]
    assert sorted((a.label, a.consensus.needs_review) for a in cons) == [
        ("a", False),
        ("b", True),
    ]


def test_ratings_interval():
    rng = np.random.default_rng(7)
    data = rng.integers(1, 6, (3, 40)).astype(float)
    data[rng.random(data.shape) < 0.2] = np.nan
    anns = [
        Rating(id=f"{c}-{u}", item_id=str(u), value=float(data[c, u]), annotator="xyz"[c])
        for c in range(3)
        for u in range(40)
        if not np.isnan(data[c, u])
    ]
    ds = Dataset(manifest([], "xyz"), [Item(id=str(u), kind="text", text="t") for u in range(40)],
                 anns)  # fmt: skip
    rep = agreement(ds)
    assert rep["level"] == "interval"
    assert rep["krippendorff_alpha"]["value"] == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="interval"), abs=1e-6
    )
    out = consensus(ds)
    cons = [a for a in out.annotations if isinstance(a, Rating) and a.consensus is not None]
    assert len(cons) == 40
    assert all(a.annotator == "consensus-majority" for a in cons)


def test_mixed_kinds_need_a_choice():
    ds = classification_dataset({"1": {"a": "x", "b": "x"}})
    ds.annotations.append(Rating(id="r", item_id="1", value=3, annotator="a"))
    with pytest.raises(AgreementInputError, match="different kinds"):
        agreement(ds)
    assert agreement(ds, annotation_type="classification")["percent_agreement"]["value"] == 1.0


def test_duplicate_label_prefers_the_newest_created():
    ds = classification_dataset({"1": {"a": "x", "b": "x"}}, [label_set("s", ["x", "y"])])
    ds.annotations.append(
        Classification(
            id="old", item_id="1", label="y", annotator="b", created="2020-01-01T00:00:00Z"
        )
    )
    ds.annotations[1].created = datetime(2021, 1, 1, tzinfo=UTC)
    rep = agreement(ds)
    assert rep["percent_agreement"]["value"] == 1.0  # b's newer "x" wins over the later-listed "y"
    assert [i.location.record_id for i in rep.issues] == ["old"]
