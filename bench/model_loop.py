"""Model-in-the-loop benchmarks (issue 20).

Targets: `gt evaluate` (bbox) on a COCO train2017-shaped ground truth with as many detections
as annotations <= 0.5x pycocotools COCOeval (`evaluate()+accumulate()`), whole process, and
<= 2 GB; confident learning on N classification rows <= 2x cleanlab's `find_label_issues`.

    python bench/model_loop.py                    # 860,001 annotations (full train2017 shape)
    python bench/model_loop.py --annotations 100000
    (or through bench/run.py: run(annotations, workdir) -> rows)

Each row runs in a fresh process (this file with --task), so its peak memory is its own. The
detections are the ground-truth boxes moved and resized a little (0-2 per object, 80% with
the right class, scores in steps of 0.001 so ties between images occur).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ANNOTATIONS_FULL = 860_001


def _results(gt_path: str, out: str) -> int:
    import numpy as np
    import orjson

    data = orjson.loads(Path(gt_path).read_bytes())
    rng = np.random.default_rng(0)
    cats = [c["id"] for c in data["categories"]]
    res = []
    for a in data["annotations"]:
        x, y, w, h = a["bbox"]
        for _ in range(int(rng.integers(0, 3))):
            res.append({  # noqa: PERF401
                "image_id": a["image_id"],
                "category_id": a["category_id"] if rng.random() < 0.8 else int(rng.choice(cats)),
                "bbox": [round(x + float(rng.normal(0, w * 0.1 + 1)), 2),
                         round(y + float(rng.normal(0, h * 0.1 + 1)), 2),
                         round(w * float(rng.uniform(0.7, 1.3)), 2),
                         round(h * float(rng.uniform(0.7, 1.3)), 2)],
                "score": round(float(rng.random()), 3),
            })  # fmt: skip
    Path(out).write_bytes(orjson.dumps(res))
    return len(res)


def _probs(n: int) -> tuple[Any, Any]:
    import numpy as np

    k = 10
    rng = np.random.default_rng(0)
    true = rng.integers(0, k, n)
    logits = rng.normal(0, 1, (n, k))
    logits[np.arange(n), true] += 2
    p = np.exp(logits)
    p /= p.sum(1, keepdims=True)
    labels = np.where(rng.random(n) < 0.1, rng.integers(0, k, n), true)
    return labels, p


def _task(name: str, args: list[str]) -> dict[str, float]:
    import contextlib
    import io
    import warnings

    value = 0.0
    t0, c0 = time.perf_counter(), time.process_time()
    if name == "pycocotools":
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval

        with contextlib.redirect_stdout(io.StringIO()):
            c = COCO(args[0])
            e = COCOeval(c, c.loadRes(args[1]), "bbox")
            e.evaluate()
            e.accumulate()
            e.summarize()
        value = float(e.stats[0])
    elif name == "gt-evaluate":
        import groundtruth as gt

        value = float(gt.evaluate(args[0], args[1], tasks=["bbox"]).coco["bbox"].stats[0])
    elif name in ("cleanlab", "gt-find-label-issues"):
        from cleanlab.filter import find_label_issues as cl

        from groundtruth.label_errors import find_label_issues

        labels, p = _probs(int(args[0]))  # imports and data before the clock: the core alone
        t0, c0 = time.perf_counter(), time.process_time()
        if name == "cleanlab":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = cl(labels, p, return_indices_ranked_by="self_confidence", n_jobs=1)
        else:
            out = find_label_issues(labels, p)
        value = float(out[:1000].sum() + len(out))  # same issues, same order: same value
    else:
        raise SystemExit(f"unknown task {name}")
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "value": value}  # fmt: skip


def measure(name: str, *args: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--task", name, *args],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if out.returncode:
        raise RuntimeError(f"{name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(annotations: int = ANNOTATIONS_FULL, workdir: str | None = None) -> list[dict[str, Any]]:
    """Rows {benchmark, seconds, peak_mb, vs_anchor, target} for bench/run.py."""
    sys.path.insert(0, str(HERE))
    from coco_gen import generate

    base = Path(workdir or tempfile.mkdtemp(prefix="gt-bench-loop-"))
    base.mkdir(parents=True, exist_ok=True)
    gt_path = str(base / f"loop_instances_{annotations}.json")
    res_path = str(base / f"loop_detections_{annotations}.json")
    if not os.path.exists(gt_path):
        generate(gt_path, scale=annotations / ANNOTATIONS_FULL)
    n_det = _results(gt_path, res_path)
    rows: list[dict[str, Any]] = []

    def row(name: str, m: dict[str, float], anchor: dict[str, float] | None = None,
            target: str = "") -> None:  # fmt: skip
        rows.append({"benchmark": name, "seconds": m["seconds"], "peak_mb": m["peak_mb"],
                     "vs_anchor": m["seconds"] / anchor["seconds"] if anchor else None,
                     "target": target, "cpu_seconds": m["cpu_seconds"]})  # fmt: skip

    anchor = measure("pycocotools", gt_path, res_path)
    row(f"anchor: pycocotools COCOeval bbox, whole process ({annotations:,} gt, {n_det:,} dt)",
        anchor)  # fmt: skip
    ours = measure("gt-evaluate", gt_path, res_path)
    if abs(ours["value"] - anchor["value"]) > 1e-9:
        raise RuntimeError(f"AP differs: {ours['value']} vs {anchor['value']}")
    row("gt evaluate bbox, whole process (read both files + evaluate)", ours, anchor,
        "<= 0.5x, <= 2 GB")  # fmt: skip
    n = max(annotations, 1000)
    cl = measure("cleanlab", str(n))
    row(f"anchor: cleanlab find_label_issues ({n:,} rows x 10 classes, n_jobs=1)", cl)
    mine = measure("gt-find-label-issues", str(n))
    if mine["value"] != cl["value"]:
        raise RuntimeError("confident learning found other issues than cleanlab")
    row("gt confident learning (same issues, same order)", mine, cl, "<= 2x")
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--annotations", type=int, default=ANNOTATIONS_FULL)
    p.add_argument("--workdir", default=None)
    p.add_argument("--task", default=None, help=argparse.SUPPRESS)
    args, rest = p.parse_known_args()
    if args.task:
        print(json.dumps(_task(args.task, rest)))
        return
    print("| benchmark | seconds | CPU s | peak MB | vs anchor | target |")
    print("|---|---:|---:|---:|---:|---|")
    for r in run(args.annotations, args.workdir):
        ratio = "" if r["vs_anchor"] is None else f"{r['vs_anchor']:.2f}"
        print(f"| {r['benchmark']} | {r['seconds']:.2f} | {r['cpu_seconds']:.2f} | "
              f"{r['peak_mb']:.0f} | {ratio} | {r['target']} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
