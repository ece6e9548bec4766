"""`--fail-on` gates: conditions on a diff's counts that stop a delivery in CI.

Grammar (whitespace is ignored)::

    gate    := metric op number ["%"]
    op      := ">" | ">=" | "<" | "<=" | "=" | "==" | "!="
    metric  := ("added" | "removed" | "changed" | "unchanged") "-" ("items" | "annotations")
             | "changed-" kind          e.g. changed-labels, changed-geometry, changed-item
             | "item-kind-changes" | "taxonomy-changes" | "geometry-similarity"

`kind` is a kind of annotation change (`label` or `labels`, `geometry`, `attributes`, `status`,
`annotator`, `confidence`, `text`, `value`, `endpoints`, `type`, `other`, `item`). A number
with `%` compares a share instead of a count: of the old version's annotations for annotation
metrics, of its items for item metrics (of the new version's when the old one is empty).
`geometry-similarity` is the mean IoU/OKS/overlap of the annotations whose geometry changed
(1.0 when none did); it takes no `%`.

A gate fails when its condition holds: `removed-items>0` fails as soon as one item is gone.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..errors import GroundtruthError
from ._options import ANNOTATION_CHANGE_KINDS
from ._result import DatasetDiff

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
    "=": operator.eq, "==": operator.eq, "!=": operator.ne,
}
_GATE = re.compile(r"^([a-z][a-z-]*?)(>=|<=|==|!=|>|<|=)(-?[0-9]+(?:\.[0-9]+)?)(%?)$")
_COUNTS = ("added", "removed", "changed", "unchanged")


class GateSyntaxError(GroundtruthError, ValueError):
    """A `--fail-on` expression that does not parse."""


@dataclass(frozen=True)
class Gate:
    """One parsed condition, e.g. `changed-labels > 5%`."""

    text: str
    metric: str
    op: str
    value: float
    percent: bool


@dataclass(frozen=True)
class GateResult:
    gate: Gate
    actual: float
    failed: bool

    def to_dict(self) -> dict[str, object]:
        return {"gate": self.gate.text, "metric": self.gate.metric, "actual": self.actual,
                "failed": self.failed}


def _metrics() -> list[str]:
    names = [f"{c}-{w}" for c in _COUNTS for w in ("items", "annotations")]
    names += [f"changed-{k}" for k in ANNOTATION_CHANGE_KINDS] + ["changed-labels"]
    return [*names, "item-kind-changes", "taxonomy-changes", "geometry-similarity"]


METRICS: tuple[str, ...] = tuple(_metrics())


def parse_gate(text: str) -> Gate:
    """Parse one expression; GateSyntaxError (with the grammar as hint) when it is not one."""
    compact = re.sub(r"\s+", "", text).lower()
    m = _GATE.match(compact)
    hint = ("write METRIC OP NUMBER[%], e.g. removed-items>0, changed-labels>5%; metrics: "
            + ", ".join(METRICS))
    if m is None:
        raise GateSyntaxError(f"cannot read the gate {text!r}", hint=hint)
    metric, op, number, pct = m.groups()
    if metric not in METRICS:
        raise GateSyntaxError(f"unknown metric {metric!r} in gate {text!r}", hint=hint)
    if pct and metric == "geometry-similarity":
        raise GateSyntaxError(f"{metric} is a similarity in [0, 1]: it takes no %", hint=hint)
    return Gate(text=text, metric=metric, op=op, value=float(number), percent=bool(pct))


def _value(result: DatasetDiff, gate: Gate) -> float:
    s = result.summary
    metric = gate.metric
    if metric == "geometry-similarity":
        mean = s["annotations"]["geometry"]["mean_similarity"]
        return 1.0 if mean is None else float(mean)
    if metric == "taxonomy-changes":
        labels = result.taxonomy["labels"]
        count = float(sum(len(labels[k]) for k in ("added", "removed", "renamed")))
        base = float(len(result.summary["by_label"]) or 1)
    elif metric == "item-kind-changes":
        count = float(s["items"]["by_change"].get("kind", 0))
        base = float(s["items"]["old"] or s["items"]["new"])
    else:
        what, _, rest = metric.partition("-")
        if rest in ("items", "annotations"):
            count = float(s[rest][what])
            base = float(s[rest]["old"] or s[rest]["new"])
        else:
            kind = "label" if rest == "labels" else rest
            count = float(s["annotations"]["by_change"].get(kind, 0))
            base = float(s["annotations"]["old"] or s["annotations"]["new"])
    if gate.percent:
        return round(100.0 * count / base, 6) if base else 0.0
    return count


def evaluate_gates(result: DatasetDiff, gates: Iterable[Gate | str]) -> list[GateResult]:
    """Each gate with the measured value and whether it failed (its condition holds)."""
    out: list[GateResult] = []
    for g in gates:
        gate = parse_gate(g) if isinstance(g, str) else g
        actual = _value(result, gate)
        out.append(GateResult(gate, actual, _OPS[gate.op](actual, gate.value)))
    return out
