"""Which annotations are ground truth, which are predictions, and how they meet.

Predictions come from a second dataset (any format the SDK reads) or from the same dataset
(`model=NAME`: the annotations of annotator NAME). They meet the ground truth by item id; labels
meet by name, or by COCO category id where a results file names categories only by number.
Whatever does not meet is counted, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..dataset import Dataset, natural_key
from ..models import AnnotationBase, Item, Manifest
from ._errors import EvaluationInputError

COCO = "coco"


@dataclass
class Inputs:
    """Ground truth and predictions, paired by item."""

    items: dict[str, Item]
    gt: list[AnnotationBase]
    pred: list[AnnotationBase]
    manifest: Manifest
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    relabel: dict[str, str] = field(default_factory=dict)
    """Prediction label -> ground-truth label, where a results file names COCO category ids
    (`category 18` -> `dog`); applied where labels are compared, the annotations untouched."""

    def item_order(self) -> list[str]:
        """Items in evaluation order: numeric ids by value, then the rest by text (COCOeval
        sorts image ids; the order decides ties between equal scores on different images)."""
        return sorted(self.items, key=natural_key)


def _category_ids(manifest: Manifest) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ls in manifest.taxonomy.label_sets:
        ext = ls.extensions.get(COCO)
        if isinstance(ext, dict) and isinstance(ext.get("category_ids"), dict):
            out.update(ext["category_ids"])
    return out


def _model_annotators(manifest: Manifest) -> set[str]:
    return {a.id for a in manifest.annotators if a.kind == "model"}


def pair(
    ground_truth: Dataset,
    predictions: Dataset | None,
    *,
    model: str | None = None,
) -> Inputs:
    """Split and pair: ground truth is every annotation of `ground_truth` not made by a model
    annotator (nor by `model`); predictions are `predictions`' annotations (those of `model`
    when given) or, without `predictions`, the annotations of `model` in `ground_truth`."""
    models = _model_annotators(ground_truth.manifest)
    relabel: dict[str, str] = {}
    if model is not None:
        models.add(model)
    gt = [a for a in ground_truth.annotations if a.annotator not in models]
    counts: dict[str, int] = {}
    notes: list[str] = []
    if predictions is None:
        if model is None:
            raise EvaluationInputError(
                "no predictions: give a predictions file or dataset, or name the model whose "
                "annotations in the ground-truth dataset are the predictions",
                hint="gt evaluate GROUND_TRUTH PREDICTIONS, or gt evaluate DATASET --model NAME",
            )
        pred = [a for a in ground_truth.annotations if a.annotator == model]
        if not pred:
            known = sorted({a.annotator for a in ground_truth.annotations if a.annotator})
            raise EvaluationInputError(
                f"no annotation in the dataset is by annotator {model!r}",
                hint=f"annotators with annotations: {', '.join(known) or 'none'}",
            )
    else:
        pred = list(predictions.annotations)
        if model is not None:
            pred = [a for a in pred if a.annotator == model]
            if not pred:
                raise EvaluationInputError(
                    f"no prediction is by annotator {model!r}",
                    hint="drop --model to use every annotation of the predictions",
                )
        relabel = _relabel(pred, ground_truth.manifest, predictions.manifest, counts)
    items = {it.id: it for it in ground_truth.items}
    known_items = [a for a in pred if a.item_id in items]
    counts["predictions_on_unknown_items"] = len(pred) - len(known_items)
    if pred and not known_items:
        sample = ", ".join(sorted({a.item_id for a in pred})[:3])
        raise EvaluationInputError(
            f"no prediction is on an item of the ground truth (prediction items: {sample}, ...)",
            hint="predictions meet ground truth by item id: check that both name items alike",
        )
    if counts["predictions_on_unknown_items"]:
        notes.append(
            f"{counts['predictions_on_unknown_items']} predictions are on items the ground "
            "truth does not have; left out"
        )
    known_labels = {a.label for a in gt} | {
        lbl.name for ls in ground_truth.manifest.taxonomy.label_sets for lbl in ls.labels
    }
    unknown = [
        a for a in known_items
        if a.label is not None and relabel.get(a.label, a.label) not in known_labels
    ]  # fmt: skip
    counts["predictions_with_unknown_labels"] = len(unknown)
    if unknown:
        names = ", ".join(sorted({str(a.label) for a in unknown})[:5])
        notes.append(
            f"{len(unknown)} predictions have labels the ground truth does not know ({names}); "
            "they count as wrong for classes and spans and are left out of COCO metrics, as "
            "pycocotools leaves out unknown categories"
        )
    return Inputs(items, gt, known_items, ground_truth.manifest, counts, notes, relabel)


def _relabel(
    pred: list[AnnotationBase], gt_manifest: Manifest, pred_manifest: Manifest,
    counts: dict[str, int],
) -> dict[str, str]:
    """The ground truth's names for prediction labels that are COCO category numbers
    (`category 18`), by category id."""
    gt_ids = _category_ids(gt_manifest)
    pred_ids = _category_ids(pred_manifest)
    if not gt_ids or not pred_ids:
        return {}
    by_id = {str(v): k for k, v in gt_ids.items()}
    rename = {
        name: by_id[str(cid)] for name, cid in pred_ids.items()
        if name not in gt_ids and str(cid) in by_id
    }  # fmt: skip
    if rename:
        counts["predictions_relabelled_by_category_id"] = sum(1 for a in pred if a.label in rename)
    return rename


def category_order(manifest: Manifest, anns: Sequence[AnnotationBase]) -> list[str]:
    """Labels in COCO category id order where the taxonomy has ids, else taxonomy order; labels
    used by annotations but missing from the taxonomy follow, sorted."""
    ids = _category_ids(manifest)
    used = {a.label for a in anns if a.label is not None}
    names: list[str] = []
    for ls in manifest.taxonomy.label_sets:
        names.extend(lbl.name for lbl in ls.labels if lbl.name not in names)
    if ids:
        names.sort(key=lambda n: (n not in ids, _num(ids.get(n))))
    names.extend(sorted(used - set(names)))
    return names


def _num(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("inf")
