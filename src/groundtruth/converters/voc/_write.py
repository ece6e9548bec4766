"""groundtruth -> a Pascal VOC folder, with a loss report for what VOC cannot carry.

Layout written: `Annotations/<item id>.xml`, `ImageSets/Main/<split>.txt`, per-class lists
`ImageSets/Main/<class>_<split>.txt` (from image-level labels), the other ImageSets lists an
item was read from, and `labelmap.txt` (Datumaro's `name:color:parts:actions`, so tools learn
the class list and order). Images are not copied. See converters/voc/MAPPING.md.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import DatasetExistsError
from ...io._publish import publish_dir, stage_dir
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
from .._paths import is_safe_relative, safe_relative
from .._xml import XmlOut, fmt_num, write_value
from . import _codes as C
from ._read import ABSENT, FLAGS, NS, SEGMENTATION_FOLDERS, _split_rank

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from ...dataset import Dataset

_PROVENANCE = ("annotator", "guideline", "created", "confidence", "status", "frame", "time",
               "track_id", "sources", "consensus")
_ITEM_FIELDS = ("sha256", "size", "media_type", "text", "tokens", "messages", "candidates",
                "duration", "sample_rate", "fps", "frame_count", "metadata")
_LABEL_FIELDS = ("description", "parent", "group", "keypoints", "skeleton", "attributes", "value")
_SEG_KIND = {v: k for k, v in SEGMENTATION_FOLDERS.items()}


@dataclass
class Loss:
    issues: list[Issue] = field(default_factory=list)

    def add(self, code: str, message: str, record_id: str | None = None) -> None:
        self.issues.append(issue(code, message, record_id=record_id))


def _ext(record: Any) -> dict[str, Any]:
    value = record.extensions.get(NS)
    return value if isinstance(value, dict) else {}


def _check_provenance(ann: AnnotationBase, loss: Loss) -> None:
    lost = [k for k in _PROVENANCE if getattr(ann, k) not in (None, [], {})]
    lost += [f"extensions.{k}" for k in ann.extensions if k != NS]
    if lost:
        loss.add(C.LOST_PROVENANCE, f"not written: {', '.join(lost)}", ann.id)


def _box_xml(out: XmlOut, bbox: list[float]) -> None:
    """`[x, y, w, h]` (0-based edges) -> VOC's 1-based inclusive pixel indices."""
    x, y, w, h = bbox
    out.open("bndbox")
    out.leaf("xmin", fmt_num(x + 1))
    out.leaf("ymin", fmt_num(y + 1))
    out.leaf("xmax", fmt_num(x + w))
    out.leaf("ymax", fmt_num(y + h))
    out.close("bndbox")


def _attr_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return fmt_num(float(value))
    return str(value)


def _flag_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return _attr_text(value)


def _object(out: XmlOut, ann: BBox, parts: list[BBox], actions: list[str], loss: Loss) -> None:
    ext = _ext(ann)
    _check_provenance(ann, loss)
    if ann.rotation:
        loss.add(C.LOST_ROTATION, f"rotation {ann.rotation} degrees not written", ann.id)
    out.open("object")
    out.leaf("name", ann.label or "")
    attrs = dict(ann.attributes)
    if "pose" in attrs:
        out.leaf("pose", _attr_text(attrs.pop("pose")))
    for flag in FLAGS:
        if flag in attrs:
            out.leaf(flag, _flag_text(attrs.pop(flag)))
        elif ext.get(flag) == "":
            out.leaf(flag, "")
    _box_xml(out, ann.bbox)
    for part in parts:
        _check_provenance(part, loss)
        pext = _ext(part)
        out.open("part")
        out.leaf("name", part.label or "")
        _box_xml(out, part.bbox)
        for k, v in pext.items():
            if k != "part_of":
                write_value(out, k, v)
        out.close("part")
    action_names = list(dict.fromkeys(
        [a for a in ext.get("actions", []) if a in attrs] or [
            a for a in actions if a in attrs and a not in ext.get("attributes", [])]
    ))
    if "actions" in ext or action_names:
        out.open("actions")
        for a in action_names:
            out.leaf(a, _flag_text(attrs.pop(a)))
        out.close("actions")
    if attrs:
        out.open("attributes")
        for k, v in attrs.items():
            out.open("attribute")
            out.leaf("name", k)
            out.leaf("value", _attr_text(v))
            out.close("attribute")
        out.close("attributes")
    for k, v in ext.items():
        if k not in ("actions", "attributes", *FLAGS):
            write_value(out, k, v)
    out.close("object")


def item_xml(item: Item, anns: list[AnnotationBase], actions: list[str], loss: Loss) -> bytes:
    """One `Annotations/<id>.xml` file."""
    ext = _ext(item)
    buf = io.BytesIO()
    out = XmlOut(buf)
    root_attrs = {str(k): str(v) for k, v in ext.get("@", {}).items()}
    out.open("annotation", root_attrs)
    if "folder" in ext:
        write_value(out, "folder", ext["folder"])
    if "filename" not in ext.get(ABSENT, []):
        out.leaf("filename", ext.get("filename", item.uri or ""))
    for key in ("path", "source"):
        if key in ext:
            write_value(out, key, ext[key])
    size_rest = dict(ext.get("size", {})) if isinstance(ext.get("size"), dict) else {}
    if item.width is not None or item.height is not None or size_rest or "size" in ext:
        out.open("size")
        if item.width is not None:
            out.leaf("width", str(item.width))
        if item.height is not None:
            out.leaf("height", str(item.height))
        for k, v in size_rest.items():
            write_value(out, k, v)
        out.close("size")
    masks = [a for a in anns if isinstance(a, Mask) and _ext(a).get("segmentation")]
    if "segmented" in ext:
        write_value(out, "segmented", ext["segmented"])
    elif masks:
        out.leaf("segmented", "1")
    parts: dict[str, list[BBox]] = {}
    for a in anns:
        if isinstance(a, BBox) and _ext(a).get("part_of"):
            parts.setdefault(str(_ext(a)["part_of"]), []).append(a)
    for a in anns:
        if isinstance(a, BBox) and not _ext(a).get("part_of"):
            if not a.label:
                loss.add(C.UNLABELLED, "a box without a label written with an empty <name>",
                         a.id)
            _object(out, a, parts.pop(a.id, []), actions, loss)
    for orphans in parts.values():
        for p in orphans:
            loss.add(C.LOST_ANNOTATION, f"part of {_ext(p)['part_of']}, which is not a box of "
                     "this image: not written", p.id)
    for k, v in ext.items():
        if k not in ("@", "folder", "filename", "path", "source", "size", "segmented", "sets",
                     ABSENT):
            write_value(out, k, v)
    out.close("annotation")
    return buf.getvalue()


@contextlib.contextmanager
def staged_folder(fs: AbstractFileSystem, path: str, overwrite: bool) -> Iterator[str]:
    """A folder to write into that appears at `path` only once complete (on a local disk).

    An existing `path` is refused unless `overwrite` (an empty folder excepted); even then a
    plain file or a folder that is not a VOC dataset (no `Annotations/`, not only `.xml`
    files) is never replaced. The finished folder is published without a race
    (`io._publish.publish_dir`: no-replace move, or an atomic swap with `overwrite`).
    """
    if fs.exists(path) and not (fs.isdir(path) and not fs.ls(path, detail=False)):
        if not overwrite:
            raise DatasetExistsError(
                f"{path} already exists", hint="choose another destination or pass --overwrite"
            )
        if not _is_voc_folder(fs, path):
            raise DatasetExistsError(
                f"{path} is not a VOC dataset folder (a file, or a folder with other files); "
                "--overwrite does not replace it", hint="choose an empty or new destination")
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    if protocol not in ("file", "local"):  # object stores: no rename, files appear whole
        if overwrite and fs.exists(path):
            fs.rm(path, recursive=True)
        yield path
        return
    parent = posixpath.dirname(path.rstrip("/")) or "."
    fs.makedirs(parent, exist_ok=True)
    stage = stage_dir(parent)
    try:
        yield stage
        publish_dir(stage, path, overwrite=overwrite)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _is_voc_folder(fs: AbstractFileSystem, path: str) -> bool:
    if not fs.isdir(path):
        return False
    if fs.isdir(posixpath.join(path, "Annotations")):
        return True
    names = [str(p) for p in fs.ls(path, detail=False)]
    return bool(names) and all(n.lower().endswith(".xml") for n in names)


def _label_loss(ds: Dataset, loss: Loss) -> None:
    for ls in ds.manifest.taxonomy.label_sets:
        for label in ls.labels:
            lost = [k for k in _LABEL_FIELDS if getattr(label, k) not in (None, [], {})]
            lost += [f"extensions.{k}" for k in label.extensions if k != NS]
            if lost:
                loss.add(C.LOST_LABEL_FIELDS, f"label {label.name!r}: not written: "
                         f"{', '.join(lost)}", label.name)


def _manifest_loss(ds: Dataset, loss: Loss) -> None:
    m = ds.manifest
    # name, version label, created time and lineage are the native dataset's bookkeeping, as
    # in the COCO converter; content a user put there is reported.
    lost = [k for k in ("description", "license") if getattr(m, k)]
    lost += [k for k in ("creators", "annotators", "guidelines", "metadata") if getattr(m, k)]
    lost += [f"extensions.{k}" for k in m.extensions if k != NS]
    if lost:
        loss.add(C.LOST_MANIFEST, f"not written: {', '.join(lost)}")


def _labels(ds: Dataset, label_set: str | None) -> tuple[list[Label], list[str]]:
    """The object classes (label order for labelmap.txt) and the action names."""
    sets = ds.manifest.taxonomy.label_sets
    chosen = next((s for s in sets if s.name == label_set), None) if label_set else None
    labels: list[Label] = []
    seen: set[str] = set()
    part_labels = {a.label for a in ds.annotations
                   if isinstance(a, BBox) and _ext(a).get("part_of") and a.label}
    for s in ([chosen] if chosen else sets):
        for lab in s.labels:
            if lab.name not in seen and (chosen or lab.name not in part_labels
                                         or _ext(lab)):
                seen.add(lab.name)
                labels.append(lab)
    for a in ds.annotations:
        if a.label and a.label not in seen and not (
            isinstance(a, BBox) and _ext(a).get("part_of")
        ) and isinstance(a, (BBox, Classification)):
            seen.add(a.label)
            labels.append(Label(name=a.label))
    actions = list(ds.manifest.extensions.get(NS, {}).get("actions", []))
    return labels, actions


def _labelmap(ds: Dataset, labels: list[Label]) -> str:
    """Datumaro's `labelmap.txt`: one `name:color:parts:actions` row per class; parts and
    actions are those the class's objects carry, where the label does not state them."""
    parts_of: dict[str, list[str]] = {}
    actions_of: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for a in ds.annotations:
        if not isinstance(a, BBox) or not a.label:
            continue
        ext = _ext(a)
        if ext.get("part_of"):
            parent = owner.get(str(ext["part_of"]))
            if parent is not None and a.label not in parts_of.setdefault(parent, []):
                parts_of[parent].append(a.label)
            continue
        owner[a.id] = a.label
        for name in ext.get("actions", []):
            if name not in actions_of.setdefault(a.label, []):
                actions_of[a.label].append(name)
    lines = ["# label:color_rgb:parts:actions"]
    for lab in labels:
        le = _ext(lab)
        parts = le.get("parts", ",".join(parts_of.get(lab.name, [])))
        acts = le.get("actions", ",".join(actions_of.get(lab.name, [])))
        lines.append(f"{lab.name}:{le.get('color', '')}:{parts}:{acts}")
    return "".join(x + "\n" for x in lines)


_UNSAFE = re.compile(r"[\x00-\x1f\\:*?\"<>|]")


def _file_names(ds: Dataset, loss: Loss) -> dict[str, str]:
    """Item id -> the name its annotation file is written under (`Annotations/<name>.xml`).

    An id is used as is when it is a safe relative path (sub-folders allowed, as VOC ids read
    from sub-folders are; spaces too, as in labelImg file names); otherwise (`..`, an absolute
    path, control characters or `\\:*?"<>|`) it is renamed and reported, so a stranger's
    dataset never writes outside the destination folder."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for item in ds.items:
        name = item.id
        parts = name.split("/")
        if (name.startswith("/") or any(p in ("", ".", "..") for p in parts)
                or _UNSAFE.search(name)):
            safe = _UNSAFE.sub("_", name.replace("/", "_")).strip("._") or "item"
            while safe in taken:
                safe += "_"
            loss.add(C.RENAMED, f"id {name!r} is not a safe file name: written as {safe!r}",
                     item.id)
            name = safe
        taken.add(name)
        out[item.id] = name
    return out


_BOX_FIELDS = ("id", "item_id", "label", "label_set", "annotator", "guideline", "created",
               "confidence", "status", "attributes", "frame", "time", "track_id", "sources",
               "consensus", "extensions")


def _shape_box(ann: AnnotationBase) -> list[float] | None:
    """The box of a shape: the one it states (COCO's instance box), else its extent."""
    stated = getattr(ann, "bbox", None)
    if stated is not None:
        return [float(v) for v in stated]
    if isinstance(ann, Polygon):
        return _rle.poly_bbox(ann.polygon)
    if isinstance(ann, Polyline):
        return _rle.poly_bbox(ann.polyline)
    if isinstance(ann, Keypoints):
        xy = [v for i in range(0, len(ann.keypoints) - 2, 3) if ann.keypoints[i + 2] > 0
              for v in ann.keypoints[i:i + 2]]
        return _rle.poly_bbox([xy]) if xy else None
    if isinstance(ann, Mask) and ann.rle is not None:
        counts = (_rle.counts_from_string(ann.rle.counts) if isinstance(ann.rle.counts, str)
                  else ann.rle.counts)
        return _rle.to_bbox(counts, ann.rle.size[0])
    return None


def write_voc(
    ds: Dataset, fs: AbstractFileSystem, path: str, *, overwrite: bool, label_set: str | None,
    shape_boxes: bool = False,
) -> tuple[list[str], list[Issue], dict[str, Any]]:
    """Write the VOC folder; returns (outputs, loss issues, details)."""
    loss = Loss()
    _manifest_loss(ds, loss)
    _label_loss(ds, loss)
    labels, actions = _labels(ds, label_set)
    by_item: dict[str, list[AnnotationBase]] = {}
    for a in ds.annotations:
        by_item.setdefault(a.item_id, []).append(a)
    lists: dict[str, list[str]] = {}  # "Task/name" -> lines
    classes: dict[tuple[str, str], dict[str, int]] = {}  # (split, item) -> {class: 1|0}
    splits_used: list[str] = []
    names = _file_names(ds, loss)
    written = 0
    masks = 0
    with staged_folder(fs, path, overwrite) as stage:
        ann_dir = posixpath.join(stage, "Annotations")
        fs.makedirs(ann_dir, exist_ok=True)
        for item in ds.items:
            anns = by_item.pop(item.id, [])
            if item.kind != "image":
                loss.add(C.LOST_ITEM, f"a {item.kind} item and its {len(anns)} annotation(s) "
                         "not written", item.id)
                continue
            ext = _ext(item)
            lost = [k for k in _ITEM_FIELDS if getattr(item, k) not in (None, [], {})]
            lost += [f"extensions.{k}" for k in item.extensions if k != NS]
            if lost:
                loss.add(C.LOST_ITEM_FIELDS, f"not written: {', '.join(lost)}", item.id)
            if item.split:
                lists.setdefault(f"Main/{item.split}", []).append(names[item.id])
                if item.split not in splits_used:
                    splits_used.append(item.split)
            for key, rest in (ext.get("sets") or {}).items():
                lists.setdefault(key, []).append(
                    f"{names[item.id]} {rest}" if rest else names[item.id])
                task, _, name = key.partition("/")
                if task == "Main" and name not in splits_used:
                    splits_used.append(name)
            kept: list[AnnotationBase] = []
            for a in anns:
                if isinstance(a, BBox):
                    kept.append(a)
                elif isinstance(a, Classification):
                    _check_provenance(a, loss)
                    extra = sorted(set(a.attributes) - {"difficult"})
                    if extra:
                        loss.add(C.LOST_ANNOTATION, f"attributes {extra} of an image-level "
                                 "label not written", a.id)
                    if not item.split:
                        loss.add(C.NO_SPLIT, f"image-level label {a.label!r} not written: "
                                 "the item has no split", a.id)
                        continue
                    value = 0 if a.attributes.get("difficult") is True else 1
                    seen = classes.setdefault((item.split, names[item.id]), {})
                    seen[a.label] = max(seen.get(a.label, value), value)
                elif isinstance(a, Mask) and a.uri and _ext(a).get("segmentation"):
                    _check_provenance(a, loss)
                    masks += 1
                    kept.append(a)
                    loss.add(C.MASK_FILE, f"{a.uri} is referenced (<segmented>1), not copied: "
                             "copy the PNG alongside", a.id)
                elif shape_boxes and (box := _shape_box(a)) is not None:
                    loss.add(C.SHAPE_AS_BOX, f"a {getattr(a, 'type', '?')} written as its box "
                             f"{[round(v, 3) for v in box]}", a.id)
                    kept.append(BBox(**{k: v for k, v in a.__dict__.items()
                                        if k in _BOX_FIELDS}, bbox=box))
                else:
                    loss.add(C.LOST_ANNOTATION, f"a {getattr(a, 'type', '?')} annotation "
                             "not written (VOC holds boxes; -w shape_boxes=true writes "
                             "polygons, masks, keypoints and polylines as their boxes)", a.id)
            if "annotation" in ext.get(ABSENT, []) and not any(
                isinstance(a, BBox) for a in kept
            ):
                continue
            name = posixpath.join(ann_dir, f"{names[item.id]}.xml")
            fs.makedirs(posixpath.dirname(name), exist_ok=True)
            with fs.open(name, "wb") as f:
                f.write(item_xml(item, kept, actions, loss))
            written += 1
        for rest in by_item.values():
            for a in rest:
                loss.add(C.LOST_ANNOTATION, f"annotation of item {a.item_id!r}, which is not "
                         "in the dataset: not written", a.id)
        class_lists = bool(classes) or bool(
            ds.manifest.extensions.get(NS, {}).get("class_lists")
        )
        if class_lists:
            items_of: dict[str, list[str]] = {}
            for item in ds.items:
                if item.kind == "image" and item.split:
                    items_of.setdefault(item.split, []).append(names[item.id])
            for split in sorted(items_of, key=_split_rank):
                for lab in labels:
                    rows = []
                    for item_id in items_of[split]:
                        v = classes.get((split, item_id), {}).get(lab.name, -1)
                        rows.append(f"{item_id} {v:2d}")
                    lists[f"Main/{lab.name}_{split}"] = rows
        for key, rows in lists.items():
            if not is_safe_relative(key):  # split and label names are data: stay inside
                safe = safe_relative(key, "list")
                loss.add(C.RENAMED, f"image set {key[:80]!r} (a split or label name) is not a "
                         f"safe file name: written as ImageSets/{safe}.txt", None)
                key = safe
            name = posixpath.join(stage, "ImageSets", f"{key}.txt")
            fs.makedirs(posixpath.dirname(name), exist_ok=True)
            with fs.open(name, "wb") as f:
                f.write("".join(r + "\n" for r in rows).encode("utf-8"))
        with fs.open(posixpath.join(stage, "labelmap.txt"), "wb") as f:
            f.write(_labelmap(ds, labels).encode("utf-8"))
    details = {"images": written, "labels": [lab.name for lab in labels],
               "splits": sorted(splits_used, key=_split_rank),
               "segmentation_pngs_referenced": masks,
               "coordinates": "VOC 1-based inclusive pixel indices (xmin = x + 1, xmax = x + w)"}
    return [path], loss.issues, details
