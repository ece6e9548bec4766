"""Finding a YOLO dataset on disk: its config, class names, splits, images and label files.

Three layouts (see converters/yolo/MAPPING.md#layouts):

- `ultralytics`: a `data.yaml` (any `*.yaml` with `names`) whose `train`/`val`/`test` name image
  folders, list files or lists of either, relative to `path` (itself relative to the yaml's
  folder); labels sit beside the images with the last `images/` segment replaced by `labels/`.
- `darknet`: `obj.data` (`key = value` lines) naming `obj.names` and split list files whose
  paths carry a `data/` prefix (darknet runs from a folder where the dataset is `data/`);
  labels sit next to the images (`JPEGImages/` and `images/` replaced by `labels/` as darknet
  does).
- `labels`: only a class list (`classes.txt` or `obj.names`) beside `labels/` (and `images/`),
  as labelImg and Label Studio export it.

Plus `classify`: class folders `train/<class>/<image>` (and `val/`, `test/`), no label files.

All paths here are relative to the dataset root, `/`-separated.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...errors import ConversionError, DatasetNotFoundError
from ...issues import Issue, Location, issue
from . import _codes as C

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

IMAGE_EXTENSIONS = frozenset(
    {".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp", ".pfm",
     ".heic", ".avif"}
)
"""Ultralytics' image suffixes (`IMG_FORMATS`), compared lower-case."""

CONFIG_NAMES = ("data.yaml", "dataset.yaml", "data.yml", "dataset.yml")
NAMES_FILES = ("obj.names", "classes.txt", "classes.names")
SPLIT_KEYS = ("train", "val", "test")
DARKNET_SPLIT_KEYS = {"train": "train", "valid": "val", "val": "val", "test": "test"}
YAML_OWN_KEYS = frozenset({"path", "train", "val", "test", "names", "nc", "kpt_shape", "flip_idx",
                           "kpt_names"})
"""data.yaml keys the converter interprets (and writes itself); other keys are kept verbatim."""


def is_image(path: str) -> bool:
    return posixpath.splitext(path)[1].lower() in IMAGE_EXTENSIONS


def strip_ext(path: str) -> str:
    return posixpath.splitext(path)[0]


def label_for(image: str, *, darknet: bool = False) -> str:
    """The label file of an image (or the label folder of an image folder), Ultralytics'
    `img2label_paths`: the last `images` segment becomes `labels`, the suffix `.txt`.
    Darknet also maps `JPEGImages`. Without such a segment the label sits beside the image."""
    p = "/" + image.strip("/")
    for seg in ("images", "JPEGImages") if darknet else ("images",):
        marker = f"/{seg}/"
        if marker in p + "/":
            head, _, tail = (p + "/").rpartition(marker)
            p = (head + "/labels/" + tail).rstrip("/")
            break
    return p[1:]


def label_file_for(image: str, *, darknet: bool = False) -> str:
    return strip_ext(label_for(image, darknet=darknet)) + ".txt"


@dataclass(slots=True)
class Entry:
    """One image of a split: its item id, image path (None when unknown) and label file."""

    key: str
    image: str | None
    label: str | None
    split: str | None
    image_found: bool = False


@dataclass
class Source:
    """Where one split's images are listed: a folder, a list file, or one image."""

    kind: str  # "dir" | "list" | "image"
    path: str
    line: int | None = None  # for list entries: where they came from


@dataclass
class Layout:
    kind: str  # "ultralytics" | "darknet" | "labels" | "classify"
    root: str
    display: str  # the root as the user named it, for issue locations
    config: str | None = None
    names: list[tuple[int, str]] = field(default_factory=list)
    names_file: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    splits: list[tuple[str | None, list[Source]]] = field(default_factory=list)
    kpt_shape: tuple[int, int] | None = None
    flip_idx: list[int] | None = None
    kpt_names: list[str] | None = None
    task: str | None = None
    issues: list[Issue] = field(default_factory=list)

    def where(self, rel: str | None) -> str:
        """A root-relative path as the user would type it (for locations)."""
        if rel is None:
            return self.display
        return posixpath.join(self.display, rel) if self.display else rel

    def abs(self, rel: str) -> str:
        return posixpath.join(self.root, rel) if rel else self.root


# ---------------------------------------------------------------------------------------------
# finding the layout


def find_layout(fs: AbstractFileSystem, path: str, display: str, task: str | None) -> Layout:
    """The layout at `path` (a folder, a `*.yaml`, an `obj.data` or a class-list file)."""
    path = path.rstrip("/") or path
    if not fs.exists(path):
        raise DatasetNotFoundError(f"no such file or folder: {display}")
    if fs.isfile(path):
        base = posixpath.basename(path)
        root = posixpath.dirname(path)
        droot = posixpath.dirname(display.rstrip("/"))
        if base.endswith((".yaml", ".yml")):
            return _ultralytics(fs, root, droot, base)
        if base.endswith(".data"):
            return _darknet(fs, root, droot, base)
        if base in NAMES_FILES or base.endswith((".names", ".txt")):
            return _labels_layout(fs, root, droot, base)
        raise ConversionError(
            f"{display} is not a YOLO dataset file",
            hint="name the dataset folder, its data.yaml or its obj.data",
            location=Location(file=display),
        )
    names = {posixpath.basename(p.rstrip("/")) for p in fs.ls(path, detail=False)}
    if task == "classify":
        return _classify(fs, path, display, names)
    for candidate in CONFIG_NAMES:
        if candidate in names:
            return _ultralytics(fs, path, display, candidate)
    yamls = sorted(n for n in names if n.endswith((".yaml", ".yml")))
    for candidate in yamls:
        if _yaml_has_names(fs, posixpath.join(path, candidate)):
            return _ultralytics(fs, path, display, candidate)
    if "obj.data" in names:
        return _darknet(fs, path, display, "obj.data")
    for candidate in NAMES_FILES:
        if candidate in names:
            return _labels_layout(fs, path, display, candidate)
    if task is None and classify_splits(fs, path, names):
        return _classify(fs, path, display, names)
    raise ConversionError(
        f"{display} holds no YOLO dataset: no data.yaml, obj.data, obj.names or classes.txt, "
        "and no class folders",
        hint="name the folder that holds data.yaml (Ultralytics) or obj.data (darknet)",
        location=Location(file=display),
    )


def folder_score(fs: AbstractFileSystem, path: str) -> float:
    """How surely the folder `path` is a YOLO dataset (for format detection)."""
    try:
        names = {posixpath.basename(p.rstrip("/")) for p in fs.ls(path, detail=False)}
    except (OSError, ValueError):
        return 0.0
    if any(n in names for n in CONFIG_NAMES) or "obj.data" in names:
        return 0.9
    if any(_yaml_has_names(fs, posixpath.join(path, n)) for n in names
           if n.endswith((".yaml", ".yml"))):
        return 0.8
    if any(n in names for n in NAMES_FILES) and ("labels" in names or any(
            n.startswith("obj_") and n.endswith("_data") for n in names)):
        return 0.8
    if classify_splits(fs, path, names):
        return 0.5
    return 0.0


def _yaml_has_names(fs: AbstractFileSystem, path: str) -> bool:
    try:
        with fs.open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return False
    return re.search(rb"(?m)^names\s*:", head) is not None


def classify_splits(fs: AbstractFileSystem, root: str, names: set[str]) -> list[str]:
    """Split folders (train/val/test) holding class folders of images, if that is the layout."""
    found: list[str] = []
    for split in ("train", "val", "valid", "test"):
        if split not in names:
            continue
        split_dir = posixpath.join(root, split)
        if not fs.isdir(split_dir):
            continue
        classes = [p for p in fs.ls(split_dir, detail=True) if p["type"] == "directory"]
        if not classes:
            continue
        first = fs.ls(classes[0]["name"], detail=False)
        if first and not any(is_image(p) for p in first[:50]):
            continue
        found.append(split)
    return found


# ---------------------------------------------------------------------------------------------
# Ultralytics


def _load_yaml(fs: AbstractFileSystem, path: str, display: str) -> Any:
    import yaml

    try:
        with fs.open(path, "rb") as f:
            raw = f.read()
        return yaml.safe_load(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise ConversionError(
            f"{display} is not UTF-8 [{C.CONFIG_INVALID}]: {err}",
            location=Location(file=display),
        ) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise ConversionError(
            f"{display} is not valid YAML [{C.CONFIG_INVALID}]: {getattr(err, 'problem', err)}",
            hint="fix the YAML syntax at the line given",
            location=Location(file=display, line=mark.line + 1 if mark is not None else None),
        ) from None


def _ultralytics(fs: AbstractFileSystem, folder: str, dfolder: str, name: str) -> Layout:
    cfg_path = posixpath.join(folder, name)
    display = posixpath.join(dfolder, name) if dfolder else name
    doc = _load_yaml(fs, cfg_path, display)
    if not isinstance(doc, dict):
        raise ConversionError(
            f"{display} holds no mapping [{C.CONFIG_INVALID}]",
            hint="a data.yaml is a mapping with `names` and `train`/`val`/`test`",
            location=Location(file=display),
        )
    layout = Layout("ultralytics", folder, dfolder, config=name, names_file=name)
    layout.extra = {k: v for k, v in doc.items() if k not in YAML_OWN_KEYS}
    if "path" in doc:
        layout.extra["path"] = doc["path"]
    if "nc" in doc:
        layout.extra["@nc"] = True
    root_value = doc.get("path")
    if isinstance(root_value, str) and root_value not in ("", "."):
        candidate = (root_value if root_value.startswith("/")
                     else posixpath.normpath(posixpath.join(folder, root_value)))
        if fs.isdir(candidate):
            layout.root = candidate
            layout.display = (root_value if root_value.startswith("/") else
                              posixpath.normpath(posixpath.join(dfolder or ".", root_value)))
        else:
            layout.issues.append(issue(
                C.CONFIG_PATH, f"`path: {root_value}` does not exist; paths are read relative "
                "to the yaml's folder instead", file=display, path="$.path",
                hint="Ultralytics resolves a relative `path` under its datasets folder; "
                "set `path: .` or remove it when the yaml sits in the dataset"))
    layout.names = _names_from_yaml(doc.get("names"), display, layout.issues)
    _check_nc(doc.get("nc"), layout, display, "$.nc")
    for key in SPLIT_KEYS:
        value = doc.get(key)
        if value is None or value == "":
            continue
        sources = _sources(value, display, key, layout.issues)
        layout.splits.append((key, sources))
    extra_splits = [k for k in doc if k not in YAML_OWN_KEYS and k not in SPLIT_KEYS
                    and k in ("minival", "valid")]
    for key in extra_splits:
        layout.splits.append((key, _sources(doc[key], display, key, layout.issues)))
        layout.extra.pop(key, None)
    if not layout.splits:
        layout.issues.append(issue(
            C.CONFIG_INVALID, "no `train`, `val` or `test` key: reading every label file "
            "under labels/", file=display, severity="warning",
            hint="add `train: images/train` (and `val:`) to the yaml"))
        layout.splits.append((None, [Source("dir", "images")]))
    for _, sources in layout.splits:
        for src in sources:
            src.path = _dotdot(fs, layout, src)
    _kpt(doc, layout, display)
    task = doc.get("task")
    if isinstance(task, str):
        layout.task = task
    return layout


def _dotdot(fs: AbstractFileSystem, layout: Layout, src: Source) -> str:
    """Roboflow writes `train: ../train/images` in a yaml that sits in the dataset folder;
    Ultralytics then drops the `../` when the path does not exist (`check_det_dataset`)."""
    p = src.path
    if not p.startswith("../"):
        return p
    for candidate in (p, label_for(p)):
        if fs.exists(layout.abs(candidate)):
            return p
    return p[3:]


def _names_from_yaml(value: Any, display: str, issues: list[Issue]) -> list[tuple[int, str]]:
    names: list[tuple[int, str]] = []
    if isinstance(value, list):
        names = [(i, str(n)) for i, n in enumerate(value)]
    elif isinstance(value, dict):
        for k, v in value.items():
            try:
                idx = int(k)
            except (TypeError, ValueError):
                issues.append(issue(C.NAMES_INVALID, f"class id {k!r} is not an integer",
                                    file=display, path=f"$.names.{k}",
                                    hint="names are `0: person` lines or a list"))
                continue
            names.append((idx, str(v)))
        names.sort()
    elif value is None:
        issues.append(issue(C.NAMES_INVALID, "no `names`: classes are named by their ids",
                            file=display, path="$.names",
                            hint="add `names:` (a list, or `0: person` lines)"))
    else:
        issues.append(issue(C.NAMES_INVALID, f"`names` is a {type(value).__name__}, not a list "
                            "or a mapping", file=display, path="$.names"))
    ids = [i for i, _ in names]
    if ids != list(range(len(ids))):
        issues.append(issue(C.NAMES_SPARSE, f"class ids {ids[:10]} are not 0..{len(ids) - 1}",
                            file=display, path="$.names",
                            hint="Ultralytics requires ids 0..N-1; the ids are kept as given"))
    return names


def _check_nc(nc: Any, layout: Layout, display: str, path: str, line: int | None = None) -> None:
    if nc is None:
        return
    try:
        n = int(nc)
    except (TypeError, ValueError):
        n = -1
    if n != len(layout.names):
        layout.issues.append(issue(
            C.NAMES_COUNT, f"{nc!r} classes declared but {len(layout.names)} names given",
            file=display, path=path if line is None else None, line=line,
            hint="make the class count equal to the number of names"))


def _sources(value: Any, display: str, key: str, issues: list[Issue]) -> list[Source]:
    values = value if isinstance(value, list) else [value]
    out = []
    for i, v in enumerate(values):
        if not isinstance(v, str):
            issues.append(issue(C.CONFIG_INVALID, f"`{key}` entry {v!r} is not a path",
                                file=display, path=f"$.{key}" + (f"[{i}]" if
                                                                  isinstance(value, list) else "")))
            continue
        v = v.strip()
        if v.endswith(".txt"):
            out.append(Source("list", v))
        elif is_image(v):
            out.append(Source("image", v))
        else:
            out.append(Source("dir", v.rstrip("/")))
    return out


def _kpt(doc: dict[str, Any], layout: Layout, display: str) -> None:
    shape = doc.get("kpt_shape")
    if shape is not None:
        if (isinstance(shape, list) and len(shape) == 2 and all(isinstance(v, int) for v in shape)
                and shape[0] > 0 and shape[1] in (2, 3)):
            layout.kpt_shape = (shape[0], shape[1])
        else:
            layout.issues.append(issue(
                C.KPT_SHAPE_INVALID, f"kpt_shape {shape!r} is not [K, 2] or [K, 3]",
                file=display, path="$.kpt_shape", hint="write `kpt_shape: [17, 3]`"))
            layout.extra["kpt_shape"] = shape  # kept verbatim, written back
    flip = doc.get("flip_idx")
    if flip is not None:
        k = layout.kpt_shape[0] if layout.kpt_shape else None
        if (isinstance(flip, list) and all(isinstance(v, int) for v in flip)
                and (k is None or sorted(flip) == list(range(k)))):
            layout.flip_idx = list(flip)
        else:
            layout.issues.append(issue(
                C.KPT_SHAPE_INVALID, f"flip_idx {flip!r} is not a permutation of the {k} "
                "keypoints", file=display, path="$.flip_idx", severity="warning",
                hint="flip_idx lists, for each keypoint, its mirror's index"))
            layout.extra["flip_idx"] = flip
    names = doc.get("kpt_names")
    if names is not None:
        # A list, or (as Ultralytics' pose yamls write it) {class id: list}; one list is kept.
        listed = names
        if isinstance(names, dict) and names:
            listed = next(iter(names.values()))
        k = layout.kpt_shape[0] if layout.kpt_shape else None
        if isinstance(listed, list) and (k is None or len(listed) == k):
            layout.kpt_names = [str(n) for n in listed]
            if isinstance(names, list):
                layout.extra["@kpt_names_list"] = True
        else:
            layout.issues.append(issue(
                C.KPT_SHAPE_INVALID, f"kpt_names does not list {k} names", file=display,
                path="$.kpt_names", severity="warning"))
            layout.extra["kpt_names"] = names


# ---------------------------------------------------------------------------------------------
# darknet and bare class lists


def _darknet(fs: AbstractFileSystem, folder: str, dfolder: str, name: str) -> Layout:
    cfg = posixpath.join(folder, name)
    display = posixpath.join(dfolder, name) if dfolder else name
    layout = Layout("darknet", folder, dfolder, config=name)
    values: dict[str, tuple[str, int]] = {}
    for n, line in _text_lines(fs, cfg, display):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition("=")
        if not sep:
            layout.issues.append(issue(C.CONFIG_INVALID, f"line {stripped!r} is not key = value",
                                       file=display, line=n, severity="warning"))
            continue
        values[key.strip()] = (value.strip(), n)
    layout.extra = {k: v for k, (v, _) in values.items()}
    names_value, names_line = values.get("names", ("obj.names", None))
    names_rel = resolve_data_prefix(fs, folder, names_value)
    if names_rel is None:
        raise ConversionError(
            f"{display}: names file {names_value!r} not found [{C.NAMES_INVALID}]",
            hint="obj.data's `names` must name the class list (obj.names) in the dataset",
            location=Location(file=display, line=names_line),
        )
    layout.names_file = names_rel
    layout.names = read_names_file(fs, layout, names_rel)
    if "classes" in values:
        _check_nc(values["classes"][0], layout, display, "", line=values["classes"][1])
    for key, (value, at) in values.items():
        split = DARKNET_SPLIT_KEYS.get(key)
        if split is not None:
            layout.splits.append((split, [Source("list", value, at)]))
    if not layout.splits:
        layout.issues.append(issue(C.CONFIG_INVALID, "no `train`/`valid` list file",
                                   file=display, severity="warning",
                                   hint="add `train = data/train.txt`"))
    return layout


def _labels_layout(fs: AbstractFileSystem, folder: str, dfolder: str, name: str) -> Layout:
    layout = Layout("labels", folder, dfolder, names_file=name)
    layout.names = read_names_file(fs, layout, name)
    labels = posixpath.join(folder, "labels")
    if fs.isdir(labels):
        subdirs = sorted(posixpath.basename(p["name"].rstrip("/"))
                         for p in fs.ls(labels, detail=True) if p["type"] == "directory")
        splits = [s for s in subdirs if s in ("train", "val", "valid", "test")]
        if splits:
            for s in splits:
                layout.splits.append((DARKNET_SPLIT_KEYS.get(s, s),
                                      [Source("dir", f"images/{s}")]))
            return layout
    else:
        data_dirs = sorted(p for p in (posixpath.basename(x.rstrip("/")) for x in
                                       fs.ls(folder, detail=False))
                           if p.startswith("obj_") and p.endswith("_data"))
        for d in data_dirs:
            split = DARKNET_SPLIT_KEYS.get(d[4:-5], d[4:-5])
            layout.splits.append((split, [Source("dir", d)]))
        if data_dirs:
            return layout
    layout.splits.append((None, [Source("dir", "images")]))
    return layout


def read_names_file(fs: AbstractFileSystem, layout: Layout, rel: str) -> list[tuple[int, str]]:
    """`obj.names` / `classes.txt`: one name a line; Kili writes `0 NAME` (an id first), which is
    recognised when every line starts with its own 0-based index."""
    display = layout.where(rel)
    lines = [(n, line.strip()) for n, line in _text_lines(fs, layout.abs(rel), display)]
    rows = [(n, s) for n, s in lines if s]
    for n, s in lines:
        if not s and n < (rows[-1][0] if rows else 0):
            layout.issues.append(issue(C.LINE_EMPTY, "empty line between class names: skipped",
                                       file=display, line=n))
    numbered = bool(rows) and all(
        re.match(rf"{i}\s+\S", s) is not None for i, (_, s) in enumerate(rows))
    names = []
    for i, (_, s) in enumerate(rows):
        names.append((i, s.split(None, 1)[1].strip() if numbered else s))
    if numbered:
        layout.extra["@names_numbered"] = True
    if not names:
        layout.issues.append(issue(C.NAMES_INVALID, "the class list is empty", file=display))
    return names


def _text_lines(fs: AbstractFileSystem, path: str, display: str) -> Iterator[tuple[int, str]]:
    try:
        with fs.open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise DatasetNotFoundError(f"no such file: {display}") from None
    text = raw.decode("utf-8-sig", errors="replace")
    for n, line in enumerate(text.split("\n"), start=1):
        if n > 1 or line:
            yield n, line.rstrip("\r")


def resolve_data_prefix(fs: AbstractFileSystem, root: str, value: str) -> str | None:
    """A darknet path (`data/obj.names`) relative to the root: as written if it exists there,
    else without its `data/` prefix (darknet's working-folder quirk), else None."""
    value = value.strip()
    for candidate in (value, value[5:] if value.startswith("data/") else None,
                      posixpath.basename(value)):
        if candidate and fs.exists(posixpath.join(root, candidate)):
            return candidate
    return None


# ---------------------------------------------------------------------------------------------
# classification folders


def _classify(fs: AbstractFileSystem, root: str, display: str, names: set[str]) -> Layout:
    layout = Layout("classify", root, display)
    splits = classify_splits(fs, root, names)
    if not splits:
        raise ConversionError(
            f"{display} holds no class folders (train/<class>/<image>)",
            hint="a classification dataset is split folders of class folders of images",
            location=Location(file=display),
        )
    classes: set[str] = set()
    for split in splits:
        split_dir = posixpath.join(root, split)
        classes.update(posixpath.basename(p["name"].rstrip("/"))
                       for p in fs.ls(split_dir, detail=True) if p["type"] == "directory")
        layout.splits.append((DARKNET_SPLIT_KEYS.get(split, split), [Source("dir", split)]))
    # Ultralytics numbers classes in sorted order of the folder names.
    layout.names = list(enumerate(sorted(classes)))
    layout.task = "classify"
    return layout
