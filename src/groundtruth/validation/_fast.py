"""The vectorised path for Parquet parts: prove rows clean on whole Arrow batches.

Every check of the structure, reference and content layers that the common record shapes need
is run here on columns (pyarrow.compute and numpy), conservatively: a row any check *might*
object to is flagged, and flagged rows go through the exact per-record path, which reports the
issues with their messages and locations. Rows that pass every check are registered in the
engine in bulk (ids, item facts, label use) without building a model per row.

So the fast path never decides what an issue says; it only decides that a row has none. Its
rules must therefore be at least as strict as the models and the per-record checks for the
shapes it accepts: anything else (other annotation types, less common fields) is flagged.
A test checks that both paths give the same report.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from ..models import ItemKind, Status
from ._content import EXTENT_SLACK, ItemFacts
from ._engine import Engine, _text_key
from ._report import At

Mask = npt.NDArray[np.bool_]

_FAST_TYPES = ("bbox", "polygon", "classification", "span", "keypoints")
# Columns a clean row of each fast type may hold; any other non-null column flags the row.
_BASE = {"id", "item_id", "type", "label", "label_set", "annotator", "guideline", "created",
         "confidence", "status"}
_OWN = {
    "bbox": {"bbox"},
    "polygon": {"polygon", "holes", "bbox"},
    "classification": set(),
    "span": {"start", "end", "text"},
    "keypoints": {"keypoints", "bbox"},
}
_STATUSES = pa.array(list(Status.__args__))  # type: ignore[attr-defined]
_ITEM_BASE = {"id", "kind", "uri", "sha256", "media_type", "size", "width", "height", "split",
              "text"}

# JSONL rows may take the vectorised path only when Arrow's conversion cannot hide a problem:
# Arrow drops unknown struct keys, reads true as 1.0 and truncates 1.5 into an int column.
ALLOWED_KEYS = {t: frozenset(_BASE | own) for t, own in _OWN.items()}
ITEM_KEYS = frozenset(_ITEM_BASE)
_GUIDELINE_KEYS = frozenset({"id", "version"})


def jsonl_eligible(v: Any, kind: str) -> bool:
    """Whether a parsed JSONL record can be judged on Arrow columns (see ALLOWED_KEYS)."""
    if type(v) is not dict:
        return False
    if kind == "items":
        return ITEM_KEYS.issuperset(v) and all(
            type(v[k]) is int for k in ("width", "height", "size") if k in v)
    t = v.get("type")
    allowed = ALLOWED_KEYS.get(t) if type(t) is str else None
    if allowed is None or not allowed.issuperset(v):
        return False
    g = v.get("guideline")
    if g is not None and (type(g) is not dict or not g.keys() <= _GUIDELINE_KEYS):
        return False
    return t != "span" or (type(v.get("start")) is int and type(v.get("end")) is int)


def _np(arr: pa.Array | pa.ChunkedArray, fill: float = math.nan) -> npt.NDArray[np.float64]:
    return np.asarray(pc.fill_null(arr.cast(pa.float64()), fill).to_numpy(zero_copy_only=False),
                      dtype=np.float64)


def _bool(arr: pa.Array | pa.ChunkedArray) -> Mask:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _valid(arr: pa.Array) -> Mask:
    return np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _duplicates(ids: list[Any], seen: dict[str, Any]) -> Mask:
    """Rows whose id was seen in an earlier batch or occurs twice in this one."""
    unique = set(ids)
    # (dict_keys.isdisjoint walks the smaller side; set.isdisjoint(dict) would walk every id)
    if len(unique) == len(ids) and seen.keys().isdisjoint(unique):
        return np.zeros(len(ids), dtype=bool)  # the common case, in C
    counts: dict[Any, int] = {}
    for rid in ids:
        counts[rid] = counts.get(rid, 0) + 1
    return np.array([rid in seen or counts[rid] > 1 for rid in ids], dtype=bool)


class FastAnnotations:
    """Checks annotation batches against the engine's state (items, taxonomy, ids so far)."""

    def __init__(self, engine: Engine, tolerance: float) -> None:
        self.engine = engine
        self.tol = tolerance
        idx = engine.index
        assert idx is not None
        self.index = idx
        self.annotators = pa.array(sorted(idx.annotators), pa.string())
        self._items_built = False
        self._label_cache: dict[tuple[str, str | None, str | None],
                                tuple[bool, int, tuple[str, str] | None]] = {}

    def _build_items(self) -> None:
        """Item facts as columns, for gathering per annotation with `index_in`."""
        ids: list[str] = []
        w: list[float] = []
        h: list[float] = []
        tl: list[float] = []
        for rid, entry in self.engine.items.items():
            if entry is None:
                continue  # a broken item: its annotations take the exact path
            f = entry[0]
            ids.append(rid)
            w.append(math.nan if f.width is None else f.width)
            h.append(math.nan if f.height is None else f.height)
            tl.append(math.nan if f.text_len is None else f.text_len)
        self.item_ids = pa.array(ids, pa.string())
        # one spare slot at the end stands for "no such item" (those rows are flagged anyway)
        self.width = np.array([*w, math.nan], dtype=np.float64)
        self.height = np.array([*h, math.nan], dtype=np.float64)
        self.text_len = np.array([*tl, math.nan], dtype=np.float64)
        self._items_built = True

    # -- the check ---------------------------------------------------------------------------
    def flag(self, b: pa.RecordBatch) -> Mask:
        """Rows that need the exact path (True) — everything not proven clean."""
        if not self._items_built:
            self._build_items()
        n = b.num_rows
        col = {name: b.column(i) for i, name in enumerate(b.schema.names)}
        types = col["type"]
        bad = ~_bool(pc.is_in(types, pa.array(_FAST_TYPES)))
        for name in ("id", "item_id", "type"):
            c = col[name]
            bad |= ~_valid(c)
            bad |= _bool(pc.equal(pc.utf8_length(c), 0))
        per_type = {t: _bool(pc.equal(types, t)) for t in _FAST_TYPES}
        for name, c in col.items():
            if name in _BASE or c.null_count == n:
                continue
            allowed = np.zeros(n, dtype=bool)
            for t, own in _OWN.items():
                if name in own:
                    allowed |= per_type[t]
            bad |= _valid(c) & ~allowed
        # structure of the base fields
        st = col["status"]
        if st.null_count < n:
            bad |= _valid(st) & ~_bool(pc.is_in(st, _STATUSES))
        g = col["guideline"]
        if g.null_count < n:
            gid = pc.struct_field(g, "id")
            bad |= _valid(g) & (~_valid(gid) | _bool(pc.equal(pc.utf8_length(gid), 0)))
        conf = col["confidence"]
        if conf.null_count < n:
            c = _np(conf, 0.5)
            bad |= ~np.isfinite(c) | (c < 0) | (c > 1)
        # references: item, ids, annotator, guideline, label
        pos = pc.index_in(col["item_id"], value_set=self.item_ids)
        found = _valid(pos)
        bad |= ~found
        posn = np.asarray(pc.fill_null(pos, len(self.item_ids)).to_numpy(zero_copy_only=False),
                          dtype=np.int64)
        ann = col["annotator"]
        if ann.null_count < n:
            bad |= _valid(ann) & ~_bool(pc.is_in(ann, self.annotators))
        if g.null_count < n:
            bad |= self._guidelines_bad(g)
        # one lookup per distinct (type, label, label set), not per row
        joined = pc.binary_join_element_wise(
            types, col["label"], col["label_set"], "\x00", null_handling="replace",
            null_replacement="\x01").dictionary_encode()
        codes = np.asarray(joined.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        # the values of each distinct key, read from its first row (no parsing of the key)
        _u, first = np.unique(codes, return_index=True)
        take = pa.array(first, pa.int64())
        firsts = zip(types.take(take).to_pylist(), col["label"].take(take).to_pylist(),
                     col["label_set"].take(take).to_pylist(), strict=True)
        clean_combo = []
        kp_combo = []
        for key in firsts:
            hit = self._label_cache.get(key)
            if hit is None:
                hit = self._label_cache[key] = self._label(*key)
            clean_combo.append(hit[0])
            kp_combo.append(hit[1])
        bad |= ~np.array(clean_combo, dtype=bool)[codes]
        kp_count = np.array(kp_combo, dtype=np.int64)[codes]
        bad |= per_type["classification"] & ~_valid(col["label"])
        # geometry and content
        width, height = self.width[posn], self.height[posn]
        bbox_rows = per_type["bbox"] | _valid(col["bbox"])
        bad |= per_type["bbox"] & ~_valid(col["bbox"])
        if bbox_rows.any():
            bad |= self._boxes(col["bbox"], bbox_rows, width, height)
        for name in ("polygon", "holes"):
            c = col[name]
            if c.null_count < n:
                bad |= self._rings(c, width, height, n)
        bad |= per_type["polygon"] & ~_valid(col["polygon"])
        if per_type["polygon"].any() and col["bbox"].null_count < n:
            bad |= self._extent_off(col["polygon"], col["bbox"], per_type["polygon"], n)
        if (col["polygon"].null_count < n):
            bad |= _valid(col["polygon"]) & _bool(pc.equal(pc.list_value_length(col["polygon"]),
                                                           0))
        kp = col["keypoints"]
        bad |= per_type["keypoints"] & ~_valid(kp)
        if kp.null_count < n:
            bad |= self._keypoints(kp, kp_count, width, height, n)
        if per_type["span"].any():
            s, e = _np(col["start"]), _np(col["end"])
            tl = self.text_len[posn]
            bad |= per_type["span"] & ~(np.isfinite(s) & np.isfinite(e))
            with np.errstate(invalid="ignore"):
                bad |= per_type["span"] & ~((s >= 0) & (s <= e) & (e <= tl))
        # duplicate ids: against earlier batches and within this one
        return bad | _duplicates(col["id"].to_pylist(), self.engine.ann_item)

    def _label(self, t: str, label: str | None,
               label_set: str | None) -> tuple[bool, int, tuple[str, str] | None]:
        """(clean, keypoint count of the label or -1, the label used) for a combination."""
        r = self.index.resolve(t, label, label_set)
        if r.status == "ok" and r.label_set is not None and r.label is not None:
            kp = len(r.label.keypoints) if r.label.keypoints else -1
            return True, kp, (r.label_set.name, r.label.name)
        return r.status == "none", -1, None

    def _guidelines_bad(self, g: pa.Array) -> Mask:
        """Rows whose guideline id, or id@version, the manifest does not define."""
        known = self.index.guidelines
        gid = pc.struct_field(g, "id")
        ver = pc.struct_field(g, "version")
        ids_ok = _bool(pc.is_in(gid, pa.array(sorted(known), pa.string())))
        pairs = pa.array(sorted(f"{k}\x00{v}" for k, vs in known.items() for v in vs),
                         pa.string())
        joined = pc.binary_join_element_wise(gid, ver, "\x00")
        pair_ok = _bool(pc.is_in(joined, pairs))
        return _valid(g) & ~(ids_ok & (~_valid(ver) | pair_ok))

    def _boxes(self, c: pa.Array, rows: Mask, width: Any, height: Any) -> Mask:
        n = len(c)
        bad = np.zeros(n, dtype=bool)
        lengths = np.asarray(pc.fill_null(pc.list_value_length(c), 4).to_numpy(
            zero_copy_only=False))
        bad |= rows & (lengths != 4)
        if bad.any():
            return rows  # odd shapes: every box row takes the exact path
        flat = pc.list_flatten(c)
        if flat.null_count:
            return rows
        vals = np.asarray(flat.to_numpy(zero_copy_only=False), dtype=np.float64).reshape(-1, 4)
        where = np.flatnonzero(_valid(c))
        x, y, w, h = vals.T
        t = self.tol
        with np.errstate(invalid="ignore"):
            box_bad = ~np.isfinite(vals).all(axis=1) | (w <= 0) | (h <= 0)
            W, H = width[where], height[where]
            out = (x < -t) | (y < -t) | (x + w > W + t) | (y + h > H + t)
            box_bad |= np.isfinite(W) & np.isfinite(H) & out
        bad[where] |= box_bad
        return bad

    def _extent_off(self, polygon: pa.Array, bbox: pa.Array, rows: Mask, n: int) -> Mask:
        """Polygon rows with a bbox that is not the rings' extent (see `bbox_extent`); odd
        shapes are left to the other checks, which already send them the exact path."""
        off = np.zeros(n, dtype=bool)
        rings = pc.list_flatten(polygon)
        values = pc.list_flatten(rings)
        if len(values) == 0 or values.null_count or rings.null_count:
            return off
        ring_row = np.asarray(pc.list_parent_indices(polygon).to_numpy(zero_copy_only=False))
        value_ring = np.asarray(pc.list_parent_indices(rings).to_numpy(zero_copy_only=False))
        lengths = np.asarray(pc.list_value_length(rings).to_numpy(zero_copy_only=False))
        if (lengths % 2).any():
            return off
        v = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
        row = ring_row[value_ring]
        ring_start = np.r_[0, np.cumsum(lengths)[:-1]]
        is_x = (np.arange(v.size) - np.repeat(ring_start, lengths)) % 2 == 0
        ext = np.full((n, 4), np.nan)  # min x, min y, max x, max y
        for k, (sel, fn, init) in enumerate(((is_x, np.minimum, np.inf), (~is_x, np.minimum,
                                             np.inf), (is_x, np.maximum, -np.inf),
                                            (~is_x, np.maximum, -np.inf))):
            acc = np.full(n, init)
            fn.at(acc, row[sel], v[sel])
            ext[:, k] = acc
        boxes = np.full((n, 4), np.nan)
        lens = np.asarray(pc.fill_null(pc.list_value_length(bbox), 0).to_numpy(
            zero_copy_only=False))
        has = rows & (lens == 4)
        if not has.any():
            return off
        flat = pc.list_flatten(bbox)
        if flat.null_count:
            return off
        vals = np.asarray(flat.to_numpy(zero_copy_only=False), dtype=np.float64)
        starts = np.r_[0, np.cumsum(lens)[:-1]]
        for k in range(4):
            boxes[has, k] = vals[starts[has] + k]
        x, y, w, h = boxes.T
        with np.errstate(invalid="ignore"):
            diff = np.abs(np.stack([x - ext[:, 0], y - ext[:, 1],
                                    x + w - ext[:, 2], y + h - ext[:, 3]])).max(axis=0)
            far: Mask = has & np.isfinite(ext).all(axis=1) & (diff > max(EXTENT_SLACK, self.tol))
        return far

    def _rings(self, c: pa.Array, width: Any, height: Any, n: int) -> Mask:
        bad = np.zeros(n, dtype=bool)
        rings = pc.list_flatten(c)
        ring_row = np.asarray(pc.list_parent_indices(c).to_numpy(zero_copy_only=False))
        if rings.null_count:
            bad[np.unique(ring_row[~_valid(rings)])] = True
        lengths = np.asarray(pc.fill_null(pc.list_value_length(rings), 0).to_numpy(
            zero_copy_only=False))
        short = (lengths % 2 == 1) | (lengths < 6)
        bad[ring_row[short]] = True
        values = pc.list_flatten(rings)
        if len(values) == 0:
            return bad
        value_ring = np.asarray(pc.list_parent_indices(rings).to_numpy(zero_copy_only=False))
        if values.null_count:
            return bad | _valid(c)  # nulls inside rings: every row with rings takes the exact path
        v = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
        return bad | self._points_outside(v, ring_row[value_ring], width, height, n)

    def _points_outside(self, v: Any, row_of_value: Any, width: Any, height: Any,
                        n: int) -> Mask:
        """Rows with a non-finite value or a point outside the image (flat x, y pairs)."""
        bad = np.zeros(n, dtype=bool)
        # a ring's values alternate x, y; ring lengths are even here or already flagged
        is_x = np.zeros(v.size, dtype=bool)
        starts = np.flatnonzero(np.r_[True, row_of_value[1:] != row_of_value[:-1]])
        # position within each row's run of values: parity gives x (even) or y (odd)
        run = np.arange(v.size) - np.repeat(starts, np.diff(np.r_[starts, v.size]))
        is_x = run % 2 == 0
        bad[row_of_value[~np.isfinite(v)]] = True
        limit = np.where(is_x, width[row_of_value], height[row_of_value])
        t = self.tol
        with np.errstate(invalid="ignore"):
            out = (v < -t) | (np.isfinite(limit) & (v > limit + t))
        bad[row_of_value[out]] = True
        return bad

    def _keypoints(self, c: pa.Array, kp_count: Any, width: Any, height: Any, n: int) -> Mask:
        bad = np.zeros(n, dtype=bool)
        lengths = np.asarray(pc.fill_null(pc.list_value_length(c), 0).to_numpy(
            zero_copy_only=False))
        valid = _valid(c)
        bad |= valid & (lengths % 3 != 0)
        bad |= valid & (kp_count >= 0) & (lengths != 3 * kp_count)
        values = pc.list_flatten(c)
        if len(values) == 0:
            return bad
        rows = np.asarray(pc.list_parent_indices(c).to_numpy(zero_copy_only=False))
        if values.null_count:
            return bad | valid
        v = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
        bad[rows[~np.isfinite(v)]] = True
        if bad.any():
            return bad | valid  # odd shapes: let the exact path sort them out
        trip = v.reshape(-1, 3)
        trow = rows[::3]
        vis = trip[:, 2]
        bad[trow[~np.isin(vis, (0.0, 1.0, 2.0))]] = True
        shown = vis > 0
        t = self.tol
        W, H = width[trow], height[trow]
        with np.errstate(invalid="ignore"):
            out = shown & ((trip[:, 0] < -t) | (trip[:, 1] < -t)
                           | (np.isfinite(W) & (trip[:, 0] > W + t))
                           | (np.isfinite(H) & (trip[:, 1] > H + t)))
        bad[trow[out]] = True
        return bad

    # -- clean rows ----------------------------------------------------------------------------
    def register(self, b: pa.RecordBatch, clean: Mask, file: str, first_row: int,
                 lines: list[int] | None = None, rows: Any = None) -> None:
        """Bulk bookkeeping for rows proven clean: ids, annotated items, span texts.

        Rows are located by `first_row + i` (Parquet), by `lines[i]` (JSONL) or by `rows[i]`
        (Parquet rows gathered from several places of a part)."""
        e = self.engine
        sel = pa.array(clean)
        ids = b.column("id").filter(sel).to_pylist()
        items = b.column("item_id").filter(sel).to_pylist()
        e.ann_item.update(zip(ids, items, strict=True))
        e.annotated.update(items)
        e.n_annotations += len(ids)
        # annotators working without guideline: counted row by row, in reading order
        alone = clean & _valid(b.column("annotator")) & ~_valid(b.column("guideline"))
        if alone.any():
            picked = np.flatnonzero(alone)
            take = pa.array(picked, pa.int64())
            for rid, who, i in zip(b.column("id").take(take).to_pylist(),
                                   b.column("annotator").take(take).to_pylist(), picked,
                                   strict=True):
                e.dataset.annotation(rid, who, False, (e.part_number, _place(lines, rows,
                                                                             first_row, i)))
        keys = set(zip(b.column("type").filter(sel).to_pylist(),
                       b.column("label").filter(sel).to_pylist(),
                       b.column("label_set").filter(sel).to_pylist(), strict=True))
        for key in keys:
            used = self._label_cache[key][2]
            if used is not None:
                e.dataset.used_labels.add(used)
        texts = b.column("text")
        if texts.null_count < b.num_rows:
            with_text = clean & _valid(texts) & _bool(pc.equal(b.column("type"), "span"))
            picked = np.flatnonzero(with_text)
            take = pa.array(picked, pa.int64())
            spans = zip(*(b.column(c).take(take).to_pylist()
                          for c in ("id", "item_id", "start", "end", "text")), picked,
                        strict=True)
            for rid, item, start, end, text, i in spans:
                at = (At(file=file, line=lines[i]) if lines is not None
                      else At(file=file, row=_place(None, rows, first_row, i)))
                e.spans.setdefault(item, []).append((rid, start, end, _text_key(text), at))


def _place(lines: list[int] | None, rows: Any, first_row: int, i: Any) -> int:
    if lines is not None:
        return int(lines[i])
    return int(rows[i]) if rows is not None else first_row + int(i)


class FastItems:
    """The same for item batches: common shapes proven clean, the rest flagged."""

    KINDS = pa.array(list(ItemKind.__args__))  # type: ignore[attr-defined]

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def flag(self, b: pa.RecordBatch) -> Mask:
        n = b.num_rows
        col = {name: b.column(i) for i, name in enumerate(b.schema.names)}
        bad = np.zeros(n, dtype=bool)
        for name in ("id", "kind"):
            bad |= ~_valid(col[name])
        bad |= _bool(pc.equal(pc.utf8_length(col["id"]), 0))
        bad |= ~_bool(pc.is_in(col["kind"], self.KINDS))
        for name, c in col.items():
            if name not in _ITEM_BASE and c.null_count < n:
                bad |= _valid(c)
        kinds = col["kind"].to_pylist()
        has_uri, has_text = _valid(col["uri"]), _valid(col["text"])
        media = ("image", "audio", "video", "document", "conversation")  # (no `messages` here)
        for i, k in enumerate(kinds):
            if (k == "text" and not (has_uri[i] or has_text[i])) or (
                    k in media and not has_uri[i]):
                bad[i] = True
        for name in ("width", "height"):
            c = col[name]
            if c.null_count < n:
                bad |= _valid(c) & ~_bool(pc.greater(c, 0))
        if col["size"].null_count < n:
            bad |= _valid(col["size"]) & ~_bool(pc.greater_equal(col["size"], 0))
        sha = col["sha256"]
        if sha.null_count < n:
            bad |= _valid(sha) & ~_bool(pc.match_substring_regex(sha, r"^[0-9a-f]{64}$"))
        return bad | _duplicates(col["id"].to_pylist(), self.engine.items)

    def register_row(self, cols: list[list[Any]], text_len: list[Any], i: int, at: At) -> None:
        """Bookkeeping for one clean item row (items are few: one at a time, in row order)."""
        e = self.engine
        rid, kind, w, h, uri, sha, split = (c[i] for c in cols)
        e.items[rid] = (ItemFacts(kind, w, h, None, None, text_len[i], None), at, split)
        e.n_items += 1
        e.dataset.media_and_split(rid, uri, sha, split, at)

    @staticmethod
    def columns(b: pa.RecordBatch) -> tuple[list[list[Any]], list[Any]]:
        cols = [b.column(name).to_pylist() for name in
                ("id", "kind", "width", "height", "uri", "sha256", "split")]
        return cols, pc.utf8_length(b.column("text")).to_pylist()


__all__ = ["FastAnnotations", "FastItems"]
