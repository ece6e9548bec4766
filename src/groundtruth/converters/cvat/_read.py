"""CVAT for images 1.1 and CVAT for video 1.1 (XML) -> groundtruth records.

The file is read as a stream of events: `<meta>` is parsed once it ends (it is small), each
`<image>` and each `<track>` is turned into records when it ends and is then cleared, so memory
holds one image or one track at a time, whatever the file size. Problems become Issues located
at the file and line. See converters/cvat/MAPPING.md.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from xml.etree.ElementTree import Element

import numpy as np
from pydantic import ValidationError

from ...errors import ConversionError
from ...issues import Issue, Location, issue
from ...models import (
    AnnotationBase,
    Annotator,
    AttributeDef,
    BBox,
    Classification,
    Item,
    Keypoints,
    Label,
    LabelSet,
    Manifest,
    Mask,
    Polygon,
    Polyline,
    Rle,
    Taxonomy,
)
from .. import _rle
from .._xml import is_uint, iter_events, line_of, to_value
from . import _codes as C
from ._interpolate import materialise

NS = "cvat"
SHAPES = ("box", "polygon", "polyline", "points", "ellipse", "mask", "skeleton", "tag")
_SOURCE_KIND: dict[str, Any] = {"manual": "human", "semi-auto": "human", "auto": "model", "file": "rule",
                "consensus": "consensus"}
_COMMON = ("label", "source", "occluded", "outside", "keyframe", "z_order", "group_id", "frame")
_GEOMETRY = {
    "box": ("xtl", "ytl", "xbr", "ybr", "rotation"),
    "ellipse": ("cx", "cy", "rx", "ry", "rotation"),
    "mask": ("rle", "left", "top", "width", "height"),
    "polygon": ("points",),
    "polyline": ("points",),
    "points": ("points",),
    "skeleton": (),
    "tag": (),
}
_EDGE = re.compile(r'data-node-from="(\d+)"[^>]*?data-node-to="(\d+)"|'
                   r'data-node-to="(\d+)"[^>]*?data-node-from="(\d+)"')
_NODE = re.compile(r'data-node-id="(\d+)"[^>]*?data-label-name="([^"]*)"')


class _Skip(Exception):
    """A shape that cannot be read (its issue is already reported)."""


@dataclass
class Ctx:
    file: str
    label_set: str
    frames: str = "all"
    issues: list[Issue] = field(default_factory=list)
    labels: dict[str, Label] = field(default_factory=dict)
    input_types: dict[tuple[str, str], str] = field(default_factory=dict)
    annotators: dict[str, Annotator] = field(default_factory=dict)
    meta: Any = None
    version: str | None = None
    other: list[dict[str, Any]] = field(default_factory=list)
    mode: str = "images"
    video_item: Item | None = None
    interpolated: int = 0
    dropped: int = 0
    tracks: int = 0
    materialised: int = 0
    splits: list[str] = field(default_factory=list)

    def add(self, code: str, message: str, *, hint: str | None = None, **where: Any) -> None:
        self.issues.append(issue(code, message, hint=hint, file=self.file, **where))


# -- meta and labels -------------------------------------------------------------------------------
def _labels_elem(meta: Element) -> Element | None:
    for parent in ("task", "project", "job"):
        found = meta.find(f"{parent}/labels")
        if found is not None:
            return found
    return None


def read_meta(meta: Element, ctx: Ctx) -> None:
    labels = _labels_elem(meta)
    children: dict[str, list[Any]] = {}
    if labels is not None:
        for lab_el in labels.findall("label"):
            value = to_value(lab_el)
            value = value if isinstance(value, dict) else {}
            name = str(value.get("name", ""))
            parent = value.get("parent")
            if parent:
                children.setdefault(str(parent), []).append(value)
                continue
            _add_label(name, value, ctx, lab_el)
        for parent, nodes in children.items():
            if parent not in ctx.labels:
                for node in nodes:
                    _add_label(str(node.get("name", "")), node, ctx, labels)
                continue
            lab = ctx.labels[parent]
            names = [str(n.get("name", "")) for n in nodes]
            ext = dict(lab.extensions[NS])
            ext["nodes"] = [{k: v for k, v in n.items() if k != "parent"} for n in nodes]
            for n in nodes:
                for a in _attr_list(n):
                    ctx.input_types[(str(n.get("name", "")), str(a.get("name", "")))] = str(
                        a.get("input_type", "text"))
            ctx.labels[parent] = lab.model_copy(update={
                "keypoints": names,
                "skeleton": _edges(str(ext.get("svg", "")), names),
                "extensions": {NS: ext},
            })
        labels.clear()
        labels.text = "@labels"  # where the labels go back when the meta is written
    ctx.meta = to_value(meta)
    if meta.find("task/mode") is not None and (meta.findtext("task/mode") or "") == "interpolation":
        ctx.mode = "video"


def _attr_list(label_value: dict[str, Any]) -> list[dict[str, Any]]:
    attrs = label_value.get("attributes")
    if not isinstance(attrs, dict):
        return []
    items = attrs.get("attribute", [])
    items = items if isinstance(items, list) else [items]
    return [a for a in items if isinstance(a, dict)]


def _values(text: Any) -> list[str]:
    raw = str(text or "")
    parts = raw.split("\n") if "\n" in raw else raw.split()
    return [p.strip() for p in parts if p.strip()]


def _add_label(name: str, value: dict[str, Any], ctx: Ctx, where: Element) -> None:
    """Read one <label> into `ctx.labels`, or say why it is not read (no name, bad values)."""
    if not name.strip():
        ctx.add(C.MISSING_ATTRIBUTE, "a <label> has no <name>; the label is not read",
                hint="every label in <meta> needs a non-empty <name>", line=line_of(where))
        return
    try:
        ctx.labels[name] = _label(name, value, ctx)
    except ValidationError as exc:
        problem = exc.errors()[0]
        ctx.add(C.MISSING_ATTRIBUTE, f"label {name[:60]!r} cannot be read: "
                f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}",
                hint="fix the label's definition in <meta>", line=line_of(where))


def _label(name: str, value: dict[str, Any], ctx: Ctx) -> Label:
    defs = []
    for a in _attr_list(value):
        aname = str(a.get("name", ""))
        kind = str(a.get("input_type", "text"))
        ctx.input_types[(name, aname)] = kind
        if not aname:
            continue
        if kind == "checkbox":
            defs.append(AttributeDef(name=aname, type="boolean"))
        elif kind == "number":
            defs.append(AttributeDef(name=aname, type="number"))
        elif kind in ("radio", "select"):
            defs.append(AttributeDef(name=aname, type="enum", values=_values(a.get("values"))))
        else:
            defs.append(AttributeDef(name=aname, type="string"))
    ext = {k: v for k, v in value.items() if k != "name"}
    return Label(name=name, attributes=defs, extensions={NS: ext})


def _edges(svg: str, names: list[str]) -> list[list[int]]:
    """Skeleton edges from CVAT's SVG drawing: node ids -> 0-based indices into `names`."""
    ids = {m.group(1): m.group(2) for m in _NODE.finditer(svg)}
    out = []
    for m in _EDGE.finditer(svg):
        a, b = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        na, nb = ids.get(a), ids.get(b)
        if na is not None and nb is not None and na in names and nb in names:
            out.append([names.index(na), names.index(nb)])
    return out


# -- shapes ----------------------------------------------------------------------------------------
def _num(elem: Element, key: str, ctx: Ctx, rid: str) -> float:
    text = elem.get(key)
    if text is None:
        ctx.add(C.MISSING_ATTRIBUTE, f"<{elem.tag}> has no `{key}`; the shape is not read",
                hint=f"a CVAT {elem.tag} needs {', '.join(_GEOMETRY.get(elem.tag, ()))}",
                line=line_of(elem), record_id=rid)
        raise _Skip
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        ctx.add(C.BAD_NUMBER, f"<{elem.tag}> `{key}` is {text!r}, not a number; the shape is "
                "not read", hint="coordinates are decimal numbers", line=line_of(elem),
                record_id=rid)
        raise _Skip
    return value


def _points(elem: Element, ctx: Ctx, rid: str, minimum: int) -> list[float]:
    text = elem.get("points")
    if text is None:
        ctx.add(C.MISSING_ATTRIBUTE, f"<{elem.tag}> has no `points`; the shape is not read",
                hint="points are `x1,y1;x2,y2;...`", line=line_of(elem), record_id=rid)
        raise _Skip
    flat: list[float] = []
    try:
        for pair in (p for p in text.split(";") if p.strip()):
            x, y = pair.split(",")
            fx, fy = float(x), float(y)
            if not (math.isfinite(fx) and math.isfinite(fy)):
                raise ValueError(pair)
            flat += [fx, fy]
    except ValueError:
        ctx.add(C.BAD_POINTS, f"<{elem.tag}> points {text[:60]!r} are not `x,y;x,y;...` "
                "numbers; the shape is not read", hint="write each point as `x,y`, "
                "separated by `;`", line=line_of(elem), record_id=rid)
        raise _Skip from None
    if len(flat) < 2 * minimum:
        ctx.add(C.BAD_POINTS, f"<{elem.tag}> has {len(flat) // 2} point(s); at least {minimum} "
                "needed; the shape is not read", line=line_of(elem), record_id=rid)
        raise _Skip
    return flat


def _bool(text: str) -> Any:
    return text == "1" if text in ("0", "1") else text


def _typed(label: str, name: str, text: str, ctx: Ctx, elem: Element, rid: str) -> Any:
    kind = ctx.input_types.get((label, name))
    if kind == "checkbox":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
    elif kind == "number":
        try:
            value = float(text)
        except ValueError:
            pass
        else:
            if math.isfinite(value):
                return int(value) if value == int(value) and "." not in text else value
    else:
        return text
    ctx.add(C.BAD_ATTRIBUTE, f"attribute {name!r} is {text!r}, not a {kind} value; kept as text",
            line=line_of(elem), record_id=rid)
    return text


def _common(
    elem: Element, ctx: Ctx, rid: str, label: str, *, inherited: dict[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(annotation fields, attributes, cvat extension) shared by every shape."""
    attrib = {**(inherited or {}), **elem.attrib}
    fields: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    ext: dict[str, Any] = {}
    source = attrib.get("source")
    if source is not None:
        aid = f"cvat-{source}" if source else "cvat"
        if aid not in ctx.annotators:
            ctx.annotators[aid] = Annotator(
                id=aid, kind=_SOURCE_KIND.get(source, "human"), tool="cvat",
                metadata={"source": source},
            )
        fields["annotator"] = aid
    for key in ("occluded", "outside"):
        if key in attrib:
            attributes[key] = _bool(attrib[key])
    if "keyframe" in attrib:
        ext["keyframe"] = _bool(attrib["keyframe"])
    for key in ("z_order", "group_id"):
        if key in attrib:
            text = attrib[key]
            ext[key] = int(text) if is_uint(text.lstrip("-")) else text
    if "frame" in attrib:
        text = attrib["frame"]
        if is_uint(text):
            fields["frame"] = int(text)
        else:
            ctx.add(C.BAD_NUMBER, f"`frame` is {text!r}, not a frame number; kept in "
                    "extensions", line=line_of(elem), record_id=rid)
            ext["frame"] = text
    rest = {k: v for k, v in elem.attrib.items()
            if k not in _COMMON and k not in _GEOMETRY.get(elem.tag, ())}
    if rest:
        ext["@"] = rest
    for a in elem.findall("attribute"):
        name = a.get("name", "")
        attributes[name] = _typed(label, name, (a.text or "").strip(), ctx, a, rid)
    if label and label not in ctx.labels:
        ctx.add(C.UNKNOWN_LABEL, f"label {label!r} is not declared in <meta>; added",
                line=line_of(elem), record_id=rid)
        ctx.labels[label] = Label(name=label)
    return fields, attributes, ext


def read_shape(
    elem: Element, ctx: Ctx, rid: str, item: Item, *,
    track: dict[str, str] | None = None, nodes: list[Element | None] | None = None,
) -> AnnotationBase:
    """One CVAT shape element as an annotation (raises `_Skip` when it cannot be read)."""
    tag = elem.tag
    label = (track or {}).get("label", elem.get("label", ""))
    inherited = {k: v for k, v in (track or {}).items() if k in ("source", "group_id")}
    fields, attributes, ext = _common(elem, ctx, rid, label, inherited=inherited)
    base: dict[str, Any] = {
        "id": rid, "item_id": item.id, "label": label or None,
        "label_set": ctx.label_set if label else None, **fields, "attributes": attributes,
    }
    if track is not None:
        base["track_id"] = track.get("id")
        extra = {k: v for k, v in track.items() if k not in ("id", "label", "source", "group_id")}
        if extra:
            ext["track"] = extra
        if "group_id" in track and "group_id" not in elem.attrib:
            ext["track_group"] = True
    ann: AnnotationBase
    if tag == "box":
        x1, y1 = _num(elem, "xtl", ctx, rid), _num(elem, "ytl", ctx, rid)
        x2, y2 = _num(elem, "xbr", ctx, rid), _num(elem, "ybr", ctx, rid)
        rot = _num(elem, "rotation", ctx, rid) if "rotation" in elem.attrib else None
        ann = BBox(**base, bbox=[x1, y1, x2 - x1, y2 - y1], rotation=rot)
    elif tag == "ellipse":
        cx, cy = _num(elem, "cx", ctx, rid), _num(elem, "cy", ctx, rid)
        rx, ry = _num(elem, "rx", ctx, rid), _num(elem, "ry", ctx, rid)
        rot = _num(elem, "rotation", ctx, rid) if "rotation" in elem.attrib else None
        ext["shape"] = "ellipse"
        ann = BBox(**base, bbox=[cx - rx, cy - ry, 2 * rx, 2 * ry], rotation=rot)
    elif tag == "polygon":
        ann = Polygon(**base, polygon=[_points(elem, ctx, rid, 3)])
    elif tag == "polyline":
        ann = Polyline(**base, polyline=[_points(elem, ctx, rid, 2)])
    elif tag == "points":
        flat = _points(elem, ctx, rid, 1)
        kp: list[float] = []
        for i in range(0, len(flat), 2):
            kp += [flat[i], flat[i + 1], 2.0]
        ext["shape"] = "points"
        ann = Keypoints(**base, keypoints=kp)
    elif tag == "mask":
        ann = _mask(elem, ctx, rid, base, ext, item)
    elif tag == "skeleton":
        ann = _skeleton(elem, ctx, rid, base, ext, label, nodes)
    elif tag == "tag":
        if not label:
            ctx.add(C.MISSING_ATTRIBUTE, "<tag> has no label; not read", line=line_of(elem),
                    record_id=rid)
            raise _Skip
        ann = Classification(**base)
    else:  # pragma: no cover - callers pass SHAPES only
        raise _Skip
    if ext:
        ann.extensions = {NS: ext}
    return ann


def _mask(elem: Element, ctx: Ctx, rid: str, base: dict[str, Any], ext: dict[str, Any],
          item: Item) -> AnnotationBase:
    left, top = _num(elem, "left", ctx, rid), _num(elem, "top", ctx, rid)
    w, h = _num(elem, "width", ctx, rid), _num(elem, "height", ctx, rid)
    text = elem.get("rle")
    if text is None:
        ctx.add(C.MISSING_ATTRIBUTE, "<mask> has no `rle`; not read", line=line_of(elem),
                record_id=rid)
        raise _Skip
    try:
        counts = [int(c) for c in text.replace(" ", "").split(",") if c]
        local = _rle.decode(counts, int(w), int(h)).T  # CVAT: row-major over the box
    except ValueError as err:
        ctx.add(C.BAD_RLE, f"<mask> rle cannot fill its {int(w)}x{int(h)} box: {err}",
                hint="the counts must sum to width*height", line=line_of(elem), record_id=rid)
        raise _Skip from None
    box = [left, top, w, h]
    if item.width is None or item.height is None:
        ctx.add(C.MASK_NO_SIZE, "a mask on an image without width/height: kept as CVAT RLE "
                "over its box in extensions.cvat", line=line_of(elem), record_id=rid)
        ext["rle"] = text
        full = local
        size = [int(h), int(w)]
        ext["local"] = True
    else:
        full = np.zeros((item.height, item.width), dtype=bool)
        x0, y0 = int(left), int(top)
        sub = local[: max(0, item.height - y0), : max(0, item.width - x0)]
        full[y0:y0 + sub.shape[0], x0:x0 + sub.shape[1]] = sub
        size = [item.height, item.width]
    ext["box"] = box
    return Mask(**base, rle=Rle(size=size, counts=[int(c) for c in _rle.encode(full)]),
                bbox=box)


def _skeleton(elem: Element, ctx: Ctx, rid: str, base: dict[str, Any], ext: dict[str, Any],
              label: str, nodes: list[Element | None] | None) -> AnnotationBase:
    lab = ctx.labels.get(label)
    names = list(lab.keypoints) if lab is not None else []
    if nodes is None:  # an image skeleton: the nodes are its children
        by_label = {c.get("label", ""): c for c in elem.findall("points")}
        for c in elem.findall("points"):
            if c.get("label", "") not in names:
                names.append(c.get("label", ""))
        nodes = [by_label.get(n) for n in names]
    kp: list[float] = []
    raw_nodes: list[Any] = []
    for name, node in zip(names, nodes, strict=False):
        if node is None:
            kp += [0.0, 0.0, 0.0]
            raw_nodes.append(None)
            continue
        flat = _points(node, ctx, rid, 1)
        raw: dict[str, Any] = {k: v for k, v in node.attrib.items()
                               if k not in ("label", "points")}
        outside = node.get("outside") == "1"
        occluded = node.get("occluded") == "1"
        if outside:
            kp += [0.0, 0.0, 0.0]
            raw["points"] = node.get("points", "")
        else:
            kp += [flat[0], flat[1], 1.0 if occluded else 2.0]
        attrs = {a.get("name", ""): (a.text or "").strip() for a in node.findall("attribute")}
        if attrs:
            raw["attributes"] = attrs
        if name != node.get("label", name):
            raw["label"] = node.get("label")
        raw_nodes.append(raw)
    ext["nodes"] = raw_nodes
    return Keypoints(**base, keypoints=kp)


# -- the document ----------------------------------------------------------------------------------
def _image_item(elem: Element, ctx: Ctx, index: int) -> Item:
    attrib = dict(elem.attrib)
    ext: dict[str, Any] = {}
    item_id = attrib.pop("id", None)
    if item_id is None or not item_id.strip():
        item_id = f"image-{index}"
        ctx.add(C.MISSING_ATTRIBUTE, f"<image> has no `id`; called {item_id!r}",
                line=line_of(elem), record_id=item_id)
        ext["@absent"] = ["id"]
    name = attrib.pop("name", None)
    if name is None:
        ctx.add(C.MISSING_ATTRIBUTE, "<image> has no `name`; its uri is its id",
                line=line_of(elem), record_id=item_id)
        ext.setdefault("@absent", []).append("name")
    size: dict[str, int] = {}
    for key in ("width", "height"):
        text = attrib.pop(key, None)
        if text is not None and is_uint(text) and int(text) > 0:
            size[key] = int(text)
        elif text is not None:
            ctx.add(C.BAD_NUMBER, f"<image> `{key}` is {text!r}, not a positive integer; "
                    "kept as text", line=line_of(elem), record_id=item_id)
            attrib[key] = text
    split = attrib.pop("subset", None)
    if split is not None and split not in ctx.splits:
        ctx.splits.append(split)
    if attrib:
        ext["@"] = attrib
    return Item(id=item_id, kind="image", uri=name if name else item_id, split=split,
                width=size.get("width"), height=size.get("height"),
                extensions={NS: ext} if ext else {})


def _video_item(ctx: Ctx) -> Item:
    meta = ctx.meta if isinstance(ctx.meta, dict) else {}
    task = meta.get("task") if isinstance(meta.get("task"), dict) else {}
    source = meta.get("source")
    name = source or (task or {}).get("name") or "video"
    size = (task or {}).get("original_size") or {}
    fields: dict[str, Any] = {}
    for key in ("width", "height"):
        text = str(size.get(key, "")) if isinstance(size, dict) else ""
        if is_uint(text) and int(text) > 0:
            fields[key] = int(text)
    # Frame numbers are the video's own (absolute: a task may start at frame 10 and take
    # every 3rd frame), so the video has at least stop_frame + 1 frames. `size` counts the
    # task's frames, not the video's.
    stop = str((task or {}).get("stop_frame", ""))
    if is_uint(stop):
        fields["frame_count"] = int(stop) + 1
    return Item(id=str(name), kind="video", uri=str(name), **fields)


def iter_cvat(f: IO[bytes], ctx: Ctx) -> Iterator[Item | AnnotationBase]:
    """Every record of a CVAT XML stream; one image or track in memory at a time."""
    depth = 0
    root: Element | None = None
    images = 0
    for event, elem in iter_events(f, file=ctx.file, not_xml_code=C.NOT_XML,
                                   forbidden_code=C.ENTITIES):
        if event == "start":
            depth += 1
            if depth == 1:
                root = elem
                if elem.tag != "annotations":
                    raise ConversionError(
                        f"the root element is <{elem.tag}>, not <annotations> [{C.NOT_CVAT}]",
                        hint="a CVAT for images/video 1.1 file starts with <annotations>",
                        location=Location(file=ctx.file, line=line_of(elem)),
                    )
            continue
        depth -= 1
        if depth != 1:
            continue
        tag = elem.tag
        if tag == "version":
            ctx.version = (elem.text or "").strip()
            if ctx.version != "1.1":
                ctx.add(C.VERSION, f"<version> is {ctx.version!r}; read as 1.1",
                        line=line_of(elem))
        elif tag == "meta":
            read_meta(elem, ctx)
        elif tag == "image":
            item = _image_item(elem, ctx, images)
            images += 1
            yield item
            yield from _image_shapes(elem, ctx, item)
        elif tag in ("track", "tag") or tag in SHAPES:
            if ctx.video_item is None:
                ctx.video_item = _video_item(ctx)
                ctx.mode = "video"
                yield ctx.video_item
            if tag == "track":
                yield from _track(elem, ctx, ctx.video_item)
            else:
                rid = f"{tag}{len(ctx.other)}:{elem.get('frame', '')}"
                with contextlib.suppress(_Skip):
                    yield read_shape(elem, ctx, rid, ctx.video_item)
        else:
            ctx.add(C.UNKNOWN_TAG, f"<{tag}> is not a CVAT 1.1 element; kept",
                    line=line_of(elem))
            ctx.other.append({"tag": tag, "value": to_value(elem)})
        if root is not None:
            root.clear()


def _image_shapes(elem: Element, ctx: Ctx, item: Item) -> Iterator[AnnotationBase]:
    unknown = []
    for k, child in enumerate(elem, 1):
        rid = f"{item.id}:{k}"
        if child.tag not in SHAPES:
            ctx.add(C.UNKNOWN_TAG, f"<{child.tag}> is not a CVAT 1.1 shape; kept in the "
                    "item's extensions.cvat", line=line_of(child), record_id=item.id)
            unknown.append({"tag": child.tag, "index": k, "value": to_value(child)})
            continue
        try:
            yield read_shape(child, ctx, rid, item)
        except _Skip:
            continue
    if unknown:
        ext = dict(item.extensions.get(NS, {}))
        ext["unknown"] = unknown
        item.extensions = {**item.extensions, NS: ext}


def _track(elem: Element, ctx: Ctx, item: Item) -> Iterator[AnnotationBase]:
    ctx.tracks += 1
    track = dict(elem.attrib)
    tid = track.get("id", str(ctx.tracks - 1))
    track["id"] = tid
    shapes = [c for c in elem if c.tag in SHAPES]
    subtracks = elem.findall("track")
    node_frames: list[dict[str, Element]] = [
        {c.get("frame", ""): c for c in st if c.tag == "points"} for st in subtracks]
    node_tracks = [dict(st.attrib) for st in subtracks]
    lab = ctx.labels.get(track.get("label", ""))
    names = list(lab.keypoints) if lab is not None else []
    for c in elem:
        if c.tag not in SHAPES and c.tag != "track" and c.tag != "attribute":
            ctx.add(C.UNKNOWN_TAG, f"<{c.tag}> is not a CVAT 1.1 track element; not read",
                    line=line_of(c), record_id=f"track {tid}")
    seen: dict[str, int] = {}
    anns: list[AnnotationBase] = []
    for shape in shapes:
        frame = shape.get("frame", "")
        n = seen.get(frame, 0)
        seen[frame] = n + 1
        rid = f"track{tid}:{frame}" + (f".{n}" if n else "")
        keyframe = shape.get("keyframe") != "0"
        nodes: list[Element | None] | None = None
        if shape.tag == "skeleton":
            by_label = {nt.get("label", ""): i for i, nt in enumerate(node_tracks)}
            nodes = [node_frames[by_label[n]].get(frame) if n in by_label else None
                     for n in names]
            keyframe = keyframe or any(nd is not None and nd.get("keyframe") != "0"
                                       for nd in nodes)
        if not keyframe:
            ctx.interpolated += 1
            if ctx.frames == "keyframes":
                ctx.dropped += 1
                continue
        try:
            ann = read_shape(shape, ctx, rid, item, track=track, nodes=nodes)
        except _Skip:
            continue
        if node_tracks:
            ext = dict(ann.extensions.get(NS, {}))
            ext["node_tracks"] = node_tracks
            ann.extensions = {NS: ext}
        anns.append(ann)
    if ctx.frames == "all":
        anns, added = materialise(anns, _step(ctx))
        ctx.materialised += added
    yield from anns


def _step(ctx: Ctx) -> int:
    """The task's frame step (`<frame_filter>step=N</frame_filter>`), 1 without one."""
    meta = ctx.meta if isinstance(ctx.meta, dict) else {}
    task = meta.get("task") if isinstance(meta.get("task"), dict) else {}
    text = str((task or {}).get("frame_filter", ""))
    if text.startswith("step="):
        value = text[len("step="):].strip()
        if is_uint(value) and int(value) > 0:
            return int(value)
    return 1


def build_manifest(ctx: Ctx, name: str) -> Manifest:
    ext: dict[str, Any] = {"mode": ctx.mode}
    if ctx.version is not None:
        ext["version"] = ctx.version
    if ctx.meta is not None:
        ext["meta"] = ctx.meta
    if ctx.other:
        ext["other"] = ctx.other
    if ctx.frames != "all":
        ext["frames"] = ctx.frames
    from ...models import Split

    return Manifest(
        name=name,
        splits=[Split(name=s) for s in ctx.splits],
        taxonomy=Taxonomy(label_sets=[LabelSet(name=ctx.label_set,
                                               labels=list(ctx.labels.values()))]),
        annotators=list(ctx.annotators.values()),
        extensions={NS: ext},
    )


def frames_issue(ctx: Ctx) -> None:
    if not ctx.tracks:
        return
    if ctx.frames == "keyframes":
        msg = (f"{ctx.dropped} interpolated track frame(s) not read (keyframes only); CVAT "
               "interpolates them again on import")
    else:
        msg = (f"{ctx.interpolated} interpolated track frame(s) read as annotations "
               "(extensions.cvat.keyframe = false); -o frames=keyframes keeps keyframes only")
        if ctx.materialised:
            msg += (f"; {ctx.materialised} frame(s) missing from the file materialised by "
                    "linear interpolation between a track's shapes "
                    "(extensions.cvat.materialised, not written back)")
    ctx.add(C.FRAMES, msg)
