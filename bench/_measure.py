"""Run one measured task in this (fresh) process; print {"seconds", "peak_mb"} as JSON.

Each benchmark row runs in its own process so peak memory is that task's alone.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable


def _raw_parquet(path: str) -> None:
    import glob

    import pyarrow.parquet as pq

    pq.read_table(sorted(glob.glob(f"{path}/annotations/*.parquet")))


def _gt_parquet_table(path: str) -> None:
    import groundtruth as gt

    gt.read_table(path, "annotations")


def _raw_jsonl(path: str) -> None:
    import orjson

    with open(f"{path}/annotations.jsonl", "rb") as f:
        for line in f:
            orjson.loads(line)


def _gt_jsonl_batches(path: str) -> None:
    import groundtruth as gt

    for _ in gt.iter_batches(path, "annotations"):
        pass


def _gt_records(path: str) -> None:
    import groundtruth as gt

    for _ in gt.iter_records(path, kinds=("annotations",)):
        pass


def _gt_fingerprint(path: str) -> None:
    from groundtruth.fingerprint import Fingerprinter
    from groundtruth.io import open_native
    from groundtruth.io._native import iter_native_records

    src = open_native(path)
    fp = Fingerprinter()
    for r in iter_native_records(src):
        fp.add(r)
    assert fp.hexdigest(src.manifest) == src.manifest.fingerprint


def _generate(path: str, encoding: str, n: str, items: str) -> None:
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    from generate import generate

    generate(path, int(n), int(items), encoding)


TASKS: dict[str, Callable[..., None]] = {
    "raw-parquet": _raw_parquet,
    "gt-parquet-table": _gt_parquet_table,
    "raw-jsonl": _raw_jsonl,
    "gt-jsonl-batches": _gt_jsonl_batches,
    "gt-records": _gt_records,
    "gt-fingerprint": _gt_fingerprint,
    "generate": _generate,
}

if __name__ == "__main__":
    task, *args = sys.argv[1:]
    # Imports are paid before the clock starts: rows compare work, not interpreter start-up.
    import orjson  # noqa: F401
    import pyarrow as pa
    import pyarrow.parquet

    import groundtruth  # noqa: F401

    pa.array([0])  # pyarrow imports pandas on its first conversion: a one-off ~1 s, not work

    t0 = time.perf_counter()
    TASKS[task](*args)
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))
