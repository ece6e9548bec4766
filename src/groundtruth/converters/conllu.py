"""CoNLL-U (Universal Dependencies) <-> groundtruth, losslessly.

One text item per sentence. `text` is the `# text` comment (or, without one, the surface
tokens joined as `SpaceAfter=No`/`SpacesAfter` say); `tokens` are the syntactic words, each
with the code-point offsets of the surface token it belongs to (both words of `du` = `de le`
cover `du`, with `Token.form` `de` and `le`), and LEMMA, UPOS, XPOS, FEATS, HEAD, DEPREL,
DEPS and MISC as token attributes, verbatim (`_` = absent). What the model has no place for
(comments in order, multiword-token and empty-node lines, odd separators) is kept in
`item.extensions["conllu"]`, so writing a dataset read from CoNLL-U gives the file back
byte for byte.

Dependencies are token attributes (`head`, `deprel`) by default: they are the tree, at one
record per sentence. `dependencies="relations"` also emits one `span` annotation per word and
one `relation` annotation per dependency (label = DEPREL, source = head word, target =
dependent), for tools that work on annotation graphs; the writer always reads the attributes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

from ..dataset import Dataset
from ..errors import ConversionError
from ..issues import Issue, define, issue
from ..models import (
    AnnotationBase,
    Item,
    Label,
    LabelSet,
    Manifest,
    Relation,
    Span,
    Taxonomy,
    Token,
)
from ._base import ConversionReport
from ._build import builder
from ._conllu import Sentence, check_word_ids, kind_of, parse_sentences, serialize
from ._mismatch import refuse_if_other_format
from ._options import OptionSpec, check_options
from ._textio import LineStats, atomic_text, iter_lines, refuse_existing

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

_TOKEN = builder(Token)
_SPAN = builder(Span)
_RELATION = builder(Relation)

__all__ = ["ConlluConverter", "iter_conllu"]

TEXT_MISMATCH = define(
    "conllu.text.mismatch", "warning", "A surface token is not found in the sentence's `# text`"
)
HEAD_RANGE = define(
    "conllu.head.out-of-range", "error", "HEAD is not a word of the sentence (or 0 for the root)"
)
SENT_ID_DUP = define("conllu.sent-id.duplicate", "warning", "Two sentences have one `sent_id`")
ENCODING = define("conllu.encoding.invalid", "error", "A CoNLL-U line is not valid UTF-8")
CRLF = define("conllu.line.crlf", "warning", "CoNLL-U lines end in CRLF; the format requires LF")
DROPPED = define(
    "conllu.annotation.dropped", "warning", "An annotation CoNLL-U has no column for was not written"
)
NO_TEXT = define("conllu.item.no-text", "warning", "An item without text was not written")

ATTRS = ("lemma", "upos", "xpos", "feats", "head", "deprel", "deps", "misc")
_SPACES_AFTER = re.compile(r"(?:^|\|)SpacesAfter=([^|]*)")
_ESCAPES = {"\\s": " ", "\\t": "\t", "\\n": "\n", "\\p": "|", "\\\\": "\\"}


@functools.lru_cache(maxsize=512)
def _id_strings(n: int) -> list[str]:
    """`["1", ..., "n"]`: the word IDs of a well-formed n-word sentence."""
    return [str(i) for i in range(1, n + 1)]


@functools.lru_cache(maxsize=512)
def _head_strings(n: int) -> frozenset[str]:
    """The HEAD values valid in an n-word sentence: `_`, `0` and the word IDs."""
    return frozenset(["_", "0", *_id_strings(n)])


def _unescape(value: str) -> str:
    return re.sub(r"\\[stnp\\]", lambda m: _ESCAPES[m.group(0)], value)


def _space_after(misc: str) -> str:
    """The whitespace after a surface token, from its MISC (UD and UDPipe conventions)."""
    if misc == "_":
        return " "
    if "SpacesAfter=" in misc:
        m = _SPACES_AFTER.search(misc)
        if m:
            return _unescape(m.group(1))
    if "SpaceAfter=No" in misc.split("|"):
        return ""
    return " "


class _Reader:
    """Maps parsed sentences to items (and optional dependency annotations)."""

    def __init__(self, file: str, issues: list[Issue], dependencies: str) -> None:
        self.file = file
        self.issues = issues
        self.relations = dependencies == "relations"
        self.seen: set[str] = set()
        self.n = 0
        self.document: str | None = None
        self.paragraph: str | None = None
        self.deprels: set[str] = set()

    def item(self, sent: Sentence) -> tuple[Item, list[AnnotationBase]]:
        self.n += 1
        rows = sent.rows
        # Surface tokens: MWT lines, and words outside any MWT range.
        surface: list[tuple[str, str, int]] = []  # (form, misc, row index)
        owner: list[int] = []  # per word row: index into surface
        words: list[list[str]] = []
        extra: list[dict[str, Any]] = []
        cover = (1, 0)  # the word IDs the last multiword token covers (none yet)
        for k, cols in enumerate(rows):
            rid = cols[0]
            kind = "word" if rid.isascii() and rid.isdigit() else kind_of(rid)
            if kind == "word":
                words.append(cols)
                if not surface or not cover[0] <= int(rid) <= cover[1]:
                    surface.append((cols[1], cols[9], k))
                owner.append(len(surface) - 1)
                continue
            extra.append({"at": k, "columns": cols})
            if kind == "mwt":
                first, _, last = rid.partition("-")
                cover = (int(first), int(last))
                surface.append((cols[1], cols[9], k))
        ids_ok = check_word_ids(sent, self.file, self.issues)
        text = sent.text()
        if text is not None:
            spans = self._align(text, surface, sent)
        else:
            pieces: list[str] = []
            spans = []
            pos = 0
            for j, (form, misc, _k) in enumerate(surface):
                spans.append((pos, pos + len(form)))
                pieces.append(form)
                pos += len(form)
                if j + 1 < len(surface):
                    gap = _space_after(misc)
                    pieces.append(gap)
                    pos += len(gap)
            text = "".join(pieces)
        n_words = len(words)
        tokens: list[Token] = []
        ids_regular = True
        ids = _id_strings(n_words)
        heads = _head_strings(n_words)
        make = _TOKEN
        names = ATTRS
        for w, cols in enumerate(words):
            start, end = spans[owner[w]]
            form = cols[1]
            tokens.append(
                make(
                    start=start,
                    end=end,
                    form=None if text[start:end] == form else form,
                    attributes={n: v for n, v in zip(names, cols[2:], strict=True) if v != "_"},
                )
            )
            if cols[0] != ids[w]:
                ids_regular = False
            head = cols[6]
            if head not in heads:
                row = next(i for i, r in enumerate(rows) if r is cols)
                self.issues.append(
                    issue(
                        HEAD_RANGE,
                        f"HEAD {head!r} of word {cols[0]} is not 0 or a word of this "
                        f"{n_words}-word sentence",
                        file=self.file,
                        line=sent.numbers[row],
                        hint="HEAD must be the ID of a word of the same sentence, or 0",
                    )
                )
        ext: dict[str, Any] = {"n": self.n, "comments": sent.comments}
        if extra:
            ext["rows"] = extra
        if not ids_regular:
            ext["ids"] = [cols[0] for cols in words]
        if sent.separator != [""]:
            ext["separator"] = sent.separator
        if sent.leading:
            ext["leading"] = sent.leading
        item_id = self._item_id(sent)
        metadata = self._metadata(sent)
        item = Item(
            id=item_id, kind="text", text=text, tokens=tokens, metadata=metadata,
            extensions={"conllu": ext},
        )
        # Ambiguous word IDs (reported above) cannot name dependency ends: no annotations.
        anns = self._dependencies(item_id, words, tokens) if self.relations and ids_ok else []
        return item, anns

    def _align(
        self, text: str, surface: list[tuple[str, str, int]], sent: Sentence
    ) -> list[tuple[int, int]]:
        """Offsets of the surface tokens found left to right in `text` (only spaces between).

        A token not found there gets an empty span at the current offset (its words keep their
        FORM in `Token.form`), and the first such token of the sentence is reported.
        """
        out: list[tuple[int, int]] = []
        pos = 0
        reported = False
        for form, _misc, k in surface:
            at = text.find(form, pos)
            if at < 0 or (at > pos and not text[pos:at].isspace()):
                if not reported:
                    reported = True
                    self.issues.append(
                        issue(
                            TEXT_MISMATCH,
                            f"token {form!r} is not found in `# text` after offset {pos}",
                            file=self.file,
                            line=sent.numbers[k],
                            hint="fix the FORM or the `# text` comment so they agree",
                        )
                    )
                out.append((pos, pos))
                continue
            out.append((at, at + len(form)))
            pos = at + len(form)
        return out

    def _item_id(self, sent: Sentence) -> str:
        sid = sent.sent_id()
        if sid is not None and sid not in self.seen:
            self.seen.add(sid)
            return sid
        if sid is not None:
            self.issues.append(
                issue(
                    SENT_ID_DUP,
                    f"sent_id {sid!r} is used by an earlier sentence; item id is its number",
                    file=self.file,
                    line=sent.first_line,
                )
            )
        item_id = str(self.n)
        while item_id in self.seen:
            item_id += "_"
        self.seen.add(item_id)
        return item_id

    def _metadata(self, sent: Sentence) -> dict[str, Any]:
        for line in sent.comments:
            body = line[1:].strip()
            if body.startswith("newdoc"):
                self.document = body.partition("=")[2].strip() or None
                self.paragraph = None
            elif body.startswith("newpar"):
                self.paragraph = body.partition("=")[2].strip() or None
        meta: dict[str, Any] = {}
        if self.document is not None:
            meta["document"] = self.document
        if self.paragraph is not None:
            meta["paragraph"] = self.paragraph
        return meta

    def _dependencies(
        self, item_id: str, words: list[list[str]], tokens: list[Token]
    ) -> list[AnnotationBase]:
        out: list[AnnotationBase] = []
        ids = {cols[0] for cols in words}
        for cols, tok in zip(words, tokens, strict=True):
            out.append(
                _SPAN(
                    id=f"{item_id}/w{cols[0]}", item_id=item_id, start=tok.start, end=tok.end,
                    attributes={"word": cols[0]}, extensions={"conllu": {"derived": "word"}},
                )
            )
        for cols in words:
            head, deprel = cols[6], cols[7]
            if head in ids:
                self.deprels.add(deprel)
                out.append(
                    _RELATION(
                        id=f"{item_id}/d{cols[0]}", item_id=item_id, label=deprel,
                        label_set="deprel", source=f"{item_id}/w{head}",
                        target=f"{item_id}/w{cols[0]}",
                        extensions={"conllu": {"derived": "dependency"}},
                    )
                )
        return out


def iter_conllu(
    path: str,
    *,
    fs: AbstractFileSystem | None = None,
    issues: list[Issue] | None = None,
    dependencies: str = "attributes",
    stats: LineStats | None = None,
) -> Iterator[tuple[Item, list[AnnotationBase]]]:
    """Stream a CoNLL-U file as `(item, annotations)` per sentence, in bounded memory."""
    if dependencies not in ("attributes", "relations"):
        raise ConversionError(
            f"unknown value {dependencies!r} for option dependencies",
            hint="use dependencies=attributes (default) or dependencies=relations",
        )
    found = issues if issues is not None else []
    st = stats if stats is not None else LineStats()
    reader = _Reader(path, found, dependencies)
    for sent in parse_sentences(iter_lines(path, fs, "utf-8", st), path, found):
        yield reader.item(sent)


class ConlluConverter:
    """CoNLL-U: one text item per sentence, lossless both ways for CoNLL-U input."""

    read_options: ClassVar[OptionSpec] = {"dependencies": str}
    write_options: ClassVar[OptionSpec] = {}


    name: ClassVar[str] = "conllu"
    description: ClassVar[str] = "CoNLL-U (Universal Dependencies), lossless round trip"
    extensions: ClassVar[tuple[str, ...]] = (".conllu",)

    def detect(self, head: bytes, path: str) -> float:
        if path.endswith(".conllu"):
            return 1.0
        for line in head.decode("utf-8", "replace").splitlines()[:50]:
            if line and not line.startswith("#"):
                first = line.split("\t")[0]
                return 0.6 if line.count("\t") == 9 and kind_of(first) == "word" else 0.0
        return 0.0

    def read(self, path: str, *, fs: AbstractFileSystem | None = None, **options: Any) -> Dataset:
        check_options(self.name, options, {"dependencies": str})
        refuse_if_other_format(self.name, path, fs)
        dependencies = str(options.pop("dependencies", None) or "attributes")
        options.pop("storage_options", None)
        issues: list[Issue] = []
        stats = LineStats()
        items: list[Item] = []
        anns: list[AnnotationBase] = []
        reader_rel: list[str] = []
        for item, extra in iter_conllu(
            path, fs=fs, issues=issues, dependencies=dependencies, stats=stats
        ):
            items.append(item)
            anns.extend(extra)
            reader_rel.extend(a.label for a in extra if isinstance(a, Relation) and a.label)
        issues.extend(_line_issues(path, stats))
        manifest = Manifest(name=PurePosixPath(path).stem)
        file_ext: dict[str, Any] = {}
        if not stats.final_newline:
            file_ext["final_newline"] = False
        if file_ext:
            manifest.extensions["conllu"] = file_ext
        if reader_rel:
            manifest.taxonomy = Taxonomy(
                label_sets=[
                    LabelSet(
                        name="deprel",
                        annotation_types=["relation"],
                        labels=[Label(name=r) for r in sorted(set(reader_rel))],
                    )
                ]
            )
        return Dataset(manifest, items, anns, issues=issues, source=path, source_format=self.name)

    def write(
        self, dataset: Dataset, path: str, *, fs: AbstractFileSystem | None = None, **options: Any
    ) -> ConversionReport:
        check_options(self.name, options, {}, direction="writing")
        options.pop("storage_options", None)
        overwrite = bool(options.pop("overwrite", False))
        refuse_existing(path, fs, overwrite)
        report = ConversionReport(format=self.name, outputs=[path])
        items = list(dataset.items)
        if items and all("n" in it.extensions.get("conllu", {}) for it in items):
            items.sort(key=lambda it: int(it.extensions["conllu"]["n"]))
        final = dataset.manifest.extensions.get("conllu", {}).get("final_newline", True)
        by_item = dataset.annotations_by_item()
        sentences = 0
        with atomic_text(path, fs, overwrite=overwrite) as out:
            texts = [it for it in items if it.kind == "text" and it.text is not None]
            for it in items:
                if it.kind != "text" or it.text is None:
                    report.issues.append(
                        issue(NO_TEXT, f"{it.kind} item has no text", record_id=it.id)
                    )
            for k, it in enumerate(texts):
                out.write(serialize(sentence_of(it), final or k + 1 < len(texts)))
                sentences += 1
                for ann in by_item.get(it.id, []):
                    if "conllu" not in ann.extensions:
                        report.issues.append(
                            issue(
                                DROPPED,
                                f"{getattr(ann, 'type', 'annotation')} annotation "
                                f"{ann.label or ''} has no CoNLL-U column",
                                record_id=ann.id,
                            )
                        )
        report.details = {"sentences": sentences}
        return report


def _line_issues(path: str, stats: LineStats) -> list[Issue]:
    out = [
        issue(
            ENCODING,
            "bytes that are not UTF-8 (read as Latin-1)",
            file=path,
            line=n,
            hint="CoNLL-U is UTF-8: re-encode the file (e.g. iconv -f latin1 -t utf-8)",
        )
        for n in stats.bad_lines
    ]
    if stats.crlf_lines:
        out.append(
            issue(
                CRLF,
                f"{len(stats.crlf_lines)} line(s) end in CRLF; they are written back with LF",
                file=path,
                line=stats.crlf_lines[0],
                hint="convert the file to LF line ends (dos2unix)",
            )
        )
    return out


def sentence_of(item: Item) -> Sentence:
    """The CoNLL-U lines for an item: from `extensions["conllu"]` when it came from CoNLL-U."""
    text = item.text or ""
    ext = item.extensions.get("conllu")
    tokens = item.tokens or [
        Token(start=m.start(), end=m.end()) for m in re.finditer(r"\S+", text)
    ]
    if ext is None:
        one_line = " ".join(text.split("\n"))
        comments = [f"# sent_id = {item.id}", f"# text = {one_line}"]
        extra: list[dict[str, Any]] = []
        separator = [""]
        leading: list[str] = []
        ids = [str(i + 1) for i in range(len(tokens))]
    else:
        comments = list(ext.get("comments", []))
        current = Sentence(comments=comments).text()
        if current is not None and current != text:
            comments = [
                f"# text = {text}" if Sentence(comments=[c]).text() is not None else c
                for c in comments
            ]
        extra = list(ext.get("rows", []))
        separator = list(ext.get("separator", [""]))
        leading = list(ext.get("leading", []))
        ids = list(ext.get("ids", [])) or [str(i + 1) for i in range(len(tokens))]
        if len(ids) != len(tokens):
            ids = [str(i + 1) for i in range(len(tokens))]
    words: list[list[str]] = []
    for i, tok in enumerate(tokens):
        form = tok.form if tok.form is not None else text[tok.start : tok.end]
        cols = [ids[i], form, *(tok.attributes.get(name, "_") for name in ATTRS)]
        if ext is None and i + 1 < len(tokens) and tokens[i + 1].start == tok.end:
            misc = cols[9]
            if "SpaceAfter=No" not in misc.split("|"):
                cols[9] = "SpaceAfter=No" if misc == "_" else f"{misc}|SpaceAfter=No"
        words.append(cols)
    rows: list[list[str]] = []
    special = {int(e["at"]): list(e["columns"]) for e in extra}
    it = iter(words)
    total = len(words) + len(special)
    for k in range(total):
        if k in special:
            rows.append(special.pop(k))
        else:
            nxt = next(it, None)
            if nxt is not None:
                rows.append(nxt)
    rows.extend(special.values())
    rows.extend(it)
    return Sentence(comments=comments, rows=rows, separator=separator, leading=leading)
