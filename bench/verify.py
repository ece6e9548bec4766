"""What verifying parts on every read costs (issue 13, item 6).

Each row is a whole process (interpreter start, imports, open, read) run with `verify=True`
(the default: every part hashed while it is read, record counts checked) and `verify=False`,
and, with `--before SRC`, with the code at SRC (e.g. a checkout of main before verification:
no `verify` argument), interleaved and repeated so all see the same machine load; the median
wall time and the peak RSS of each are reported.

    PYTHONPATH=src python bench/verify.py /tmp/gt-bench --annotations 1000000 --repeat 3 \
        --before ../main/src
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))

WORKLOADS = {
    "read_table (parquet -> Arrow)": ("parquet",
        "import groundtruth as gt; gt.read_table({path!r}, verify={verify})"),
    "iter_batches (jsonl -> Arrow)": ("jsonl",
        "import groundtruth as gt\nfor _ in gt.iter_batches({path!r}, verify={verify}): pass"),
    "iter_records (parquet -> models)": ("parquet",
        ("import groundtruth as gt\n"
        "for _ in gt.iter_records({path!r}, kinds=('annotations',), verify={verify}): pass")),
    "iter_records (jsonl -> models)": ("jsonl",
        ("import groundtruth as gt\n"
        "for _ in gt.iter_records({path!r}, kinds=('annotations',), verify={verify}): pass")),
}


def _run(code: str, src: str = os.path.join(HERE, "..", "src")) -> tuple[float, float]:
    env = {**os.environ, "PYTHONPATH": src}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if status:
        raise RuntimeError(f"failed: {code}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("workdir")
    p.add_argument("--annotations", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--before", default=None, metavar="SRC",
                   help="also run each workload with the package at SRC (no verify argument)")
    a = p.parse_args()
    sys.path.insert(0, HERE)
    from generate import generate

    paths = {}
    for enc in ("parquet", "jsonl"):
        paths[enc] = os.path.join(a.workdir, f"verify-{enc}-{a.annotations}")
        if not os.path.exists(os.path.join(paths[enc], "groundtruth.json")):
            generate(paths[enc], a.annotations, max(1, a.annotations // 10), enc)
    before = " before s |" if a.before else ""
    print(f"| workload ({a.annotations:,} annotations, whole process) |{before} "
          "verify=False s | verify=True s | cost vs verify=False | peak MB off / on |")
    print("|---|" + ("---|" if a.before else "") + "---|---|---|---|")
    for name, (enc, template) in WORKLOADS.items():
        times: dict[Any, list[float]] = {False: [], True: [], "before": []}
        peaks: dict[Any, float] = {False: 0.0, True: 0.0, "before": 0.0}
        for _ in range(a.repeat):
            if a.before:
                code = template.replace(", verify={verify}", "").format(path=paths[enc])
                s, mb = _run(code, a.before)
                times["before"].append(s)
                peaks["before"] = max(peaks["before"], mb)
            for verify in (False, True):
                s, mb = _run(template.format(path=paths[enc], verify=verify))
                times[verify].append(s)
                peaks[verify] = max(peaks[verify], mb)
        off, on = statistics.median(times[False]), statistics.median(times[True])
        first = f" {statistics.median(times['before']):.2f} |" if a.before else ""
        print(f"| {name} |{first} {off:.2f} | {on:.2f} | {100 * (on - off) / off:+.1f}% | "
              f"{peaks[False]:.0f} / {peaks[True]:.0f} |", flush=True)


if __name__ == "__main__":
    main()
