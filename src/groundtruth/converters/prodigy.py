"""spaCy / Prodigy JSONL: spans with character and token offsets, answers, text classification.

    {"text": "Apple buys U.K. startup", "_input_hash": 1, "_task_hash": 2,
     "tokens": [{"text": "Apple", "start": 0, "end": 5, "id": 0}, ...],
     "spans": [{"start": 0, "end": 5, "token_start": 0, "token_end": 0, "label": "ORG"}],
     "answer": "accept", "_annotator_id": "news-alice", "_timestamp": 1700000000}

One item per input (`_input_hash`, else the line number): several annotators' answers on the
same input become annotations of one item, each carrying its annotator. Each line (a Prodigy
"task") keeps its own fields in the item's `extensions["prodigy"]["tasks"]`, so a Prodigy ->
groundtruth -> Prodigy round trip gives the same lines back. Prodigy's `token_end` is
INCLUSIVE; groundtruth's character `end` is exclusive.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from ..dataset import Dataset
from ..issues import Issue, define, issue
from ..models import AnnotationBase, Classification, Item, Span, Status, Token
from ._base import ConversionReport
from ._jsonio import (
    Collector,
    Where,
    dataset_name,
    first_byte,
    gc_paused,
    head_objects,
    iter_json_records,
    natural_order,
    parse_time,
    source_order,
    write_jsonl,
)
from ._mismatch import check_found
from ._offsets import OffsetMap, OffsetUnit, check_span
from ._options import OptionSpec, check_options
from .jsonl import label_names_of

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

MISSING_TEXT = define(
    "prodigy.record.missing-text", "error", "A Prodigy task has no text and was skipped")
BAD_TOKENS = define(
    "prodigy.tokens.invalid", "error", "A task's tokens do not fit its text; they were dropped")
TOKEN_MISMATCH = define(
    "prodigy.span.token-mismatch", "warning",
    "A span's token_start/token_end (inclusive) do not match its character offsets")
BAD_ANSWER = define(
    "prodigy.answer.unknown", "warning", "An answer is not accept, reject or ignore")
NOT_WRITTEN = define(
    "prodigy.write.annotation-dropped", "warning",
    "An annotation Prodigy's span/textcat JSONL cannot hold was left out")

_TOKEN_KEYS = frozenset(("text", "start", "end", "id", "ws"))


def _token(start: int, end: int, form: str | None) -> Token:
    """A Token from offsets already checked (ints, 0 <= start <= end <= len(text)).

    Skips pydantic validation, which costs more than parsing the line on long token lists;
    the values are exactly what validation would accept.
    """
    tok = Token.__new__(Token)
    object.__setattr__(tok, "__dict__", {"start": start, "end": end, "form": form,
                                         "attributes": {}})
    fields = {"start", "end", "form"} if form is not None else {"start", "end"}
    object.__setattr__(tok, "__pydantic_fields_set__", fields)
    object.__setattr__(tok, "__pydantic_extra__", None)
    object.__setattr__(tok, "__pydantic_private__", None)
    return tok


ANSWER_STATUS: dict[str, Status] = {"accept": "accepted", "reject": "rejected",
                                    "ignore": "ignored"}
STATUS_ANSWER = {v: k for k, v in ANSWER_STATUS.items()}
INPUT_KEYS = ("text", "meta", "_input_hash", "tokens")
"""Fields that belong to the input (shared by every answer to it), not to one task."""


_READ_OPTIONS: OptionSpec = {"offsets": str, "label_set": str}

class ProdigyConverter:
    read_options: ClassVar[OptionSpec] = _READ_OPTIONS
    write_options: ClassVar[OptionSpec] = {}
    name: ClassVar[str] = "prodigy"
    description: ClassVar[str] = "spaCy/Prodigy JSONL (spans, tokens, answers, textcat)"
    extensions: ClassVar[tuple[str, ...]] = (".jsonl",)

    def detect(self, head: bytes, path: str) -> float:
        if first_byte(head) not in (b"{", b"["):
            return 0.0
        objs = [o for o in head_objects(head, 10) if isinstance(o, dict)]
        if not objs:
            return 0.0
        if any("_input_hash" in o or "_task_hash" in o for o in objs):
            return 0.9
        if any(o.get("answer") in ANSWER_STATUS for o in objs):
            return 0.8
        if any(_is_span_list(o.get("spans")) for o in objs):
            return 0.7
        return 0.0

    def read(self, path: str, *, fs: AbstractFileSystem | None = None, **options: Any) -> Dataset:
        with gc_paused():
            return self._read(path, fs=fs, **options)

    def _read(self, path: str, *, fs: AbstractFileSystem | None = None,
              **options: Any) -> Dataset:
        check_options(self.name, options, _READ_OPTIONS)
        options.pop("storage_options", None)
        offsets: OffsetUnit = options.pop("offsets", "codepoints")
        label_set = options.pop("label_set", None)
        issues: list[Issue] = []
        col = Collector(tool="prodigy")
        items: dict[str, Item] = {}
        anns: list[AnnotationBase] = []
        for where, rec in iter_json_records(path, fs=fs, issues=issues):
            text = rec.get("text")
            h = rec.get("_input_hash")
            item_id = str(h) if isinstance(h, int) else str(where.line or where.index)
            w = where.with_id(item_id)
            if not isinstance(text, str):
                issues.append(issue(MISSING_TEXT, "task has no string `text`",
                                    hint="only text tasks are read", **w.at(".text")))
                continue
            item = items.get(item_id)
            if item is None:
                item = self._item(item_id, text, rec, w, issues, len(items))
                items[item_id] = item
            anns.extend(self._task(item, rec, w, col, issues, offsets, label_set))
        check_found(self.name, path, fs, items=len(items), issues=issues)
        manifest = col.manifest(dataset_name(path))
        return Dataset(manifest, items.values(), anns, issues=issues, source=path,
                       source_format=self.name)

    def _item(self, item_id: str, text: str, rec: dict[str, Any], where: Where,
              issues: list[Issue], order: int) -> Item:
        ext: dict[str, Any] = {"input": {k: rec[k] for k in ("meta", "_input_hash") if k in rec},
                               "tasks": [], "order": order}
        tokens: list[Token] = []
        raw = rec.get("tokens")
        if isinstance(raw, list) and raw:
            tokens = self._tokens(text, raw, where, issues)
            if tokens:
                keys = list(raw[0]) if isinstance(raw[0], dict) else []
                ext["token_keys"] = keys
                if "ws" in keys:
                    ext["token_ws"] = [t.get("ws") for t in raw]
                if any(t.get("id") != i for i, t in enumerate(raw)):
                    ext["token_ids"] = [t.get("id") for t in raw]
                if not all(_TOKEN_KEYS.issuperset(t) for t in raw):
                    ext["token_extra"] = [{k: v for k, v in t.items() if k not in _TOKEN_KEYS}
                                          for t in raw]
        return Item(id=item_id, kind="text", text=text, tokens=tokens,
                    extensions={"prodigy": ext})

    def _tokens(self, text: str, raw: list[Any], where: Where,
                issues: list[Issue]) -> list[Token]:
        out: list[Token] = []
        n = len(text)
        for i, t in enumerate(raw):
            s, e = (t.get("start"), t.get("end")) if isinstance(t, dict) else (None, None)
            if not (type(s) is int and type(e) is int and 0 <= s <= e <= n):
                issues.append(issue(BAD_TOKENS, f"token {i} has offsets {s!r}..{e!r} outside "
                                    f"the text ({n} characters)",
                                    hint="re-tokenise the text", **where.at(f".tokens[{i}]")))
                return []
            form = t.get("text")
            out.append(_token(s, e, form if isinstance(form, str) and form != text[s:e]
                              else None))
        return out

    def _task(self, item: Item, rec: dict[str, Any], where: Where, col: Collector,
              issues: list[Issue], offsets: OffsetUnit,
              label_set: str | None) -> Iterator[AnnotationBase]:
        tasks: list[dict[str, Any]] = item.extensions["prodigy"]["tasks"]
        t = len(tasks)
        fields = {k: v for k, v in rec.items() if k not in (*INPUT_KEYS, "spans")}
        tasks.append({"fields": fields, "has_spans": "spans" in rec})
        answer = rec.get("answer")
        status: Status | None = None
        if answer is not None:
            status = ANSWER_STATUS.get(answer) if isinstance(answer, str) else None
            if status is None:
                issues.append(issue(BAD_ANSWER, f"answer {answer!r} kept only in extensions",
                                    hint="Prodigy answers are accept, reject or ignore",
                                    **where.at(".answer")))
        who = rec.get("_annotator_id") or rec.get("_session_id")
        annotator = col.annotator(str(who)) if who is not None else None
        created = parse_time(rec.get("_timestamp"))
        base: dict[str, Any] = {"item_id": item.id, "annotator": annotator, "created": created,
                                "status": status}
        prefix = f"{item.id}-{t}"
        text = item.text or ""
        omap = OffsetMap(text)
        spans = rec.get("spans")
        for k, sp in enumerate(spans if isinstance(spans, list) else []):
            if not isinstance(sp, dict):
                continue
            loc = where.at(f".spans[{k}]")
            c = check_span(text, sp.get("start"), sp.get("end"), sp.get("text"),
                           offsets=offsets, omap=omap, **loc)
            if c.issue is not None:
                issues.append(c.issue)
            if not c.keep:
                continue
            self._check_tokens(item, sp, c.start, c.end, loc, issues)
            label = sp.get("label") or None
            lset = label_set or "ner"
            col.label(lset, label if isinstance(label, str) else None, "span")
            extra = {key: v for key, v in sp.items() if key not in ("start", "end", "label")}
            yield Span(id=f"{prefix}-{k}", start=c.start, end=c.end, text=text[c.start:c.end],
                       label=label if isinstance(label, str) else None, label_set=lset,
                       extensions={"prodigy": {"task": t, **extra}}, **base)
        if "label" in rec:
            lset = label_set or "textcat"
            for k, label in enumerate(label_names_of(rec["label"], None, where, ".label", issues)):
                col.label(lset, label, "classification")
                yield Classification(id=f"{prefix}-label-{k}", label=label, label_set=lset,
                                     extensions={"prodigy": {"task": t, "field": "label"}},
                                     **base)
        if isinstance(rec.get("accept"), list) and isinstance(rec.get("options"), list):
            lset = label_set or "choice"
            col.multi.add(lset)
            for k, chosen in enumerate(rec["accept"]):
                col.label(lset, str(chosen), "classification")
                yield Classification(id=f"{prefix}-accept-{k}", label=str(chosen),
                                     label_set=lset,
                                     extensions={"prodigy": {"task": t, "field": "accept"}},
                                     **base)

    def _check_tokens(self, item: Item, sp: dict[str, Any], start: int, end: int,
                      loc: dict[str, Any], issues: list[Issue]) -> None:
        ts, te = sp.get("token_start"), sp.get("token_end")
        if not item.tokens or not isinstance(ts, int) or not isinstance(te, int):
            return
        toks = item.tokens
        ok = 0 <= ts <= te < len(toks) and toks[ts].start == start and toks[te].end == end
        if not ok:
            issues.append(issue(
                TOKEN_MISMATCH,
                f"tokens {ts}..{te} (inclusive) do not cover characters [{start}, {end})",
                hint="Prodigy's token_end is inclusive; re-run the tokenizer on the text", **loc))

    # -- writing --------------------------------------------------------------------------
    def write(self, dataset: Dataset, path: str, *, fs: AbstractFileSystem | None = None,
              **options: Any) -> ConversionReport:
        check_options(self.name, options, {}, direction="writing")
        overwrite = bool(options.pop("overwrite", False))
        options.pop("storage_options", None)
        report = ConversionReport(format=self.name, outputs=[path])
        by_item = dataset.annotations_by_item()

        def lines() -> Iterator[dict[str, Any]]:
            for item in source_order(dataset.items, "prodigy"):
                if item.text is None:
                    report.issues.append(issue(NOT_WRITTEN, f"item {item.id} has no text",
                                               record_id=item.id))
                    continue
                anns = sorted(by_item.get(item.id, []), key=lambda a: natural_order(a.id))
                yield from self._lines(item, anns, report)

        n = write_jsonl(path, lines(), fs=fs, overwrite=overwrite)
        report.details = {"lines": n}
        return report

    def _lines(self, item: Item, anns: list[AnnotationBase],
               report: ConversionReport) -> Iterator[dict[str, Any]]:
        ext = item.extensions.get("prodigy", {})
        tasks: list[dict[str, Any]] = list(ext.get("tasks", []))
        groups: dict[int, list[AnnotationBase]] = {i: [] for i in range(len(tasks))}
        extra: dict[str | None, int] = {}
        for ann in anns:
            if not isinstance(ann, Span | Classification):
                report.issues.append(issue(
                    NOT_WRITTEN, f"{ann.type} annotation {ann.id} has no place in Prodigy "  # type: ignore[attr-defined]
                    "span/textcat JSONL", record_id=ann.id))
                continue
            t = ann.extensions.get("prodigy", {}).get("task")
            if not isinstance(t, int) or t not in groups:
                # Not from Prodigy: one task per annotator.
                if ann.annotator not in extra:
                    extra[ann.annotator] = len(tasks)
                    answer = STATUS_ANSWER.get(ann.status, "accept") if ann.status else "accept"
                    fields: dict[str, Any] = {"answer": answer}
                    if ann.annotator:
                        fields["_annotator_id"] = ann.annotator
                    tasks.append({"fields": fields, "has_spans": isinstance(ann, Span)})
                    groups[extra[ann.annotator]] = []
                t = extra[ann.annotator]
                tasks[t]["has_spans"] = tasks[t]["has_spans"] or isinstance(ann, Span)
            groups[t].append(ann)
        if not tasks:
            tasks = [{"fields": {}, "has_spans": False}]
            groups[0] = []
        tokens = self._tokens_out(item, ext)
        for t, task in enumerate(tasks):
            line: dict[str, Any] = {"text": item.text, **ext.get("input", {})}
            if tokens:
                line["tokens"] = tokens
            line.update(task["fields"])
            spans = [a for a in groups[t] if isinstance(a, Span)]
            if task.get("has_spans") or spans:
                line["spans"] = [self._span_out(s, item) for s in spans]
            for c in (a for a in groups[t] if isinstance(a, Classification)):
                field = c.extensions.get("prodigy", {}).get("field", "label")
                if field == "accept":
                    line.setdefault("accept", [])
                    if c.label not in line["accept"]:
                        line["accept"].append(c.label)
                else:
                    line["label"] = c.label
                if c.status in STATUS_ANSWER:
                    line["answer"] = STATUS_ANSWER[c.status]
            if spans and spans[0].status in STATUS_ANSWER:
                line["answer"] = STATUS_ANSWER[spans[0].status]
            yield line

    def _tokens_out(self, item: Item, ext: dict[str, Any]) -> list[dict[str, Any]]:
        text = item.text or ""
        keys = ext.get("token_keys") or ["text", "start", "end", "id"]
        ws = ext.get("token_ws")
        ids = ext.get("token_ids")
        extras = ext.get("token_extra")
        out = []
        for i, tok in enumerate(item.tokens):
            full: dict[str, Any] = {
                "text": tok.form if tok.form is not None else text[tok.start:tok.end],
                "start": tok.start, "end": tok.end,
                "id": ids[i] if ids and i < len(ids) else i,
                "ws": ws[i] if ws and i < len(ws) else text[tok.end:tok.end + 1] == " ",
            }
            d = {k: full[k] for k in keys if k in full}
            if extras and i < len(extras):
                d.update(extras[i])
            out.append(d)
        return out

    def _span_out(self, span: Span, item: Item) -> dict[str, Any]:
        ext = dict(span.extensions.get("prodigy", {}))
        ext.pop("task", None)
        out: dict[str, Any] = {"start": span.start, "end": span.end}
        if item.tokens:
            starts = [t.start for t in item.tokens]
            ends = [t.end for t in item.tokens]
            ts, te = bisect_left(starts, span.start), bisect_right(ends, span.end) - 1
            if ts < len(starts) and starts[ts] == span.start and te >= 0 and ends[te] == span.end:
                out["token_start"], out["token_end"] = ts, te
        for key in ("token_start", "token_end"):
            if key in ext:
                out[key] = ext.pop(key)
        if span.label is not None:
            out["label"] = span.label
        out.update(ext)
        return out


def _is_span_list(value: Any) -> bool:
    return (isinstance(value, list) and bool(value) and isinstance(value[0], dict)
            and "start" in value[0] and "end" in value[0])

