"""Writing CoNLL column files from any text dataset: tokens, columns, tags, the loss report."""

from __future__ import annotations

import itertools
import re
from typing import Any

from ..errors import ConversionError
from ..issues import Issue, define, issue
from ..models import AnnotationBase, Item, Span, Token
from ._tagging import (
    Entity,
    Scheme,
    encode_multi,
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


def tokenizer_of(spec: str) -> re.Pattern[str]:
    """`whitespace` or `regex:<pattern>` as a pattern whose matches are the tokens."""
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


class ColumnWriter:
    """Lines of a column file for one item at a time; losses go to the caller's issue list."""

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
