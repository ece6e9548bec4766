"""Active learning: `sample(dataset, predictions, budget=N, strategy=...)` picks the unlabelled
items a model is least sure about (least confidence, margin, entropy, or disagreement between
models), optionally spread over strata, reproducibly from a seed."""

from ._api import Selection, sample
from ._scores import STRATEGIES, entropy, least_confidence, margin, vote_entropy

__all__ = [
    "STRATEGIES",
    "Selection",
    "entropy",
    "least_confidence",
    "margin",
    "sample",
    "vote_entropy",
]
