"""Uncertainty scores of active learning (Settles, "Active Learning Literature Survey", 2009).

Each takes predicted probabilities `p` [N, K] (rows sum to 1) and returns one score per item,
higher meaning "more worth labelling":

- least confidence: 1 - max_k p_k
- margin: 1 - (p_(1) - p_(2)), the gap between the two most likely labels turned around
- entropy: -sum_k p_k ln p_k (nats; 0 ln 0 = 0)
- disagreement (vote entropy): -sum_l (v_l / C) ln (v_l / C) over the labels l that C models
  (or committee members) voted for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def least_confidence(p: FloatArray) -> FloatArray:
    return np.asarray(1.0 - p.max(axis=1), dtype=np.float64)


def margin(p: FloatArray) -> FloatArray:
    if p.shape[1] < 2:
        return np.zeros(p.shape[0])
    top2 = -np.partition(-p, 1, axis=1)[:, :2]
    return np.asarray(1.0 - (top2[:, 0] - top2[:, 1]), dtype=np.float64)


def entropy(p: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(p), 0.0)
    return np.asarray(-terms.sum(axis=1) + 0.0, dtype=np.float64)


def vote_entropy(votes: Sequence[Sequence[str]]) -> FloatArray:
    out = np.zeros(len(votes))
    for i, v in enumerate(votes):
        if not v:
            continue
        c = np.array(list(Counter(v).values()), dtype=np.float64) / len(v)
        out[i] = -(c * np.log(c)).sum() + 0.0
    return out


STRATEGIES = ("least-confidence", "margin", "entropy", "disagreement")
