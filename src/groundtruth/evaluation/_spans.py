"""Span (NER) metrics: entity level as seqeval reports them, and token level.

Entity level: an entity is (item, start, end, type); a prediction is right when all four equal
a ground-truth entity's. Per type precision, recall, F1 and support (ground-truth count), then
seqeval's micro, macro and support-weighted averages. On spans (which are always well formed)
seqeval's default and strict IOB2 modes agree; where a CoNLL file had invalid tag sequences,
the reader decoded them as seqeval's default mode does (and said so in its issues).

Token level: each token of the item (`item.tokens`, else each code point of `item.text`) takes
the type of the span that covers it (or O); per type precision/recall/F1 over tokens, and
accuracy over all tokens.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..models import AnnotationBase, Item

Entity = tuple[str, int, int, str]  # item, start, end, type


def _entities(anns: Sequence[AnnotationBase]) -> set[Entity]:
    return {
        (a.item_id, int(a.start), int(a.end), a.label)  # type: ignore[attr-defined]
        for a in anns
        if a.type == "span" and a.label is not None  # type: ignore[attr-defined]
    }


def _prf(tp: float, n_pred: float, n_true: float) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_true if n_true else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def entity_metrics(true: set[Entity], pred: set[Entity]) -> dict[str, Any]:
    """seqeval's `classification_report` figures on entity sets."""
    types = sorted({e[3] for e in true} | {e[3] for e in pred})
    tp_by: dict[str, int] = defaultdict(int)
    for e in true & pred:
        tp_by[e[3]] += 1
    t_by: dict[str, int] = defaultdict(int)
    p_by: dict[str, int] = defaultdict(int)
    for e in true:
        t_by[e[3]] += 1
    for e in pred:
        p_by[e[3]] += 1
    rows = []
    for typ in types:
        p, r, f = _prf(tp_by[typ], p_by[typ], t_by[typ])
        rows.append(
            {"label": typ, "precision": p, "recall": r, "f1": f, "support": t_by[typ],
             "predicted": p_by[typ]}
        )  # fmt: skip
    mp, mr, mf = _prf(sum(tp_by.values()), len(pred), len(true))
    n = len(rows)
    support = np.array([r["support"] for r in rows], dtype=np.float64)
    w = support / support.sum() if support.sum() else np.zeros(n)

    def avg(key: str, weights: Any = None) -> float:
        vals = np.array([r[key] for r in rows], dtype=np.float64)
        if not n:
            return 0.0
        return float(np.average(vals, weights=weights)) if weights is not None else float(vals.mean())

    return {
        "n_true": len(true),
        "n_pred": len(pred),
        "per_label": rows,
        "micro": {"precision": mp, "recall": mr, "f1": mf},
        "macro": {"precision": avg("precision"), "recall": avg("recall"), "f1": avg("f1")},
        "weighted": {
            "precision": avg("precision", w) if support.sum() else 0.0,
            "recall": avg("recall", w) if support.sum() else 0.0,
            "f1": avg("f1", w) if support.sum() else 0.0,
        },
    }


def _token_tags(item: Item, ents: list[Entity]) -> list[str]:
    bounds = [(t.start, t.end) for t in item.tokens] or [
        (i, i + 1) for i in range(len(item.text or ""))
    ]
    tags = ["O"] * len(bounds)
    starts = np.array([b[0] for b in bounds], dtype=np.int64)
    ends = np.array([b[1] for b in bounds], dtype=np.int64)
    for _, s, e, typ in ents:
        inside = (starts >= s) & (ends <= e) & (ends > starts)
        for i in np.flatnonzero(inside):
            tags[i] = typ
    return tags


def token_metrics(
    true: set[Entity], pred: set[Entity], items: Mapping[str, Item], item_ids: Sequence[str]
) -> dict[str, Any]:
    """Token-level accuracy and per-type precision/recall/F1 (a token is positive for the
    type of the span covering it)."""
    by_t: dict[str, list[Entity]] = defaultdict(list)
    by_p: dict[str, list[Entity]] = defaultdict(list)
    for e in true:
        by_t[e[0]].append(e)
    for e in pred:
        by_p[e[0]].append(e)
    tt: list[str] = []
    pp: list[str] = []
    for iid in item_ids:
        item = items.get(iid)
        if item is None:
            continue
        tt.extend(_token_tags(item, by_t[iid]))
        pp.extend(_token_tags(item, by_p[iid]))
    t = np.array(tt, dtype=object)
    p = np.array(pp, dtype=object)
    types = sorted((set(tt) | set(pp)) - {"O"})
    rows = []
    for typ in types:
        tp = int(np.count_nonzero((t == typ) & (p == typ)))
        pr, rc, f = _prf(tp, int(np.count_nonzero(p == typ)), int(np.count_nonzero(t == typ)))
        rows.append(
            {"label": typ, "precision": pr, "recall": rc, "f1": f,
             "support": int(np.count_nonzero(t == typ))}
        )  # fmt: skip
    ent_t, ent_p = t != "O", p != "O"
    mp, mr, mf = _prf(
        int(np.count_nonzero(ent_t & (t == p))), int(np.count_nonzero(ent_p)),
        int(np.count_nonzero(ent_t)),
    )
    return {
        "n_tokens": int(t.size),
        "accuracy": float(np.count_nonzero(t == p) / t.size) if t.size else None,
        "per_label": rows,
        "micro": {"precision": mp, "recall": mr, "f1": mf},
    }


def evaluate_spans(
    gt: Sequence[AnnotationBase],
    pred: Sequence[AnnotationBase],
    items: Mapping[str, Item],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Entity- and token-level metrics, and per item the missed and spurious entities."""
    true, guess = _entities(gt), _entities(pred)
    item_ids = sorted({e[0] for e in true} | {e[0] for e in guess} |
                      {i for i, it in items.items() if it.text is not None})  # fmt: skip
    out = entity_metrics(true, guess)
    out["token"] = token_metrics(true, guess, items, item_ids)
    missed: dict[str, int] = defaultdict(int)
    spurious: dict[str, int] = defaultdict(int)
    for e in true - guess:
        missed[e[0]] += 1
    for e in guess - true:
        spurious[e[0]] += 1
    rows = [
        {"item_id": i, "missed": missed[i], "spurious": spurious[i]}
        for i in sorted(set(missed) | set(spurious))
    ]
    return out, rows
