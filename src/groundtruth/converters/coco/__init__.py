"""COCO JSON in and out: instances, keypoints, captions, results and panoptic files.

See converters/coco/MAPPING.md for the mapping field by field and docs/coco.md for use.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from ...errors import ConversionError, DatasetExistsError
from ...io._fs import atomic_write, resolve
from ...issues import Location
from .._base import ConversionReport
from .._mismatch import WrongFormatError, check_found, looks_like
from .._options import Option, OptionSpec, check_options
from . import _codes
from ._read import read_coco
from ._stream import StreamResult, coco_to_native, native_to_coco
from ._write import build, category_map

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from ...dataset import Dataset

__all__ = [
    "CocoConverter",
    "StreamResult",
    "category_map",
    "category_policy",
    "coco_to_native",
    "native_to_coco",
    "parse_coco",
    "read_coco",
]

_READ_OPTIONS: OptionSpec = {
    "name": Option(str, help="the dataset's name", default="the file name without extension"),
    "label_set": Option(str, help="name of the label set the categories become", default="categories"),
    "annotator": Option(str, help="results files: id of the model that made the predictions"),
    "embed": Option(bool, help="restore the groundtruth provenance an earlier export embedded", default=True),
}
_WRITE_OPTIONS: OptionSpec = {
    "category_ids": Option((str, dict), help="category ids: preserve, 1-based, 0-based, a "
                           "{name: id} map or the path of a JSON map", default="preserve"),
    "embed": Option(bool, help="keep groundtruth provenance in extra keys", default=False),
    "results": Option(bool, help="write a results array (model predictions with scores), or not", default="as the dataset was read"),
    "label_set": Option(str, help="the label set to write", default="the one read from COCO, else the first"),
}


def parse_coco(data: bytes, file: str | None = None) -> Any:
    """Parse COCO bytes with orjson; `ConversionError` (with line and column) if not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as err:
        raise ConversionError(
            f"not JSON [{_codes.NOT_JSON}]: {err.msg} (line {err.lineno}, column {err.colno})",
            hint="a COCO file is one JSON object (or a JSON array of results)",
            location=Location(file=file, line=err.lineno),
        ) from None


class CocoConverter:
    read_options: ClassVar[OptionSpec] = _READ_OPTIONS
    write_options: ClassVar[OptionSpec] = _WRITE_OPTIONS
    """COCO detection/segmentation/keypoints/captions JSON, results arrays and panoptic JSON."""

    name: ClassVar[str] = "coco"
    description: ClassVar[str] = (
        "COCO JSON: instances, keypoints, captions, panoptic, and results arrays"
    )
    extensions: ClassVar[tuple[str, ...]] = (".json",)

    def detect(self, head: bytes, path: str) -> float:
        if not path.endswith(".json"):
            return 0.0
        text = head.lstrip()
        if text.startswith(b"{") and b'"images"' not in head and b'"data"' in head:
            return 0.3  # `annotations` beside `data` and no `images`: a Label Studio task
        if text.startswith(b"{") and (b'"images"' in head or b'"annotations"' in head):
            return 0.9
        if text.startswith(b"[") and b'"image_id"' in head[:4096]:
            return 0.8
        return 0.0

    def stream_to_native(
        self, path: str, dst: str, *, encoding: str = "parquet", overwrite: bool = False,
        **options: Any,
    ) -> Any:
        """Convert straight to a native dataset in bounded memory (`coco_to_native`); None when
        an option needs the in-memory reader (the caller then loads and saves)."""
        check_options(self.name, options, _READ_OPTIONS)
        if set(options) - {"name", "label_set", "embed"}:
            return None
        from ._stream import coco_to_native

        return coco_to_native(path, dst, encoding=encoding, overwrite=overwrite, **options)

    def read(self, path: str, *, fs: AbstractFileSystem | None = None, **options: Any) -> Dataset:
        """Read a COCO file. Options: `name`, `label_set` (default `categories`), `annotator`
        (id of the model for results files), `embed` (restore embedded provenance, default on).
        """
        check_options(self.name, options, _READ_OPTIONS)
        filesystem, p = resolve(path, fs=fs, storage_options=options.pop("storage_options", None))
        with filesystem.open(p, "rb") as f:
            raw = f.read()
        try:
            data = parse_coco(raw, path)
        except ConversionError as exc:
            other = looks_like(self.name, path, filesystem)
            if other is None:
                raise
            raise WrongFormatError(
                f"no coco records found in {path}; it looks like {other} — try --from {other}",
                hint=f"{exc.message}; `gt formats` lists the formats, and leaving out --from "
                "detects it", location=exc.location) from None
        del raw
        if not isinstance(data, (dict, list)):
            raise ConversionError(
                f"{path} holds a JSON {type(data).__name__} [{_codes.NOT_COCO}]",
                hint="a COCO file is a JSON object with images/annotations/categories, "
                "or a JSON array of results",
                location=Location(file=path),
            )
        stem = posixpath.splitext(posixpath.basename(p))[0]
        ds = read_coco(
            data,
            file=path,
            name=options.get("name") or stem,
            label_set=options.get("label_set") or "categories",
            annotator=options.get("annotator"),
            embed=bool(options.get("embed", True)),
            panoptic_folder=stem,
        )
        check_found(self.name, path, filesystem, items=len(ds.items), issues=ds.issues)
        return ds

    def write(
        self,
        dataset: Dataset,
        path: str,
        *,
        fs: AbstractFileSystem | None = None,
        **options: Any,
    ) -> ConversionReport:
        """Write one COCO JSON file. Options: `category_ids` (`preserve` | `1-based` |
        `0-based` | a {name: id} map | a path to a JSON map), `embed` (keep groundtruth
        provenance in extra keys), `results` (write a results array), `label_set`.
        """
        check_options(self.name, options, _WRITE_OPTIONS, direction="writing")
        filesystem, p = resolve(path, fs=fs, storage_options=options.get("storage_options"))
        if filesystem.exists(p) and not options.get("overwrite"):
            raise DatasetExistsError(
                f"{path} already exists", hint="choose another destination or pass --overwrite"
            )
        policy = category_policy(options.get("category_ids") or "preserve", filesystem)
        doc = build(
            dataset,
            category_ids=policy,
            embed=bool(options.get("embed", False)),
            results=options.get("results"),
            label_set=options.get("label_set"),
        )
        with atomic_write(filesystem, p, overwrite=bool(options.get("overwrite"))) as f:
            doc.write_to(f)
        report = ConversionReport(format=self.name, outputs=[str(path)], issues=doc.out.issues)
        report.details = {
            "kind": doc.kind,
            "category_ids": doc.category_ids,
            "category_id_policy": policy if isinstance(policy, str) else "map",
        }
        renumbered = {k: v for k, v in doc.out.renumbered.items() if v}
        if renumbered:
            report.details["renumbered_ids"] = renumbered
        return report


def category_policy(value: Any, fs: AbstractFileSystem) -> str | dict[str, int]:
    """The `category_ids` write option as a policy name or a {label name: COCO id} map.

    `value` is `preserve`, `1-based`, `0-based`, a map, or the path of a JSON file holding
    one. Anything else is a `ConversionError` that says where and how to fix it.
    """
    example = 'give a JSON object of label name -> integer id, like {"person": 1, "car": 3}'
    if isinstance(value, str) and value in ("preserve", "1-based", "0-based"):
        return value
    source = "category_ids"
    data: Any = value
    if isinstance(value, str):
        if not fs.exists(value) or fs.isdir(value):
            raise ConversionError(
                f"category_ids {value!r} is neither preserve, 1-based, 0-based nor a map file",
                hint=example,
            )
        with fs.open(value, "rb") as f:
            raw = f.read()
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            raise ConversionError(
                f"the category id map is not JSON: {err.msg} (line {err.lineno}, column "
                f"{err.colno})",
                hint=example, location=Location(file=value, line=err.lineno),
            ) from None
        source = value
    if not isinstance(data, dict):
        raise ConversionError(
            f"{source} must be a policy name or a JSON object, not {type(data).__name__}",
            hint=f"use preserve, 1-based or 0-based, or {example}",
        )
    bad = [k for k, v in data.items() if not isinstance(v, int) or isinstance(v, bool)]
    if bad:
        in_file = source != "category_ids"
        raise ConversionError(
            ("the category id map: " if in_file else "category_ids: ")
            + f"the id of {bad[0]!r} is {orjson.dumps(data[bad[0]]).decode()}, not an integer",
            hint=example, location=Location(file=source, path=f"$.{bad[0]}") if in_file else None,
        )
    return {str(k): v for k, v in data.items()}
