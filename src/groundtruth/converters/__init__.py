"""The converter registry: built-in formats and third-party ones from entry points.

Built-ins are listed by import path and imported on first use, so `import groundtruth` stays
fast. Third parties add a format without touching this package:

    [project.entry-points."groundtruth.converters"]
    myformat = "mypkg.converter:MyFormatConverter"   # a class or an instance

Entry points are loaded once, on the first lookup.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from ..errors import UnknownFormatError
from ._base import ConversionReport, Converter

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "ConversionReport",
    "Converter",
    "available",
    "detect_format",
    "get",
    "register",
]

ENTRY_POINT_GROUP = "groundtruth.converters"

_BUILTINS: dict[str, str] = {
    # name -> "module:attribute" (a Converter class); imported on first use.
    "groundtruth": "groundtruth.converters.native:NativeConverter",
    "coco": "groundtruth.converters.coco:CocoConverter",
    "conll": "groundtruth.converters.conll:ConllConverter",
    "conllu": "groundtruth.converters.conllu:ConlluConverter",
    "jsonl": "groundtruth.converters.jsonl:JsonlConverter",
    "prodigy": "groundtruth.converters.prodigy:ProdigyConverter",
    "doccano": "groundtruth.converters.doccano:DoccanoConverter",
    "labelstudio": "groundtruth.converters.labelstudio:LabelStudioConverter",
    "preference": "groundtruth.converters.preference:PreferenceConverter",
    "voc": "groundtruth.converters.voc:VocConverter",
    "cvat": "groundtruth.converters.cvat:CvatConverter",
    "yolo": "groundtruth.converters.yolo:YoloConverter",
}

_registry: dict[str, Converter] = {}
_origins: dict[str, str] = {}
_discovered = False


def register(converter: Converter | type[Converter], *, origin: str = "code") -> None:
    """Add a converter (class or instance). Two converters with one name are an error."""
    instance = converter() if isinstance(converter, type) else converter
    if not isinstance(instance, Converter):
        raise TypeError(f"{converter!r} does not implement the Converter protocol")
    name = instance.name
    if name in _registry and _registry[name].__class__ is not instance.__class__:
        raise ValueError(
            f"two converters are named {name!r}: one from {_origins[name]}, one from {origin}"
        )
    _registry[name] = instance
    _origins[name] = origin


def _load(target: str) -> object:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    for name, target in _BUILTINS.items():
        if name not in _registry:
            register(_load(target), origin=f"groundtruth ({target})")  # type: ignore[arg-type]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        register(ep.load(), origin=f"entry point {ep.name} = {ep.value}")


def available() -> dict[str, Converter]:
    """Every registered converter, by name."""
    _discover()
    return dict(sorted(_registry.items()))


def get(name: str) -> Converter:
    """The converter called `name`; `UnknownFormatError` lists the known ones otherwise."""
    _discover()
    try:
        return _registry[name]
    except KeyError:
        known = ", ".join(sorted(_registry))
        raise UnknownFormatError(
            f"unknown format {name!r}", hint=f"formats available: {known}"
        ) from None


def detect_format(path: str, *, fs: AbstractFileSystem | None = None) -> str:
    """Guess the format of `path` from its name and first bytes.

    Raises `UnknownFormatError` when no converter claims it, or when several claim it equally,
    naming the candidates so the user can pass `--from`.
    """
    from ..io._fs import read_head, resolve

    _discover()
    head = read_head(path, fs=fs)
    scores = {name: conv.detect(head, path) for name, conv in _registry.items()}
    if not head:
        # A folder (or an empty file): converters of folder formats may look inside.
        filesystem, folder = resolve(path, fs=fs)
        if filesystem.isdir(folder):
            for name, conv in _registry.items():
                look = getattr(conv, "detect_folder", None)
                if look is not None:
                    scores[name] = max(scores[name], float(look(filesystem, folder)))
    ranked = sorted(((s, n) for n, s in scores.items() if s > 0), reverse=True)
    if not ranked:
        raise UnknownFormatError(
            f"cannot tell the format of {path}",
            hint=f"pass --from with one of: {', '.join(sorted(_registry))}",
        )
    best = ranked[0][0]
    tied = sorted(n for s, n in ranked if s == best)
    if len(tied) > 1:
        raise UnknownFormatError(
            f"{path} could be any of: {', '.join(tied)}",
            hint="pass --from to choose one",
        )
    return ranked[0][1]
