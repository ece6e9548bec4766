"""Validation benchmarks (issue 3): `validate` with every layer on, beside the raw floors.

Targets, on the 1M-annotation bench dataset: Parquet validation within 3x of a bare
`pyarrow.parquet.read_table` of the same files; JSONL validation within 3x of the bare orjson
parse of every line. Each row runs in its own process, so peak memory is that task's alone.

    python bench/run.py --only validate --annotations 1000000
    python bench/validate.py --annotations 100000          # this suite alone
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))


def _generate(path: str, encoding: str, n: str, items: str) -> None:
    """The core bench dataset, with a manifest that declares its guideline and splits, so the
    data is valid and the benchmark measures checking, not the reporting of a million errors."""
    sys.path.insert(0, HERE)
    from generate import manifest, records

    from groundtruth.io import DatasetWriter
    from groundtruth.models import Guideline, Split

    m = manifest().model_copy(update={
        "guidelines": [Guideline(id="guide", version="1")],
        "splits": [Split(name="train"), Split(name="val")],
    })
    with DatasetWriter(path, encoding=encoding, overwrite=True) as w:  # type: ignore[arg-type]
        w.write_all(records(int(n), int(items)))
        w.close(m)


def _raw_parquet(path: str) -> None:
    import glob

    import pyarrow.parquet as pq

    for kind in ("items", "annotations"):
        pq.read_table(sorted(glob.glob(f"{path}/{kind}/*.parquet")))


def _raw_jsonl(path: str) -> None:
    import orjson

    for kind in ("items", "annotations"):
        with open(f"{path}/{kind}.jsonl", "rb") as f:
            for line in f:
                orjson.loads(line)


def _validate(path: str) -> None:
    import groundtruth as gt

    report = gt.validate(path)
    if not report.ok:
        raise SystemExit(f"the bench dataset should be valid:\n{report}")


def _generate_coco(path: str, scale: str) -> None:
    sys.path.insert(0, HERE)
    from coco_gen import generate

    generate(path, float(scale))


def _pycocotools(path: str) -> None:
    import contextlib
    import io

    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        COCO(path)


def _validate_coco(path: str) -> None:
    import groundtruth as gt

    # (the generator's clipping leaves a few zero-size boxes: validate reports them, rightly)
    gt.validate(path, format="coco")


TASKS = {"generate": _generate, "raw-parquet": _raw_parquet, "raw-jsonl": _raw_jsonl,
         "validate": _validate, "generate-coco": _generate_coco, "pycocotools": _pycocotools,
         "validate-coco": _validate_coco}


def measure(task: str, *args: object) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": os.path.join(HERE, "..", "src")}
    out = subprocess.run([sys.executable, __file__, "--task", task, *map(str, args)],
                         capture_output=True, text=True, env=env, check=False)
    if out.returncode:
        raise RuntimeError(f"{task} failed:\n{out.stderr}{out.stdout}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(annotations: int, workdir: str) -> list[dict[str, Any]]:
    """Rows {benchmark, seconds, peak_mb, vs_anchor, target} for `bench/run.py`."""
    rows: list[dict[str, Any]] = []

    def row(name: str, m: dict[str, float], anchor: dict[str, float] | None = None,
            target: str = "") -> None:
        rows.append({"benchmark": name, "seconds": m["seconds"], "peak_mb": m["peak_mb"],
                     "vs_anchor": m["seconds"] / anchor["seconds"] if anchor else None,
                     "target": target})

    n = annotations
    for encoding, floor, floor_name in (
        ("parquet", "raw-parquet", "floor: pyarrow.parquet.read_table (items + annotations)"),
        ("jsonl", "raw-jsonl", "floor: orjson parse of every line (items + annotations)"),
    ):
        path = os.path.join(workdir, f"validate-{encoding}-{n}")
        if not os.path.exists(os.path.join(path, "groundtruth.json")):
            measure("generate", path, encoding, n, max(1, n // 10))
        raw = measure(floor, path)
        row(floor_name, raw)
        row(f"gt.validate ({encoding}, {n:,} annotations, all layers)", measure("validate", path),
            raw, "<= 3x")
    # A COCO delivery: train2017's shape, scaled to the same number of annotations (max 1.0)
    scale = min(1.0, n / 860_001)
    coco = os.path.join(workdir, f"validate-coco-{scale:.3f}.json")
    if not os.path.exists(coco):
        measure("generate-coco", coco, scale)
    anchor = measure("pycocotools", coco)
    row(f"pycocotools COCO() load (train2017 x {scale:.2f})", anchor)
    row("gt validate --from coco (all layers)", measure("validate-coco", coco), anchor,
        "< 1x pycocotools")
    return rows


def _main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", nargs="+", help=argparse.SUPPRESS)
    p.add_argument("--annotations", type=int, default=100_000)
    p.add_argument("--workdir", default=os.path.join(HERE, "_data"))
    a = p.parse_args()
    if a.task:
        task, *args = a.task
        import orjson  # noqa: F401  # imports are paid before the clock starts
        import pyarrow as pa
        import pyarrow.parquet

        import groundtruth  # noqa: F401

        pa.array([0])  # pyarrow imports pandas on its first conversion: a one-off ~1 s, not work
        t0 = time.perf_counter()
        TASKS[task](*args)
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"seconds": seconds, "peak_mb": peak}))
        return
    os.makedirs(a.workdir, exist_ok=True)
    print("| benchmark | seconds | peak MB | vs anchor | target |")
    print("|---|---:|---:|---:|---|")
    for r in run(a.annotations, a.workdir):
        ratio = "" if r["vs_anchor"] is None else f"{r['vs_anchor']:.2f}"
        print(f"| {r['benchmark']} | {r['seconds']:.2f} | {r['peak_mb']:.0f} | {ratio} | "
              f"{r['target']} |", flush=True)


if __name__ == "__main__":
    _main()
