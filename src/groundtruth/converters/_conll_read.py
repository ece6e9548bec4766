"""Reading CoNLL column files: sentences, layout, tag decoding, items and span annotations.

The converter (`conll.py`) documents the mapping; this module streams it: `iter_conll` reads
a file line by line, decodes a few thousand sentences' tags at a time and yields
`(item, span annotations)` per sentence (or per document with `group=document`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ConversionError
from ..issues import Issue, define, issue
from ..models import AnnotationBase, Item, Span, Token
from ._build import builder
from ._options import Option, OptionSpec, check_options
from ._tagging import (
    Entity,
    Scheme,
    decode_batch,
    detect_scheme,
    parse_scheme,
)
from ._textio import LineStats, iter_lines

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

_TOKEN = builder(Token)
_SPAN = builder(Span)

LINE_COLUMNS = define("conll.line.columns", "error", "A line has another number of columns")
TAG_NO_PREFIX = define("conll.tag.no-prefix", "warning", "A tag has no B-/I-/... prefix")
TAG_BAD_PREFIX = define("conll.tag.bad-prefix", "error", "A tag's prefix is not a known one")
TAG_EMPTY_TYPE = define("conll.tag.empty-type", "error", "A tag has a prefix but no type")
TAG_EMPTY = define("conll.tag.empty", "error", "A token line's tag column is empty")
TAG_TRANSITION = define(
    "conll.tag.invalid-transition", "warning", "A tag is not valid at its place in the scheme"
)
ENCODING = define("conll.encoding.invalid", "error", "A line is not valid in the file encoding")
CRLF = define("conll.line.crlf", "info", "The file has CRLF line ends")
NO_TRAILING_BLANK = define(
    "conll.file.no-trailing-blank", "info", "The file does not end with a blank line"
)

_PROBLEM_CODES = {
    "no-prefix": TAG_NO_PREFIX,
    "bad-prefix": TAG_BAD_PREFIX,
    "empty-type": TAG_EMPTY_TYPE,
    "empty": TAG_EMPTY,
    "invalid-transition": TAG_TRANSITION,
}
_PROBLEM_HINTS = {
    "no-prefix": "read as I-<type> (IO tagging); give tags a prefix, e.g. B-PER / I-PER",
    "bad-prefix": "read as I-<type>; prefixes are B, I, E, S (BIOES) or B, I, L, U (BILOU)",
    "empty-type": "read as O; write the entity type after the prefix, e.g. B-PER",
    "empty": "read as O; write O or a tag after the token (a file cut mid-line ends like this)",
    "invalid-transition": "read as seqeval's default mode does; pass scheme= if the scheme "
    "detected is not the file's",
}

DOCSTART = "-DOCSTART-"
BATCH = 2000  # sentences decoded together (numpy batch decoder)


def _default_columns(n: int) -> list[str]:
    if n <= 1:
        return ["token"]
    if n == 2:
        return ["token", "ner"]
    if n == 3:
        return ["token", "pos", "ner"]
    if n == 4:
        return ["token", "pos", "chunk", "ner"]
    if n == 5:
        return ["token", "lemma", "pos", "chunk", "ner"]
    return ["token", *(f"col{i}" for i in range(1, n - 1)), "ner"]


def tag_column_of(cols: list[str]) -> str | None:
    """The tag column of a layout: `ner`, else `tag`, else the last column (not `token`)."""
    for name in ("ner", "tag"):
        if name in cols:
            return name
    return cols[-1] if len(cols) > 1 else None


def column_names(value: Any) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


READ_OPTIONS: OptionSpec = {
    "columns": Option((str, list), help="column names, comma-separated (token first, tag last)", default="detected from the file"),
    "tag_column": Option(str, help="the column holding entity tags", default="found from the columns"),
    "scheme": Option(str, help="tag scheme: iob1, iob2, bioes, bilou, io or auto", default="auto"),
    "sep": Option(str, help="column separator: tab, space or auto", default="auto"),
    "group": Option(str, help="one item per sentence or per document (-DOCSTART-)", default="sentence"),
    "encoding": Option(str, help="text encoding of the file", default="utf-8"),
    "multi_tag_sep": Option(str, help="separator of several tags in one cell (WNUT)", default=","),
}


@dataclass
class ConllOptions:
    """Options of the column-file converter (`-o key=value` on the CLI)."""

    columns: list[str] | None = None
    tag_column: str | None = None
    scheme: str = "auto"
    sep: str = "auto"
    group: str = "sentence"
    encoding: str = "utf-8"
    multi_tag_sep: str = ","

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> ConllOptions:
        check_options("conll", options, READ_OPTIONS)
        opts = cls(**{k: v for k, v in options.items()
                      if k not in ("columns", "storage_options") and v is not None})
        opts.columns = column_names(options.get("columns"))
        if opts.columns is not None and "token" not in opts.columns:
            raise ConversionError(
                f"columns={','.join(opts.columns)} names no `token` column",
                hint="name the token column `token`, e.g. columns=token,pos,chunk,ner",
            )
        if opts.scheme != "auto":
            try:
                parse_scheme(opts.scheme)
            except ValueError as exc:
                raise ConversionError(str(exc)) from None
        if opts.sep not in ("auto", "tab", "space"):
            raise ConversionError(f"sep={opts.sep!r}: use auto, tab or space")
        if opts.group not in ("sentence", "document"):
            raise ConversionError(f"group={opts.group!r}: use sentence or document")
        return opts


@dataclass
class _Sentence:
    rows: list[list[str]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    leading: list[str] = field(default_factory=list)  # DOCSTART and the blank lines after it
    separator: list[str] = field(default_factory=list)
    document: int = 0


@dataclass
class ConllFileInfo:
    sep: str | None = None
    ncols: int | None = None
    scheme: Scheme | None = None
    docstarts: int = 0
    trailing: list[str] = field(default_factory=list)
    stats: LineStats = field(default_factory=LineStats)
    columns: list[str] = field(default_factory=list)
    tag_name: str = "ner"
    labels: set[str] = field(default_factory=set)


def _sentences(
    lines: Iterator[tuple[int, str]], opts: ConllOptions, info: ConllFileInfo, file: str,
    issues: list[Issue],
) -> Iterator[_Sentence]:
    current = _Sentence()
    finished: _Sentence | None = None
    leading: list[str] = []
    document = 0
    for number, line in lines:
        if not line.strip():
            if current.rows:
                current.separator.append(line)
                finished, current = current, _Sentence(document=document)
            elif leading:
                leading.append(line)
            elif finished is not None:
                finished.separator.append(line)
            else:
                leading.append(line)
            continue
        if finished is not None:
            yield finished
            finished = None
        if info.sep is None:
            info.sep = (
                "\t" if opts.sep == "tab" or (opts.sep == "auto" and "\t" in line) else " "
            )
        cols = line.split("\t") if info.sep == "\t" else line.split()
        if cols[0] == DOCSTART:
            if current.rows:  # a DOCSTART right after tokens ends the sentence
                yield current
                current = _Sentence()
            document += 1
            info.docstarts += 1
            leading.append(line)
            current.document = document
            continue
        if not current.rows:
            current.leading, leading = leading, []
            current.document = document
        if info.ncols is None:
            info.ncols = len(opts.columns) if opts.columns else len(cols)
        if len(cols) != info.ncols:
            issues.append(
                issue(
                    LINE_COLUMNS,
                    f"{len(cols)} column(s), expected {info.ncols} like the first token line",
                    file=file,
                    line=number,
                    hint="every token line needs the same columns; check for a stray space or "
                    "a missing tag (pass sep=tab if tokens hold spaces)",
                )
            )
        current.rows.append(cols)
        current.numbers.append(number)
    if finished is not None:
        if leading:
            finished.separator.extend(leading)
        yield finished
    if current.rows:
        issues.append(
            issue(
                NO_TRAILING_BLANK,
                "the last sentence is not followed by a blank line",
                file=file,
                line=current.numbers[-1],
                hint="end the file with a blank line; most CoNLL readers expect one",
            )
        )
        yield current
    elif leading:
        info.trailing = leading


class _Builder:
    """Turns decoded sentences into items and span annotations."""

    def __init__(self, opts: ConllOptions, info: ConllFileInfo, file: str, issues: list[Issue]):
        self.opts = opts
        self.info = info
        self.file = file
        self.issues = issues
        self.columns: list[str] = []
        self.tag_index = -1
        self.token_index = 0
        self.attr_columns: list[tuple[int, str]] = []
        self.labels: set[str] = set()
        self.n = 0

    def layout(self) -> None:
        n = self.info.ncols or 1
        cols = self.opts.columns or _default_columns(n)
        self.columns = cols
        self.token_index = cols.index("token")
        tag_name = self.opts.tag_column or tag_column_of(cols)
        if tag_name is not None and tag_name not in cols:
            raise ConversionError(
                f"tag_column={tag_name!r} is not among columns={','.join(cols)}"
            )
        self.tag_index = cols.index(tag_name) if tag_name is not None else -1
        if self.tag_index == self.token_index:
            self.tag_index = -1
        self.attr_columns = [
            (i, name) for i, name in enumerate(cols) if i not in (self.token_index, self.tag_index)
        ]

    @property
    def tag_name(self) -> str:
        return self.columns[self.tag_index] if self.tag_index >= 0 else "ner"

    def tags(self, sent: _Sentence) -> list[str]:
        if self.tag_index < 0:
            return ["O"] * len(sent.rows)
        width = len(self.columns)
        out = []
        for cols in sent.rows:
            if len(cols) == width:
                out.append(cols[self.tag_index])
            else:  # wrong column count (reported): the last field is the tag if there are two
                out.append(cols[-1] if len(cols) > 1 and self.tag_index == width - 1 else "O")
        return out

    def build(
        self, sents: Sequence[_Sentence], entities: list[list[Entity]],
        problems: list[tuple[int, Any]],
    ) -> list[tuple[Item, list[AnnotationBase]]]:
        for k, prob in problems:
            sent = sents[k]
            self.issues.append(
                issue(
                    _PROBLEM_CODES[prob.kind],
                    "the tag column is empty" if prob.kind == "empty" else
                    f"tag {prob.tag!r}"
                    + (f" where {self.info.scheme} expects {prob.expected!r}"
                       if prob.expected else ""),
                    file=self.file,
                    line=sent.numbers[prob.position],
                    hint=_PROBLEM_HINTS[prob.kind],
                )
            )
        if self.opts.group == "sentence":
            return [self._sentence_item(s, e) for s, e in zip(sents, entities, strict=True)]
        return []

    def tokens_of(self, sent: _Sentence, base: int) -> tuple[list[str], list[Token]]:
        """The sentence's token texts, and its tokens at offsets from `base` (joined by spaces)."""
        width = len(self.columns)
        ti = self.token_index
        rows = sent.rows
        if all(len(cols) == width for cols in rows):
            forms = [cols[ti] for cols in rows]
        else:  # wrong column counts were reported; the first field is the token
            forms = [cols[ti] if ti < len(cols) else cols[0] for cols in rows]
        tokens: list[Token] = []
        make = _TOKEN
        pos = base
        attrs_cols = self.attr_columns
        if not attrs_cols:
            for form in forms:
                end = pos + len(form)
                tokens.append(make(start=pos, end=end, form=None, attributes={}))
                pos = end + 1
            return forms, tokens
        for form, cols in zip(forms, rows, strict=True):
            end = pos + len(form)
            if len(cols) == width:
                attrs = {name: cols[i] for i, name in attrs_cols}
            else:
                attrs = {name: cols[i] for i, name in attrs_cols if i < len(cols) - 1}
            tokens.append(make(start=pos, end=end, form=None, attributes=attrs))
            pos = end + 1
        return forms, tokens

    def spans(
        self, item_id: str, text: str, tokens: list[Token], ents: list[Entity], first: int
    ) -> list[AnnotationBase]:
        out: list[AnnotationBase] = []
        name = self.tag_name
        for j, (typ, s, e) in enumerate(ents, start=first):
            start, end = tokens[s].start, tokens[e - 1].end
            self.labels.add(typ)
            out.append(
                _SPAN(
                    id=f"{item_id}/e{j}", item_id=item_id, label=typ,
                    label_set=name, start=start, end=end, text=text[start:end],
                )
            )
        return out

    def _ext(self, sent: _Sentence) -> dict[str, Any]:
        ext: dict[str, Any] = {}
        if sent.leading:
            ext["leading"] = sent.leading
        if sent.separator != [""]:
            ext["separator"] = sent.separator
        return ext

    def _sentence_item(
        self, sent: _Sentence, ents: list[Entity]
    ) -> tuple[Item, list[AnnotationBase]]:
        self.n += 1
        item_id = str(self.n)
        forms, tokens = self.tokens_of(sent, 0)
        text = " ".join(forms)
        ext = self._ext(sent)
        meta = {"document": sent.document} if self.info.docstarts else {}
        item = Item(
            id=item_id, kind="text", text=text, tokens=tokens, metadata=meta,
            extensions={"conll": ext} if ext else {},
        )
        return item, self.spans(item_id, text, tokens, ents, 1)

    def document_item(
        self, sents: list[_Sentence], ents: list[list[Entity]]
    ) -> tuple[Item, list[AnnotationBase]]:
        self.n += 1
        item_id = str(self.n)
        all_tokens: list[Token] = []
        pieces: list[str] = []
        pos = 0
        exts: list[dict[str, Any]] = []
        entities: list[Entity] = []
        for sent, sent_ents in zip(sents, ents, strict=True):
            forms, tokens = self.tokens_of(sent, pos)
            line = " ".join(forms)
            pieces.append(line)
            offset = len(all_tokens)
            all_tokens.extend(tokens)
            entities.extend((t, s + offset, e + offset) for t, s, e in sent_ents)
            exts.append(self._ext(sent))
            pos += len(line) + 1
        text = "\n".join(pieces)
        spans = self.spans(item_id, text, all_tokens, entities, 1)
        ext: dict[str, Any] = {}
        if exts and exts[0].get("leading"):
            ext["leading"] = exts[0].pop("leading")
        if any(exts):
            ext["sentences"] = exts
        meta = {"document": sents[0].document} if self.info.docstarts else {}
        item = Item(
            id=item_id, kind="text", text=text, tokens=all_tokens, metadata=meta,
            extensions={"conll": ext} if ext else {},
        )
        return item, spans


def iter_conll(
    path: str,
    *,
    fs: AbstractFileSystem | None = None,
    issues: list[Issue] | None = None,
    info: ConllFileInfo | None = None,
    **options: Any,
) -> Iterator[tuple[Item, list[AnnotationBase]]]:
    """Stream a column file as `(item, span annotations)`, a batch of sentences at a time."""
    opts = ConllOptions.from_options(options)
    found = issues if issues is not None else []
    inf = info if info is not None else ConllFileInfo()
    lines = iter_lines(path, fs, opts.encoding, inf.stats)
    builder = _Builder(opts, inf, path, found)
    given: Scheme | None = None if opts.scheme == "auto" else parse_scheme(opts.scheme)
    inf.scheme = given
    batch: list[_Sentence] = []
    doc: list[_Sentence] = []
    doc_ents: list[list[Entity]] = []

    def flush() -> Iterator[tuple[Item, list[AnnotationBase]]]:
        if not builder.columns:
            builder.layout()
        tags = [builder.tags(s) for s in batch]
        if inf.scheme is None:
            inf.scheme = detect_scheme(tags, opts.multi_tag_sep)
        ents, problems = decode_batch(tags, inf.scheme, opts.multi_tag_sep)
        if opts.group == "sentence":
            yield from builder.build(batch, ents, problems)
            return
        builder.build(batch, ents, problems)
        for sent, e in zip(batch, ents, strict=True):
            if doc and (sent.document != doc[0].document):
                yield builder.document_item(doc, doc_ents)
                doc.clear()
                doc_ents.clear()
            doc.append(sent)
            doc_ents.append(e)

    for sent in _sentences(lines, opts, inf, path, found):
        batch.append(sent)
        if len(batch) >= BATCH:
            yield from flush()
            batch = []
    if batch:
        yield from flush()
    if doc:
        yield builder.document_item(doc, doc_ents)
    found.extend(_file_issues(path, inf))
    inf.columns = builder.columns
    inf.tag_name = builder.tag_name
    inf.labels = builder.labels


def _file_issues(path: str, info: ConllFileInfo) -> list[Issue]:
    st = info.stats
    out = [
        issue(
            ENCODING,
            "bytes that are not valid in the file's encoding (read as Latin-1)",
            file=path,
            line=n,
            hint="pass -o encoding=latin-1 (CoNLL-2003 German is Latin-1), or re-encode the "
            "file as UTF-8",
        )
        for n in st.bad_lines
    ]
    if st.crlf_lines:
        out.append(
            issue(
                CRLF,
                f"{len(st.crlf_lines)} line(s) end in CRLF; read as LF, written with LF",
                file=path,
                line=st.crlf_lines[0],
            )
        )
    return out
