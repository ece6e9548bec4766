"""Sequence tag schemes: detect them, decode tags to entities, encode entities back.

An *entity* is `(type, start, end)` over token indices, end exclusive. Decoding follows
seqeval's default (conlleval-like) mode for every scheme, so a file decodes to the same
entities whatever scheme it claims:

- `I-X` after `O` or after another type starts an entity (it is *not* dropped);
- a type switch (`B-PER I-LOC`) ends one entity and starts another;
- `B-`/`S-` always start an entity, `E-`/`S-` always end one.

BILOU is read as BIOES (`L` = `E`, `U` = `S`) and BMES's `M` as `I`, which seqeval itself does
not do. A tag is split on its FIRST `-` (`B-creative-work` is type `creative-work`). A tag with
no prefix (`PER`) is read as `I-PER` and reported: it is what IO-tagged files hold.

Whether a sequence is *valid* in a scheme is decided by re-encoding the decoded entities in that
scheme and comparing: every token whose tag differs is an invalid transition, and is reported.

Multi-tag cells (`B-person,B-creative-work`) are decoded per entity type, which for single-tag
cells gives exactly the entities above and lets overlapping entities of different types coexist.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal, NamedTuple

import numpy as np

Scheme = Literal["io", "iob1", "iob2", "ioe1", "ioe2", "bioes", "bilou"]
SCHEMES: tuple[Scheme, ...] = ("io", "iob1", "iob2", "ioe1", "ioe2", "bioes", "bilou")

_ALIASES: dict[str, Scheme] = {
    "io": "io",
    "iob": "iob1",
    "iob1": "iob1",
    "iob2": "iob2",
    "bio": "iob2",
    "ioe1": "ioe1",
    "ioe2": "ioe2",
    "ioe": "ioe2",
    "bioes": "bioes",
    "iobes": "bioes",
    "bmes": "bioes",
    "bmeso": "bioes",
    "bilou": "bilou",
    "biluo": "bilou",
}

# Tag prefix -> canonical prefix (B, I, E, S).
_PREFIXES = {"B": "B", "I": "I", "E": "E", "S": "S", "M": "I", "L": "E", "U": "S"}

Entity = tuple[str, int, int]
"""(type, start token, end token exclusive)."""


class TagProblem(NamedTuple):
    """A tag that decoding had to interpret. `position` is the token's index in the sequence.

    `kind`: `no-prefix` (`PER`, read as `I-PER`), `bad-prefix` (`X-PER`, read as `I-PER`),
    `empty-type` (`B-`, read as `O`), `empty` (an empty tag column, read as `O`),
    `invalid-transition` (valid tag, wrong place for the scheme: `O I-PER` in IOB2; read as
    seqeval's default mode does).
    """

    position: int
    kind: str
    tag: str
    expected: str | None = None


def parse_scheme(name: str) -> Scheme:
    """A scheme from its common names (`bio`, `IOB2`, `iobes`, `BILOU`...)."""
    try:
        return _ALIASES[name.strip().lower().replace("-", "")]
    except KeyError:
        raise ValueError(
            f"unknown tag scheme {name!r}; use one of: {', '.join(SCHEMES)}"
        ) from None


def split_tag(tag: str) -> tuple[str, str, str | None]:
    """`(canonical prefix, type, problem kind)`; prefix `O` for outside. Splits on the first `-`."""
    if tag == "O":
        return "O", "", None
    if not tag.strip():  # an empty tag column (`tok<TAB>`, a file cut mid-line)
        return "O", "", "empty"
    head, sep, typ = tag.partition("-")
    if not sep:
        if tag in _PREFIXES:  # a bare `B`/`I`: a prefix with no type
            return "O", "", "empty-type"
        return "I", tag, "no-prefix"
    if not typ:
        return "O", "", "empty-type"
    prefix = _PREFIXES.get(head)
    if prefix is None:
        return "I", typ, "bad-prefix"
    return prefix, typ, None


class _Table(dict[str, tuple[str, str, str | None]]):
    """Memo of `split_tag`: tag vocabularies are tiny, sequences are long."""

    def __missing__(self, tag: str) -> tuple[str, str, str | None]:
        value = self[tag] = split_tag(tag)
        return value


_TABLE = _Table()


def decode(
    tags: Sequence[str],
    scheme: Scheme | None = None,
    problems: list[TagProblem] | None = None,
) -> list[Entity]:
    """Entities of one sentence, in order (seqeval default mode, ends exclusive).

    With `problems` given, malformed tags are appended to it; with `scheme` given too, so are
    tags that are well formed but invalid in that scheme.
    """
    table = _TABLE
    out: list[Entity] = []
    prev = "O"  # canonical prefix of the previous token
    prev_type = ""
    begin = 0
    last = -2  # index of the previous non-O token
    bad = False
    # Most tokens are `O`: visit only the others; a gap between two of them is an `O`.
    for i in [i for i, tag in enumerate(tags) if tag != "O"]:
        if prev != "O" and i != last + 1:
            out.append((prev_type, begin, last + 1))
            prev = "O"
        last = i
        tag = tags[i]
        prefix, typ, kind = table[tag]
        if kind is not None:
            bad = True
            if problems is not None:
                problems.append(TagProblem(i, kind, tag))
            if prefix == "O":
                if prev != "O":
                    out.append((prev_type, begin, i))
                    prev = "O"
                continue
        if prev == "O":
            begin = i
        elif prev == "E" or prev == "S" or prefix == "B" or prefix == "S" or typ != prev_type:
            # seqeval: after a non-O token, an entity ends exactly when one starts.
            out.append((prev_type, begin, i))
            begin = i
        prev = prefix
        prev_type = typ
    if prev != "O":
        out.append((prev_type, begin, last + 1))
    if scheme is not None and problems is not None:
        expected = encode(out, len(tags), scheme)
        if expected != list(tags):
            seen = {p.position for p in problems} if bad else set()
            for i, (got, want) in enumerate(zip(tags, expected, strict=True)):
                if got != want and i not in seen:
                    problems.append(TagProblem(i, "invalid-transition", got, want))
            problems.sort(key=lambda p: p.position)
    return out


def encode(entities: Iterable[Entity], n: int, scheme: Scheme) -> list[str]:
    """Tags for `n` tokens holding `entities` (non-overlapping, in order) in `scheme`.

    In IO, adjacent entities of one type cannot be told apart: they come back merged.
    """
    tags = ["O"] * n
    prev_end = -1
    prev_type = ""
    ents = list(entities)
    for k, (typ, start, end) in enumerate(ents):
        if end <= start:
            continue
        touching_before = start == prev_end and typ == prev_type
        if scheme == "iob2":
            tags[start] = "B-" + typ
            inside = "I-" + typ
            for j in range(start + 1, end):
                tags[j] = inside
        elif scheme in ("bioes", "bilou"):
            b, e, s = ("B-", "E-", "S-") if scheme == "bioes" else ("B-", "L-", "U-")
            if end - start == 1:
                tags[start] = s + typ
            else:
                tags[start] = b + typ
                inside = "I-" + typ
                for j in range(start + 1, end - 1):
                    tags[j] = inside
                tags[end - 1] = e + typ
        elif scheme in ("iob1", "io"):
            inside = "I-" + typ
            for j in range(start, end):
                tags[j] = inside
            if scheme == "iob1" and touching_before:
                tags[start] = "B-" + typ
        else:  # ioe1, ioe2
            inside = "I-" + typ
            for j in range(start, end):
                tags[j] = inside
            if scheme == "ioe2":
                tags[end - 1] = "E-" + typ
            elif k + 1 < len(ents):
                nt, ns, _ = ents[k + 1]
                if ns == end and nt == typ:
                    tags[end - 1] = "E-" + typ
        prev_end = end
        prev_type = typ
    return tags


def decode_multi(
    cells: Sequence[str],
    scheme: Scheme | None = None,
    problems: list[TagProblem] | None = None,
    sep: str = ",",
) -> list[Entity]:
    """Entities of a sentence whose cells may hold several tags (`B-person,B-creative-work`).

    Each entity type is decoded as its own sequence, then the entities are merged in order of
    start, those starting on one token in the order of their tags in its cell. Falls back to
    `decode` when no cell holds `sep`.
    """
    if not any(sep in c for c in cells):
        return decode(cells, scheme, problems)
    n = len(cells)
    per_type: dict[str, list[str]] = {}
    for i, cell in enumerate(cells):
        for tag in cell.split(sep) if sep in cell else (cell,):
            if tag == "O" or not tag:
                continue
            _, typ, _ = _TABLE[tag]
            seq = per_type.get(typ)
            if seq is None:
                seq = per_type[typ] = ["O"] * n
            seq[i] = tag
    out: list[Entity] = []
    for seq in per_type.values():
        out.extend(decode(seq, scheme, problems))

    def place(e: Entity) -> tuple[int, int]:
        # entities starting on one token keep the order of their tags in its cell
        # (WNUT-17's `B-creative-work,B-corporation,B-group`), so the cell is written back
        # as it was read
        types = [t.split("-", 1)[-1] for t in cells[e[1]].split(sep)]
        return e[1], types.index(e[0]) if e[0] in types else len(types)

    out.sort(key=place)
    if problems is not None:
        problems.sort(key=lambda p: p.position)
    return out


def encode_multi(
    entities: Iterable[Entity], n: int, scheme: Scheme, sep: str = ","
) -> tuple[list[str], list[Entity]]:
    """Cells for entities that may overlap: `(cells, entities that could not be encoded)`.

    Entities of different types may overlap (the cell then holds several tags, in order of
    the entities' start, and in the order given for entities starting on the same token, as
    `decode_multi` reads them); an entity overlapping an earlier one of its own type cannot be
    encoded and is returned in the second list.
    """
    ents = sorted(entities, key=lambda e: e[1])  # stable: ties keep the order given
    overlap = any(ents[k + 1][1] < ents[k][2] for k in range(len(ents) - 1))
    if not overlap:
        return encode(ents, n, scheme), []
    by_type: dict[str, list[Entity]] = {}
    rejected: list[Entity] = []
    kept: list[Entity] = []
    for ent in ents:
        bucket = by_type.setdefault(ent[0], [])
        if any(ent[1] < other[2] and other[1] < ent[2] for other in bucket):
            rejected.append(ent)
        else:
            bucket.append(ent)
            kept.append(ent)
    layers = {typ: encode(bucket, n, scheme) for typ, bucket in by_type.items()}
    parts: list[list[str]] = [[] for _ in range(n)]
    for typ, start, end in kept:  # a cell lists its tags in the order of their entities
        layer = layers[typ]
        for j in range(start, end):
            parts[j].append(layer[j])
    cells = [sep.join(p) if p else "O" for p in parts]
    return cells, rejected


def detect_scheme(sentences: Iterable[Sequence[str]], sep: str = ",") -> Scheme | None:
    """The scheme a corpus's tags are written in, or None when it has no entity tags.

    Only `I-` prefixes: IOB1 (the CoNLL-2003 original; it reads and writes IO data
    unchanged). `B-` only right after the same type, and entities starting with `I-`: IOB1.
    Otherwise `B-`/`I-`: IOB2. `E-`/`S-`: BIOES; `L-`/`U-`: BILOU; `E-` without `B-`/`S-`:
    IOE2 when every entity ends with `E-`, else IOE1.
    """
    prefixes: set[str] = set()
    raw_prefixes: set[str] = set()
    i_starts = 0
    b_after_other = 0
    entities = 0
    e_ends = 0
    table = _TABLE
    for sent in sentences:
        prev, prev_type = "O", ""
        for cell in sent:
            tags = cell.split(sep) if sep in cell else (cell,)
            for t in tags:
                if t != "O":
                    raw_prefixes.add(t.partition("-")[0])
            prefix, typ, _ = table[tags[0]]
            if prefix != "O":
                prefixes.add(prefix)
                if prefix == "I" and (prev == "O" or typ != prev_type):
                    i_starts += 1
                if prefix == "B" and (prev == "O" or typ != prev_type):
                    b_after_other += 1
            prev, prev_type = prefix, typ
        if "E" not in prefixes:
            continue
        for typ, _start, end in decode_multi(sent, sep=sep):
            entities += 1
            last = sent[end - 1]
            cell_tags = last.split(sep) if sep in last else (last,)
            if any(table[t][0] in ("E", "S") and table[t][1] == typ for t in cell_tags):
                e_ends += 1
    if not prefixes:
        return None
    if raw_prefixes & {"L", "U"}:
        return "bilou"
    if "S" in prefixes or ("E" in prefixes and "B" in prefixes):
        return "bioes"
    if "E" in prefixes:
        return "ioe2" if e_ends == entities else "ioe1"
    if "B" not in prefixes:
        return "iob1"
    if b_after_other == 0 and i_starts > 0:
        return "iob1"
    return "iob2"


def convert(tags: Sequence[str], to: Scheme, sep: str = ",") -> list[str]:
    """Re-encode one sentence's tags in another scheme (decode to entities first)."""
    cells, _ = encode_multi(decode_multi(tags, sep=sep), len(tags), to, sep)
    return cells


# -- batch decoding (numpy) ----------------------------------------------------------------
# Column files are decoded a few thousand sentences at a time: the per-token work is then a
# dict lookup and a handful of vectorised comparisons instead of a Python loop per token.

_RAW_CODES = {"O": 0, "B": 1, "I": 2, "E": 3, "S": 4, "M": 5, "L": 6, "U": 7}
_CANON = np.array([0, 1, 2, 3, 4, 2, 3, 4], dtype=np.int8)  # raw code -> O B I E S


class _Vocab(dict[str, int]):
    """Tag -> id, growing on first sight; parallel arrays give each id's prefix and type."""

    def __init__(self) -> None:
        super().__init__()
        self.raw: list[int] = []
        self.types: list[int] = []
        self.type_names: list[str] = []
        self.type_ids: dict[str, int] = {}
        self.tags: list[str] = []
        self.kinds: list[str | None] = []

    def __missing__(self, tag: str) -> int:
        prefix, typ, kind = split_tag(tag)
        raw = "I" if kind in ("no-prefix", "bad-prefix") else prefix
        if kind is None and tag != "O":
            raw = tag.partition("-")[0]
        tid = self.type_ids.get(typ)
        if tid is None:
            tid = self.type_ids[typ] = len(self.type_names)
            self.type_names.append(typ)
        value = self[tag] = len(self.tags)
        self.tags.append(tag)
        self.raw.append(_RAW_CODES[raw])
        self.types.append(tid)
        self.kinds.append(kind)
        return value


def decode_batch(
    sentences: Sequence[Sequence[str]],
    scheme: Scheme | None = None,
    sep: str = ",",
) -> tuple[list[list[Entity]], list[tuple[int, TagProblem]]]:
    """`decode` (or `decode_multi`) for many sentences at once.

    Returns the entities of each sentence and `(sentence index, problem)` pairs: malformed
    tags always, invalid transitions when `scheme` is given. Same results as calling
    `decode(sentence, scheme, problems)` on each sentence, several times faster.
    """
    vocab = _Vocab()
    flat: list[str] = []
    bounds = [0]
    for sent in sentences:
        flat.extend(sent)
        flat.append("O")  # sentences are joined with O, as seqeval does
        bounds.append(len(flat))
    multi = [k for k, sent in enumerate(sentences) if sep in "\n".join(sent)] if (
        sep in "\n".join(flat)
    ) else []
    n = len(flat)
    ids = np.fromiter(map(vocab.__getitem__, flat), dtype=np.int32, count=n)
    raw = np.asarray(vocab.raw, dtype=np.int8)[ids]
    typ = np.asarray(vocab.types, dtype=np.int32)[ids]
    p = _CANON[raw]
    prev_p = np.empty_like(p)
    prev_p[0] = 0
    prev_p[1:] = p[:-1]
    prev_t = np.empty_like(typ)
    prev_t[0] = -1
    prev_t[1:] = typ[:-1]
    not_o = p != 0
    starts_mask = not_o & (
        (prev_p == 0) | (prev_p == 3) | (prev_p == 4) | (p == 1) | (p == 4) | (typ != prev_t)
    )
    ends_mask = (prev_p != 0) & (~not_o | starts_mask)  # an entity ends just before i
    starts = np.flatnonzero(starts_mask)
    ends = np.flatnonzero(ends_mask)
    bounds_arr = np.asarray(bounds)
    sent_of_start = np.searchsorted(bounds_arr, starts, side="right") - 1
    out: list[list[Entity]] = [[] for _ in sentences]
    names = vocab.type_names
    for k, s, e, t in zip(
        sent_of_start.tolist(), starts.tolist(), ends.tolist(), typ[starts].tolist(), strict=True
    ):
        base = bounds[k]
        out[k].append((names[t], s - base, e - base))
    problems: list[tuple[int, TagProblem]] = []
    bad_ids = [i for i, kind in enumerate(vocab.kinds) if kind is not None]
    flagged = np.isin(ids, bad_ids) if bad_ids else np.zeros(n, dtype=bool)
    if bad_ids:
        for i in np.flatnonzero(flagged).tolist():
            k = int(np.searchsorted(bounds_arr, i, side="right")) - 1
            tag = flat[i]
            problems.append((k, TagProblem(i - bounds[k], vocab.kinds[vocab[tag]] or "", tag)))
    if scheme is not None:
        expected = _expected_raw(raw, typ, p, starts_mask, ends_mask, scheme)
        wrong = not_o & (raw != expected) & ~flagged
        for i in np.flatnonzero(wrong).tolist():
            k = int(np.searchsorted(bounds_arr, i, side="right")) - 1
            want = "BIESMLU"[int(expected[i]) - 1] + "-" + names[int(typ[i])]
            problems.append((k, TagProblem(i - bounds[k], "invalid-transition", flat[i], want)))
    for k in multi:  # rare: cells holding several tags are decoded per entity type
        found: list[TagProblem] = []
        out[k] = decode_multi(sentences[k], scheme, found, sep)
        problems = [(j, q) for j, q in problems if j != k] + [(k, q) for q in found]
    problems.sort(key=lambda kq: (kq[0], kq[1].position))
    return out, problems


def _expected_raw(
    raw: np.ndarray[Any, Any],
    typ: np.ndarray[Any, Any],
    p: np.ndarray[Any, Any],
    starts_mask: np.ndarray[Any, Any],
    ends_mask: np.ndarray[Any, Any],
    scheme: Scheme,
) -> np.ndarray[Any, Any]:
    """The raw prefix code each non-O token should have in `scheme`, given the entities."""
    # last[i]: token i is the last of its entity (an entity ends right after it).
    last = np.zeros_like(starts_mask)
    last[:-1] = ends_mask[1:]
    first = starts_mask
    b, i_, e, s, l_, u = 1, 2, 3, 4, 6, 7
    want = np.full(raw.shape, i_, dtype=np.int8)
    if scheme == "iob2":
        want[first] = b
    elif scheme == "bioes":
        want[first] = b
        want[last] = e
        want[first & last] = s
    elif scheme == "bilou":
        want[first] = b
        want[last] = l_
        want[first & last] = u
    elif scheme == "iob1":
        prev_end_same = np.zeros_like(first)
        prev_end_same[1:] = last[:-1] & (typ[1:] == typ[:-1]) & (p[:-1] != 0)
        want[first & prev_end_same] = b
    elif scheme == "ioe2":
        want[last] = e
    elif scheme == "ioe1":
        next_start_same = np.zeros_like(first)
        next_start_same[:-1] = first[1:] & (typ[1:] == typ[:-1]) & (p[1:] != 0)
        want[last & next_start_same] = e
    return want
