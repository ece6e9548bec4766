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

import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar

from ..dataset import Dataset
from ..errors import ConversionError
from ..issues import Issue, issue
from ..models import AnnotationBase, Item, Label, LabelSet, Manifest, Taxonomy
from ._base import ConversionReport
from ._conll_read import (
    DOCSTART,
    READ_OPTIONS,
    ConllFileInfo,
    ConllOptions,
    column_names,
    iter_conll,
    tag_column_of,
)
from ._conll_write import ITEM_NO_TEXT, ColumnWriter, tokenizer_of
from ._mismatch import refuse_if_other_format
from ._options import Option, OptionSpec, check_options
from ._tagging import SCHEMES, parse_scheme
from ._textio import atomic_text, refuse_existing

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = ["ConllConverter", "ConllFileInfo", "ConllOptions", "iter_conll"]

_WRITE_OPTIONS: OptionSpec = {
    "columns": Option((str, list), help="column names, comma-separated (token first, tag last)", default="as read, else token,ner"),
    "tag_column": Option(str, help="the column to write entity tags to", default="found from the columns"),
    "scheme": Option(str, help="tag scheme: iob1, iob2, bioes, bilou or io", default="as read, else iob2"),
    "sep": Option(str, help="column separator: tab or space", default="as read, else tab"),
    "tokenizer": Option(str, help="how texts without tokens are split: whitespace or regex:PATTERN", default="whitespace"),
    "label_set": Option(str, help="the span label set to write", default="the one the spans use"),
    "encoding": Option(str, help="text encoding of the file", default="utf-8"),
    "multi_tag_sep": Option(str, help="separator of several tags in one cell", default=","),
}


class ConllConverter:
    """CoNLL column files: token first, tag last, any tag scheme."""

    read_options: ClassVar[OptionSpec] = READ_OPTIONS
    write_options: ClassVar[OptionSpec] = _WRITE_OPTIONS

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
        if not options.get("columns"):  # a named layout says the user knows the file
            refuse_if_other_format(self.name, path, fs)
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
        check_options(self.name, options, _WRITE_OPTIONS, direction="writing")
        options.pop("storage_options", None)
        overwrite = bool(options.pop("overwrite", False))
        refuse_existing(path, fs, overwrite)
        src = dataset.manifest.extensions.get("conll", {})
        scheme_name = str(options.get("scheme") or src.get("scheme") or "iob2")
        try:
            scheme = parse_scheme(scheme_name)
        except ValueError as exc:
            raise ConversionError(str(exc), hint=f"schemes: {', '.join(SCHEMES)}") from None
        sep_name = str(options.get("sep") or src.get("sep") or "tab")
        if sep_name not in ("tab", "space"):
            raise ConversionError(f"sep={sep_name!r}: use tab or space")
        columns = column_names(options.get("columns")) or list(src.get("columns") or ["token", "ner"])
        if "token" not in columns:
            raise ConversionError("columns= must name a `token` column")
        writer = ColumnWriter(
            columns=columns,
            tag_column=str(options.get("tag_column") or tag_column_of(columns) or ""),
            scheme=scheme,
            sep="\t" if sep_name == "tab" else " ",
            tokenizer=tokenizer_of(str(options.get("tokenizer") or "whitespace")),
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
        with atomic_text(path, fs, encoding, overwrite=overwrite) as out:
            for k, it in enumerate(texts):
                lines = writer.item_lines(it, by_item.get(it.id, []), report.issues)
                if k + 1 == len(texts):
                    lines.extend(src.get("trailing", []))
                chunk = "\n".join(lines)
                out.write(chunk + "\n" if final or k + 1 < len(texts) else chunk)
            if not texts and src.get("trailing"):  # a file of blank or -DOCSTART- lines only
                out.write("\n".join(src["trailing"]) + "\n")
        report.issues.extend(writer.dropped_attribute_issues())
        report.details = {"scheme": scheme, "sentences": writer.sentences, "columns": columns}
        return report
