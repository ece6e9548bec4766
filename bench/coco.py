"""COCO benchmarks: a train2017-shaped file through orjson, pycocotools, groundtruth, Datumaro.

    python bench/coco.py [scale]          # scale 1.0 = 118,287 images, 860,001 annotations

Every row runs in its own Python process; `seconds` is measured after the imports and
`peak_mb` is that process's peak resident memory. Rows:

- `orjson parse (floor)`: `orjson.loads` of the whole file, nothing else.
- `pycocotools COCO() load` (anchor of the first target): JSON load and index.
- `groundtruth COCO -> native Parquet`: `coco_to_native` (streaming).
  Target: faster than pycocotools' load, with at most half its peak memory.
- `groundtruth COCO -> native -> COCO`: `coco_to_native` then `native_to_coco`.
- `Datumaro import + export (datumaro format)` (anchor of the second target), when Datumaro
  can be run: `DATUMARO_PYTHON` names a Python that has it (default: this one, or
  /tmp/dmvenv/bin/python). Target: COCO -> native -> COCO >= 5x faster.

`run(annotations, workdir)` (used by bench/run.py) returns rows {benchmark, seconds, peak_mb,
vs_anchor, target}; `vs_anchor` is the anchor's seconds divided by the row's (>1: faster).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ANNOTATIONS_FULL = 860_001


# -- tasks (each runs in a fresh process) ------------------------------------------------------
def _task_orjson(src: str) -> None:
    import orjson

    with open(src, "rb") as f:
        orjson.loads(f.read())


def _task_pycocotools(src: str) -> None:
    import contextlib
    import io

    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):
        COCO(src)


def _task_to_native(src: str, dst: str) -> None:
    from groundtruth.converters.coco import coco_to_native

    coco_to_native(src, dst, encoding="parquet")


def _task_round_trip(src: str, dst: str) -> None:
    from groundtruth.converters.coco import coco_to_native, native_to_coco

    coco_to_native(src, dst, encoding="parquet")
    native_to_coco(dst, dst + ".json")


def _task_datumaro(src: str, dst: str) -> None:
    import datumaro as dm

    root = Path(dst) / "in"
    (root / "annotations").mkdir(parents=True)
    (root / "images" / "train").mkdir(parents=True)  # Datumaro insists on the folder
    os.symlink(src, root / "annotations" / "instances_train.json")
    ds = dm.Dataset.import_from(str(root), "coco_instances")
    ds.export(str(Path(dst) / "out"), "datumaro")


TASKS = {
    "orjson": _task_orjson,
    "pycocotools": _task_pycocotools,
    "to-native": _task_to_native,
    "round-trip": _task_round_trip,
    "datumaro": _task_datumaro,
}
_IMPORTS = {
    "orjson": "orjson",
    "pycocotools": "pycocotools.coco",
    "to-native": "groundtruth.converters.coco",
    "round-trip": "groundtruth.converters.coco",
    "datumaro": "datumaro",
}


def _child(task: str, *args: str) -> None:
    import importlib

    importlib.import_module(_IMPORTS[task])  # imports are paid before the clock starts
    t0 = time.perf_counter()
    TASKS[task](*args)
    seconds = time.perf_counter() - t0
    # Worker processes (groundtruth forks up to two) count too: self + largest child.
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
               + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


def _measure(task: str, *args: str, python: str | None = None) -> dict[str, float] | None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    proc = subprocess.run([python or sys.executable, __file__, "--task", task, *args],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        print(f"[{task}] failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    out: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def _datumaro_python() -> str | None:
    for candidate in (os.environ.get("DATUMARO_PYTHON"), sys.executable, "/tmp/dmvenv/bin/python"):
        if not candidate or not os.path.exists(candidate):
            continue
        ok = subprocess.run([candidate, "-c", "import datumaro"], capture_output=True,
                            check=False)
        if ok.returncode == 0:
            return candidate
    return None


def run(annotations: int = 100_000, workdir: str | None = None) -> list[dict[str, Any]]:
    """Generate a file with `annotations` annotations (train2017's image ratio) and measure."""
    sys.path.insert(0, str(HERE))
    from coco_gen import generate

    scale = annotations / ANNOTATIONS_FULL
    base = Path(workdir or tempfile.mkdtemp(prefix="gt-bench-coco-"))
    base.mkdir(parents=True, exist_ok=True)
    src = base / f"coco_{annotations}.json"
    if not src.exists():
        info = generate(src, scale)
        print(f"generated {src}: {info}", file=sys.stderr)
    size_mb = src.stat().st_size / 1e6
    rows: list[dict[str, Any]] = []

    def row(name: str, got: dict[str, float] | None, anchor: dict[str, float] | None,
            target: str) -> None:
        if got is None:
            rows.append({"benchmark": name, "seconds": None, "peak_mb": None,
                         "vs_anchor": None, "target": target + " (not run)"})
            return
        ratio = anchor["seconds"] / got["seconds"] if anchor else None
        rows.append({"benchmark": name, "seconds": got["seconds"], "peak_mb": got["peak_mb"],
                     "vs_anchor": ratio, "target": target})

    def fresh(name: str) -> str:
        path = base / name
        shutil.rmtree(path, ignore_errors=True)
        if Path(str(path) + ".json").exists():
            os.remove(str(path) + ".json")
        return str(path)

    floor = _measure("orjson", str(src))
    coco = _measure("pycocotools", str(src))
    native = _measure("to-native", str(src), fresh("coco-native"))
    back = _measure("round-trip", str(src), fresh("coco-roundtrip"))
    dm_python = _datumaro_python()
    dm = _measure("datumaro", str(src), fresh("coco-datumaro"), python=dm_python) if dm_python else None
    label = f"{annotations:,} annotations, {size_mb:.0f} MB"
    row(f"orjson parse (floor) [{label}]", floor, coco, "reference")
    row("pycocotools COCO() load", coco, coco, "anchor")
    mem = (f"; peak {native['peak_mb'] / coco['peak_mb']:.2f}x of pycocotools (<= 0.5)"
           if native and coco else "")
    row("groundtruth COCO -> native Parquet", native, coco, "> 1.0 vs pycocotools" + mem)
    row("Datumaro import + export", dm, dm, "anchor" if dm else "anchor: Datumaro not installed")
    row("groundtruth COCO -> native -> COCO", back, dm, ">= 5.0 vs Datumaro")
    return rows


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--task":
        _child(sys.argv[2], *sys.argv[3:])
        return
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 0.1
    rows = run(round(ANNOTATIONS_FULL * scale))
    print("| benchmark | seconds | peak MB | vs anchor | target |")
    print("|---|---:|---:|---:|---|")
    for r in rows:
        s = "" if r["seconds"] is None else f"{r['seconds']:.2f}"
        m = "" if r["peak_mb"] is None else f"{r['peak_mb']:.0f}"
        v = "" if r["vs_anchor"] is None else f"{r['vs_anchor']:.2f}"
        print(f"| {r['benchmark']} | {s} | {m} | {v} | {r['target']} |")


if __name__ == "__main__":
    main()
