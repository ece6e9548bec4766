"""Geometry and content: numbers that are finite, shapes inside their image, offsets inside
their text, times inside their media, scores on their scale.

Each check needs one annotation and a few small facts about its item (`ItemFacts`), never the
item's content, so validation streams in memory bounded by the number of items. The one check
that needs an item's text (a span's covered text) is deferred by the engine to a second pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..converters._rle import counts_from_string
from ..issues import define
from ..models import (
    AnnotationBase,
    BBox,
    Item,
    Keypoints,
    Label,
    LabelSet,
    Mask,
    Polygon,
    Polyline,
    Ranking,
    Rating,
    Segment,
    Span,
    Transcription,
)
from ._report import At, Collector

EXTENT_SLACK = 1.0
"""Pixels a polygon's bbox may differ from its extent (rounding, pixel-edge conventions)."""

NOT_FINITE = define("content.not-finite", "error", "A number is NaN or infinite")
CONFIDENCE_RANGE = define("content.confidence-range", "error", "A confidence outside [0, 1]")
FRAME_RANGE = define(
    "content.frame-out-of-range", "error", "A frame index past the item's frame count"
)
BBOX_EXTENT = define(
    "geometry.bbox-extent-mismatch", "warning",
    "A polygon's `bbox` is not the extent of its rings (beyond a pixel)",
)
NON_POSITIVE = define("geometry.non-positive-size", "error", "A box with zero or negative size")
OUT_OF_BOUNDS = define("geometry.out-of-bounds", "error", "A shape reaches outside its image")
ODD_RING = define(
    "geometry.odd-coordinates", "error", "A flat xy list holds an odd count of numbers"
)
TOO_FEW_POINTS = define(
    "geometry.too-few-points", "error", "A polygon ring under 3 points or a polyline under 2"
)
NOT_TRIPLETS = define(
    "geometry.keypoints-not-triplets", "error", "Keypoints are not a multiple of 3 numbers"
)
VISIBILITY = define(
    "geometry.keypoints-visibility", "error", "A keypoint visibility other than 0, 1 or 2"
)
KEYPOINT_COUNT = define(
    "geometry.keypoints-count", "error", "Keypoint count differs from the label's keypoint schema"
)
RLE_INVALID = define("geometry.rle-invalid", "error", "RLE counts cannot be decoded")
RLE_SUM = define("geometry.rle-sum", "error", "RLE counts do not sum to height × width")
RLE_SIZE = define("geometry.rle-size", "error", "RLE size differs from the item's [height, width]")
SPAN_REVERSED = define("content.span-reversed", "error", "A span whose start is after its end")
SPAN_RANGE = define("content.span-out-of-range", "error", "A span past the end of the text")
SPAN_NO_TEXT = define("content.span-no-text", "error", "A span on an item without inline text")
SPAN_TEXT = define(
    "content.span-text-mismatch", "error", "A span's `text` differs from text[start:end]"
)
TOKEN_RANGE = define(
    "content.token-out-of-range", "error", "A token's offsets are reversed or past the text"
)
TIME_REVERSED = define("content.time-reversed", "error", "An interval ending before it starts")
TIME_RANGE = define("content.time-out-of-range", "error", "A time past the media's duration")
RATING_SCALE = define(
    "content.rating-out-of-scale", "error", "A rating outside its label set's scale"
)
SCALE_INVALID = define(
    "content.rating-scale-invalid", "error", "A label set whose min_value exceeds max_value"
)
RANKING_DUPLICATE = define(
    "content.ranking-duplicate", "error", "A ranking lists a candidate more than once"
)
RANKING_INCOMPLETE = define(
    "content.ranking-incomplete", "error", "A ranking leaves out some of the item's candidates"
)

HINTS = {
    BBOX_EXTENT: "recompute the bbox from the polygon (COCO: [min x, min y, width, height] "
    "of the segmentation), or check the polygon was not moved or swapped",
    NOT_FINITE: "store a finite number (JSON has no NaN or Infinity)",
    CONFIDENCE_RANGE: "confidence is a probability-like score in [0, 1]: rescale it",
    FRAME_RANGE: "frames are 0-based and below the item's `frame_count`",
    NON_POSITIVE: "a box is [x, y, width, height] with width and height > 0",
    OUT_OF_BOUNDS: "coordinates are pixels from the top-left corner within [0, width] x "
                   "[0, height]; clip the shape, fix the item's size, or raise --tolerance",
    ODD_RING: "a ring is a flat list [x1, y1, x2, y2, ...]: every point needs both numbers",
    TOO_FEW_POINTS: "a polygon ring needs >= 3 points and a polyline >= 2; drop the degenerate "
                    "part",
    NOT_TRIPLETS: "keypoints are flat [x, y, v] triplets",
    VISIBILITY: "v is 0 (not labelled), 1 (labelled, not visible) or 2 (visible)",
    KEYPOINT_COUNT: "give one triplet per name in the label's `keypoints` (v = 0 for absent ones)",
    RLE_INVALID: "counts are non-negative run lengths, or COCO's compressed RLE string",
    RLE_SUM: "the runs must cover the mask exactly: sum(counts) = height * width",
    RLE_SIZE: "`rle.size` is the item's [height, width]",
    SPAN_REVERSED: "offsets are code points with the end exclusive: start <= end",
    SPAN_RANGE: "offsets are Unicode code points into the item's `text`, end exclusive",
    SPAN_NO_TEXT: "give the item its `text` inline, or annotate it with another type",
    SPAN_TEXT: "fix the offsets (code points, not bytes or UTF-16 units) or the covered text",
    TOKEN_RANGE: "token offsets are code points into `text`, start <= end <= len(text)",
    TIME_REVERSED: "an interval needs start_time <= end_time",
    TIME_RANGE: "times are seconds within the item's `duration`",
    RATING_SCALE: "rate within the label set's [min_value, max_value], or widen the scale",
    SCALE_INVALID: "swap min_value and max_value",
    RANKING_DUPLICATE: "each candidate appears once; put ties in one group",
    RANKING_INCOMPLETE: "rank every candidate of the item (ties go in one group)",
}


@dataclass(slots=True)
class ItemFacts:
    """What content checks need to know of an item: sizes and counts, never its content."""

    kind: str
    width: int | None
    height: int | None
    duration: float | None
    frame_count: int | None
    text_len: int | None
    candidates: frozenset[str] | None
    annotated: bool = False

    @classmethod
    def of(cls, item: Item) -> ItemFacts:
        return cls(
            item.kind, item.width, item.height, item.duration, item.frame_count,
            len(item.text) if item.text is not None else None,
            frozenset(c.id for c in item.candidates) if item.candidates else None,
        )


class ContentChecks:
    """The geometry and content checks, reporting into a collector."""

    def __init__(self, out: Collector, tolerance: float = 0.0) -> None:
        self.out = out
        self.tol = tolerance

    # -- items -------------------------------------------------------------------------------
    def item(self, item: Item, at: At) -> None:
        rid = item.id
        for name in ("duration", "fps"):
            v = getattr(item, name)
            if v is not None and not math.isfinite(v):
                self._emit(NOT_FINITE, f"`{name}` is {v}", at, rid, name)
        if item.tokens:
            n = len(item.text) if item.text is not None else None
            for ti, tok in enumerate(item.tokens):
                if tok.start > tok.end or (n is not None and tok.end > n):
                    size = f"a text of {n} code points" if n is not None else "no inline text"
                    self._emit(TOKEN_RANGE, f"token [{tok.start}, {tok.end}) does not fit {size}",
                               at, rid, "tokens", ti)

    # -- annotations -------------------------------------------------------------------------
    def annotation(
        self, ann: AnnotationBase, facts: ItemFacts | None, label: Label | None,
        label_set: LabelSet | None, at: At,
    ) -> None:
        rid = ann.id
        c = ann.confidence
        if c is not None and not (0.0 <= c <= 1.0):
            code = CONFIDENCE_RANGE if math.isfinite(c) else NOT_FINITE
            self._emit(code, f"confidence is {c}", at, rid, "confidence")
        if ann.time is not None and not math.isfinite(ann.time):
            self._emit(NOT_FINITE, f"`time` is {ann.time}", at, rid, "time")
        if ann.consensus is not None and ann.consensus.agreement is not None:
            a = ann.consensus.agreement
            if not (0.0 <= a <= 1.0):
                self._emit(CONFIDENCE_RANGE if math.isfinite(a) else NOT_FINITE,
                           f"consensus agreement is {a}", at, rid, "consensus", "agreement")
        if facts is not None:
            if (ann.frame is not None and facts.frame_count is not None
                    and ann.frame >= facts.frame_count):
                self._emit(FRAME_RANGE, f"frame {ann.frame} of an item with "
                           f"{facts.frame_count} frames", at, rid, "frame")
            if (ann.time is not None and facts.duration is not None
                    and math.isfinite(ann.time) and ann.time > facts.duration + 1e-9):
                self._emit(TIME_RANGE, f"time {ann.time}s past the duration "
                           f"{facts.duration}s", at, rid, "time")
        check = _BY_TYPE.get(type(ann))
        if check is not None:
            check(self, ann, facts, label, label_set, at)

    # -- helpers -----------------------------------------------------------------------------
    def _emit(self, code: str, msg: str, at: At, rid: str, *path: str | int) -> None:
        self.out.emit(code, msg, at, rid, *path, hint=HINTS[code])

    def _finite(self, values: Sequence[float], at: At, rid: str, *path: str | int) -> bool:
        for i, v in enumerate(values):
            if not math.isfinite(v):
                self._emit(NOT_FINITE, f"coordinate {i} is {v}", at, rid, *path, i)
                return False
        return True

    def _inside(
        self, xs: Sequence[float], ys: Sequence[float], facts: ItemFacts | None, at: At,
        rid: str, *path: str | int,
    ) -> None:
        if facts is None or facts.width is None or facts.height is None or not xs:
            return
        t = self.tol
        w, h = facts.width, facts.height
        lo_x, hi_x, lo_y, hi_y = min(xs), max(xs), min(ys), max(ys)
        if lo_x < -t or lo_y < -t or hi_x > w + t or hi_y > h + t:
            self._emit(OUT_OF_BOUNDS,
                       f"extends to x in [{lo_x:g}, {hi_x:g}], y in [{lo_y:g}, {hi_y:g}] on a "
                       f"{w}x{h} image" + (f" (tolerance {t:g} px)" if t else ""),
                       at, rid, *path)

    def _box(self, box: Sequence[float], facts: ItemFacts | None, at: At, rid: str,
             name: str, rotation: float | None = None) -> None:
        if not self._finite(box, at, rid, name):
            return
        x, y, w, h = box
        if w <= 0 or h <= 0:
            self._emit(NON_POSITIVE, f"box size is {w:g} x {h:g}", at, rid, name)
            return
        if rotation:
            if not math.isfinite(rotation):
                self._emit(NOT_FINITE, f"rotation is {rotation}", at, rid, "rotation")
                return
            th = math.radians(rotation)
            cx, cy = x + w / 2, y + h / 2
            dx = abs(w / 2 * math.cos(th)) + abs(h / 2 * math.sin(th))
            dy = abs(w / 2 * math.sin(th)) + abs(h / 2 * math.cos(th))
            self._inside([cx - dx, cx + dx], [cy - dy, cy + dy], facts, at, rid, name)
            return
        self._inside([x, x + w], [y, y + h], facts, at, rid, name)

    def bbox_extent(self, box: Sequence[float], rings: list[list[float]], at: At,
                    rid: str) -> None:
        """A COCO `bbox` is the extent of the segmentation: one far from it (the quickstart's
        330 px box around a 94 px polygon) is a copy-paste slip or a moved shape."""
        xs = [v for r in rings if len(r) % 2 == 0 for v in r[0::2]]
        ys = [v for r in rings if len(r) % 2 == 0 for v in r[1::2]]
        if len(box) != 4 or not xs or not all(map(math.isfinite, [*box, *xs, *ys])):
            return  # reported by the finite and ring checks
        x, y, w, h = box
        lo_x, hi_x, lo_y, hi_y = min(xs), max(xs), min(ys), max(ys)
        if max(abs(x - lo_x), abs(y - lo_y), abs(x + w - hi_x),
               abs(y + h - hi_y)) > max(EXTENT_SLACK, self.tol):
            self._emit(BBOX_EXTENT,
                       f"bbox covers x in [{x:g}, {x + w:g}], y in [{y:g}, {y + h:g}]; the "
                       f"polygon x in [{lo_x:g}, {hi_x:g}], y in [{lo_y:g}, {hi_y:g}]",
                       at, rid, "bbox")

    def _rings(self, rings: list[list[float]], min_points: int, facts: ItemFacts | None,
               at: At, rid: str, name: str) -> None:
        for ri, ring in enumerate(rings):
            if len(ring) % 2:
                self._emit(ODD_RING, f"ring {ri} has {len(ring)} numbers", at, rid, name, ri)
                continue
            if len(ring) < 2 * min_points:
                self._emit(TOO_FEW_POINTS, f"ring {ri} has {len(ring) // 2} point(s), needs "
                           f">= {min_points}", at, rid, name, ri)
                continue
            if self._finite(ring, at, rid, name, ri):
                self._inside(ring[0::2], ring[1::2], facts, at, rid, name, ri)


# -- per type ----------------------------------------------------------------------------------
# Each takes (checks, annotation, item facts, resolved label, resolved label set, at).


def _bbox(c: ContentChecks, a: Any, f: ItemFacts | None, _l: Label | None,
    _ls: LabelSet | None, at: At,
) -> None:
    c._box(a.bbox, f, at, a.id, "bbox", a.rotation)


def _polygon(c: ContentChecks, a: Any, f: ItemFacts | None, _l: Label | None,
    _ls: LabelSet | None, at: At,
) -> None:
    c._rings(a.polygon, 3, f, at, a.id, "polygon")
    c._rings(a.holes, 3, f, at, a.id, "holes")
    if a.bbox is not None:
        c._box(a.bbox, f, at, a.id, "bbox")
        c.bbox_extent(a.bbox, a.polygon, at, a.id)


def _polyline(
    c: ContentChecks, a: Any, f: ItemFacts | None, _l: Label | None,
    _ls: LabelSet | None, at: At,
) -> None:
    c._rings(a.polyline, 2, f, at, a.id, "polyline")


def _keypoints(c: ContentChecks, a: Any, f: ItemFacts | None, label: Label | None,
               _ls: LabelSet | None, at: At) -> None:
    kp: list[float] = a.keypoints
    rid = a.id
    if len(kp) % 3:
        c._emit(NOT_TRIPLETS, f"{len(kp)} numbers is not a whole number of [x, y, v] triplets",
                at, rid, "keypoints")
        return
    if not c._finite(kp, at, rid, "keypoints"):
        return
    xs: list[float] = []
    ys: list[float] = []
    for i in range(0, len(kp), 3):
        v = kp[i + 2]
        if v not in (0, 1, 2):
            c._emit(VISIBILITY, f"keypoint {i // 3} has visibility {v:g}", at, rid,
                    "keypoints", i + 2)
            return
        if v > 0:
            xs.append(kp[i])
            ys.append(kp[i + 1])
    if label is not None and label.keypoints and len(kp) // 3 != len(label.keypoints):
        c._emit(KEYPOINT_COUNT, f"{len(kp) // 3} keypoints, label {label.name!r} defines "
                f"{len(label.keypoints)}", at, rid, "keypoints")
    c._inside(xs, ys, f, at, rid, "keypoints")
    if a.bbox is not None:
        c._box(a.bbox, f, at, rid, "bbox")


def _mask(c: ContentChecks, a: Any, f: ItemFacts | None, _l: Label | None,
    _ls: LabelSet | None, at: At,
) -> None:
    rid = a.id
    if a.bbox is not None:
        c._box(a.bbox, f, at, rid, "bbox")
    rle = a.rle
    if rle is None:
        return
    h, w = rle.size
    if h < 0 or w < 0:
        c._emit(RLE_INVALID, f"size {[h, w]} is negative", at, rid, "rle", "size")
        return
    if isinstance(rle.counts, str):
        try:
            total, negative = _sum_sign(counts_from_string(rle.counts).tolist())
        except ValueError as exc:
            c._emit(RLE_INVALID, str(exc), at, rid, "rle", "counts")
            return
    else:
        total, negative = _sum_sign(rle.counts)
    if negative:
        c._emit(RLE_INVALID, "a run length is negative", at, rid, "rle", "counts")
        return
    if total != h * w:
        c._emit(RLE_SUM, f"counts sum to {total}, size {[h, w]} needs {h * w}", at, rid,
                "rle", "counts")
    if f is not None and f.height is not None and f.width is not None and (
            (h, w) != (f.height, f.width)):
        c._emit(RLE_SIZE, f"size is {[h, w]}, the item is [{f.height}, {f.width}]", at, rid,
                "rle", "size")


def _sum_sign(counts: Sequence[int]) -> tuple[int, bool]:
    return sum(counts), any(x < 0 for x in counts)


def _span(c: ContentChecks, a: Any, f: ItemFacts | None, _l: Label | None,
    _ls: LabelSet | None, at: At,
) -> None:
    rid = a.id
    if a.start > a.end:
        c._emit(SPAN_REVERSED, f"start {a.start} > end {a.end}", at, rid, "end")
        return
    if f is None:
        return
    if f.text_len is None:
        c._emit(SPAN_NO_TEXT, f"item is a {f.kind} item with no inline `text`", at, rid,
                "item_id")
        return
    if a.end > f.text_len:
        c._emit(SPAN_RANGE, f"span [{a.start}, {a.end}) on a text of {f.text_len} code points",
                at, rid, "end")


def _interval(c: ContentChecks, a: Any, f: ItemFacts | None, _l: Label | None,
    _ls: LabelSet | None, at: At,
) -> None:
    rid = a.id
    s, e = a.start_time, a.end_time
    for name, v in (("start_time", s), ("end_time", e)):
        if v is not None and not math.isfinite(v):
            c._emit(NOT_FINITE, f"`{name}` is {v}", at, rid, name)
            return
    if s is not None and e is not None and s > e:
        c._emit(TIME_REVERSED, f"start_time {s:g}s > end_time {e:g}s", at, rid, "end_time")
        return
    if f is not None and f.duration is not None:
        for name, v in (("start_time", s), ("end_time", e)):
            if v is not None and v > f.duration + 1e-9:
                c._emit(TIME_RANGE, f"{name} {v:g}s past the duration {f.duration:g}s",
                        at, rid, name)
                return


def _rating(c: ContentChecks, a: Any, _f: ItemFacts | None, _l: Label | None,
            ls: LabelSet | None, at: At) -> None:
    v = a.value
    if not math.isfinite(v):
        c._emit(NOT_FINITE, f"value is {v}", at, a.id, "value")
        return
    if ls is None:
        return
    lo, hi = ls.min_value, ls.max_value
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        c._emit(RATING_SCALE, f"value {v:g} outside [{lo}, {hi}] of label set {ls.name!r}",
                at, a.id, "value")


def _ranking(c: ContentChecks, a: Any, f: ItemFacts | None, _l: Label | None,
    _ls: LabelSet | None, at: At,
) -> None:
    if f is None:
        return
    from ._references import HINTS as REF_HINTS
    from ._references import RANKING_UNKNOWN_CANDIDATE

    cands = f.candidates or frozenset()
    seen: set[str] = set()
    for gi, group in enumerate(a.ranking):
        for k, cid in enumerate(group):
            if cid not in cands:
                c.out.emit(RANKING_UNKNOWN_CANDIDATE, f"{cid!r} is not a candidate of the item",
                           at, a.id, "ranking", gi, k,
                           hint=REF_HINTS[RANKING_UNKNOWN_CANDIDATE])
            elif cid in seen:
                c._emit(RANKING_DUPLICATE, f"candidate {cid!r} is ranked twice", at, a.id,
                        "ranking", gi, k)
            seen.add(cid)
    for key in a.scores:
        if key not in cands:
            c.out.emit(RANKING_UNKNOWN_CANDIDATE, f"score for {key!r}, not a candidate",
                       at, a.id, "scores", key, hint=REF_HINTS[RANKING_UNKNOWN_CANDIDATE])
    missing = cands - seen
    if missing:
        c._emit(RANKING_INCOMPLETE, f"{len(missing)} candidate(s) not ranked: "
                f"{', '.join(sorted(missing)[:5])}", at, a.id, "ranking")


_BY_TYPE: dict[type, Any] = {
    BBox: _bbox,
    Polygon: _polygon,
    Polyline: _polyline,
    Keypoints: _keypoints,
    Mask: _mask,
    Span: _span,
    Segment: _interval,
    Transcription: _interval,
    Rating: _rating,
    Ranking: _ranking,
}
