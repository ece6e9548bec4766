"""File names a writer derives from data (item ids, image paths, split and label names).

A stranger's dataset chooses those strings, so a writer must not let them pick where a file
goes: `../../x`, `/etc/x`, `C:\\x`, a NUL byte or a control character would write outside the
output folder or fail deep in the OS. `is_safe_relative` says whether a relative path stays
inside the folder it is joined to; `safe_segment` turns any string into one harmless file-name
segment (the writer reports the rename).
"""

from __future__ import annotations

import posixpath
import re

__all__ = ["is_safe_relative", "safe_relative", "safe_segment"]

_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\:*?\"<>|]")


def is_safe_relative(rel: str) -> bool:
    """Whether `rel` is a relative POSIX path that stays inside the folder it is joined to:
    no absolute path, no `..` / `.` / empty segment, no scheme, no control or reserved
    character."""
    if not rel or rel.startswith("/") or "://" in rel or _UNSAFE.search(rel):
        return False
    return all(part not in ("", ".", "..") for part in rel.split("/"))


def safe_segment(name: str, default: str = "item") -> str:
    """`name` as one file-name segment: separators and unsafe characters become `_`, leading
    and trailing dots and spaces go (so never `..` nor a hidden name)."""
    out = _UNSAFE.sub("_", name.replace("/", "_")).strip(". ")
    return out[:200] or default


def safe_relative(rel: str, default: str = "item") -> str:
    """`rel` when it is safe (`is_safe_relative`), else its segments made safe and joined."""
    if is_safe_relative(rel):
        return rel
    parts = [safe_segment(p, "") for p in posixpath.normpath(rel).split("/")]
    return "/".join(p for p in parts if p) or default
