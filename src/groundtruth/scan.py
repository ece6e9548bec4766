"""Top-level entry points for reading big native datasets without loading them.

`scan` yields Arrow batches (projected, filtered), `stats` counts from a few columns, and
`fingerprint` recomputes the content fingerprint part by part; each takes `engine=` ("local",
"dask", or an engine object) where the work is per part. See `groundtruth.engine`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .io._fs import PathLike


def scan(url: PathLike, *, kind: str = "annotations", columns: list[str] | None = None,
         filter: Any = None, storage_options: dict[str, Any] | None = None,
         verify: bool | None = None) -> Iterator[Any]:
    """Arrow record batches of `kind`, only `columns`, only rows matching `filter`, e.g.
    `gt.scan("s3://b/ds", columns=["id", "label"], filter=pc.field("label") == "car")`.

    Each part is checked against the manifest (hash, record count) unless `verify=False`,
    which reads only the byte ranges the columns and filter need."""
    from .engine import scan as _scan

    return _scan(url, kind=kind, columns=columns, filter=filter, storage_options=storage_options,
                 verify=verify)


def stats(url: PathLike, *, engine: Any = "local", workers: int | None = None,
          storage_options: dict[str, Any] | None = None, verify: bool | None = None
          ) -> dict[str, Any]:
    """`Dataset.stats()` of a native dataset; with `verify=False` reading only the counted
    columns, by default reading each part whole to check it against the manifest."""
    from .engine import stats as _stats

    return _stats(url, engine=engine, workers=workers, storage_options=storage_options,
                  verify=verify)


def fingerprint(url: PathLike, *, engine: Any = "local", workers: int | None = None,
                storage_options: dict[str, Any] | None = None, verify: bool = True) -> str:
    """`Dataset.fingerprint()` of a native dataset, computed part by part and checked against
    the manifest (see `groundtruth.engine.fingerprint`)."""
    from .engine import fingerprint as _fp

    return _fp(url, engine=engine, workers=workers, storage_options=storage_options,
               verify=verify)
