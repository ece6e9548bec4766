"""Catching a forced wrong `--from`: a reader that finds nothing of its format says so.

Reading a COCO file `--from labelstudio` or `--from conll` used to "succeed" with one odd
item (id `None`) or a sentence made of JSON. Two checks stop that, both ending in one
`WrongFormatError` that names the format the file looks like:

- `refuse_if_other_format`, before a text reader (CoNLL, CoNLL-U) starts: the reader's own
  detection gives the file no chance at all while another format claims it firmly.
- `check_found`, after a JSON reader: it read records but every one was skipped (none is a
  record of its format), and detection names another format.

A file that detection cannot place is read as asked: its problems are reported as issues.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ConversionError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from ..issues import Issue

__all__ = ["WrongFormatError", "check_found", "looks_like", "refuse_if_other_format"]

FIRM = 0.8  # a detection score this high is a claim, not a guess


class WrongFormatError(ConversionError):
    """The file is not in the format it was read as (a forced wrong `--from`)."""


def _scores(path: str, fs: AbstractFileSystem | None) -> dict[str, float]:
    from ..io import read_head
    from . import available

    try:
        head = read_head(path, fs=fs)
    except (OSError, ValueError):
        return {}
    out: dict[str, float] = {}
    for name, conv in available().items():
        try:
            out[name] = float(conv.detect(head, path))
        except Exception:  # noqa: BLE001 - a third-party detect() must not hide the real error
            out[name] = 0.0
    return out


def looks_like(name: str, path: str, fs: AbstractFileSystem | None) -> str | None:
    """The format detection firmly picks for `path`, if it is not `name`; else None."""
    scores = _scores(path, fs)
    ranked = sorted(((s, n) for n, s in scores.items() if n != name and s >= FIRM),
                    reverse=True)
    if not ranked or scores.get(name, 0.0) >= ranked[0][0]:
        return None
    return ranked[0][1]


def _error(name: str, path: str, other: str, why: str) -> WrongFormatError:
    return WrongFormatError(
        f"no {name} records found in {path}; it looks like {other} — try --from {other}",
        hint=f"{why}; `gt formats` lists the formats, and leaving out --from detects it",
    )


def refuse_if_other_format(name: str, path: str, fs: AbstractFileSystem | None) -> None:
    """Before reading: raise when `name`'s own detection rules the file out and another
    format claims it (a JSON file read as CoNLL)."""
    scores = _scores(path, fs)
    if scores.get(name, 0.0) > 0.0:
        return
    other = looks_like(name, path, fs)
    if other is not None:
        raise _error(name, path, other, f"nothing in the file is laid out as {name}")


def check_found(
    name: str, path: str, fs: AbstractFileSystem | None, *, items: int, issues: list[Issue],
) -> None:
    """After reading: raise when no item came out although the file had records (each one
    skipped with an error) and detection names another format."""
    if items or not any(i.severity == "error" for i in issues):
        return
    other = looks_like(name, path, fs)
    if other is not None:
        first = next(i for i in issues if i.severity == "error")
        raise _error(name, path, other, f"every record was skipped ({first.message})")
