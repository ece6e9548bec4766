"""Pairing the annotations of one item across two versions: by id, or by content.

Content matching works type by type within the item: identical records (everything but the
id) pair first, then the rest by optimal assignment (Hungarian method, scipy's
`linear_sum_assignment`) on the type's similarity (IoU, OKS, overlap, equality), keeping pairs
at or above the type's threshold. A same label and a same annotator break ties, so a
re-export's boxes pair with the boxes they came from. Relations come last: their ends are
translated through the pairs found for the other annotations.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..models import AnnotationBase
from ._compare import without_bookkeeping
from ._options import DiffOptions
from ._similarity import SIMILARITY, annotation_type, relation_similarity


@dataclass
class GroupMatch:
    """The outcome for one item: pairs (old, new, similarity or None), removed, added."""

    pairs: list[tuple[AnnotationBase, AnnotationBase, float | None]] = field(default_factory=list)
    removed: list[AnnotationBase] = field(default_factory=list)
    added: list[AnnotationBase] = field(default_factory=list)
    duplicate_ids: list[str] = field(default_factory=list)


def match_by_id(old: Sequence[AnnotationBase], new: Sequence[AnnotationBase]) -> GroupMatch:
    """Pair equal ids; a duplicated id pairs in order of appearance (and is reported)."""
    out = GroupMatch()
    by_id: dict[str, list[AnnotationBase]] = defaultdict(list)
    for a in old:
        by_id[a.id].append(a)
    for b in new:
        bucket = by_id.get(b.id)
        if bucket:
            out.pairs.append((bucket.pop(0), b, None))
        else:
            out.added.append(b)
    for rest in by_id.values():
        out.removed.extend(rest)
    if len(by_id) != len(old) or len({b.id for b in new}) != len(new):
        counts = Counter(a.id for a in old) | Counter(b.id for b in new)
        out.duplicate_ids = sorted(k for k, c in counts.items() if c > 1)
    return out


def _content_key(ann: AnnotationBase, excluded: frozenset[str]) -> str:
    return repr([(k, without_bookkeeping(v) if k == "extensions" and v else v)
                 for k, v in ann.__dict__.items() if k not in excluded])


def _codes(values: Sequence[str | None], table: dict[str | None, int]) -> np.ndarray:
    return np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int64,
                       count=len(values))


def _tiebreak(old: Sequence[AnnotationBase], new: Sequence[AnnotationBase]) -> np.ndarray:
    """A small bonus for the same label, a smaller one for the same annotator (vectorised)."""
    labels: dict[str | None, int] = {}
    annotators: dict[str | None, int] = {}
    la, lb = _codes([a.label for a in old], labels), _codes([b.label for b in new], labels)
    aa = _codes([a.annotator for a in old], annotators)
    ab = _codes([b.annotator for b in new], annotators)
    out: np.ndarray = (1e-3 * (la[:, None] == lb[None, :])
                       + 1e-4 * (aa[:, None] == ab[None, :]))
    return out


def _assign(old: Sequence[AnnotationBase], new: Sequence[AnnotationBase], sim: np.ndarray,
            threshold: float, out: GroupMatch) -> tuple[list[int], list[int]]:
    """Optimal pairs at or above `threshold`; returns the unpaired old and new indices."""
    if not old or not new:
        return list(range(len(old))), list(range(len(new)))
    from scipy.optimize import linear_sum_assignment  # imported when first needed: slow

    score = sim + _tiebreak(old, new)
    rows, cols = linear_sum_assignment(score, maximize=True)
    used_old, used_new = set(), set()
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        s = float(sim[i, j])
        if s > 0 and s >= threshold:
            out.pairs.append((old[i], new[j], s))
            used_old.add(i)
            used_new.add(j)
    return ([i for i in range(len(old)) if i not in used_old],
            [j for j in range(len(new)) if j not in used_new])


def match_by_content(old: Sequence[AnnotationBase], new: Sequence[AnnotationBase],
                     options: DiffOptions, ignored: set[str]) -> GroupMatch:
    """Pair the annotations of one item by content, type by type (see the module doc)."""
    out = GroupMatch()
    excluded = frozenset({"id", *ignored})
    old_by_type: dict[str, list[AnnotationBase]] = defaultdict(list)
    new_by_type: dict[str, list[AnnotationBase]] = defaultdict(list)
    for a in old:
        old_by_type[annotation_type(a)].append(a)
    for b in new:
        new_by_type[annotation_type(b)].append(b)
    types = sorted(set(old_by_type) | set(new_by_type), key=lambda t: t == "relation")
    for t in types:
        olds, news = old_by_type.get(t, []), new_by_type.get(t, [])
        if t == "relation":
            id_map = {a.id: b.id for a, b, _ in out.pairs}
            sim = relation_similarity(olds, news, id_map)
            left_old, left_new = _assign(olds, news, sim, 1.0, out)
            out.removed.extend(olds[i] for i in left_old)
            out.added.extend(news[j] for j in left_new)
            continue
        # Identical records first: cheap, and the bulk of any re-export.
        waiting: dict[str, list[AnnotationBase]] = defaultdict(list)
        for a in olds:
            waiting[_content_key(a, excluded)].append(a)
        rest_new: list[AnnotationBase] = []
        for b in news:
            bucket = waiting.get(_content_key(b, excluded))
            if bucket:
                out.pairs.append((bucket.pop(0), b, 1.0))
            else:
                rest_new.append(b)
        rest_old = [a for bucket in waiting.values() for a in bucket]
        fn = SIMILARITY.get(t)
        if fn is None or not rest_old or not rest_new:
            out.removed.extend(rest_old)
            out.added.extend(rest_new)
            continue
        sim = fn(rest_old, rest_new)
        left_old, left_new = _assign(rest_old, rest_new, sim, options.threshold(t), out)
        out.removed.extend(rest_old[i] for i in left_old)
        out.added.extend(rest_new[j] for j in left_new)
    return out
