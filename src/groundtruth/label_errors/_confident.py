"""Confident learning (Northcutt et al., JAIR 2021) in numpy: cleanlab's `find_label_issues`.

A port of `cleanlab.filter.find_label_issues(labels, pred_probs)` with its defaults
(`filter_by="prune_by_noise_rate"`, `frac_noise=1.0`, `min_examples_per_class=1`, the calibrated
confident joint) and `return_indices_ranked_by="self_confidence"`: the same issues in the same
order on the same inputs (tested against cleanlab 2.9). Step by step:

1. per-class thresholds: the mean predicted probability of class k over examples labelled k;
2. the confident joint: each example counts under (given label, the class it is confidently
   in: the argmax among classes over their threshold, the only one if just one), diagonal at
   least 1, calibrated to the label counts and rounded keeping row totals;
3. prune by noise rate: for each (given k, true j) off-diagonal count n, the n examples labelled k
   with the largest margin p_j - p_k are issues (classes with a single example are left alone);
4. an example whose given label is (within 1e-6) the argmax is never an issue;
5. issues ranked by self-confidence p[given label], lowest first.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

FLOATING_POINT_COMPARISON = 1e-6
THRESHOLD_LOWER_BOUND = 2 * FLOATING_POINT_COMPARISON
TINY_VALUE = 1e-100


def _round_preserving_sum(values: FloatArray) -> IntArray:
    floats = np.asarray(values, dtype=float)
    ints = floats.round()
    orig_sum = np.sum(floats).round()
    int_sum = np.sum(ints).round()
    while abs(int_sum - orig_sum) > FLOATING_POINT_COMPARISON:
        diff = np.round(orig_sum - int_sum)
        increment = -1 if int(diff < 0.0) else 1
        changes = min(int(abs(diff)), len(values))
        for i in np.argsort(floats - ints)[::-increment][:changes]:
            ints[i] = ints[i] + increment
        int_sum = np.sum(ints).round()
    return ints.astype(int)


def _round_rows(matrix: FloatArray) -> IntArray:
    return np.apply_along_axis(_round_preserving_sum, 1, matrix).astype(int)


def confident_thresholds(labels: IntArray, pred_probs: FloatArray) -> FloatArray:
    """Per class: mean p(k) over examples labelled k (2 where no example is), floored."""
    present = set(np.unique(labels).tolist())
    t = [
        np.mean(pred_probs[:, k][labels == k]) if k in present else 2
        for k in range(pred_probs.shape[1])
    ]
    return np.clip(t, a_min=THRESHOLD_LOWER_BOUND, a_max=None)


def confident_joint(labels: IntArray, pred_probs: FloatArray) -> IntArray:
    """The calibrated confident joint C[given, true] (cleanlab `compute_confident_joint`)."""
    n_k = pred_probs.shape[1]
    over = pred_probs >= confident_thresholds(labels, pred_probs) - 1e-6
    n_over = over.sum(axis=1)
    guess = np.where(n_over > 1, pred_probs.argmax(axis=1), over.argmax(axis=1))
    sure = n_over > 0
    cj = np.zeros((n_k, n_k), dtype=np.int64)
    np.add.at(cj, (labels[sure], guess[sure]), 1)
    np.fill_diagonal(cj, cj.diagonal().clip(min=1))
    counts = np.bincount(labels, minlength=n_k)
    cal = (cj.T / np.clip(cj.sum(axis=1), a_min=TINY_VALUE, a_max=None) * counts).T
    cal = cal / np.clip(np.sum(cal), a_min=TINY_VALUE, a_max=None) * sum(counts)
    return _round_rows(cal)


def _keep_at_least_one(prune: IntArray, n: int = 1) -> IntArray:
    diag = np.diagonal(prune)
    new_diag = np.maximum(diag, n)
    diff = new_diag - diag
    per_col = np.maximum(np.count_nonzero(prune, axis=0) - 1.0, 1.0)
    new = prune - diff / per_col
    new[new < 0] = 0
    np.fill_diagonal(new, new_diag)
    # frac_noise = 1: the reduction step only truncates to ints
    reduced = new * 1.0
    np.fill_diagonal(reduced, new.diagonal())
    np.fill_diagonal(reduced, new.diagonal() + np.sum(new - reduced, axis=0))
    return _round_rows(reduced.astype(int)).astype(int)


def find_label_issues(labels: IntArray, pred_probs: FloatArray) -> IntArray:
    """Indices of likely label errors, most likely first (lowest self-confidence)."""
    labels = np.asarray(labels, dtype=np.int64)
    pred_probs = np.asarray(pred_probs, dtype=np.float64)
    n_k = pred_probs.shape[1]
    prune = _keep_at_least_one(confident_joint(labels, pred_probs).T)
    mask = np.zeros(labels.size, dtype=bool)
    for k in range(n_k):
        in_k = labels == k
        probs = pred_probs[in_k]
        if probs.shape[0] <= 1:
            continue  # too few examples to prune (cleanlab warns)
        sub = np.zeros(probs.shape[0], dtype=bool)
        for j in range(n_k):
            count = prune[:, k][j]
            if k != j and count > 0:
                margin = probs[:, j] - probs[:, k]
                sub[np.argsort(-margin)[:count]] = True
        mask[in_k] = sub
    boosted = pred_probs.copy()
    boosted[np.arange(labels.size), labels] += FLOATING_POINT_COMPARISON
    mask[boosted.argmax(axis=1) == labels] = False
    scores = self_confidence(labels, pred_probs)
    idx = np.arange(labels.size)[mask]
    return np.asarray(idx[np.argsort(scores[mask])], dtype=np.int64)


def self_confidence(labels: IntArray, pred_probs: FloatArray) -> FloatArray:
    """p[given label]: cleanlab's default label quality score."""
    return np.asarray(pred_probs[np.arange(labels.shape[0]), labels], dtype=np.float64)
