"""One YOLO label file: lines to checked rows, rows to annotations in pixels.

A row is `class v1 v2 ...` with normalised values; what the values mean depends on the task:

| task | values |
|---|---|
| detect | `cx cy w h` (+ `conf`, as Ultralytics' `save_conf` writes predictions) |
| segment | `x1 y1 x2 y2 ...` (3 points or more); a 4-value row is a box |
| obb | `x1 y1 x2 y2 x3 y3 x4 y4` (+ `conf`), corners in drawing order |
| pose | `cx cy w h` + K keypoints of `x y` or `x y v` (`kpt_shape: [K, D]`) |

Every problem is an issue at `file:line`; a row that cannot be read is skipped, a row with a
questionable value is kept as written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ...issues import Issue, issue
from ...models import AnnotationBase, BBox, Keypoints, Polygon
from . import _codes as C

NEAR = 0.01
"""Ultralytics accepts coordinates up to 1% outside [0, 1] (`verify_image_label`)."""

PIXEL_DECIMALS = 9

SNAP = 1e-6
"""Box edges outside the image by less than this share of its size are rounding: snapped."""

RECT_TOLERANCE = 0.01
"""How far (relative) oriented-box corners may be from a rectangle and still be read as one."""


@dataclass(slots=True)
class Row:
    line: int
    cls: int
    values: list[float]
    kind: str  # "box" | "polygon" | "obb" | "pose"
    confidence: float | None = None


def split_lines(raw: bytes, where: str, issues: list[Issue],
                key: str | None = None) -> list[tuple[int, str]]:
    """The non-empty lines of a label file with their 1-based numbers."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        issues.append(issue(C.FILE_ENCODING, f"not UTF-8 at byte {err.start}; undecodable "
                            "bytes replaced", file=where,
                            line=raw[:err.start].count(b"\n") + 1, record_id=key,
                            hint="save the label file as UTF-8 text"))
        text = raw.decode("utf-8-sig", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final line end
    out: list[tuple[int, str]] = []
    crlf = 0
    for n, line in enumerate(lines, start=1):
        if line.endswith("\r"):
            line = line[:-1]
            if not crlf:
                crlf = n
        if not line.strip():
            issues.append(issue(C.LINE_EMPTY, "empty line: skipped", file=where, line=n, record_id=key))
            continue
        out.append((n, line))
    if crlf:
        issues.append(issue(C.FILE_CRLF, "Windows (CRLF) line ends: read as LF", file=where,
                            line=crlf, record_id=key, hint="written back with LF line ends"))
    return out


def _number(tok: str) -> float | None:
    try:
        v = float(tok)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


_MAX_CLASS = 2**31


def parse_row(
    n: int, line: str, where: str, task: str, kpt_shape: tuple[int, int] | None,
    issues: list[Issue], key: str | None = None,
) -> Row | None:
    """A checked row, or None (with an issue) when the line cannot be read."""
    toks = line.split()
    cls_f = _number(toks[0])
    # a class id past 2**31 names no real class list (and past 2**64 no JSON tool reads it)
    if cls_f is None or cls_f < 0 or cls_f >= _MAX_CLASS or cls_f != int(cls_f):
        issues.append(issue(C.ROW_CLASS_INVALID, f"class {toks[0][:40]!r} is not a "
                            f"non-negative integer below {_MAX_CLASS}: row skipped",
                            file=where, line=n, record_id=key,
                            hint="the first value of a row is the class id (0-based)"))
        return None
    values: list[float] = []
    for k, tok in enumerate(toks[1:], start=2):
        v = _number(tok)
        if v is None:
            issues.append(issue(C.ROW_NOT_NUMBER, f"value {k} {tok!r} is not a finite number: "
                                "row skipped", file=where, line=n, record_id=key))
            return None
        values.append(v)
    count = len(values)
    kind, conf = _kind(count, task, kpt_shape)
    if kind is None:
        issues.append(issue(C.ROW_COLUMNS, _columns_message(count, task, kpt_shape),
                            file=where, line=n, record_id=key, hint=_columns_hint(task, kpt_shape)))
        return None
    confidence = None
    if conf:
        confidence = values.pop()
        if not 0 <= confidence <= 1:
            issues.append(issue(C.ROW_RANGE, f"confidence {confidence:g} is not in [0, 1]",
                                file=where, line=n, record_id=key))
    row = Row(n, int(cls_f), values, kind, confidence)
    if not _check_range(row, where, kpt_shape, issues, key):
        return None
    return row


def _kind(count: int, task: str, kpt_shape: tuple[int, int] | None) -> tuple[str | None, bool]:
    if task == "pose":
        if kpt_shape is not None and count == 4 + kpt_shape[0] * kpt_shape[1]:
            return "pose", False
        return None, False
    if task == "obb":
        if count in (8, 9):
            return "obb", count == 9
        return None, False
    if count == 4:
        return "box", False
    if count == 5 and task == "detect":
        return "box", True
    if count >= 6 and count % 2 == 0:
        return "polygon", False
    return None, False


def _columns_message(count: int, task: str, kpt_shape: tuple[int, int] | None) -> str:
    if task == "pose" and kpt_shape is not None:
        want = 4 + kpt_shape[0] * kpt_shape[1]
        return (f"{count} values after the class; kpt_shape {list(kpt_shape)} needs {want} "
                "(box + keypoints): row skipped")
    if task == "obb":
        return f"{count} values after the class; an oriented box has 8 (4 corners): row skipped"
    if count % 2 == 1:
        return f"odd number of coordinates ({count}) after the class: row skipped"
    return f"{count} values after the class: neither a box (4) nor a polygon (6+): row skipped"


def _columns_hint(task: str, kpt_shape: tuple[int, int] | None) -> str:
    if task == "pose":
        return "each pose row is `class cx cy w h` then K keypoints of kpt_shape[1] values"
    if task == "obb":
        return "each row is `class x1 y1 x2 y2 x3 y3 x4 y4`"
    return "a box row is `class cx cy w h`; a polygon row `class x1 y1 x2 y2 x3 y3 ...`"


def _check_range(row: Row, where: str, kpt_shape: tuple[int, int] | None,
                 issues: list[Issue], key: str | None) -> bool:
    """Coordinates in [0, 1]; up to 1% outside is a warning (Ultralytics accepts it), more is
    an error. Oriented boxes: only the centre is checked, since the corners of a rotated box
    at the image border legitimately fall outside. Visibility must be 0, 1 or 2."""
    v = row.values
    if row.kind == "obb":
        coords = [sum(v[0::2]) / 4, sum(v[1::2]) / 4]
        what = "oriented-box centre"
    elif row.kind == "pose" and kpt_shape is not None:
        k, d = kpt_shape
        coords = v[:4]
        for i in range(k):
            coords.extend(v[4 + i * d: 4 + i * d + 2])
            if d == 3:
                vis = v[4 + i * d + 2]
                if vis not in (0.0, 1.0, 2.0):
                    issues.append(issue(C.ROW_VISIBILITY, f"keypoint {i} visibility {vis:g} is "
                                        "not 0, 1 or 2: row skipped", file=where, line=row.line, record_id=key,
                                        hint="0 = not labelled, 1 = occluded, 2 = visible"))
                    return False
        what = "coordinate"
    else:
        coords = v
        what = "coordinate"
    low, high = min(coords), max(coords)
    if low < -NEAR or high > 1 + NEAR:
        bad = low if low < -NEAR else high
        issues.append(issue(C.ROW_RANGE, f"{what} {bad:g} is outside [0, 1]: kept as written",
                            file=where, line=row.line, record_id=key,
                            hint="YOLO coordinates are normalised by the image size; check the "
                                 "image size or whether the row is in pixels"))
    elif low < 0 or high > 1:
        bad = low if low < 0 else high
        issues.append(issue(C.ROW_NEAR_RANGE, f"{what} {bad:g} is outside [0, 1] by less than "
                            "1% (Ultralytics accepts it): kept as written",
                            file=where, line=row.line, record_id=key))
    return True


# ---------------------------------------------------------------------------------------------
# rows to annotations


def fit_obb(xy: list[float]) -> tuple[list[float], float, bool, bool]:
    """Oriented-box corners (pixels, flat) -> (box [x, y, w, h] before rotation, degrees
    clockwise, whether the corners form a rectangle, whether they were counter-clockwise).

    Least squares for a rectangle: the centre is the corners' mean, width and height the mean
    of opposite sides, the angle that of the mean direction of the two long-wise sides."""
    p = [(xy[i], xy[i + 1]) for i in range(0, 8, 2)]
    cross = ((p[1][0] - p[0][0]) * (p[2][1] - p[1][1])
             - (p[1][1] - p[0][1]) * (p[2][0] - p[1][0]))
    ccw = cross < 0  # y points down: a positive cross product turns clockwise on screen
    if ccw:
        p = [p[0], p[3], p[2], p[1]]
    e = [(p[(i + 1) % 4][0] - p[i][0], p[(i + 1) % 4][1] - p[i][1]) for i in range(4)]
    length = [math.hypot(*d) for d in e]
    w = (length[0] + length[2]) / 2
    h = (length[1] + length[3]) / 2
    dx, dy = e[0][0] - e[2][0], e[0][1] - e[2][1]
    angle = math.degrees(math.atan2(dy, dx)) if (dx or dy) else 0.0
    cx = sum(q[0] for q in p) / 4
    cy = sum(q[1] for q in p) / 4
    rect = w > 0 and h > 0
    if rect:
        scale = max(w, h)
        cos = abs(e[0][0] * e[1][0] + e[0][1] * e[1][1]) / (length[0] * length[1] or 1.0)
        rect = (cos <= RECT_TOLERANCE and abs(length[0] - length[2]) <= RECT_TOLERANCE * scale
                and abs(length[1] - length[3]) <= RECT_TOLERANCE * scale)
    return [cx - w / 2, cy - h / 2, w, h], angle, rect, ccw


def row_annotations(
    row: Row, width: int, height: int, item_id: str, label: str | None, where: str,
    kpt_shape: tuple[int, int] | None, issues: list[Issue],
) -> AnnotationBase:
    """The annotation a checked row describes, in pixels."""
    v = row.values
    common: dict[str, Any] = {"id": f"{item_id}#{row.line}", "item_id": item_id, "label": label}
    if label is None:
        common["extensions"] = {"yolo": {"class_id": row.cls}}
    if row.confidence is not None:
        common["confidence"] = row.confidence
    if row.kind == "box":
        return BBox(bbox=_box(v, width, height), **common)
    if row.kind == "polygon":
        return Polygon(polygon=[_scale(v, width, height)], **common)
    if row.kind == "obb":
        xy = _scale(v, width, height)
        box, angle, rect, ccw = fit_obb(xy)
        if not rect:
            issues.append(issue(C.OBB_NOT_RECTANGLE, "the 4 corners are not a rectangle: read "
                                "as a 4-point polygon", file=where, line=row.line,
                                record_id=item_id,
                                hint="written back as the same 4 corners"))
            return Polygon(polygon=[xy], **common)
        if ccw:
            ext = common.setdefault("extensions", {}).setdefault("yolo", {})
            ext["corners"] = "counterclockwise"
        return BBox(bbox=[_px(c) for c in box], rotation=round(angle, PIXEL_DECIMALS) + 0.0,
                    **common)
    # pose
    assert kpt_shape is not None
    k, d = kpt_shape
    kps: list[float] = []
    for i in range(k):
        x, y = v[4 + i * d], v[5 + i * d]
        # Without a visibility column a point at (0, 0) is Ultralytics' "not labelled".
        vis = v[6 + i * d] if d == 3 else (0.0 if x == 0 and y == 0 else 2.0)
        kps.extend((_px(x * width), _px(y * height), vis))
    return Keypoints(keypoints=kps, bbox=_box(v[:4], width, height), **common)


def plain_row(row: Row, width: int, height: int, item_id: str, label: str) -> dict[str, Any]:
    """The JSON dict of the `bbox`/`polygon` annotation `row_annotations` would build, keys as
    its `to_json_dict()` writes them (the fast path's record)."""
    out: dict[str, Any] = {"id": f"{item_id}#{row.line}", "item_id": item_id}
    if row.kind == "box":
        out.update(type="bbox", label=label, bbox=_box(row.values, width, height))
    else:
        out.update(type="polygon", label=label, polygon=[_scale(row.values, width, height)])
    return out


def _box(v: list[float], width: int, height: int) -> list[float]:
    """`cx cy w h` -> `[x, y, w, h]` pixels. An edge past the border by less than the rounding
    of a 6-decimal file (`SNAP` of the image size: `0.133333 0.3 0.266667 ...` is a box from
    x = -7.5e-6 on a 15 px image) is put on the border, where the labeller drew it."""
    cx, cy, w, h = v[0], v[1], v[2], v[3]
    x0, x1 = _snap((cx - w / 2) * width, width), _snap((cx + w / 2) * width, width)
    y0, y1 = _snap((cy - h / 2) * height, height), _snap((cy + h / 2) * height, height)
    return [_px(x0), _px(y0), _px(x1 - x0), _px(y1 - y0)]


def _px(v: float) -> float:
    """Pixels rounded to 1e-9, far below any YOLO file's precision, so that `0.1` of 150 px
    reads as 15 and not 15.000000000000002."""
    return round(v, PIXEL_DECIMALS) + 0.0  # + 0.0: no -0.0


def _snap(v: float, size: int) -> float:
    if -SNAP * size <= v < 0:
        return 0.0
    if size < v <= size * (1 + SNAP):
        return float(size)
    return v


def _scale(v: list[float], width: int, height: int) -> list[float]:
    return [_px(c * (width if i % 2 == 0 else height)) for i, c in enumerate(v)]
