"""CoNLL benchmarks: CoNLL-U -> groundtruth vs `conllu.parse_incr`; BIO -> spans vs seqeval.

Every measurement runs in its own Python process (`python -c ...`), so `seconds` is the whole
process (start-up, imports, reading the file) and `peak_mb` its peak resident memory (VmHWM).
The two tag benchmarks read the tags with the same code; their `decoding only` rows time
`get_entities` against `decode_batch` on those same tags over the whole file.

    python bench/conll.py [scale]        # scale 1.0 = 2.5M-token files (a few minutes)

`bench(tokens)` (and `run(annotations, workdir)` for bench/run.py: 2.5 tokens per annotation)
returns rows {benchmark, seconds, peak_mb, vs_anchor, ratio, target}: `vs_anchor` is this
row's seconds over the anchor's, `ratio` the speed-up (anchor's seconds over this row's). Anchors: `conllu.parse_incr`
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

_WORDS = ["the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not", "he", "I", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "they", "you", "were", "her", "she", "there", "one", "all", "we", "can", "their", "has", "been", "if", "more", "when", "will", "would", "who", "so", "no", "out", "up", "into", "do", "than", "time", "could", "only", "new", "some", "about", "people", "may", "also", "London", "Paris", "Google", "Smith", "Maria", "Berlin", "Apple", "Tokyo", "Obama", "Amazon", "Jones", "Nile", "Lee"]
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
                    rows.extend(_word(rng, j, words[j], "_") for j in (i, i + 1))
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
import sys, time
t0 = time.perf_counter()
decode = None
"""
# VmHWM is this process's own peak (ru_maxrss would include the parent's, inherited at exec).
_EPILOGUE = """
peak = 0.0
with open('/proc/self/status') as status:
    for line in status:
        if line.startswith('VmHWM:'):
            peak = int(line.split()[1]) / 1024
print(__import__('json').dumps(
    {'seconds': time.perf_counter() - t0, 'peak_mb': peak, 'n': n, 'decode': decode}))
"""

# Both tag benchmarks read the tags with this same code, then decode them: `decode` times the
# decoding alone (same tags, whole file), `seconds` the whole process.
_READ_TAGS = """
sentences = []
sent = []
with open(sys.argv[1], encoding='utf-8') as f:
    for line in f:
        if not line.strip():
            if sent:
                sentences.append(sent)
            sent = []
            continue
        if line.startswith('-DOCSTART-'):
            continue
        sent.append(line.split()[-1])
if sent:
    sentences.append(sent)
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
""" + _READ_TAGS + """
t1 = time.perf_counter()
n = sum(len(get_entities(s)) for s in sentences)
decode = time.perf_counter() - t1
""",
    "groundtruth BIO -> spans (tags)": """
from groundtruth.converters._tagging import decode_batch
""" + _READ_TAGS + """
t1 = time.perf_counter()
n = 0
for i in range(0, len(sentences), 2000):
    ents, problems = decode_batch(sentences[i:i + 2000], 'iob2')
    n += sum(map(len, ents))
decode = time.perf_counter() - t1
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
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


_TARGETS = {
    "groundtruth conllu -> items": "<= 0.5 (2x faster)",
    "groundtruth BIO -> spans (tags)": "<= 0.33 (3x faster)",
}


def bench(tokens: int, workdir: str | None = None) -> list[dict[str, Any]]:
    """Rows {benchmark, seconds, peak_mb, vs_anchor, target} for files of `tokens` tokens.

    `vs_anchor` is this row's seconds over the anchor's (< 1: faster than the anchor); `ratio`
    is its inverse (the speed-up). Files are generated once into `workdir` (a temporary folder
    when None).
    """
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(workdir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        files = {}
        for kind, gen in (("conllu", generate_conllu), ("conll", generate_column)):
            for label, n in (("full", tokens), ("half", tokens // 2)):
                path = folder / f"bench-{n}.{kind}"
                if not path.exists():
                    gen(path, n)
                files[kind, label] = path
        groups = [
            ("conllu.parse_incr", "conllu",
             ["groundtruth conllu -> items", "groundtruth conllu -> items + relations"]),
            ("seqeval get_entities", "conll",
             ["groundtruth BIO -> spans (tags)", "groundtruth conll -> items + spans"]),
        ]
        for anchor, kind, ours in groups:
            full, half = files[kind, "full"], files[kind, "half"]
            base = _measure(anchor, full)
            rows.append(_row(f"{anchor} [{tokens:,} tokens]", base, base, ""))
            if base.get("decode") is not None:
                rows.append(
                    _row(f"{anchor}, decoding only", _decoding(base), _decoding(base), "")
                )
            for name in ours:
                res = _measure(name, full)
                target = _TARGETS.get(name, "")
                rows.append(_row(f"{name} [{tokens:,} tokens]", res, base, target))
                if res.get("decode") is not None:
                    rows.append(
                        _row(f"{name}, decoding only", _decoding(res), _decoding(base), target)
                    )
                small = _measure(name, half)
                rows.append(
                    _row(f"{name} @half [{tokens // 2:,} tokens]", small, None, "peak_mb flat")
                )
    return rows


def run(annotations: int = 1_000_000, workdir: str | None = None) -> list[dict[str, Any]]:
    """Entry point of bench/run.py: 2.5 tokens per requested annotation (1M -> 2.5M tokens)."""
    return bench(int(annotations * 2.5), workdir)


def _decoding(res: dict[str, Any]) -> dict[str, Any]:
    return {"seconds": res["decode"], "peak_mb": res["peak_mb"]}


def _row(
    name: str, res: dict[str, Any], anchor: dict[str, Any] | None, target: str
) -> dict[str, Any]:
    speedup = anchor["seconds"] / res["seconds"] if anchor is not None else None
    return {
        "benchmark": name,
        "name": name,
        "seconds": round(res["seconds"], 3),
        "peak_mb": round(res["peak_mb"], 1),
        "vs_anchor": round(1 / speedup, 3) if speedup else None,
        "ratio": round(speedup, 2) if speedup is not None else None,
        "target": target,
    }


if __name__ == "__main__":
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    for row in bench(max(10_000, int(TOKENS_AT_SCALE_1 * scale))):
        print(json.dumps(row))
