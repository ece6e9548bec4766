"""Geometry helpers, cross-checked against pycocotools and closed forms."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as cocomask

from groundtruth import geometry as g


def test_box_iou_matches_pycocotools():
    rng = np.random.default_rng(0)
    a = np.column_stack([rng.uniform(0, 50, (20, 2)), rng.uniform(1, 40, (20, 2))])
    b = np.column_stack([rng.uniform(0, 50, (15, 2)), rng.uniform(1, 40, (15, 2))])
    expected = cocomask.iou(a.tolist(), b.tolist(), [0] * len(b))
    np.testing.assert_allclose(g.box_iou(a, b), expected, rtol=1e-12)


def test_box_iou_edge_cases():
    assert g.box_iou([[0, 0, 0, 0]], [[0, 0, 0, 0]])[0, 0] == 0.0
    assert g.box_iou([[0, 0, 2, 2]], [[2, 0, 2, 2]])[0, 0] == 0.0  # touching
    assert g.box_iou([[0, 0, 2, 2]], [[1, 0, 2, 2]])[0, 0] == pytest.approx(1 / 3)


def test_rotated_box_ring():
    ring = g.box_to_ring([0, 0, 4, 2], rotation=90)
    xy = np.array(ring).reshape(-1, 2)
    # rotating 90 degrees about the centre (2, 1) swaps the extents.
    assert xy[:, 0].min() == pytest.approx(1.0)
    assert xy[:, 0].max() == pytest.approx(3.0)
    assert xy[:, 1].min() == pytest.approx(-1.0)
    assert g.ring_area(ring) == pytest.approx(8.0)


def test_fill_matches_shoelace_area():
    tri = [0.0, 0.0, 30.0, 0.0, 10.0, 20.0]
    cell = 30 / 600
    m = g.fill_ring(tri, 0.0, 0.0, cell, 600, 400)
    assert m.sum() * cell * cell == pytest.approx(g.ring_area(tri), rel=0.01)


def test_polygon_iou_squares_and_holes():
    sq = [0.0, 0.0, 10.0, 0.0, 10.0, 10.0, 0.0, 10.0]
    shifted = [5.0, 0.0, 15.0, 0.0, 15.0, 10.0, 5.0, 10.0]
    assert g.polygon_iou(([sq], []), ([shifted], [])) == pytest.approx(1 / 3, abs=0.005)
    assert g.polygon_iou(([sq], []), ([sq], [])) == pytest.approx(1.0)
    hole = [2.0, 2.0, 8.0, 2.0, 8.0, 8.0, 2.0, 8.0]
    # donut (100 - 36 = 64) vs full square: 64 / 100.
    assert g.polygon_iou(([sq], [hole]), ([sq], [])) == pytest.approx(0.64, abs=0.01)
    # two parts unioned vs one of them: 100 / 200.
    far = [20.0, 0.0, 30.0, 0.0, 30.0, 10.0, 20.0, 10.0]
    assert g.polygon_iou(([sq, far], []), ([sq], [])) == pytest.approx(0.5, abs=0.01)
    assert g.polygon_iou(([sq], []), ([far], [])) == 0.0
    assert g.polygon_iou(([[]], []), ([sq], [])) == 0.0


def test_polygon_iou_close_to_pycocotools_on_pixels():
    rng = np.random.default_rng(2)
    h = w = 200
    for _ in range(5):
        c = rng.uniform(60, 140, 2)
        ang = np.sort(rng.uniform(0, 2 * np.pi, 8))
        r1, r2 = rng.uniform(30, 50, 8), rng.uniform(30, 50, 8)
        pa = np.column_stack([c[0] + r1 * np.cos(ang), c[1] + r1 * np.sin(ang)]).reshape(-1)
        pb = np.column_stack([c[0] + 5 + r2 * np.cos(ang), c[1] + r2 * np.sin(ang)]).reshape(-1)
        ra = cocomask.frPyObjects([pa.tolist()], h, w)
        rb = cocomask.frPyObjects([pb.tolist()], h, w)
        coco = cocomask.iou(ra, rb, [0])[0, 0]
        ours = g.polygon_iou(([pa.tolist()], []), ([pb.tolist()], []))
        assert ours == pytest.approx(coco, abs=0.02)


def test_rle_decode_matches_pycocotools():
    rng = np.random.default_rng(1)
    m = np.zeros((37, 53), dtype=np.uint8, order="F")
    m[5:30, 10:40] = 1
    m[rng.random(m.shape) < 0.1] = 1
    rle = cocomask.encode(np.asfortranarray(m))
    decoded = g.rle_decode(rle["size"], rle["counts"].decode())
    np.testing.assert_array_equal(decoded, m.astype(bool))
    counts = g.rle_encode(m)
    np.testing.assert_array_equal(g.rle_decode([37, 53], counts), m.astype(bool))
    assert g.rle_encode(np.ones((2, 2), dtype=bool)) == [0, 4]


def test_mask_iou_matches_pycocotools():
    a = np.zeros((40, 40), dtype=np.uint8)
    b = np.zeros((40, 40), dtype=np.uint8)
    a[5:25, 5:25] = 1
    b[10:35, 8:30] = 1
    ra, rb = cocomask.encode(np.asfortranarray(a)), cocomask.encode(np.asfortranarray(b))
    assert g.mask_iou(a, b) == pytest.approx(cocomask.iou([ra], [rb], [0])[0, 0])
    with pytest.raises(ValueError, match="differ"):
        g.mask_iou(a, b[:10])
    with pytest.raises(ValueError, match="RLE"):
        g.rle_decode([2, 2], [1, 2])


def test_oks_matches_coco_formula():
    rng = np.random.default_rng(3)
    gt = np.column_stack([rng.uniform(0, 100, 17), rng.uniform(0, 100, 17), np.full(17, 2)])
    dt = gt.copy()
    dt[:, :2] += rng.normal(0, 3, (17, 2))
    area = 5000.0
    sig = np.array(g.COCO_PERSON_SIGMAS)
    e = ((dt[:, 0] - gt[:, 0]) ** 2 + (dt[:, 1] - gt[:, 1]) ** 2) / (2 * sig) ** 2 / area / 2
    expected = np.exp(-e).mean()
    assert g.oks(gt.reshape(-1).tolist(), dt.reshape(-1).tolist(), area) == pytest.approx(expected)
    assert g.oks(gt.reshape(-1).tolist(), gt.reshape(-1).tolist(), area) == pytest.approx(1.0)


def test_oks_visibility_rules():
    a = [10.0, 10.0, 2, 20.0, 20.0, 2, 0.0, 0.0, 0]
    b = [10.0, 10.0, 2, 0.0, 0.0, 0, 0.0, 0.0, 0]
    # point 1 agrees, point 2 labelled by one only (0), point 3 by neither (left out).
    assert g.oks(a, b, 100.0) == pytest.approx(0.5)
    assert g.oks([0.0, 0.0, 0], [0.0, 0.0, 0], 10.0) is None
    with pytest.raises(ValueError, match="sigmas"):
        g.oks(a, b, 100.0, sigmas=[0.1])
    assert g.keypoints_area(a) == pytest.approx(100.0)
    assert g.keypoints_area(a, bbox=[0, 0, 4, 5]) == 20.0
