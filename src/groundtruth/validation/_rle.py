"""COCO's compressed RLE string -> run counts (`rleFrString` in pycocotools' maskApi.c).

Validation only needs the counts (their sum and sign), so this is the decoder alone, vectorised
with numpy. The COCO converter has a full RLE module (encode, decode, area, polygons); when both
are on main this can defer to it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_MAX_CHUNKS = 13  # 5 payload bits a character: 13 characters hold any 64-bit value


def counts_from_string(text: str) -> npt.NDArray[np.int64]:
    """Run counts of a compressed RLE string; ValueError when the string is not one.

    Each value is little-endian 5-bit chunks in characters `'0' + chunk` (0x20 flags that more
    follow, 0x10 in the last chunk is the sign); from the third value on, each is stored as the
    difference to the value two places before.
    """
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("compressed RLE must be ASCII") from None
    if not raw:
        return np.zeros(0, dtype=np.int64)
    v = np.frombuffer(raw, dtype=np.uint8).astype(np.int64) - 48
    if (v < 0).any() or (v > 63).any():
        raise ValueError("compressed RLE holds a character outside '0'..'o'")
    cont = (v & 0x20) != 0
    if cont[-1]:
        raise ValueError("compressed RLE ends in the middle of a value")
    ends = np.flatnonzero(~cont)
    starts = np.concatenate(([0], ends[:-1] + 1))
    nchunks = ends - starts + 1
    if (nchunks > _MAX_CHUNKS).any():
        raise ValueError("compressed RLE holds a value too large for 64 bits")
    group = np.repeat(np.arange(ends.size), nchunks)
    k = np.arange(v.size) - starts[group]
    x = np.add.reduceat((v & 0x1F) << (5 * k), starts)
    negative = (v[ends] & 0x10) != 0
    x = np.where(negative, x | (np.int64(-1) << (5 * nchunks)), x)
    out = x.copy()
    # cnts[i] += cnts[i-2] for i > 2: running sums over each parity, from index 1 and 2.
    out[1::2] = np.cumsum(x[1::2])
    out[2::2] = np.cumsum(x[2::2])
    return out
