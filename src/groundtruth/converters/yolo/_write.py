"""Writing a YOLO dataset: one label file per image (empty ones included), the class map and
the splits, and a loss report of everything YOLO cannot carry (see MAPPING.md).

`YoloWriter` takes the manifest and the choices, then one item with its annotations at a time
(`add`), so a caller streaming a native dataset holds one image's annotations at a time; the
label files go to a staging folder that is moved into place at the end (`finish`).
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
import shutil
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import ConversionError, DatasetExistsError, UnknownOptionError
from ...geometry import box_to_ring
from ...io._fs import is_local
from ...models import (
    AnnotationBase,
    BBox,
    Classification,
    Item,
    Keypoints,
    LabelSet,
    Manifest,
    Mask,
    Polygon,
)
from .. import _rle
from . import _codes as C
from ._layout import SPLIT_KEYS, folder_score, label_file_for
from ._loss import Loss
from ._read import TASKS
from ._shapes import largest_part, merge_parts, min_area_rect, trace_mask
from ._sizes import SIZES_FILE

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

LAYOUTS = ("ultralytics", "darknet", "labels")
MASKS = ("polygon", "box", "skip")
CROWD = ("skip", "box", "keep")
MULTIPART = ("merge", "largest", "split")

# Keys of other tools' extensions that hold nothing a YOLO file loses: derivable values and
# converter bookkeeping.
_DERIVABLE = {"coco": {"area", "num_keypoints", "@index", "@absent", "part_of", "iscrowd",
                       "segmentation", "bbox", "id", "image_id", "category_id"}}
_PROVENANCE = ("annotator", "guideline", "created", "status", "frame", "time", "track_id",
               "consensus")


@dataclass
class Choices:
    """The `-w` options of a YOLO write."""

    task: str | None = None
    layout: str | None = None
    label_set: str | None = None
    masks: str = "polygon"
    mask_tolerance: float = 1.0
    crowd: str = "skip"
    multipart: str = "merge"
    precision: int = 10
    confidence: bool = False
    kpt_dim: int | None = None
    split: str = "train"
    media_root: str | None = None
    sizes: bool = True
    overwrite: bool = False

    @classmethod
    def parse(cls, options: dict[str, Any]) -> Choices:
        c = cls()
        for key, value in options.items():
            if key not in cls.__dataclass_fields__:
                raise UnknownOptionError(
                    f"unknown write option for yolo: {key}",
                    hint="yolo write options: " + ", ".join(sorted(cls.__dataclass_fields__)))
            setattr(c, key, value)
        for key, allowed in (("task", TASKS), ("layout", LAYOUTS), ("masks", MASKS),
                             ("crowd", CROWD), ("multipart", MULTIPART)):
            value = getattr(c, key)
            if value is not None and value not in allowed:
                raise UnknownOptionError(f"{key}={value!r} is not one of {', '.join(allowed)}")
        try:
            c.mask_tolerance = float(c.mask_tolerance)
            c.precision = int(c.precision)
            c.kpt_dim = None if c.kpt_dim is None else int(c.kpt_dim)
        except (TypeError, ValueError) as err:
            raise UnknownOptionError(f"bad yolo write option value: {err}") from None
        if c.kpt_dim not in (None, 2, 3):
            raise UnknownOptionError("kpt_dim must be 2 or 3")
        c.confidence = _truthy(c.confidence)
        c.overwrite = _truthy(c.overwrite)
        c.sizes = _truthy(c.sizes)
        return c


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes", "on")
    return bool(value)


def number(v: float, decimals: int) -> str:
    """Fixed-point with trailing zeros cut: `0.5`, `0.1333333333`, never `1e-05`."""
    s = f"{v:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


def infer_task(types: Counter[str], rotated: bool, manifest: Manifest) -> str:
    """The task a write defaults to: the source's, else what the annotations need most."""
    yolo = manifest.extensions.get("yolo", {})
    if yolo.get("task") in TASKS:
        return str(yolo["task"])
    if types.get("keypoints"):
        return "pose"
    if types.get("polygon") or types.get("mask"):
        return "segment"
    if rotated:
        return "obb"
    if types.get("bbox"):
        return "detect"
    if types.get("classification"):
        return "classify"
    return "detect"


class YoloWriter:
    """Writes items one at a time; `finish()` writes the config and moves the dataset in."""

    def __init__(self, manifest: Manifest, dst: str, fs: AbstractFileSystem, choices: Choices,
                 *, task: str, used_labels: Iterable[str] = (), source: str | None = None,
                 display: str | None = None) -> None:
        self.manifest = manifest
        self.c = choices
        self.task = task
        self.fs = fs
        self.dst = dst.rstrip("/")
        self.display = display or dst
        self.source = source
        self.loss = Loss()
        yolo = manifest.extensions.get("yolo", {})
        self.src_yolo: dict[str, Any] = yolo
        self.layout = choices.layout or (yolo.get("layout") if yolo.get("layout") in LAYOUTS
                                         else "ultralytics")
        if self.task == "classify" and choices.layout is None:
            self.layout = "ultralytics"
        self.lset = self._label_set(used_labels)
        self.class_ids, self.names = self._classes(used_labels)
        self._kpt()
        self.splits: dict[str, list[str]] = {}  # split -> image paths (list-style splits)
        self.split_dirs = self._split_dirs()
        self.used_paths: set[str] = set()
        self.image_sizes: dict[str, tuple[int, int]] = {}
        self._made: set[str] = set()
        self.counts = {"items": 0, "label_files": 0, "rows": 0}
        self._prepare_destination()

    # -- setup ----------------------------------------------------------------------------------
    def _label_set(self, used: Iterable[str]) -> LabelSet | None:
        sets = self.manifest.taxonomy.label_sets
        if self.c.label_set is not None:
            found = self.manifest.label_set(self.c.label_set)
            if found is None:
                raise ConversionError(
                    f"no label set {self.c.label_set!r}",
                    hint=f"label sets: {', '.join(s.name for s in sets) or '(none)'}")
            return found
        for s in sets:
            if "yolo" in s.extensions:
                return s
        used_set = set(used)
        if sets and used_set:
            return max(sets, key=lambda s: sum(lab.name in used_set for lab in s.labels))
        return sets[0] if sets else None

    def _classes(self, used: Iterable[str]) -> tuple[dict[str, int], dict[int, str]]:
        ids: dict[str, int] = {}
        names: dict[int, str] = {}
        if self.lset is not None:
            mapping = self.lset.extensions.get("yolo", {}).get("class_ids")
            for pos, lab in enumerate(self.lset.labels):
                idx = int(mapping[lab.name]) if mapping and lab.name in mapping else pos
                ids[lab.name] = idx
                names[idx] = str(lab.extensions.get("yolo", {}).get("name", lab.name))
        for name in sorted(set(used) - set(ids)):
            # Labels used by annotations but missing from the set are classes too.
            idx = max(names, default=-1) + 1
            ids[name] = idx
            names[idx] = name
        return ids, dict(sorted(names.items()))

    def _kpt(self) -> None:
        ext = self.lset.extensions.get("yolo", {}) if self.lset is not None else {}
        shape = ext.get("kpt_shape")
        k = None
        if isinstance(shape, list) and len(shape) == 2:
            k = int(shape[0])
        elif self.lset is not None:
            counts = {len(lab.keypoints) for lab in self.lset.labels if lab.keypoints}
            if len(counts) == 1:
                k = counts.pop()
        d = self.c.kpt_dim or (int(shape[1]) if isinstance(shape, list) and len(shape) == 2
                               else 3)
        self.kpt_k: int | None = k
        self.kpt_d = d
        self.flip_idx = ext.get("flip_idx")
        self.kpt_names: list[str] | None = None
        if self.lset is not None and k is not None:
            for lab in self.lset.labels:
                if lab.keypoints and len(lab.keypoints) == k and lab.keypoints != [
                        str(i) for i in range(k)]:
                    self.kpt_names = list(lab.keypoints)
                    break
        if self.flip_idx is None and self.kpt_names is not None:
            self.flip_idx = mirror_index(self.kpt_names)

    def _split_dirs(self) -> dict[str, str]:
        """Image folder per split: as the source dataset named it, else images/<split>."""
        sources = self.src_yolo.get("split_dirs", {})
        return {split: value for split, value in sources.items() if isinstance(value, str)}

    def _prepare_destination(self) -> None:
        fs, dst = self.fs, self.dst
        if fs.exists(dst) and (fs.isfile(dst) or fs.ls(dst, detail=False)):
            if not self.c.overwrite:
                raise DatasetExistsError(f"{self.display} already exists",
                                         hint="choose another destination or pass --overwrite")
            if fs.isfile(dst) or not folder_score(fs, dst):
                raise DatasetExistsError(
                    f"{self.display} holds files that are not a YOLO dataset; not overwriting it",
                    hint="choose an empty or new destination")
        self.stage: str | None = None
        if is_local(fs):
            parent = posixpath.dirname(dst) or "."
            fs.makedirs(parent, exist_ok=True)
            self.stage = tempfile.mkdtemp(prefix=f".{posixpath.basename(dst)}.tmp-", dir=parent)
            self.root = self.stage
        else:
            self.root = dst

    # -- paths ----------------------------------------------------------------------------------
    def _split_of(self, item: Item) -> str:
        return item.split or self.c.split

    def image_path(self, item: Item) -> str:
        """Where the item's image belongs in the written layout (root-relative)."""
        split = self._split_of(item)
        uri = item.uri or f"{item.id}.jpg"
        relative = "://" not in uri and not uri.startswith("/")
        if self.layout == "darknet":
            folder = f"obj_{_darknet_split(split)}_data"
            tail = uri if relative and uri.startswith(folder + "/") else (
                f"{folder}/{posixpath.basename(uri)}")
        elif self.layout == "labels":
            tail = uri if relative and uri.startswith("images/") else (
                f"images/{posixpath.basename(uri)}")
        else:
            folder = self.split_dirs.get(split, f"images/{split}")
            if relative and uri.startswith(folder + "/"):
                tail = uri
            elif relative:
                tail = f"{folder}/{uri.removeprefix('./')}"
            else:
                tail = f"{folder}/{posixpath.basename(uri)}"
            self.split_dirs.setdefault(split, folder)
        if tail in self.used_paths:
            stem, ext = posixpath.splitext(tail)
            n = 2
            while f"{stem}-{n}{ext}" in self.used_paths:
                n += 1
            tail = f"{stem}-{n}{ext}"
        self.used_paths.add(tail)
        return tail

    # -- one item -------------------------------------------------------------------------------
    def add(self, item: Item, annotations: Sequence[AnnotationBase]) -> None:
        if item.kind != "image":
            self.loss.add(C.LOST_ITEM, f"a {item.kind} item is not an image: left out with "
                          f"its {len(annotations)} annotation(s)", item.id)
            return
        self._item_loss(item)
        if self.task == "classify":
            self._classify(item, annotations)
            return
        unsized = item.extensions.get("yolo", {}).get("rows")
        if item.width is None or item.height is None:
            if unsized:
                self.loss.add(C.UNSIZED_ROWS, "rows of an image of unknown size written back "
                              "verbatim", item.id)
                self._emit(item, [str(r) for r in unsized])
                return
            if annotations:
                self.loss.add(C.NO_SIZE, f"no width/height: {len(annotations)} annotation(s) "
                              "cannot be normalised; the image is left out", item.id,
                              hint="add the image size to the item")
                return
            self._emit(item, [])
            return
        lines: list[str] = []
        for ann in sorted(annotations, key=_line_order):
            lines.extend(self._rows(ann, item.width, item.height))
        self._emit(item, lines)

    def _emit(self, item: Item, lines: list[str]) -> None:
        image = self.image_path(item)
        split = self._split_of(item)
        self.splits.setdefault(split, []).append(image)
        label = label_file_for(image, darknet=self.layout == "darknet")
        if item.width is not None and item.height is not None:
            self.image_sizes[image] = (item.width, item.height)
        self._put(label, "".join(line + "\n" for line in lines).encode())
        self.counts["items"] += 1
        self.counts["label_files"] += 1
        self.counts["rows"] += len(lines)

    def _item_loss(self, item: Item) -> None:
        lost = [k for k in ("sha256", "size", "metadata", "duration", "fps", "frame_count")
                if getattr(item, k) not in (None, {}, [])]
        lost += [f"extensions.{ns}" for ns in item.extensions if ns != "yolo"]
        if lost:
            self.loss.add(C.ITEM_FIELDS, f"item fields YOLO has no place for: {', '.join(lost)}",
                          item.id)

    def _ann_loss(self, ann: AnnotationBase) -> None:
        lost = [k for k in _PROVENANCE if getattr(ann, k) not in (None, [], {})]
        if ann.sources:
            lost.append("sources")
        if ann.confidence is not None and not (self.c.confidence and self.task == "detect"):
            lost.append("confidence")
        if ann.attributes:
            lost.append("attributes")
        for ns, payload in ann.extensions.items():
            if ns == "yolo":
                continue
            keep = _DERIVABLE.get(ns, set())
            extra = sorted(k for k in payload if k not in keep)
            if extra:
                lost.append(f"extensions.{ns}.{'/'.join(extra)}")
        if lost:
            self.loss.add(C.PROVENANCE, f"not carried: {', '.join(lost)}", ann.id)

    def _class(self, ann: AnnotationBase) -> int | None:
        if ann.label is not None:
            idx = self.class_ids.get(ann.label)
            if idx is not None:
                return idx
        cid = ann.extensions.get("yolo", {}).get("class_id")
        if isinstance(cid, int):
            return cid
        self.loss.add(C.UNLABELLED, "an annotation without a label has no class id: left out",
                      ann.id)
        return None

    # -- rows -----------------------------------------------------------------------------------
    def _rows(self, ann: AnnotationBase, width: int, height: int) -> list[str]:
        if isinstance(ann, Classification) or not isinstance(
                ann, BBox | Polygon | Mask | Keypoints):
            kind = getattr(ann, "type", type(ann).__name__)
            self.loss.add(C.LOST_ANNOTATION, f"a {kind} annotation has no place in a YOLO "
                          f"{self.task} label file", ann.id)
            return []
        crowd = _is_crowd(ann)
        if crowd and self.c.crowd == "skip":
            self.loss.add(C.CROWD, "a crowd region (iscrowd=1) is not an object instance: "
                          "skipped (-w crowd=box writes its box)", ann.id)
            return []
        cls = self._class(ann)
        if cls is None:
            return []
        self._ann_loss(ann)
        if crowd and self.c.crowd == "box":
            self.loss.add(C.CROWD, "a crowd region written as its box", ann.id)
            box = _extent(ann)
            if box is None:
                return []
            return [self._line(cls, self._shape_values(box_to_ring(box), width, height)
                               if self.task in ("segment", "obb") else
                               _box_values(box, width, height))]
        if self.task == "detect":
            return self._detect(ann, cls, width, height)
        if self.task == "segment":
            return self._segment(ann, cls, width, height)
        if self.task == "obb":
            return self._obb(ann, cls, width, height)
        return self._pose(ann, cls, width, height)

    def _line(self, cls: int, values: Sequence[float], tail: Sequence[str] = ()) -> str:
        p = self.c.precision
        return " ".join([str(cls), *(number(v, p) for v in values), *tail])

    def _shape_values(self, ring: Sequence[float], width: int, height: int) -> list[float]:
        return [v / (width if i % 2 == 0 else height) for i, v in enumerate(ring)]

    def _detect(self, ann: AnnotationBase, cls: int, width: int, height: int) -> list[str]:
        box: list[float]
        if isinstance(ann, BBox):
            box = list(ann.bbox)
            if ann.rotation:
                ring = box_to_ring(box, ann.rotation)
                box = _ring_extent([ring]) or box
                self.loss.add(C.ROTATION, f"rotation {ann.rotation:g} degrees dropped: written "
                              "as the rotated box's axis-aligned extent", ann.id,
                              hint="-w task=obb keeps the rotation")
        else:
            extent = _extent(ann)
            if extent is None:
                self.loss.add(C.MASK_SKIPPED, "a shape with no extent: left out", ann.id)
                return []
            box = extent
            self.loss.add(C.AS_BOX, f"a {_type(ann)} written as its box", ann.id,
                          hint="-w task=segment (or pose) keeps the shape")
        tail: tuple[str, ...] = ()
        if self.c.confidence and ann.confidence is not None:
            tail = (number(ann.confidence, self.c.precision),)
        return [self._line(cls, _box_values(box, width, height), tail)]

    def _rings(self, ann: AnnotationBase, width: int, height: int) -> list[list[float]]:
        """The outer rings of a shape for segment/obb (holes reported as lost)."""
        if isinstance(ann, Polygon):
            if ann.holes:
                self.loss.add(C.HOLES, f"{len(ann.holes)} hole(s) dropped: YOLO polygons are "
                              "one ring without holes", ann.id)
            return [list(p) for p in ann.polygon if len(p) >= 6]
        if isinstance(ann, BBox):
            return [box_to_ring(ann.bbox, ann.rotation)]
        if isinstance(ann, Keypoints):
            box = _extent(ann)
            return [] if box is None else [box_to_ring(box)]
        assert isinstance(ann, Mask)
        if ann.rle is None:
            if ann.bbox is not None and self.c.masks == "box":
                return [box_to_ring(ann.bbox)]
            self.loss.add(C.MASK_SKIPPED, "a mask stored as an image file (uri) cannot be "
                          "traced: left out", ann.id)
            return []
        if self.c.masks == "skip":
            self.loss.add(C.MASK_SKIPPED, "a mask left out (-w masks=skip)", ann.id)
            return []
        h, w = ann.rle.size
        counts = (_rle.counts_from_string(ann.rle.counts) if isinstance(ann.rle.counts, str)
                  else ann.rle.counts)
        if self.c.masks == "box":
            self.loss.add(C.AS_BOX, "a mask written as its box (-w masks=box)", ann.id)
            return [box_to_ring(_rle.to_bbox(counts, h))]
        try:
            mask = _rle.decode(counts, h, w)
        except ValueError as err:
            self.loss.add(C.MASK_SKIPPED, f"a mask whose RLE cannot be decoded ({err}): left "
                          "out", ann.id)
            return []
        outers, holes = trace_mask(mask, self.c.mask_tolerance)
        self.loss.add(C.MASK_TRACED, f"an RLE mask traced to {len(outers)} polygon part(s) "
                      f"(Douglas-Peucker tolerance {self.c.mask_tolerance:g} px)"
                      + (f"; {len(holes)} hole(s) dropped" if holes else ""), ann.id)
        return outers

    def _segment(self, ann: AnnotationBase, cls: int, width: int, height: int) -> list[str]:
        rings = self._rings(ann, width, height)
        if not rings:
            return []
        if isinstance(ann, BBox):
            self.loss.add(C.BOX_AS_POLYGON, "a box written as its 4 corners", ann.id)
        elif isinstance(ann, Keypoints):
            self.loss.add(C.AS_BOX, "keypoints written as their box (a segment row has no "
                          "keypoints)", ann.id, hint="-w task=pose keeps the keypoints")
        if len(rings) > 1:
            if self.c.multipart == "split":
                self.loss.add(C.MULTI_PART, f"{len(rings)} parts written as {len(rings)} rows "
                              "(one object becomes several)", ann.id)
                return [self._line(cls, self._shape_values(r, width, height)) for r in rings]
            if self.c.multipart == "largest":
                self.loss.add(C.MULTI_PART, f"{len(rings)} parts: only the largest written",
                              ann.id)
                rings = [largest_part(rings)]
            else:
                self.loss.add(C.MULTI_PART, f"{len(rings)} parts merged into one ring through "
                              "zero-width bridges", ann.id)
                rings = [merge_parts(rings)]
        return [self._line(cls, self._shape_values(rings[0], width, height))]

    def _obb(self, ann: AnnotationBase, cls: int, width: int, height: int) -> list[str]:
        if isinstance(ann, BBox):
            ring = box_to_ring(ann.bbox, ann.rotation)
            if ann.extensions.get("yolo", {}).get("corners") == "counterclockwise":
                ring = [*ring[0:2], *ring[6:8], *ring[4:6], *ring[2:4]]
        elif isinstance(ann, Polygon) and len(ann.polygon) == 1 and len(ann.polygon[0]) == 8 \
                and not ann.holes:
            ring = list(ann.polygon[0])  # 4 corners, written as they are
        else:
            rings = self._rings(ann, width, height)
            if not rings:
                return []
            ring = min_area_rect([v for r in rings for v in r])
            self.loss.add(C.AS_BOX, f"a {_type(ann)} written as its minimum-area rotated "
                          "rectangle", ann.id)
        tail: tuple[str, ...] = ()
        if self.c.confidence and ann.confidence is not None:
            tail = (number(ann.confidence, self.c.precision),)
        return [self._line(cls, self._shape_values(ring, width, height), tail)]

    def _pose(self, ann: AnnotationBase, cls: int, width: int, height: int) -> list[str]:
        if not isinstance(ann, Keypoints):
            self.loss.add(C.LOST_ANNOTATION, f"a {_type(ann)} has no keypoints: a pose row "
                          "needs them", ann.id)
            return []
        kp = ann.keypoints
        k = len(kp) // 3
        if self.kpt_k is None:
            self.kpt_k = k
        if k != self.kpt_k:
            self.loss.add(C.KEYPOINTS, f"{k} keypoints where kpt_shape has {self.kpt_k}: left "
                          "out", ann.id)
            return []
        box = list(ann.bbox) if ann.bbox is not None else _extent(ann)
        if box is None:
            box = [0.0, 0.0, 0.0, 0.0]
        values = _box_values(box, width, height)
        dropped = 0
        for i in range(k):
            x, y, v = kp[3 * i], kp[3 * i + 1], kp[3 * i + 2]
            if v == 0:
                x = y = 0.0
            values.extend((x / width, y / height))
            if self.kpt_d == 3:
                values.append(v)
            elif v == 1:
                dropped += 1
        if dropped:
            self.loss.add(C.KEYPOINTS, f"{dropped} occluded keypoint(s) (v=1) written as "
                          "visible: kpt_shape has no visibility column", ann.id)
        line = self._line(cls, values[:4]) + "".join(
            " " + (str(int(values[4 + j])) if self.kpt_d == 3 and j % 3 == 2
                   else number(values[4 + j], self.c.precision))
            for j in range(len(values) - 4))
        return [line]

    # -- classification -------------------------------------------------------------------------
    def _classify(self, item: Item, annotations: Sequence[AnnotationBase]) -> None:
        labels = [a.label for a in annotations if isinstance(a, Classification) and a.label]
        for a in annotations:
            if not isinstance(a, Classification):
                self.loss.add(C.LOST_ANNOTATION, f"a {_type(a)} has no place in class folders",
                              a.id)
            else:
                self._ann_loss(a)
        if not labels:
            self.loss.add(C.CLASSIFY_LABELS, "no classification: the image is left out",
                          item.id)
            return
        if len(set(labels)) > 1:
            self.loss.add(C.CLASSIFY_LABELS, f"{len(set(labels))} classes {sorted(set(labels))}:"
                          f" filed under {labels[0]!r} only", item.id)
        label = labels[0]
        if label not in self.class_ids:
            self.class_ids[label] = max(self.names, default=-1) + 1
            self.names[self.class_ids[label]] = label
        split = self._split_of(item)
        uri = item.uri or ""
        target = posixpath.join(split, label, posixpath.basename(uri) or f"{item.id}.jpg")
        data = self._media(uri)
        if data is None:
            self.loss.add(C.CLASSIFY_MEDIA, f"image {uri!r} cannot be read: not copied into "
                          "its class folder", item.id,
                          hint="-w media_root=DIR names the folder image paths are relative to")
            return
        self._put(target, data)
        self.splits.setdefault(split, []).append(target)
        self.counts["items"] += 1

    def _media(self, uri: str) -> bytes | None:
        from ...io._fs import resolve

        candidates = [uri]
        if "://" not in uri and not uri.startswith("/"):
            base = self.c.media_root or (posixpath.dirname(self.source.rstrip("/"))
                                         if self.source and self.source.endswith(
                                             (".json", ".yaml", ".data", ".zip"))
                                         else self.source)
            if base:
                candidates.insert(0, posixpath.join(base, uri))
        for c in candidates:
            with contextlib.suppress(Exception):
                fs, p = resolve(c)
                data: bytes = fs.cat_file(p)
                return data
        return None

    # -- the end --------------------------------------------------------------------------------
    def finish(self) -> list[str]:
        """Write the config files, the manifest-level losses, and move the dataset in."""
        self._manifest_loss()
        for paths in self.splits.values():
            paths.sort(key=_natural)  # the same lists whatever order the items came in
        written: list[str] = []
        if self.task != "classify":
            if self.layout == "ultralytics":
                written.append(self._yaml())
            elif self.layout == "darknet":
                written.extend(self._darknet())
            else:
                written.append(self._names_file(self.src_yolo.get("names_file") or "classes.txt"))
            if self.c.sizes and self.image_sizes:
                written.append(self._sizes_file())
        if self.stage is not None:
            if self.fs.exists(self.dst):
                old = f"{self.dst}.old-{uuid.uuid4().hex[:8]}"
                self.fs.mv(self.dst, old, recursive=True)
                self.fs.mv(self.stage, self.dst, recursive=True)
                shutil.rmtree(old, ignore_errors=True)
            else:
                self.fs.mv(self.stage, self.dst, recursive=True)
            self.stage = None
        return written

    def abort(self) -> None:
        if self.stage is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            self.stage = None

    def _manifest_loss(self) -> None:
        m = self.manifest
        lost = [k for k in ("description", "license", "annotators", "guidelines", "creators",
                            "metadata") if getattr(m, k)]
        lost += [f"extensions.{ns}" for ns in m.extensions if ns != "yolo"]
        others = [s.name for s in m.taxonomy.label_sets if s is not self.lset]
        if others:
            lost.append(f"label sets {others}")
        if lost:
            self.loss.add(C.MANIFEST_FIELDS, f"not carried: {', '.join(lost)}", m.name)
        if self.lset is None:
            return
        for lab in self.lset.labels:
            fields = [k for k in ("description", "parent", "group", "value") if getattr(lab, k)
                      is not None]
            if lab.skeleton:
                fields.append("skeleton")
            if lab.attributes:
                fields.append("attributes")
            fields += [f"extensions.{ns}" for ns in lab.extensions if ns != "yolo"]
            if fields:
                self.loss.add(C.LABEL_FIELDS, f"label {lab.name!r}: {', '.join(fields)} not "
                              "carried", lab.name)
        coco = self.lset.extensions.get("coco", {}).get("category_ids")
        if coco:
            self.loss.add(C.LABEL_FIELDS, "COCO category ids replaced by YOLO's 0-based class "
                          "ids (the map is in the report's details.class_ids)", self.lset.name)

    def _write_text(self, rel: str, text: str) -> str:
        self._put(rel, text.encode())
        return rel

    def _put(self, rel: str, data: bytes) -> None:
        """One file of the dataset. The local staging folder is written with plain `open`
        (a folder made once): thousands of small files cost a syscall or two each."""
        path = posixpath.join(self.root, rel)
        folder = posixpath.dirname(path) or self.root
        if self.stage is not None:
            if folder not in self._made:
                os.makedirs(folder, exist_ok=True)
                self._made.add(folder)
            with open(path, "wb") as f:
                f.write(data)
            return
        self.fs.makedirs(folder, exist_ok=True)
        with self.fs.open(path, "wb") as f:
            f.write(data)

    def _yaml(self) -> str:
        import yaml

        extra: dict[str, Any] = dict(self.src_yolo.get("config_keys", {}))
        lines: list[str] = []
        if "path" in extra:
            lines.append(f"path: {_scalar(extra.pop('path'))}")
        styles = self.src_yolo.get("split_sources", {})
        order = [s for s in SPLIT_KEYS if s in self.splits] + sorted(
            s for s in self.splits if s not in SPLIT_KEYS)
        for split in order:
            style = styles.get(split, ["dir"])
            if style and isinstance(style[0], str) and style[0].startswith("list:"):
                rel = style[0][5:]
                self._write_text(rel, "".join(f"./{p}\n" for p in self.splits[split]))
                lines.append(f"{split}: {_scalar(rel)}")
            elif style and all(s == "image" for s in style):
                lines.append(f"{split}:")
                lines.extend(f"  - {_scalar(p)}" for p in self.splits[split])
            else:
                lines.append(f"{split}: {_scalar(self.split_dirs.get(split, f'images/{split}'))}")
        if self.task == "pose" and self.kpt_k is not None:
            lines.append(f"kpt_shape: [{self.kpt_k}, {self.kpt_d}]")
            if isinstance(self.flip_idx, list):
                lines.append(f"flip_idx: [{', '.join(str(int(i)) for i in self.flip_idx)}]")
        if "@nc" in extra or not self.src_yolo:
            lines.append(f"nc: {len(self.names)}")
        extra.pop("@nc", None)
        lines.append("names:")
        lines.extend(f"  {i}: {_scalar(n)}" for i, n in self.names.items())
        if self.task == "pose" and self.kpt_names is not None:
            listed = ", ".join(_scalar(n) for n in self.kpt_names)
            if extra.pop("@kpt_names_list", False):
                lines.append(f"kpt_names: [{listed}]")
            else:  # Ultralytics' pose yamls: names per class
                lines.append("kpt_names:")
                lines.extend(f"  {i}: [{listed}]" for i in self.names)
        extra = {k: v for k, v in extra.items() if not k.startswith("@")}
        text = "\n".join(lines) + "\n"
        if extra:
            text += yaml.safe_dump(extra, sort_keys=False, allow_unicode=True)
        return self._write_text("data.yaml", text)

    def _sizes_file(self) -> str:
        """`image_sizes.json`, so the label files can be read back without the images."""
        text = json.dumps({k: {"width": w, "height": h}
                           for k, (w, h) in sorted(self.image_sizes.items())},
                          indent=2, ensure_ascii=False)
        return self._write_text(SIZES_FILE, text + "\n")

    def _names_file(self, rel: str) -> str:
        numbered = bool(self.src_yolo.get("config_keys", {}).get("@names_numbered"))
        top = max(self.names, default=-1)
        rows = [self.names.get(i, f"class_{i}") for i in range(top + 1)]
        text = "".join((f"{i} {n}\n" if numbered else f"{n}\n") for i, n in enumerate(rows))
        return self._write_text(rel, text)

    def _darknet(self) -> list[str]:
        out = [self._names_file("obj.names")]
        keys: dict[str, str] = {"classes": str(len(self.names))}
        for split in sorted(self.splits, key=lambda s: (*SPLIT_KEYS, s).index(s)):
            name = _darknet_split(split)
            rel = f"{name}.txt"
            self._write_text(rel, "".join(f"data/{p}\n" for p in self.splits[split]))
            keys[name] = f"data/{rel}"
            out.append(rel)
        keys["names"] = "data/obj.names"
        for k, v in self.src_yolo.get("config_keys", {}).items():
            if k not in keys and k not in ("train", "valid", "val", "test", "names", "classes") \
                    and not k.startswith("@"):
                keys[k] = str(v)
        keys.setdefault("backup", "backup/")
        out.append(self._write_text("obj.data", "".join(f"{k} = {v}\n" for k, v in keys.items())))
        return out


def mirror_index(names: Sequence[str]) -> list[int] | None:
    """flip_idx from keypoint names: `left_eye` <-> `right_eye` (Ultralytics needs it to flip
    images in training); None when some left/right name has no mirror."""
    index = {n: i for i, n in enumerate(names)}
    out = []
    swap = {"left": "right", "right": "left", "Left": "Right", "Right": "Left", "l": "r", "r": "l"}
    for n in names:
        parts = re.split(r"([_\-\s.])", n)
        mirrored = "".join(swap.get(p, p) for p in parts)
        if mirrored not in index:
            return None
        out.append(index[mirrored])
    return out if out != list(range(len(names))) else None


def _darknet_split(split: str) -> str:
    return "valid" if split == "val" else split


def _scalar(value: Any) -> str:
    """A YAML scalar: plain when it reads back as the same string, else JSON-quoted."""
    import yaml

    if not isinstance(value, str):
        return json.dumps(value)
    if value and re.fullmatch(r"[^\s#:'\"{}\[\],&*!|>%@`][^#:{}\[\],]*", value) and \
            not value.endswith(" "):
        with contextlib.suppress(yaml.YAMLError):
            if yaml.safe_load(f"k: {value}") == {"k": value}:
                return value
    return json.dumps(value, ensure_ascii=False)


def _natural(text: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def _line_order(ann: AnnotationBase) -> tuple[int, int, str]:
    """Rows in their source line order (`<item>#<line>` ids), then the rest as given."""
    head, sep, tail = ann.id.rpartition("#")
    if sep and tail.isdigit() and head == ann.item_id:
        return (0, int(tail), "")
    return (1, 0, "")


def _type(ann: AnnotationBase) -> str:
    return str(getattr(ann, "type", type(ann).__name__))


def _is_crowd(ann: AnnotationBase) -> bool:
    coco = ann.extensions.get("coco", {})
    return bool(coco.get("iscrowd")) or ann.attributes.get("iscrowd") in (1, True)


def _ring_extent(rings: Sequence[Sequence[float]]) -> list[float] | None:
    xs = [v for r in rings for v in r[0::2]]
    ys = [v for r in rings for v in r[1::2]]
    if not xs:
        return None
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def _extent(ann: AnnotationBase) -> list[float] | None:
    if isinstance(ann, BBox):
        return _ring_extent([box_to_ring(ann.bbox, ann.rotation)])
    if isinstance(ann, Polygon):
        return list(ann.bbox) if ann.bbox is not None else _ring_extent(ann.polygon)
    if isinstance(ann, Mask):
        if ann.bbox is not None:
            return list(ann.bbox)
        if ann.rle is not None:
            counts = (_rle.counts_from_string(ann.rle.counts) if isinstance(ann.rle.counts, str)
                      else ann.rle.counts)
            box = _rle.to_bbox(counts, ann.rle.size[0])
            return box if box[2] > 0 else None
        return None
    if isinstance(ann, Keypoints):
        if ann.bbox is not None:
            return list(ann.bbox)
        kp = ann.keypoints
        pts = [(kp[i], kp[i + 1]) for i in range(0, len(kp) - 2, 3) if kp[i + 2] > 0]
        if not pts:
            return None
        return _ring_extent([[v for p in pts for v in p]])
    return None


def _box_values(box: Sequence[float], width: int, height: int) -> list[float]:
    x, y, w, h = (float(v) for v in box)
    return [(x + w / 2) / width, (y + h / 2) / height, w / width, h / height]
