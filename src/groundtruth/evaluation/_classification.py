"""Classification metrics (scikit-learn's definitions) and rating metrics (scipy's).

Classification: one true label per item and label set (items whose ground-truth annotators
disagree are left out and counted), the prediction of highest confidence per item; accuracy,
per-class precision/recall/F1/support with `zero_division=0`, macro, micro and support-weighted
averages, and the confusion matrix (rows true, columns predicted) over the labels seen.

Ratings: the mean ground-truth value per item and criterion against the prediction; MAE, RMSE,
Pearson's r and Spearman's rho (Pearson on average ranks, as `scipy.stats.spearmanr`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ..models import AnnotationBase, Manifest

FloatArray = npt.NDArray[np.float64]


def _div(a: FloatArray, b: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)


def classification_metrics(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, per-class and averaged precision/recall/F1 and the confusion matrix."""
    index = {name: i for i, name in enumerate(labels)}
    n = len(labels)
    t = np.fromiter((index[v] for v in y_true), dtype=np.int64, count=len(y_true))
    p = np.fromiter((index[v] for v in y_pred), dtype=np.int64, count=len(y_pred))
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1).astype(np.float64)
    predicted = cm.sum(axis=0).astype(np.float64)
    precision = _div(tp, predicted)
    recall = _div(tp, support)
    f1 = _div(2 * tp, support + predicted)  # sklearn's F1: 2tp / (2tp + fp + fn)
    total_tp, total = tp.sum(), float(len(t))
    micro_p = float(_div(np.array([total_tp]), np.array([predicted.sum()]))[0])
    micro_r = float(_div(np.array([total_tp]), np.array([support.sum()]))[0])
    micro_f1 = float(_div(np.array([2 * total_tp]), np.array([support.sum() + predicted.sum()]))[0])
    weights = support / support.sum() if support.sum() else np.zeros(n)
    return {
        "n": int(total),
        "accuracy": float(total_tp / total) if total else None,
        "labels": list(labels),
        "per_label": [
            {
                "label": name,
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
                "predicted": int(predicted[i]),
            }
            for i, name in enumerate(labels)
        ],
        "macro": {
            "precision": float(precision.mean()) if n else None,
            "recall": float(recall.mean()) if n else None,
            "f1": float(f1.mean()) if n else None,
        },
        "micro": {"precision": micro_p, "recall": micro_r, "f1": micro_f1},
        "weighted": {
            "precision": float((precision * weights).sum()),
            "recall": float((recall * weights).sum()),
            "f1": float((f1 * weights).sum()),
        },
        "confusion_matrix": cm.tolist(),
    }


def _label_order(manifest: Manifest, seen: set[str]) -> list[str]:
    order: list[str] = []
    for ls in manifest.taxonomy.label_sets:
        order.extend(lbl.name for lbl in ls.labels if lbl.name in seen and lbl.name not in order)
    return order + sorted(seen - set(order))


def evaluate_classification(
    gt: Sequence[AnnotationBase], pred: Sequence[AnnotationBase], manifest: Manifest
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Metrics and the per-item outcomes (item, true, predicted, confidence) of classification
    annotations; items without a prediction or with disagreeing ground truth are counted."""
    truth: dict[str, set[str]] = defaultdict(set)
    for a in gt:
        if a.type == "classification" and a.label is not None:  # type: ignore[attr-defined]
            truth[a.item_id].add(a.label)
    best: dict[str, AnnotationBase] = {}
    for a in pred:
        if a.type != "classification" or a.label is None:  # type: ignore[attr-defined]
            continue
        cur = best.get(a.item_id)
        if cur is None or (a.confidence or 0.0) > (cur.confidence or 0.0):
            best[a.item_id] = a
    rows: list[dict[str, Any]] = []
    ambiguous = unpredicted = 0
    for item_id in sorted(truth):
        labels = truth[item_id]
        if len(labels) > 1:
            ambiguous += 1
            continue
        hit = best.get(item_id)
        if hit is None:
            unpredicted += 1
            continue
        rows.append(
            {
                "item_id": item_id,
                "true": next(iter(labels)),
                "predicted": hit.label,
                "confidence": hit.confidence,
            }
        )
    seen = {r["true"] for r in rows} | {r["predicted"] for r in rows}
    order = _label_order(manifest, seen)
    out = classification_metrics([r["true"] for r in rows], [r["predicted"] for r in rows], order)
    out["items_with_disagreeing_ground_truth"] = ambiguous
    out["items_without_prediction"] = unpredicted
    out["predictions_without_ground_truth"] = sum(1 for k in best if k not in truth)
    return out, rows


# -- ratings ------------------------------------------------------------------------------------


def rankdata(x: FloatArray) -> FloatArray:
    """Average ranks from 1 (`scipy.stats.rankdata(method="average")`)."""
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    new = np.r_[True, xs[1:] != xs[:-1]]
    group = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:], xs.size]
    avg = (starts + ends + 1) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(x.size)
    ranks[order] = avg[group]
    return ranks


def pearson(x: FloatArray, y: FloatArray) -> float | None:
    """Pearson's r; None when either side is constant or there are fewer than 2 pairs."""
    if x.size < 2:
        return None
    xm, ym = x - x.mean(), y - y.mean()
    nx, ny = np.linalg.norm(xm), np.linalg.norm(ym)
    if nx == 0 or ny == 0:
        return None
    return float(np.clip(np.dot(xm / nx, ym / ny), -1.0, 1.0))


def rating_metrics(true: FloatArray, pred: FloatArray) -> dict[str, Any]:
    """MAE, RMSE, Pearson and Spearman correlation of paired values."""
    err = pred - true
    return {
        "n": int(true.size),
        "mae": float(np.abs(err).mean()) if true.size else None,
        "rmse": float(np.sqrt((err**2).mean())) if true.size else None,
        "pearson": pearson(true, pred),
        "spearman": pearson(rankdata(true), rankdata(pred)) if true.size >= 2 else None,
    }


def evaluate_ratings(
    gt: Sequence[AnnotationBase], pred: Sequence[AnnotationBase]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Pair ratings by (item, criterion label); ground truth from several annotators is
    averaged, several predictions too."""
    t: dict[tuple[str, str | None], list[float]] = defaultdict(list)
    p: dict[tuple[str, str | None], list[float]] = defaultdict(list)
    for src, dst in ((gt, t), (pred, p)):
        for a in src:
            if a.type == "rating":  # type: ignore[attr-defined]
                dst[(a.item_id, a.label)].append(float(a.value))  # type: ignore[attr-defined]
    keys = sorted(k for k in t if k in p)
    true = np.array([np.mean(t[k]) for k in keys], dtype=np.float64)
    guess = np.array([np.mean(p[k]) for k in keys], dtype=np.float64)
    out = rating_metrics(true, guess)
    out["ratings_without_prediction"] = sum(1 for k in t if k not in p)
    rows = [
        {"item_id": k[0], "criterion": k[1], "true": float(a), "predicted": float(b)}
        for k, a, b in zip(keys, true, guess, strict=True)
    ]
    return out, rows
