"""Core benchmarks (issue 2): save and load in both encodings, beside the raw floors.

Targets: Parquet load into Arrow within 1.2x of `pyarrow.parquet.read_table` of the same files;
JSONL streaming read within 2x of the bare orjson parse; streaming memory flat as the dataset
grows 10x.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))


def measure(task: str, *args: object) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": os.path.join(HERE, "..", "src")}
    out = subprocess.run([sys.executable, os.path.join(HERE, "_measure.py"), task,
                          *map(str, args)], capture_output=True, text=True, env=env, check=False)
    if out.returncode:
        raise RuntimeError(f"{task} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def dataset(workdir: str, encoding: str, n: int) -> tuple[str, dict[str, float]]:
    path = os.path.join(workdir, f"core-{encoding}-{n}")
    m = measure("generate", path, encoding, n, max(1, n // 10))
    return path, m


def run(annotations: int, workdir: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    n = annotations

    def row(name: str, m: dict[str, float], anchor: dict[str, float] | None = None,
            target: str = "") -> None:
        rows.append({
            "benchmark": name, "seconds": m["seconds"], "peak_mb": m["peak_mb"],
            "vs_anchor": (m["seconds"] / anchor["seconds"]) if anchor else None,
            "target": target,
        })

    pq_path, gen = dataset(workdir, "parquet", n)
    row(f"generate + save parquet ({n:,} annotations)", gen)
    js_path, gen = dataset(workdir, "jsonl", n)
    row(f"generate + save jsonl ({n:,} annotations)", gen)

    raw = measure("raw-parquet", pq_path)
    row("floor: pyarrow.parquet.read_table", raw)
    row("gt.read_table (parquet -> Arrow)", measure("gt-parquet-table", pq_path), raw, "<= 1.2x")
    raw = measure("raw-jsonl", js_path)
    row("floor: orjson parse of every line", raw)
    row("gt.iter_batches (jsonl -> Arrow, streaming)", measure("gt-jsonl-batches", js_path), raw,
        "<= 2x")
    row("gt.iter_records (jsonl -> validated models)", measure("gt-records", js_path), raw)
    row("gt.iter_records (parquet -> validated models)", measure("gt-records", pq_path))
    row("fingerprint check (parquet, streaming)", measure("gt-fingerprint", pq_path))

    small = max(1000, n // 10)
    sp, _ = dataset(workdir, "parquet", small)
    a = measure("gt-records", sp)
    b = measure("gt-records", pq_path)
    rows.append({"benchmark": f"streaming memory {small:,} -> {n:,} annotations",
                 "seconds": None, "peak_mb": b["peak_mb"],
                 "vs_anchor": b["peak_mb"] / a["peak_mb"], "target": "flat (~1x)"})
    return rows
