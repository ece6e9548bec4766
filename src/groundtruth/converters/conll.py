"""CoNLL column files (CoNLL-2003, CoNLL-2002, WNUT, ...) <-> groundtruth span annotations.

Reading: one token per line, columns split on TAB when the file uses TABs, else on runs of
spaces; any whitespace-only line ends a sentence; `-DOCSTART-` lines start a document (they
are not tokens); `#` at the start of a line is a token, never a comment. The token is the
first column and the tag the last unless `columns=` names them; the other columns become
token attributes. Each sentence becomes a text item whose `text` is its tokens joined by single
spaces, with `tokens` at exact code-point offsets and one `span` annotation per entity
(`text[start:end]` is the entity). Tags are decoded as seqeval's default mode does, in any
scheme (detected, or `scheme=`), and invalid sequences are reported, not dropped.

Writing: from any text dataset. Tokens are the item's own, or made by `tokenizer=`
(whitespace by default, `regex:<pattern>` otherwise); spans are encoded in `scheme=`. A span
whose ends are not token boundaries is listed in the loss report, never moved.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

from ..dataset import Dataset
from ..errors import ConversionError
from ..issues import Issue, define, issue
from ..models import AnnotationBase, Item, Label, LabelSet, Manifest, Span, Taxonomy, Token
from ._base import ConversionReport
from ._build import builder
from ._tagging import (
    SCHEMES,
    Entity,
    Scheme,
    decode_batch,
    detect_scheme,
    encode_multi,
    parse_scheme,
)
from ._textio import LineStats, atomic_text, iter_lines, refuse_existing

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

_TOKEN = builder(Token)
_SPAN = builder(Span)

__all__ = ["ConllConverter", "ConllFileInfo", "ConllOptions", "iter_conll"]

# -- issue codes -----------------------------------------------------------------------------
LINE_COLUMNS = define("conll.line.columns", "error", "A line has another number of columns")
TAG_NO_PREFIX = define("conll.tag.no-prefix", "warning", "A tag has no B-/I-/... prefix")
TAG_BAD_PREFIX = define("conll.tag.bad-prefix", "error", "A tag's prefix is not a known one")
TAG_EMPTY_TYPE = define("conll.tag.empty-type", "error", "A tag has a prefix but no type")
TAG_TRANSITION = define(
    "conll.tag.invalid-transition", "warning", "A tag is not valid at its place in the scheme"
)
ENCODING = define("conll.encoding.invalid", "error", "A line is not valid in the file encoding")
CRLF = define("conll.line.crlf", "info", "The file has CRLF line ends")
NO_TRAILING_BLANK = define(
    "conll.file.no-trailing-blank", "info", "The file does not end with a blank line"
)
TOKEN_WHITESPACE = define(
    "conll.token.whitespace", "warning", "A token holds whitespace the column format cannot carry"
)
SPAN_OFF_TOKEN = define(
    "conll.span.off-token", "warning", "A span does not start and end on token boundaries"
)
SPAN_UNLABELLED = define("conll.span.unlabelled", "warning", "A span without a label")
SPAN_OVERLAP = define(
    "conll.span.overlap", "warning", "A span overlaps another span of the same label"
)
SPAN_MERGED = define(
    "conll.span.merged", "warning", "Adjacent spans of one label merge in the IO scheme"
)
ATTRIBUTE_DROPPED = define(
    "conll.attribute.dropped", "warning", "A token attribute has no column in the output"
)
ANNOTATION_DROPPED = define(
    "conll.annotation.dropped", "warning", "An annotation that is not a span was not written"
)
ITEM_NO_TEXT = define("conll.item.no-text", "warning", "An item without text was not written")

_PROBLEM_CODES = {
    "no-prefix": TAG_NO_PREFIX,
    "bad-prefix": TAG_BAD_PREFIX,
    "empty-type": TAG_EMPTY_TYPE,
    "invalid-transition": TAG_TRANSITION,
}
_PROBLEM_HINTS = {
    "no-prefix": "read as I-<type> (IO tagging); give tags a prefix, e.g. B-PER / I-PER",
    "bad-prefix": "read as I-<type>; prefixes are B, I, E, S (BIOES) or B, I, L, U (BILOU)",
    "empty-type": "read as O; write the entity type after the prefix, e.g. B-PER",
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


def _tag_column(cols: list[str]) -> str | None:
    """The tag column of a layout: `ner`, else `tag`, else the last column (not `token`)."""
    for name in ("ner", "tag"):
        if name in cols:
            return name
    return cols[-1] if len(cols) > 1 else None


def _names(value: Any) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


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
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"unknown option(s) for conll: {', '.join(unknown)}")
        opts = cls(**{k: v for k, v in options.items() if k != "columns"})
        opts.columns = _names(options.get("columns"))
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
        tag_name = self.opts.tag_column or _tag_column(cols)
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
        width = len(self.columns)
        forms: list[str] = []
        tokens: list[Token] = []
        pos = base
        ti = self.token_index
        attrs_cols = self.attr_columns
        for cols in sent.rows:
            form = cols[ti] if ti < len(cols) else cols[0]
            if len(cols) == width:
                attrs = {name: cols[i] for i, name in attrs_cols}
            else:
                attrs = {name: cols[i] for i, name in attrs_cols if i < len(cols) - 1}
            end = pos + len(form)
            tokens.append(_TOKEN(start=pos, end=end, form=None, attributes=attrs))
            forms.append(form)
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


# -- the converter ---------------------------------------------------------------------------
_WRITE_OPTIONS = {
    "columns", "tag_column", "scheme", "sep", "tokenizer", "label_set", "encoding",
    "multi_tag_sep",
}


class ConllConverter:
    """CoNLL column files: token first, tag last, any tag scheme."""

    name: ClassVar[str] = "conll"
    description: ClassVar[str] = (
        "CoNLL column files (CoNLL-2003/2002, WNUT): tokens and BIO/IOB1/BIOES/BILOU tags"
    )
    extensions: ClassVar[tuple[str, ...]] = (".conll", ".iob", ".bio", ".tsv", ".txt")

    def detect(self, head: bytes, path: str) -> float:
        text = head.decode("utf-8", "replace")
        lines = [ln for ln in text.splitlines()[:200] if ln.strip()]
        if not lines:
            return 0.0
        if lines[0].startswith(DOCSTART):
            return 0.95
        tag = re.compile(r"^(O|[BIESLUM]-\S+)$")
        tagged = sum(1 for ln in lines if tag.match(ln.split()[-1]))
        score = tagged / len(lines)
        if path.endswith((".conll", ".iob", ".bio")):
            return max(0.9, score)
        return 0.8 * score if score > 0.9 else 0.0

    # -- read -------------------------------------------------------------------------------
    def read(self, path: str, *, fs: AbstractFileSystem | None = None, **options: Any) -> Dataset:
        options.pop("storage_options", None)
        issues: list[Issue] = []
        info = ConllFileInfo()
        items: list[Item] = []
        anns: list[AnnotationBase] = []
        for item, spans in iter_conll(path, fs=fs, issues=issues, info=info, **options):
            items.append(item)
            anns.extend(spans)
        manifest = Manifest(name=PurePosixPath(path).stem)
        file_ext: dict[str, Any] = {
            "columns": info.columns or ["token"],
            "sep": "tab" if info.sep == "\t" else "space",
        }
        if info.scheme is not None:
            file_ext["scheme"] = info.scheme
        if not info.stats.final_newline:
            file_ext["final_newline"] = False
        if info.trailing:
            file_ext["trailing"] = info.trailing
        manifest.extensions["conll"] = file_ext
        if info.labels:
            manifest.taxonomy = Taxonomy(
                label_sets=[
                    LabelSet(
                        name=info.tag_name,
                        annotation_types=["span"],
                        labels=[Label(name=x) for x in sorted(info.labels)],
                    )
                ]
            )
        return Dataset(manifest, items, anns, issues=issues, source=path, source_format=self.name)

    # -- write ------------------------------------------------------------------------------
    def write(
        self, dataset: Dataset, path: str, *, fs: AbstractFileSystem | None = None, **options: Any
    ) -> ConversionReport:
        options.pop("storage_options", None)
        refuse_existing(path, fs, bool(options.pop("overwrite", False)))
        unknown = sorted(set(options) - _WRITE_OPTIONS)
        if unknown:
            raise TypeError(f"unknown option(s) for conll: {', '.join(unknown)}")
        src = dataset.manifest.extensions.get("conll", {})
        scheme_name = str(options.get("scheme") or src.get("scheme") or "iob2")
        try:
            scheme = parse_scheme(scheme_name)
        except ValueError as exc:
            raise ConversionError(str(exc), hint=f"schemes: {', '.join(SCHEMES)}") from None
        sep_name = str(options.get("sep") or src.get("sep") or "tab")
        if sep_name not in ("tab", "space"):
            raise ConversionError(f"sep={sep_name!r}: use tab or space")
        columns = _names(options.get("columns")) or list(src.get("columns") or ["token", "ner"])
        if "token" not in columns:
            raise ConversionError("columns= must name a `token` column")
        writer = _Writer(
            columns=columns,
            tag_column=str(options.get("tag_column") or _tag_column(columns) or ""),
            scheme=scheme,
            sep="\t" if sep_name == "tab" else " ",
            tokenizer=_tokenizer(str(options.get("tokenizer") or "whitespace")),
            label_set=options.get("label_set"),
            multi_sep=str(options.get("multi_tag_sep") or ","),
        )
        report = ConversionReport(format=self.name, outputs=[path])
        by_item = dataset.annotations_by_item()
        texts = [it for it in dataset.items if it.kind == "text" and it.text is not None]
        for it in dataset.items:
            if it.kind != "text" or it.text is None:
                report.issues.append(
                    issue(ITEM_NO_TEXT, f"{it.kind} item has no text", record_id=it.id)
                )
        final = bool(src.get("final_newline", True))
        encoding = str(options.get("encoding") or "utf-8")
        with atomic_text(path, fs, encoding) as out:
            for k, it in enumerate(texts):
                lines = writer.item_lines(it, by_item.get(it.id, []), report.issues)
                if k + 1 == len(texts):
                    lines.extend(src.get("trailing", []))
                chunk = "\n".join(lines)
                out.write(chunk + "\n" if final or k + 1 < len(texts) else chunk)
        report.issues.extend(writer.dropped_attribute_issues())
        report.details = {"scheme": scheme, "sentences": writer.sentences, "columns": columns}
        return report


def _tokenizer(spec: str) -> re.Pattern[str]:
    if spec == "whitespace":
        return re.compile(r"\S+")
    if spec.startswith("regex:"):
        try:
            return re.compile(spec[len("regex:") :])
        except re.error as exc:
            raise ConversionError(f"tokenizer regex does not compile: {exc}") from None
    raise ConversionError(
        f"tokenizer={spec!r}: use whitespace or regex:<pattern> (each match is a token)"
    )


class _Writer:
    def __init__(
        self, *, columns: list[str], tag_column: str, scheme: Scheme, sep: str,
        tokenizer: re.Pattern[str], label_set: Any, multi_sep: str,
    ) -> None:
        self.columns = columns
        self.tag_column = tag_column if tag_column in columns and tag_column != "token" else None
        self.scheme = scheme
        self.sep = sep
        self.tokenizer = tokenizer
        self.label_set = str(label_set) if label_set else None
        self.multi_sep = multi_sep
        self.sentences = 0
        self.unwritten_attrs: dict[str, str] = {}  # attribute -> first item id

    def tokens(self, item: Item) -> list[Token]:
        if item.tokens:
            return item.tokens
        text = item.text or ""
        return [Token(start=m.start(), end=m.end()) for m in self.tokenizer.finditer(text)]

    def entities(
        self, item: Item, tokens: list[Token], anns: list[AnnotationBase], issues: list[Issue]
    ) -> list[Entity]:
        starts: dict[int, int] = {}
        ends: dict[int, int] = {}
        for i, tok in enumerate(tokens):
            starts.setdefault(tok.start, i)
            ends[tok.end] = i
        out: list[Entity] = []
        for ann in anns:
            if not isinstance(ann, Span):
                if "conllu" not in ann.extensions:
                    issues.append(
                        issue(
                            ANNOTATION_DROPPED,
                            f"{getattr(ann, 'type', 'annotation')} annotation has no place in "
                            "a column file",
                            record_id=ann.id,
                        )
                    )
                continue
            if self.label_set is not None and ann.label_set != self.label_set:
                continue
            if ann.label is None:
                if "conllu" not in ann.extensions:
                    issues.append(
                        issue(SPAN_UNLABELLED, "span has no label to tag", record_id=ann.id)
                    )
                continue
            s, e = starts.get(ann.start), ends.get(ann.end)
            if s is None or e is None or e < s:
                text = item.text or ""
                issues.append(
                    issue(
                        SPAN_OFF_TOKEN,
                        f"span {ann.start}:{ann.end} {text[ann.start : ann.end]!r} "
                        f"({ann.label}) does not start and end on token boundaries",
                        record_id=ann.id,
                        hint="tokenize so entity edges are token edges (tokenizer=regex:...), "
                        "or fix the span offsets",
                    )
                )
                continue
            out.append((ann.label, s, e + 1))
        return out

    def item_lines(
        self, item: Item, anns: list[AnnotationBase], issues: list[Issue]
    ) -> list[str]:
        text = item.text or ""
        tokens = self.tokens(item)
        ents = self.entities(item, tokens, anns, issues)
        if self.scheme == "io":
            ordered = sorted(ents, key=lambda x: (x[1], x[2]))
            for a, b in itertools.pairwise(ordered):
                if a[0] == b[0] and a[2] == b[1]:
                    issues.append(
                        issue(
                            SPAN_MERGED,
                            f"two adjacent {a[0]} spans become one in IO tags",
                            record_id=item.id,
                        )
                    )
        cells: list[str] = ["O"] * len(tokens)
        if self.tag_column is not None:
            cells, rejected = encode_multi(ents, len(tokens), self.scheme, self.multi_sep)
            for typ, s, e in rejected:
                issues.append(
                    issue(
                        SPAN_OVERLAP,
                        f"{typ} span over tokens {s}..{e - 1} overlaps another {typ} span",
                        record_id=item.id,
                    )
                )
        ext = item.extensions.get("conll", {})
        sent_exts: list[dict[str, Any]] = list(ext.get("sentences", []))
        lines: list[str] = list(ext.get("leading", []))
        attr_names = [c for c in self.columns if c not in ("token", self.tag_column)]
        for tok in tokens:
            for name in tok.attributes:
                if name not in attr_names and name not in self.unwritten_attrs:
                    self.unwritten_attrs[name] = item.id
        sentence = 0
        for i, tok in enumerate(tokens):
            form = tok.form if tok.form is not None else text[tok.start : tok.end]
            clean = self._clean(form, item.id, i, issues)
            row = []
            for name in self.columns:
                if name == "token":
                    row.append(clean)
                elif name == self.tag_column:
                    row.append(cells[i])
                else:
                    row.append(tok.attributes.get(name, "_"))
            lines.append(self.sep.join(row))
            last = i + 1 == len(tokens)
            if last or "\n" in text[tok.end : tokens[i + 1].start]:
                sep_lines = [""]
                if len(sent_exts) > sentence:
                    sep_lines = sent_exts[sentence].get("separator", [""])
                elif not sent_exts and "separator" in ext:
                    sep_lines = ext["separator"]
                lines.extend(sep_lines)
                sentence += 1
                self.sentences += 1
        if not tokens:
            lines.append("")
        return lines

    def _clean(self, form: str, item_id: str, i: int, issues: list[Issue]) -> str:
        bad = ("\t", "\n", "\r") if self.sep == "\t" else (" ", "\t", "\n", "\r")
        if form and not any(ch in form for ch in bad) and not form.isspace():
            return form
        fixed = re.sub(r"\s", "\u00a0", form) if form else "_"
        issues.append(
            issue(
                TOKEN_WHITESPACE,
                f"token {form!r} cannot stand in a {'TAB' if self.sep == chr(9) else 'space'}"
                f"-separated column; written as {fixed!r}",
                record_id=item_id,
                path=f"$.tokens[{i}]",
                hint="write with sep=tab to keep spaces inside tokens",
            )
        )
        return fixed

    def dropped_attribute_issues(self) -> list[Issue]:
        return [
            issue(
                ATTRIBUTE_DROPPED,
                f"token attribute {name!r} has no column (columns={','.join(self.columns)})",
                record_id=first,
                hint=f"add it to columns=, e.g. columns={','.join([*self.columns[:-1], name, self.columns[-1]])}",
            )
            for name, first in sorted(self.unwritten_attrs.items())
        ]
