"""JSONL benchmark (issue 6): a Prodigy/spaCy span JSONL of N tokens, read by groundtruth's
`prodigy` reader (records -> validated items and span annotations, offsets checked) beside the
bare orjson parse of every line of the same file.

Target: the reader within 3x of the bare parse, at 2.5M tokens (the default scale).

    python bench/jsonl.py --tokens 2500000
    python bench/run.py --only jsonl          # scale: tokens = 2.5 x annotations
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
WORDS = ("Apple", "buys", "a", "startup", "in", "London", "for", "$", "1", "billion", "and",
         "Tim", "Cook", "says", "the", "deal", "closes", "soon", ".", "Zoë", "naïve", "café")
LABELS = ("ORG", "GPE", "PERSON", "MONEY")


def generate(path: str, tokens: int, seed: int = 0) -> int:
    """Write a span JSONL with about `tokens` tokens (25 a record); returns the line count."""
    rng = random.Random(seed)
    lines = 0
    with open(path, "wb") as f:
        total = 0
        while total < tokens:
            words = [rng.choice(WORDS) for _ in range(25)]
            toks, pos = [], 0
            for i, w in enumerate(words):
                toks.append({"text": w, "start": pos, "end": pos + len(w), "id": i, "ws": True})
                pos += len(w) + 1
            text = " ".join(words)
            spans = []
            for k in range(0, 25, 6):
                j = min(24, k + rng.randint(0, 2))
                spans.append({"start": toks[k]["start"], "end": toks[j]["end"],
                              "token_start": k, "token_end": j, "label": rng.choice(LABELS)})
            rec = {"text": text, "_input_hash": lines, "_task_hash": -lines, "tokens": toks,
                   "spans": spans, "answer": "accept", "_annotator_id": f"ner-{lines % 3}",
                   "_view_id": "ner_manual"}
            f.write(json.dumps(rec, ensure_ascii=False).encode() + b"\n")
            total += 25
            lines += 1
    return lines


def _raw(path: str) -> None:
    import orjson

    with open(path, "rb") as f:
        for line in f:
            orjson.loads(line)


def _gt(path: str) -> None:
    import groundtruth as gt

    ds = gt.load(path, format="prodigy")
    assert ds.items
    assert not ds.issues


def _child(task: str, path: str) -> None:
    import orjson  # noqa: F401

    import groundtruth
    import groundtruth.converters.prodigy  # noqa: F401

    t0 = time.perf_counter()
    {"raw": _raw, "gt": _gt}[task](path)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def _measure(task: str, path: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": os.path.join(HERE, "..", "src")}
    out = subprocess.run([sys.executable, __file__, "--child", task, path], capture_output=True,
                         text=True, env=env, check=False)
    if out.returncode:
        raise RuntimeError(f"{task} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def bench(tokens: int, workdir: str) -> list[dict[str, Any]]:
    """Rows {benchmark, seconds, peak_mb, vs_anchor, target} for a file of `tokens` tokens."""
    os.makedirs(workdir, exist_ok=True)
    path = os.path.join(workdir, f"spans-{tokens}.jsonl")
    if not os.path.exists(path):
        generate(path, tokens)
    size_mb = os.path.getsize(path) / 1e6
    raw = _measure("raw", path)
    ours = _measure("gt", path)
    return [
        {"benchmark": f"floor: orjson parse of every line ({tokens:,} tokens, {size_mb:.0f} MB)",
         "seconds": raw["seconds"], "peak_mb": raw["peak_mb"], "vs_anchor": None, "target": ""},
        {"benchmark": "gt.load(format='prodigy'): items, tokens, checked spans",
         "seconds": ours["seconds"], "peak_mb": ours["peak_mb"],
         "vs_anchor": ours["seconds"] / raw["seconds"], "target": "<= 3x"},
    ]


def run(annotations: int, workdir: str) -> list[dict[str, Any]]:
    """Entry point of bench/run.py: 2.5 tokens per requested annotation (1M -> 2.5M tokens)."""
    return bench(int(annotations * 2.5), workdir)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
        return
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--tokens", type=int, default=2_500_000)
    p.add_argument("--workdir", default=os.path.join(HERE, "_data"))
    args = p.parse_args()
    for r in bench(args.tokens, args.workdir):
        ratio = "" if r["vs_anchor"] is None else f"{r['vs_anchor']:.2f}x"
        print(f"{r['benchmark']:<70} {r['seconds']:7.2f} s {r['peak_mb']:7.0f} MB {ratio:>7} "
              f"{r['target']}")


if __name__ == "__main__":
    main()
