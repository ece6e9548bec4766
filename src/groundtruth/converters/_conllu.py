"""CoNLL-U at the line level: sentences as raw comment and column lines, and back, exactly.

`parse_sentences` streams a CoNLL-U file sentence by sentence and keeps every byte that
matters: comments in order (including `=`-less ones the `conllu` package drops), word lines,
multiword-token ranges and empty nodes as their ten raw columns, and the separator lines
after each sentence. `serialize` writes a sentence back; for a well-formed file the
concatenation is the input, byte for byte. Mapping to groundtruth items lives in `conllu.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..issues import Issue, define, issue

COLUMNS = ("id", "form", "lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")

CONLLU_COLUMNS = define(
    "conllu.line.columns", "error", "A CoNLL-U word line does not have ten TAB-separated fields"
)
CONLLU_ID = define("conllu.line.id", "error", "A CoNLL-U word line has an ID that is not valid")
CONLLU_ID_ORDER = define(
    "conllu.word.id-order", "error",
    "Word IDs are not 1, 2, 3, ... in order (zero, duplicate, skipped or reversed)",
)
CONLLU_RANGE = define(
    "conllu.range.invalid", "error",
    "A multiword-token or empty-node ID is reversed or names a word the sentence does not have",
)
CONLLU_NO_BLANK = define(
    "conllu.file.no-trailing-blank", "warning", "The last sentence is not ended by a blank line"
)
CONLLU_COMMENT = define(
    "conllu.comment.misplaced", "warning", "A comment line inside a sentence's word lines"
)

_RANGE = re.compile(r"^[0-9]+-[0-9]+$")
_EMPTY = re.compile(r"^[0-9]+\.[0-9]+$")
_TEXT = re.compile(r"^#\s*text\s*=\s?(.*)$")
_SENT_ID = re.compile(r"^#\s*sent_id\s*=\s?(.*)$")


@dataclass(slots=True)
class Sentence:
    """One sentence as it stands in the file.

    `rows` are the word, multiword-token and empty-node lines as ten raw columns each, in
    file order, and `numbers` their 1-based line numbers. `separator` holds the raw lines
    after the sentence up to the next one (`[""]`: one blank line, the norm).
    """

    comments: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    separator: list[str] = field(default_factory=list)
    leading: list[str] = field(default_factory=list)
    first_line: int = 0

    def text(self) -> str | None:
        """The `# text = ...` value, or None."""
        for line in self.comments:
            m = _TEXT.match(line)
            if m:
                return m.group(1)
        return None

    def sent_id(self) -> str | None:
        for line in self.comments:
            m = _SENT_ID.match(line)
            if m:
                return m.group(1).strip() or None
        return None


def kind_of(row_id: str) -> str:
    """`word`, `mwt` (a range `3-4`), `empty` (a decimal `5.1`) or `bad`."""
    if row_id.isascii() and row_id.isdigit():
        return "word"
    if _RANGE.match(row_id):
        return "mwt"
    if _EMPTY.match(row_id):
        return "empty"
    return "bad"


def check_word_ids(sentence: Sentence, file: str, issues: list[Issue]) -> bool:
    """Report word IDs that are not 1..n in order, and ranges past the last word.

    The sentence is kept as it stands (so it is written back byte for byte); each problem
    is an error at its line. Returns whether the IDs were well formed.
    """
    ok = True
    expected = 1
    seen: set[int] = set()
    words = [(int(c[0]), n) for c, n in zip(sentence.rows, sentence.numbers, strict=True)
             if c[0].isascii() and c[0].isdigit()]
    last = len(words)
    for wid, number in words:
        if wid == expected:
            seen.add(wid)
            expected += 1
            continue
        ok = False
        if wid == 0:
            what = "word ID 0: word IDs start at 1 (0 is only a HEAD, the root)"
        elif wid in seen:
            what = f"word ID {wid} is used twice in this sentence"
        elif wid < expected:
            what = f"word ID {wid} comes after word {expected - 1}: IDs must increase"
        else:
            what = f"word ID {wid} skips {expected}" + (
                f"..{wid - 1}" if wid - 1 > expected else "")
        issues.append(issue(
            CONLLU_ID_ORDER, what, file=file, line=number,
            hint="number the words of each sentence 1, 2, 3, ... in order",
        ))
        seen.add(wid)
        expected = max(expected, wid + 1)
    for cols, number in zip(sentence.rows, sentence.numbers, strict=True):
        rid = cols[0]
        if _RANGE.match(rid):
            lo, _, hi = rid.partition("-")
            bad = int(lo) > int(hi) or int(lo) < 1 or int(hi) > last
        elif _EMPTY.match(rid):
            bad = int(rid.partition(".")[0]) > last
        else:
            continue
        if bad:
            ok = False
            issues.append(issue(
                CONLLU_RANGE,
                f"ID {rid!r} is not within the sentence's words 1..{last}"
                + (" (reversed range)" if "-" in rid and int(lo) > int(hi) else ""),
                file=file, line=number,
                hint="a range `3-4` names words that follow it, first <= last; an empty node "
                "`5.1` follows word 5 (or `0.1` before the first)",
            ))
    return ok


def parse_sentences(
    lines: Iterable[tuple[int, str]], file: str, issues: list[Issue]
) -> Iterator[Sentence]:
    """Sentences of a CoNLL-U file, streaming; problems go to `issues` (file:line).

    A sentence is yielded once the next one starts (or at the end of the file), so every
    blank line after it is in its `separator`.
    """
    current = Sentence()
    finished: Sentence | None = None  # ended by a blank line; collects further blank lines
    leading: list[str] = []  # blank lines before the first sentence
    in_body = False
    for number, line in lines:
        if not line.strip():
            if current.comments or current.rows:
                current.separator.append(line)
                finished, current, in_body = current, Sentence(), False
            elif finished is not None:
                finished.separator.append(line)
            else:
                leading.append(line)
            continue
        if finished is not None:
            yield finished
            finished = None
        if line.startswith("#") and in_body:
            issues.append(
                issue(
                    CONLLU_COMMENT,
                    "comment line after word lines: it starts a new sentence",
                    file=file,
                    line=number,
                    hint="put a blank line between sentences; comments go before words",
                )
            )
            yield current
            current, in_body = Sentence(), False
        if not current.comments and not current.rows:
            current.first_line = number
            current.leading, leading = leading, []
        if line.startswith("#"):
            current.comments.append(line)
            continue
        in_body = True
        cols = line.split("\t")
        if len(cols) != 10:
            issues.append(
                issue(
                    CONLLU_COLUMNS,
                    f"{len(cols)} TAB-separated fields, expected 10",
                    file=file,
                    line=number,
                    hint="separate the ten columns with single TABs; use _ for empty fields",
                )
            )
            if len(cols) > 10:  # keep the extra fields inside MISC, byte for byte
                cols = [*cols[:9], "\t".join(cols[9:])]
            else:
                cols = cols + ["_"] * (10 - len(cols))
        if not (cols[0].isascii() and cols[0].isdigit()) and kind_of(cols[0]) == "bad":
            issues.append(
                issue(
                    CONLLU_ID,
                    f"ID {cols[0]!r} is not a word number, a range `3-4` or an empty node `5.1`",
                    file=file,
                    line=number,
                )
            )
        current.rows.append(cols)
        current.numbers.append(number)
    if finished is not None:
        yield finished
    if current.comments or current.rows:
        issues.append(
            issue(
                CONLLU_NO_BLANK,
                "the file ends without the blank line that ends every sentence",
                file=file,
                line=current.numbers[-1] if current.numbers else current.first_line,
                hint="add an empty line at the end of the file",
            )
        )
        yield current
    elif leading:
        yield Sentence(leading=leading)


def serialize(sentence: Sentence, final_newline: bool = True) -> str:
    """The sentence's lines as they stood in the file."""
    parts = [*sentence.leading, *sentence.comments]
    parts.extend("\t".join(cols) for cols in sentence.rows)
    parts.extend(sentence.separator)
    text = "\n".join(parts)
    return text + "\n" if final_newline else text
