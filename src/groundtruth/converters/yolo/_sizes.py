"""Image sizes for YOLO's normalised coordinates, without decoding any pixels.

In order: a sizes file named with `-o sizes=FILE`, the `image_sizes.json` beside the label
folders (`{"<image path relative to the root>": {"width": W, "height": H}}`), then the image's
own header (Pillow's lazy `Image.open` reads the header only).
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any

import orjson

from ...errors import ConversionError
from ...issues import Issue, Location, issue
from . import _codes as C
from ._layout import strip_ext

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

SIZES_FILE = "image_sizes.json"


class Sizes:
    """Known image sizes by root-relative path (`stems()` lets a label file find its image's
    extension, which YOLO does not record)."""

    def __init__(self) -> None:
        self.by_path: dict[str, tuple[int, int]] = {}
        self.file: str | None = None

    def stems(self, prefix: str) -> list[tuple[str, str]]:
        """(path without extension, path) of the known images under `prefix`."""
        return [(strip_ext(p), p) for p in self.by_path if p.startswith(prefix)]

    def load(self, fs: AbstractFileSystem, path: str, display: str, rel_to: str,
             root: str, issues: list[Issue]) -> None:
        """Read a sizes file; keys are relative to `rel_to` (the folder it sits in for the
        default file, the root for a named one) and stored relative to `root`."""
        try:
            with fs.open(path, "rb") as f:
                data: Any = orjson.loads(f.read())
        except FileNotFoundError:
            raise ConversionError(f"no sizes file at {display}",
                                  hint="name an existing JSON file with -o sizes=FILE") from None
        except orjson.JSONDecodeError as err:
            raise ConversionError(
                f"{display} is not JSON: {err.msg}",
                hint='a sizes file is {"images/a.jpg": {"width": 640, "height": 480}, ...}',
                location=Location(file=display, line=err.lineno),
            ) from None
        if not isinstance(data, dict):
            raise ConversionError(
                f"{display} holds a JSON {type(data).__name__}, not an object",
                hint='a sizes file is {"images/a.jpg": {"width": 640, "height": 480}, ...}',
                location=Location(file=display),
            )
        self.file = display
        prefix = posixpath.relpath(rel_to, root) if rel_to != root else ""
        for key, value in data.items():
            w = value.get("width") if isinstance(value, dict) else None
            h = value.get("height") if isinstance(value, dict) else None
            # a bool is an int to Python, not a size (`"width": true`)
            if not (type(w) is int and type(h) is int and 0 < w < 2**31 and 0 < h < 2**31):
                issues.append(issue(C.SIZES_INVALID, f"size of {key!r} is {value!r}",
                                    file=display, path=f"$[{orjson.dumps(key).decode()}]",
                                    hint='write {"width": W, "height": H} with positive '
                                         "integers"))
                continue
            rel = posixpath.normpath(posixpath.join(prefix, key)) if prefix else key.lstrip("./")
            self.by_path[rel] = (w, h)

    def get(self, rel: str) -> tuple[int, int] | None:
        return self.by_path.get(rel)


def header_size(fs: AbstractFileSystem, path: str) -> tuple[int, int] | None:
    """(width, height) from the image's header, or None if it cannot be read as an image.

    An EXIF orientation that turns the image (5-8) swaps width and height, as Ultralytics'
    `exif_size` does: its loader (OpenCV) shows the image turned, and labels are drawn on that."""
    from PIL import Image, UnidentifiedImageError

    try:
        with fs.open(path, "rb") as f, Image.open(f) as im:
            width, height = im.size
            orientation = im.getexif().get(0x0112, 1)
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return int(width), int(height)
