"""`agreement(ds, ...)`: how far annotators agree, where, and on what.

Every figure in the report names its unit of analysis (`unit`) and level of measurement
(`level`), and carries the counts it rests on, so two figures are only compared when they
measure the same thing. Undefined figures have `value: null` and a `reason`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..issues import Issue, issue
from . import _stats as st
from ._consensus import (
    DEFAULT_IOU,
    SPAN_OVERLAP,
    ItemClusters,
    cluster_items,
    label_consensus,
    region_consensus,
)
from ._gc import paused_gc
from ._matching import assign, label_mask, similarity_matrix
from ._select import (
    NO_OVERLAP,
    SINGLE_ANNOTATOR,
    SINGLE_LABEL_ITEMS,
    AgreementInputError,
    Coded,
    Selection,
    code_labels,
    select,
)

if TYPE_CHECKING:
    from ..dataset import Dataset

UNIT_DESCRIPTIONS = {
    "item": "item: one label per annotator per item",
    "item x label": "item x label: each label of a multi-label set, present or absent, per item",
    "character": "character (code point) covered by at least one annotator's span; characters "
    "no annotator marked do not count; an annotator who took part in the item but did not "
    "cover a character gives it the value `(none)`",
    "region": "region: annotations of different annotators matched as one object "
    "(IoU/OKS >= threshold); an annotator who took part in the item but drew nothing there "
    "gives the value `(none)`",
}
NONE_LABEL = "(none)"


@dataclass(slots=True)
class AgreementReport:
    """Agreement figures for one label set (or annotation type) of a dataset."""

    data: dict[str, Any]
    issues: list[Issue] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: the figures plus `issues`."""
        return {**self.data, "issues": [i.to_dict() for i in self.issues]}

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    @property
    def ok(self) -> bool:
        """False when no two annotators could be compared at all."""
        return not any(i.code in (SINGLE_ANNOTATOR, NO_OVERLAP) for i in self.issues)


def _fig(est: st.Estimate, unit: str, level: str, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "value": None if est.value is None else round(est.value, 6),
        "unit": unit,
        "level": level,
        "n_units": est.n_units,
        "n_labels": est.n_labels,
    }
    if est.reason is not None:
        out["reason"] = est.reason
    out.update(extra)
    return out


def _cohen_weights(level: str) -> Literal["linear", "quadratic"] | None:
    if level == "ordinal":
        return "linear"
    if level in ("interval", "ratio"):
        return "quadratic"
    return None


def _coded_figures(
    coded: Coded, level: st.Level, unit: str, pair_level: str | None = None
) -> dict[str, Any]:
    """percent_agreement, cohen_kappa, fleiss_kappa, krippendorff_alpha on coded data."""
    n_units, n_coders, k = len(coded.unit_keys), len(coded.annotators), len(coded.names)
    pa = st.percent_agreement(coded.unit, coded.code, n_units, k)
    fk = st.fleiss_kappa(coded.unit, coded.code, n_units, k)
    cohen_level = pair_level or level
    weights = _cohen_weights(cohen_level)
    pairs = st.pairwise_cohen_kappa(
        coded.unit, coded.coder, coded.code, n_units, n_coders, k, weights
    )
    pair_rows = [
        {"annotators": [coded.annotators[a], coded.annotators[b]], **_fig(e, unit, cohen_level)}
        for (a, b), e in sorted(pairs.items())
    ]
    defined = [e.value for e in pairs.values() if e.value is not None]
    if coded.level_ok:
        alpha = st.krippendorff_alpha(coded.unit, coded.code, n_units, coded.values, level)
    else:
        alpha = st.Estimate.undefined(f"{level} level needs a numeric value for every label")
    cohen: dict[str, Any] = {
        "unit": unit,
        "level": cohen_level,
        "weights": weights,
        "mean": round(float(np.mean(defined)), 6) if defined else None,
        "pairs": pair_rows,
    }
    cohen["pairs_without_shared_units"] = n_coders * (n_coders - 1) // 2 - len(pairs)
    if n_coders < 2:
        cohen["reason"] = st.UNDEFINED_ONE_CODER
    elif not pairs:
        cohen["reason"] = "no two annotators labelled a unit in common"
    return {
        "percent_agreement": _fig(pa, unit, "nominal"),
        "cohen_kappa": cohen,
        "fleiss_kappa": _fig(fk, unit, "nominal"),
        "krippendorff_alpha": _fig(alpha, unit, level),
    }


def _participation_issues(sel: Selection, coded_units: int | None = None) -> list[Issue]:
    issues: list[Issue] = []
    annotators = sel.annotators
    if len(annotators) < 2:
        issues.append(
            issue(
                SINGLE_ANNOTATOR,
                f"only one annotator ({annotators[0] if annotators else 'none'}) made "
                "these annotations: agreement needs two or more",
                hint="load a dataset where several annotators labelled the same items",
            )
        )
        return issues
    shared = sel.participation.shared()
    if not shared:
        issues.append(
            issue(
                NO_OVERLAP,
                "no item was labelled by two or more annotators, so nothing can be compared",
                hint="agreement needs overlap: have some items labelled by several annotators",
            )
        )
    lonely = sel.participation.lonely()
    if lonely and shared:
        issues.append(
            issue(
                SINGLE_LABEL_ITEMS,
                f"{lonely} item(s) were labelled by one annotator only and are left out",
            )
        )
    return issues


# -- labels -----------------------------------------------------------------------------------


def _label_report(
    sel: Selection, coded: Coded, level: st.Level, max_disputed: int
) -> dict[str, Any]:
    unit = UNIT_DESCRIPTIONS[coded.unit_label]
    multi = coded.unit_label == "item x label"
    eff_level: st.Level = "nominal" if multi else level
    out = _coded_figures(coded, eff_level, unit)
    n_units, n_coders, k = len(coded.unit_keys), len(coded.annotators), len(coded.names)
    vote = st.vote(coded.unit, coded.code, n_units, k)
    # per label
    per_label: dict[str, Any] = {}
    if multi:
        labels = sorted({lab for _, lab in coded.unit_keys if lab is not None}, key=str)
        unit_label = np.asarray([lab for _, lab in coded.unit_keys], dtype=object)
        for name in labels:
            keep = unit_label[coded.unit] == name
            sub_u, sub_c = coded.unit[keep], coded.code[keep]
            alpha = st.krippendorff_alpha(sub_u, sub_c, n_units, coded.values, "nominal")
            per_label[name] = {
                "n_labels": int(sub_c.sum()),
                "specific_agreement": _specific_agreement(sub_u, sub_c, n_units, 2, 1),
                "unit": unit,
                "level": "nominal",
                "krippendorff_alpha": _fig(alpha, unit, "nominal"),
            }
    else:
        counts, specific, alphas = st.per_value(coded.unit, coded.code, n_units, k)
        stat = st.krippendorff_alpha(coded.unit, coded.code, n_units, coded.values, "nominal")
        for c, name in enumerate(coded.names):
            est = (
                st.Estimate(float(alphas[c]), None, stat.n_units, stat.n_labels)
                if not np.isnan(alphas[c])
                else st.Estimate.undefined(st.UNDEFINED_NO_VARIATION if stat.n_units else
                                           st.UNDEFINED_NO_PAIRS, stat.n_units, stat.n_labels)
            )  # fmt: skip
            per_label[name] = {
                "n_labels": int(counts[c]),
                "unit": unit,
                "level": "nominal",
                "specific_agreement": None
                if np.isnan(specific[c])
                else round(float(specific[c]), 6),
                "krippendorff_alpha": _fig(est, unit, "nominal", note="this label vs the rest"),
            }
    out["per_label"] = per_label
    # per annotator
    sums, n_shared = st.agreement_with_others(
        coded.unit, coded.coder, coded.code, n_units, n_coders, k
    )
    m_u = np.bincount(coded.unit, minlength=n_units)
    decided = (m_u[coded.unit] >= 2) & ~vote.tied[coded.unit]
    with_cons = (coded.code == vote.winner[coded.unit]) & decided
    cons_hits = np.bincount(coded.coder, weights=with_cons.astype(float), minlength=n_coders)
    cons_n = np.bincount(coded.coder, weights=decided.astype(float), minlength=n_coders)
    n_labels = np.bincount(coded.coder, minlength=n_coders)
    kappas: dict[str, list[float]] = defaultdict(list)
    for row in out["cohen_kappa"]["pairs"]:
        if row["value"] is not None:
            for who in row["annotators"]:
                kappas[who].append(row["value"])
    per_annotator: dict[str, Any] = {}
    for j, who in enumerate(coded.annotators):
        per_annotator[who] = {
            "n_labels": int(n_labels[j]),
            "agreement_with_others": _ratio(sums[j], n_shared[j]),
            "agreement_with_consensus": _ratio(cons_hits[j], cons_n[j]),
            "mean_cohen_kappa": round(float(np.mean(kappas[who])), 6) if kappas[who] else None,
            "unit": unit,
            "level": "nominal",
        }
    out["per_annotator"] = per_annotator
    out["disputed_items"] = _disputed_labels(coded, eff_level, vote, max_disputed)
    return out


def _ratio(a: float, b: float) -> float | None:
    return round(float(a) / float(b), 6) if b > 0 else None


def _specific_agreement(
    unit: st.IntArray, code: st.IntArray, n_units: int, k: int, c: int
) -> float | None:
    """Specific agreement on category c: sum_u n_uc (n_uc - 1) / sum_u n_uc (m_u - 1)."""
    counts = np.bincount(unit * k + code, minlength=n_units * k).reshape(n_units, k)
    m_u = counts.sum(axis=1)
    n_c = counts[:, c].astype(np.float64)
    num = float((n_c * (n_c - 1)).sum())
    den = float((n_c * np.maximum(m_u - 1, 0)).sum())
    return round(num / den, 6) if den > 0 else None


def _disputed_labels(
    coded: Coded, level: st.Level, vote: st.Vote, limit: int
) -> list[dict[str, Any]]:
    n_units = len(coded.unit_keys)
    d_u, m_u, d_e = st.unit_disagreement(coded.unit, coded.code, n_units, coded.values, level)
    score = d_u / d_e if d_e > 0 else d_u
    disputed = np.flatnonzero(~np.isnan(d_u) & (d_u > 1e-12))
    order = disputed[np.lexsort((-m_u[disputed], -score[disputed]))][:limit]
    rows = []
    chosen = set(order.tolist())
    by_unit: dict[int, dict[str, str]] = defaultdict(dict)
    for u, j, c in zip(coded.unit.tolist(), coded.coder.tolist(), coded.code.tolist(), strict=True):
        if u in chosen:
            by_unit[u][coded.annotators[j]] = coded.names[c]
    for u in order.tolist():
        item_id, lab = coded.unit_keys[u]
        votes = {coded.names[c]: int(v) for c, v in enumerate(vote.votes[u]) if v > 0}
        row: dict[str, Any] = {
            "item_id": item_id,
            "disagreement": round(float(score[u]), 6),
            "n_labels": int(m_u[u]),
            "votes": votes,
            "labels": by_unit[u],
            "tie": bool(vote.tied[u]),
        }
        if lab is not None:
            row["label"] = lab
        rows.append(row)
    return rows


# -- spans and regions ------------------------------------------------------------------------


@dataclass(slots=True)
class _PairTally:
    tp: float = 0.0
    exact_tp: float = 0.0
    n: float = 0.0  # |A| + |B|
    iou_sum: float = 0.0
    matches: int = 0

    def f1(self, exact: bool = False) -> float | None:
        tp = self.exact_tp if exact else self.tp
        return round(2.0 * tp / self.n, 6) if self.n > 0 else None


def _exact_tp(a: Sequence[tuple[int, int, str]], b: Sequence[tuple[int, int, str]]) -> int:
    from collections import Counter

    ca, cb = Counter(a), Counter(b)
    return sum(min(v, cb[k]) for k, v in ca.items())


def _geometry_report(
    sel: Selection, groups: list[ItemClusters], threshold: float, max_disputed: int
) -> dict[str, Any]:
    spans = sel.family == "span"
    pair_tally: dict[tuple[str, str], _PairTally] = defaultdict(_PairTally)
    label_tally: dict[str, _PairTally] = defaultdict(_PairTally)
    item_scores: list[tuple[float, str, int]] = []
    for g in groups:
        people = g.participants
        if len(people) < 2:
            continue
        idx_by: dict[str, list[int]] = defaultdict(list)
        for i, a in enumerate(g.annotations):
            idx_by[str(a.annotator)].append(i)
        f1s: list[float] = []
        for pa, pb in combinations(people, 2):
            ia, ib = idx_by.get(pa, []), idx_by.get(pb, [])
            la = [g.annotations[i].label for i in ia]
            lb = [g.annotations[i].label for i in ib]
            sim = similarity_matrix([g.shapes[i] for i in ia], [g.shapes[i] for i in ib])
            if sim.size:
                sim = sim * label_mask(la, lb)
            matches = assign(sim, threshold)
            t = pair_tally[(pa, pb)]
            t.n += len(ia) + len(ib)
            t.tp += len(matches)
            t.matches += len(matches)
            t.iou_sum += sum(s for _, _, s in matches)
            for lab in la + lb:
                label_tally[str(lab)].n += 1
            for i, _, s in matches:
                lt = label_tally[str(la[i])]
                lt.tp += 1
                lt.matches += 1
                lt.iou_sum += s
            if spans:
                ka = [(g.shapes[i].start, g.shapes[i].end, str(la[n])) for n, i in enumerate(ia)]
                kb = [(g.shapes[i].start, g.shapes[i].end, str(lb[n])) for n, i in enumerate(ib)]
                tp = _exact_tp(ka, kb)
                t.exact_tp += tp
                for key, v in _exact_by_label(ka, kb).items():
                    label_tally[key].exact_tp += v
            denom = len(ia) + len(ib)
            f1s.append(2.0 * len(matches) / denom if denom else 1.0)
        item_scores.append((1.0 - float(np.mean(f1s)), g.item_id, len(people)))
    sim_name = "character IoU > 0" if spans else f"IoU/OKS >= {threshold:g}"
    unit_pairs = "annotation, pooled over annotator pairs and items (micro F1)"
    total = _PairTally()
    for t in pair_tally.values():
        total.tp += t.tp
        total.exact_tp += t.exact_tp
        total.n += t.n
        total.iou_sum += t.iou_sum
        total.matches += t.matches
    f1_block: dict[str, Any] = {
        "unit": unit_pairs,
        "level": "nominal",
        "matching": f"one-to-one, same label, {sim_name}, optimal assignment",
        "f1": total.f1(),
        "mean_iou": round(total.iou_sum / total.matches, 6) if total.matches else None,
        "pairs": [
            {
                "annotators": [a, b],
                "f1": t.f1(),
                **({"exact_f1": t.f1(exact=True)} if spans else {}),
                "mean_iou": round(t.iou_sum / t.matches, 6) if t.matches else None,
                "matches": t.matches,
                "unit": unit_pairs,
                "level": "nominal",
            }
            for (a, b), t in sorted(pair_tally.items())
        ],
    }
    if spans:
        f1_block["exact_f1"] = total.f1(exact=True)
    # Unitised figures: characters (spans) or matched regions.
    coded = _span_units(sel, groups) if spans else _region_units(sel, groups)
    unit = UNIT_DESCRIPTIONS[coded.unit_label]
    out = _coded_figures(coded, "nominal", unit)
    out["span_f1" if spans else "region_f1"] = f1_block
    per_label = {}
    for lab, t in sorted(label_tally.items()):
        row: dict[str, Any] = {"f1": t.f1(), "unit": unit_pairs, "level": "nominal"}
        if spans:
            row["exact_f1"] = t.f1(exact=True)
        row["mean_iou"] = round(t.iou_sum / t.matches, 6) if t.matches else None
        per_label[lab] = row
    out["per_label"] = per_label
    out["per_annotator"] = _geometry_per_annotator(sel, groups, pair_tally, unit_pairs)
    item_scores.sort(key=lambda s: (-s[0], -s[2], s[1]))
    out["disputed_items"] = [
        {"item_id": item, "disagreement": round(score, 6), "annotators": n,
         "note": "1 - mean pairwise matched F1"}
        for score, item, n in item_scores[:max_disputed]
        if score > 1e-12
    ]  # fmt: skip
    return out


def _exact_by_label(
    a: Sequence[tuple[int, int, str]], b: Sequence[tuple[int, int, str]]
) -> dict[str, int]:
    from collections import Counter

    ca, cb = Counter(a), Counter(b)
    out: dict[str, int] = defaultdict(int)
    for key, v in ca.items():
        out[key[2]] += min(v, cb[key])
    return out


def _geometry_per_annotator(
    sel: Selection,
    groups: list[ItemClusters],
    pair_tally: dict[tuple[str, str], _PairTally],
    unit_pairs: str,
) -> dict[str, Any]:
    cons = region_consensus(sel, groups, "_", "majority", None, 0.5, 2)
    accepted = {a.id for a in cons if a.consensus is not None and not a.consensus.needs_review}
    hit: dict[str, int] = defaultdict(int)
    mine: dict[str, int] = defaultdict(int)
    offered: dict[str, int] = defaultdict(int)
    for g in groups:
        if len(g.participants) < 2:
            continue
        for a in g.annotations:
            mine[str(a.annotator)] += 1
        for k, cl in enumerate(g.clusters):
            cid = f"_:{g.item_id}:{k}"
            if cid not in accepted:
                continue
            for who in g.participants:
                offered[who] += 1
            winner = next(c for c in cons if c.id == cid).label
            for m, who in zip(cl.members, cl.annotators, strict=True):
                if g.annotations[m].label == winner:
                    hit[who] += 1
    out: dict[str, Any] = {}
    for who in sel.annotators:
        tallies = [t for pair, t in pair_tally.items() if who in pair]
        n = sum(t.n for t in tallies)
        tp = sum(t.tp for t in tallies)
        denom = mine[who] + offered[who]
        out[who] = {
            "n_annotations": sum(1 for a in sel.annotations if a.annotator == who),
            "f1_with_others": round(2 * tp / n, 6) if n else None,
            "f1_with_consensus": round(2 * hit[who] / denom, 6) if denom else None,
            "unit": unit_pairs,
            "level": "nominal",
        }
    return out


def _span_units(sel: Selection, groups: list[ItemClusters]) -> Coded:
    """Character units: every code point some annotator's span covers, in items with >= 2."""
    annotators = sel.annotators
    who = {a: i for i, a in enumerate(annotators)}
    names = [NONE_LABEL, *sorted({str(a.label) for a in sel.annotations})]
    index = {n: i for i, n in enumerate(names)}
    unit_keys: list[tuple[str, str | None]] = []
    units: list[np.ndarray] = []
    coders: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for g in groups:
        if len(g.participants) < 2 or not g.annotations:
            continue
        ranges = [np.arange(s.start, s.end) for s in g.shapes]
        covered = np.unique(np.concatenate(ranges)) if ranges else np.array([], dtype=np.int64)
        if covered.size == 0:
            continue
        base = len(unit_keys)
        unit_keys += [(g.item_id, str(int(p))) for p in covered]
        for p in g.participants:
            lab = np.zeros(covered.size, dtype=np.int64)
            # Spans sorted by start: a nested (later-starting) span overrides its container.
            mine = sorted(
                (i for i, a in enumerate(g.annotations) if a.annotator == p),
                key=lambda i: (g.shapes[i].start, -g.shapes[i].end),
            )
            for i in mine:
                lo = np.searchsorted(covered, g.shapes[i].start)
                hi = np.searchsorted(covered, g.shapes[i].end)
                lab[lo:hi] = index[str(g.annotations[i].label)]
            units.append(base + np.arange(covered.size))
            coders.append(np.full(covered.size, who[p]))
            codes.append(lab)
    return _coded(unit_keys, annotators, names, units, coders, codes, "character")


def _region_units(sel: Selection, groups: list[ItemClusters]) -> Coded:
    """Region units: clusters of matched regions; participants without a member say (none)."""
    annotators = sel.annotators
    who = {a: i for i, a in enumerate(annotators)}
    names = [NONE_LABEL, *sorted({str(a.label) for a in sel.annotations})]
    index = {n: i for i, n in enumerate(names)}
    unit_keys: list[tuple[str, str | None]] = []
    units: list[np.ndarray] = []
    coders: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for g in groups:
        if len(g.participants) < 2:
            continue
        for cl in g.clusters:
            u = len(unit_keys)
            unit_keys.append((g.item_id, None))
            given = {w: index[str(g.annotations[m].label)]
                     for m, w in zip(cl.members, cl.annotators, strict=True)}  # fmt: skip
            people = g.participants
            units.append(np.full(len(people), u))
            coders.append(np.asarray([who[p] for p in people]))
            codes.append(np.asarray([given.get(p, 0) for p in people]))
    return _coded(unit_keys, annotators, names, units, coders, codes, "region")


def _coded(
    unit_keys: list[tuple[str, str | None]],
    annotators: list[str],
    names: list[str],
    units: list[np.ndarray],
    coders: list[np.ndarray],
    codes: list[np.ndarray],
    unit_label: str,
) -> Coded:
    def cat(parts: list[np.ndarray]) -> st.IntArray:
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    u = cat(units)
    return Coded(
        unit_keys, annotators, names, np.arange(len(names), dtype=np.float64), u, cat(coders),
        cat(codes), [None] * len(u), True, unit_label,
    )  # fmt: skip


# -- entry point ------------------------------------------------------------------------------


def agreement(
    ds: Dataset,
    label_set: str | None = None,
    level: st.Level | None = None,
    *,
    annotation_type: str | None = None,
    iou_threshold: float = DEFAULT_IOU,
    max_disputed: int = 100,
) -> AgreementReport:
    """Inter-annotator agreement on one label set (or annotation type) of a dataset.

    Args:
        ds: a dataset where several annotators labelled the same items.
        label_set: the label set to analyse; needed when several are annotated.
        level: `nominal`, `ordinal`, `interval` or `ratio`; defaults to the label set's `scale`
            (nominal without a label set, interval for ratings without one). Applies to
            Krippendorff's alpha and (as weights) to Cohen's kappa of labels and ratings.
        annotation_type: restrict to one annotation type (e.g. `bbox`).
        iou_threshold: regions match at IoU (keypoints: OKS) >= this; spans at any overlap.
        max_disputed: how many disputed items to list, most disputed first.

    Raises AgreementInputError (a GroundtruthError) when the request is ambiguous (several
    label sets, mixed kinds) or names an unknown label set; data problems (one annotator,
    no overlap, unknown labels) are reported as issues and undefined figures instead.
    """
    with paused_gc():
        return _agreement(ds, label_set, level, annotation_type, iou_threshold, max_disputed)


def _agreement(
    ds: Dataset,
    label_set: str | None,
    level: st.Level | None,
    annotation_type: str | None,
    iou_threshold: float,
    max_disputed: int,
) -> AgreementReport:
    sel = select(ds, label_set, annotation_type)
    ls = sel.label_set
    if level is None and ls is not None:
        level = ls.scale
    elif level is None:
        level = "interval" if sel.types == ["rating"] else "nominal"
    if level not in st.LEVELS:
        raise AgreementInputError(
            f"unknown level {level!r}", hint=f"use one of {', '.join(st.LEVELS)}"
        )
    issues = list(sel.issues)
    issues += _participation_issues(sel)
    head: dict[str, Any] = {
        "label_set": ls.name if ls is not None else None,
        "annotation_types": sel.types,
        "level": level,
        "n_items": len({a.item_id for a in sel.annotations}),
        "n_items_shared": sel.participation.shared(),
        "n_annotators": len(sel.annotators),
        "annotators": sel.annotators,
        "n_annotations": len(sel.annotations),
    }
    if sel.family == "label":
        coded, more = code_labels(sel, level)
        issues += more
        head["unit"] = coded.unit_label
        body = _label_report(sel, coded, level, max_disputed)
        if coded.unit_label == "item x label" and level != "nominal":
            head["level"] = "nominal"
            head["level_note"] = "multi-label sets are analysed as present/absent per label"
        if len(coded.unit):
            res = label_consensus(coded, "majority")
            head["consensus_preview"] = {
                "method": "majority",
                "resolved": int(((res.n_votes >= 2) & ~res.tied).sum()),
                "ties": int(res.tied.sum()),
            }
    else:
        threshold = SPAN_OVERLAP if sel.family == "span" else iou_threshold
        groups = cluster_items(sel, threshold, issues)
        head["unit"] = "character" if sel.family == "span" else "region"
        head["level"] = "nominal"
        if level != "nominal":
            head["level_note"] = f"{level} was asked; span and region labels are nominal"
        if sel.family != "span":
            head["iou_threshold"] = threshold
        body = _geometry_report(sel, groups, threshold, max_disputed)
    return AgreementReport({**head, **body}, issues)
