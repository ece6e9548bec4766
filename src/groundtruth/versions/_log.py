"""`gt log`: the chain of versions behind a dataset, following the parents its lineage names.

Each version's manifest says where its parents were read from (`lineage.parents[].source`).
A parent is followed when a native dataset is there *and* its fingerprint is the one recorded
(a folder overwritten since then holds another version: that is said, not followed). A relative
source is tried against the working folder, then against the child's folder; for a version read
from git (`git://REPO:REF@PATH`), the ancestors of REF are searched for the commit whose dataset
at PATH has the parent's fingerprint (see `_git`). Foreign parents
(a COCO file ...) end the chain with their format and hash. Versions are visited once each
(a merge's two lines may share ancestors), newest first, breadth first.
"""

from __future__ import annotations

import posixpath
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..diff import md, md_code, plain
from ..errors import GroundtruthError
from ..models import Manifest, ParentRef

MAX_VERSIONS = 1000


@dataclass
class LogEntry:
    """One version in the log, or a parent that could not be followed."""

    fingerprint: str | None
    source: str | None
    manifest: Manifest | None = None
    reachable: bool = True
    reason: str | None = None
    parent: ParentRef | None = None
    children: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fingerprint": self.fingerprint, "source": self.source,
                               "reachable": self.reachable}
        if not self.reachable:
            out["reason"] = self.reason
            if self.parent is not None:
                out |= {k: v for k, v in self.parent.model_dump(
                    mode="json", exclude_none=True).items() if k not in out}
            return out
        m = self.manifest
        assert m is not None
        lin = m.lineage
        out |= {"name": m.name, "version": m.version,
                "created": m.created.isoformat() if m.created else None}
        if lin is None:
            out["lineage"] = None
            out["parents"] = [{"fingerprint": p} for p in m.parents]
        else:
            d = lin.derivation
            out |= {"time": d.time.isoformat() if d.time else None, "operation": d.operation,
                    "message": d.message, "options": d.options, "tool": d.tool,
                    "tool_version": d.tool_version,
                    "parents": [p.model_dump(mode="json", exclude_none=True)
                                for p in lin.parents],
                    "changes": lin.changes.model_dump(mode="json", exclude_none=True)
                    if lin.changes else None}
        return out


def _scheme(url: str | None) -> str:
    return url.split("://", 1)[0].lower() if url and "://" in url else "file"


def _candidates(source: str, child: str | None) -> list[str]:
    """Where to look for a parent. A manifest is data from someone else: its sources are
    followed only on the child's own kind of storage (a local path from a local dataset, git
    from git, s3 from s3), never over http(s), so a crafted lineage cannot make `gt log`
    fetch arbitrary URLs."""
    if _scheme(source) in ("http", "https") or _scheme(source) != _scheme(child):
        return []
    out = [source]
    if child and "://" not in source and not posixpath.isabs(source):
        base = posixpath.dirname(child.rstrip("/"))
        out.append(posixpath.normpath(posixpath.join(base, source)))
    return list(dict.fromkeys(out))


def _open(ref: ParentRef, child: str | None) -> tuple[Manifest | None, str | None, str]:
    """(manifest, where, why not) of a native parent."""
    from ..io import is_native, open_native

    why = "its source was not recorded" if not ref.source else "no dataset there"
    if ref.source and not _candidates(ref.source, child):
        why = (f"its source is on another kind of storage ({_scheme(ref.source)}); "
               f"run gt log on it there")
    for where in _candidates(ref.source, child) if ref.source else []:
        try:
            if not is_native(where):
                continue
            m = open_native(where).manifest
        except (GroundtruthError, OSError, ValueError) as exc:
            why = f"cannot be read ({exc})"
            continue
        if ref.fingerprint and m.fingerprint != ref.fingerprint:
            why = f"it now holds another version ({m.fingerprint})"
            continue
        return m, where, ""
    if child and ref.fingerprint:  # a version kept in git: look for it in the history
        from ._git import find_in_history

        found = find_in_history(child, ref.fingerprint)
        if found is not None:
            try:
                return open_native(found).manifest, found, ""
            except (GroundtruthError, OSError, ValueError) as exc:
                why = f"cannot be read at {found} ({exc})"
    return None, None, why


def log(url: str, *, max_versions: int = MAX_VERSIONS) -> list[LogEntry]:
    """The versions behind the native dataset at `url`, newest first (see the module doc)."""
    from ..io import open_native

    head = open_native(url).manifest
    entries = [LogEntry(head.fingerprint, url, head)]
    # a version is its fingerprint *and* where it is: a re-encoding keeps the fingerprint
    seen = {(head.fingerprint, posixpath.normpath(url))}
    queue: deque[tuple[Manifest, str]] = deque([(head, url)])
    while queue and len(entries) < max_versions:
        m, where = queue.popleft()
        refs = m.lineage.parents if m.lineage else [ParentRef(fingerprint=fp)
                                                    for fp in m.parents]
        for ref in refs:
            if ref.format not in (None, "groundtruth"):
                entries.append(LogEntry(None, ref.source, reachable=False, parent=ref,
                                        reason=f"a {ref.format} file: the chain starts here"))
                continue
            pm, pwhere, why = _open(ref, where)
            key = (ref.fingerprint, posixpath.normpath(pwhere or ref.source or ""))
            if key in seen:
                continue
            seen.add(key)
            if pm is None or pwhere is None:
                entries.append(LogEntry(ref.fingerprint, ref.source, reachable=False,
                                        parent=ref, reason=f"not reachable: {why}"))
                continue
            entries.append(LogEntry(ref.fingerprint, pwhere, pm))
            queue.append((pm, pwhere))
    return entries


def _changes_text(c: dict[str, Any] | None) -> str | None:
    if not c:
        return None
    parts = []
    for kind in ("items", "annotations"):
        n = c.get(kind, {})
        parts.append(f"{kind} +{n.get('added', 0)} -{n.get('removed', 0)} "
                     f"~{n.get('changed', 0)}")
    return ", ".join(parts)


def render_log(entries: list[LogEntry], format: str = "text") -> str:
    """The log as `text`, `json` or `markdown` (a CHANGELOG section for a dataset card)."""
    data = [e.to_dict() for e in entries]
    if format == "json":
        import orjson

        return orjson.dumps({"versions": data}, option=orjson.OPT_INDENT_2).decode() + "\n"
    lines: list[str] = ["## Changelog", ""] if format == "markdown" else []
    for d in data:
        lines += _markdown(d) if format == "markdown" else _text(d)
    return "\n".join(lines).rstrip() + "\n"


def _parent_list(d: dict[str, Any]) -> str:
    out = []
    for p in d.get("parents") or []:
        role = "merge base " if p.get("role") == "merge-base" else ""
        name = p.get("fingerprint") or (f"{p.get('format')} {p.get('source')}")
        out.append(role + str(name))
    return ", ".join(out)


def _text(d: dict[str, Any]) -> list[str]:
    if not d["reachable"]:
        what = d.get("fingerprint") or plain(d.get("source"))
        sha = f" sha256 {d['sha256']}" if d.get("sha256") else ""
        return [f"parent {what} ({plain(d.get('source'))}{sha}): {plain(d.get('reason'))}", ""]
    head = f"version {d['fingerprint']}"
    if d.get("version"):
        head += f"  {plain(d['version'])}"
    lines = [head, f"  name       {plain(d.get('name'))}", f"  at         {plain(d['source'])}"]
    if d.get("lineage", True) is None:
        lines.append("  (no lineage recorded)")
    else:
        lines.append(f"  made by    {d.get('operation')} {plain(d.get('tool'))} "
                     f"{d.get('tool_version') or ''}".rstrip() + f", {d.get('time')}")
        if d.get("message"):
            lines.append(f"  message    {plain(d['message'])}")
        changes = _changes_text(d.get("changes"))
        if changes:
            lines.append(f"  changes    {changes}")
    if d.get("parents"):
        lines.append(f"  parents    {plain(_parent_list(d))}")
    return [*lines, ""]


def _markdown(d: dict[str, Any]) -> list[str]:
    if not d["reachable"]:
        what = md_code(d.get("fingerprint") or d.get("source"))
        return [f"- parent {what}: {md(d.get('reason'))}", ""]
    title = md(d["version"]) if d.get("version") else d["fingerprint"][:19]
    when = d.get("time") or d.get("created") or ""
    lines = [f"### {title} ({when[:10]})" if when else f"### {title}", "",
             f"- fingerprint {md_code(d['fingerprint'])}"]
    if d.get("operation"):
        lines.append(f"- {md(d['operation'])}" + (f": {md(d['message'])}"
                                                  if d.get("message") else ""))
    changes = _changes_text(d.get("changes"))
    if changes:
        lines.append(f"- changes: {changes}")
    if d.get("parents"):
        refs = [("merge base " if p.get("role") == "merge-base" else "")
                + (p["fingerprint"] if p.get("fingerprint")  # ours: a hash, shown as is
                   else f"{md(p.get('format'))} {md_code(p.get('source'))}")
                for p in d["parents"]]
        lines.append(f"- parents: {', '.join(refs)}")
    return [*lines, ""]
