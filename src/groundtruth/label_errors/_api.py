"""`suspects`: rank the annotations most likely wrong, and cut a dataset of their items."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..dataset import Dataset
from ..diff._inert import md, plain
from ..evaluation import EvaluationInputError, pair
from ..models import Annotator
from ._find import (
    Suspect,
    box_suspects,
    classification_suspects,
    disagreement_suspects,
    span_suspects,
)

if TYPE_CHECKING:
    from ..io._fs import PathLike
    from ..models import AnnotationBase

KINDS = ("classification", "spans", "boxes")
NS = "suspects"


@dataclass
class SuspectsReport:
    """Suspects ranked most likely wrong first, with counts and notes."""

    dataset: str | None
    predictions: str | None
    model: str | None
    suspects: list[Suspect]
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    _ground_truth: Dataset | None = field(default=None, repr=False)
    _predictions: list[AnnotationBase] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "predictions": self.predictions,
            "model": self.model,
            "counts": self.counts,
            "suspects": [s.to_dict() for s in self.suspects],
            "notes": self.notes,
        }

    def to_text(self, limit: int | None = 50) -> str:
        # ids, labels, names and reasons (which quote labels) are data: inert on a terminal
        head = (f"suspects in {plain(self.dataset)} (evidence: "
                f"{plain(self.predictions or self.model)})")
        lines = [head, "  " + ", ".join(f"{k.replace('_', ' ')} {v}"
                                        for k, v in self.counts.items())]  # fmt: skip
        shown = self.suspects if limit is None else self.suspects[:limit]
        for rank, s in enumerate(shown, 1):
            where = plain(s.item_id) + (f"/{plain(s.annotation_id)}" if s.annotation_id else "")
            lines.append(f"  {rank:>4}. {s.score:.3f}  {plain(s.issue):<20} {where}: "
                         f"{plain(s.reason)}")
        if len(shown) < len(self.suspects):
            lines.append(f"  ... {len(self.suspects) - len(shown)} more (--format json lists all)")
        lines.extend(f"note: {plain(n)}" for n in self.notes)
        return "\n".join(lines)

    def to_markdown(self, limit: int | None = 50) -> str:
        # every data string through `md`: no HTML, link, image, mention or `|` from a label
        lines = [f"## Suspects in {md(self.dataset)}", "",
                 ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in self.counts.items()), "",
                 "| # | score | issue | item | annotation | label | suggested | reason |",
                 "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        shown = self.suspects if limit is None else self.suspects[:limit]
        lines.extend(
            f"| {i} | {s.score:.3f} | {md(s.issue)} | {md(s.item_id)} | "
            f"{md(s.annotation_id or '')} | {md(s.label or '')} | {md(s.suggested or '')} | "
            f"{md(s.reason)} |"
            for i, s in enumerate(shown, 1)
        )
        lines.extend(f"\n> {md(n)}" for n in self.notes)
        return "\n".join(lines)

    def subset(self) -> Dataset:
        """The suspect items (most doubtful first) with their annotations and the model's
        predictions; `extensions.suspects` of each item holds its `rank`, top `score` and the
        suspects `found` on it, for a reviewer's queue."""
        ds = self._ground_truth
        if ds is None:
            raise ValueError("this report was not built from a dataset")
        by_item: dict[str, list[dict[str, Any]]] = {}
        for s in self.suspects:
            by_item.setdefault(s.item_id, []).append(s.to_dict())
        items = []
        known_items = ds.items_by_id()
        for rank, (item_id, found) in enumerate(by_item.items(), 1):
            item = known_items.get(item_id)
            if item is None:
                continue
            ext = {**item.extensions, NS: {"rank": rank, "score": found[0]["score"],
                                           "found": found}}  # fmt: skip
            items.append(item.model_copy(update={"extensions": ext}))
        keep = {it.id for it in items}
        anns = [a for a in ds.annotations if a.item_id in keep]
        taken = {a.id for a in anns}
        present = {(a.id, a.annotator) for a in anns}  # predictions made inside the dataset
        manifest = ds.manifest.model_copy(deep=True)
        manifest.name = f"{manifest.name or 'dataset'}-suspects"
        manifest.description = (
            f"{len(items)} items with likely label errors (gt suspects), ranked; each item's "
            "extensions.suspects says why"
        )
        known = {a.id for a in manifest.annotators}
        for p in self._predictions:
            if p.item_id not in keep or (p.id, p.annotator) in present:
                continue
            new_id = p.id if p.id not in taken else f"prediction-{p.id}"
            taken.add(new_id)
            anns.append(p if new_id == p.id else p.model_copy(update={"id": new_id}))
            if p.annotator and p.annotator not in known:
                manifest.annotators.append(Annotator(id=p.annotator, kind="model"))
                known.add(p.annotator)
        return Dataset(manifest, items, anns)


def _open(src: Dataset | PathLike, fmt: str | None, options: Mapping[str, Any] | None) -> Dataset:
    if isinstance(src, Dataset):
        return src
    from ..api import load

    return load(src, format=fmt, **dict(options or {}))


def suspects(
    dataset: Dataset | PathLike,
    predictions: Dataset | PathLike | None = None,
    *,
    model: str | None = None,
    kinds: Sequence[str] | None = None,
    threshold: float = 0.5,
    iou: float = 0.5,
    gt_format: str | None = None,
    pred_format: str | None = None,
    gt_options: Mapping[str, Any] | None = None,
    pred_options: Mapping[str, Any] | None = None,
) -> SuspectsReport:
    """Rank the annotations of `dataset` most likely wrong, with a score and a reason.

    Args:
        dataset: the labelled data (a Dataset, or a path/URL of any readable format).
        predictions: the model's out-of-sample output (or omit it and name `model`, whose
            annotations in `dataset` are then the evidence).
        model: the predicting annotator's id.
        kinds: any of `classification`, `spans`, `boxes` (default: every kind present).
        threshold: the lowest prediction confidence that counts as evidence for spans and boxes.
        iou: the box IoU at which a detection and a box are the same object.
    """
    gt_ds = _open(dataset, gt_format, gt_options)
    pred_ds = None if predictions is None else _open(predictions, pred_format, pred_options)
    unknown = [k for k in kinds or () if k not in KINDS]
    if unknown:
        raise EvaluationInputError(f"unknown kind {unknown[0]!r}", hint=f"kinds: {', '.join(KINDS)}")
    if not 0.0 <= threshold <= 1.0 or not 0.0 < iou <= 1.0:
        raise EvaluationInputError(
            "threshold must be in [0, 1] and iou in (0, 1]",
            hint="e.g. --threshold 0.5 --iou 0.5",
        )
    inputs = pair(gt_ds, pred_ds, model=model)
    types = {a.type for a in inputs.gt}  # type: ignore[attr-defined]
    chosen = list(kinds) if kinds else [
        k for k, t in (("classification", {"classification"}), ("spans", {"span"}),
                       ("boxes", {"bbox", "polygon", "mask"})) if types & t
    ]  # fmt: skip
    notes = list(inputs.notes)
    found: list[Suspect] = []
    if "classification" in chosen:
        found += classification_suspects(inputs, notes)
    if "spans" in chosen:
        found += span_suspects(inputs, threshold)
    if "boxes" in chosen:
        found += box_suspects(inputs, threshold, iou)
    shared = [t for k, ts in (("spans", ("span",)), ("boxes", ("bbox", "polygon", "mask")))
              if k in chosen for t in ts if t in types]  # fmt: skip
    found += disagreement_suspects(inputs, shared, notes)
    # most likely wrong first; ties keep each finder's order (cleanlab's ranking for classes)
    found.sort(key=lambda s: -s.score)
    counts: dict[str, int] = {
        "items": len(inputs.items),
        "annotations": len(inputs.gt),
        "predictions": len(inputs.pred),
        "suspects": len(found),
        "suspect_items": len({s.item_id for s in found}),
    }
    for s in found:
        counts[s.issue] = counts.get(s.issue, 0) + 1
    return SuspectsReport(
        dataset=gt_ds.source, predictions=None if pred_ds is None else pred_ds.source,
        model=model, suspects=found, counts=counts, notes=notes, _ground_truth=gt_ds,
        _predictions=inputs.pred,
    )  # fmt: skip
