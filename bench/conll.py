"""CoNLL benchmarks: CoNLL-U -> groundtruth vs `conllu.parse_incr`; BIO -> spans vs seqeval.

Every measurement runs in its own Python process (`python -c ...`), so `seconds` is the whole
process (start-up, imports, reading the file) and `peak_mb` its peak resident memory.

    python bench/conll.py [scale]        # scale 1.0 = 2.5M-token files (a few minutes)

`run(scale)` returns rows {name, seconds, peak_mb, ratio} where `ratio` is the anchor's
seconds divided by this row's (>1: faster than the anchor). Anchors: `conllu.parse_incr`
(target: CoNLL-U -> native >= 2x) and seqeval `get_entities` (target: BIO -> spans >= 3x).
Memory flat in file size: the `@half` rows run the same code on a file half as big.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOKENS_AT_SCALE_1 = 2_500_000

_WORDS = (
    "the of and to in a is that for it as was with be by on not he I this are or his from at "
    "which but have an they you were her she there one all we can their has been if more when "
    "will would who so no out up into do than time could only new some about people may also "
    "London Paris Google Smith Maria Berlin Apple Tokyo Obama Amazon Jones Nile Lee"
).split()
_UPOS = ["DET", "ADP", "CCONJ", "PART", "VERB", "NOUN", "PRON", "ADJ", "PROPN", "PUNCT"]
_FEATS = ["_", "Number=Sing", "Definite=Def|PronType=Art", "Mood=Ind|Tense=Past|VerbForm=Fin"]
_TYPES = ["PER", "LOC", "ORG", "MISC"]


def generate_conllu(path: Path, tokens: int, seed: int = 0) -> int:
    """A UD-like file: `# sent_id`/`# text`, MWTs, SpaceAfter=No, FEATS, valid trees."""
    rng = random.Random(seed)
    written = 0
    n = 0
    with path.open("w", encoding="utf-8") as f:
        while written < tokens:
            n += 1
            size = rng.randint(5, 30)
            words = [rng.choice(_WORDS) for _ in range(size - 1)] + ["."]
            mwt = rng.randrange(size - 2) if rng.random() < 0.3 else None
            rows: list[str] = []
            text_parts: list[str] = []
            i = 0
            while i < size:
                if mwt is not None and i == mwt:
                    surface = words[i] + words[i + 1]
                    rows.append(f"{i + 1}-{i + 2}\t{surface}\t_\t_\t_\t_\t_\t_\t_\t_")
                    text_parts.append(surface + " ")
                    for j in (i, i + 1):
                        rows.append(_word(rng, j, words[j], "_"))
                    i += 2
                    continue
                last = i + 2 == size
                misc = "SpaceAfter=No" if last else "_"
                rows.append(_word(rng, i, words[i], misc))
                text_parts.append(words[i] + ("" if last else " "))
                i += 1
            f.write(f"# sent_id = s{n}\n# text = {''.join(text_parts).rstrip()}\n")
            f.write("\n".join(rows))
            f.write("\n\n")
            written += size
    return written


def _word(rng: random.Random, i: int, form: str, misc: str) -> str:
    head = 0 if i == 0 else rng.randrange(1, i + 1)
    rel = "root" if head == 0 else rng.choice(["nsubj", "obj", "det", "case", "obl:tmod"])
    return (
        f"{i + 1}\t{form}\t{form.lower()}\t{rng.choice(_UPOS)}\tXX\t{rng.choice(_FEATS)}"
        f"\t{head}\t{rel}\t{head}:{rel}\t{misc}"
    )


def generate_column(path: Path, tokens: int, seed: int = 0) -> int:
    """A CoNLL-2003-style 4-column, space-separated IOB2 file with -DOCSTART- lines."""
    rng = random.Random(seed)
    written = 0
    with path.open("w", encoding="utf-8") as f:
        while written < tokens:
            if written % 20000 < 30:
                f.write("-DOCSTART- -X- -X- O\n\n")
            size = rng.randint(5, 30)
            lines = []
            i = 0
            while i < size:
                if rng.random() < 0.12:
                    typ = rng.choice(_TYPES)
                    for k in range(min(rng.randint(1, 3), size - i)):
                        tag = ("B-" if k == 0 else "I-") + typ
                        lines.append(f"{rng.choice(_WORDS)} NNP I-NP {tag}")
                        i += 1
                    continue
                lines.append(f"{rng.choice(_WORDS)} NN I-NP O")
                i += 1
            f.write("\n".join(lines) + "\n\n")
            written += size
    return written


_PRELUDE = """
import resource, sys, time
t0 = time.perf_counter()
"""
_EPILOGUE = """
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(__import__('json').dumps({'seconds': time.perf_counter() - t0, 'peak_mb': peak, 'n': n}))
"""

SNIPPETS = {
    "conllu.parse_incr": """
import conllu
n = 0
with open(sys.argv[1], encoding='utf-8') as f:
    for sent in conllu.parse_incr(f):
        n += 1
""",
    "groundtruth conllu -> items": """
from groundtruth.converters.conllu import iter_conllu
n = 0
for item, anns in iter_conllu(sys.argv[1]):
    n += 1
""",
    "groundtruth conllu -> items + relations": """
from groundtruth.converters.conllu import iter_conllu
n = 0
for item, anns in iter_conllu(sys.argv[1], dependencies='relations'):
    n += 1
""",
    "seqeval get_entities": """
import warnings
from seqeval.metrics.sequence_labeling import get_entities
warnings.simplefilter('ignore')
n = 0
sent = []
with open(sys.argv[1], encoding='utf-8') as f:
    for line in f:
        if not line.strip():
            if sent:
                n += len(get_entities(sent))
            sent = []
            continue
        if line.startswith('-DOCSTART-'):
            continue
        sent.append(line.split()[-1])
if sent:
    n += len(get_entities(sent))
""",
    "groundtruth BIO -> spans (tags)": """
from groundtruth.converters._tagging import decode_batch
n = 0
sent = []
batch = []
def flush():
    global n
    ents, problems = decode_batch(batch, 'iob2')
    n += sum(map(len, ents))
with open(sys.argv[1], encoding='utf-8') as f:
    for line in f:
        if not line.strip():
            if sent:
                batch.append(sent)
                if len(batch) >= 2000:
                    flush()
                    batch = []
            sent = []
            continue
        if line.startswith('-DOCSTART-'):
            continue
        sent.append(line.split()[-1])
if sent:
    batch.append(sent)
flush()
""",
    "groundtruth conll -> items + spans": """
from groundtruth.converters.conll import iter_conll
n = 0
for item, spans in iter_conll(sys.argv[1]):
    n += len(spans)
""",
}


def _measure(name: str, path: Path) -> dict[str, Any]:
    code = _PRELUDE + SNIPPETS[name] + _EPILOGUE
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(scale: float = 1.0) -> list[dict[str, Any]]:
    tokens = max(10_000, int(TOKENS_AT_SCALE_1 * scale))
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        conllu_full, conllu_half = Path(tmp) / "big.conllu", Path(tmp) / "half.conllu"
        column_full, column_half = Path(tmp) / "big.conll", Path(tmp) / "half.conll"
        generate_conllu(conllu_full, tokens)
        generate_conllu(conllu_half, tokens // 2)
        generate_column(column_full, tokens)
        generate_column(column_half, tokens // 2)
        groups = [
            ("conllu.parse_incr", conllu_full, conllu_half,
             ["groundtruth conllu -> items", "groundtruth conllu -> items + relations"]),
            ("seqeval get_entities", column_full, column_half,
             ["groundtruth BIO -> spans (tags)", "groundtruth conll -> items + spans"]),
        ]
        for anchor, full, half, ours in groups:
            base = _measure(anchor, full)
            rows.append(_row(f"{anchor} [{tokens:,} tokens]", base, base))
            for name in ours:
                res = _measure(name, full)
                rows.append(_row(f"{name} [{tokens:,} tokens]", res, base))
                small = _measure(name, half)
                rows.append(_row(f"{name} @half [{tokens // 2:,} tokens]", small, None))
    return rows


def _row(name: str, res: dict[str, Any], anchor: dict[str, Any] | None) -> dict[str, Any]:
    ratio = anchor["seconds"] / res["seconds"] if anchor is not None else None
    return {
        "name": name,
        "seconds": round(res["seconds"], 3),
        "peak_mb": round(res["peak_mb"], 1),
        "ratio": round(ratio, 2) if ratio is not None else None,
    }


if __name__ == "__main__":
    for row in run(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0):
        print(json.dumps(row))
