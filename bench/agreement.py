"""Agreement and consensus benchmarks (issue 8).

Targets: Krippendorff's alpha on 1M labels (sparse: 125k items x 10 annotators, 80% of cells
filled) within 2x of the `krippendorff` package on the same matrix; consensus on 1M
annotations under 10 s.

    python bench/agreement.py                     # 1,000,000 labels
    python bench/agreement.py --annotations 100000
    (or through bench/run.py: run(annotations, workdir) -> rows)

Each row runs in a fresh process (this file with --task), so its peak memory is its own; data
is generated inside that process before the clock starts.
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
ANNOTATORS = 10
FILL = 0.8
LABELS = ["a", "b", "c", "d", "e"]


def _matrix(n: int) -> Any:
    """Reliability data (annotators x items, NaN = missing) with about n labels."""
    import numpy as np

    items = max(1, round(n / (ANNOTATORS * FILL)))
    rng = np.random.default_rng(0)
    truth = rng.integers(0, len(LABELS), items)
    noisy = np.where(
        rng.random((ANNOTATORS, items)) < 0.7,
        truth,
        rng.integers(0, len(LABELS), (ANNOTATORS, items)),
    ).astype(np.float64)
    noisy[rng.random((ANNOTATORS, items)) >= FILL] = np.nan
    return noisy + 1.0  # values 1..5: ratio needs a meaningful zero


def _dataset(n: int) -> Any:
    import gc

    import numpy as np
    from pydantic import TypeAdapter

    from groundtruth import Dataset
    from groundtruth.models import (
        Annotator,
        Classification,
        Item,
        Label,
        LabelSet,
        Manifest,
        Taxonomy,
    )

    data = _matrix(n)
    coder, unit = np.nonzero(~np.isnan(data))
    codes = (data[coder, unit] - 1).astype(int)
    gc.disable()
    anns = TypeAdapter(list[Classification]).validate_python([
        {"id": f"{u}-{c}", "item_id": str(u), "label": LABELS[k], "annotator": f"w{c}"}
        for u, c, k in zip(unit.tolist(), coder.tolist(), codes.tolist(), strict=True)
    ])  # fmt: skip
    items = TypeAdapter(list[Item]).validate_python(
        [{"id": str(u), "kind": "text", "text": "t"} for u in range(data.shape[1])]
    )
    gc.enable()
    ls = LabelSet(name="grade", scale="ordinal",
                  labels=[Label(name=x, value=i + 1) for i, x in enumerate(LABELS)])  # fmt: skip
    people = [Annotator(id=f"w{c}", kind="human") for c in range(ANNOTATORS)]
    return Dataset(Manifest(taxonomy=Taxonomy(label_sets=[ls]), annotators=people), items, anns)


def _task(name: str, n: int) -> dict[str, float]:
    import numpy as np

    level = name.rsplit("-", 1)[-1]
    if name.startswith("krippendorff-package-"):
        import krippendorff

        data = _matrix(n)
        t0, c0 = time.perf_counter(), time.process_time()
        value = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    elif name.startswith("gt-alpha-"):
        from groundtruth.quality import _stats as st

        data = _matrix(n)
        coder, unit = np.nonzero(~np.isnan(data))
        raw = data[coder, unit]
        t0, c0 = time.perf_counter(), time.process_time()
        domain, code = st.dense_index(raw)
        est = st.krippendorff_alpha(unit.astype(np.int64), code, data.shape[1],
                                    domain.astype(np.float64), level)  # type: ignore[arg-type]  # fmt: skip
        value = est.value
    elif name == "gt-agreement":
        import groundtruth as gt

        ds = _dataset(n)
        t0, c0 = time.perf_counter(), time.process_time()
        value = gt.agreement(ds)["krippendorff_alpha"]["value"]
    elif name.startswith("gt-consensus-"):
        import groundtruth as gt

        ds = _dataset(n)
        method = name.removeprefix("gt-consensus-")
        t0, c0 = time.perf_counter(), time.process_time()
        out = gt.consensus(ds, method)  # type: ignore[arg-type]
        value = float(len(out.annotations) - len(ds.annotations))
    else:
        raise SystemExit(f"unknown task {name}")
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak_mb,
            "value": float(value or 0.0)}  # fmt: skip


def measure(name: str, n: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": os.path.join(HERE, "..", "src")}
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--task", name, "--annotations", str(n)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if out.returncode:
        raise RuntimeError(f"{name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(annotations: int, workdir: str | None = None) -> list[dict[str, Any]]:
    """Rows {benchmark, seconds, peak_mb, vs_anchor, target} for bench/run.py."""
    n = annotations
    rows: list[dict[str, Any]] = []

    def row(name: str, m: dict[str, float], anchor: dict[str, float] | None = None,
            target: str = "") -> None:  # fmt: skip
        rows.append({
            "benchmark": name, "seconds": m["seconds"], "peak_mb": m["peak_mb"],
            "vs_anchor": m["seconds"] / anchor["seconds"] if anchor else None, "target": target,
            # CPU time of the process: what the wall time would be on an idle machine.
            "cpu_seconds": m["cpu_seconds"],
        })  # fmt: skip

    for level in ("nominal", "ordinal", "interval", "ratio"):
        anchor = measure(f"krippendorff-package-{level}", n)
        row(f"anchor: krippendorff.alpha {level} ({n:,} labels)", anchor)
        ours = measure(f"gt-alpha-{level}", n)
        if abs(ours["value"] - anchor["value"]) > 1e-9:
            raise RuntimeError(f"alpha differs: {ours['value']} vs {anchor['value']}")
        row(f"gt alpha {level} (sparse triples)", ours, anchor, "<= 2x")
    row(f"gt.agreement full report ({n:,} annotations)", measure("gt-agreement", n))
    for method in ("majority", "weighted", "dawid-skene"):
        row(f"gt.consensus {method} ({n:,} annotations)", measure(f"gt-consensus-{method}", n),
            target="< 10 s" if n <= 1_000_000 else "")  # fmt: skip
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--annotations", type=int, default=1_000_000)
    p.add_argument("--task", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.task:
        print(json.dumps(_task(args.task, args.annotations)))
        return
    print("| benchmark | seconds | CPU s | peak MB | vs anchor | target |")
    print("|---|---:|---:|---:|---:|---|")
    for r in run(args.annotations):
        ratio = "" if r["vs_anchor"] is None else f"{r['vs_anchor']:.2f}"
        print(f"| {r['benchmark']} | {r['seconds']:.2f} | {r['cpu_seconds']:.2f} | "
              f"{r['peak_mb']:.0f} | {ratio} | {r['target']} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
