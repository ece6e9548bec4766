"""Generic JSON Lines: one record a line, fields mapped by options.

    {"id": "7", "text": "great phone", "label": "pos"}              classification
    {"text": "...", "label": ["sports", "politics"]}                 multi-label
    {"text": "...", "answer": "a free-text answer"}                  text annotation
    {"text": "...", "label": 2}      + label_names=["neg","neu","pos"] (HF ClassLabel ints)

Options (read and write): `text_field` ("text"), `label_field` ("label"), `id_field` ("id"),
`answer_field` ("answer"), `split_field` ("split"), `label_set` ("labels"), `label_names`
(list: int label -> name), `annotator` (annotator id for every label). Every other field of a
record is kept in `Item.metadata` and written back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from ..dataset import Dataset
from ..issues import Issue, define, issue
from ..models import AnnotationBase, Classification, Item, TextAnswer
from ._base import ConversionReport
from ._jsonio import (
    Collector,
    Where,
    dataset_name,
    first_byte,
    gc_paused,
    head_objects,
    iter_json_records,
    source_order,
    write_jsonl,
)
from ._mismatch import check_found
from ._options import OptionSpec, check_options

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

MISSING_TEXT = define(
    "jsonl.record.missing-text", "error", "A record has no text field and was skipped")
LABEL_NUMBER = define(
    "jsonl.label.number", "warning", "A label is a number, not a name")
LABEL_INVALID = define(
    "jsonl.label.invalid", "error", "A label is neither a string, a number nor a list of them")
DUPLICATE_ID = define(
    "jsonl.record.duplicate-id", "error", "Two records have the same id; the later was renamed")
NOT_WRITTEN = define(
    "jsonl.write.annotation-dropped", "warning",
    "An annotation the generic JSONL layout cannot hold was left out")

_DEFAULTS: dict[str, Any] = {
    "text_field": "text", "label_field": "label", "id_field": "id", "answer_field": "answer",
    "split_field": "split", "label_set": "labels", "label_names": None, "annotator": None,
}


_TYPES: OptionSpec = {
    **dict.fromkeys(_DEFAULTS, str), "label_names": list,
}


def _opts(options: dict[str, Any]) -> dict[str, Any]:
    check_options("jsonl", options, _TYPES)
    options.pop("storage_options", None)
    return {**_DEFAULTS, **{k: v for k, v in options.items() if v is not None}}


def label_names_of(value: Any, names: list[str] | None, where: Where, path: str,
                   issues: list[Issue]) -> list[str]:
    """Labels of a label field: a string, a number, or a list of them."""
    values = value if isinstance(value, list) else [value]
    out: list[str] = []
    for k, v in enumerate(values):
        sub = f"{path}[{k}]" if isinstance(value, list) else path
        if isinstance(v, str) and v:
            out.append(v)
        elif isinstance(v, int | float) and not isinstance(v, bool):
            if names is not None and isinstance(v, int) and 0 <= v < len(names):
                out.append(names[v])
                continue
            issues.append(issue(
                LABEL_NUMBER, f"label {v!r} is a number; kept as the name {str(v)!r}",
                hint="pass label_names=[...] (-o label_names='[\"neg\",\"pos\"]') to map "
                     "numbers to names", **where.at(sub)))
            out.append(str(v))
        elif v is None:
            continue
        else:
            issues.append(issue(
                LABEL_INVALID, "empty label ignored" if v == "" else
                f"label of type {type(v).__name__} ignored",
                hint="labels are strings (or lists of strings)", **where.at(sub)))
    return out


class JsonlConverter:
    read_options: ClassVar[OptionSpec] = _TYPES
    name: ClassVar[str] = "jsonl"
    description: ClassVar[str] = "generic JSON Lines (text + label / labels / answer per line)"
    extensions: ClassVar[tuple[str, ...]] = (".jsonl", ".ndjson")

    def detect(self, head: bytes, path: str) -> float:
        if first_byte(head) != b"{":
            return 0.0
        objs = head_objects(head, 5)
        if not objs or not all(isinstance(o, dict) for o in objs):
            return 0.0
        # The generic reader takes any object-per-line file: a low score other JSONL dialects
        # beat when they recognise their own keys.
        return 0.3 if all("text" in o for o in objs) else 0.1

    def read(self, path: str, *, fs: AbstractFileSystem | None = None, **options: Any) -> Dataset:
        with gc_paused():
            return self._read(path, fs=fs, **options)

    def _read(self, path: str, *, fs: AbstractFileSystem | None = None,
              **options: Any) -> Dataset:
        o = _opts(options)
        issues: list[Issue] = []
        col = Collector(tool="jsonl")
        items: list[Item] = []
        anns: list[AnnotationBase] = []
        seen: set[str] = set()
        for where, rec in iter_json_records(path, fs=fs, issues=issues):
            item = self._item(rec, where, o, seen, issues)
            if item is None:
                continue
            items.append(item)
            anns.extend(self._annotations(rec, item.id, where.with_id(item.id), o, col, issues))
        check_found(self.name, path, fs, items=len(items), issues=issues)
        manifest = col.manifest(dataset_name(path))
        return Dataset(manifest, items, anns, issues=issues, source=path, source_format=self.name)

    def _item(self, rec: dict[str, Any], where: Where, o: dict[str, Any], seen: set[str],
              issues: list[Issue]) -> Item | None:
        raw_id = rec.get(o["id_field"])
        item_id = str(raw_id) if raw_id not in (None, "") else str(where.line or where.index)
        text = rec.get(o["text_field"])
        if not isinstance(text, str):
            issues.append(issue(
                MISSING_TEXT,
                f"no string field {o['text_field']!r}"
                + (f" (found {type(text).__name__})" if text is not None else ""),
                hint=f"add the text, or name its field with text_field=... "
                     f"(fields here: {', '.join(sorted(rec)[:8])})",
                **where.at(f".{o['text_field']}", item_id)))
            return None
        if item_id in seen:
            new = f"{item_id}~{where.line or where.index}"
            issues.append(issue(DUPLICATE_ID, f"id {item_id!r} seen before; this one is {new!r}",
                                hint="ids must be unique", **where.at(f".{o['id_field']}", item_id)))
            item_id = new
        seen.add(item_id)
        used = {o["id_field"], o["text_field"], o["label_field"], o["answer_field"],
                o["split_field"]}
        split = rec.get(o["split_field"])
        return Item(
            id=item_id, kind="text", text=text,
            split=split if isinstance(split, str) else None,
            metadata={k: v for k, v in rec.items() if k not in used},
            extensions={"jsonl": {"order": len(seen) - 1, **(
                {"generated_id": True} if raw_id in (None, "") else {}), **(
                {"label_list": True} if isinstance(rec.get(o["label_field"]), list) else {})}},
        )

    def _annotations(self, rec: dict[str, Any], item_id: str, where: Where, o: dict[str, Any],
                     col: Collector, issues: list[Issue]) -> Iterator[AnnotationBase]:
        annotator = col.annotator(o["annotator"])
        n = 0
        if o["label_field"] in rec:
            value = rec[o["label_field"]]
            labels = label_names_of(value, o["label_names"], where, f".{o['label_field']}",
                                    issues)
            if isinstance(value, list):
                col.multi.add(o["label_set"])
            for label in labels:
                col.label(o["label_set"], label, "classification")
                yield Classification(id=f"{item_id}-{n}", item_id=item_id, label=label,
                                     label_set=o["label_set"], annotator=annotator)
                n += 1
        answer = rec.get(o["answer_field"])
        answers = answer if isinstance(answer, list) else [answer] if answer is not None else []
        for a in answers:
            if isinstance(a, str):
                yield TextAnswer(id=f"{item_id}-{n}", item_id=item_id, text=a,
                                 annotator=annotator)
                n += 1

    def write(self, dataset: Dataset, path: str, *, fs: AbstractFileSystem | None = None,
              **options: Any) -> ConversionReport:
        overwrite = bool(options.pop("overwrite", False))
        o = _opts(options)
        report = ConversionReport(format=self.name, outputs=[path])
        by_item = dataset.annotations_by_item()
        multi = {s.name for s in dataset.manifest.taxonomy.label_sets if s.multi_label}

        def records() -> Iterator[dict[str, Any]]:
            for item in source_order(dataset.items, "jsonl"):
                generated = item.extensions.get("jsonl", {}).get("generated_id", False)
                rec: dict[str, Any] = {} if generated else {o["id_field"]: item.id}
                if item.text is None:
                    report.issues.append(issue(
                        NOT_WRITTEN, f"item {item.id} has no text; written without it",
                        severity="warning", record_id=item.id))
                else:
                    rec[o["text_field"]] = item.text
                labels: list[str] = []
                answers: list[str] = []
                for ann in by_item.get(item.id, []):
                    if isinstance(ann, Classification):
                        labels.append(ann.label)
                    elif isinstance(ann, TextAnswer):
                        answers.append(ann.text)
                    else:
                        report.issues.append(issue(
                            NOT_WRITTEN, f"{ann.type} annotation {ann.id} has no place in "  # type: ignore[attr-defined]
                            "generic JSONL", record_id=ann.id))
                if labels:
                    as_list = len(labels) > 1 or bool(
                        item.extensions.get("jsonl", {}).get("label_list",
                                                            o["label_set"] in multi
                                                            and "jsonl" not in item.extensions))
                    rec[o["label_field"]] = labels if as_list else labels[0]
                if answers:
                    rec[o["answer_field"]] = answers if len(answers) > 1 else answers[0]
                if item.split is not None:
                    rec[o["split_field"]] = item.split
                for k, v in item.metadata.items():
                    rec.setdefault(k, v)
                yield rec

        n = write_jsonl(path, records(), fs=fs, overwrite=overwrite)
        report.details = {"records": n}
        return report
