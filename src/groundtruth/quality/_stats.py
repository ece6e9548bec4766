"""Agreement statistics and label aggregation on coded reliability data (numpy, vectorised).

Everything here works on *sparse reliability data*: three equal-length arrays, one entry per
label that was given,

- `unit`: the unit of analysis (usually the item) as a dense index `0..n_units-1`;
- `coder`: the annotator as a dense index `0..n_coders-1`;
- `code`: the value as a dense index `0..n_values-1` into the sorted value domain (`values`
  holds the numeric value of each code where the level needs one: ordinal, interval, ratio).

Missing data is simply an absent entry. A statistic that is undefined for the data (one coder,
no unit with two labels, a single category so that chance disagreement is zero) is returned as an
`Estimate` whose `value` is None and whose `reason` says why: never a ZeroDivisionError, never a
silent NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import sparse

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# A unit-by-value count table is built dense below this many cells (fast bincount), sparse above.
_DENSE_CELLS = 20_000_000

UNDEFINED_ONE_CODER = "fewer than two annotators"
UNDEFINED_NO_PAIRS = "no unit has two or more labels, so nothing can be compared"
UNDEFINED_NO_VARIATION = (
    "every label has the same value, so chance disagreement is zero and the statistic is "
    "undefined (observed agreement is perfect)"
)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A statistic, or why it could not be computed.

    `value` is None exactly when `reason` is set. `n_units` counts the units that entered the
    computation and `n_pairs` the pairable labels (or compared unit pairs), so two figures can be
    judged on what they rest on.
    """

    value: float | None
    reason: str | None = None
    n_units: int = 0
    n_labels: int = 0

    @classmethod
    def undefined(cls, reason: str, n_units: int = 0, n_labels: int = 0) -> Estimate:
        return cls(None, reason, n_units, n_labels)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "value": self.value,
            "n_units": self.n_units,
            "n_labels": self.n_labels,
        }
        if self.reason is not None:
            out["reason"] = self.reason
        return out


def dense_index(
    keys: npt.ArrayLike,
) -> tuple[npt.NDArray[np.generic], IntArray]:
    """Map arbitrary keys to dense codes: `(uniques, codes)` with `uniques[codes] == keys`."""
    uniq, inv = np.unique(np.asarray(keys), return_inverse=True)
    return uniq, inv.astype(np.int64).reshape(-1)


def _counts(
    unit: IntArray, code: IntArray, n_units: int, n_values: int, weight: FloatArray | None = None
) -> npt.NDArray[np.float64] | sparse.csr_matrix:
    """Unit-by-value table of (weighted) label counts: dense when small, CSR when not."""
    if n_units * n_values <= _DENSE_CELLS:
        flat = np.bincount(unit * n_values + code, weights=weight, minlength=n_units * n_values)
        return flat.astype(np.float64).reshape(n_units, n_values)
    data = np.ones(len(unit)) if weight is None else weight.astype(np.float64)
    return sparse.csr_matrix((data, (unit, code)), shape=(n_units, n_values))


def _row_sum(m: npt.NDArray[np.float64] | sparse.csr_matrix) -> FloatArray:
    return np.asarray(m.sum(axis=1), dtype=np.float64).reshape(-1)


def _col_sum(m: npt.NDArray[np.float64] | sparse.csr_matrix) -> FloatArray:
    return np.asarray(m.sum(axis=0), dtype=np.float64).reshape(-1)


def _sum_pairs_per_unit(m: npt.NDArray[np.float64] | sparse.csr_matrix, n_units: int) -> FloatArray:
    """sum_c n_uc (n_uc - 1) per unit: ordered pairs of equal labels within each unit."""
    if isinstance(m, np.ndarray):
        return np.asarray((m * (m - 1)).sum(axis=1), dtype=np.float64)
    csr = m.tocsr()
    d = csr.data * (csr.data - 1)
    rows = np.repeat(np.arange(n_units), np.diff(csr.indptr))
    return np.bincount(rows, weights=d, minlength=n_units).astype(np.float64)


def percent_agreement(unit: IntArray, code: IntArray, n_units: int, n_values: int) -> Estimate:
    """Pairwise percent agreement: per unit, the share of label pairs that agree; then the mean.

    Unit of analysis: the unit (item). Units with fewer than two labels are left out.
    """
    if len(unit) == 0:
        return Estimate.undefined(UNDEFINED_NO_PAIRS)
    m = _counts(unit, code, n_units, n_values)
    m_u = _row_sum(m)
    agree = _sum_pairs_per_unit(m, n_units)
    ok = m_u >= 2
    if not ok.any():
        return Estimate.undefined(UNDEFINED_NO_PAIRS, 0, 0)
    share = agree[ok] / (m_u[ok] * (m_u[ok] - 1))
    return Estimate(float(share.mean()), None, int(ok.sum()), int(m_u[ok].sum()))


def fleiss_kappa(unit: IntArray, code: IntArray, n_units: int, n_values: int) -> Estimate:
    """Fleiss' kappa over units with two or more labels.

    With the same number of labels per unit this is Fleiss (1971) exactly (and statsmodels'
    `fleiss_kappa`); with varying numbers, per-unit agreement uses each unit's own count and the
    chance term uses the share of all labels per category.
    """
    m = _counts(unit, code, n_units, n_values)
    m_u = _row_sum(m)
    ok = m_u >= 2
    if not ok.any():
        return Estimate.undefined(UNDEFINED_NO_PAIRS)
    agree = _sum_pairs_per_unit(m, n_units)
    p_bar = float((agree[ok] / (m_u[ok] * (m_u[ok] - 1))).mean())
    col = _col_sum(m[ok] if isinstance(m, np.ndarray) else m[np.flatnonzero(ok)])
    p = col / col.sum()
    p_e = float((p * p).sum())
    n_units_used, n_labels = int(ok.sum()), int(m_u[ok].sum())
    if np.isclose(p_e, 1.0):
        return Estimate.undefined(UNDEFINED_NO_VARIATION, n_units_used, n_labels)
    return Estimate((p_bar - p_e) / (1.0 - p_e), None, n_units_used, n_labels)


def cohen_kappa_from_table(
    table: FloatArray, weights: Literal["linear", "quadratic"] | None = None
) -> Estimate:
    """Cohen's kappa from a square confusion table (rows: coder A, columns: coder B).

    `weights` follows scikit-learn: None (nominal), `linear` or `quadratic` on the code indices.
    """
    n = float(table.sum())
    if n == 0:
        return Estimate.undefined("the two annotators labelled no unit in common")
    k = table.shape[0]
    if weights is None:
        w = 1.0 - np.eye(k)
    else:
        idx = np.arange(k)
        d = np.abs(idx[:, None] - idx[None, :]).astype(np.float64)
        w = d if weights == "linear" else d * d
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    denom = float((w * expected).sum())
    if denom == 0.0:
        return Estimate.undefined(UNDEFINED_NO_VARIATION, int(n), int(2 * n))
    return Estimate(1.0 - float((w * table).sum()) / denom, None, int(n), int(2 * n))


def coder_matrix(
    unit: IntArray, coder: IntArray, code: IntArray, n_units: int, n_coders: int
) -> IntArray:
    """Dense unit-by-coder matrix of codes, -1 where the coder gave no label.

    Where a coder labelled a unit twice the later entry wins (callers dedupe first).
    """
    out = np.full((n_units, n_coders), -1, dtype=np.int64)
    out[unit, coder] = code
    return out


def within_unit_pairs(unit: IntArray) -> tuple[IntArray, IntArray]:
    """Indices `(i, j)`, i != j, of every unordered pair of entries that share a unit.

    Vectorised: sorts by unit once and expands each group of m entries into its m(m-1)/2
    pairs, so the cost follows the data (sum of m^2 over units), not the number of coders.
    """
    n = len(unit)
    if n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.argsort(unit, kind="stable")
    su = unit[order]
    new_group = np.r_[True, su[1:] != su[:-1]]
    group_start = np.flatnonzero(new_group)
    group_id = np.cumsum(new_group) - 1
    size = np.diff(np.r_[group_start, n])
    rank = np.arange(n) - group_start[group_id]
    partners = size[group_id] - rank - 1  # entries after this one in its group
    total = int(partners.sum())
    left = np.repeat(np.arange(n), partners)
    offset = np.arange(total) - np.repeat(np.cumsum(partners) - partners, partners)
    right = left + 1 + offset
    return order[left].astype(np.int64), order[right].astype(np.int64)


def pairwise_cohen_kappa(
    unit: IntArray,
    coder: IntArray,
    code: IntArray,
    n_units: int,
    n_coders: int,
    n_values: int,
    weights: Literal["linear", "quadratic"] | None = None,
) -> dict[tuple[int, int], Estimate]:
    """Cohen's kappa for every pair of coders `(a, b)`, `a < b`, that share at least one unit.

    Built from the label pairs within units (`within_unit_pairs`), so a crowd of hundreds of
    coders who each saw a few items costs what the data costs. Expects one label per (unit,
    coder); pairs of a coder with themselves are ignored.
    """
    i, j = within_unit_pairs(unit)
    a, b = coder[i], coder[j]
    ca, cb = code[i], code[j]
    swap = a > b
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    ca, cb = np.where(swap, cb, ca), np.where(swap, ca, cb)
    keep = a != b
    k2 = n_values * n_values
    key = ((a[keep] * n_coders + b[keep]) * n_values + ca[keep]) * n_values + cb[keep]
    uniq, counts = np.unique(key, return_counts=True)
    if len(uniq) == 0:
        return {}
    pair = uniq // k2
    cell = uniq % k2
    bounds = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1], True])
    out: dict[tuple[int, int], Estimate] = {}
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        table = np.zeros(k2)
        table[cell[lo:hi]] = counts[lo:hi]
        p = int(pair[lo])
        out[(p // n_coders, p % n_coders)] = cohen_kappa_from_table(
            table.reshape(n_values, n_values), weights
        )
    return out


def _delta(level: Level, values: FloatArray, n_c: FloatArray) -> FloatArray:
    """Squared difference function of Krippendorff's alpha for each pair of value codes."""
    if level == "nominal":
        return 1.0 - np.eye(len(values))
    if level == "ordinal":
        # (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2 with the cumulative marginals.
        cum = np.concatenate([[0.0], np.cumsum(n_c)])
        lo = np.minimum.outer(np.arange(len(values)), np.arange(len(values)))
        hi = np.maximum.outer(np.arange(len(values)), np.arange(len(values)))
        between = cum[hi + 1] - cum[lo]
        return np.asarray((between - (n_c[:, None] + n_c[None, :]) / 2.0) ** 2)
    diff = values[:, None] - values[None, :]
    if level == "interval":
        return np.asarray(diff * diff)
    total = values[:, None] + values[None, :]
    ratio = np.divide(diff, total, out=np.zeros_like(diff), where=total != 0)
    return np.asarray(ratio * ratio)


def coincidence_matrix(
    unit: IntArray, code: IntArray, n_units: int, n_values: int
) -> tuple[FloatArray, int]:
    """Krippendorff's coincidence matrix `o_ck` and the number of pairable units.

    o_ck = sum_u (number of ordered pairs (c, k) of labels within u) / (m_u - 1), over units with
    m_u >= 2 labels.
    """
    m = _counts(unit, code, n_units, n_values)
    m_u = _row_sum(m)
    ok = m_u >= 2
    w = np.zeros(n_units)
    w[ok] = 1.0 / (m_u[ok] - 1.0)
    if isinstance(m, np.ndarray):
        mw = m * w[:, None]
        o = mw.T @ m
    else:
        mw = sparse.diags(w) @ m
        o = np.asarray((mw.T @ m).toarray())
    o = o - np.diag(_col_sum(mw))
    return np.asarray(o, dtype=np.float64), int(ok.sum())


def krippendorff_alpha(
    unit: IntArray,
    code: IntArray,
    n_units: int,
    values: FloatArray,
    level: Level = "nominal",
) -> Estimate:
    """Krippendorff's alpha at the given level of measurement, missing data allowed.

    `values[c]` is the numeric value of code `c` (sorted ascending for ordinal data; only their
    order matters there). alpha = 1 - D_o / D_e from the coincidence matrix.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level of measurement {level!r}; use one of {LEVELS}")
    n_values = len(values)
    if len(unit) == 0 or n_values == 0:
        return Estimate.undefined(UNDEFINED_NO_PAIRS)
    o, n_pairable_units = coincidence_matrix(unit, code, n_units, n_values)
    n_c = o.sum(axis=1)
    n = float(n_c.sum())
    if n_pairable_units == 0 or n < 2:
        return Estimate.undefined(UNDEFINED_NO_PAIRS)
    delta = _delta(level, np.asarray(values, dtype=np.float64), n_c)
    d_e = float((np.outer(n_c, n_c) * delta).sum())
    if d_e == 0.0:
        return Estimate.undefined(UNDEFINED_NO_VARIATION, n_pairable_units, round(n))
    d_o = float((o * delta).sum())
    return Estimate(1.0 - (n - 1.0) * d_o / d_e, None, n_pairable_units, round(n))


# -- aggregation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Vote:
    """Result of a (weighted) vote per unit.

    `votes[u, c]`: (weighted) votes for code c; `winner[u]`: the code with most votes, -1 for a
    unit with no vote; `tied[u]`: more than one code shares the top; `agreement[u]`: winner's
    share of the unit's votes (NaN for a unit with no vote).
    """

    votes: FloatArray
    winner: IntArray
    tied: npt.NDArray[np.bool_]
    agreement: FloatArray


def vote(
    unit: IntArray,
    code: IntArray,
    n_units: int,
    n_values: int,
    weight: FloatArray | None = None,
    *,
    rtol: float = 1e-9,
) -> Vote:
    """Majority (or, with `weight` per label, weighted) vote per unit; ties flagged, not broken.

    On a tie `winner` is the lowest tied code, only so the array is total: callers must check
    `tied`. Weighted votes tie when within `rtol` of each other.
    """
    votes = (
        np.bincount(unit * n_values + code, weights=weight, minlength=n_units * n_values)
        .astype(np.float64)
        .reshape(n_units, n_values)
    )
    total = votes.sum(axis=1)
    top = votes.max(axis=1) if n_values else np.zeros(n_units)
    winner = votes.argmax(axis=1).astype(np.int64) if n_values else np.full(n_units, -1)
    near_top = votes >= top[:, None] - rtol * np.maximum(np.abs(top[:, None]), 1.0)
    tied = (near_top.sum(axis=1) > 1) & (total > 0)
    empty = total <= 0
    winner[empty] = -1
    with np.errstate(invalid="ignore", divide="ignore"):
        agreement = np.where(empty, np.nan, top / np.where(empty, 1.0, total))
    return Vote(votes, winner, tied, agreement)


@dataclass(frozen=True, slots=True)
class DawidSkene:
    """Dawid-Skene estimates.

    `posterior[u, k]`: probability that unit u's true class is k; `confusion[j, k, l]`: probability
    that coder j says l when the truth is k; `prior[k]`: class prevalence.
    """

    posterior: FloatArray
    confusion: FloatArray
    prior: FloatArray
    iterations: int
    converged: bool
    log_likelihood: float
    history: list[float] = field(default_factory=list)


def dawid_skene(
    unit: IntArray,
    coder: IntArray,
    code: IntArray,
    n_units: int,
    n_coders: int,
    n_values: int,
    *,
    max_iter: int = 500,
    tol: float = 1e-4,
    smoothing: float = 0.01,
) -> DawidSkene:
    """Dawid & Skene (1979) maximum-likelihood class estimates by EM.

    Initialised from the majority-vote shares per unit (soft labels, so ties start undecided).
    Each M-step adds `smoothing` pseudo-counts to every confusion cell and prior so no probability
    is exactly 0 (an unseen response would otherwise veto a class). Stops when no posterior
    probability moves by more than `tol` in an iteration, or after `max_iter` iterations.
    """
    k = n_values
    counts = np.bincount(unit * k + code, minlength=n_units * k).astype(np.float64)
    counts = counts.reshape(n_units, k)
    total = counts.sum(axis=1, keepdims=True)
    post = np.divide(counts, total, out=np.full_like(counts, 1.0 / max(k, 1)), where=total > 0)
    jl = coder * k + code  # (coder, response) cell of each label
    history: list[float] = []
    converged = False
    prior = np.full(k, 1.0 / max(k, 1))
    confusion = np.zeros((n_coders, k, k))
    iterations = 0
    for iteration in range(1, max_iter + 1):
        iterations = iteration
        # M-step: priors and confusion matrices from the current soft labels.
        prior = post.sum(axis=0) + smoothing
        prior /= prior.sum()
        for t in range(k):
            confusion[:, t, :] = np.bincount(
                jl, weights=post[unit, t], minlength=n_coders * k
            ).reshape(n_coders, k)
        confusion += smoothing
        confusion /= confusion.sum(axis=2, keepdims=True)
        # E-step: log posterior per unit = log prior + sum of log P(response | class).
        log_conf = np.log(confusion)
        log_post = np.tile(np.log(prior), (n_units, 1))
        for t in range(k):
            log_post[:, t] += np.bincount(unit, weights=log_conf[coder, t, code], minlength=n_units)
        top = log_post.max(axis=1, keepdims=True)
        unnorm = np.exp(log_post - top)
        norm = unnorm.sum(axis=1, keepdims=True)
        new_post = unnorm / norm
        change = float(np.abs(new_post - post).max()) if post.size else 0.0
        post = new_post
        ll = float((np.log(norm) + top).sum())
        history.append(ll)
        if change <= tol:
            converged = True
            break
    return DawidSkene(
        post, confusion, prior, iterations, converged, history[-1] if history else 0.0, history
    )


def unit_disagreement(
    unit: IntArray,
    code: IntArray,
    n_units: int,
    values: FloatArray,
    level: Level = "nominal",
) -> tuple[FloatArray, FloatArray, float]:
    """Per-unit observed disagreement, label counts, and alpha's expected disagreement.

    `d_u[u]` is the mean of delta(c, k) over the ordered pairs of labels within unit u (NaN for
    units with fewer than two labels); `d_e` is sum n_c n_k delta / (n (n - 1)). Dividing gives
    a level-aware "disagreement relative to chance" (1.0 = as much as chance), and
    alpha = 1 - sum_u m_u d_u / n / d_e.
    """
    n_values = len(values)
    vals = np.asarray(values, dtype=np.float64)
    m = _counts(unit, code, n_units, n_values)
    m_u = _row_sum(m)
    ok = m_u >= 2
    pairs = np.where(ok, m_u * (m_u - 1), 1.0)
    if level == "nominal":
        disagree = m_u * (m_u - 1) - _sum_pairs_per_unit(m, n_units)
    elif level == "interval":
        # sum over ordered pairs of (v_i - v_j)^2 = 2 (m sum v^2 - (sum v)^2).
        s1 = np.bincount(unit, weights=vals[code], minlength=n_units)
        s2 = np.bincount(unit, weights=vals[code] ** 2, minlength=n_units)
        disagree = 2.0 * (m_u * s2 - s1 * s1)
    else:
        o, _ = coincidence_matrix(unit, code, n_units, n_values)
        delta = _delta(level, vals, o.sum(axis=1))
        csr = sparse.csr_matrix(m)
        disagree = np.zeros(n_units)
        step = max(1, 5_000_000 // max(n_values * n_values, 1))
        for lo in range(0, n_units, step):
            block = csr[lo : lo + step]
            disagree[lo : lo + step] = np.asarray(
                block.multiply(block @ delta).sum(axis=1)
            ).reshape(-1)
    d_u = np.where(ok, np.maximum(disagree, 0.0) / pairs, np.nan)
    o, _ = coincidence_matrix(unit, code, n_units, n_values)
    n_c = o.sum(axis=1)
    n = float(n_c.sum())
    d_e = (
        float((np.outer(n_c, n_c) * _delta(level, vals, n_c)).sum()) / (n * (n - 1))
        if n >= 2
        else 0.0
    )
    return d_u, m_u, d_e


def agreement_with_others(
    unit: IntArray, coder: IntArray, code: IntArray, n_units: int, n_coders: int, n_values: int
) -> tuple[FloatArray, FloatArray]:
    """Per coder: summed and counted agreement of each of their labels with the unit's others.

    For a label with code c in unit u (m_u >= 2 labels), agreement is (n_uc - 1) / (m_u - 1): the
    share of the other labels of u that equal it. Returns `(sums, counts)` per coder; divide for
    the mean (counts 0 means the coder shared no unit).
    """
    flat = unit * n_values + code
    counts = np.bincount(flat, minlength=n_units * n_values).astype(np.float64)
    m_u = np.bincount(unit, minlength=n_units).astype(np.float64)
    others = m_u[unit] - 1.0
    ok = others > 0
    share = np.where(ok, (counts[flat] - 1.0) / np.where(ok, others, 1.0), 0.0)
    sums = np.bincount(coder, weights=share, minlength=n_coders)
    n = np.bincount(coder, weights=ok.astype(np.float64), minlength=n_coders)
    return sums.astype(np.float64), n.astype(np.float64)


def per_value(
    unit: IntArray, code: IntArray, n_units: int, n_values: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per code c, all at once: label count, specific agreement, and nominal alpha of c vs rest.

    Specific agreement is sum_u n_uc (n_uc - 1) / sum_u n_uc (m_u - 1). Alpha of the binary
    recoding (c or not c) follows from the coincidence matrix:
    1 - (n - 1) (n_c - o_cc) / (n_c (n - n_c)). Undefined entries are NaN.
    """
    m = _counts(unit, code, n_units, n_values)
    m_u = _row_sum(m)
    counts = _col_sum(m)
    if isinstance(m, np.ndarray):
        num = (m * (m - 1)).sum(axis=0)
        den = m.T @ np.maximum(m_u - 1, 0)
    else:
        csr = m.tocsr()
        num = _col_sum(csr.multiply(csr - csr.sign()))
        den = np.asarray(csr.T @ np.maximum(m_u - 1, 0)).reshape(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        specific = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    o, _ = coincidence_matrix(unit, code, n_units, n_values)
    n_c = o.sum(axis=1)
    n = float(n_c.sum())
    o_cc = np.diag(o)
    ok = (n_c > 0) & (n - n_c > 0) & (n >= 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(
            ok, 1.0 - (n - 1.0) * (n_c - o_cc) / np.where(ok, n_c * (n - n_c), 1.0), np.nan
        )
    return counts, np.asarray(specific, dtype=np.float64), np.asarray(alpha, dtype=np.float64)
