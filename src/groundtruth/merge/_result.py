"""`MergeResult`: the merged dataset and the report (`to_dict()` is the JSON output)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..dataset import Dataset
from ..diff import md, md_code, plain
from ._three_way import SIDES, Conflict, MergeOutcome, Side

MERGE_FORMAT_VERSION = "1.0"


@dataclass
class MergeResult:
    """A three-way merge: `dataset`, `conflicts`, and per-side change counts."""

    dataset: Dataset
    conflicts: list[Conflict]
    counts: dict[str, dict[str, int]]
    sides: dict[str, dict[str, Any]]
    prefer: Side | None

    @classmethod
    def from_outcome(cls, outcome: MergeOutcome, prefer: Side | None) -> MergeResult:
        sides: dict[str, dict[str, Any]] = {"base": outcome.diffs["ours"].old}
        for side in SIDES:
            sides[side] = outcome.diffs[side].new
        return cls(outcome.dataset, outcome.conflicts, outcome.counts, sides, prefer)

    @property
    def unresolved(self) -> list[Conflict]:
        """Conflicts kept as disputes (none when `prefer` was given)."""
        return [c for c in self.conflicts if c.resolved is None]

    @property
    def clean(self) -> bool:
        return not self.unresolved

    def to_dict(self) -> dict[str, Any]:
        return {
            "groundtruth_merge": MERGE_FORMAT_VERSION,
            **self.sides,
            "prefer": self.prefer,
            "merged": {"fingerprint": self.dataset.fingerprint(),
                       "items": len(self.dataset.items),
                       "annotations": len(self.dataset.annotations),
                       "parents": list(self.dataset.manifest.parents)},
            "summary": self.counts,
            "conflicts": [c.to_dict() for c in self.conflicts],
            "unresolved": len(self.unresolved),
        }

    def render(self, format: str = "text") -> str:
        if format == "json":
            import orjson

            return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2).decode()
        if format == "markdown":
            return _markdown(self)
        if format == "text":
            return _text(self)
        raise ValueError(f"unknown merge report format {format!r}: use text, json or markdown")


def _side_line(name: str, info: dict[str, Any], esc: Any) -> str:
    label = f" {esc(info['version'])}" if info.get("version") else ""
    return (f"{name:<7}{esc(info['source'])}{label}  {info['fingerprint']}  "
            f"({info['items']} items, {info['annotations']} annotations)")


def _what(c: Conflict) -> tuple[str, str]:
    def show(v: Any) -> str:
        if v is None:
            return "(removed)" if c.reason != "added/added" else "(none)"
        if isinstance(v, dict) and c.kind == "annotation":
            who = v.get("annotator") or "?"
            return f"{v.get('label') or v.get('type')} by {who}"
        if isinstance(v, dict):
            return ", ".join(f"{k}={v[k]}" for k in sorted(v) if k not in ("extensions",))[:80]
        return str(v)[:80]

    return show(c.ours), show(c.theirs)


def _text(r: MergeResult) -> str:
    lines = [_side_line(n, r.sides[n], plain) for n in ("base", "ours", "theirs")]
    d = r.to_dict()["merged"]
    lines.append(f"merged {d['fingerprint']}  ({d['items']} items, {d['annotations']} "
                 "annotations)")
    for kind, n in r.counts.items():
        lines.append(f"{kind:<12} from ours {n['ours']}, from theirs {n['theirs']}, "
                     f"same on both {n['both']}, conflicts {n['conflicts']}")
    if not r.conflicts:
        lines.append("no conflicts")
    for c in r.conflicts:
        o, t = _what(c)
        how = f"-> {c.resolved}" if c.resolved else "kept as a dispute"
        lines.append(f"conflict {c.kind} {plain(c.key)} ({c.reason}): ours {plain(o)} | "
                     f"theirs {plain(t)}  {how}")
    if r.unresolved:
        lines.append(f"{len(r.unresolved)} conflict(s) remain: settle them (gt review) or "
                     "merge again with --prefer ours|theirs")
    return "\n".join(lines) + "\n"


def _markdown(r: MergeResult) -> str:
    out = ["## Merge", "", "| | source | version | fingerprint | items | annotations |",
           "|---|---|---|---|---|---|"]
    for n in ("base", "ours", "theirs"):
        i = r.sides[n]
        out.append(f"| {n} | {md(i['source'])} | {md(i.get('version') or '')} | "
                   f"`{i['fingerprint']}` | {i['items']} | {i['annotations']} |")
    d = r.to_dict()["merged"]
    out.append(f"| **merged** | | | `{d['fingerprint']}` | {d['items']} | {d['annotations']} |")
    out += ["", "| | from ours | from theirs | same on both | conflicts |", "|---|---|---|---|---|"]
    out += [f"| {k} | {c['ours']} | {c['theirs']} | {c['both']} | {c['conflicts']} |"
            for k, c in r.counts.items()]
    out.append("")
    if r.conflicts:
        out += ["### Conflicts", "", "| kind | record | reason | ours | theirs | resolution |",
                "|---|---|---|---|---|---|"]
        for c in r.conflicts:
            o, t = _what(c)
            out.append(f"| {c.kind} | {md(c.key)} | {c.reason} | {md(o)} | {md(t)} | "
                       f"{c.resolved or 'dispute'} |")
        out.append("")
    else:
        out += ["No conflicts.", ""]
    if r.unresolved:
        out.append(f"**{len(r.unresolved)} conflict(s) remain** (kept as disputes, ids "
                   f"{md_code('ID~ours')} / {md_code('ID~theirs')}).")
    return "\n".join(out) + "\n"
