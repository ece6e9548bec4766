"""Label Studio brush masks: its own run-length bitstream, decoded to COCO RLE (and back).

Label Studio stores a brush region as `{"format": "rle", "rle": [bytes...]}`: the thi.ng
`rle-pack` bitstream of the canvas' RGBA pixels (`height * width * 4` values, row-major), where the
alpha channel is the mask. The stream, most significant bit first:

    num          32 bits   number of values
    word_size     5 bits   bits per value, minus 1
    rle_sizes   4x4 bits   widths of the four run-length classes, minus 1
    then until `num` values are out:
      flag        1 bit    1 = a run of one repeated value, 0 = a chunk of literal values
      class       2 bits   which of `rle_sizes` the length field uses
      length    rle_sizes[class] bits: count - 1
      value(s)  word_size bits each: one for a run, `count` for a chunk

This is NOT COCO RLE. A pixel is in the mask when its alpha is at least `ALPHA_THRESHOLD`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

ALPHA_THRESHOLD = 128
"""Alpha at or above which a pixel belongs to the mask (brush strokes are opaque: 255)."""

_POW = (1 << np.arange(31, -1, -1, dtype=np.int64)).astype(np.int64)


class BrushRleError(ValueError):
    """The bytes are not a valid Label Studio brush RLE stream."""


class _Bits:
    __slots__ = ("bits", "pos")

    def __init__(self, data: npt.NDArray[np.uint8]) -> None:
        self.bits = np.unpackbits(data).astype(np.int64)
        self.pos = 0

    def read(self, n: int) -> int:
        end = self.pos + n
        if end > self.bits.size:
            raise BrushRleError(f"stream ends at bit {self.bits.size}, needed bit {end}")
        value = int(self.bits[self.pos:end] @ _POW[32 - n:])
        self.pos = end
        return value

    def read_many(self, count: int, n: int) -> npt.NDArray[np.int64]:
        end = self.pos + count * n
        if end > self.bits.size:
            raise BrushRleError(f"stream ends at bit {self.bits.size}, needed bit {end}")
        block = self.bits[self.pos:end].reshape(count, n)
        self.pos = end
        out: npt.NDArray[np.int64] = block @ _POW[32 - n:]
        return out


def decode(rle: Sequence[int] | npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """The flat values (RGBA bytes for a brush) of a Label Studio RLE byte list."""
    data = np.asarray(rle)
    if data.ndim != 1 or (data.size and (data.min() < 0 or data.max() > 255)):
        raise BrushRleError("the rle list must hold bytes (integers 0..255)")
    bits = _Bits(data.astype(np.uint8))
    num = bits.read(32)
    word = bits.read(5) + 1
    sizes = [bits.read(4) + 1 for _ in range(4)]
    if word > 8:
        raise BrushRleError(f"word size {word} bits: brush masks use bytes (8 bits)")
    # Each run costs at least 3 + min(sizes) + word bits and yields at most 2**max(sizes)
    # values: that bounds a lying header before anything is allocated.
    most = (bits.bits.size // (3 + min(sizes) + word) + 1) << max(sizes)
    if num > most:
        raise BrushRleError(f"header claims {num} values but the stream is too short for them")
    out = np.zeros(num, dtype=np.uint8)
    i = 0
    while i < num:
        repeat = bits.read(1)
        count = bits.read(sizes[bits.read(2)]) + 1
        j = i + count
        if j > num:
            raise BrushRleError(f"a run reaches value {j}, past the {num} the header states")
        if repeat:
            out[i:j] = bits.read(word)
        else:
            out[i:j] = bits.read_many(count, word)
        i = j
    return out


def decode_mask(rle: Sequence[int] | npt.ArrayLike, height: int, width: int) -> npt.NDArray[np.bool_]:
    """The `[height, width]` boolean mask of a brush region (alpha >= ALPHA_THRESHOLD)."""
    values = decode(rle)
    if values.size != height * width * 4:
        raise BrushRleError(
            f"the stream holds {values.size} values, an RGBA {width}x{height} image needs "
            f"{height * width * 4}"
        )
    mask: npt.NDArray[np.bool_] = values.reshape(height, width, 4)[:, :, 3] >= ALPHA_THRESHOLD
    return mask


class _BitWriter:
    def __init__(self) -> None:
        self.chunks: list[npt.NDArray[np.uint8]] = []

    def write(self, value: int, n: int) -> None:
        self.chunks.append(((value >> np.arange(n - 1, -1, -1)) & 1).astype(np.uint8))

    def to_bytes(self) -> list[int]:
        bits = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.uint8)
        packed: list[int] = np.packbits(bits).tolist()
        return packed


_SIZES = (3, 4, 8, 16)


def encode_mask(mask: npt.ArrayLike) -> list[int]:
    """A brush RLE byte list for a `[height, width]` mask: pixels (255, 255, 255, 255) or 0.

    Only repeat runs are written (the mask is long runs of identical bytes), which every
    Label Studio version decodes.
    """
    m = np.asarray(mask, dtype=bool)
    values = np.repeat(m.ravel().astype(np.uint8) * 255, 4)
    num = int(values.size)
    out = _BitWriter()
    out.write(num, 32)
    out.write(7, 5)
    for s in _SIZES:
        out.write(s - 1, 4)
    if num:
        change = np.flatnonzero(values[1:] != values[:-1]) + 1
        edges = np.concatenate(([0], change, [num]))
        limit = 1 << _SIZES[-1]
        for a, b in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
            value = int(values[a])
            n = b - a
            while n > 0:
                take = min(n, limit)
                cls = next(k for k, s in enumerate(_SIZES) if take - 1 < (1 << s))
                out.write(1, 1)
                out.write(cls, 2)
                out.write(take - 1, _SIZES[cls])
                out.write(value, 8)
                n -= take
    return out.to_bytes()


def coco_counts(mask: npt.NDArray[np.bool_]) -> list[int]:
    """Uncompressed COCO RLE counts of a `[h, w]` mask: column-major runs, 0-run first."""
    flat = mask.ravel(order="F")
    n = flat.size
    if n == 0:
        return []
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    counts = np.diff(np.concatenate(([0], change, [n])))
    out: list[int] = counts.tolist()
    return [0, *out] if flat[0] else out


def coco_decode(counts: Sequence[int], height: int, width: int) -> npt.NDArray[np.bool_]:
    """The `[h, w]` mask of uncompressed COCO RLE counts."""
    c = np.asarray(counts, dtype=np.int64)
    if int(c.sum()) != height * width:
        raise ValueError(f"RLE counts sum to {int(c.sum())}, expected {height * width}")
    values = np.zeros(c.size, dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, c)
    out: npt.NDArray[np.bool_] = flat.reshape((height, width), order="F")
    return out


def mask_bbox(mask: npt.NDArray[np.bool_]) -> list[float] | None:
    """`[x, y, w, h]` in pixels of the mask's foreground, None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return None
    return [float(cols[0]), float(rows[0]), float(cols[-1] - cols[0] + 1),
            float(rows[-1] - rows[0] + 1)]
