"""The diff as Markdown for a pull-request comment: summary, label confusion, first changes.

GitHub caps a comment at 65,536 characters; the first `limit` changes go in a collapsed
`<details>` block, so the comment stays readable and within the cap.

Every string that comes from the data (labels, ids, attribute values, annotator names, file
names, fingerprints, issue messages) goes through `md` or `md_code` where it is put in a cell or
a line; the markup (tables, bold, `<details>`) comes only from the literals here. So a label
`<img src=x onerror=...>`, `![x](http://...)`, `[click](javascript:...)` or `a|b` is shown as
those characters: no tag, image, link, emphasis or extra table cell.
"""

from __future__ import annotations

from typing import Any

from .._inert import md, md_code
from ._render_text import describe_details, short_fingerprint
from ._result import DatasetDiff

_COLS = ("added", "removed", "changed", "unchanged")
_MATRIX_MAX = 12


def _row(cells: list[str]) -> str:
    """A table row of cells that are Markdown already (data escaped by the caller)."""
    return "| " + " | ".join(cells) + " |"


def _counts(counts: dict[str, Any]) -> list[str]:
    return [md(counts[c]) for c in _COLS]


def _confusion(confusion: list[dict[str, Any]]) -> list[str]:
    matched = [c for c in confusion if c["old"] is not None and c["new"] is not None]
    rows = sorted({c["old"] for c in matched})
    cols = sorted({c["new"] for c in matched})
    flips = [c for c in matched if c["old"] != c["new"]]
    if not flips:
        return []
    out = ["", "#### Label changes (old → new)", ""]
    if len(rows) <= _MATRIX_MAX and len(cols) <= _MATRIX_MAX:
        cells = {(c["old"], c["new"]): c["count"] for c in matched}
        out.append(_row(["old \\ new", *(md(n) for n in cols)]))
        out.append(_row(["---", *["---:"] * len(cols)]))
        out.extend(_row([f"**{md(o)}**", *(md(cells.get((o, n), "")) for n in cols)])
                   for o in rows)
        return out
    out += [_row(["old", "new", "annotations"]), _row(["---", "---", "---:"])]
    out += [_row([md(c["old"]), md(c["new"]), md(c["count"])]) for c in flips[:50]]
    return out


def render_markdown(result: DatasetDiff, *, limit: int = 30) -> str:
    r = result.head()
    s = r["summary"]
    old, new = r["old"], r["new"]
    lines = [
        "### groundtruth diff",
        "",
        (f"{md_code(old['source'])} ({md_code(short_fingerprint(old['fingerprint']))}) → "
        f"{md_code(new['source'])} ({md_code(short_fingerprint(new['fingerprint']))}); "
        f"annotations matched by **{md(r['match_by']['method'])}**."),
        "",
        _row(["", *_COLS]),
        _row(["---", *["---:"] * len(_COLS)]),
        _row(["**items**", *_counts(s["items"])]),
        _row(["**annotations**", *_counts(s["annotations"])]),
    ]
    kinds = s["annotations"]["by_change"]
    if kinds:
        lines += ["", "**Annotation changes:** " + ", ".join(
            f"{md(k)} {md(v)}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))]
        geo = s["annotations"]["geometry"]
        if geo["changed"]:
            lines[-1] += (f" (geometry similarity mean {geo['mean_similarity']:.3f}, "
                          f"min {geo['min_similarity']:.3f})")
    lines += _confusion(s["confusion"])
    rows = [(k, v) for k, v in s["by_label"].items() if v["added"] or v["removed"] or v["changed"]]
    if rows:
        rows.sort(key=lambda kv: -(kv[1]["added"] + kv[1]["removed"] + kv[1]["changed"]))
        lines += ["", "#### Per label", "", _row(["label", *_COLS]),
                  _row(["---", *["---:"] * len(_COLS)])]
        lines += [_row([md(k), *_counts(v)]) for k, v in rows[:limit]]
    annotators = s["by_annotator"]
    if len(annotators) > 1 or "(none)" not in annotators:
        lines += ["", "#### Per annotator", "", _row(["annotator", *_COLS]),
                  _row(["---", *["---:"] * len(_COLS)])]
        lines += [_row([md(k), *_counts(v)]) for k, v in list(annotators.items())[:limit]]
    tax = r["taxonomy"]
    if tax["changed"]:
        lab = tax["labels"]
        lines += ["", "#### Taxonomy", ""]
        for key in ("added", "removed"):
            if lab[key]:
                lines.append(f"- labels {key}: " + ", ".join(md_code(x) for x in lab[key][:50]))
            if tax["label_sets"][key]:
                lines.append(f"- label sets {key}: "
                             + ", ".join(md_code(x) for x in tax["label_sets"][key]))
        lines += [f"- probably renamed: {md_code(x['old'])} → {md_code(x['new'])} "
                  f"({md(x['annotations'])})" for x in lab["renamed"]]
    total = len(result.annotation_changes)
    if total:
        shown = result.annotation_changes[:limit]
        lines += ["", (f"<details><summary>First {len(shown)} of {total} annotation "
                      "changes</summary>"), "",
                  _row(["", "item", "type", "id", "label", "what changed"]),
                  _row(["---"] * 6)]
        for c in shown:
            sign = {"added": "➕", "removed": "➖", "changed": "✏️"}[c["change"]]
            what = describe_details(c) if c["change"] == "changed" else c["change"]
            lines.append(_row([sign, *(md(x) for x in (c["item_id"], c["type"], c["id"],
                                                         c.get("label"), what))]))
        lines += ["", "</details>"]
    if r["issues"]:
        lines += [""] + [f"- **{md(i['severity'])}** {md_code(i['code'])}: {md(i['message'])}"
                         for i in r["issues"][:10]]
    return "\n".join(lines) + "\n"
