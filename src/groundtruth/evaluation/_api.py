"""`evaluate`: score predictions against ground truth, overall and by slice."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..dataset import Dataset
from ..models import AnnotationBase, Item
from ..quality._gc import paused_gc
from . import _cocoeval as ce
from ._classification import evaluate_classification, evaluate_ratings
from ._detection import evaluate_iou_type, iou_types_for, per_label
from ._errors import EvaluationInputError
from ._inputs import Inputs, category_order, pair
from ._report import EvaluationReport
from ._spans import evaluate_spans

if TYPE_CHECKING:
    from ..io._fs import PathLike

TASKS = ("bbox", "segm", "keypoints", "spans", "classification", "ratings")
SLICE_KINDS = ("split", "label", "annotator", "attribute", "field")
WORST = 10


def _open(src: Dataset | PathLike, fmt: str | None, options: Mapping[str, Any] | None) -> Dataset:
    if isinstance(src, Dataset):
        return src
    from ..api import load

    return load(src, format=fmt, **dict(options or {}))


def tasks_for(gt: Sequence[AnnotationBase]) -> list[str]:
    """What the ground truth can be scored on: detection IoU types, spans, classes, ratings."""
    types = {a.type for a in gt}  # type: ignore[attr-defined]
    out: list[str] = list(iou_types_for(gt))
    if "span" in types:
        out.append("spans")
    if "classification" in types:
        out.append("classification")
    if "rating" in types:
        out.append("ratings")
    return out


def _taxonomy_sigmas(inputs: Inputs) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for ls in inputs.manifest.taxonomy.label_sets:
        for lbl in ls.labels:
            oks = lbl.extensions.get("oks")
            if isinstance(oks, dict) and isinstance(oks.get("sigmas"), list):
                out[lbl.name] = [float(v) for v in oks["sigmas"]]
    return out


def _run(
    inputs: Inputs,
    tasks: Sequence[str],
    *,
    max_dets: Sequence[int] | None,
    sigmas: Mapping[str, Sequence[float]],
    notes: list[str],
    keep: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Every task's metrics on `inputs` (one slice or the whole)."""
    sections: dict[str, dict[str, Any]] = {}
    images = inputs.item_order()
    for task in tasks:
        if task in ("bbox", "segm", "keypoints"):
            cats = category_order(inputs.manifest, inputs.gt)
            res, g, d = evaluate_iou_type(
                inputs.gt, inputs.pred, task,  # type: ignore[arg-type]
                images=images, categories=cats, items=inputs.items, max_dets=max_dets,
                taxonomy_sigmas=sigmas, notes=notes, relabel=inputs.relabel,
            )  # fmt: skip
            names = ce.STAT_NAMES["keypoints" if task == "keypoints" else "detection"]
            n_gt_by = np.bincount(g.instances.category, minlength=len(cats))
            n_dt_by = np.bincount(d.instances.category, minlength=len(cats))
            rows = [
                {**r, "n_gt": int(n_gt_by[k]), "n_pred": int(n_dt_by[k])}
                for k, r in enumerate(per_label(res, cats))
                if n_gt_by[k] or n_dt_by[k]
            ]
            sec: dict[str, Any] = {
                "stats": {n: _clean(v) for n, v in zip(names, res.stats.tolist(), strict=True)},
                "max_dets": list(res.params.max_dets),
                "n_items": len(images),
                "n_gt": len(g.anns),
                "n_pred": len(d.anns),
                "n_pred_evaluated": int(res.dt_evaluated.sum()),
                "n_gt_crowd_or_ignored": int(
                    np.count_nonzero(_or(g.instances.iscrowd, g.instances.ignore))
                ),
                "per_label": rows,
                "worst_items": _worst_detection(res, g, d, images),
            }
            zeros = g.instances.id_zero
            zero = int(np.count_nonzero(zeros)) if zeros is not None else 0
            if zero:
                sec["ground_truth_id_zero"] = zero
                notes.append(
                    f"{task}: {zero} ground-truth annotations have COCO id 0; as in pycocotools "
                    "a detection matching one counts as a false positive (renumber them from 1)"
                )
            if g.skipped or d.skipped:
                sec["skipped_mask_uris"] = {"ground_truth": g.skipped, "predictions": d.skipped}
            sections[task] = sec
            if keep is not None:
                keep[task] = res
        elif task == "spans":
            sec, rows = evaluate_spans(inputs.gt, inputs.pred, inputs.items)
            rows.sort(key=lambda r: (-(r["missed"] + r["spurious"]), r["item_id"]))
            sec["worst_items"] = rows[:WORST]
            sections[task] = sec
        elif task == "classification":
            sec, rows = evaluate_classification(inputs.gt, inputs.pred, inputs.manifest)
            wrong = [r for r in rows if r["true"] != r["predicted"]]
            wrong.sort(key=lambda r: (-(r["confidence"] or 0.0), r["item_id"]))
            sec["worst_items"] = wrong[:WORST]
            sections[task] = sec
        elif task == "ratings":
            sec, rows = evaluate_ratings(inputs.gt, inputs.pred)
            rows.sort(key=lambda r: (-abs(r["predicted"] - r["true"]), r["item_id"]))
            sec["worst_items"] = rows[:WORST]
            sections[task] = sec
    return sections


def _or(a: Any, b: Any) -> Any:
    return np.logical_or(a, b)


def _clean(v: float) -> float | None:
    return None if v == -1 else float(v)


def _worst_detection(
    res: ce.CocoEvalResult, g: Any, d: Any, images: Sequence[str]
) -> list[dict[str, Any]]:
    """Items with the most errors at IoU 0.5 (area all): regular ground truth no detection
    matched, and detections matching nothing (weighted by their score)."""
    match = res.dt_match[0]
    ignored = res.dt_ignored[0]
    gi = g.instances
    regular = ~_or(gi.iscrowd, gi.ignore)
    matched_gt = np.zeros(len(gi), dtype=bool)
    matched_gt[match[match >= 0]] = True
    missed = np.bincount(gi.image[regular & ~matched_gt], minlength=len(images))
    fp_mask = res.dt_evaluated & (match < 0) & ~ignored
    di = d.instances
    score = di.score if di.score is not None else np.ones(len(di))
    fp = np.bincount(di.image[fp_mask], minlength=len(images))
    fp_w = np.bincount(di.image[fp_mask], weights=score[fp_mask], minlength=len(images))
    bad = missed + fp_w
    order = [i for i in np.argsort(-bad, kind="mergesort") if bad[i] > 0][:WORST]
    return [
        {"item_id": images[i], "missed": int(missed[i]), "false_positives": int(fp[i]),
         "error": float(bad[i])}
        for i in order
    ]  # fmt: skip


# -- slices ---------------------------------------------------------------------------------------


def parse_slice(spec: str) -> tuple[str, str | None]:
    """`split`, `label`, `annotator`, `attribute:NAME`, `field:NAME` -> (kind, name)."""
    kind, _, name = spec.partition(":")
    if kind not in SLICE_KINDS or (kind in ("attribute", "field")) != bool(name):
        raise EvaluationInputError(
            f"unknown slice {spec!r}",
            hint="use split, label, annotator, attribute:NAME (an annotation attribute) or "
            "field:NAME (an item field or metadata key)",
        )
    return kind, name or None


def _item_value(item: Item, name: str) -> Any:
    if name in Item.model_fields and name not in ("metadata", "extensions"):
        return getattr(item, name)
    return item.metadata.get(name)


def _key(v: Any) -> str:
    return "(none)" if v is None else str(v)


def _slice_inputs(inputs: Inputs, kind: str, name: str | None) -> dict[str, Inputs]:
    if kind in ("split", "field"):
        field = "split" if kind == "split" else str(name)
        groups: dict[str, set[str]] = defaultdict(set)
        for iid, item in inputs.items.items():
            groups[_key(_item_value(item, field))].add(iid)
        return {v: _subset(inputs, ids, None) for v, ids in sorted(groups.items())}
    gt_groups: dict[str, list[AnnotationBase]] = defaultdict(list)
    for a in inputs.gt:
        v = a.annotator if kind == "annotator" else a.attributes.get(str(name))
        gt_groups[_key(v)].append(a)
    return {
        v: _subset(inputs, {a.item_id for a in anns}, anns)
        for v, anns in sorted(gt_groups.items())
    }


def _subset(inputs: Inputs, ids: set[str], gt: list[AnnotationBase] | None) -> Inputs:
    return Inputs(
        items={k: v for k, v in inputs.items.items() if k in ids},
        gt=gt if gt is not None else [a for a in inputs.gt if a.item_id in ids],
        pred=[a for a in inputs.pred if a.item_id in ids],
        manifest=inputs.manifest,
        relabel=inputs.relabel,
    )


HEADLINE = {
    "bbox": ("AP", "AP50"),
    "segm": ("AP", "AP50"),
    "keypoints": ("AP", "AP50"),
}


def headline(task: str, sec: Mapping[str, Any]) -> dict[str, Any]:
    """The figures a slice table shows for a task."""
    if task in HEADLINE:
        return {f"{task}.{k}": sec["stats"].get(k) for k in HEADLINE[task]}
    if task == "classification":
        return {"classification.accuracy": sec["accuracy"],
                "classification.macro_f1": sec["macro"]["f1"]}  # fmt: skip
    if task == "spans":
        return {"spans.f1": sec["micro"]["f1"], "spans.token_accuracy": sec["token"]["accuracy"]}
    return {"ratings.mae": sec["mae"], "ratings.pearson": sec["pearson"]}


def _label_rows(sections: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for task, sec in sections.items():
        for r in sec.get("per_label", []):
            row = rows.setdefault(r["label"], {"by": "label", "value": r["label"], "counts": {},
                                               "metrics": {}})  # fmt: skip
            if task in HEADLINE:
                row["counts"][f"{task}.n_gt"] = r["n_gt"]
                row["counts"][f"{task}.n_pred"] = r["n_pred"]
                row["metrics"][f"{task}.AP"] = r["AP"]
                row["metrics"][f"{task}.AP50"] = r["AP50"]
            else:
                row["counts"][f"{task}.support"] = r["support"]
                row["metrics"][f"{task}.f1"] = r["f1"]
    return [rows[k] for k in sorted(rows)]


def evaluate(
    ground_truth: Dataset | PathLike,
    predictions: Dataset | PathLike | None = None,
    *,
    model: str | None = None,
    tasks: Sequence[str] | None = None,
    by: Sequence[str] = (),
    max_dets: Sequence[int] | None = None,
    sigmas: Mapping[str, Sequence[float]] | None = None,
    gt_format: str | None = None,
    pred_format: str | None = None,
    gt_options: Mapping[str, Any] | None = None,
    pred_options: Mapping[str, Any] | None = None,
) -> EvaluationReport:
    """Score predictions against ground truth.

    Args:
        ground_truth: a Dataset, or a path/URL of any format the SDK reads.
        predictions: the model's output (a Dataset or path, e.g. a COCO results file); omit
            it and name `model` to use that annotator's annotations in `ground_truth`.
        model: the predicting annotator's id (filters `predictions` when both are given).
        tasks: any of `bbox`, `segm`, `keypoints`, `spans`, `classification`, `ratings`;
            default every task the ground truth supports.
        by: slices, each `split`, `label`, `annotator`, `attribute:NAME` or `field:NAME`.
        max_dets: COCO's per-image detection caps (default 1, 10, 100; keypoints 20).
        sigmas: OKS sigmas per keypoint label (else the label's `extensions.oks.sigmas`,
            COCO person's for 17 points, else 0.05 each).

    Returns an `EvaluationReport` (`.sections[task]`, `.slices`, `.to_dict()`, `.to_text()`,
    `.to_markdown()`); `.coco[iou_type]` holds COCOeval's arrays (`precision`, `recall`,
    `stats`). Raises `EvaluationInputError` for input that cannot be scored as asked.
    """
    gt_ds = _open(ground_truth, gt_format, gt_options)
    pred_ds = None if predictions is None else _open(predictions, pred_format, pred_options)
    with paused_gc():  # no cycles are made; full collections over every annotation cost 2x
        return _evaluate(gt_ds, pred_ds, model, tasks, by, max_dets, sigmas)


def _evaluate(
    gt_ds: Dataset,
    pred_ds: Dataset | None,
    model: str | None,
    tasks: Sequence[str] | None,
    by: Sequence[str],
    max_dets: Sequence[int] | None,
    sigmas: Mapping[str, Sequence[float]] | None,
) -> EvaluationReport:
    inputs = pair(gt_ds, pred_ds, model=model)
    supported = tasks_for(inputs.gt)
    if tasks is None:
        offered = tasks_for(inputs.pred)
        chosen = [t for t in supported if t in offered]
        if not chosen and supported:
            raise EvaluationInputError(
                f"the predictions have nothing to score against this ground truth "
                f"(ground truth: {', '.join(supported)}; predictions: "
                f"{', '.join(offered) or 'no scorable annotations'})",
                hint="check that the predictions are the model output for this task",
            )
    else:
        unknown = [t for t in tasks if t not in TASKS]
        if unknown:
            raise EvaluationInputError(
                f"unknown task {unknown[0]!r}", hint=f"tasks: {', '.join(TASKS)}"
            )
        missing = [t for t in tasks if t not in supported]
        if missing:
            raise EvaluationInputError(
                f"the ground truth has nothing to score for {missing[0]!r}",
                hint=f"it supports: {', '.join(supported) or 'nothing (no annotations)'}",
            )
        chosen = list(tasks)
    if not chosen:
        raise EvaluationInputError(
            "the ground truth has no annotation evaluate can score",
            hint="evaluate scores boxes, polygons, masks, keypoints, spans, classifications "
            "and ratings",
        )
    parsed = [parse_slice(s) for s in by]
    notes = list(inputs.notes)
    tax_sigmas: dict[str, Sequence[float]] = {**_taxonomy_sigmas(inputs), **dict(sigmas or {})}
    coco: dict[str, ce.CocoEvalResult] = {}
    sections = _run(inputs, chosen, max_dets=max_dets, sigmas=tax_sigmas, notes=notes, keep=coco)
    scoreless = sum(1 for a in inputs.pred if a.confidence is None)
    if scoreless and any(t in HEADLINE for t in chosen):
        notes.append(f"{scoreless} predictions have no confidence; ranked as 1.0")
    slices: list[dict[str, Any]] = []
    for kind, name in parsed:
        spec = kind if name is None else f"{kind}:{name}"
        if kind == "label":
            slices.extend(_label_rows(sections))
            continue
        for value, sub in _slice_inputs(inputs, kind, name).items():
            sub_tasks = [t for t in chosen if t in tasks_for(sub.gt)]
            secs = _run(sub, sub_tasks, max_dets=max_dets, sigmas=tax_sigmas, notes=[])
            metrics: dict[str, Any] = {}
            for t, s in secs.items():
                metrics.update(headline(t, s))
            slices.append(
                {
                    "by": spec,
                    "value": value,
                    "counts": {
                        "items": len(sub.items),
                        "ground_truth": len(sub.gt),
                        "predictions": len(sub.pred),
                    },
                    "metrics": metrics,
                }
            )
    counts = {
        "items": len(inputs.items),
        "ground_truth_annotations": len(inputs.gt),
        "predictions": len(inputs.pred),
        **inputs.counts,
    }
    return EvaluationReport(
        ground_truth=gt_ds.source, predictions=None if pred_ds is None else pred_ds.source,
        model=model, sections=sections, slices=slices, counts=counts, notes=notes, coco=coco,
        _inputs=inputs,
    )  # fmt: skip
