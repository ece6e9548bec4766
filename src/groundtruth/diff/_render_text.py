"""The diff for a terminal: counts, what kind of changes, label flips, the first changes."""

from __future__ import annotations

from typing import Any

from .._inert import plain
from ._result import DatasetDiff

_COLS = ("added", "removed", "changed", "unchanged")


def short_fingerprint(fp: str | None) -> str:
    return fp.split(":", 1)[-1][:12] if fp else "-"


def describe_change(c: dict[str, Any]) -> str:
    """One annotation change in a line: `~ bbox 7 cat: label cat -> dog; geometry IoU 0.83`."""
    sign = {"added": "+", "removed": "-", "changed": "~"}[c["change"]]
    ident = c["id"] + (f" (was {c['old_id']})" if c.get("old_id") else "")
    head = f"{sign} item {c['item_id']}  {c['type']} {ident}"
    if c["change"] != "changed":
        return f"{head}  {c.get('label') or ''}".rstrip()
    return f"{head}: {describe_details(c)}"


def describe_details(c: dict[str, Any]) -> str:
    parts: list[str] = []
    d = c.get("details", {})
    for kind in c.get("kinds", []):
        info = d.get(kind, {})
        if kind in ("label", "status", "annotator", "confidence", "type", "item"):
            parts.append(f"{kind} {info.get('old')} -> {info.get('new')}")
        elif kind == "geometry":
            delta = info.get("delta", {})
            moved = ", ".join(f"d{k} {v:+g}" for k, v in delta.items())
            if info.get("bbox_only"):
                parts.append(f"only the bbox changed ({moved or 'bbox'}); the shape is the same")
                continue
            bits = [f"{k} {info[k]:.3f}" for k in ("iou", "oks", "overlap") if k in info]
            bits += [moved] if moved else []
            parts.append("geometry " + (", ".join(bits) or ", ".join(info.get("fields", []))))
        elif kind == "attributes":
            bits = [f"{k} {', '.join(v)}" for k, v in info.items()]
            parts.append("attributes " + "; ".join(bits))
        elif kind in ("text", "value"):
            for name, v in info.items():
                parts.append(f"{name} {_clip(v['old'])} -> {_clip(v['new'])}")
        else:
            parts.append(f"{kind} ({', '.join(info.get('fields', []))})")
    return "; ".join(parts)


def _clip(value: Any, n: int = 40) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= n else text[: n - 3] + "..."


def _table(rows: list[tuple[str, dict[str, Any]]], first: str) -> list[str]:
    names = [plain(r[0]) for r in rows]
    width = max([len(first), *(len(n) for n in names)])
    out = [f"  {first:<{width}}  " + "  ".join(f"{c:>9}" for c in _COLS)]
    for name, (_, counts) in zip(names, rows, strict=True):
        out.append(f"  {name:<{width}}  " + "  ".join(f"{counts.get(c, 0):>9}" for c in _COLS))
    return out


def render_text(result: DatasetDiff, *, limit: int = 20) -> str:
    """Plain text; `limit` caps the lists (changes, labels, annotators) shown.

    Labels, ids, names and messages come from the data: every line goes through `plain`, so
    no escape sequence or control character from a dataset reaches the terminal, and no
    newline in a label can start a line of its own. Nothing is interpreted as markup.
    """
    r = result.head()
    s = r["summary"]
    lines = [
        f"old  {r['old']['source']}  ({r['old']['format']}, {short_fingerprint(r['old']['fingerprint'])})",
        f"new  {r['new']['source']}  ({r['new']['format']}, {short_fingerprint(r['new']['fingerprint'])})",
        f"annotations matched by {r['match_by']['method']} ({r['match_by']['reason']})",
        "",
        *_table([("items", s["items"]), ("annotations", s["annotations"])], ""),
    ]
    if result.identical:
        lines += ["", "no changes"]
    kinds = s["annotations"]["by_change"]
    if kinds:
        geo = s["annotations"]["geometry"]
        text = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))
        if geo["changed"]:
            text += (f"  (geometry similarity mean {geo['mean_similarity']:.3f}, "
                     f"min {geo['min_similarity']:.3f})")
        lines += ["", f"annotation changes: {text}"]
    if s["items"]["by_change"]:
        lines.append("item changes: " + ", ".join(
            f"{k} {v}" for k, v in sorted(s["items"]["by_change"].items(), key=lambda kv: -kv[1])))
    flips = [c for c in s["confusion"] if c["old"] != c["new"] and c["old"] and c["new"]]
    if flips:
        lines += ["", "label changes (old -> new):"]
        lines += [f"  {c['old']} -> {c['new']}  {c['count']}" for c in flips[:limit]]
        if len(flips) > limit:
            lines.append(f"  ... {len(flips) - limit} more")
    tax = r["taxonomy"]
    if tax["changed"]:
        lab = tax["labels"]
        lines += ["", "taxonomy changed:"]
        for key in ("added", "removed"):
            if lab[key]:
                lines.append(f"  labels {key}: {', '.join(lab[key][:limit])}")
        for key in ("added", "removed"):
            if tax["label_sets"][key]:
                lines.append(f"  label sets {key}: {', '.join(tax['label_sets'][key])}")
        for ren in lab["renamed"]:
            lines.append(f"  probably renamed: {ren['old']} -> {ren['new']} "
                         f"({ren['annotations']} annotations, {ren['share']:.0%})")
    for title, key in (("per label", "by_label"), ("per annotator", "by_annotator")):
        rows = [(k, v) for k, v in s[key].items()
                if v["added"] or v["removed"] or v["changed"]]
        if rows and (key == "by_label" or len(s[key]) > 1 or "(none)" not in s[key]):
            rows.sort(key=lambda kv: -(kv[1]["added"] + kv[1]["removed"] + kv[1]["changed"]))
            lines += ["", f"{title}:", *_table(rows[:limit], "")]
    total = len(result.annotation_changes)
    if total:
        lines += ["", f"first {min(limit, total)} of {total} annotation changes:"]
        lines += ["  " + describe_change(c) for c in result.annotation_changes[:limit]]
    items = []
    for c in result.item_changes:
        if c["change"] != "changed" or set(c["kinds"]) != {"annotations"}:
            items.append(c)
            if len(items) >= limit:
                break
    if items:
        lines += ["", "item changes:"]
        for c in items[:limit]:
            sign = {"added": "+", "removed": "-", "changed": "~"}[c["change"]]
            kinds_text = ", ".join(k for k in c.get("kinds", []) if k != "annotations")
            lines.append(f"  {sign} item {c['item_id']}" + (f": {kinds_text}" if kinds_text else ""))
    if r["issues"]:
        lines += ["", "notes:"]
        lines += [f"  {i['severity']} [{i['code']}] {i['message']}" for i in r["issues"][:limit]]
    # the one place data is made inert: each line is one line, with nothing a terminal obeys
    return "\n".join(plain(line) for line in lines) + "\n"
