"""Cross-checks of the agreement statistics against reference implementations."""

from __future__ import annotations

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_h
from hypothesis.extra import numpy as hnp
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

from groundtruth.quality import _stats as st

NAN = np.nan
# Krippendorff, "Computing Krippendorff's Alpha-Reliability" (2011), section C: 4 coders x 12
# units, values 1..5, missing data. Published: nominal 0.743, interval 0.849, ratio 0.797.
KRIPP_EXAMPLE = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
)


def triples(data: np.ndarray):
    """Reliability data (coders x units, NaN missing) -> sparse triples + value domain."""
    coder, unit = np.nonzero(~np.isnan(data))
    vals = data[coder, unit]
    domain, code = st.dense_index(vals)
    return unit.astype(np.int64), coder.astype(np.int64), code, domain.astype(np.float64)


def alpha(data: np.ndarray, level: st.Level) -> st.Estimate:
    unit, _, code, domain = triples(data)
    return st.krippendorff_alpha(unit, code, data.shape[1], domain, level)


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("interval", 0.849), ("ratio", 0.797), ("ordinal", 0.815)],
)
def test_krippendorff_published_example(level, published):
    est = alpha(KRIPP_EXAMPLE, level)
    assert est.value == pytest.approx(published, abs=5e-4)
    # unit 12 has one value only, so 11 units and 40 pairable values enter.
    assert est.n_units == 11
    assert est.n_labels == 40


def random_reliability(rng, n_coders, n_units, n_values, missing):
    truth = rng.integers(0, n_values, n_units)
    noise = rng.integers(0, n_values, (n_coders, n_units))
    keep = rng.random((n_coders, n_units)) < 0.7
    data = np.where(keep, truth, noise).astype(np.float64)
    data[rng.random((n_coders, n_units)) < missing] = NAN
    return data


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alpha_matches_krippendorff_package(level, seed):
    rng = np.random.default_rng(seed)
    data = random_reliability(rng, n_coders=5, n_units=200, n_values=6, missing=0.3)
    data += 1.0  # ratio needs a meaningful zero; values 1..6
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    assert alpha(data, level).value == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_alpha_non_integer_values_interval():
    rng = np.random.default_rng(5)
    data = rng.normal(3, 1, (4, 50)).round(1)
    data[rng.random(data.shape) < 0.2] = NAN
    for level in ("interval", "ratio", "ordinal"):
        expected = krippendorff.alpha(reliability_data=np.abs(data), level_of_measurement=level)
        assert alpha(np.abs(data), level).value == pytest.approx(expected, rel=1e-9)


def test_alpha_sparse_path_matches_dense(monkeypatch):
    rng = np.random.default_rng(3)
    data = random_reliability(rng, 6, 300, 5, 0.4) + 1
    dense = alpha(data, "ordinal").value
    monkeypatch.setattr(st, "_DENSE_CELLS", 0)
    assert alpha(data, "ordinal").value == pytest.approx(dense, rel=1e-12)
    assert st.percent_agreement(*_uc(data)).value is not None


def _uc(data):
    unit, _, code, domain = triples(data)
    return unit, code, data.shape[1], len(domain)


def test_alpha_undefined_cases():
    same = np.array([[1.0, 1, 1], [1, 1, 1]])
    est = alpha(same, "nominal")
    assert est.value is None
    assert est.reason == st.UNDEFINED_NO_VARIATION
    lonely = np.array([[1.0, 2, NAN], [NAN, NAN, 3]])  # no unit has two values
    est = alpha(lonely, "interval")
    assert est.value is None
    assert est.reason == st.UNDEFINED_NO_PAIRS
    empty = st.krippendorff_alpha(
        np.array([], dtype=np.int64), np.array([], dtype=np.int64), 0, np.array([]), "nominal"
    )
    assert empty.value is None
    with pytest.raises(ValueError, match="level"):
        st.krippendorff_alpha(np.array([0]), np.array([0]), 1, np.array([1.0]), "cardinal")  # type: ignore[arg-type]


def full_table(rng, n_units, n_raters, n_values):
    truth = rng.integers(0, n_values, n_units)
    return np.where(
        rng.random((n_units, n_raters)) < 0.6,
        truth[:, None],
        rng.integers(0, n_values, (n_units, n_raters)),
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_fleiss_matches_statsmodels(seed):
    rng = np.random.default_rng(seed)
    codes = full_table(rng, 120, 4, 5)
    unit = np.repeat(np.arange(120), 4)
    code = codes.reshape(-1).astype(np.int64)
    table = np.stack([np.bincount(r, minlength=5) for r in codes])
    est = st.fleiss_kappa(unit, code, 120, 5)
    assert est.value == pytest.approx(sm_fleiss(table, method="fleiss"), rel=1e-12)
    assert est.n_units == 120
    assert est.n_labels == 480


def test_fleiss_undefined_and_single_labels():
    # every label the same category: p_e = 1.
    unit = np.array([0, 0, 1, 1])
    code = np.array([0, 0, 0, 0])
    assert st.fleiss_kappa(unit, code, 2, 1).reason == st.UNDEFINED_NO_VARIATION
    # each unit labelled once only.
    assert st.fleiss_kappa(np.array([0, 1]), np.array([0, 1]), 2, 2).reason == st.UNDEFINED_NO_PAIRS


def test_fleiss_skips_units_with_one_label():
    rng = np.random.default_rng(9)
    codes = full_table(rng, 50, 3, 3)
    unit = np.concatenate([np.repeat(np.arange(50), 3), [50, 51]])
    code = np.concatenate([codes.reshape(-1), [0, 1]])
    table = np.stack([np.bincount(r, minlength=3) for r in codes])
    assert st.fleiss_kappa(unit, code, 52, 3).value == pytest.approx(sm_fleiss(table), rel=1e-12)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_pairwise_cohen_matches_sklearn(weights):
    rng = np.random.default_rng(4)
    data = random_reliability(rng, 3, 150, 4, 0.25)
    unit, coder, code, domain = triples(data)
    res = st.pairwise_cohen_kappa(unit, coder, code, 150, 3, len(domain), weights)
    assert set(res) == {(0, 1), (0, 2), (1, 2)}
    for (a, b), est in res.items():
        both = ~np.isnan(data[a]) & ~np.isnan(data[b])
        expected = cohen_kappa_score(data[a][both], data[b][both], weights=weights)
        assert est.value == pytest.approx(expected, rel=1e-12)
        assert est.n_units == int(both.sum())


def test_cohen_undefined():
    table = np.array([[5.0, 0], [0, 0]])  # both always say class 0
    est = st.cohen_kappa_from_table(table)
    assert est.value is None
    assert est.reason == st.UNDEFINED_NO_VARIATION
    assert st.cohen_kappa_from_table(np.zeros((2, 2))).value is None


def test_percent_agreement():
    # unit 0: a a b -> 2 agreeing ordered pairs of 6; unit 1: a a -> 1; unit 2 single: skipped.
    unit = np.array([0, 0, 0, 1, 1, 2])
    code = np.array([0, 0, 1, 0, 0, 1])
    est = st.percent_agreement(unit, code, 3, 2)
    assert est.value == pytest.approx((1 / 3 + 1) / 2)
    assert est.n_units == 2
    assert est.n_labels == 5
    assert st.percent_agreement(np.array([0]), np.array([0]), 1, 1).value is None


def test_vote_majority_and_ties():
    unit = np.array([0, 0, 0, 1, 1, 2])
    code = np.array([1, 1, 0, 0, 1, 2])
    v = st.vote(unit, code, 4, 3)
    assert v.winner.tolist()[:3] == [1, 0, 2]
    assert v.winner[3] == -1  # no votes
    assert v.tied.tolist() == [False, True, False, False]
    assert v.agreement[0] == pytest.approx(2 / 3)
    assert np.isnan(v.agreement[3])


def test_weighted_vote_breaks_ties_by_weight():
    unit = np.array([0, 0])
    code = np.array([0, 1])
    v = st.vote(unit, code, 1, 2, weight=np.array([0.9, 0.4]))
    assert v.winner[0] == 0
    assert not v.tied[0]
    assert v.agreement[0] == pytest.approx(0.9 / 1.3)


def synthetic_crowd(seed, n_units=2000, n_coders=7, k=3, per_unit=5):
    """Annotators with known confusion matrices: some good, some poor, one adversarial."""
    rng = np.random.default_rng(seed)
    prior = np.array([0.5, 0.3, 0.2])[:k]
    truth = rng.choice(k, n_units, p=prior)
    conf = np.zeros((n_coders, k, k))
    accuracy = [0.9, 0.85, 0.8, 0.55, 0.45, 0.4, 0.35]
    for j in range(n_coders):
        a = accuracy[j]
        conf[j] = (1 - a) / (k - 1)
        np.fill_diagonal(conf[j], a)
    # coder 6 systematically confuses class 0 with class 1.
    conf[6, 0] = [0.2, 0.7, 0.1]
    units, coders, codes = [], [], []
    for u in range(n_units):
        for j in rng.choice(n_coders, per_unit, replace=False):
            units.append(u)
            coders.append(j)
            codes.append(rng.choice(k, p=conf[j, truth[u]]))
    return (np.array(units), np.array(coders), np.array(codes), truth, conf, prior)


def test_dawid_skene_recovers_truth_and_confusion():
    unit, coder, code, truth, conf, prior = synthetic_crowd(0)
    n_units, k = len(truth), 3
    ds = st.dawid_skene(unit, coder, code, n_units, 7, k)
    assert ds.converged
    assert ds.iterations < 100
    # log-likelihood of EM never decreases (up to the smoothing pseudo-counts).
    assert all(b >= a - 1e-6 * abs(a) for a, b in zip(ds.history, ds.history[1:], strict=False))
    ds_acc = (ds.posterior.argmax(axis=1) == truth).mean()
    mv = st.vote(unit, code, n_units, k)
    mv_acc = (mv.winner == truth).mean()
    assert ds_acc > mv_acc + 0.02
    assert ds_acc > 0.9
    assert np.abs(ds.confusion - conf).max() < 0.08
    assert np.abs(ds.prior - prior).max() < 0.03
    np.testing.assert_allclose(ds.posterior.sum(axis=1), 1.0)


def test_dawid_skene_degenerate_inputs():
    # One coder, one class: no division by zero, a proper distribution.
    ds = st.dawid_skene(np.array([0, 1]), np.array([0, 0]), np.array([0, 0]), 2, 1, 1)
    np.testing.assert_allclose(ds.posterior, 1.0)
    # A unit with no label keeps the prior.
    ds = st.dawid_skene(np.array([0, 0]), np.array([0, 1]), np.array([1, 1]), 2, 2, 2)
    np.testing.assert_allclose(ds.posterior[1], ds.prior)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_unit_disagreement_adds_up_to_alpha(level):
    unit, _, code, domain = triples(KRIPP_EXAMPLE)
    d_u, m_u, d_e = st.unit_disagreement(unit, code, 12, domain, level)
    ok = ~np.isnan(d_u)
    assert ok.sum() == 11
    n = m_u[ok].sum()
    alpha_from_units = 1 - (m_u[ok] * d_u[ok]).sum() / n / d_e
    assert alpha_from_units == pytest.approx(alpha(KRIPP_EXAMPLE, level).value, rel=1e-9)
    # units where every coder agrees have no disagreement.
    assert d_u[2] == 0.0
    assert d_u[5] > 0


def test_agreement_with_others():
    # unit 0: coders 0,1,2 say a,a,b; unit 1: coders 0,1 say b,b; unit 2: coder 2 alone.
    unit = np.array([0, 0, 0, 1, 1, 2])
    coder = np.array([0, 1, 2, 0, 1, 2])
    code = np.array([0, 0, 1, 1, 1, 0])
    sums, n = st.agreement_with_others(unit, coder, code, 3, 3, 2)
    assert n.tolist() == [2, 2, 1]
    np.testing.assert_allclose(sums / n, [(0.5 + 1) / 2, (0.5 + 1) / 2, 0.0])


@settings(max_examples=60, deadline=None)
@given(
    data=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
        elements=st_h.sampled_from([np.nan, 1.0, 2.0, 3.0, 5.0]),
    ),
    level=st_h.sampled_from(["nominal", "ordinal", "interval", "ratio"]),
)
def test_alpha_agrees_with_krippendorff_on_any_matrix(data, level):
    """Any small matrix, missing data included: same value, or undefined with a reason."""
    ours = alpha(data, level)
    try:
        with np.errstate(all="ignore"):
            ref = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    except (ValueError, ZeroDivisionError):
        ref = np.nan
    if ours.value is None:
        assert ours.reason
        assert np.isnan(ref) or np.isinf(ref)
    else:
        assert ours.value == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_within_unit_pairs():
    unit = np.array([3, 1, 3, 1, 3, 2])
    i, j = st.within_unit_pairs(unit)
    pairs = sorted(tuple(sorted(p)) for p in zip(i.tolist(), j.tolist(), strict=True))
    assert pairs == [(0, 2), (0, 4), (1, 3), (2, 4)]
    assert len(st.within_unit_pairs(np.array([0]))[0]) == 0


def test_pairwise_cohen_skips_pairs_without_shared_units():
    # coders 0 and 2 never label the same unit.
    unit = np.array([0, 0, 1, 1])
    coder = np.array([0, 1, 1, 2])
    code = np.array([0, 1, 1, 1])
    res = st.pairwise_cohen_kappa(unit, coder, code, 2, 3, 2)
    assert set(res) == {(0, 1), (1, 2)}
    assert res[(0, 1)].n_units == 1


@pytest.mark.parametrize("dense", [True, False])
def test_per_value_matches_recoded_alpha(dense, monkeypatch):
    if not dense:
        monkeypatch.setattr(st, "_DENSE_CELLS", 0)
    unit, _, code, domain = triples(KRIPP_EXAMPLE)
    counts, specific, alphas = st.per_value(unit, code, 12, len(domain))
    for c in range(len(domain)):
        binary = (code == c).astype(np.int64)
        ref = st.krippendorff_alpha(unit, binary, 12, np.array([0.0, 1.0]), "nominal")
        assert alphas[c] == pytest.approx(ref.value, rel=1e-12)
        assert counts[c] == (code == c).sum()
        n_uc = np.bincount(unit[code == c], minlength=12)
        m_u = np.bincount(unit, minlength=12)
        expected = (n_uc * (n_uc - 1)).sum() / (n_uc * (m_u - 1)).sum()
        assert specific[c] == pytest.approx(expected, rel=1e-12)
