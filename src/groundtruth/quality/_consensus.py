"""`consensus(ds, method=...)`: one resolved annotation per item (or per matched region).

Every original annotation is kept. Each consensus annotation is made by an annotator of kind
`consensus` (added to the manifest, `method` set), lists the annotations it came from in
`sources`, and carries `consensus` = ConsensusInfo(method, votes, agreement, needs_review,
reason). Ties and low agreement are flagged `needs_review`, never silently decided: a tied
item still gets an annotation (so reviewers find it next to the votes), its label is the first
tied label in label-set order, and `reason` says it is a placeholder.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import TypeAdapter

from ..models import BBox, Classification, ConsensusInfo, Keypoints, Mask, Polygon, Rating, Span
from ..models.annotations import AnnotationBase
from ..models.manifest import Annotator
from . import _stats as st
from ._gc import paused_gc
from ._matching import Cluster, Shape, UnsupportedShapeError, cluster, shape_of
from ._select import (
    UNCOMPARABLE_SHAPE,
    AgreementInputError,
    Coded,
    Selection,
    code_labels,
    select,
)

if TYPE_CHECKING:
    from ..dataset import Dataset
    from ..issues import Issue

Method = Literal["majority", "weighted", "dawid-skene"]
METHODS: tuple[Method, ...] = ("majority", "weighted", "dawid-skene")

DEFAULT_IOU = 0.5
"""Regions of different annotators are the same object at IoU (or OKS) >= this."""

SPAN_OVERLAP = 1e-9
"""Spans are the same mention when they overlap at all (character IoU > 0)."""


@dataclass(frozen=True, slots=True)
class LabelConsensus:
    """Consensus on coded labels: the winning code per unit, the votes, the flags."""

    winner: st.IntArray
    votes: st.FloatArray  # unit x code: votes, weighted votes or posterior
    agreement: st.FloatArray
    n_votes: st.IntArray
    tied: np.ndarray
    weights: dict[str, float] | None = None
    dawid_skene: st.DawidSkene | None = None


def estimate_weights(coded: Coded) -> dict[str, float]:
    """Annotator weights for a weighted vote: agreement with the others, Laplace-smoothed.

    (sum of per-label agreement + 1) / (labels in shared units + 2): an annotator who shared
    no unit with anyone gets 0.5.
    """
    sums, n = st.agreement_with_others(
        coded.unit, coded.coder, coded.code, len(coded.unit_keys), len(coded.annotators),
        len(coded.names),
    )  # fmt: skip
    w = (sums + 1.0) / (n + 2.0)
    return {a: float(w[i]) for i, a in enumerate(coded.annotators)}


def label_consensus(
    coded: Coded,
    method: Method,
    weights: Mapping[str, float] | None = None,
) -> LabelConsensus:
    """Resolve coded labels per unit with the given method."""
    n_units, k = len(coded.unit_keys), len(coded.names)
    n_votes = np.bincount(coded.unit, minlength=n_units).astype(np.int64)
    if method == "majority":
        v = st.vote(coded.unit, coded.code, n_units, k)
        return LabelConsensus(v.winner, v.votes, v.agreement, n_votes, v.tied)
    if method == "weighted":
        w = dict(weights) if weights is not None else estimate_weights(coded)
        missing = [a for a in coded.annotators if a not in w]
        if missing:
            raise AgreementInputError(
                f"no weight for annotator(s) {', '.join(missing[:5])}",
                hint="give every annotator a weight, or omit weights to estimate them",
            )
        per_coder = np.asarray([float(w[a]) for a in coded.annotators])
        if (per_coder < 0).any():
            raise AgreementInputError("annotator weights must be >= 0")
        v = st.vote(coded.unit, coded.code, n_units, k, weight=per_coder[coded.coder])
        return LabelConsensus(v.winner, v.votes, v.agreement, n_votes, v.tied, w)
    if method == "dawid-skene":
        ds = st.dawid_skene(coded.unit, coded.coder, coded.code, n_units, len(coded.annotators), k)
        post = ds.posterior
        top = post.max(axis=1)
        winner = post.argmax(axis=1).astype(np.int64)
        tied = (np.isclose(post, top[:, None], rtol=0, atol=1e-9).sum(axis=1) > 1) & (n_votes > 0)
        winner[n_votes == 0] = -1
        agreement = np.where(n_votes > 0, top, np.nan)
        return LabelConsensus(winner, post, agreement, n_votes, tied, None, ds)
    raise AgreementInputError(
        f"unknown consensus method {method!r}", hint=f"use one of {', '.join(METHODS)}"
    )


def _flag(
    tied: bool, agreement: float, n_votes: int, min_agreement: float, min_votes: int,
    tied_names: Sequence[str],
) -> tuple[bool, str | None]:  # fmt: skip
    if tied:
        return True, (
            "tie between " + ", ".join(repr(n) for n in tied_names)
            + "; the label is a placeholder (first in label-set order): adjudicate"
        )  # fmt: skip
    if n_votes < min_votes:
        return True, f"only {n_votes} annotator(s) labelled it; need {min_votes} to agree"
    if agreement <= min_agreement:
        return True, f"low agreement: {agreement:.2f} <= {min_agreement:.2f}"
    return False, None


def _consensus_annotator(ds: Dataset, method: str) -> Annotator:
    ident = f"consensus-{method}"
    existing = ds.manifest.annotator(ident)
    if existing is not None and existing.kind == "consensus":
        return existing
    if existing is not None:
        ident = f"{ident}-{len(ds.manifest.annotators)}"
    return Annotator(id=ident, kind="consensus", method=method, name=f"{method} consensus")


@dataclass(slots=True)
class ConsensusResult:
    """What `build_consensus` made: the new annotations, the annotator, and run details."""

    annotations: list[AnnotationBase]
    annotator: Annotator
    issues: list[Issue]
    details: dict[str, object]


def _group_sources(coded: Coded, n_units: int) -> list[list[str]]:
    out: list[list[str]] = [[] for _ in range(n_units)]
    for u, src in zip(coded.unit.tolist(), coded.sources, strict=True):
        if src is not None:
            out[u].append(src)
    return out


def _labels_to_annotations(
    sel: Selection,
    coded: Coded,
    res: LabelConsensus,
    method: Method,
    annotator_id: str,
    min_agreement: float,
    min_votes: int,
) -> list[AnnotationBase]:
    n_units = len(coded.unit_keys)
    sources = _group_sources(coded, n_units)
    ls_name = sel.label_set.name if sel.label_set is not None else None
    rating = sel.types == ["rating"]
    multi = coded.unit_label == "item x label"
    rows, cols = np.nonzero(res.votes > 0)
    votes_by_unit: list[dict[str, float]] = [{} for _ in range(n_units)]
    for r, c, v in zip(rows.tolist(), cols.tolist(), res.votes[rows, cols].tolist(), strict=True):
        votes_by_unit[r][coded.names[c]] = round(v, 6)
    top = res.votes.max(axis=1) if len(coded.names) else np.zeros(n_units)
    winners = res.winner.tolist()
    tied = res.tied.tolist()
    agreements = res.agreement.tolist()
    n_votes = res.n_votes.tolist()
    values = coded.values.tolist()
    # Records are collected as dicts and validated in one call: pydantic-core validates a list
    # much faster than it constructs models one by one (and model_construct is slower still).
    records: list[dict[str, Any]] = []
    for u, (item_id, unit_label) in enumerate(coded.unit_keys):
        w = winners[u]
        if w < 0:
            continue
        if multi and w == 0 and not tied[u]:
            continue  # the label is (by consensus) absent: nothing to record
        tied_names = [
            coded.names[c] for c in np.flatnonzero(np.isclose(res.votes[u], top[u])).tolist()
        ] if tied[u] else []  # fmt: skip
        agreement = agreements[u]
        needs, reason = _flag(tied[u], agreement, n_votes[u], min_agreement, min_votes, tied_names)
        rec: dict[str, Any] = {
            "item_id": item_id, "label_set": ls_name, "annotator": annotator_id,
            "sources": sources[u],
            "consensus": {
                "method": method, "votes": votes_by_unit[u], "agreement": round(agreement, 6),
                "needs_review": needs, "reason": reason,
            },
        }  # fmt: skip
        if multi:
            rec["id"] = f"{annotator_id}:{item_id}:{unit_label}"
            rec["label"] = str(unit_label)
        elif rating:
            rec["id"] = f"{annotator_id}:{item_id}"
            rec["value"] = float(values[w])
        else:
            rec["id"] = f"{annotator_id}:{item_id}"
            rec["label"] = coded.names[w]
        records.append(rec)
    adapter = _RATINGS if rating else _CLASSIFICATIONS
    return list(adapter.validate_python(records))


_CLASSIFICATIONS: TypeAdapter[list[Classification]] = TypeAdapter(list[Classification])
_RATINGS: TypeAdapter[list[Rating]] = TypeAdapter(list[Rating])


# -- regions and spans ------------------------------------------------------------------------


@dataclass(slots=True)
class ItemClusters:
    """One item's comparable annotations and how they group across annotators."""

    item_id: str
    annotations: list[AnnotationBase]
    shapes: list[Shape]
    clusters: list[Cluster]
    participants: list[str]


def cluster_items(sel: Selection, threshold: float, issues: list[Issue]) -> list[ItemClusters]:
    """Group each item's regions (or spans) across annotators, label-agnostic."""
    by_item: dict[str, list[AnnotationBase]] = {}
    for ann in sel.annotations:
        by_item.setdefault(ann.item_id, []).append(ann)
    out: list[ItemClusters] = []
    bad = 0
    for item_id in sorted(set(by_item) | {i for i in sel.participants if i in by_item}):
        anns: list[AnnotationBase] = []
        shapes: list[Shape] = []
        for ann in by_item.get(item_id, []):
            try:
                shapes.append(shape_of(ann))
            except UnsupportedShapeError as exc:
                bad += 1
                if bad <= 20:
                    from ..issues import issue

                    issues.append(issue(UNCOMPARABLE_SHAPE, str(exc), record_id=ann.id))
                continue
            anns.append(ann)
        whos = [str(a.annotator) for a in anns]
        groups = cluster(shapes, whos, threshold)
        out.append(
            ItemClusters(item_id, anns, shapes, groups, sorted(sel.participants.get(item_id, ())))
        )
    return out


def _median_box(boxes: Sequence[Sequence[float]]) -> list[float]:
    b = np.asarray(boxes, dtype=np.float64)
    x1, y1 = np.median(b[:, 0]), np.median(b[:, 1])
    x2, y2 = np.median(b[:, 0] + b[:, 2]), np.median(b[:, 1] + b[:, 3])
    return [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]


def _medoid(group: ItemClusters, members: Sequence[int]) -> int:
    """The member most similar, on average, to the other members."""
    from ._matching import similarity_matrix

    if len(members) <= 2:
        return members[0]
    sim = similarity_matrix([group.shapes[m] for m in members], [group.shapes[m] for m in members])
    return members[int(np.argmax(sim.sum(axis=1)))]


def _median_keypoints(kps: Sequence[Sequence[float]]) -> list[float]:
    p = np.asarray(kps, dtype=np.float64).reshape(len(kps), -1, 3)
    labelled = p[:, :, 2] > 0
    out: list[float] = []
    for j in range(p.shape[1]):
        on = labelled[:, j]
        if on.sum() * 2 <= len(kps):  # fewer than half placed it: consensus is "not labelled"
            out += [0.0, 0.0, 0.0]
            continue
        x, y = np.median(p[on, j, 0]), np.median(p[on, j, 1])
        vis = 2.0 if (p[on, j, 2] == 2).sum() * 2 >= on.sum() else 1.0
        out += [float(x), float(y), vis]
    return out


def _region_annotation(
    group: ItemClusters, members: list[int], label: str, base: dict[str, Any]
) -> AnnotationBase:
    anns = [group.annotations[m] for m in members]
    kind = str(getattr(anns[0], "type", ""))
    same_kind = [m for m, a in zip(members, anns, strict=True) if getattr(a, "type", "") == kind]
    if kind == "bbox" and all(not getattr(a, "rotation", None) for a in anns):
        boxes = [a.bbox for a in anns if isinstance(a, BBox)]
        return BBox(bbox=_median_box(boxes), label=label, **base)
    if kind == "keypoints":
        kps = [list(a.keypoints) for a in anns if isinstance(a, Keypoints)]
        if len({len(k) for k in kps}) == 1:
            boxes = [a.bbox for a in anns if isinstance(a, Keypoints) and a.bbox is not None]
            return Keypoints(
                keypoints=_median_keypoints(kps), label=label,
                bbox=_median_box(boxes) if len(boxes) == len(kps) else None,
                **base,
            )  # fmt: skip
    if kind == "span":
        spans = [(a.start, a.end) for a in anns if isinstance(a, Span)]
        (start, end), _ = Counter(spans).most_common(1)[0]
        text = next(
            (a.text for a in anns if isinstance(a, Span) and (a.start, a.end) == (start, end)),
            None,
        )
        return Span(start=start, end=end, text=text, label=label, **base)
    # Polygons, masks, rotated boxes, mixed kinds: the medoid member stands for the group.
    rep = group.annotations[_medoid(group, same_kind or members)]
    if isinstance(rep, Polygon):
        return Polygon(polygon=rep.polygon, holes=rep.holes, bbox=rep.bbox, label=label, **base)
    if isinstance(rep, Mask):
        return Mask(rle=rep.rle, bbox=rep.bbox, label=label, **base)
    if isinstance(rep, BBox):
        return BBox(bbox=rep.bbox, rotation=rep.rotation, label=label, **base)
    raise AgreementInputError(f"no consensus geometry for {kind!r} annotations")


def _span_boundaries_disputed(anns: Sequence[AnnotationBase]) -> bool:
    spans = Counter((a.start, a.end) for a in anns if isinstance(a, Span))
    common = spans.most_common(2)
    return len(common) > 1 and common[0][1] == common[1][1]


def region_consensus(
    sel: Selection,
    groups: Sequence[ItemClusters],
    annotator_id: str,
    method: Method,
    weights: Mapping[str, float] | None,
    min_agreement: float,
    min_votes: int,
) -> list[AnnotationBase]:
    """One annotation per cluster: label by (weighted) vote, geometry from the members.

    Agreement is the winning label's (weighted) votes over the (weighted) count of annotators
    who took part in the item: an object only one of three annotators drew gets 1/3 and is
    flagged. Boxes take the median corners, keypoints the median of each point, spans the most
    common boundaries; polygons and masks the medoid member.
    """
    ls_name = sel.label_set.name if sel.label_set is not None else None
    out: list[AnnotationBase] = []
    for group in groups:
        people = group.participants or sorted({str(a.annotator) for a in group.annotations})
        denom = sum(_weight(weights, p) for p in people)
        for k, cl in enumerate(group.clusters):
            anns = [group.annotations[m] for m in cl.members]
            votes: dict[str, float] = {}
            for a in anns:
                votes.setdefault(str(a.label), 0.0)
                votes[str(a.label)] += _weight(weights, str(a.annotator))
            best = max(votes.values())
            tied_names = sorted(n for n, v in votes.items() if np.isclose(v, best))
            label = _first_in_order(sel, tied_names)
            agreement = best / denom if denom > 0 else 0.0
            needs, reason = _flag(
                len(tied_names) > 1, agreement, len(people), min_agreement, min_votes, tied_names
            )
            if not needs and _span_boundaries_disputed(anns):
                needs, reason = True, "annotators disagree on the span boundaries (tie)"
            info = ConsensusInfo(
                method=method,
                votes={n: round(v, 6) for n, v in sorted(votes.items())},
                agreement=round(agreement, 6),
                needs_review=needs,
                reason=reason,
            )
            base: dict[str, Any] = {
                "id": f"{annotator_id}:{group.item_id}:{k}",
                "item_id": group.item_id,
                "label_set": ls_name,
                "annotator": annotator_id,
                "sources": [a.id for a in anns],
                "consensus": info,
            }
            keep = [m for m in cl.members if str(group.annotations[m].label) == label]
            out.append(_region_annotation(group, keep or cl.members, label, base))
    return out


def _weight(weights: Mapping[str, float] | None, who: str) -> float:
    return 1.0 if weights is None else float(weights.get(who, 0.0))


def _first_in_order(sel: Selection, names: Sequence[str]) -> str:
    if sel.label_set is not None:
        order = {lab.name: i for i, lab in enumerate(sel.label_set.labels)}
        return min(names, key=lambda n: (order.get(n, len(order)), n))
    return min(names)


def _region_weights(groups: Sequence[ItemClusters]) -> dict[str, float]:
    """Weights for regions: share of an annotator's regions others also drew (smoothed)."""
    hit: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for g in groups:
        multi = len(g.participants) > 1
        for cl in g.clusters:
            for who in cl.annotators:
                if multi:
                    total[who] += 1
                    hit[who] += len(cl.annotators) > 1
    everyone = {str(a.annotator) for g in groups for a in g.annotations}
    return {w: (hit[w] + 1.0) / (total[w] + 2.0) for w in sorted(everyone)}


def build_consensus(
    ds: Dataset,
    method: Method = "majority",
    *,
    label_set: str | None = None,
    annotation_type: str | None = None,
    weights: Mapping[str, float] | None = None,
    iou_threshold: float = DEFAULT_IOU,
    min_agreement: float = 0.5,
    min_votes: int = 2,
) -> ConsensusResult:
    """Compute consensus annotations for `ds` (see `consensus` for the arguments)."""
    with paused_gc():
        return _build_consensus(
            ds, method, label_set, annotation_type, weights, iou_threshold, min_agreement,
            min_votes,
        )  # fmt: skip


def _build_consensus(
    ds: Dataset,
    method: Method,
    label_set: str | None,
    annotation_type: str | None,
    weights: Mapping[str, float] | None,
    iou_threshold: float,
    min_agreement: float,
    min_votes: int,
) -> ConsensusResult:
    if method not in METHODS:
        raise AgreementInputError(
            f"unknown consensus method {method!r}", hint=f"use one of {', '.join(METHODS)}"
        )
    sel = select(ds, label_set, annotation_type)
    issues = list(sel.issues)
    annotator = _consensus_annotator(ds, method)
    details: dict[str, object] = {"method": method, "annotation_types": sel.types}
    if sel.family == "label":
        coded, more = code_labels(sel, "nominal")
        issues += more
        res = label_consensus(coded, method, weights)
        anns = _labels_to_annotations(sel, coded, res, method, annotator.id, min_agreement,
                                      min_votes)  # fmt: skip
        if res.weights is not None:
            details["weights"] = {k: round(v, 6) for k, v in res.weights.items()}
        if res.dawid_skene is not None:
            d = res.dawid_skene
            details["dawid_skene"] = {
                "iterations": d.iterations,
                "converged": d.converged,
                "log_likelihood": d.log_likelihood,
                "prior": {n: round(float(p), 6) for n, p in zip(coded.names, d.prior, strict=True)},
                "accuracy": {
                    a: round(float(np.sum(np.diag(d.confusion[j]) * d.prior)), 6)
                    for j, a in enumerate(coded.annotators)
                },
            }
    else:
        if method == "dawid-skene":
            raise AgreementInputError(
                "dawid-skene consensus works on labels (classification, rating), not on "
                + ", ".join(sel.types),
                hint="use --method majority or weighted for spans and regions",
            )
        threshold = SPAN_OVERLAP if sel.family == "span" else iou_threshold
        groups = cluster_items(sel, threshold, issues)
        w: Mapping[str, float] | None = None
        if method == "weighted":
            w = dict(weights) if weights is not None else _region_weights(groups)
            details["weights"] = {k: round(v, 6) for k, v in w.items()}
        anns = region_consensus(sel, groups, annotator.id, method, w, min_agreement, min_votes)
        details["iou_threshold"] = threshold if sel.family != "span" else "any overlap"
    details["consensus_annotations"] = len(anns)
    details["needs_review"] = sum(1 for a in anns if a.consensus and a.consensus.needs_review)
    return ConsensusResult(anns, annotator, issues, details)


def consensus(
    ds: Dataset,
    method: Method = "majority",
    *,
    label_set: str | None = None,
    annotation_type: str | None = None,
    weights: Mapping[str, float] | None = None,
    iou_threshold: float = DEFAULT_IOU,
    min_agreement: float = 0.5,
    min_votes: int = 2,
) -> Dataset:
    """A new Dataset: every original annotation plus one consensus annotation per item.

    Args:
        ds: the dataset; several annotators should have labelled the same items.
        method: `majority`, `weighted` (annotator weights) or `dawid-skene` (labels only).
        label_set: which label set to resolve (needed when several are annotated).
        annotation_type: restrict to one annotation type (e.g. `bbox`).
        weights: annotator id -> weight for `weighted`; estimated from agreement when omitted.
        iou_threshold: regions are the same object at IoU/OKS >= this (spans: any overlap).
        min_agreement: flag `needs_review` when the winner's share is at or below this.
        min_votes: flag `needs_review` when fewer annotators took part.

    The consensus annotator (kind `consensus`) is added to the manifest; an earlier run's output
    by the same consensus annotator is replaced. `Dataset.issues` gains what selection reported.
    """
    res = build_consensus(
        ds, method, label_set=label_set, annotation_type=annotation_type, weights=weights,
        iou_threshold=iou_threshold, min_agreement=min_agreement, min_votes=min_votes,
    )  # fmt: skip
    with paused_gc():
        return with_consensus(ds, res)


def with_consensus(ds: Dataset, res: ConsensusResult) -> Dataset:
    """`ds` plus the consensus annotations and annotator of `res` (originals kept)."""
    from ..dataset import Dataset as _Dataset

    annotators = [a for a in ds.manifest.annotators if a.id != res.annotator.id]
    parents = [ds.manifest.fingerprint] if ds.manifest.fingerprint else list(ds.manifest.parents)
    manifest = ds.manifest.model_copy(
        update={
            "annotators": [*annotators, res.annotator],
            "fingerprint": None,
            "parts": [],
            "parents": parents,
        }
    )
    kept = [a for a in ds.annotations if a.annotator != res.annotator.id]
    return _Dataset(
        manifest,
        ds.items,
        [*kept, *res.annotations],
        issues=[*ds.issues, *res.issues],
        source=ds.source,
        source_format=ds.source_format,
    )
