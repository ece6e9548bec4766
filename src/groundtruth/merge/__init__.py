"""`groundtruth.merge`: three-way merge of two lines of work on one base version.

    import groundtruth as gt
    result = gt.merge.merge("v1/", "team-a/", "team-b/")
    result.conflicts          # what both sides changed differently
    result.dataset            # the merged dataset (disputes kept, or resolved by `prefer`)
    print(result.render("markdown"))

See `_three_way` for the rules.
"""

from __future__ import annotations

import os
from typing import Any

from ..dataset import Dataset
from ..lineage import make_lineage, parent_of
from ..models import ParentRef
from ._result import MERGE_FORMAT_VERSION, MergeResult
from ._three_way import MERGE_EXTENSION, SIDES, Conflict, Side, three_way

RENDER_FORMATS = ("text", "json", "markdown")

__all__ = [
    "MERGE_EXTENSION",
    "MERGE_FORMAT_VERSION",
    "RENDER_FORMATS",
    "SIDES",
    "Conflict",
    "MergeResult",
    "Side",
    "merge",
]


def _load(obj: Dataset | str | os.PathLike[str], format: str | None,
          storage_options: dict[str, Any] | None) -> Dataset:
    if isinstance(obj, Dataset):
        return obj
    from ..api import load

    return load(obj, format=format, storage_options=storage_options)


def merge(
    base: Dataset | str | os.PathLike[str],
    ours: Dataset | str | os.PathLike[str],
    theirs: Dataset | str | os.PathLike[str],
    *,
    prefer: Side | None = None,
    version: str | None = None,
    format: str | None = None,
    match_by: str = "auto",
    message: str | None = None,
    storage_options: dict[str, Any] | None = None,
) -> MergeResult:
    """Merge `ours` and `theirs`, two versions derived from `base`.

    Args:
        base, ours, theirs: `Dataset` objects or anything `groundtruth.load` reads.
        prefer: resolve every conflict for this side (`ours` or `theirs`); without it
            conflicts are kept as disputes in the merged dataset.
        version: version label of the merged dataset.
        format: format of the three inputs when not native (detected when omitted).
        match_by: how each side is matched to the base (`auto`, `id`, `content`; see `diff`).
        message: a note for the merged version's lineage.

    The merged dataset's `lineage` (written by `save`) names ours and theirs as parents and the
    base as `merge-base`.
    """
    if prefer not in (None, *SIDES):
        raise ValueError(f"prefer must be 'ours', 'theirs' or None, not {prefer!r}")
    sides = [_load(x, format, storage_options) for x in (base, ours, theirs)]
    outcome = three_way(*sides, prefer=prefer, version=version, match_by=match_by)
    result = MergeResult.from_outcome(outcome, prefer)
    refs = []
    for role, info, ds in (("parent", result.sides["ours"], sides[1]),
                           ("parent", result.sides["theirs"], sides[2]),
                           ("merge-base", result.sides["base"], sides[0])):
        ref = parent_of(ds, role=role)
        refs.append(ParentRef(**{
            **(ref.model_dump(exclude_none=True) if ref else {}),
            "fingerprint": info["fingerprint"], "name": info["name"],
            "version": info["version"], "role": role}))
    result.dataset.lineage = make_lineage(
        "merge", list(refs), options={"prefer": prefer, "match_by": match_by},
        message=message)
    return result
