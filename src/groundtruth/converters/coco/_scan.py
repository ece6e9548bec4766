"""Find the structure of a big JSON file with a vectorised byte scan, then parse it in slices.

A COCO file is one JSON object whose `images` and `annotations` arrays hold almost all of its
bytes. Parsing it whole holds the text and the full object tree at once (about ten times the
file size). Instead, one pass over the bytes in blocks finds, with numpy, every structural
character outside strings and its nesting depth: that gives each top-level value's byte range
and each array element's end. The small top-level values are then parsed as one small document,
and each big array is parsed in slices of whole elements, one slice at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import orjson

_QUOTE, _BACKSLASH = 34, 92
_OPEN = (123, 91)  # { [
_CLOSE = (125, 93)  # } ]
BLOCK = 1 << 24
BIG = 1 << 20
"""Top-level values larger than this (bytes) are parsed in slices, not with the skeleton."""


@dataclass
class Layout:
    """Where things are in a JSON file (byte offsets)."""

    size: int
    root: int  # 123 for an object, 91 for an array, 0 otherwise
    containers: list[tuple[int, int]] = field(default_factory=list)
    """(open, close) offsets of each container value at depth 1 (the top-level values)."""
    ends: dict[int, npt.NDArray[np.int64]] = field(default_factory=dict)
    """For each top-level array (by open offset; the root array is key -1): element end
    offsets (the byte after each element's closing bracket)."""


def _escaped(
    quotes: npt.NDArray[np.int64], slashes: npt.NDArray[np.int64], carry: int
) -> npt.NDArray[np.bool_]:
    """Which quotes follow an odd run of backslashes (`carry` = run ending the last block)."""
    if slashes.size == 0:
        if carry % 2 and quotes.size and quotes[0] == 0:
            out = np.zeros(quotes.size, dtype=bool)
            out[0] = True
            return out
        return np.zeros(quotes.size, dtype=bool)
    breaks = np.flatnonzero(np.diff(slashes) != 1) + 1
    run_start = np.zeros(slashes.size, dtype=np.int64)
    run_start[breaks] = breaks
    run_start = np.maximum.accumulate(run_start)
    idx = np.searchsorted(slashes, quotes) - 1
    ok = idx >= 0
    prev = np.where(ok, slashes[np.clip(idx, 0, None)], -10)
    adjacent = ok & (prev == quotes - 1)
    first = slashes[run_start[np.clip(idx, 0, None)]]
    run = np.where(adjacent, quotes - first, 0)
    run = run + np.where(adjacent & (first == 0), carry, 0)
    if carry % 2:
        run = np.where(quotes == 0, carry, run)
    return np.asarray((run % 2) == 1, dtype=bool)


def scan(f: IO[bytes], block: int = BLOCK) -> Layout:
    """One pass over `f`: top-level value ranges and array element ends. Raises ValueError on
    unbalanced brackets (the caller reports the file as not JSON)."""
    in_str = 0
    depth = 0
    carry = 0
    offset = 0
    root = 0
    opens: list[npt.NDArray[np.int64]] = []
    closes: list[npt.NDArray[np.int64]] = []
    ends1: list[npt.NDArray[np.int64]] = []
    ends2: list[npt.NDArray[np.int64]] = []
    while True:
        buf = f.read(block)
        if not buf:
            break
        b = np.frombuffer(buf, dtype=np.uint8)
        if root == 0:
            stripped = buf.lstrip()
            root = stripped[0] if stripped else 0
        quotes = np.flatnonzero(b == _QUOTE)
        slashes = np.flatnonzero(b == _BACKSLASH)
        if quotes.size and (slashes.size or carry):
            quotes = quotes[~_escaped(quotes, slashes, carry)]
        structural = np.flatnonzero((b == 123) | (b == 125) | (b == 91) | (b == 93))
        if structural.size:
            before = np.searchsorted(quotes, structural)
            structural = structural[((before + in_str) & 1) == 0]
            ch = b[structural]
            delta = np.where((ch == 123) | (ch == 91), 1, -1).astype(np.int64)
            after = depth + np.cumsum(delta)
            if after.size and after.min() < 0:
                raise ValueError("a closing bracket without an opening one")
            pos = structural.astype(np.int64) + offset
            opens.append(pos[(delta == 1) & (after == 2)])
            closes.append(pos[(delta == -1) & (after == 1)])
            ends1.append(pos[(delta == -1) & (after == 1)] + 1)
            ends2.append(pos[(delta == -1) & (after == 2)] + 1)
            if after.size:
                depth = int(after[-1])
        in_str = (in_str + quotes.size) & 1
        # Backslashes ending the block continue into the next one.
        tail = len(buf) - len(buf.rstrip(b"\\"))
        carry = (carry + tail) if tail == len(buf) else tail
        offset += len(buf)
    if depth != 0 or in_str:
        raise ValueError("the file ends inside a string or an open bracket")
    layout = Layout(size=offset, root=root)
    o = np.concatenate(opens) if opens else np.zeros(0, np.int64)
    c = np.concatenate(closes) if closes else np.zeros(0, np.int64)
    e2 = np.concatenate(ends2) if ends2 else np.zeros(0, np.int64)
    if root == 91:  # a results array: its elements close back to depth 1
        layout.ends[-1] = np.concatenate(ends1) if ends1 else np.zeros(0, np.int64)
        return layout
    if o.size != c.size:
        raise ValueError("unbalanced top-level values")
    layout.containers = list(zip(o.tolist(), c.tolist(), strict=True))
    for start, stop in layout.containers:
        lo, hi = np.searchsorted(e2, [start, stop], side="right")
        layout.ends[start] = e2[lo:hi]
    return layout


def read_range(f: IO[bytes], start: int, stop: int) -> bytes:
    f.seek(start)
    return f.read(stop - start)


def skeleton(
    f: IO[bytes], layout: Layout, big: int = BIG
) -> tuple[Any, dict[str, tuple[int, int]], list[str]]:
    """The top-level object without its big values, and where those values are.

    Each big value is replaced by a marker string before parsing, so the keys are found by the
    JSON parser itself (any spacing, key order or escaping works). Returns
    `(document, {key: (open, close)}, key order)`; the big keys are absent from the document.
    """
    pieces: list[bytes] = []
    pos = 0
    holes: list[tuple[int, int]] = []
    for start, stop in layout.containers:
        if stop - start < big or read_range(f, start, start + 1) != b"[":
            continue
        pieces.append(read_range(f, pos, start))
        pieces.append(orjson.dumps(f"{_MARK}{len(holes)}"))
        holes.append((start, stop))
        pos = stop + 1
    pieces.append(read_range(f, pos, layout.size))
    doc = orjson.loads(b"".join(pieces))
    where: dict[str, tuple[int, int]] = {}
    order = list(doc) if isinstance(doc, dict) else []
    if isinstance(doc, dict):
        for key, value in list(doc.items()):
            if isinstance(value, str) and value.startswith(_MARK):
                where[key] = holes[int(value[len(_MARK) :])]
                del doc[key]
    return doc, where, order


_MARK = "\x00groundtruth-section-"


def iter_elements(
    f: IO[bytes], start: int, ends: npt.NDArray[np.int64], chunk: int = 1 << 24
) -> Iterator[list[Any]]:
    """Parse an array's elements in slices of about `chunk` bytes: lists of parsed elements.

    `start` is the offset of the array's `[`, `ends` the offsets just after each element.
    """
    for a, b, _ in plan(start, ends, chunk):
        yield parse_slice(read_range(f, a, b))


def plan(
    start: int, ends: npt.NDArray[np.int64], chunk: int = 1 << 24
) -> list[tuple[int, int, int]]:
    """Slices of an array's elements: `(from_byte, to_byte, first_element_index)`."""
    out: list[tuple[int, int, int]] = []
    pos = start + 1
    i = 0
    n = ends.size
    while i < n:
        j = max(int(np.searchsorted(ends, pos + chunk, side="right")), i + 1)
        stop = int(ends[j - 1])
        out.append((pos, stop, i))
        pos = stop
        i = j
    return out


def parse_slice(data: bytes) -> list[Any]:
    """The elements in `data`, the bytes of one `plan` slice (a leading comma is allowed)."""
    data = data.lstrip()
    if data.startswith(b","):
        data = data[1:]
    result: list[Any] = orjson.loads(b"[" + data + b"]")
    return result
