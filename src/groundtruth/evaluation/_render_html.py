"""The evaluation as one self-contained HTML page, with the worst items drawn.

Reuses the diff page's drawing: ground truth is drawn as the diff's "old" side (red, dashed),
predictions as its "new" side (green), over the item's image under the diff page's media rules
(`diff._media`: local files only from an explicit media root, remote images linked unless
fetching is asked for) or on a blank canvas of the item's size; text items show their
ground-truth and predicted spans highlighted.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..diff._media import MAX_IMAGE_BYTES, Media, MediaPolicy, resolve_media
from ..diff._render_html import _CSS, NEW_COLOUR, OLD_COLOUR, _e, _svg, _text_view
from ._report import DETECTION, _headline, _label_cols, _title, _worst

if TYPE_CHECKING:
    from ..models import AnnotationBase
    from ._report import EvaluationReport

GEOMETRY = ("bbox", "polygon", "polyline", "keypoints", "mask")
TYPES = {"bbox": GEOMETRY, "segm": GEOMETRY, "keypoints": ("keypoints",), "spans": ("span",),
         "classification": ("classification",), "ratings": ("rating",)}  # fmt: skip


def _f(v: Any) -> str:
    return "n/a" if v is None else (f"{v:.3f}" if isinstance(v, float) else _e(v))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_f(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table class="changes"><tr>{head}</tr>{body}</table>'


def _card(report: EvaluationReport, task: str, worst: dict[str, Any],
          gt_by: dict[str, list[AnnotationBase]], pred_by: dict[str, list[AnnotationBase]],
          media: Callable[[str | None], Media]) -> str:  # fmt: skip
    inputs = report._inputs
    assert inputs is not None
    item = inputs.items.get(worst["item_id"])
    data = item.to_json_dict() if item is not None else {"id": worst["item_id"]}
    types = TYPES[task]
    changes = [{"old": a.to_json_dict(), "change": "removed", "kinds": []}
               for a in gt_by[worst["item_id"]] if a.type in types]  # type: ignore[attr-defined]
    for a in pred_by[worst["item_id"]]:
        if a.type in types:  # type: ignore[attr-defined]
            rec = a.to_json_dict()
            rec["label"] = inputs.relabel.get(str(a.label), a.label)  # COCO category numbers
            changes.append({"new": rec, "change": "added", "kinds": []})
    view = ""
    if task in DETECTION:
        shown = media(data.get("uri")) if data.get("kind") == "image" else Media()
        view = _svg(data, changes, shown.href)
        if shown.note:
            view += f'<p class="note">image not shown: {_e(shown.note)}</p>'
    elif task == "spans" and data.get("text"):
        view = _text_view(data["text"], changes)
    elif data.get("text"):
        view = f'<div class="text">{_e(data["text"])}</div>'
    return (f'<section class="card"><h2>{_e(task)}: item {_e(worst["item_id"])} '
            f'<small>{_e(_worst(task, worst, str))}</small></h2><div class="view">{view}</div>'
            "</section>")  # fmt: skip


def render_html(report: EvaluationReport, *,
                media_root: str | os.PathLike[str] | None = None,
                fetch_remote_media: bool = False,
                max_image_bytes: int = MAX_IMAGE_BYTES) -> str:  # fmt: skip
    """The page as a string. Images follow the diff page's rules: local files are embedded
    only from `media_root` (relative URIs confined to it; none without it), remote ones are
    linked unless `fetch_remote_media`."""
    inputs = report._inputs
    if inputs is None:
        raise ValueError("this report has no inputs to draw (build it with evaluate())")
    gt_by: dict[str, list[AnnotationBase]] = defaultdict(list)
    pred_by: dict[str, list[AnnotationBase]] = defaultdict(list)
    for a in inputs.gt:
        gt_by[a.item_id].append(a)
    for a in inputs.pred:
        pred_by[a.item_id].append(a)
    policy = MediaPolicy.make(media_root, fetch_remote=fetch_remote_media,
                              max_bytes=max_image_bytes)
    seen: dict[str | None, Media] = {}

    def media(uri: str | None) -> Media:  # an image shown in several cards is read once
        if uri not in seen:
            seen[uri] = resolve_media(uri, policy)
        return seen[uri]

    parts = []
    for task, sec in report.sections.items():
        head = _headline(task, sec)
        parts.append(f"<h2>{_e(_title(task, sec))}</h2>")
        parts.append(_table([h for h, _ in head], [[v for _, v in head]]))
        cols = _label_cols(task)
        if cols and sec.get("per_label"):
            parts.append(_table(["label", *cols],
                                [[r["label"], *(r.get(c) for c in cols)] for r in sec["per_label"]]))  # fmt: skip
        parts.extend(
            _card(report, task, w, gt_by, pred_by, media)
            for w in sec.get("worst_items") or []
        )
    if report.slices:
        keys = sorted({k for s in report.slices for k in s["metrics"]})
        parts.append("<h2>slices</h2>")
        parts.append(_table(["slice", "value", *keys],
                            [[s["by"], s["value"], *(s["metrics"].get(k) for k in keys)]
                             for s in report.slices]))  # fmt: skip
    notes = "".join(f"<p>note: {_e(n)}</p>" for n in report.notes)
    title = f"evaluate {report.predictions or report.model} against {report.ground_truth}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>
<style>{_CSS}</style></head>
<body><header><h1>groundtruth evaluate</h1><div>{_e(title)}</div>
<div class="legend"><span style="color:{OLD_COLOUR}">▭ ground truth (dashed)</span>
<span style="color:{NEW_COLOUR}">▭ prediction</span></div></header>
<main>{"".join(parts)}{notes}</main>
</body></html>
"""
