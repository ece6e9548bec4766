"""Data made inert for display: a label, id or file name is shown, never obeyed.

A diff report shows strings that came from someone else's dataset (labels, ids, attribute
values, annotator names, file names, issue messages quoting them). Each renderer passes every
such string through one of these functions, so that

- on a terminal, escape sequences (CSI `ESC [`, OSC `ESC ]` ... BEL/ST, DCS, and their 8-bit C1
  forms) and control characters cannot move the cursor, retitle the window, write hyperlinks
  or forge lines of the report (`plain`);
- in Markdown (a pull-request comment), HTML, links, images, emphasis and table syntax are
  shown as the characters they are (`md`, `md_code`);
- in HTML, everything is escaped (`html_text`).

The JSON rendering is data, not display: it keeps every string exactly as it is. The CLI's
`error:` messages, the validation report and `gt info` text go through `plain` as well: they
echo ids, labels and file names from the data too.
"""

from __future__ import annotations

import html
import re
from typing import Any

# Terminal escape sequences (ECMA-48), 7-bit and 8-bit forms. A string sequence (OSC, DCS, SOS,
# PM, APC) runs to its terminator (BEL or ST) or, unterminated, to the end of the string: a
# terminal would swallow that much too.
_ESCAPE_SEQUENCE = re.compile(
    r"""
      (?:\x1b\[|\x9b) [0-?]* [ -/]* [@-~]?                           # CSI ... final byte
    | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]) .*? (?:\x07|\x1b\\|\x9c|\Z)  # OSC/DCS/SOS/PM/APC
    | \x1b [ -/]* [0-~]?                                             # any other ESC sequence
    """,
    re.VERBOSE | re.DOTALL,
)
# What is left after the sequences: C0 and C1 controls and DEL, and the explicit bidirectional
# embeddings, overrides and isolates, which reorder what a reader sees ("Trojan Source").
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_SPACE_LIKE = frozenset("\t\n\r\u2028\u2029")
# CommonMark lets a backslash escape any ASCII punctuation character, and an escaped one is
# always literal text: it opens no tag, link, image, emphasis, code span, table cell or entity.
# GitHub finds @mentions, #references and e-mail autolinks in the rendered text, after the
# escapes are gone; a WORD JOINER (invisible) after `@` and `#` keeps a label `@org/team` from
# notifying a team when the diff is posted as a comment.
_MD_ESCAPES = {c: "\\" + chr(c) for c in range(0x21, 0x7F) if not chr(c).isalnum()}
_MD_ESCAPES[ord("@")] = "\\@\u2060"
_MD_ESCAPES[ord("#")] = "\\#\u2060"


def _keep_newlines(m: re.Match[str]) -> str:
    ch = m.group()
    return ch if ch in "\n\t" else (" " if ch in _SPACE_LIKE else "")


def _one_line(m: re.Match[str]) -> str:
    return " " if m.group() in _SPACE_LIKE else ""


def plain(value: Any, *, multiline: bool = False) -> str:
    """`value` as text safe for a terminal: escape sequences and control characters removed.

    Line breaks and tabs become spaces (a label cannot start a line of its own in the report),
    unless `multiline` (an item's text), where newline and tab are kept.
    """
    text = "" if value is None else str(value)
    if not _CONTROL.search(text):
        return text
    text = _ESCAPE_SEQUENCE.sub("", text)
    return _CONTROL.sub(_keep_newlines if multiline else _one_line, text)


def md(value: Any) -> str:
    """`value` as inert Markdown text (also inside a GFM table cell): one line, every ASCII
    punctuation character backslash-escaped, no @mention or #reference."""
    return plain(value).translate(_MD_ESCAPES)


def md_code(value: Any) -> str:
    """`value` as a Markdown code span (outside tables), fenced by more backticks than it holds."""
    text = plain(value)
    if not text:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}"  # CommonMark strips one space each side


def html_text(value: Any, *, multiline: bool = False) -> str:
    """`value` escaped for HTML text and (double-quoted) attribute values."""
    text = "" if value is None else str(value)
    if _CONTROL.search(text):
        text = plain(text, multiline=multiline)
    return html.escape(text, quote=True)
