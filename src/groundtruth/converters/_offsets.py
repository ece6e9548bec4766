"""Text offsets from other tools, checked and repaired into Unicode code points.

JavaScript labeling tools (Label Studio, doccano, Argilla) count offsets in UTF-16 code units, so
every astral character (emoji, some CJK) before a span shifts it by one in Python; browsers may
also have computed offsets on text whose `\\r\\n` were normalised to `\\n`. groundtruth stores code
points, end exclusive. `check_span` verifies `text[start:end] == span_text` and, when it fails,
tries in order: UTF-16 units -> code points, CRLF-normalised text -> original text, and a search
for the span text near its offsets. Whichever fix applied is reported as a warning issue; a span
no fix explains is reported as an error.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Any, Literal

from .._text import quote, where_differ
from ..issues import Issue, define, issue

UTF16_CONVERTED = define(
    "span.offsets-utf16-converted", "warning",
    "Span offsets were UTF-16 code units and were converted to code points")
CRLF_CONVERTED = define(
    "span.offsets-crlf-converted", "warning",
    "Span offsets counted CRLF line ends as one character and were converted")
RELOCATED = define(
    "span.offsets-relocated", "warning",
    "Span offsets did not match its text; the text was found nearby and the offsets moved")
TEXT_MISMATCH = define(
    "span.text-mismatch", "error", "A span's stored text differs from the text at its offsets")
OUT_OF_RANGE = define(
    "span.out-of-range", "error", "A span's offsets lie outside the item's text")
BAD_OFFSETS = define(
    "span.bad-offsets", "error", "A span's offsets are not integers with 0 <= start <= end")

Fix = Literal["utf16", "crlf", "relocated"]
OffsetUnit = Literal["auto", "codepoints", "utf16"]

_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")

NEARBY = 256
"""How far (code points) from the stated offsets the span text is looked for."""


class OffsetMap:
    """Maps offsets of one text between code points, UTF-16 units and CRLF-normalised text.

    The tables are built lazily and only when the text needs them (astral characters, CRLF), so
    the common case costs one scan of the text.
    """

    __slots__ = ("_astral", "_crlf", "_has_astral", "_has_crlf", "_units", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        # Any code point above U+FFFF takes two UTF-16 units.
        self._has_astral = not text.isascii() and _ASTRAL.search(text) is not None
        self._has_crlf = "\r\n" in text
        self._astral: list[int] | None = None
        self._crlf: list[int] | None = None
        self._units: list[int] | None = None

    @property
    def has_astral(self) -> bool:
        return self._has_astral

    @property
    def has_crlf(self) -> bool:
        return self._has_crlf

    def _astral_positions(self) -> list[int]:
        if self._astral is None:
            self._astral = [i for i, c in enumerate(self.text) if ord(c) > 0xFFFF]
        return self._astral

    def _crlf_positions(self) -> list[int]:
        """Normalised-text index of the `\\n` of each `\\r\\n`."""
        if self._crlf is None:
            out: list[int] = []
            i = self.text.find("\r\n")
            while i >= 0:
                out.append(i - len(out))
                i = self.text.find("\r\n", i + 2)
            self._crlf = out
        return self._crlf

    def utf16_length(self) -> int:
        return len(self.text) + len(self._astral_positions())

    def utf16_to_cp(self, unit: int) -> int:
        """Code point index of UTF-16 unit `unit` (a unit inside a surrogate pair rounds up)."""
        if not self._has_astral:
            return unit
        starts = self._astral_units()
        # Code points after the k-th astral character are shifted by k + 1 units.
        k = bisect_left(starts, unit)  # astral characters that start before `unit`
        if k and starts[k - 1] + 1 == unit:
            return unit - k + 1  # the low surrogate: round up to the next code point
        return unit - k

    def _astral_units(self) -> list[int]:
        """UTF-16 index of the first unit of each astral character."""
        if self._units is None:
            self._units = [a + k for k, a in enumerate(self._astral_positions())]
        return self._units

    def cp_to_utf16(self, cp: int) -> int:
        if not self._has_astral:
            return cp
        return cp + bisect_left(self._astral_positions(), cp)

    def normalised_to_cp(self, n: int) -> int:
        """Index in the original text of index `n` of the CRLF-normalised text."""
        if not self._has_crlf:
            return n
        return n + bisect_right(self._crlf_positions(), n - 1)

    def cp_to_normalised(self, cp: int) -> int:
        if not self._has_crlf:
            return cp
        crlf = self._crlf_positions()
        originals = [q + k for k, q in enumerate(crlf)]  # original index of each `\n`
        return cp - bisect_right(originals, cp - 1)


@dataclass(frozen=True, slots=True)
class Checked:
    """Outcome of checking one span: the code-point offsets to keep, and what happened."""

    start: int
    end: int
    fix: Fix | None = None
    issue: Issue | None = None
    keep: bool = True


def check_span(
    text: str,
    start: Any,
    end: Any,
    span_text: str | None = None,
    *,
    offsets: OffsetUnit = "auto",
    omap: OffsetMap | None = None,
    **where: Any,
) -> Checked:
    """Check (and repair) one span of `text`; `where` locates any issue (file, line, path...).

    `offsets`: `codepoints` trusts the unit (no UTF-16 guess), `utf16` always converts,
    `auto` converts only when that makes the stored text match (or, with no stored text, when
    the offsets only fit the text counted in UTF-16 units).
    """
    if (
        not isinstance(start, int) or not isinstance(end, int)
        or isinstance(start, bool) or isinstance(end, bool) or start < 0 or end < start
    ):
        return Checked(0, 0, None, issue(
            BAD_OFFSETS, f"span offsets [{start!r}, {end!r}] are not 0 <= start <= end integers",
            hint="offsets are character positions, end exclusive", **where), keep=False)
    m = omap if omap is not None and omap.text is text else OffsetMap(text)
    n = len(text)
    if offsets == "utf16":
        s, e = m.utf16_to_cp(start), m.utf16_to_cp(end)
        if e > n:
            return _out_of_range(start, end, n, where)
        if span_text is not None and text[s:e] != span_text:
            return _mismatch(text, s, e, span_text, where)
        return Checked(s, e)
    in_range = end <= n
    if in_range and (span_text is None or text[start:end] == span_text):
        return Checked(start, end)
    if offsets == "auto" and m.has_astral:
        u16 = m.utf16_length()
        if end <= u16:
            s, e = m.utf16_to_cp(start), m.utf16_to_cp(end)
            if (span_text is not None and text[s:e] == span_text) or (
                span_text is None and not in_range
            ):
                return Checked(s, e, "utf16", issue(
                    UTF16_CONVERTED,
                    f"offsets [{start}, {end}] are UTF-16 units; code points [{s}, {e}]",
                    hint="groundtruth counts code points; nothing to do", **where))
    if span_text is None:
        return _out_of_range(start, end, n, where)
    if m.has_crlf:
        s, e = m.normalised_to_cp(start), m.normalised_to_cp(end)
        if e <= n and text[s:e] == span_text:
            return Checked(s, e, "crlf", issue(
                CRLF_CONVERTED,
                f"offsets [{start}, {end}] counted CRLF as one character; now [{s}, {e}]",
                hint="the tool normalised line ends; nothing to do", **where))
    found = _nearby(text, min(start, n), span_text)
    if found is not None:
        s, e = found, found + len(span_text)
        return Checked(s, e, "relocated", issue(
            RELOCATED,
            f"text {_short(span_text)} is not at [{start}, {end}] but at [{s}, {e}]",
            hint="check the tool's offsets; the span was moved to where its text is", **where))
    if not in_range:
        return _out_of_range(start, end, n, where)
    return _mismatch(text, start, end, span_text, where)


def _nearby(text: str, pos: int, needle: str) -> int | None:
    if not needle:
        return None
    lo = max(0, pos - NEARBY)
    hi = min(len(text), pos + len(needle) + NEARBY)
    best: int | None = None
    i = text.find(needle, lo, hi)
    while i >= 0:
        if best is None or abs(i - pos) < abs(best - pos):
            best = i
        i = text.find(needle, i + 1, hi)
    return best


def _short(s: str, n: int = 40) -> str:
    return quote(s, n)


def _out_of_range(start: int, end: int, n: int, where: dict[str, Any]) -> Checked:
    return Checked(start, end, None, issue(
        OUT_OF_RANGE, f"span [{start}, {end}] is past the end of the text ({n} characters)",
        hint="the offsets belong to another text, or the text was cut", **where), keep=False)


def _differ(span_text: str, covered: str, s: int, e: int) -> str:
    """Where the span's text and the covered text first differ, both shown from there."""
    if len(span_text) <= 40 and len(covered) <= 40:
        return f"span text {quote(span_text)} but text[{s}:{e}] is {quote(covered)}"
    i, mine, theirs = where_differ(span_text, covered)
    return (f"span text and text[{s}:{e}] differ from character {i}: span text "
            f"{quote(mine, 60)}, text {quote(theirs, 60)}")


def _mismatch(text: str, s: int, e: int, span_text: str, where: dict[str, Any]) -> Checked:
    return Checked(s, e, None, issue(
        TEXT_MISMATCH,
        _differ(span_text, text[s:e], s, e),
        hint="fix the offsets or the span text; the span is kept at its stated offsets",
        **where))
