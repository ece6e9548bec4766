"""Run the benchmarks and print one table.

    python bench/run.py                    # default scale: 1,000,000 annotations over 100k items
    python bench/run.py --annotations 100000 --only core
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "src"))

SUITES = ["core", "validate", "coco", "conll", "jsonl", "diff", "agreement", "model_loop", "scale"]
# each module has run(annotations, workdir) -> rows {benchmark, seconds, peak_mb, vs_anchor, target}


def fmt(v: Any, spec: str) -> str:
    return "" if v is None else format(v, spec)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--annotations", type=int, default=1_000_000)
    p.add_argument("--only", nargs="*", default=None, help=f"suites to run: {', '.join(SUITES)}")
    p.add_argument("--workdir", default=os.path.join(HERE, "_data"))
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    print("| suite | benchmark | seconds | peak MB | vs anchor | target |")
    print("|---|---|---:|---:|---:|---|")
    for suite in args.only or SUITES:
        t0 = time.perf_counter()
        module = importlib.import_module(suite)
        for r in module.run(args.annotations, args.workdir):
            print(f"| {suite} | {r['benchmark']} | {fmt(r['seconds'], '.2f')} | "
                  f"{fmt(r['peak_mb'], '.0f')} | {fmt(r['vs_anchor'], '.2f')} | {r['target']} |",
                  flush=True)
        print(f"<!-- {suite}: {time.perf_counter() - t0:.0f} s -->", file=sys.stderr)


if __name__ == "__main__":
    main()
