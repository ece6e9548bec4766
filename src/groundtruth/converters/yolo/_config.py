"""The config files of a YOLO write: Ultralytics `data.yaml`, darknet `obj.data` +
`obj.names` + split lists, a class list, and `image_sizes.json` (MAPPING.md#config-written)."""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ...errors import ConversionError
from .._paths import is_safe_relative
from ._layout import SPLIT_KEYS
from ._sizes import SIZES_FILE

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem


class ConfigFiles:
    """The file-writing half of `YoloWriter` (a mixin)."""

    fs: AbstractFileSystem
    root: str
    stage: str | None
    _made: set[str]
    src_yolo: dict[str, Any]
    splits: dict[str, list[str]]
    split_dirs: dict[str, str]
    task: str
    kpt_k: int | None
    kpt_d: int
    flip_idx: Any
    kpt_names: list[str] | None
    names: dict[int, str]
    image_sizes: dict[str, tuple[int, int]]

    def _write_text(self, rel: str, text: str) -> str:
        self._put(rel, text.encode())
        return rel

    def _put(self, rel: str, data: bytes) -> None:
        """One file of the dataset. The local staging folder is written with plain `open`
        (a folder made once): thousands of small files cost a syscall or two each."""
        if not is_safe_relative(rel):  # the writer renames unsafe names first: a bug if not
            raise ConversionError(f"refusing to write {rel!r} outside the dataset folder")
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
            name = darknet_split(split)
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


def darknet_split(split: str) -> str:
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
