"""Pascal VOC (a folder, a folder of XML files, or one XML file) -> groundtruth records.

Records are produced one annotation file at a time (`iter_voc`), so a 100k-image folder is
never held as XML; only the small ImageSets lists are read up front. Each file is parsed with
the safe streaming parser of `.._xml`. Problems become Issues located at the file and line.
See converters/voc/MAPPING.md.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element

from ...errors import ConversionError
from ...issues import Issue, Location, issue
from ...models import (
    AnnotationBase,
    BBox,
    Classification,
    Item,
    Label,
    LabelSet,
    Manifest,
    Mask,
    Taxonomy,
)
from .._xml import is_uint, iter_events, line_of, to_value
from . import _codes as C

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

NS = "voc"
ABSENT = "@absent"
FLAGS = ("difficult", "truncated", "occluded")
"""VOC's 0/1 object flags: read as boolean attributes."""
SPLIT_ORDER = ("train", "val", "test")
"""When an image is in several Main lists, its `split` is the first of these it is in (then
the others alphabetically, `trainval` last); the other memberships are kept."""
SEGMENTATION_FOLDERS = {"SegmentationClass": "class", "SegmentationObject": "object"}
_ITEM_KEYS = ("filename", "size", "object")
_OBJECT_KEYS = ("name", "bndbox", "part", "actions", "attributes", "pose", *FLAGS)
_KNOWN_ITEM = {"folder", "filename", "path", "source", "size", "segmented", "object", "owner"}
_KNOWN_OBJECT = {*_OBJECT_KEYS, "point"}


@dataclass
class Layout:
    """Where the parts of a VOC dataset are (`root` None: a folder of XMLs or one file)."""

    root: str | None
    annotations: list[tuple[str, str]]  # (item id, xml path)
    display_root: str


@dataclass
class Ctx:
    file: str
    label_set: str
    part_set: str
    issues: list[Issue] = field(default_factory=list)
    labels: dict[str, Label] = field(default_factory=dict)
    parts: dict[str, Label] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)
    class_lists: bool = False
    labelmap: bool = False

    def add(self, code: str, message: str, *, hint: str | None = None, **where: Any) -> None:
        self.issues.append(issue(code, message, hint=hint, **where))

    def label(self, name: str) -> None:
        if name not in self.labels:
            self.labels[name] = Label(name=name)


# -- layout ------------------------------------------------------------------------------------
def find_layout(fs: AbstractFileSystem, path: str) -> Layout:
    """The annotation files of `path`: a VOC root (with `Annotations/`), a folder of XML
    files, or one XML file."""
    path = path.rstrip("/") or "/"
    if not fs.isdir(path):
        stem = posixpath.splitext(posixpath.basename(path))[0]
        return Layout(None, [(stem, path)], path)
    ann_dir = posixpath.join(path, "Annotations")
    root: str | None = path if fs.isdir(ann_dir) else None
    base = ann_dir if root is not None else path
    files = sorted(p for p in fs.find(base) if p.lower().endswith(".xml"))
    if root is None:
        files = [p for p in files if posixpath.dirname(p).rstrip("/") == base.rstrip("/")]
    out = []
    for p in files:
        rel = posixpath.relpath(p, base)
        out.append((rel[: -len(".xml")], p))
    return Layout(root, out, path)


# -- ImageSets -----------------------------------------------------------------------------------
@dataclass
class Sets:
    split: dict[str, str] = field(default_factory=dict)  # item id -> split
    other: dict[str, dict[str, str]] = field(default_factory=dict)  # item -> {"Task/name": rest}
    classes: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # item -> [(cls, v)]
    listed: list[str] = field(default_factory=list)  # every id any list names, first seen order


def _split_rank(name: str) -> tuple[int, str]:
    if name in SPLIT_ORDER:
        return (SPLIT_ORDER.index(name), "")
    return (len(SPLIT_ORDER) + (1 if name == "trainval" else 0), name)


def _lines(fs: AbstractFileSystem, path: str) -> list[str]:
    with fs.open(path, "rb") as f:
        data: bytes = f.read()
    return data.decode("utf-8", errors="replace").splitlines()


def read_sets(fs: AbstractFileSystem, root: str, ctx: Ctx) -> Sets:
    sets = Sets()
    base = posixpath.join(root, "ImageSets")
    if not fs.isdir(base):
        return sets
    seen: set[str] = set()

    def note(item: str) -> None:
        if item not in seen:
            seen.add(item)
            sets.listed.append(item)

    files = sorted(p for p in fs.find(base) if p.endswith(".txt"))
    main = posixpath.join(base, "Main")
    main_names = {posixpath.basename(p)[:-4] for p in files if posixpath.dirname(p) == main}
    split_names = {n for n in main_names if not _class_list(n, main_names)}
    memberships: dict[str, list[str]] = {}
    for p in files:
        rel = posixpath.relpath(p, base)
        task, name = posixpath.dirname(rel), posixpath.basename(rel)[:-4]
        per_class = _class_list(name, split_names) if task == "Main" else None
        if per_class is not None:
            ctx.class_lists = True
            cls, split = per_class
            ctx.label(cls)
            if split not in ctx.splits:
                ctx.splits.append(split)
        for n, raw in enumerate(_lines(fs, p), 1):
            line = raw.strip()
            if not line:
                continue
            if line.startswith("#"):
                ctx.add(C.SET_COMMENT, f"comment line not kept: {line[:60]!r}",
                        file=p, line=n)
                continue
            if per_class is not None:
                tokens = line.rsplit(None, 1)  # an id may hold spaces: the value is last
                if len(tokens) != 2 or tokens[1] not in ("1", "0", "-1"):
                    ctx.add(C.SET_BAD_LINE, f"expected `<image id> 1|0|-1`, got {line!r}",
                            hint="each line of <class>_<split>.txt is an image id and 1 "
                            "(present), 0 (difficult only) or -1 (absent)", file=p, line=n)
                    continue
                note(tokens[0])
                value = int(tokens[1])
                if value >= 0:
                    sets.classes.setdefault(tokens[0], []).append((per_class[0], value))
                continue
            # A Main split list holds one id a line (ids may hold spaces); other lists may
            # follow the id with values (Action's `<id> <object index>`).
            item, rest = (line, "") if task == "Main" else line.partition(" ")[::2]
            note(item)
            if task == "Main":
                memberships.setdefault(item, []).append(name)
                if name not in ctx.splits:
                    ctx.splits.append(name)
            else:
                sets.other.setdefault(item, {})[f"{task}/{name}"] = rest.strip()
    for item, names in memberships.items():
        ordered = sorted(names, key=_split_rank)
        sets.split[item] = ordered[0]
        for extra in ordered[1:]:
            sets.other.setdefault(item, {})[f"Main/{extra}"] = ""
    return sets


def _class_list(name: str, splits: set[str]) -> tuple[str, str] | None:
    """`(class, split)` when `name` is `<class>_<split>` for a split list present."""
    for split in sorted(splits, key=len, reverse=True):
        suffix = "_" + split
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], split
    return None


def read_labelmap(fs: AbstractFileSystem, root: str, ctx: Ctx) -> None:
    """Datumaro/CVAT `labelmap.txt` (`name:color:parts:actions`): label order and colours."""
    path = posixpath.join(root, "labelmap.txt")
    if not fs.exists(path):
        return
    ctx.labelmap = True
    for raw in _lines(fs, path):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, rest = line.partition(":")
        color, _, rest = rest.partition(":")
        parts, _, actions = rest.partition(":")
        ext = {"color": color, "parts": parts, "actions": actions}
        ctx.labels[name] = Label(name=name, extensions={NS: ext})
        for a in (x for x in actions.split(",") if x):
            if a not in ctx.actions:
                ctx.actions.append(a)


# -- annotation files ------------------------------------------------------------------------------
def parse_file(fs: AbstractFileSystem, path: str, display: str) -> Element:
    """The root element of one annotation file (they are small: one image each)."""
    with fs.open(path, "rb") as f:
        root: Element | None = None
        for event, elem in iter_events(f, file=display, not_xml_code=C.NOT_XML,
                                       forbidden_code=C.ENTITIES):
            if event == "start" and root is None:
                root = elem
    assert root is not None  # a well-formed document has a root
    return root


def _number(text: str | None) -> float | None:
    try:
        value = float((text or "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _flag(elem: Element, ctx: Ctx, where: dict[str, Any]) -> Any:
    text = (elem.text or "").strip()
    if text in ("0", "1"):
        return text == "1"
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    ctx.add(C.BAD_FLAG, f"<{elem.tag}> is {text!r}, not 0 or 1; kept as text",
            hint="VOC flags are 0 or 1", line=line_of(elem), **where)
    return text


def _attr_value(text: str) -> Any:
    if text in ("true", "false"):
        return text == "true"
    return text


def _box(owner: Element, ctx: Ctx, where: dict[str, Any]) -> list[float] | None:
    """VOC `<bndbox>` (1-based, inclusive pixel indices) -> `[x, y, w, h]` (0-based edges)."""
    elem = owner.find("bndbox")
    if elem is None:
        ctx.add(C.NO_BNDBOX, f"the <{owner.tag}> has no <bndbox>; not read",
                hint="add <bndbox> with xmin, ymin, xmax, ymax", line=line_of(owner), **where)
        return None
    values: dict[str, float] = {}
    for key in ("xmin", "ymin", "xmax", "ymax"):
        child = elem.find(key)
        value = _number(child.text if child is not None else None)
        if value is None:
            got = "missing" if child is None else repr((child.text or "").strip())
            ctx.add(C.BAD_NUMBER, f"<{key}> is {got}, not a number; the object is not read",
                    hint="bndbox coordinates are pixel numbers",
                    line=line_of(child if child is not None else elem), **where)
            return None
        values[key] = value
    xmin, ymin, xmax, ymax = values["xmin"], values["ymin"], values["xmax"], values["ymax"]
    if xmax < xmin or ymax < ymin:
        ctx.add(C.REVERSED, f"bndbox max < min ({xmin},{ymin},{xmax},{ymax}); kept as is",
                hint="swap the coordinates", line=line_of(elem), **where)
    return [xmin - 1, ymin - 1, xmax - xmin + 1, ymax - ymin + 1]


def read_item(
    root: Element, item_id: str, ctx: Ctx, sets: Sets, seg: dict[str, list[str]],
    display: str,
) -> Iterator[Item | AnnotationBase]:
    """The item and annotations of one parsed annotation file."""
    if root.tag != "annotation":
        ctx.add(C.NOT_VOC, f"the root element is <{root.tag}>, not <annotation>; not read",
                hint="a VOC annotation file is one <annotation> element", file=display,
                line=line_of(root), record_id=item_id)
        return
    ext: dict[str, Any] = {}
    if root.attrib:
        ext["@"] = dict(root.attrib)
    where = {"file": display, "record_id": item_id}
    width = height = None
    uri = None
    objects: list[Element] = []
    for child in root:
        tag = child.tag
        if tag == "object":
            objects.append(child)
        elif tag == "filename":
            uri = (child.text or "").strip()
            if not uri:
                ext["filename"] = ""
        elif tag == "size":
            rest: dict[str, Any] = {}
            for s in child:
                text = (s.text or "").strip()
                if s.tag in ("width", "height") and is_uint(text) and int(text) > 0:
                    if s.tag == "width":
                        width = int(text)
                    else:
                        height = int(text)
                else:
                    if s.tag in ("width", "height"):
                        ctx.add(C.BAD_SIZE, f"<{s.tag}> is {text!r}, not a positive "
                                "integer; kept as text, the image has no size",
                                hint="VOC sizes are pixel counts", line=line_of(s), **where)
                    rest[s.tag] = to_value(s)
            ext["size"] = rest
        else:
            if tag not in _KNOWN_ITEM:
                ctx.add(C.UNKNOWN_TAG, f"<{tag}> is not a VOC element; kept",
                        line=line_of(child), **where)
            _keep(ext, tag, to_value(child))
    if uri is None:
        ext.setdefault(ABSENT, []).append("filename")
    item_ext_sets = sets.other.get(item_id)
    if item_ext_sets:
        ext["sets"] = item_ext_sets
    yield Item(
        id=item_id, kind="image", uri=uri or f"{item_id}.jpg", width=width, height=height,
        split=sets.split.get(item_id), extensions={NS: ext} if ext else {},
    )
    for k, obj in enumerate(objects, 1):
        yield from _object(obj, f"{item_id}:{k}", item_id, ctx, display)
    yield from _item_extras(item_id, ctx, sets, seg)


def _keep(ext: dict[str, Any], tag: str, value: Any) -> None:
    if tag not in ext:
        ext[tag] = value
    elif isinstance(ext[tag], list):
        ext[tag].append(value)
    else:
        ext[tag] = [ext[tag], value]


def _object(
    obj: Element, ann_id: str, item_id: str, ctx: Ctx, display: str
) -> Iterator[AnnotationBase]:
    where = {"file": display, "record_id": ann_id}
    name_el = obj.find("name")
    label = (name_el.text or "").strip() if name_el is not None else ""
    if not label:
        ctx.add(C.NO_NAME, "the object has no <name>; read without a label",
                hint="give every object a class name", line=line_of(obj), **where)
    box = _box(obj, ctx, where)
    if box is None:
        return
    attributes: dict[str, Any] = {}
    ext: dict[str, Any] = {}
    parts: list[Element] = []
    for child in obj:
        tag = child.tag
        if tag in ("name", "bndbox"):
            continue
        if tag in FLAGS:
            if (child.text or "").strip() == "":
                ext[tag] = ""  # present but empty: kept as such
            else:
                attributes[tag] = _flag(child, ctx, where)
        elif tag == "pose":
            attributes["pose"] = (child.text or "").strip()
        elif tag == "part":
            parts.append(child)
        elif tag == "actions":
            names = []
            for a in child:
                names.append(a.tag)
                attributes[a.tag] = _flag(a, ctx, where)
                if a.tag not in ctx.actions:
                    ctx.actions.append(a.tag)
            ext["actions"] = names
        elif tag == "attributes":
            # Datumaro's form: <attributes><attribute><name/><value/></attribute>...
            names = []
            for a in child.findall("attribute"):
                n, v = a.findtext("name"), a.findtext("value")
                if n is None:
                    continue
                names.append(n)
                attributes[n] = _attr_value((v or "").strip())
            ext["attributes"] = names
        else:
            if tag not in _KNOWN_OBJECT:
                ctx.add(C.UNKNOWN_TAG, f"<{tag}> is not a VOC object element; kept",
                        line=line_of(child), **where)
            _keep(ext, tag, to_value(child))
    if label:
        ctx.label(label)
    yield BBox(
        id=ann_id, item_id=item_id, label=label or None,
        label_set=ctx.label_set if label else None, bbox=box, attributes=attributes,
        extensions={NS: ext} if ext else {},
    )
    for j, part in enumerate(parts, 1):
        pid = f"{ann_id}.{j}"
        pwhere = {"file": display, "record_id": pid}
        pname = (part.findtext("name") or "").strip()
        pbox = _box(part, ctx, pwhere)
        if pbox is None:
            continue
        pext: dict[str, Any] = {"part_of": ann_id}
        for child in part:
            if child.tag not in ("name", "bndbox"):
                _keep(pext, child.tag, to_value(child))
        if pname and pname not in ctx.parts:
            ctx.parts[pname] = Label(name=pname)
        yield BBox(
            id=pid, item_id=item_id, label=pname or None,
            label_set=ctx.part_set if pname else None, bbox=pbox, extensions={NS: pext},
        )


def _item_extras(
    item_id: str, ctx: Ctx, sets: Sets, seg: dict[str, list[str]]
) -> Iterator[AnnotationBase]:
    for folder in seg.get(item_id, []):
        yield Mask(
            id=f"{item_id}:{folder}", item_id=item_id, uri=f"{folder}/{item_id}.png",
            extensions={NS: {"segmentation": SEGMENTATION_FOLDERS[folder]}},
        )
    for cls, value in sets.classes.get(item_id, []):
        yield Classification(
            id=f"{item_id}:class:{cls}", item_id=item_id, label=cls, label_set=ctx.label_set,
            attributes={"difficult": True} if value == 0 else {},
        )


def segmentation_pngs(fs: AbstractFileSystem, root: str) -> dict[str, list[str]]:
    """item id -> the VOC segmentation folders holding `<id>.png`."""
    out: dict[str, list[str]] = {}
    for folder in SEGMENTATION_FOLDERS:
        base = posixpath.join(root, folder)
        if not fs.isdir(base):
            continue
        for p in sorted(fs.find(base)):
            if p.lower().endswith(".png"):
                out.setdefault(posixpath.relpath(p, base)[:-4], []).append(folder)
    return out


def iter_voc(
    fs: AbstractFileSystem, path: str, ctx: Ctx, layout: Layout
) -> Iterator[Item | AnnotationBase]:
    """Every record of a VOC dataset, one annotation file at a time."""
    sets = Sets()
    seg: dict[str, list[str]] = {}
    if layout.root is not None:
        read_labelmap(fs, layout.root, ctx)
        sets = read_sets(fs, layout.root, ctx)
        seg = segmentation_pngs(fs, layout.root)
    if not layout.annotations and not sets.listed:
        raise ConversionError(
            f"no VOC annotation file (*.xml) in {layout.display_root} [{C.NO_FILES}]",
            hint="give a VOC folder (with Annotations/), a folder of .xml files or one file",
            location=Location(file=layout.display_root),
        )
    done: set[str] = set()
    single = layout.root is None and len(layout.annotations) == 1 and not fs.isdir(path)
    for item_id, xml in layout.annotations:
        display = xml
        try:
            root = parse_file(fs, xml, display)
        except ConversionError as err:
            if single:
                raise  # the one file given cannot be read: nothing to convert
            # One broken file of a folder: reported at its place, the rest is read.
            line = err.location.line if err.location is not None else None
            loc = Location(file=display, line=line, record_id=item_id)
            code = C.ENTITIES if C.ENTITIES in err.message else C.NOT_XML
            message = err.message.replace(f" [{code}]", "")
            ctx.issues.append(Issue(code, message, "error", loc, err.hint))
            continue
        yield from read_item(root, item_id, ctx, sets, seg, display)
        root.clear()
        done.add(item_id)
    for item_id in sets.listed:
        if item_id in done:
            continue
        # Named by an ImageSets list, with no annotation file: the image is still there.
        ext: dict[str, Any] = {ABSENT: ["annotation"]}
        if sets.other.get(item_id):
            ext["sets"] = sets.other[item_id]
        yield Item(id=item_id, kind="image", uri=f"{item_id}.jpg", split=sets.split.get(item_id),
                   extensions={NS: ext})
        yield from _item_extras(item_id, ctx, sets, seg)


def build_manifest(ctx: Ctx, name: str) -> Manifest:
    sets = [LabelSet(name=ctx.label_set, labels=list(ctx.labels.values()))]
    if ctx.parts:
        sets.append(LabelSet(name=ctx.part_set, labels=list(ctx.parts.values()),
                             annotation_types=["bbox"]))
    ext: dict[str, Any] = {}
    if ctx.actions:
        ext["actions"] = ctx.actions
    if ctx.class_lists:
        ext["class_lists"] = True
    if ctx.labelmap:
        ext["labelmap"] = True
    from ...models import Split

    return Manifest(
        name=name, taxonomy=Taxonomy(label_sets=sets),
        splits=[Split(name=s) for s in sorted(ctx.splits, key=_split_rank)],
        extensions={NS: ext} if ext else {},
    )
