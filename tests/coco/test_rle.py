"""Our numpy RLE against pycocotools.mask, value for value and byte for byte."""

from __future__ import annotations

import numpy as np
import pytest

from groundtruth.converters import _rle

mask_utils = pytest.importorskip("pycocotools.mask")


def _reference(mask: np.ndarray) -> dict:
    return mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))


def _random_masks(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        h, w = int(rng.integers(1, 60)), int(rng.integers(1, 60))
        kind = i % 4
        if kind == 0:
            m = rng.random((h, w)) < rng.random()
        elif kind == 1:  # blobs: long runs, large deltas
            m = np.zeros((h, w), bool)
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            m[y0 : y0 + rng.integers(1, h + 1), x0 : x0 + rng.integers(1, w + 1)] = True
        elif kind == 2:
            m = rng.random((h, w)) < 0.02
        else:
            m = rng.random((h, w)) > 0.02
        out.append(m)
    out += [np.zeros((7, 5), bool), np.ones((7, 5), bool), np.ones((1, 1), bool)]
    big = np.zeros((1000, 1000), bool)
    big[100:900, 50:951] = True
    big[400:420, :] = False
    out += [big, np.random.default_rng(seed).random((1000, 1000)) < 0.5]
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_encode_and_string_match_pycocotools(seed: int) -> None:
    for m in _random_masks(200, seed):
        ref = _reference(m)
        counts = _rle.encode(m)
        text = _rle.counts_to_string(counts)
        assert text.encode("ascii") == ref["counts"]
        assert list(_rle.counts_from_string(ref["counts"])) == list(counts)
        assert _rle.area(counts) == int(mask_utils.area(ref))
        assert _rle.to_bbox(counts, m.shape[0]) == list(mask_utils.toBbox(ref))
        assert np.array_equal(_rle.decode(counts, *m.shape), mask_utils.decode(ref).astype(bool))


def test_known_values() -> None:
    assert list(_rle.encode(np.ones((3, 4)))) == [0, 12]
    assert _rle.counts_to_string([0, 12]) == "0<"
    assert _rle.counts_to_string([12]) == "<"
    m = np.zeros((3, 4), bool)
    m[1, 2] = True  # row 1, col 2 -> index 2*3+1 = 7
    assert list(_rle.encode(m)) == [7, 1, 4]


def test_decode_rejects_bad_sum() -> None:
    with pytest.raises(ValueError, match="sum"):
        _rle.decode([3, 4], 3, 4)


def test_counts_from_string_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        _rle.counts_from_string("abc~")
    with pytest.raises(ValueError):
        _rle.counts_from_string("0P")  # last char has the continuation bit


def test_polygon_rasterisation_matches_pycocotools() -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        h, w = int(rng.integers(5, 120)), int(rng.integers(5, 120))
        k = int(rng.integers(3, 12))
        xy = np.empty(2 * k)
        xy[0::2] = rng.uniform(-5, w + 5, k)
        xy[1::2] = rng.uniform(-5, h + 5, k)
        poly = [float(v) for v in xy]
        ref = mask_utils.frPyObjects([poly], h, w)[0]
        ours = _rle.polygons_to_counts([poly], h, w)
        assert _rle.counts_to_string(ours).encode() == ref["counts"]


def test_multi_part_polygon_is_a_union_like_annToRLE() -> None:
    parts = [[1.0, 1.0, 10.0, 1.0, 10.0, 10.0, 1.0, 10.0], [8.0, 8.0, 18.0, 8.0, 13.0, 17.0]]
    ref = mask_utils.merge(mask_utils.frPyObjects(parts, 20, 20))
    ours = _rle.polygons_to_counts(parts, 20, 20)
    assert _rle.counts_to_string(ours).encode() == ref["counts"]


def test_holes_are_subtracted() -> None:
    outer = [0.0, 0.0, 20.0, 0.0, 20.0, 20.0, 0.0, 20.0]
    hole = [5.0, 5.0, 15.0, 5.0, 15.0, 15.0, 5.0, 15.0]
    full = _rle.area(_rle.polygons_to_counts([outer], 20, 20))
    holed = _rle.area(_rle.polygons_to_counts([outer], 20, 20, holes=[hole]))
    hole_area = _rle.area(_rle.polygons_to_counts([hole], 20, 20))
    assert holed == full - hole_area
    assert _rle.poly_area([outer], [hole]) == 400.0 - 100.0
