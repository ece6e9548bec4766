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

ParquetLoader = Callable[[Any], pa.Table]


# ---------------------------------------------------------------------------------------------
# single process (pyarrow)


def _concat(tables: Sequence[pa.Table]) -> pa.Table:
    # parts read from Parquet say `id: string not null`, parts parsed from JSONL do not
    return pa.concat_tables(tables, promote_options="permissive")


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
    import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # typed with pandas-stubs
    from dask.delayed import delayed

    def _load(task: Any) -> pd.DataFrame:
        frame: pd.DataFrame = loader(task).select(columns).to_pandas()
        return frame

    meta = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    # pure: the same part gives the same key, so frames built twice share their reads
    return dd.from_delayed([delayed(_load, pure=True)(t) for t in tasks], meta=meta,
                           verify_meta=False)


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
