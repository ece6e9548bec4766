"""Training-ready files: one row per item, one answer per item, in the shape trainers expect.

    classification   {"id", "text", "label"}            (label: a list for multi-label sets)
    ner              {"id", "text", "spans": [{"start", "end", "label"}]}
                     + "tokens", "ner_tags" (IOB2 strings) when the item has tokens
    preference       {"id", "prompt", "chosen", "rejected"}   (TRL standard or conversational)
    sft              {"id", "messages": [{"role", "content"}]}

Which annotations count: those with no status or status submitted / accepted / adjudicated,
made by human (or consensus / rule) annotators; predictions (model annotators) count only with
`include_models=True`. When several annotators labelled an item, `resolve` picks one answer:

- `majority`: the label most annotators gave (one vote per annotator). Ties are flagged, never
  guessed: by default (`ties="skip"`) an item whose top labels tie is left out and reported
  (`export.tie`); `ties="first"` takes the label that sorts first (still reported);
  `ties="fail"` raises `ConversionError` at the first tie of any kind. For spans, a span
  (start, end, label) is kept when more than half of the item's annotators marked it; a span
  exactly half of them marked is a tie: dropped and reported. For preferences, the pair most
  annotators preferred; a tie drops the item.
- `first`: the answer of the annotator whose annotation comes first in the dataset.
- `consensus` (classification and NER): the consensus annotations of `groundtruth.quality`
  (annotator kind `consensus`): those already in the dataset, else computed here by majority
  vote (`groundtruth.consensus`: spans are matched by overlap, not only exact offsets). A
  consensus the engine flags `needs_review` (a tie, low agreement, a single annotator) is left
  out and reported (`export.needs-review`).

- `adjudicated` (classification and NER): per item, the adjudications of a reviewer
  (annotator kind `adjudicator`, `groundtruth.adjudicate`) when it has any, else its consensus
  annotation when the dataset holds one not flagged `needs_review`, else the majority vote.
  Each row says which rule decided it (`resolved_by`: `adjudicated`, `consensus`, `majority`).
  An item a reviewer marked `guideline-unclear` goes to the next rule, reported
  (`export.guideline-unclear`).

Consensus and adjudication annotations already in a dataset never count as a vote under
`majority` or `first`.

Rejected classifications (a binary accept/reject task, such as Prodigy's textcat) are answers
too with `negatives=True`: a single-label set then gets the class `not LABEL`, a multi-label set
a row whose list leaves the label out (false); without it, an item whose labels were all
rejected is left out, reported as rejected.

Everything left out is in the returned report's `issues` (the loss report).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from .dataset import Dataset
from .errors import ConversionError
from .issues import define, issue
from .models import (
    AnnotationBase,
    Candidate,
    Classification,
    Item,
    Message,
    Ranking,
    Span,
    TextAnswer,
)

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

    from .converters import ConversionReport
    from .engine._base import Engine
    from .io._fs import PathLike

Task = Literal["classification", "ner", "preference", "sft"]
Resolve = Literal["majority", "first", "consensus", "adjudicated"]
TASKS: tuple[str, ...] = ("classification", "ner", "preference", "sft")
RESOLVE: tuple[str, ...] = ("majority", "first", "consensus", "adjudicated")
TIES: tuple[str, ...] = ("skip", "first", "fail")
_DERIVED_KINDS = ("consensus", "adjudicator")

NO_LABEL = define("export.no-label", "warning",
                  "An item has no usable annotation for the task; it was left out")
TIE = define("export.tie", "warning",
             "Annotators disagreed evenly; the stated tie-break applied or the answer was dropped")
NOT_ALIGNED = define("export.span-not-aligned", "warning",
                     "A span does not start and end on token boundaries; no IOB tags for it")
OVERLAP = define("export.span-overlap", "warning",
                 "Spans overlap; IOB tags can hold only the first of them")
NO_CONTENT = define("export.no-content", "warning",
                    "An item lacks the text or messages the task needs; it was left out")
NEEDS_REVIEW = define("export.needs-review", "warning",
                      "A consensus annotation is flagged for review; it was left out")
GUIDELINE_UNCLEAR = define("export.guideline-unclear", "warning",
                           "A reviewer marked the guideline unclear; the next rule decided")

USABLE_STATUS = {None, "submitted", "accepted", "adjudicated"}


def export(
    source: Dataset | PathLike,
    dst: PathLike,
    *,
    task: str,
    split: str | None = None,
    resolve: str = "majority",
    ties: str = "skip",
    format: str = "jsonl",
    from_format: str | None = None,
    label_set: str | None = None,
    include_models: bool = False,
    skip_empty: bool = False,
    negatives: bool = False,
    overwrite: bool = False,
    fs: AbstractFileSystem | None = None,
    storage_options: dict[str, Any] | None = None,
    engine: str | Engine | None = None,
    workers: int | None = None,
    verify: bool | None = None,
    **read_options: Any,
) -> ConversionReport:
    """Write one training file for `task` from a dataset (or any readable file).

    Args:
        source: a `Dataset`, or a path/URL read with `groundtruth.load` (`from_format`).
        dst: the file to write (JSONL or Parquet, by `format`).
        task: `classification`, `ner`, `preference` or `sft`.
        split: only items of this split (an error when no item has it).
        resolve: `majority`, `first`, `consensus` or `adjudicated` (see the module
            documentation).
        ties: under `majority`, what a tie does: `skip` (default: the item, or the tied spans
            or labels, are left out and reported), `first` (a single-label tie takes the label
            that sorts first, reported) or `fail` (`ConversionError` at the first tie).
        label_set: for classification, the label set to export (default: the only one used).
        include_models: count predictions (model annotators) as votes.
        skip_empty: for ner, leave out items with no spans instead of writing them as
            entity-free examples.
        negatives: for classification, rejected labels are answers too: `not LABEL` in a
            single-label set, the label left out of the list (false) in a multi-label one.
        engine: None (default) reads the dataset into this process; `local` or `dask` (or an
            engine object) spreads the work over buckets of items on that engine
            (`groundtruth.engine.export`), for native datasets, with the same file and report.
        workers: the engine's number of workers (dask; default 2).
        verify: a native source: check each part's hash and record count while reading it
            (`IntegrityError`); default True.

    Returns the report: `details` has the row count; `issues` lists what was left out;
    `dropped` (`report.lossy`) says when no row at all was written (`export.empty`), which the
    CLI turns into exit 1 unless --allow-loss. An existing `dst` is refused before any work
    unless `overwrite` (and a folder or the input itself always).
    """
    from .api import load
    from .converters import ConversionReport
    from .io._fs import resolve as resolve_fs

    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(TASKS)}")
    if resolve not in RESOLVE:
        raise ValueError(f"unknown resolve rule {resolve!r}; choose one of {', '.join(RESOLVE)}")
    if ties not in TIES:
        raise ValueError(f"unknown ties rule {ties!r}; choose one of {', '.join(TIES)}")
    if format not in ("jsonl", "parquet"):
        raise ValueError(f"unknown format {format!r}; choose jsonl or parquet")
    if engine is not None and resolve == "adjudicated":
        raise ConversionError("resolve='adjudicated' is not available on an engine",
                              hint="export without --engine")
    if verify is not None:
        from .io import reading

        with reading(verify=verify):
            return export(source, dst, task=task, split=split, resolve=resolve, ties=ties,
                          format=format,
                          from_format=from_format, label_set=label_set,
                          include_models=include_models, skip_empty=skip_empty,
                          negatives=negatives, overwrite=overwrite, fs=fs, storage_options=storage_options,
                          engine=engine, workers=workers, **read_options)
    from ._loss import export_empty
    from .converters._jsonio import check_destination

    check_destination(*resolve_fs(dst, fs=fs, storage_options=storage_options), overwrite)
    if not isinstance(source, Dataset):
        from .api import refuse_input_as_output

        refuse_input_as_output(source, dst, storage_options)
    if engine is not None:
        from .engine.export import export as export_on_engine

        engine_report = export_on_engine(
            source, dst, task=task, split=split, resolve=resolve, ties=ties, format=format,
            from_format=from_format, label_set=label_set, include_models=include_models,
            skip_empty=skip_empty, negatives=negatives, overwrite=overwrite, fs=fs,
            storage_options=storage_options, engine=engine, workers=workers, **read_options)
        engine_report.dropped = export_empty(engine_report, engine_report.details["items"])
        return engine_report
    ds = source if isinstance(source, Dataset) else load(
        source, format=from_format, storage_options=storage_options, **read_options)
    items = ds.items
    if split is not None:
        items = [it for it in items if it.split == split]
        if not items:
            present = sorted({it.split for it in ds.items if it.split}) or ["(none)"]
            raise ConversionError(f"no item is in split {split!r}",
                                  hint=f"splits in the data: {', '.join(present)}")
    if resolve in ("consensus", "adjudicated") and task not in ("classification", "ner"):
        raise ValueError(f"resolve={resolve!r} works for classification and ner; use majority "
                         "or first for preference and sft")
    report = ConversionReport(format=f"{task}-{format}", outputs=[str(dst)])
    ex = _Exporter(ds, report, resolve, include_models, label_set, ties=ties,
                   negatives=negatives)
    rows = list(ex.rows(task, items, skip_empty))
    filesystem, path = resolve_fs(dst, fs=fs, storage_options=storage_options)
    if format == "jsonl":
        from .converters._jsonio import write_jsonl

        write_jsonl(path, rows, fs=filesystem, overwrite=overwrite)
    else:
        _write_parquet(rows, task, path, filesystem, overwrite, ex.multi)
    dropped = Counter(i.code for i in report.issues)
    report.details = {"task": task, "rows": len(rows), "items": len(items), "resolve": resolve,
                      "ties": ties, "split": split, "dropped": dict(dropped)}
    report.dropped = export_empty(report, len(items))
    if resolve == "adjudicated":
        report.details["resolved_by"] = dict(Counter(r["resolved_by"] for r in rows))
    return report


class _Exporter:
    def __init__(self, ds: Dataset, report: ConversionReport, resolve: str,
                 include_models: bool, label_set: str | None, *, ties: str = "skip",
                 negatives: bool = False) -> None:
        self.ds = ds
        self.ties = ties
        self.negatives = negatives
        self.report = report
        self.resolve = resolve
        self.by_item = ds.annotations_by_item()
        self.kinds = {a.id: a.kind for a in ds.manifest.annotators}
        self.include_models = include_models
        self.label_set = label_set
        self.multi = False
        self.reviewed: set[str] = set()

    def usable(self, ann: AnnotationBase) -> bool:
        """Counts as an answer: a usable status, not a prediction unless asked, and not an
        earlier consensus (which is an answer only for `resolve=consensus`)."""
        return counts_as_answer(ann, self.kinds, self.include_models)

    def consensus_of(self, cls: type[AnnotationBase], ann_type: str,
                     label_set: str | None) -> dict[str, list[Any]]:
        """Item id -> its consensus annotations (existing ones, else computed by majority)."""
        out: dict[str, list[Any]] = defaultdict(list)
        for a in self._consensus_annotations(cls, ann_type, label_set):
            if a.consensus is not None and a.consensus.needs_review:
                self._needs_review(a)
                continue
            out[a.item_id].append(a)
        return out

    def _consensus_annotations(self, cls: type[AnnotationBase], ann_type: str,
                               label_set: str | None) -> list[Any]:
        """The dataset's consensus annotations of this kind, else ones computed by majority."""
        existing = [a for a in self.ds.annotations if of_kind(a, cls, label_set)
                    and self.kinds.get(a.annotator or "") == "consensus"]
        if existing:
            return existing
        from .quality._consensus import build_consensus
        from .quality._select import AgreementInputError

        sub = Dataset(self.ds.manifest, self.ds.items,
                      [a for a in self.ds.annotations
                       if of_kind(a, cls, label_set) and self.usable(a)])
        if not sub.annotations:
            return []
        try:
            res = build_consensus(sub, "majority", label_set=label_set, annotation_type=ann_type)
        except AgreementInputError as exc:
            raise ConversionError(f"consensus: {exc.message}", hint=exc.hint) from None
        self.report.details["consensus"] = {"computed": True, "method": "majority",
                                            "annotator": res.annotator.id}
        return res.annotations

    def layers(self, cls: type[AnnotationBase], label_set: str | None,
               ) -> tuple[dict[str, list[Any]], dict[str, list[Any]], set[str]]:
        """For `adjudicated`: item -> adjudications, item -> usable consensus, and the items
        a reviewer marked guideline-unclear."""
        adj: dict[str, list[Any]] = defaultdict(list)
        cons: dict[str, list[Any]] = defaultdict(list)
        unclear: set[str] = set()
        for a in self.ds.annotations:
            kind = self.kinds.get(a.annotator or "")
            if kind == "adjudicator" and a.adjudication is not None:
                if a.adjudication.decision == "guideline-unclear":
                    unclear.add(a.item_id)
                elif of_kind(a, cls, label_set) and a.status in USABLE_STATUS:
                    adj[a.item_id].append(a)
            elif (kind == "consensus" and of_kind(a, cls, label_set)
                  and not (a.consensus is not None and a.consensus.needs_review)):
                cons[a.item_id].append(a)
        return adj, cons, unclear - set(adj)

    def layered(self, item_id: str, layers: tuple[dict[str, list[Any]], dict[str, list[Any]],
                set[str]]) -> tuple[str, list[Any] | None]:
        """Which rule decides an item under `adjudicated`, and its annotations (None: vote)."""
        adj, cons, unclear = layers
        if item_id in adj:
            return "adjudicated", adj[item_id]
        if item_id in unclear:
            self._drop(GUIDELINE_UNCLEAR, f"item {item_id}: a reviewer marked the guideline "
                       "unclear; resolved by the next rule", item_id)
        if item_id in cons:
            return "consensus", cons[item_id]
        return "majority", None

    def _needs_review(self, ann: Any) -> None:
        self.reviewed.add(ann.item_id)
        self._drop(NEEDS_REVIEW, f"item {ann.item_id}: consensus {ann.id} needs review "
                   f"({ann.consensus.reason or 'flagged'})", ann.item_id)

    def _each(self, items: list[Item]) -> Iterator[Item]:
        """The items a task walks, one by one (a hook: the engine notes which item is current)."""
        yield from items

    def _classification_sets(self) -> Counter[str | None]:
        """How many classifications name each label set, in order of first use."""
        return Counter(a.label_set for a in self.ds.annotations if isinstance(a, Classification))

    def _conversational(self, items: list[Item]) -> bool:
        """Whether preference rows hold messages (any item is a conversation) or plain text."""
        return any(it.kind == "conversation" or any(c.messages for c in it.candidates)
                   for it in items)

    def _anns(self, item: Item, cls: type[AnnotationBase]) -> list[Any]:
        return [a for a in self.by_item.get(item.id, []) if isinstance(a, cls)
                and self.usable(a)]

    def rows(self, task: str, items: list[Item], skip_empty: bool) -> Iterator[dict[str, Any]]:
        if task == "classification":
            yield from self._classification(items)
        elif task == "ner":
            yield from self._ner(items, skip_empty)
        elif task == "preference":
            yield from self._preference(items)
        else:
            yield from self._sft(items)

    def _drop(self, code: str, message: str, record_id: str) -> None:
        self.report.issues.append(issue(code, message, record_id=record_id))

    def _tie(self, message: str, record_id: str) -> None:
        """Report a tie, or raise it when ties are to fail the export."""
        if self.ties == "fail":
            raise ConversionError(
                f"{message.split(';')[0]}: a tie, and ties are to fail the export",
                hint="leave tied items out (ties='skip', CLI --ties skip), take the first "
                     "label by name (ties='first'), or settle it in the data (gt adjudicate)")
        self._drop(TIE, message, record_id)

    # -- classification --------------------------------------------------------------------
    def _classification(self, items: list[Item]) -> Iterator[dict[str, Any]]:
        sets = self._classification_sets()
        lset = self.label_set or (sets.most_common(1)[0][0] if sets else None)
        if self.label_set is None and len(sets) > 1:
            self.report.details["label_sets_ignored"] = sorted(str(s) for s in sets if s != lset)
        spec = self.ds.manifest.label_set(lset) if lset else None
        self.multi = bool(spec and spec.multi_label)
        agreed = (self.consensus_of(Classification, "classification", lset)
                  if self.resolve == "consensus" else None)
        layers = (self.layers(Classification, lset) if self.resolve == "adjudicated" else None)
        for item in self._each(items):
            if item.text is None:
                self._drop(NO_CONTENT, f"item {item.id} has no text", item.id)
                continue
            rule, decided = (self.layered(item.id, layers) if layers is not None
                             else (self.resolve, None))
            rejected = [a for a in self.by_item.get(item.id, [])
                        if isinstance(a, Classification) and a.label_set == lset
                        and a.status == "rejected"
                        and answerer(a, self.kinds, self.include_models)]
            if agreed is not None:
                votes = _by_annotator(agreed.get(item.id, []))
            elif decided is not None:
                votes = {rule: decided}
            else:
                anns = [a for a in self._anns(item, Classification) if a.label_set == lset]
                votes = _by_annotator(anns + rejected if self.negatives else anns)
            if not votes:
                if item.id in self.reviewed:
                    pass  # already reported as needs-review
                elif rejected:
                    self._drop(NO_LABEL, f"item {item.id}: its {lset} label was rejected; left "
                               "out (negatives keep it as `not LABEL`)", item.id)
                else:
                    self._drop(NO_LABEL, f"item {item.id} has no usable {lset} label", item.id)
                continue
            one = decided is not None or self.resolve in ("first", "consensus")
            row: dict[str, Any] = {"id": item.id, "text": item.text}
            if self.multi:
                row["label"] = self._multi(item.id, votes, one)
            else:
                label = self._single(item.id, votes, one)
                if label is None:
                    continue
                row["label"] = label
            if layers is not None:
                row["resolved_by"] = rule
            yield row

    def _single(self, item_id: str, votes: dict[str, list[Any]], one: bool) -> str | None:
        if one:
            return _vote(next(iter(votes.values()))[0])
        counts = Counter(_vote(anns[0]) for anns in votes.values())
        top = max(counts.values())
        best = sorted(lab for lab, n in counts.items() if n == top)
        if len(best) > 1:
            tied = f"item {item_id}: labels {', '.join(map(str, best))} tie with {top} " \
                   f"vote{'s' if top > 1 else ''} each"
            if self.ties == "first":
                self._tie(f"{tied}; took {best[0]} (first by name)", item_id)
            else:
                self._tie(f"{tied}; left out", item_id)
                return None
        return str(best[0])

    def _multi(self, item_id: str, votes: dict[str, list[Any]], one: bool) -> list[str]:
        # a rejected label (negatives) is a vote for its absence: the voter counts, the label not
        if one:
            return sorted({str(a.label) for a in next(iter(votes.values()))
                           if a.status != "rejected"})
        n = len(votes)
        counts = Counter(lab for anns in votes.values()
                         for lab in {a.label for a in anns if a.status != "rejected"})
        tied = sorted(str(lab) for lab, c in counts.items() if 2 * c == n)
        if tied:
            self._tie(f"item {item_id}: labels {', '.join(tied)} chosen by exactly half of "
                      "the annotators; left out", item_id)
        return sorted(str(lab) for lab, c in counts.items() if 2 * c > n)

    # -- ner ---------------------------------------------------------------------------------
    def _ner(self, items: list[Item], skip_empty: bool) -> Iterator[dict[str, Any]]:
        agreed = (self.consensus_of(Span, "span", self.label_set)
                  if self.resolve == "consensus" else None)
        layers = self.layers(Span, self.label_set) if self.resolve == "adjudicated" else None
        for item in self._each(items):
            if item.text is None:
                self._drop(NO_CONTENT, f"item {item.id} has no text", item.id)
                continue
            rule, decided = (self.layered(item.id, layers) if layers is not None
                             else (self.resolve, None))
            all_spans = [a for a in self.by_item.get(item.id, []) if isinstance(a, Span)
                         and self.kinds.get(a.annotator or "") not in _DERIVED_KINDS]
            spans = [a for a in all_spans if self.usable(a)]
            if all_spans and not spans and decided is None:
                self._drop(NO_LABEL, f"item {item.id}: every span was rejected, ignored or "
                           "cancelled", item.id)
                continue
            if agreed is not None:
                chosen = sorted({(a.start, a.end, str(a.label)) for a in agreed.get(item.id, [])})
            elif decided is not None:
                chosen = sorted({(a.start, a.end, str(a.label)) for a in decided})
            else:
                chosen = self._resolve_spans(item.id, spans)
            if not chosen and skip_empty:
                self._drop(NO_LABEL, f"item {item.id} has no spans (skip_empty)", item.id)
                continue
            row: dict[str, Any] = {"id": item.id, "text": item.text, "spans": [
                {"start": s, "end": e, "label": lab} for s, e, lab in chosen]}
            if layers is not None:
                row["resolved_by"] = rule
            if item.tokens:
                row["tokens"] = [t.form if t.form is not None else item.text[t.start:t.end]
                                 for t in item.tokens]
                row["ner_tags"] = self._iob(item, chosen)
            yield row

    def _resolve_spans(self, item_id: str, spans: list[Span]) -> list[tuple[int, int, str]]:
        votes = _by_annotator(spans)
        if not votes:
            return []
        keyed = {who: {(a.start, a.end, str(a.label)) for a in anns}
                 for who, anns in votes.items()}
        if self.resolve == "first" or len(keyed) == 1:
            return sorted(next(iter(keyed.values())))
        n = len(keyed)
        counts = Counter(k for s in keyed.values() for k in s)
        tied = sorted(k for k, c in counts.items() if 2 * c == n)
        if tied:
            self._tie(f"item {item_id}: {len(tied)} span{'s' if len(tied) > 1 else ''} marked "
                      f"by exactly half of the {n} annotators; left out", item_id)
        return sorted(k for k, c in counts.items() if 2 * c > n)

    def _iob(self, item: Item, spans: list[tuple[int, int, str]]) -> list[str]:
        tags = ["O"] * len(item.tokens)
        starts = {t.start: i for i, t in enumerate(item.tokens)}
        ends = {t.end: i for i, t in enumerate(item.tokens)}
        for s, e, lab in spans:
            i, j = starts.get(s), ends.get(e)
            if i is None or j is None or j < i:
                self._drop(NOT_ALIGNED, f"item {item.id}: span [{s}, {e}) {lab} is not on "
                           "token boundaries", item.id)
                continue
            if any(tags[k] != "O" for k in range(i, j + 1)):
                self._drop(OVERLAP, f"item {item.id}: span [{s}, {e}) {lab} overlaps another",
                           item.id)
                continue
            tags[i] = f"B-{lab}"
            for k in range(i + 1, j + 1):
                tags[k] = f"I-{lab}"
        return tags

    # -- preference --------------------------------------------------------------------------
    def _preference(self, items: list[Item]) -> Iterator[dict[str, Any]]:
        conversational = self._conversational(items)
        for item in self._each(items):
            cands = {c.id: c for c in item.candidates}
            pairs = []
            for r in self._anns(item, Ranking):
                best, worst = r.ranking[0], r.ranking[-1]
                if len(r.ranking) >= 2 and best[0] in cands and worst[0] in cands:
                    pairs.append((r.annotator, (best[0], worst[0])))
            if not pairs:
                self._drop(NO_LABEL, f"item {item.id} has no usable ranking of two candidates",
                           item.id)
                continue
            pair = self._pick_pair(item.id, pairs)
            if pair is None:
                continue
            chosen, rejected = cands[pair[0]], cands[pair[1]]
            yield {"id": item.id, "prompt": _prompt(item, conversational),
                   "chosen": _response(chosen, conversational),
                   "rejected": _response(rejected, conversational)}

    def _pick_pair(self, item_id: str,
                   pairs: list[tuple[str | None, tuple[str, str]]]) -> tuple[str, str] | None:
        if self.resolve == "first":
            return pairs[0][1]
        per: dict[str | None, tuple[str, str]] = {}
        for who, pair in pairs:
            per.setdefault(who, pair)
        counts = Counter(per.values())
        top = max(counts.values())
        best = [p for p, n in counts.items() if n == top]
        if len(best) > 1:
            self._tie(f"item {item_id}: annotators split evenly between preferences; "
                      "left out", item_id)
            return None
        return best[0]

    # -- sft -----------------------------------------------------------------------------------
    def _sft(self, items: list[Item]) -> Iterator[dict[str, Any]]:
        for item in self._each(items):
            msgs = list(item.messages)
            if item.candidates:
                rankings = self._anns(item, Ranking)
                cands = {c.id: c for c in item.candidates}
                pair = self._pick_pair(item.id, [(r.annotator, (r.ranking[0][0], ""))
                                                 for r in rankings if r.ranking[0][0] in cands]
                                       ) if rankings else None
                if pair is None:
                    self._drop(NO_LABEL, f"item {item.id}: no preferred candidate to train on",
                               item.id)
                    continue
                best = cands[pair[0]]
                msgs += best.messages or [Message(role="assistant", content=best.text or "")]
                if not item.messages and item.text:
                    msgs.insert(0, Message(role="user", content=item.text))
            elif not msgs and item.text is not None:
                answers = self._anns(item, TextAnswer)
                if answers:
                    msgs = [Message(role="user", content=item.text),
                            Message(role="assistant", content=answers[0].text)]
            if not msgs:
                self._drop(NO_CONTENT, f"item {item.id} has no conversation", item.id)
                continue
            yield {"id": item.id, "messages": [{"role": m.role, "content": m.content}
                                               for m in msgs]}


def counts_as_answer(ann: AnnotationBase, kinds: Mapping[str, str],
                     include_models: bool) -> bool:
    """Whether an annotation is an answer (see `_Exporter.usable`); `kinds`: annotator kinds."""
    return ann.status in USABLE_STATUS and answerer(ann, kinds, include_models)


def answerer(ann: AnnotationBase, kinds: Mapping[str, str], include_models: bool) -> bool:
    """Whether its annotator's answers count: not a consensus, not a model unless asked."""
    kind = kinds.get(ann.annotator or "")
    return kind not in _DERIVED_KINDS and (include_models or kind != "model")


def _vote(ann: Any) -> str:
    """A single-label vote: the label, or `not LABEL` for a rejected one (negatives)."""
    return f"not {ann.label}" if ann.status == "rejected" else str(ann.label)


def of_kind(ann: AnnotationBase, cls: type[AnnotationBase], label_set: str | None) -> bool:
    """Whether an annotation is of the consensus kind asked for (any label set when None)."""
    return isinstance(ann, cls) and (label_set is None or ann.label_set == label_set)


def _by_annotator(anns: Iterable[Any]) -> dict[str, list[Any]]:
    """Annotations grouped by annotator (unknown annotators each count once), in order."""
    out: dict[str, list[Any]] = defaultdict(list)
    for a in anns:
        out[a.annotator if a.annotator is not None else "(unknown)"].append(a)
    return dict(out)


def _prompt(item: Item, conversational: bool) -> Any:
    if conversational:
        msgs = [{"role": m.role, "content": m.content} for m in item.messages]
        if not msgs and item.text:
            msgs = [{"role": "user", "content": item.text}]
        return msgs
    return item.text or ""


def _response(c: Candidate, conversational: bool) -> Any:
    if conversational:
        if c.messages:
            return [{"role": m.role, "content": m.content} for m in c.messages]
        return [{"role": "assistant", "content": c.text or ""}]
    if c.messages:
        return "\n\n".join(m.content for m in c.messages)
    return c.text or ""


def _arrow_schema(task: str, multi: bool, rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    msg = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
    if task == "classification":
        return pa.schema([("id", pa.string()), ("text", pa.string()),
                          ("label", pa.list_(pa.string()) if multi else pa.string())])
    if task == "ner":
        fields = [("id", pa.string()), ("text", pa.string()),
                  ("spans", pa.list_(pa.struct([("start", pa.int64()), ("end", pa.int64()),
                                                ("label", pa.string())])))]
        if any("tokens" in r for r in rows):
            fields += [("tokens", pa.list_(pa.string())), ("ner_tags", pa.list_(pa.string()))]
        return pa.schema(fields)
    if task == "preference":
        conv = bool(rows) and isinstance(rows[0]["prompt"], list)
        t = msg if conv else pa.string()
        return pa.schema([("id", pa.string()), ("prompt", t), ("chosen", t), ("rejected", t)])
    return pa.schema([("id", pa.string()), ("messages", msg)])


def _write_parquet(rows: list[dict[str, Any]], task: str, path: str, fs: AbstractFileSystem,
                   overwrite: bool, multi: bool) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .converters._jsonio import check_destination
    from .io._fs import atomic_write

    schema = _arrow_schema(task, multi, rows)
    table = pa.Table.from_pylist(rows, schema=schema)
    check_destination(fs, path, overwrite)
    with atomic_write(fs, path, overwrite=overwrite) as f:
        pq.write_table(table, f)
