"""Model in the loop: score predictions against ground truth.

`evaluate(gt, predictions)` gives COCO metrics (bbox, segm, keypoints: equal to pycocotools'
COCOeval), entity- and token-level span metrics (seqeval's), classification metrics
(scikit-learn's) and rating errors and correlations (scipy's), overall and by slice.
"""

from ._api import SLICE_KINDS, TASKS, evaluate, parse_slice, tasks_for
from ._cocoeval import STAT_NAMES, CocoEvalResult, Instances, Params
from ._errors import EvaluationInputError
from ._inputs import Inputs, category_order, pair
from ._report import EvaluationReport

__all__ = [
    "SLICE_KINDS",
    "STAT_NAMES",
    "TASKS",
    "CocoEvalResult",
    "EvaluationInputError",
    "EvaluationReport",
    "Inputs",
    "Instances",
    "Params",
    "category_order",
    "evaluate",
    "pair",
    "parse_slice",
    "tasks_for",
]
