"""Writing a YOLO dataset: one label file per image (empty ones included), the class map and
the splits, and a loss report of everything YOLO cannot carry (see MAPPING.md).

`YoloWriter` takes the manifest and the choices, then one item with its annotations at a time
(`add`), so a caller streaming a native dataset holds one image's annotations at a time; the
label files go to a staging folder that is moved into place at the end (`finish`). Rows are
built by `RowMaker` (_rowsout.py), config files written by `ConfigFiles` (_config.py).
"""

from __future__ import annotations

import math
import os
import posixpath
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import ConversionError, DatasetExistsError, UnknownOptionError
from ...io._fs import is_local
from ...io._publish import publish_dir, stage_dir
from ...models import (
    AnnotationBase,
    Classification,
    Item,
    LabelSet,
    Manifest,
)
from .._options import Option, OptionSpec, check_options
from .._paths import is_safe_relative, safe_relative, safe_segment
from . import _codes as C
from ._config import ConfigFiles, darknet_split, mirror_index
from ._layout import folder_score, label_file_for
from ._loss import Loss
from ._read import TASKS
from ._rowsout import RowMaker, type_of

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

LAYOUTS = ("ultralytics", "darknet", "labels")
MASKS = ("polygon", "box", "skip")
CROWD = ("skip", "box", "keep")
MULTIPART = ("merge", "largest", "split")


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
        """The choices from `-w` options, checked by name, type and value (`WRITE_OPTIONS`)."""
        check_options("yolo", options, WRITE_OPTIONS, direction="writing")
        c = cls()
        for key, value in options.items():
            if value is not None and key in cls.__dataclass_fields__:
                setattr(c, key, value)
        c.mask_tolerance = float(c.mask_tolerance)
        if not math.isfinite(c.mask_tolerance) or c.mask_tolerance < 0:
            raise UnknownOptionError(f"writing option mask_tolerance={c.mask_tolerance} for "
                                     "yolo must be a finite number >= 0")
        if not 0 <= c.precision <= 17:
            raise UnknownOptionError(f"writing option precision={c.precision} for yolo must "
                                     "be between 0 and 17 (decimals)")
        return c


WRITE_OPTIONS: OptionSpec = {
    "task": Option(str, None, "the YOLO task (default: the source's, else what the "
                   "annotations need)", choices=TASKS),
    "layout": Option(str, None, "ultralytics (data.yaml), darknet (obj.data) or labels (label "
                     "files and a class list); default: the source's, else ultralytics",
                     choices=LAYOUTS),
    "label_set": Option(str, None, "the label set written as classes (default: the first)"),
    "masks": Option(str, "polygon", "masks written as traced polygons, as boxes, or skipped",
                    choices=MASKS),
    "mask_tolerance": Option(float, 1.0, "how far (px) a traced mask polygon may stray"),
    "crowd": Option(str, "skip", "crowd annotations: skipped, written as boxes, or kept",
                    choices=CROWD),
    "multipart": Option(str, "merge", "multi-part polygons: merged, the largest part, or split",
                        choices=MULTIPART),
    "precision": Option(int, 10, "decimals of the normalised coordinates"),
    "confidence": Option(bool, False, "append each annotation's confidence as a last column"),
    "kpt_dim": Option(int, None, "values per keypoint: 2 (x y) or 3 (x y visibility); "
                      "default: the source's, else 3", choices=(2, 3)),
    "split": Option(str, "train", "the split of items that name none"),
    "media_root": Option(str, None, "where the images are, to find sizes and write image "
                         "paths"),
    "sizes": Option(bool, True, "write image_sizes.json so the labels read back without the "
                    "images"),
}


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


class YoloWriter(RowMaker, ConfigFiles):
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
        self.renamed_splits: set[str] = set()
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
            self.stage = stage_dir(parent)
            self.root = self.stage
        else:
            self.root = dst

    # -- paths ----------------------------------------------------------------------------------
    def _split_of(self, item: Item) -> str:
        split = item.split or self.c.split
        if is_safe_relative(split) and "/" not in split:
            return split
        safe = safe_segment(split, "split")
        if split not in self.renamed_splits:
            self.renamed_splits.add(split)
            self.loss.add(C.RENAMED, f"split {split[:80]!r} is not a safe folder name: written "
                          f"as {safe!r}", item.id)
        return safe

    def image_path(self, item: Item) -> str:
        """Where the item's image belongs in the written layout (root-relative)."""
        split = self._split_of(item)
        uri = item.uri or f"{item.id}.jpg"
        relative = "://" not in uri and not uri.startswith("/")
        if self.layout == "darknet":
            folder = f"obj_{darknet_split(split)}_data"
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
        if not is_safe_relative(tail):  # `..`, NUL...: the image path names no file of ours
            first = tail.split("/", 1)[0]
            safe = safe_relative(tail)
            tail = safe if safe.startswith(first + "/") else f"{first}/{safe}"
            self.loss.add(C.RENAMED, f"image path {uri[:80]!r} is not a safe path inside the "
                          f"dataset: its label file is written for {tail!r}", item.id)
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
    # -- classification -------------------------------------------------------------------------
    def _classify(self, item: Item, annotations: Sequence[AnnotationBase]) -> None:
        labels = [a.label for a in annotations if isinstance(a, Classification) and a.label]
        for a in annotations:
            if not isinstance(a, Classification):
                self.loss.add(C.LOST_ANNOTATION, f"a {type_of(a)} has no place in class folders",
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
        target = posixpath.join(split, safe_segment(label, "class"),
                                safe_segment(posixpath.basename(uri) or f"{item.id}.jpg"))
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
        """The image bytes of a relative `uri` under the media root (`-w media_root`, else the
        source dataset's folder), confined to it: an absolute path, a URL, a `..` segment or
        a symlink out of the root is not read (a stranger's dataset must not copy local
        files into the output)."""
        base = self.c.media_root or (posixpath.dirname(self.source.rstrip("/"))
                                     if self.source and self.source.endswith(
                                         (".json", ".yaml", ".data", ".zip", ".xml"))
                                     else self.source)
        if not base or not is_safe_relative(uri.removeprefix("./")) or "://" in base:
            return None
        root = os.path.realpath(base)
        path = os.path.realpath(os.path.join(root, uri.removeprefix("./")))
        if not path.startswith(root.rstrip(os.sep) + os.sep) or not os.path.isfile(path):
            return None
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError:
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
        if self.stage is not None:  # no-replace publish, or an atomic swap with --overwrite
            publish_dir(self.stage, self.dst, overwrite=self.c.overwrite)
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

def _natural(text: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def _line_order(ann: AnnotationBase) -> tuple[int, int, str]:
    """Rows in their source line order (`<item>#<line>` ids), then the rest as given."""
    head, sep, tail = ann.id.rpartition("#")
    if sep and tail.isdigit() and head == ann.item_id:
        return (0, int(tail), "")
    return (1, 0, "")
