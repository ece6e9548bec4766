"""Reading a YOLO dataset as a stream of groundtruth records (see MAPPING.md).

`YoloReader(fs, path, display, ...)` finds the layout, the image sizes and the task; its
`records()` yields items and annotations image by image, holding one label file at a time, so a
folder of any size converts in bounded memory (the lists of file names and sizes aside).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ...errors import ConversionError, UnknownOptionError
from ...issues import Issue, issue
from ...models import (
    AnnotationBase,
    Classification,
    Item,
    Label,
    LabelSet,
    Manifest,
    Split,
    Taxonomy,
)
from . import _codes as C
from ._layout import (
    NAMES_FILES,
    Entry,
    Layout,
    Source,
    find_layout,
    is_image,
    label_file_for,
    label_for,
    strip_ext,
)
from ._rows import Row, fit_obb, parse_row, plain_row, row_annotations, split_lines
from ._sizes import SIZES_FILE, Sizes, header_size

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

TASKS = ("detect", "segment", "pose", "obb", "classify")
_MEDIA_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
_SCAN_ROWS = 2000
"""Rows looked at to tell detect/segment/obb apart when nothing else says."""


def natural(text: str) -> tuple[Any, ...]:
    """Sort key: digit runs by value, so `img_2` comes before `img_10`."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


class YoloReader:
    """One YOLO dataset, read lazily: `manifest` and `issues` are ready once `records()` ran."""

    def __init__(
        self, fs: AbstractFileSystem, path: str, display: str, *, task: str | None = None,
        sizes: str | None = None, name: str | None = None, label_set: str | None = None,
    ) -> None:
        if task is not None and task not in TASKS:
            raise UnknownOptionError(f"task {task!r} is not one of {', '.join(TASKS)}")
        self.fs = fs
        self.layout: Layout = find_layout(fs, path, display, task)
        self.issues: list[Issue] = self.layout.issues
        self.sizes = Sizes()
        lay = self.layout
        default_sizes = lay.abs(SIZES_FILE)
        if sizes is not None:
            from ...io._fs import resolve

            sfs, spath = resolve(sizes)
            self.sizes.load(sfs, spath, sizes, lay.root, lay.root, self.issues)
        elif fs.exists(default_sizes):
            self.sizes.load(fs, default_sizes, lay.where(SIZES_FILE), lay.root, lay.root,
                            self.issues)
        self.label_set = label_set or "classes"
        self.entries = [(split, self._entries(split, sources)) for split, sources in lay.splits]
        self.task = task or self._decide_task()
        self.names: dict[int, str] = {}
        self.manifest = self._manifest(name)
        self.counts = {"items": 0, "annotations": 0}

    # -- listing --------------------------------------------------------------------------------
    def _entries(self, split: str | None, sources: list[Source]) -> list[Entry]:
        found: dict[str, Entry] = {}
        for source in sources:
            if self.layout.kind == "classify":
                continue  # class folders are walked by records()
            listed = (self._dir_entries(source.path, split) if source.kind == "dir"
                      else self._list_entries(source, split))
            for e in listed:
                found.setdefault(e.key, e)
        return [found[k] for k in sorted(found, key=natural)]

    def _find(self, rel: str) -> list[str]:
        full = self.layout.abs(rel)
        if not self.fs.isdir(full):
            return []
        base = self.layout.root.rstrip("/")
        out = []
        for p in self.fs.find(full):
            p = p.rstrip("/")
            out.append(p[len(base) + 1:] if base and p.startswith(base + "/") else p)
        return out

    def _dir_entries(self, rel_dir: str, split: str | None) -> list[Entry]:
        rel_dir = posixpath.normpath(rel_dir) if rel_dir else ""
        rel_dir = "" if rel_dir == "." else rel_dir.removeprefix("./")
        darknet = self.layout.kind == "darknet"
        lbl_dir = label_for(rel_dir, darknet=darknet) if rel_dir else ""
        prefix = rel_dir + "/" if rel_dir else ""
        entries: dict[str, Entry] = {}
        for rel in self._find(rel_dir) if rel_dir else self._root_files():
            if is_image(rel):
                entries[strip_ext(rel)] = Entry(strip_ext(rel), rel, None, split, True)
        for stem, rel in self.sizes.stems(prefix):
            if stem not in entries:
                entries[stem] = Entry(stem, rel, None, split)
        label_files = self._find(lbl_dir) if lbl_dir else self._root_files()
        lprefix = lbl_dir + "/" if lbl_dir else ""
        for rel in label_files:
            if not rel.endswith(".txt") or posixpath.basename(rel) in NAMES_FILES:
                continue
            key = prefix + strip_ext(rel[len(lprefix):])
            entry = entries.get(key)
            if entry is None:
                entries[key] = Entry(key, None, rel, split)
            else:
                entry.label = rel
        if not entries and not self.fs.isdir(self.layout.abs(rel_dir)):
            self.issues.append(issue(
                C.CONFIG_PATH, f"split {split!r}: neither {rel_dir or '.'} nor {lbl_dir} exists",
                file=self.layout.where(self.layout.config or self.layout.names_file),
                hint="check the split's path in the config"))
        for e in entries.values():
            if e.image is not None and e.label is None:
                # Label files of images found on disk sit where the layout says; absent ones
                # are negatives (an image without objects).
                e.label = label_file_for(e.image, darknet=darknet)
        return list(entries.values())

    def _root_files(self) -> list[str]:
        return [posixpath.basename(p.rstrip("/"))
                for p in self.fs.ls(self.layout.root, detail=False)]

    def _list_entries(self, source: Source, split: str | None) -> list[Entry]:
        lay = self.layout
        darknet = lay.kind == "darknet"
        if source.kind == "image":
            paths: list[tuple[str, int | None]] = [(source.path, None)]
            list_dir = ""
        else:
            rel = _data_prefix(self.fs, lay, source.path)
            if rel is None:
                self.issues.append(issue(
                    C.CONFIG_PATH, f"split {split!r}: list file {source.path!r} not found",
                    file=lay.where(lay.config), line=source.line,
                    hint="the list file names one image path a line"))
                return []
            list_dir = posixpath.dirname(rel)
            raw = self.fs.cat_file(lay.abs(rel))
            where = lay.where(rel)
            paths = [(text.strip(), n) for n, text in split_lines(raw, where, self.issues)]
        strip = None
        out = []
        for p, n in paths:
            if p.startswith("./"):
                p = posixpath.normpath(posixpath.join(list_dir, p[2:]))
            elif p.startswith("/") and lay.root and p.startswith(lay.root.rstrip("/") + "/"):
                p = p[len(lay.root.rstrip("/")) + 1:]
            if not _inside(p):  # never read a label file outside the dataset
                self.issues.append(issue(
                    C.CONFIG_PATH, f"split {split!r}: image path {p[:80]!r} is outside the "
                    "dataset folder (absolute, `..` or a NUL byte): not read",
                    file=lay.where(rel) if source.kind != "image" else lay.where(lay.config),
                    line=n, hint="list images by paths inside the dataset folder"))
                continue
            if strip is None:  # decided once per list, on its first entry
                strip = p.startswith("data/") and not self._known(p) and self._known(p[5:])
            if strip and p.startswith("data/"):
                p = p[5:]
            out.append(Entry(strip_ext(p), p, label_file_for(p, darknet=darknet), split))
        return out

    def _known(self, rel: str) -> bool:
        return (rel in self.sizes.by_path or self.fs.exists(self.layout.abs(rel))
                or self.fs.exists(self.layout.abs(label_file_for(
                    rel, darknet=self.layout.kind == "darknet"))))

    # -- task -----------------------------------------------------------------------------------
    def _decide_task(self) -> str:
        lay = self.layout
        if lay.kind == "classify":
            return "classify"
        if lay.kpt_shape is not None:
            return "pose"
        if lay.task in TASKS:
            return lay.task
        seen = 0
        eights: list[tuple[list[float], tuple[int, int]]] = []
        for _, entries in self.entries:
            for e in entries:
                if e.label is None or seen >= _SCAN_ROWS:
                    continue
                try:
                    raw = self.fs.cat_file(lay.abs(e.label))
                except FileNotFoundError:
                    continue
                for line in raw.decode("utf-8", errors="replace").splitlines():
                    toks = line.split()
                    if not toks:
                        continue
                    seen += 1
                    n = len(toks) - 1
                    if n not in (4, 5, 8, 9):
                        return "segment"
                    if n in (8, 9):
                        size = self._size_of(e)[0] or (1, 1)
                        try:
                            eights.append(([float(t) for t in toks[1:9]], size))
                        except ValueError:
                            continue
        if eights:
            rect = all(fit_obb([c * (w if i % 2 == 0 else h) for i, c in enumerate(v)])[2]
                       for v, (w, h) in eights)
            return "obb" if rect else "segment"
        return "detect"

    # -- manifest -------------------------------------------------------------------------------
    def _manifest(self, name: str | None) -> Manifest:
        lay = self.layout
        labels: list[Label] = []
        seen: dict[str, int] = {}
        positional = [i for i, _ in lay.names] == list(range(len(lay.names)))
        kpt_names: list[str] = []
        if lay.kpt_shape is not None:
            kpt_names = lay.kpt_names or [str(i) for i in range(lay.kpt_shape[0])]
        for idx, raw_name in lay.names:
            label_name = raw_name
            ext: dict[str, Any] = {}
            if raw_name in seen:
                label_name = f"{raw_name} ({idx})"
                ext = {"yolo": {"name": raw_name}}
                self.issues.append(issue(
                    C.NAMES_DUPLICATE, f"classes {seen[raw_name]} and {idx} are both named "
                    f"{raw_name!r}; class {idx} is read as {label_name!r}",
                    file=lay.where(lay.names_file), hint="give every class its own name"))
            seen.setdefault(raw_name, idx)
            self.names[idx] = label_name
            labels.append(Label(name=label_name, keypoints=list(kpt_names), extensions=ext))
        set_ext: dict[str, Any] = {}
        if not positional:
            set_ext["class_ids"] = {self.names[i]: i for i, _ in lay.names}
        if lay.kpt_shape is not None:
            set_ext["kpt_shape"] = list(lay.kpt_shape)
        if lay.flip_idx is not None:
            set_ext["flip_idx"] = lay.flip_idx
        lset = LabelSet(name=self.label_set, labels=labels,
                        extensions={"yolo": set_ext} if set_ext else {})
        splits = [Split(name=s) for s, _ in lay.splits if s is not None]
        yolo: dict[str, Any] = {"layout": lay.kind, "task": self.task}
        if lay.config:
            yolo["config"] = lay.config
        if lay.names_file and lay.names_file != lay.config:
            yolo["names_file"] = lay.names_file
        if lay.extra:
            yolo["config_keys"] = lay.extra
        styles = {s: [src.kind if src.kind != "list" else f"list:{src.path}" for src in sources]
                  for s, sources in lay.splits if s is not None}
        if any(v != ["dir"] for v in styles.values()):
            yolo["split_sources"] = styles
        dirs = {s: sources[0].path.rstrip("/") for s, sources in lay.splits
                if s is not None and sources and sources[0].kind == "dir"}
        if lay.kind == "ultralytics" and dirs:
            yolo["split_dirs"] = dirs
        default_name = posixpath.basename(lay.display.rstrip("/")) or posixpath.basename(
            lay.root.rstrip("/")) or "yolo"
        return Manifest(name=name or default_name, taxonomy=Taxonomy(label_sets=[lset]),
                        splits=splits, extensions={"yolo": yolo})

    # -- records --------------------------------------------------------------------------------
    def records(self) -> Iterator[Item | AnnotationBase]:
        """Items and their annotations, image by image."""
        yield from self._walk(plain=False)

    def rows(self) -> Iterator[Any]:
        """Like `records()`, but plain items and boxes/polygons come as `(kind, JSON dict)`
        (the fast path of `yolo_to_native`); the rest as models."""
        yield from self._walk(plain=True)

    def _walk(self, plain: bool) -> Iterator[Any]:
        if self.layout.kind == "classify":
            yield from self._classify_records()
            return
        seen: dict[str, str | None] = {}
        several = len(self.entries) > 1  # one split cannot list an image twice: no table
        for split, entries in self.entries:
            for e in entries:
                if several and e.key in seen:
                    self.issues.append(issue(
                        C.SPLIT_DUPLICATE, f"image {e.image or e.key} is in split "
                        f"{seen[e.key]!r} and in {split!r}: kept in {seen[e.key]!r}",
                        file=self.layout.where(self.layout.config), record_id=e.key))
                    continue
                if several:
                    seen[e.key] = split
                yield from self._entry_records(e, plain)

    def _size_of(self, e: Entry) -> tuple[tuple[int, int] | None, str | None]:
        """(size, image path) of an entry: sizes file first, then the image header."""
        if e.image is not None:
            size = self.sizes.get(e.image)
            if size is not None:
                return size, e.image
            if not e.image_found and e.image.startswith("/"):
                return header_size(self.fs, e.image), e.image
            return header_size(self.fs, self.layout.abs(e.image)), e.image
        return None, None

    def _entry_records(self, e: Entry, plain: bool) -> Iterator[Any]:
        lay = self.layout
        if not e.key.strip():  # a list line such as `.jpg` or `./`: no name to call it by
            self.issues.append(issue(
                C.CONFIG_PATH, f"image path {(e.image or e.label or '')[:80]!r} names no image "
                "(empty name): not read", file=lay.where(e.label or lay.config),
                hint="list images by their paths, one a line"))
            return
        size, image = self._size_of(e)
        label_where = lay.where(e.label)
        raw = b""
        if e.label is not None:
            try:
                raw = self.fs.cat_file(lay.abs(e.label))
            except FileNotFoundError:
                raw = b""
        rows_text = split_lines(raw, label_where, self.issues, e.key) if raw else []
        if image is None:
            image = e.key + ".jpg"
            self.issues.append(issue(
                C.IMAGE_MISSING, f"no image for {e.label}: its name is taken as {image}",
                file=label_where, record_id=e.key,
                hint="put the image beside the labels (images/...), or list it in "
                     "image_sizes.json / -o sizes=FILE"))
        elif size is None and e.image_found is False and not self.fs.exists(lay.abs(image)):
            self.issues.append(issue(
                C.IMAGE_MISSING, f"image {image} not found", file=label_where, record_id=e.key,
                hint="put the image where the list names it, or give its size in "
                     "image_sizes.json / -o sizes=FILE"))
        item: dict[str, Any] = {"id": e.key, "kind": "image", "uri": image}
        mt = _MEDIA_TYPES.get(posixpath.splitext(image)[1].lower())
        if mt is not None:
            item["media_type"] = mt
        if size is not None:
            item["width"], item["height"] = size
        if e.split is not None:
            item["split"] = e.split
        if size is None and rows_text:
            self.issues.append(issue(
                C.IMAGE_NO_SIZE, f"size of {image} unknown: {len(rows_text)} row(s) cannot be "
                "converted to pixels (kept verbatim in the item's extensions.yolo.rows)",
                file=label_where, record_id=e.key,
                hint="give the image, or its size in image_sizes.json / -o sizes=FILE"))
            item["extensions"] = {"yolo": {"rows": [line for _, line in rows_text]}}
        self.counts["items"] += 1
        yield ("items", item) if plain and "extensions" not in item else Item(**item)
        if size is None:
            return
        width, height = size
        seen_rows: set[str] = set()
        kpt = lay.kpt_shape
        for n, line in rows_text:
            row = parse_row(n, line, label_where, self.task, kpt, self.issues, e.key)
            if row is None:
                continue
            canon = " ".join(line.split())
            if canon in seen_rows:
                self.issues.append(issue(C.ROW_DUPLICATE, "the same row as an earlier line "
                                         "(Ultralytics drops duplicates; kept here)",
                                         file=label_where, line=n, record_id=e.key))
            seen_rows.add(canon)
            yield self._annotation(row, width, height, e.key, label_where, plain)

    def _annotation(self, row: Row, width: int, height: int, key: str,
                    where: str, plain: bool = False) -> Any:
        label = self.names.get(row.cls)
        if plain and label is not None and row.confidence is None and row.kind in (
                "box", "polygon"):
            self.counts["annotations"] += 1
            return ("annotations", plain_row(row, width, height, key, label))
        if label is None:
            self.issues.append(issue(
                C.ROW_CLASS_RANGE, f"class {row.cls} has no name ({len(self.names)} classes): "
                "read without a label, the id kept in extensions.yolo.class_id",
                file=where, line=row.line, record_id=key,
                hint="add the class to the names, or fix the id"))
        self.counts["annotations"] += 1
        return row_annotations(row, width, height, key, label, where, self.layout.kpt_shape,
                               self.issues)

    def _classify_records(self) -> Iterator[Item | AnnotationBase]:
        lay = self.layout
        for split, sources in lay.splits:
            for source in sources:
                files = sorted(self._find(source.path), key=natural)
                for rel in files:
                    parts = rel.split("/")
                    if len(parts) < 3:
                        continue
                    cls = parts[-2]
                    if not is_image(rel):
                        self.issues.append(issue(C.CLASSIFY_NOT_IMAGE, f"{rel} is not an image: "
                                                 "skipped", file=lay.where(rel)))
                        continue
                    key = strip_ext(rel)
                    size = self.sizes.get(rel) or header_size(self.fs, lay.abs(rel))
                    item: dict[str, Any] = {"id": key, "kind": "image", "uri": rel}
                    mt = _MEDIA_TYPES.get(posixpath.splitext(rel)[1].lower())
                    if mt is not None:
                        item["media_type"] = mt
                    if size is not None:
                        item["width"], item["height"] = size
                    if split is not None:
                        item["split"] = split
                    self.counts["items"] += 1
                    self.counts["annotations"] += 1
                    yield Item(**item)
                    yield Classification(id=f"{key}#class", item_id=key, label=cls)


def _data_prefix(fs: AbstractFileSystem, lay: Layout, value: str) -> str | None:
    value = value.strip()
    for candidate in (value, value[5:] if value.startswith("data/") else None):
        # a list file outside the dataset (absolute, `..`) is not read: "not found"
        if candidate and _inside(candidate) and fs.isfile(lay.abs(candidate)):
            return candidate
    return None


def _inside(rel: str) -> bool:
    """Whether a path from a list file stays inside the dataset folder."""
    if not rel or "\x00" in rel or rel.startswith(("/", "\\")) or "://" in rel:
        return False
    return not posixpath.normpath(rel).startswith("../") and posixpath.normpath(rel) != ".."


def read_all(reader: YoloReader) -> tuple[list[Item], list[AnnotationBase]]:
    items: list[Item] = []
    annotations: list[AnnotationBase] = []
    for record in reader.records():
        if isinstance(record, Item):
            items.append(record)
        else:
            annotations.append(record)
    return items, annotations


__all__ = ["TASKS", "ConversionError", "YoloReader", "natural", "read_all"]
