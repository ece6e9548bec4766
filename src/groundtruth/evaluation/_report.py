"""The evaluation report and its renderings (JSON-ready dict, terminal text, Markdown)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..diff._inert import md, md_code, plain

if TYPE_CHECKING:
    from ._cocoeval import CocoEvalResult
    from ._inputs import Inputs

DETECTION = ("bbox", "segm", "keypoints")


@dataclass
class EvaluationReport:
    """What `evaluate` found: per task a section of metrics, slices, counts and notes."""

    ground_truth: str | None
    predictions: str | None
    model: str | None
    sections: dict[str, dict[str, Any]]
    slices: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    coco: dict[str, CocoEvalResult] = field(default_factory=dict, repr=False)
    _inputs: Inputs | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (COCOeval's raw arrays are left out; see `.coco`)."""
        return {
            "ground_truth": self.ground_truth,
            "predictions": self.predictions,
            "model": self.model,
            "counts": self.counts,
            "tasks": self.sections,
            "slices": self.slices,
            "notes": self.notes,
        }

    def to_text(self) -> str:
        """A terminal report."""
        return "\n".join(_text(self))

    def to_markdown(self) -> str:
        """A Markdown report (a pull-request comment, a model card section)."""
        return "\n".join(_markdown(self))

    def to_html(self, *, media_root: str | None = None, fetch_remote_media: bool = False) -> str:
        """A self-contained page: the figures, and each task's worst items drawn (ground truth
        dashed red, predictions green) over their image or text. Local images are embedded
        only from `media_root` (as in `gt diff`), remote ones linked unless fetched."""
        from ._render_html import render_html

        return render_html(self, media_root=media_root, fetch_remote_media=fetch_remote_media)

    def __str__(self) -> str:
        return self.to_text()


def _f(v: Any, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _headline(task: str, sec: dict[str, Any]) -> list[tuple[str, Any]]:
    if task in DETECTION:
        return list(sec["stats"].items())
    if task == "classification":
        return [
            ("accuracy", sec["accuracy"]), ("macro F1", sec["macro"]["f1"]),
            ("micro F1", sec["micro"]["f1"]), ("weighted F1", sec["weighted"]["f1"]),
            ("items", sec["n"]),
        ]  # fmt: skip
    if task == "spans":
        return [
            ("entity P", sec["micro"]["precision"]), ("entity R", sec["micro"]["recall"]),
            ("entity F1", sec["micro"]["f1"]), ("macro F1", sec["macro"]["f1"]),
            ("token accuracy", sec["token"]["accuracy"]), ("token F1", sec["token"]["micro"]["f1"]),
        ]  # fmt: skip
    return [("MAE", sec["mae"]), ("RMSE", sec["rmse"]), ("Pearson r", sec["pearson"]),
            ("Spearman rho", sec["spearman"]), ("pairs", sec["n"])]  # fmt: skip


def _label_cols(task: str) -> list[str]:
    if task in DETECTION:
        return ["n_gt", "n_pred", "AP", "AP50", "AP75", "AR"]
    return ["support", "predicted", "precision", "recall", "f1"] if task != "ratings" else []


def _text(r: EvaluationReport) -> list[str]:
    # Labels, ids, names, paths and notes come from the datasets: shown inert (`plain`), so an
    # escape sequence in a label cannot drive the terminal or forge a line of the report.
    src = plain(r.predictions) if r.predictions else f"annotator {plain(repr(r.model))}"
    lines = [f"evaluate {src} against {plain(r.ground_truth)}"]
    lines.append("  " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in r.counts.items()))
    for task, sec in r.sections.items():
        lines.append("")
        lines.append(_title(task, sec))
        for name, v in _headline(task, sec):
            lines.append(f"  {name:<16}{_f(v):>8}")
        cols = _label_cols(task)
        rows = sec.get("per_label", [])
        if cols and rows:
            lines.append("  " + f"{'label':<20}" + "".join(f"{c:>10}" for c in cols))
            lines.extend(
                "  " + f"{plain(row['label'])[:20]:<20}"
                + "".join(f"{_f(row.get(c)):>10}" for c in cols)
                for row in rows
            )
        if task == "classification" and sec["labels"]:
            lines.append("  confusion (rows true, columns predicted): "
                         + ", ".join(plain(v) for v in sec["labels"]))
            lines.extend("    " + " ".join(f"{v:>6}" for v in row) for row in sec["confusion_matrix"])
        worst = sec.get("worst_items") or []
        if worst:
            lines.append("  worst items:")
            lines.extend(f"    {_worst(task, w, plain)}" for w in worst)
    if r.slices:
        lines.append("")
        lines.append("slices")
        for s in r.slices:
            counts = ", ".join(f"{k} {v}" for k, v in s["counts"].items())
            metrics = ", ".join(f"{k} {_f(v)}" for k, v in s["metrics"].items())
            lines.append(f"  {plain(s['by'])}={plain(s['value'])}: {metrics}  ({counts})")
    if r.notes:
        lines.append("")
        lines.extend(f"note: {plain(n)}" for n in r.notes)
    return lines


def _title(task: str, sec: dict[str, Any]) -> str:
    if task in DETECTION:
        return (
            f"{task} (COCO: {sec['n_gt']} ground truth, {sec['n_pred']} predictions on "
            f"{sec['n_items']} items, maxDets {sec['max_dets']})"
        )
    if task == "spans":
        return f"spans ({sec['n_true']} true entities, {sec['n_pred']} predicted)"
    if task == "classification":
        return (
            f"classification ({sec['n']} items; {sec['items_without_prediction']} without a "
            f"prediction, {sec['items_with_disagreeing_ground_truth']} with disagreeing "
            "ground truth left out)"
        )
    return f"ratings ({sec['n']} pairs, {sec['ratings_without_prediction']} without a prediction)"


def _worst(task: str, w: dict[str, Any], esc: Callable[[Any], str]) -> str:
    """One worst item; `esc` makes the data in it (id, labels) inert for the output."""
    item = esc(w["item_id"])
    if task in DETECTION:
        return f"{item}: {w['missed']} missed, {w['false_positives']} false positives"
    if task == "spans":
        return f"{item}: {w['missed']} missed, {w['spurious']} spurious"
    if task == "classification":
        return (f"{item}: true {esc(w['true'])}, predicted {esc(w['predicted'])} "
                f"({_f(w['confidence'])})")
    return f"{item}: true {esc(w['true'])}, predicted {esc(w['predicted'])}"


def _md_cell(v: Any) -> str:
    """A table cell: a figure as figures are shown, any string (a label, a slice value) as
    inert Markdown (no HTML, link, image, emphasis or `|` that would split the row)."""
    return md(v) if isinstance(v, str) else _f(v)


def _md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(md(h) for h in header) + " |", "|" + "---|" * len(header)]
    out.extend("| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows)
    return out


def _markdown(r: EvaluationReport) -> list[str]:
    src = md(r.predictions) if r.predictions else f"annotator {md_code(r.model)}"
    lines = [f"## Evaluation: {src} against {md(r.ground_truth)}", ""]
    lines.append(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in r.counts.items()))
    for task, sec in r.sections.items():
        lines += ["", f"### {_title(task, sec)}", ""]
        head = _headline(task, sec)
        lines += _md_table([h for h, _ in head], [[v for _, v in head]])
        cols = _label_cols(task)
        if cols and sec.get("per_label"):
            lines.append("")
            lines += _md_table(["label", *cols], [[row["label"], *(row.get(c) for c in cols)]
                                                  for row in sec["per_label"]])  # fmt: skip
        worst = sec.get("worst_items") or []
        if worst:
            lines += ["", "Worst items:", ""]
            lines.extend(f"- {_worst(task, w, md)}" for w in worst)
    if r.slices:
        keys = sorted({k for s in r.slices for k in s["metrics"]})
        ckeys = sorted({k for s in r.slices for k in s["counts"]})
        lines += ["", "### Slices", ""]
        lines += _md_table(
            ["slice", "value", *ckeys, *keys],
            [[s["by"], s["value"], *(s["counts"].get(k) for k in ckeys),
              *(s["metrics"].get(k) for k in keys)] for s in r.slices],
        )  # fmt: skip
    if r.notes:
        lines.append("")
        lines.extend(f"> {md(n)}" for n in r.notes)
    return lines
