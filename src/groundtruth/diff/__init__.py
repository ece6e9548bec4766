"""`groundtruth.diff`: what changed between two versions of a labeled dataset.

    import groundtruth as gt
    d = gt.diff("delivery-v1/", "delivery-v2/")
    d.summary["annotations"]        # {"added": 12, "removed": 3, "changed": 40, ...}
    print(d.render("markdown"))     # for a pull-request comment
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..dataset import Dataset
from ..errors import GroundtruthError
from ..io import default_verify, reading
from ._engine import DUPLICATE_ID, IDS_RENUMBERED, KIND_CHANGED, TAXONOMY_CHANGED, run
from ._gate import Gate, GateResult, evaluate_gates, parse_gate
from ._inert import md, md_code, plain
from ._options import (
    ANNOTATION_CHANGE_KINDS,
    ITEM_CHANGE_KINDS,
    DiffOptions,
    ItemKey,
    MatchBy,
)
from ._publish import check_target, publish
from ._result import DIFF_FORMAT_VERSION, DatasetDiff

if TYPE_CHECKING:
    from ..engine import Engine

RENDER_FORMATS = ("text", "json", "markdown", "html")


def diff(
    old: Dataset | str | os.PathLike[str],
    new: Dataset | str | os.PathLike[str],
    *,
    format: str | None = None,
    old_format: str | None = None,
    new_format: str | None = None,
    match_by: MatchBy = "auto",
    item_key: ItemKey = "id",
    iou: float = 0.5,
    oks: float = 0.5,
    overlap: float = 0.5,
    text_similarity: float = 0.5,
    tolerance: float = 1e-6,
    ignore: tuple[str, ...] | list[str] = (),
    label_map: dict[str, str] | None = None,
    max_changes: int | None = None,
    storage_options: dict[str, Any] | None = None,
    engine: str | Engine | None = None,
    workers: int | None = None,
    verify: bool | None = None,
    **read_options: Any,
) -> DatasetDiff:
    """Compare two versions of a dataset: items and annotations added, removed and changed.

    Args:
        old, new: `Dataset` objects, or anything `groundtruth.load` reads (a native dataset
            folder, .zip or URL, or a file in a registered format).
        format: format of both paths (`coco`, ...); `old_format`/`new_format` set one side.
            Detected when omitted.
        match_by: `id`, `content` or `auto` (ids when they are stable, see `DiffOptions`).
        item_key: match items by `id`, `sha256`, `uri` or file `name`.
        iou, oks, overlap, text_similarity: least similarity to pair annotations by content.
        tolerance: coordinate noise that is not a geometry change.
        ignore: fields or kinds of change to leave out (`created`, `confidence`, `geometry`,
            `attributes.KEY`, `item.metadata`...).
        label_map: old label -> new label, applied to the old side before matching.
        max_changes: keep at most this many change records per list (counts are complete).
        storage_options: fsspec options for URLs.
        engine: None (the default) diffs in this process; `local` or `dask` (or an engine
            object, see `groundtruth.engine`) shuffles both versions by item and diffs the
            buckets in parallel, with exactly the same result. Engines take native datasets
            (folders or URLs) and `item_key="id"` only.
        workers: workers of the engine's local cluster (`dask`; default 2).
        verify: native datasets: check each part's hash and record count while reading, and
            each side's fingerprint against its manifest (`IntegrityError`); default True.
            The fingerprints in the result are always computed from the records.
        **read_options: reading options of the source format.

    Native datasets on both sides are streamed item by item (memory holds one item's
    annotations and the change records); other inputs are read whole. Datasets in older spec
    versions are migrated when read.
    """
    options = DiffOptions(
        match_by=match_by, item_key=item_key, iou=iou, oks=oks, overlap=overlap,
        text_similarity=text_similarity, tolerance=tolerance, ignore=tuple(ignore),
        label_map=dict(label_map or {}), max_changes=max_changes,
    )
    with reading(verify=default_verify() if verify is None else verify):
        if engine is not None:
            from ..engine.diff import diff as diff_on_engine

            return diff_on_engine(old, new, options, engine=engine, workers=workers,
                                  old_format=old_format or format,
                                  new_format=new_format or format,
                                  storage_options=storage_options, read_options=read_options)
        if workers is not None:
            raise GroundtruthError("workers is an option of an engine, and no engine was given",
                                   hint="pass engine='local' or engine='dask' as well")
        return run(old, new, options, old_format=old_format or format,
                   new_format=new_format or format, storage_options=storage_options,
                   read_options=read_options)


def render(result: DatasetDiff, format: str = "text", **options: Any) -> str:
    """Render a diff: `text` (terminal), `json`, `markdown` (a PR comment) or `html` (a page)."""
    if format == "text":
        from ._render_text import render_text

        return render_text(result, **options)
    if format == "json":
        from ._render_json import render_json

        return render_json(result)
    if format == "markdown":
        from ._render_markdown import render_markdown

        return render_markdown(result, **options)
    if format == "html":
        from ._render_html import render_html

        return render_html(result, **options)
    raise ValueError(f"unknown diff format {format!r}: use one of {', '.join(RENDER_FORMATS)}")


__all__ = [
    "ANNOTATION_CHANGE_KINDS",
    "DIFF_FORMAT_VERSION",
    "DUPLICATE_ID",
    "IDS_RENUMBERED",
    "ITEM_CHANGE_KINDS",
    "KIND_CHANGED",
    "RENDER_FORMATS",
    "TAXONOMY_CHANGED",
    "DatasetDiff",
    "DiffOptions",
    "Gate",
    "GateResult",
    "check_target",
    "diff",
    "evaluate_gates",
    "md",
    "md_code",
    "parse_gate",
    "plain",
    "publish",
    "render",
]
