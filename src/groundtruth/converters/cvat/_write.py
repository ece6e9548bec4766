"""groundtruth -> CVAT for images 1.1 or CVAT for video 1.1, with a loss report.

The XML is written as it is produced (one image or track at a time) to a temporary name, then
moved into place. See converters/cvat/MAPPING.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from ...issues import Issue, issue
from ...models import (
    AnnotationBase,
    BBox,
    Classification,
    Item,
    Keypoints,
    Label,
    Mask,
    Polygon,
    Polyline,
)
from .. import _rle
from .._xml import XmlOut, fmt_num, is_uint, write_value
from . import _codes as C
from ._read import NS

if TYPE_CHECKING:
    from ...dataset import Dataset

_PROVENANCE = ("guideline", "created", "confidence", "status", "time", "sources", "consensus")
_ITEM_FIELDS = ("sha256", "size", "media_type", "text", "tokens", "messages", "candidates",
                "duration", "sample_rate", "fps", "metadata")
_KIND_SOURCE = {"human": "manual", "model": "auto", "rule": "file", "consensus": "consensus"}
_ATTR_TYPE = {"boolean": "checkbox", "number": "number", "integer": "number", "enum": "select",
              "string": "text"}


def _ext(record: Any) -> dict[str, Any]:
    value = record.extensions.get(NS)
    return value if isinstance(value, dict) else {}


@dataclass
class WCtx:
    ds: Dataset
    labels: list[Label]
    video: bool
    issues: list[Issue] = field(default_factory=list)
    label_by_name: dict[str, Label] = field(default_factory=dict)
    sizes: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    next_group: int = 0
    renumbered: dict[str, dict[str, int]] = field(default_factory=dict)

    def loss(self, code: str, message: str, record_id: str | None = None) -> None:
        self.issues.append(issue(code, message, record_id=record_id))


# -- labels and meta ---------------------------------------------------------------------------------
def _label_xml(out: XmlOut, lab: Label) -> None:
    ext = _ext(lab)
    out.open("label")
    out.leaf("name", lab.name)
    if NS in lab.extensions:  # read from CVAT: written back as it was
        for k, v in ext.items():
            if k != "nodes":
                write_value(out, k, v)
    else:
        if lab.keypoints:
            out.leaf("type", "skeleton")
            out.leaf("svg", _svg(lab))
        out.open("attributes")
        for a in lab.attributes:
            out.open("attribute")
            out.leaf("name", a.name)
            out.leaf("mutable", "False")
            out.leaf("input_type", _ATTR_TYPE.get(a.type, "text"))
            values = a.values if a.type == "enum" else (
                ["false", "true"] if a.type == "boolean" else [])
            out.leaf("default_value", values[0] if values else "")
            out.leaf("values", "\n".join(values))
            out.close("attribute")
        out.close("attributes")
    out.close("label")
    nodes = ext.get("nodes") if ext else None
    if nodes is None and lab.keypoints:
        nodes = [{"name": n, "type": "points", "attributes": ""} for n in lab.keypoints]
    for node in nodes or []:
        out.open("label")
        out.leaf("name", str(node.get("name", "")))
        for k, v in node.items():
            if k != "name":
                write_value(out, k, v)
        out.leaf("parent", lab.name)
        out.close("label")


def _svg(lab: Label) -> str:
    """The skeleton drawing CVAT keeps its edges in: nodes on a circle, edges between them
    (`data-node-id` is 1-based, as CVAT numbers them)."""
    n = len(lab.keypoints)
    xy = [(50 + 40 * math.cos(2 * math.pi * i / n), 50 + 40 * math.sin(2 * math.pi * i / n))
          for i in range(n)]
    parts = [
        f'<line x1="{xy[a][0]:.2f}" y1="{xy[a][1]:.2f}" x2="{xy[b][0]:.2f}" y2="{xy[b][1]:.2f}" '
        f'stroke="black" data-type="edge" data-node-from="{a + 1}" stroke-width="0.5" '
        f'data-node-to="{b + 1}"></line>'
        for a, b in lab.skeleton if a < n and b < n
    ]
    parts += [
        f'<circle r="1.5" stroke="black" fill="#b3b3b3" cx="{x:.2f}" cy="{y:.2f}" '
        f'stroke-width="0.1" data-type="element node" data-element-id="{i + 1}" '
        f'data-node-id="{i + 1}" data-label-name="{escape(name, quote=True)}"></circle>'
        for i, ((x, y), name) in enumerate(zip(xy, lab.keypoints, strict=True))
    ]
    return "".join(parts)


def _labels_xml(out: XmlOut, labels: list[Label]) -> None:
    out.open("labels")
    for lab in labels:
        _label_xml(out, lab)
    out.close("labels")


def _meta(out: XmlOut, w: WCtx, count: int, video: Item | None) -> None:
    ext = _ext(w.ds.manifest)
    meta = ext.get("meta")

    def hook(o: XmlOut, tag: str, value: Any) -> bool:
        if tag == "labels" and value == "@labels":
            _labels_xml(o, w.labels)
            return True
        return False

    if isinstance(meta, dict):
        write_value(out, "meta", meta, hook)
        return
    out.open("meta")
    out.open("task")
    out.leaf("name", w.ds.manifest.name)
    out.leaf("size", str(count))
    out.leaf("mode", "interpolation" if w.video else "annotation")
    _labels_xml(out, w.labels)
    if video is not None and video.width and video.height:
        out.open("original_size")
        out.leaf("width", str(video.width))
        out.leaf("height", str(video.height))
        out.close("original_size")
    out.close("task")
    if video is not None and video.uri:
        out.leaf("source", video.uri)
    out.close("meta")


# -- shapes ------------------------------------------------------------------------------------------
def _source(ann: AnnotationBase, w: WCtx) -> str | None:
    if ann.annotator is None:
        return None
    if ann.annotator.startswith("cvat-"):
        return ann.annotator[len("cvat-"):]
    if ann.annotator == "cvat":
        return ""
    who = w.ds.manifest.annotator(ann.annotator)
    w.loss(C.LOST_PROVENANCE, f"annotator {ann.annotator!r} written as CVAT source "
           f"{_KIND_SOURCE.get(who.kind if who else 'human', 'manual')!r}", ann.id)
    return _KIND_SOURCE.get(who.kind if who else "human", "manual")


def _flag(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _attr_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return fmt_num(float(value))
    return str(value)


def _pts(flat: list[float]) -> str:
    return ";".join(f"{fmt_num(flat[i])},{fmt_num(flat[i + 1])}" for i in range(0, len(flat) - 1, 2))


def _check(ann: AnnotationBase, w: WCtx) -> None:
    lost = [k for k in _PROVENANCE if getattr(ann, k) not in (None, [], {})]
    if not w.video:
        lost += [k for k in ("frame", "track_id") if getattr(ann, k) is not None]
    lost += [f"extensions.{k}" for k in ann.extensions if k != NS]
    if lost:
        w.loss(C.LOST_PROVENANCE, f"not written: {', '.join(lost)}", ann.id)


def _head(ann: AnnotationBase, w: WCtx, *, in_track: bool) -> dict[str, str]:
    ext = _ext(ann)
    attrs: dict[str, str] = {}
    if in_track:
        attrs["frame"] = str(ann.frame if ann.frame is not None else ext.get("frame", 0))
        if "outside" in ann.attributes:
            attrs["outside"] = _flag(ann.attributes["outside"])
        if "occluded" in ann.attributes:
            attrs["occluded"] = _flag(ann.attributes["occluded"])
        attrs["keyframe"] = _flag(ext.get("keyframe", True))
        return attrs
    if ann.label is not None or not isinstance(ann, Classification):
        attrs["label"] = ann.label or ""
    source = _source(ann, w)
    if source is not None:
        attrs["source"] = source
    if "occluded" in ann.attributes:
        attrs["occluded"] = _flag(ann.attributes["occluded"])
    if "outside" in ann.attributes:
        attrs["outside"] = _flag(ann.attributes["outside"])
    return attrs


def _tail(ann: AnnotationBase, attrs: dict[str, str], *, in_track: bool, group: int | None
          ) -> None:
    ext = _ext(ann)
    if "z_order" in ext:
        attrs["z_order"] = str(ext["z_order"])
    if not in_track or not ext.get("track_group"):
        if group is not None:
            attrs["group_id"] = str(group)
        elif "group_id" in ext and not (in_track and ext.get("track_group")):
            attrs["group_id"] = str(ext["group_id"])
    for k, v in (ext.get("@") or {}).items():
        attrs[str(k)] = str(v)


def _emit(out: XmlOut, tag: str, attrs: dict[str, str], ann: AnnotationBase,
          children: Callable[[], None] | None = None) -> None:
    user = {k: v for k, v in ann.attributes.items() if k not in ("occluded", "outside")}
    if not user and children is None:
        out.leaf(tag, None, attrs)
        return
    out.open(tag, attrs)
    if children is not None:
        children()
    for k, v in user.items():
        out.leaf("attribute", _attr_text(v), {"name": k})
    out.close(tag)


def shape_xml(out: XmlOut, ann: AnnotationBase, w: WCtx, item: Item, *, in_track: bool) -> None:
    """One annotation as CVAT shape element(s); what CVAT cannot carry goes to the report."""
    _check(ann, w)
    ext = _ext(ann)
    head = _head(ann, w, in_track=in_track)
    if isinstance(ann, BBox):
        x, y, bw, bh = ann.bbox
        if ext.get("shape") == "ellipse":
            geo = {"cx": fmt_num(x + bw / 2), "cy": fmt_num(y + bh / 2),
                   "rx": fmt_num(bw / 2), "ry": fmt_num(bh / 2)}
            tag = "ellipse"
        else:
            geo = {"xtl": fmt_num(x), "ytl": fmt_num(y), "xbr": fmt_num(x + bw),
                   "ybr": fmt_num(y + bh)}
            tag = "box"
        if ann.rotation is not None:
            geo["rotation"] = fmt_num(ann.rotation)
        attrs = {**head, **geo}
        _tail(ann, attrs, in_track=in_track, group=None)
        _emit(out, tag, attrs, ann)
    elif isinstance(ann, (Polygon, Polyline)):
        parts = ann.polygon if isinstance(ann, Polygon) else ann.polyline
        tag = "polygon" if isinstance(ann, Polygon) else "polyline"
        if isinstance(ann, Polygon) and ann.holes:
            w.loss(C.LOST_HOLES, f"{len(ann.holes)} hole(s) not written", ann.id)
        group = None
        if len(parts) > 1:
            group = int(ext["group_id"]) if isinstance(ext.get("group_id"), int) else None
            if group is None:
                w.next_group += 1
                group = w.next_group
            w.loss(C.MULTI_PART, f"{len(parts)} parts written as {tag}s of group {group}",
                   ann.id)
        for part in parts:
            attrs = {**head, "points": _pts(part)}
            _tail(ann, attrs, in_track=in_track, group=group)
            _emit(out, tag, attrs, ann)
    elif isinstance(ann, Keypoints):
        _keypoints(out, ann, w, head, in_track=in_track)
    elif isinstance(ann, Mask):
        _mask(out, ann, w, item, head, in_track=in_track)
    elif isinstance(ann, Classification):
        attrs = dict(head)
        _tail(ann, attrs, in_track=in_track, group=None)
        _emit(out, "tag", attrs, ann)
    else:
        w.loss(C.LOST_ANNOTATION, f"a {getattr(ann, 'type', '?')} annotation not written "
               "(CVAT has no such shape)", ann.id)


def _keypoints(out: XmlOut, ann: Keypoints, w: WCtx, head: dict[str, str], *, in_track: bool
               ) -> None:
    ext = _ext(ann)
    kp = ann.keypoints
    triplets = [kp[i:i + 3] for i in range(0, len(kp) - 2, 3)]
    lab = w.label_by_name.get(ann.label or "")
    if ext.get("shape") == "points" or lab is None or not lab.keypoints:
        flat = [v for t in triplets if t[2] > 0 for v in t[:2]]
        if len(flat) < 2 * len(triplets):
            w.loss(C.LOST_ANNOTATION, f"{len(triplets) - len(flat) // 2} unlabelled point(s) "
                   "(v = 0) not written in a CVAT points shape", ann.id)
        if not flat:
            return
        attrs = {**head, "points": _pts(flat)}
        _tail(ann, attrs, in_track=in_track, group=None)
        _emit(out, "points", attrs, ann)
        return
    attrs = dict(head)
    if "@" not in ext:
        attrs["points"] = "" if not in_track else _pts(
            [v for t in triplets for v in t[:2]])
    _tail(ann, attrs, in_track=in_track, group=None)
    if in_track:
        _emit(out, "skeleton", attrs, ann)
        return

    def nodes() -> None:
        raw = ext.get("nodes") or []
        for i, name in enumerate(lab.keypoints):
            t = triplets[i] if i < len(triplets) else [0.0, 0.0, 0.0]
            node = raw[i] if i < len(raw) else None
            if node is None and raw:
                continue  # the node was absent in the source
            out.leaf("points", None, _node_attrs(name, t, node))

    _emit(out, "skeleton", attrs, ann, nodes)


def _node_attrs(name: str, t: list[float], node: dict[str, Any] | None) -> dict[str, str]:
    node = dict(node or {})
    attrs: dict[str, str] = {"label": str(node.pop("label", name))}
    node.pop("attributes", None)
    raw_points = node.pop("points", None)
    base = {"occluded": "1" if t[2] == 1 else "0", "source": "manual",
            "outside": "1" if t[2] == 0 else "0"}
    attrs.update({**base, **{k: str(v) for k, v in node.items()}})
    if t[2] == 0:
        attrs["outside"] = "1"
    attrs["points"] = str(raw_points) if t[2] == 0 and raw_points is not None else (
        f"{fmt_num(t[0])},{fmt_num(t[1])}")
    order = ["label", "occluded", "source", "outside", "points"]
    return {k: attrs[k] for k in [*order, *[k for k in attrs if k not in order]] if k in attrs}


def _mask(out: XmlOut, ann: Mask, w: WCtx, item: Item, head: dict[str, str], *, in_track: bool
          ) -> None:
    ext = _ext(ann)
    if ann.rle is None:
        w.loss(C.LOST_ANNOTATION, f"a mask stored as an image file ({ann.uri}) not written",
               ann.id)
        return
    if ext.get("local") and "rle" in ext:
        box = [int(v) for v in ext["box"]]
        rle = str(ext["rle"])
    else:
        h, wd = ann.rle.size
        counts = (_rle.counts_from_string(ann.rle.counts) if isinstance(ann.rle.counts, str)
                  else ann.rle.counts)
        try:
            full = _rle.decode(counts, h, wd)
        except ValueError as err:
            w.loss(C.LOST_ANNOTATION, f"mask RLE cannot be decoded ({err}); not written",
                   ann.id)
            return
        if "box" in ext:
            box = [int(v) for v in ext["box"]]
        else:
            ys, xs = np.nonzero(full)
            if not len(xs):
                w.loss(C.LOST_ANNOTATION, "an empty mask not written", ann.id)
                return
            box = [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
                   int(ys.max() - ys.min() + 1)]
        left, top, bw, bh = box
        local = np.zeros((bh, bw), dtype=bool)
        sub = full[top:top + bh, left:left + bw]
        local[: sub.shape[0], : sub.shape[1]] = sub
        rle = ", ".join(str(int(c)) for c in _rle.encode(local.T))
    attrs = {**head, "rle": rle, "left": str(box[0]), "top": str(box[1]),
             "width": str(box[2]), "height": str(box[3])}
    _tail(ann, attrs, in_track=in_track, group=None)
    _emit(out, "mask", attrs, ann)


# -- the document ----------------------------------------------------------------------------------
def _int_ids(ids: list[str], w: WCtx, kind: str) -> dict[str, int]:
    """CVAT ids are integers: keep integer ids, number the others after the largest."""
    out: dict[str, int] = {}
    used = {int(i) for i in ids if is_uint(i)}
    nxt = max(used, default=-1) + 1
    changed: dict[str, int] = {}
    for i in ids:
        if i in out:
            continue
        if is_uint(i):
            out[i] = int(i)
        else:
            out[i] = nxt
            changed[i] = nxt
            nxt += 1
    if changed:
        w.renumbered[kind] = changed
        w.issues.append(issue(C.RENUMBERED, f"{len(changed)} {kind} id(s) are not integers: "
                              "numbered after the largest (map in the report details)"))
    return out


def _item_loss(item: Item, w: WCtx) -> None:
    lost = [k for k in _ITEM_FIELDS if getattr(item, k) not in (None, [], {})]
    if item.kind == "image" and item.frame_count is not None:
        lost.append("frame_count")
    lost += [f"extensions.{k}" for k in item.extensions if k != NS]
    if lost:
        w.loss(C.LOST_ITEM_FIELDS, f"not written: {', '.join(lost)}", item.id)


def _manifest_loss(w: WCtx) -> None:
    m = w.ds.manifest
    # name, version label, created time and lineage are the native dataset's bookkeeping, as
    # in the COCO converter; content a user put there is reported.
    lost = [k for k in ("description", "license") if getattr(m, k)]
    lost += [k for k in ("creators", "guidelines", "metadata") if getattr(m, k)]
    used = {it.split for it in w.ds.items} if not w.video else set()
    if any(s.name not in used or s.description for s in m.splits):
        lost.append("splits (only image subsets are written)")
    lost += [f"annotator {a.id}" for a in m.annotators if not a.id.startswith("cvat")]
    lost += [f"extensions.{k}" for k in m.extensions if k != NS]
    if lost:
        w.loss(C.LOST_MANIFEST, f"not written: {', '.join(lost)}")


def write_document(f: IO[bytes], w: WCtx) -> dict[str, Any]:
    out = XmlOut(f)
    ds = w.ds
    by_item: dict[str, list[AnnotationBase]] = {}
    for a in ds.annotations:
        by_item.setdefault(a.item_id, []).append(a)
    _manifest_loss(w)
    ext = _ext(ds.manifest)
    out.open("annotations")
    out.leaf("version", str(ext.get("version", "1.1")))
    if w.video:
        videos = [it for it in ds.items if it.kind == "video"]
        video = videos[0] if videos else None
        for it in ds.items:
            if it is not video:
                w.loss(C.LOST_ITEM, f"a {it.kind} item and its "
                       f"{len(by_item.get(it.id, []))} annotation(s) not written (a CVAT "
                       "video file holds one video)", it.id)
        _meta(out, w, video.frame_count or 0 if video else 0, video)
        details: dict[str, Any] = {"layout": "video"}
        if video is not None:
            _item_loss(video, w)
            details.update(_tracks(out, by_item.get(video.id, []), w, video))
    else:
        images = [it for it in ds.items if it.kind == "image"]
        for it in ds.items:
            if it.kind != "image":
                w.loss(C.LOST_ITEM, f"a {it.kind} item and its "
                       f"{len(by_item.get(it.id, []))} annotation(s) not written", it.id)
        _meta(out, w, len(images), None)
        ids = _int_ids([it.id for it in images], w, "image")
        for it in images:
            _item_loss(it, w)
            iext = _ext(it)
            attrs = {"id": str(ids[it.id])}
            if "name" not in iext.get("@absent", []):
                attrs["name"] = it.uri or it.id
            if it.split is not None:
                attrs["subset"] = it.split
            for k, v in (iext.get("@") or {}).items():
                attrs[str(k)] = str(v)
            if it.width is not None:
                attrs["width"] = str(it.width)
            if it.height is not None:
                attrs["height"] = str(it.height)
            anns = by_item.get(it.id, [])
            unknown = {int(u["index"]): u for u in iext.get("unknown", [])}
            if not anns and not unknown:
                out.leaf("image", None, attrs)
                continue
            out.open("image", attrs)
            k = 0
            for a in anns:
                k += 1
                while k in unknown:
                    write_value(out, unknown[k]["tag"], unknown.pop(k)["value"])
                    k += 1
                shape_xml(out, a, w, it, in_track=False)
            for u in unknown.values():
                write_value(out, u["tag"], u["value"])
            out.close("image")
        details = {"layout": "images", "images": len(images)}
    for other in ext.get("other", []):
        write_value(out, str(other["tag"]), other["value"])
    out.close("annotations")
    if w.renumbered:
        details["renumbered_ids"] = w.renumbered
    return details


def _keyframe(ann: AnnotationBase) -> bool:
    """A keyframe, as the reader counts them: the shape's own flag, or any skeleton node's."""
    ext = _ext(ann)
    nodes = ext.get("nodes") or []
    return ext.get("keyframe", True) is not False or any(
        isinstance(n, dict) and n.get("keyframe") == "1" for n in nodes)


def _tracks(out: XmlOut, anns: list[AnnotationBase], w: WCtx, video: Item) -> dict[str, int]:
    """Write the tracks; what the report says about frames (`details`)."""
    tracks: dict[str, list[AnnotationBase]] = {}
    singles: list[AnnotationBase] = []
    counts = {"tracks": 0, "keyframes": 0, "interpolated_frames": 0,
              "materialised_frames_left_to_cvat": 0}
    for a in anns:
        if _ext(a).get("materialised"):
            counts["materialised_frames_left_to_cvat"] += 1
            continue  # filled in by the reader: CVAT interpolates it again on import
        counts["keyframes" if _keyframe(a) else "interpolated_frames"] += 1
        if a.track_id is None:
            singles.append(a)
        else:
            tracks.setdefault(a.track_id, []).append(a)
    ids = _int_ids(list(tracks), w, "track")
    nxt = max(ids.values(), default=-1) + 1
    for a in singles:
        if isinstance(a, Classification):
            _check(a, w)
            attrs = {"label": a.label, "frame": str(a.frame or 0)}
            source = _source(a, w)
            if source is not None:
                attrs["source"] = source
            _emit(out, "tag", attrs, a)
            continue
        w.loss(C.SHAPE_AS_TRACK, "an annotation without a track id written as a one-frame "
               f"track {nxt}", a.id)
        _track(out, str(nxt), [a], w, video)
        nxt += 1
    for tid, members in tracks.items():
        _track(out, str(ids[tid]), members, w, video)
    counts["tracks"] = len(tracks) + sum(1 for a in singles if not isinstance(a, Classification))
    return counts


def _track(out: XmlOut, tid: str, members: list[AnnotationBase], w: WCtx, video: Item) -> None:
    first = members[0]
    fext = _ext(first)
    attrs = {"id": tid, "label": first.label or ""}
    source = _source(first, w)
    if source is not None:
        attrs["source"] = source
    if fext.get("track_group") and "group_id" in fext:
        attrs["group_id"] = str(fext["group_id"])
    for k, v in (fext.get("track") or {}).items():
        attrs[str(k)] = str(v)
    for a in members[1:]:
        if a.label != first.label:
            w.loss(C.LOST_ANNOTATION, f"label {a.label!r} differs from its track's "
                   f"{first.label!r}: written with the track's", a.id)
    out.open("track", attrs)
    for a in sorted(members, key=lambda m: m.frame or 0):
        shape_xml(out, a, w, video, in_track=True)
    node_tracks = fext.get("node_tracks")
    lab = w.label_by_name.get(first.label or "")
    if isinstance(first, Keypoints) and lab is not None and lab.keypoints:
        if not node_tracks:
            node_tracks = [{"id": str(i), "label": n} for i, n in enumerate(lab.keypoints)]
        for i, nt in enumerate(node_tracks):
            out.open("track", {str(k): str(v) for k, v in nt.items()})
            for a in sorted(members, key=lambda m: m.frame or 0):
                if not isinstance(a, Keypoints):
                    continue
                raw = _ext(a).get("nodes") or []
                node = raw[i] if i < len(raw) else {}
                if node is None:
                    continue
                t = a.keypoints[3 * i:3 * i + 3] or [0.0, 0.0, 0.0]
                nattrs = {"frame": str(a.frame or 0)}
                merged = _node_attrs(str(nt.get("label", "")), t, node)
                merged.pop("label", None)
                merged.pop("source", None) if "source" not in node else None
                nattrs.update({k: v for k, v in merged.items() if k != "frame"})
                order = ["frame", "outside", "occluded", "keyframe", "points", "z_order"]
                nattrs = {k: nattrs[k] for k in [*order, *[k for k in nattrs
                                                           if k not in order]] if k in nattrs}
                out.leaf("points", None, nattrs)
            out.close("track")
    out.close("track")
