"""`sample`: choose the unlabelled items a model is least sure about, for labelling next.

The pool is every item with no annotation from a person (or any non-model annotator); the
model's predictions give each pool item a score (`_scores`). Classification predictions give a
probability per label (`attributes.probabilities`, or one prediction per label with its
confidence); any other prediction (box, span, ...) with confidence c counts as the two-way
distribution (c, 1 - c), and an item scores as its most uncertain prediction. Ties are broken
by a random order drawn from `seed`, so a selection is reproducible. With `stratify`, the budget
is spread round-robin over strata (predicted class, or a cluster column of the items), each
giving its best remaining item in turn.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..dataset import Dataset
from ..diff._inert import plain
from ..evaluation import EvaluationInputError, pair
from ..label_errors import label_order, prediction_labels, probabilities
from . import _scores as S

if TYPE_CHECKING:
    from ..io._fs import PathLike
    from ..models import AnnotationBase, Item

NS = "sample"


@dataclass
class Selection:
    """The chosen items, best first, with their scores and what was left out."""

    strategy: str
    budget: int
    seed: int
    stratify: str | None
    picked: list[dict[str, Any]]
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    _dataset: Dataset | None = field(default=None, repr=False)
    _predictions: list[AnnotationBase] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy, "budget": self.budget, "seed": self.seed,
            "stratify": self.stratify, "counts": self.counts, "picked": self.picked,
            "notes": self.notes,
        }  # fmt: skip

    def to_text(self) -> str:
        lines = [
            f"sample: {len(self.picked)} of {self.counts.get('pool', 0)} unlabelled items by "
            f"{self.strategy}" + (f", stratified by {plain(self.stratify)}" if self.stratify
                                  else "")
            + f" (seed {self.seed})",
            "  " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in self.counts.items()),
        ]
        lines.extend(
            # ids, labels and strata are data: inert on a terminal
            f"  {p['rank']:>4}. {p['score']:.4f}  {plain(p['item_id'])}  predicted "
            f"{plain(p['predicted'])}" + (f"  [{plain(p['stratum'])}]" if self.stratify else "")
            for p in self.picked
        )
        lines.extend(f"note: {plain(n)}" for n in self.notes)
        return "\n".join(lines)

    def subset(self) -> Dataset:
        """The chosen items (in order, each with `extensions.sample` rank and score) and the
        model's predictions on them, as a native dataset."""
        ds = self._dataset
        if ds is None:
            raise ValueError("this selection was not built from a dataset")
        by_id = ds.items_by_id()
        items = []
        for p in self.picked:
            item = by_id[p["item_id"]]
            ext = {**item.extensions, NS: {"rank": p["rank"], "score": p["score"],
                                           "strategy": self.strategy}}  # fmt: skip
            items.append(item.model_copy(update={"extensions": ext}))
        keep = {it.id for it in items}
        anns = [a for a in self._predictions if a.item_id in keep]
        manifest = ds.manifest.model_copy(deep=True)
        manifest.name = f"{manifest.name or 'dataset'}-sample"
        manifest.description = (
            f"{len(items)} unlabelled items chosen by {self.strategy} (gt sample, seed "
            f"{self.seed}); the annotations are the model's predictions"
        )
        from ..models import Annotator

        known = {a.id for a in manifest.annotators}
        for a in anns:
            if a.annotator and a.annotator not in known:
                manifest.annotators.append(Annotator(id=a.annotator, kind="model"))
                known.add(a.annotator)
        return Dataset(manifest, items, anns)


def _open(src: Dataset | PathLike, fmt: str | None, options: Mapping[str, Any] | None) -> Dataset:
    if isinstance(src, Dataset):
        return src
    from ..api import load

    return load(src, format=fmt, **dict(options or {}))


def _binary(c: float) -> np.ndarray[Any, Any]:
    return np.array([[c, 1.0 - c]])


def _item_scores(
    pool: Sequence[str], pred: Sequence[AnnotationBase], strategy: str, labels: Sequence[str],
    notes: list[str],
) -> tuple[dict[str, float], dict[str, str]]:
    """Score and predicted label of every pool item with predictions."""
    fn = {"least-confidence": S.least_confidence, "margin": S.margin, "entropy": S.entropy}
    by_item: dict[str, list[AnnotationBase]] = defaultdict(list)
    for a in pred:
        by_item[a.item_id].append(a)
    scores: dict[str, float] = {}
    predicted: dict[str, str] = {}
    in_pool = [i for i in pool if i in by_item]
    if strategy == "disagreement":
        models = sorted({a.annotator or "" for a in pred})
        if len(models) < 2:
            raise EvaluationInputError(
                "disagreement needs predictions from two or more models (annotators); "
                f"found {', '.join(models) or 'none'}",
                hint="give predictions from several models (or committee members), or use "
                "least-confidence, margin or entropy",
            )
        votes = []
        for i in in_pool:
            top: dict[str, AnnotationBase] = {}
            for a in by_item[i]:
                cur = top.get(a.annotator or "")
                if cur is None or (a.confidence or 0.0) > (cur.confidence or 0.0):
                    top[a.annotator or ""] = a
            votes.append([str(a.label) for a in top.values()])
        for i, v, s in zip(in_pool, votes, S.vote_entropy(votes), strict=True):
            scores[i] = float(s)
            predicted[i] = max(set(v), key=lambda x: (v.count(x), x)) if v else ""
        return scores, predicted
    cls = [a for a in pred if a.type == "classification"]  # type: ignore[attr-defined]
    probs = probabilities(cls, labels, notes) if cls and labels else {}
    for i in in_pool:
        if i in probs:
            row = probs[i][None, :]
            scores[i] = float(fn[strategy](row)[0])
            predicted[i] = labels[int(row.argmax())]
            continue
        best, best_label = -1.0, ""
        for a in by_item[i]:
            c = a.confidence if a.confidence is not None else 1.0
            s = float(fn[strategy](_binary(c))[0])
            if s > best:
                best, best_label = s, str(a.label)
        scores[i] = best
        predicted[i] = best_label
    return scores, predicted


def _stratum(item: Item, predicted: str, stratify: str) -> str:
    if stratify == "predicted-class":
        return predicted
    name = stratify.split(":", 1)[1]
    from ..models import Item as ItemModel

    if name in ItemModel.model_fields and name not in ("metadata", "extensions"):
        v = getattr(item, name)
    else:
        v = item.metadata.get(name)
    return "(none)" if v is None else str(v)


def sample(
    dataset: Dataset | PathLike,
    predictions: Dataset | PathLike | None = None,
    *,
    budget: int,
    strategy: str = "least-confidence",
    model: str | None = None,
    stratify: str | None = None,
    seed: int = 0,
    gt_format: str | None = None,
    pred_format: str | None = None,
    gt_options: Mapping[str, Any] | None = None,
    pred_options: Mapping[str, Any] | None = None,
) -> Selection:
    """Choose up to `budget` unlabelled items to label next.

    Args:
        dataset: the pool and what is labelled already (any readable format).
        predictions: the model's predictions on the pool (or name `model` in `dataset`).
        budget: how many items to choose (fewer when the pool is smaller).
        strategy: `least-confidence`, `margin`, `entropy` or `disagreement` (between the
            predictions of two or more model annotators: vote entropy).
        stratify: `predicted-class`, or `field:NAME` (an item field or metadata key, e.g. a
            cluster id): spread the budget round-robin over those groups.
        seed: breaks ties between equal scores; the same seed gives the same selection.
    """
    if strategy not in S.STRATEGIES:
        raise EvaluationInputError(
            f"unknown strategy {strategy!r}", hint=f"strategies: {', '.join(S.STRATEGIES)}"
        )
    if budget < 1:
        raise EvaluationInputError("the budget must be at least 1 item", hint="e.g. --budget 100")
    if stratify is not None and stratify != "predicted-class" and not (
        stratify.startswith("field:") and len(stratify) > 6
    ):
        raise EvaluationInputError(
            f"unknown stratification {stratify!r}", hint="use predicted-class or field:NAME"
        )
    ds = _open(dataset, gt_format, gt_options)
    pred_ds = None if predictions is None else _open(predictions, pred_format, pred_options)
    inputs = pair(ds, pred_ds, model=model)
    labelled = {a.item_id for a in inputs.gt}
    pool = sorted(i for i in inputs.items if i not in labelled)
    notes = list(inputs.notes)
    seen = prediction_labels(inputs.pred)
    labels = label_order(inputs.manifest, seen)
    scores, predicted = _item_scores(pool, inputs.pred, strategy, labels, notes)
    ids = list(scores)
    rng = np.random.default_rng(seed)
    ties = rng.permutation(len(ids))
    order = np.lexsort((ties, -np.array([scores[i] for i in ids]))) if ids else np.zeros(0, int)
    ranked = [ids[k] for k in order]
    if stratify:
        strata: dict[str, list[str]] = defaultdict(list)
        for i in ranked:
            strata[_stratum(inputs.items[i], predicted[i], stratify)].append(i)
        queues = sorted(strata.values(), key=lambda q: ranked.index(q[0]))
        chosen: list[str] = []
        depth = 0
        while len(chosen) < budget and any(depth < len(q) for q in queues):
            chosen.extend(q[depth] for q in queues if depth < len(q))
            depth += 1
        chosen = chosen[:budget]
    else:
        chosen = ranked[:budget]
    picked = [
        {"rank": r, "item_id": i, "score": scores[i], "predicted": predicted[i],
         **({"stratum": _stratum(inputs.items[i], predicted[i], stratify)} if stratify else {})}
        for r, i in enumerate(chosen, 1)
    ]  # fmt: skip
    counts = {
        "items": len(inputs.items),
        "labelled": len(labelled & set(inputs.items)),
        "pool": len(pool),
        "pool_without_predictions": len(pool) - len(ids),
        "picked": len(picked),
    }
    if not pool:
        notes.append("every item is labelled already: nothing to sample")
    elif len(picked) < budget:
        notes.append(f"the pool has only {len(ids)} items with predictions; picked them all")
    return Selection(
        strategy=strategy, budget=budget, seed=seed, stratify=stratify, picked=picked,
        counts=counts, notes=notes, _dataset=ds, _predictions=inputs.pred,
    )  # fmt: skip
