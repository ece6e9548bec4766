"""Find annotations that are likely wrong, from a model's predictions and annotator votes.

- Classification: confident learning on the model's out-of-sample predicted probabilities
  (`_confident`, cleanlab's `find_label_issues`). Probabilities come from a prediction's
  `attributes.probabilities` (`{label: p}`), or from one prediction per label with its
  `confidence`; a lone top-1 prediction spreads the rest of its mass evenly (noted).
- Spans: a confident predicted entity the ground truth lacks (missed), the same offsets with
  another type (wrong type), overlapping offsets of the same type (boundary), and ground-truth
  entities no prediction overlaps (spurious).
- Boxes (and polygons/masks by their box): a confident detection no ground truth overlaps
  (missed object; a crowd region counts as covering it), one that overlaps a ground truth of another class that no detection of its
  own class found (wrong class), and a ground truth whose best same-class detection overlaps
  it only partly (badly placed).
- Several annotators disagreeing is evidence too: on an item's class (the minority's share of
  the votes), on its spans or regions (`gt agreement`'s disputed items: 1 - mean pairwise
  matched F1).

Every suspect has a score in [0, 1] (higher: more likely wrong) and a reason in words.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..evaluation import Inputs
from ..geometry import box_iou
from ..models import AnnotationBase, Manifest
from ._confident import find_label_issues, self_confidence

REGION_TYPES = ("bbox", "polygon", "mask")


@dataclass
class Suspect:
    """One likely problem: where, what the label is, what the evidence says."""

    item_id: str
    kind: str  # classification | disagreement | span | box
    issue: str  # label-issue | annotators-disagree | missed | wrong-type | boundary | spurious
    # | wrong-class | badly-placed
    score: float
    reason: str
    annotation_id: str | None = None
    label: str | None = None
    suggested: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def label_order(manifest: Manifest, seen: set[str]) -> list[str]:
    order: list[str] = []
    for ls in manifest.taxonomy.label_sets:
        order.extend(x.name for x in ls.labels if x.name in seen and x.name not in order)
    return order + sorted(seen - set(order))


def prediction_labels(pred: Sequence[AnnotationBase]) -> set[str]:
    """Every label a classification prediction names, with the keys of its probabilities."""
    out: set[str] = set()
    for a in pred:
        if a.type != "classification":  # type: ignore[attr-defined]
            continue
        if a.label is not None:
            out.add(str(a.label))
        probs = a.attributes.get("probabilities")
        if isinstance(probs, dict):
            out.update(str(k) for k in probs)
    return out


def probabilities(
    pred: Sequence[AnnotationBase], labels: Sequence[str], notes: list[str]
) -> dict[str, np.ndarray[Any, Any]]:
    """Per item, the model's probability of each label (rows sum to 1)."""
    index = {name: i for i, name in enumerate(labels)}
    rows: dict[str, np.ndarray[Any, Any]] = {}
    spread = renormalised = 0
    by_item: dict[str, list[AnnotationBase]] = defaultdict(list)
    for a in pred:
        if a.type == "classification" and a.label is not None:  # type: ignore[attr-defined]
            by_item[a.item_id].append(a)
    for item_id, anns in by_item.items():
        row = np.zeros(len(labels))
        given = next((a.attributes.get("probabilities") for a in anns
                      if isinstance(a.attributes.get("probabilities"), dict)), None)  # fmt: skip
        if given is not None:
            for name, p in given.items():
                if name in index:
                    row[index[name]] = float(p)
        elif len(anns) == 1 and len(labels) > 1:
            c = anns[0].confidence if anns[0].confidence is not None else 1.0
            row[:] = (1.0 - c) / (len(labels) - 1)
            row[index[str(anns[0].label)]] = c
            spread += 1
        else:
            for a in anns:
                i = index[str(a.label)]
                row[i] = max(row[i], a.confidence if a.confidence is not None else 1.0)
        total = row.sum()
        if total <= 0:
            continue
        if abs(total - 1.0) > 1e-6:
            row = row / total
            renormalised += 1
        rows[item_id] = row
    if spread:
        notes.append(
            f"{spread} items have only a top-1 prediction; the rest of its probability was "
            "spread evenly over the other labels (give `attributes.probabilities` for better "
            "evidence)"
        )
    if renormalised:
        notes.append(f"{renormalised} items' predicted probabilities did not sum to 1; rescaled")
    return rows


def classification_suspects(inputs: Inputs, notes: list[str]) -> list[Suspect]:
    """Confident-learning label issues, and items whose annotators disagree."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    ann_of: dict[str, AnnotationBase] = {}
    for a in inputs.gt:
        if a.type == "classification" and a.label is not None:  # type: ignore[attr-defined]
            votes[a.item_id][a.label] += 1
            ann_of.setdefault(a.item_id, a)
    out: list[Suspect] = []
    for item_id, c in sorted(votes.items()):
        if len(c) > 1:
            (top, n_top), total = c.most_common(1)[0], sum(c.values())
            share = ", ".join(f"{lbl} x{n}" for lbl, n in c.most_common())
            out.append(Suspect(item_id, "disagreement", "annotators-disagree",
                               round(1.0 - n_top / total, 12),
                               f"annotators disagree: {share}", label=top))  # fmt: skip
    seen = {lbl for c in votes.values() for lbl in c}
    seen |= prediction_labels(inputs.pred)
    labels = label_order(inputs.manifest, seen)
    probs = probabilities(inputs.pred, labels, notes)
    keys = [k for k in sorted(votes) if len(votes[k]) == 1 and k in probs]
    if not keys:
        return out
    index = {name: i for i, name in enumerate(labels)}
    given = np.array([index[next(iter(votes[k]))] for k in keys], dtype=np.int64)
    pp = np.stack([probs[k] for k in keys])
    sc = self_confidence(given, pp)
    for i in find_label_issues(given, pp):
        k = keys[i]
        best = int(pp[i].argmax())
        out.append(
            Suspect(
                k, "classification", "label-issue", float(1.0 - sc[i]),
                f"labelled {labels[given[i]]!r}, which the model gives p={sc[i]:.2f}; it "
                f"predicts {labels[best]!r} (p={pp[i, best]:.2f})",
                annotation_id=ann_of[k].id, label=labels[given[i]], suggested=labels[best],
            )
        )  # fmt: skip
    notes.append(
        f"confident learning over {len(keys)} items with one ground-truth label and predicted "
        f"probabilities ({len(labels)} labels)"
    )
    return out


def span_suspects(inputs: Inputs, threshold: float) -> list[Suspect]:
    """Entity-level disagreements between the ground truth and confident predictions."""
    gt_by: dict[str, list[AnnotationBase]] = defaultdict(list)
    pr_by: dict[str, list[AnnotationBase]] = defaultdict(list)
    for a in inputs.gt:
        if a.type == "span":  # type: ignore[attr-defined]
            gt_by[a.item_id].append(a)
    for a in inputs.pred:
        if a.type == "span":  # type: ignore[attr-defined]
            pr_by[a.item_id].append(a)
    out: list[Suspect] = []
    for item_id in sorted(set(gt_by) | set(pr_by)):
        golds, preds = gt_by[item_id], pr_by[item_id]
        for p in preds:
            conf = p.confidence if p.confidence is not None else 1.0
            if conf < threshold:
                continue
            ps, pe = int(p.start), int(p.end)  # type: ignore[attr-defined]
            same = [g for g in golds if (g.start, g.end) == (ps, pe)]  # type: ignore[attr-defined]
            over = [g for g in golds if g.start < pe and ps < g.end]  # type: ignore[attr-defined]
            text = f"[{ps}:{pe}]"
            if same and all(g.label != p.label for g in same):
                g = same[0]
                out.append(Suspect(item_id, "span", "wrong-type", conf,
                                   f"{text} labelled {g.label!r}; the model says {p.label!r} "
                                   f"({conf:.2f})", g.id, g.label, p.label))  # fmt: skip
            elif not over:
                out.append(Suspect(item_id, "span", "missed", conf,
                                   f"{text} unlabelled; the model finds a {p.label!r} entity "
                                   f"({conf:.2f})", None, None, p.label))  # fmt: skip
            elif not same:
                g = max(over, key=lambda g: min(pe, g.end) - max(ps, g.start))  # type: ignore[attr-defined]
                inter = min(pe, g.end) - max(ps, g.start)  # type: ignore[attr-defined]
                union = max(pe, g.end) - min(ps, g.start)  # type: ignore[attr-defined]
                if g.label == p.label:
                    out.append(Suspect(item_id, "span", "boundary", conf * (1 - inter / union),
                                       f"{g.label!r} at [{g.start}:{g.end}]; the model puts it "  # type: ignore[attr-defined]
                                       f"at {text} ({conf:.2f})", g.id, g.label, p.label))  # fmt: skip
        out.extend(
            Suspect(item_id, "span", "spurious", 0.5,
                    f"{g.label!r} at [{g.start}:{g.end}]: the model finds no entity there",  # type: ignore[attr-defined]
                    g.id, g.label)
            for g in golds
            if not any(p.start < g.end and g.start < p.end for p in preds)  # type: ignore[attr-defined]
        )  # fmt: skip
    return out


def _region_box(a: AnnotationBase) -> list[float] | None:
    box = getattr(a, "bbox", None)
    if box is not None:
        return [float(v) for v in box]
    if a.type == "polygon":  # type: ignore[attr-defined]
        from ..converters import _rle

        return _rle.poly_bbox(a.polygon)  # type: ignore[attr-defined]
    return None


def _crowd(a: AnnotationBase) -> bool:
    """A COCO crowd region (many objects in one outline) is no single object to check."""
    coco = a.extensions.get("coco")
    if isinstance(coco, dict) and "iscrowd" in coco:
        return bool(coco["iscrowd"])
    return bool(a.attributes.get("iscrowd", False))


def box_suspects(inputs: Inputs, threshold: float, iou: float) -> list[Suspect]:
    """Missed objects, wrong classes and badly placed boxes, by box IoU per item."""
    gt_by: dict[str, list[tuple[AnnotationBase, list[float]]]] = defaultdict(list)
    pr_by: dict[str, list[tuple[AnnotationBase, list[float]]]] = defaultdict(list)
    for src, dst in ((inputs.gt, gt_by), (inputs.pred, pr_by)):
        for a in src:
            if a.type in REGION_TYPES:  # type: ignore[attr-defined]
                box = _region_box(a)
                if box is not None:
                    dst[a.item_id].append((a, box))
    rl = inputs.relabel
    out: list[Suspect] = []
    for item_id in sorted(set(gt_by) | set(pr_by)):
        golds, preds = gt_by[item_id], pr_by[item_id]
        preds = [(p, b) for p, b in preds
                 if (p.confidence if p.confidence is not None else 1.0) >= threshold]  # fmt: skip
        if not preds:
            continue
        m = (box_iou([b for _, b in preds], [b for _, b in golds]) if golds
             else np.zeros((len(preds), 0)))  # fmt: skip
        plabel = [rl.get(str(p.label), p.label) for p, _ in preds]
        glabel = [g.label for g, _ in golds]
        crowd = [_crowd(g) for g, _ in golds]  # covers detections; is no single object to check
        for i, (p, box) in enumerate(preds):
            conf = p.confidence if p.confidence is not None else 1.0
            where = "[" + ", ".join(f"{v:.0f}" for v in box) + "]"
            if m.shape[1] == 0 or m[i].max() < 0.1:
                out.append(Suspect(item_id, "box", "missed", conf,
                                   f"no box near {where}; the model finds a {plabel[i]!r} "
                                   f"({conf:.2f})", None, None, plabel[i]))  # fmt: skip
                continue
            j = int(m[i].argmax())
            if m[i, j] >= iou and glabel[j] != plabel[i] and not crowd[j]:
                own = [k for k in range(len(preds)) if plabel[k] == glabel[j] and m[k, j] >= iou]
                if not own:
                    g = golds[j][0]
                    out.append(Suspect(item_id, "box", "wrong-class", conf * float(m[i, j]),
                                       f"box {g.id} labelled {g.label!r}; the model says "
                                       f"{plabel[i]!r} ({conf:.2f}, IoU {m[i, j]:.2f})",
                                       g.id, g.label, plabel[i]))  # fmt: skip
        for j, (g, _) in enumerate(golds):
            same = [i for i in range(len(preds)) if plabel[i] == g.label]
            if not same or crowd[j]:
                continue
            i = max(same, key=lambda i: m[i, j])
            if 0.1 <= m[i, j] < iou:
                c = preds[i][0].confidence
                conf = c if c is not None else 1.0
                out.append(Suspect(item_id, "box", "badly-placed", conf * (1 - float(m[i, j])),
                                   f"box {g.id} ({g.label!r}) overlaps the model's box only "
                                   f"IoU {m[i, j]:.2f} ({conf:.2f})", g.id, g.label, g.label))  # fmt: skip
    return out


def disagreement_suspects(inputs: Inputs, types: Sequence[str], notes: list[str]) -> list[Suspect]:
    """Items whose annotators disagree on their spans or regions, from `gt agreement`'s disputed
    items (score: 1 - mean pairwise matched F1 among the annotators of the item)."""
    from ..dataset import Dataset
    from ..errors import GroundtruthError
    from ..quality import agreement

    out: list[Suspect] = []
    for t in types:
        anns = [a for a in inputs.gt if a.type == t]  # type: ignore[attr-defined]
        if len({a.annotator for a in anns}) < 2:
            continue
        ds = Dataset(inputs.manifest, inputs.items.values(), anns)
        try:
            report = agreement(ds, annotation_type=t, max_disputed=len(inputs.items))
        except GroundtruthError as exc:
            notes.append(f"annotator agreement on {t} annotations not measured: {exc.message}")
            continue
        for d in report.to_dict().get("disputed_items") or []:
            value = float(d.get("disagreement") or 0.0)
            if value <= 0:
                continue
            out.append(Suspect(
                str(d["item_id"]), "disagreement", "annotators-disagree", min(value, 1.0),
                f"{d.get('annotators', 'several')} annotators disagree on its {t} annotations "
                f"({d.get('note', 'disagreement')} = {value:.2f})",
            ))  # fmt: skip
    return out
