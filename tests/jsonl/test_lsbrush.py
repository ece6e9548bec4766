"""Label Studio brush RLE, checked against an independent encoder written from the format."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as coco_mask

from groundtruth.converters._lsbrush import (
    BrushRleError,
    coco_counts,
    coco_decode,
    decode,
    decode_mask,
    encode_mask,
    mask_bbox,
)


def reference_encode(values, word=8, sizes=(3, 4, 8, 16), literal_every=3):
    """rle-pack, written from the stream layout as a bit string; mixes runs and literals."""
    bits = []

    def put(v, n):
        bits.append(format(int(v), f"0{n}b"))

    put(len(values), 32)
    put(word - 1, 5)
    for s in sizes:
        put(s - 1, 4)

    def cls(count):
        return next(k for k, s in enumerate(sizes) if count - 1 < (1 << s))

    i, k = 0, 0
    while i < len(values):
        j = i
        while j < len(values) and values[j] == values[i] and j - i < (1 << sizes[-1]):
            j += 1
        k += 1
        if k % literal_every == 0:
            # the same stretch as a literal chunk, to exercise the decoder's other branch
            n = min(j - i, 1 << sizes[-1])
            put(0, 1), put(cls(n), 2), put(n - 1, sizes[cls(n)])
            for v in values[i : i + n]:
                put(v, word)
        else:
            n = j - i
            put(1, 1), put(cls(n), 2), put(n - 1, sizes[cls(n)]), put(values[i], word)
        i += n
    s = "".join(bits)
    s += "0" * (-len(s) % 8)
    return [int(s[p : p + 8], 2) for p in range(0, len(s), 8)]


def rgba(mask, color=(255, 0, 0)):
    h, w = mask.shape
    img = np.zeros((h, w, 4), np.uint8)
    img[mask] = (*color, 255)
    return img.ravel()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_decoder_reads_reference_stream(seed):
    rng = np.random.default_rng(seed)
    mask = np.zeros((23, 31), bool)
    mask[3:15, 4:20] = True
    mask |= rng.random(mask.shape) > 0.9
    stream = reference_encode(rgba(mask).tolist())
    assert np.array_equal(decode(stream), rgba(mask))
    assert np.array_equal(decode_mask(stream, 23, 31), mask)


def test_long_runs_over_the_largest_class():
    mask = np.ones((300, 300), bool)  # 360000 equal bytes: several 65536-runs
    stream = reference_encode(rgba(mask, (255, 255, 255)).tolist())
    assert decode_mask(stream, 300, 300).all()


def test_encoder_round_trips_and_reference_agrees():
    rng = np.random.default_rng(5)
    mask = rng.random((40, 17)) > 0.6
    ours = encode_mask(mask)
    assert np.array_equal(decode_mask(ours, 40, 17), mask)
    values = np.repeat(mask.ravel().astype(np.uint8) * 255, 4).tolist()
    assert np.array_equal(decode(reference_encode(values, literal_every=10**9)), decode(ours))


def test_coco_counts_match_pycocotools():
    rng = np.random.default_rng(3)
    mask = rng.random((19, 27)) > 0.5
    counts = coco_counts(mask)
    ref = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    ours = coco_mask.frPyObjects({"size": [19, 27], "counts": counts}, 19, 27)
    assert ours["counts"] == ref["counts"]
    assert np.array_equal(coco_decode(counts, 19, 27), mask)
    assert mask_bbox(mask) == [float(v) for v in coco_mask.toBbox(ref)]


@pytest.mark.parametrize("bad", [[1, 2, 3], [], [0, 0, 0, 99, 255, 255, 255, 255, 255], [300]])
def test_broken_streams_raise_brush_error(bad):
    with pytest.raises(BrushRleError):
        decode_mask(bad, 2, 2)


def test_size_mismatch_is_an_error():
    stream = encode_mask(np.ones((2, 2), bool))
    with pytest.raises(BrushRleError):
        decode_mask(stream, 3, 3)


def test_label_studio_sdk_reference_vector():
    # The encoder test vector of the Label Studio SDK (HumanSignal/label-studio-sdk @ 2a40410,
    # tests/custom/converter/test_brush.py::test_rle_encoding, Apache-2.0): bytes its
    # `encode_rle` produced for these values (18 values, 8-bit words, sizes 3/4/8/16).
    values = [1, 1, 1, 1, 2, 3, 5, 6, 7, 8, 4, 4, 4, 4, 4, 4, 4, 4]
    stream = [0, 0, 0, 18, 57, 27, 252, 96, 32, 1, 0, 6, 0, 40, 0, 192, 3, 128, 17, 56, 32]
    assert decode(stream).tolist() == values
