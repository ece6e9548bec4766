"""The global steps: the checks and joins that need to see every part at once.

They take only a few narrow columns (ids, item ids, per-record digests, labels), so even at
100M records they are shuffles of small rows. Each step has a single-process form (pyarrow, the
reference) and a Dask form (dask.dataframe: a groupby or merge, i.e. a shuffle across workers);
both return the same plain Python result, sorted, so engines can be compared exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ..issues import Issue, define, issue

ParquetLoader = Callable[[Any], pa.Table]


# The same codes (and titles: `define` is idempotent only for identical definitions) as the
# reference layer of `gt validate`, so a distributed run reports what a local one does.
DUPLICATE_ID = define("reference.duplicate-id", "error", "Two records of a kind share an id")
UNKNOWN_ITEM = define("reference.item-missing", "error", "An annotation's item does not exist")


# ---------------------------------------------------------------------------------------------
# results as issues (the same for every engine)


def duplicate_issues(kind: str, duplicates: list[tuple[str, int]]) -> list[Issue]:
    return [issue(DUPLICATE_ID, f"{count} {kind} have the id {rid!r}", record_id=rid,
                  path="$.id", hint="ids must be unique within items and within annotations")
            for rid, count in duplicates]


def unknown_item_issues(dangling: list[tuple[str, str]]) -> list[Issue]:
    return [issue(UNKNOWN_ITEM, f"annotation {aid!r} refers to item {item!r}, which is not in "
                  "the dataset", record_id=aid, path="$.item_id",
                  hint="add the item, or fix the annotation's item_id")
            for aid, item in dangling]


# ---------------------------------------------------------------------------------------------
# single process (pyarrow)


def _concat(tables: Sequence[pa.Table]) -> pa.Table:
    # parts read from Parquet say `id: string not null`, parts parsed from JSONL do not
    return pa.concat_tables(tables, promote_options="permissive")


def duplicate_ids_local(tables: Sequence[pa.Table]) -> list[tuple[str, int]]:
    if not tables:
        return []
    ids = _concat([t.select(["id"]) for t in tables]).column("id")
    counts = pc.value_counts(ids)
    values, n = counts.field("values"), counts.field("counts")
    mask = pc.greater(n, 1)
    return sorted(zip(pc.filter(values, mask).to_pylist(), pc.filter(n, mask).to_pylist(),
                      strict=True))


def unknown_items_local(items: Sequence[pa.Table], annotations: Sequence[pa.Table]
                        ) -> list[tuple[str, str]]:
    if not annotations:
        return []
    anns = _concat([t.select(["id", "item_id"]) for t in annotations])
    known = (_concat([t.select(["id"]) for t in items]).column("id")
             if items else pa.array([], pa.string()))
    missing = anns.filter(pc.invert(pc.is_in(anns.column("item_id"), value_set=known)))
    return sorted(zip(missing.column("id").to_pylist(), missing.column("item_id").to_pylist(),
                      strict=True))


def diff_ids_local(old: pa.Table, new: pa.Table) -> dict[str, list[str]]:
    """`old`/`new`: tables of (id, digest). Ids added, removed, and whose record changed."""
    joined = old.join(new, "id", join_type="full outer", left_suffix="_old",
                      right_suffix="_new")
    return _classify(joined.column("id").to_pylist(), joined.column("digest_old").to_pylist(),
                     joined.column("digest_new").to_pylist())


def votes_local(annotations: Sequence[pa.Table]) -> dict[str, dict[str, int]]:
    """The agreement table: item_id -> {label: how many annotations gave it}, over
    (item_id, label) rows (the items x categories count matrix Fleiss' kappa takes)."""
    if not annotations:
        return {}
    table = _concat([t.select(["item_id", "label"]) for t in annotations])
    table = table.filter(pc.is_valid(table.column("label")))
    counts = table.group_by(["item_id", "label"]).aggregate([([], "count_all")])
    return _votes(counts.column("item_id").to_pylist(), counts.column("label").to_pylist(),
                  counts.column("count_all").to_pylist())


def _votes(items: list[Any], labels: list[Any], counts: list[Any]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for item, label, n in zip(items, labels, counts, strict=True):
        out.setdefault(str(item), {})[str(label)] = int(n)
    return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}


def _classify(ids: list[str], old: list[Any], new: list[Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"added": [], "removed": [], "changed": []}
    for rid, a, b in zip(ids, old, new, strict=True):
        if a is None:
            out["added"].append(rid)
        elif b is None:
            out["removed"].append(rid)
        elif a != b:
            out["changed"].append(rid)
    return {k: sorted(v) for k, v in out.items()}


# ---------------------------------------------------------------------------------------------
# Dask (shuffles on the cluster the engine's client is connected to)


def _frame(loader: Callable[[Any], pa.Table], tasks: Sequence[Any], columns: list[str]) -> Any:
    import dask.dataframe as dd
    import pandas as pd  # type: ignore[import-untyped]
    from dask.delayed import delayed

    def _load(task: Any) -> pd.DataFrame:
        return loader(task).select(columns).to_pandas()

    meta = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    # pure: the same part gives the same key, so frames built twice share their reads
    return dd.from_delayed([delayed(_load, pure=True)(t) for t in tasks], meta=meta,
                           verify_meta=False)


def _duplicates(frame: Any) -> Any:
    # split_out: the counts stay hash-partitioned over the workers (one partition would hold
    # every id of the dataset); only the few duplicates come back.
    sizes = frame.groupby("id").size(split_out=frame.npartitions)
    return sizes[sizes > 1]


def references_dask(loader: ParquetLoader, item_tasks: Sequence[Any],
                    ann_tasks: Sequence[Any]
                    ) -> tuple[list[tuple[str, int]], list[tuple[str, int]], list[tuple[str, str]]]:
    """Duplicate item ids, duplicate annotation ids, annotations whose item is missing: one
    Dask computation, so each part's id columns are read once for all three."""
    from dask.base import compute

    if not item_tasks and not ann_tasks:
        return [], [], []
    items = _frame(loader, item_tasks, ["id"]) if item_tasks else None
    anns = _frame(loader, ann_tasks, ["id", "item_id"]) if ann_tasks else None
    wanted: list[Any] = []
    if items is not None:
        wanted.append(_duplicates(items))
    if anns is not None:
        wanted.append(_duplicates(anns[["id"]]))
        if items is not None:
            known = items.rename(columns={"id": "item_id"}).assign(_known=True)
            joined = anns.merge(known, on="item_id", how="left")
            wanted.append(joined[joined["_known"].isna()][["id", "item_id"]])
        else:
            wanted.append(anns)
    results = list(compute(*wanted))  # type: ignore[no-untyped-call]
    dup_items = results.pop(0) if items is not None else None
    dup_anns, missing = (results[0], results[1]) if anns is not None else (None, None)

    def pairs(series: Any) -> list[tuple[str, int]]:
        return [] if series is None else sorted((str(k), int(v)) for k, v in series.items())

    dangling = [] if missing is None else sorted(
        zip(missing["id"], missing["item_id"], strict=True))
    return pairs(dup_items), pairs(dup_anns), dangling


def diff_ids_dask(loader: ParquetLoader, old_tasks: Sequence[Any],
                  new_tasks: Sequence[Any]) -> dict[str, list[str]]:
    old = _frame(loader, old_tasks, ["id", "digest"])
    new = _frame(loader, new_tasks, ["id", "digest"])
    joined = old.merge(new, on="id", how="outer", suffixes=("_old", "_new")).compute()
    clean = joined.astype(object).where(joined.notna(), None)
    return _classify(list(clean["id"]), list(clean["digest_old"]), list(clean["digest_new"]))


def votes_dask(loader: ParquetLoader, tasks: Sequence[Any]) -> dict[str, dict[str, int]]:
    if not tasks:
        return {}
    frame = _frame(loader, tasks, ["item_id", "label"]).dropna()
    counts = frame.groupby(["item_id", "label"]).size(split_out=frame.npartitions).compute()
    keys = list(counts.index)
    return _votes([k[0] for k in keys], [k[1] for k in keys], list(counts.values))
