"""Likely label errors: `suspects(dataset, predictions)` ranks the annotations a model's
out-of-sample predictions (and disagreeing annotators) most doubt, each with a score and a
reason; `SuspectsReport.subset()` is the dataset of their items, for review."""

from ._api import KINDS, SuspectsReport, suspects
from ._confident import confident_joint, find_label_issues, self_confidence
from ._find import Suspect, label_order, prediction_labels, probabilities

__all__ = [
    "KINDS",
    "Suspect",
    "SuspectsReport",
    "confident_joint",
    "find_label_issues",
    "label_order",
    "prediction_labels",
    "probabilities",
    "self_confidence",
    "suspects",
]
