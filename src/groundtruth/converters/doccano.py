"""doccano JSONL (or its JSON array export).

    {"text": "...", "label": [[0, 6, "ORG"], [22, 39, "DATE"]]}                sequence labels
    {"text": "...", "entities": [{"id": 0, "start_offset": 0, "end_offset": 6,
      "label": "ORG"}], "relations": [{"from_id": 0, "to_id": 1, "type": "foundedAt"}]}
    {"text": "...", "label": ["positive"]}                                        classification
    {"text": "...", "label": ["a summary"]}   with task="seq2seq": text answers

`labels` (older versions) is read like `label`; `cats` holds categories next to spans (intent
detection). Every other field (`id` aside) stays in `Item.metadata`. doccano exports one file
per user in non-collaborative projects, with the user only in the file name: pass
`annotator="alice"` to record who made the labels. Offsets are checked against the text; doccano's
browser front end may have counted UTF-16 units (`offsets`: auto | codepoints | utf16).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from ..dataset import Dataset
from ..issues import Issue, define, issue
from ..models import (
    AnnotationBase,
    Classification,
    Item,
    Relation,
    Span,
    TextAnswer,
)
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
    source_order,
    unique_id,
    write_jsonl,
)
from ._mismatch import check_found
from ._offsets import OffsetMap, OffsetUnit, check_span
from ._options import OptionSpec, check_options
from .jsonl import label_names_of

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

MISSING_TEXT = define(
    "doccano.record.missing-text", "error", "A doccano record has no text and was skipped")
BAD_SPAN = define(
    "doccano.span.invalid", "error", "A span is not [start, end, label] and was skipped")
BAD_RELATION = define(
    "doccano.relation.dangling", "error",
    "A relation names an entity id the record does not have; it was skipped")
NOT_WRITTEN = define(
    "doccano.write.annotation-dropped", "warning",
    "An annotation doccano's JSONL cannot hold was left out")

Task = str  # auto | sequence_labeling | classification | seq2seq


_READ_OPTIONS: OptionSpec = {"offsets": str, "annotator": str, "task": str, "text_field": str}

class DoccanoConverter:
    read_options: ClassVar[OptionSpec] = _READ_OPTIONS
    write_options: ClassVar[OptionSpec] = {}
    name: ClassVar[str] = "doccano"
    description: ClassVar[str] = "doccano JSONL (sequence labels, relations, categories)"
    extensions: ClassVar[tuple[str, ...]] = (".jsonl", ".json")

    def detect(self, head: bytes, path: str) -> float:
        if first_byte(head) not in (b"{", b"["):
            return 0.0
        objs = [o for o in head_objects(head, 10) if isinstance(o, dict)]
        score = 0.0
        for o in objs:
            label = o.get("label", o.get("labels"))
            if isinstance(o.get("entities"), list) and (
                not o["entities"] or "start_offset" in o["entities"][0]
            ):
                return 0.8
            if isinstance(label, list) and label and isinstance(label[0], list):
                return 0.8
            if isinstance(label, list) and "text" in o:
                score = 0.5  # a list of names: doccano classification (beats generic JSONL)
        return score

    def read(self, path: str, *, fs: AbstractFileSystem | None = None, **options: Any) -> Dataset:
        with gc_paused():
            return self._read(path, fs=fs, **options)

    def _read(self, path: str, *, fs: AbstractFileSystem | None = None,
              **options: Any) -> Dataset:
        check_options(self.name, options, _READ_OPTIONS)
        options.pop("storage_options", None)
        offsets: OffsetUnit = options.pop("offsets", "auto")
        annotator_opt = options.pop("annotator", None)
        task: Task = options.pop("task", "auto")
        text_field = options.pop("text_field", "text")
        issues: list[Issue] = []
        col = Collector(tool="doccano")
        annotator = col.annotator(str(annotator_opt)) if annotator_opt else None
        items: list[Item] = []
        anns: list[AnnotationBase] = []
        seen: set[str] = set()
        for where, rec in iter_json_records(path, fs=fs, issues=issues):
            raw_id = rec.get("id")
            item_id = str(raw_id) if raw_id not in (None, "") else str(where.line or where.index)
            item_id = unique_id(seen, item_id, where, issues)
            w = where.with_id(item_id)
            text = rec.get(text_field)
            if not isinstance(text, str):
                issues.append(issue(MISSING_TEXT, f"record has no string `{text_field}`",
                                    hint="pass text_field=... if the text is elsewhere",
                                    **w.at(f".{text_field}")))
                continue
            used = {"id", text_field, "label", "labels", "entities", "relations", "cats"}
            ext: dict[str, Any] = {"order": len(items)}
            if raw_id in (None, ""):
                ext["generated_id"] = True
            if "labels" in rec and "label" not in rec:
                ext["label_key"] = "labels"
            items.append(Item(id=item_id, kind="text", text=text,
                              metadata={k: v for k, v in rec.items() if k not in used},
                              extensions={"doccano": ext}))
            anns.extend(self._annotations(rec, item_id, text, w, col, issues, annotator,
                                          offsets, task))
        check_found(self.name, path, fs, items=len(items), issues=issues)
        manifest = col.manifest(dataset_name(path))
        return Dataset(manifest, items, anns, issues=issues, source=path,
                       source_format=self.name)

    def _annotations(self, rec: dict[str, Any], item_id: str, text: str, where: Where,
                     col: Collector, issues: list[Issue], annotator: str | None,
                     offsets: OffsetUnit, task: Task) -> Iterator[AnnotationBase]:
        omap = OffsetMap(text)
        key = "label" if "label" in rec else "labels"
        label = rec.get(key)
        base: dict[str, Any] = {"item_id": item_id, "annotator": annotator}
        n = 0

        def span(start: Any, end: Any, lab: Any, path: str, ann_id: str) -> Span | None:
            c = check_span(text, start, end, None, offsets=offsets, omap=omap,
                           **where.at(path))
            if c.issue is not None:
                issues.append(c.issue)
            if not c.keep:
                return None
            names = label_names_of(lab, None, where, path + "[2]" if path.startswith(
                f".{key}") else path + ".label", issues)
            name = names[0] if names else None
            col.label("ner", name, "span")
            return Span(id=ann_id, start=c.start, end=c.end, text=text[c.start:c.end],
                        label=name, label_set="ner", **base)

        if isinstance(label, list) and label and all(isinstance(x, list) for x in label):
            for k, x in enumerate(label):
                if len(x) != 3:
                    issues.append(issue(BAD_SPAN, f"span has {len(x)} values, not 3",
                                        hint="spans are [start, end, label]",
                                        **where.at(f".{key}[{k}]")))
                    continue
                s = span(x[0], x[1], x[2], f".{key}[{k}]", f"{item_id}-{n}")
                if s is not None:
                    n += 1
                    yield s
        elif label is not None and label != []:
            values = label if isinstance(label, list) else [label]
            if task == "seq2seq":
                for v in values:
                    if isinstance(v, str):
                        yield TextAnswer(id=f"{item_id}-{n}", text=v, **base)
                        n += 1
            else:
                names = label_names_of(label, None, where, f".{key}", issues)
                if len(names) > 1:  # doccano always writes a list; several names = multi-label
                    col.multi.add("categories")
                for name in names:
                    col.label("categories", name, "classification")
                    yield Classification(id=f"{item_id}-{n}", label=name,
                                         label_set="categories", **base)
                    n += 1
        cats = rec.get("cats")
        if isinstance(cats, list):
            for name in label_names_of(cats, None, where, ".cats", issues):
                col.label("categories", name, "classification")
                yield Classification(id=f"{item_id}-{n}", label=name, label_set="categories",
                                     extensions={"doccano": {"field": "cats"}}, **base)
                n += 1
        ids: dict[Any, str] = {}
        entities = rec.get("entities")
        for k, e in enumerate(entities if isinstance(entities, list) else []):
            if not isinstance(e, dict):
                continue
            eid = e.get("id", k)
            ann_id = f"{item_id}-e{eid if isinstance(eid, int | str) else k}"
            if ann_id in ids.values():
                ann_id = f"{ann_id}~{k}"
            s = span(e.get("start_offset"), e.get("end_offset"), e.get("label"),
                     f".entities[{k}]", ann_id)
            if s is not None:
                s.extensions = {"doccano": {"entity_id": e.get("id")}}
                ids[_key(e.get("id"))] = ann_id
                yield s
        relations = rec.get("relations")
        rel_ids: set[str] = set()
        for k, r in enumerate(relations if isinstance(relations, list) else []):
            if not isinstance(r, dict):
                continue
            src, dst = ids.get(_key(r.get("from_id"))), ids.get(_key(r.get("to_id")))
            if src is None or dst is None:
                issues.append(issue(BAD_RELATION,
                                    f"relation {r.get('from_id')!r} -> {r.get('to_id')!r} "
                                    "names a missing entity", hint="relations link entity ids",
                                    **where.at(f".relations[{k}]")))
                continue
            rtype = r.get("type")
            col.label("relations", rtype if isinstance(rtype, str) else None, "relation")
            ext = {"relation_id": r["id"]} if "id" in r else {}
            rid = r.get("id", k)
            rel_id = f"{item_id}-r{rid if isinstance(rid, int | str) else k}"
            if rel_id in rel_ids:
                rel_id = f"{rel_id}~{k}"
            rel_ids.add(rel_id)
            yield Relation(id=rel_id, source=src, target=dst,
                           label=rtype if isinstance(rtype, str) else None,
                           label_set="relations", extensions={"doccano": ext} if ext else {},
                           **base)

    # -- writing --------------------------------------------------------------------------
    def write(self, dataset: Dataset, path: str, *, fs: AbstractFileSystem | None = None,
              **options: Any) -> ConversionReport:
        check_options(self.name, options, {}, direction="writing")
        overwrite = bool(options.pop("overwrite", False))
        options.pop("storage_options", None)
        report = ConversionReport(format=self.name, outputs=[path])
        by_item = dataset.annotations_by_item()

        def records() -> Iterator[dict[str, Any]]:
            for item in source_order(dataset.items, "doccano"):
                if item.text is None:
                    report.issues.append(issue(NOT_WRITTEN, f"item {item.id} has no text",
                                               record_id=item.id))
                    continue
                anns = sorted(by_item.get(item.id, []), key=lambda a: natural_order(a.id))
                yield self._record(item, anns, report)

        n = write_jsonl(path, records(), fs=fs, overwrite=overwrite)
        report.details = {"records": n}
        return report

    def _record(self, item: Item, anns: list[AnnotationBase],
                report: ConversionReport) -> dict[str, Any]:
        ext = item.extensions.get("doccano", {})
        rec: dict[str, Any] = {} if ext.get("generated_id") else {"id": _id_value(item.id)}
        rec["text"] = item.text
        spans = [a for a in anns if isinstance(a, Span)]
        rels = [a for a in anns if isinstance(a, Relation)]
        classes = [a for a in anns if isinstance(a, Classification)]
        answers = [a for a in anns if isinstance(a, TextAnswer)]
        for a in anns:
            if not isinstance(a, Span | Relation | Classification | TextAnswer):
                report.issues.append(issue(NOT_WRITTEN, f"{a.type} annotation {a.id} has no "  # type: ignore[attr-defined]
                                           "place in doccano JSONL", record_id=a.id))
        key = ext.get("label_key", "label")
        if rels:
            ent_ids: dict[str, Any] = {}
            entities = []
            for k, s in enumerate(spans):
                eid = s.extensions.get("doccano", {}).get("entity_id", k)
                ent_ids[s.id] = eid
                entities.append({"id": eid, "label": s.label, "start_offset": s.start,
                                 "end_offset": s.end})
            rec["entities"] = entities
            out_rels = []
            for r in rels:
                if r.source not in ent_ids or r.target not in ent_ids:
                    report.issues.append(issue(NOT_WRITTEN, f"relation {r.id} links a "
                                               "non-span annotation", record_id=r.id))
                    continue
                rd: dict[str, Any] = {}
                rid = r.extensions.get("doccano", {}).get("relation_id")
                if rid is not None:
                    rd["id"] = rid
                rd.update(from_id=ent_ids[r.source], to_id=ent_ids[r.target], type=r.label)
                out_rels.append(rd)
            rec["relations"] = out_rels
            if classes:
                rec["cats"] = [c.label for c in classes]
        elif spans:
            rec[key] = [[s.start, s.end, s.label] for s in spans]
            if classes:
                rec["cats"] = [c.label for c in classes]
        elif classes:
            cats = [c for c in classes if c.extensions.get("doccano", {}).get("field") == "cats"]
            plain = [c for c in classes if c not in cats]
            if plain:
                rec[key] = [c.label for c in plain]
            if cats:
                rec["cats"] = [c.label for c in cats]
        elif answers:
            rec[key] = [a.text for a in answers]
        else:
            rec[key] = []
        for name, v in item.metadata.items():
            rec.setdefault(name, v)
        return rec


def _key(value: Any) -> str:
    """A dict key for an entity id of any JSON type (ids should be ints or strings)."""
    return repr(value)


def _id_value(item_id: str) -> Any:
    return int(item_id) if item_id.isascii() and item_id.isdigit() else item_id

