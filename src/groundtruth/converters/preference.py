"""Preference, ranking and chat JSONL (RLHF / DPO / SFT data).

Read, one record a line:

    {"chosen": "\\n\\nHuman: hi\\n\\nAssistant: hello", "rejected": "..."}       Anthropic HH
    {"prompt": "...", "chosen": "...", "rejected": "..."}                        TRL standard
    {"prompt": [{"role": "user", ...}], "chosen": [...], "rejected": [...]}      TRL conversational
    {"chosen": [messages], "rejected": [messages]}                              implicit prompt
    {"prompt": "...", "responses": ["a", "b", "c"], "ranking": [2, 0, 1]}       rankings
    {"prompt": "...", "responses": [...], "scores": [0.1, 0.9, 0.5]}
    {"messages": [{"role": "system", ...}, ...]}                                chat (SFT)

The turns two transcripts share become the item's conversation `messages`; the turns where they
differ become the item's `candidates` (`chosen`, `rejected`, or `r0`, `r1`, ...); the preference
is a `ranking` annotation (`[["chosen"], ["rejected"]]`, best first; ties share a group).
`score_chosen`/`score_rejected` become the ranking's `scores`. Other fields stay in
`Item.metadata`. Writing uses the record's original layout (kept in `extensions["preference"]`)
or, for data from elsewhere, the TRL standard / conversational layout.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from ..dataset import Dataset
from ..issues import Issue, define, issue
from ..models import AnnotationBase, Candidate, Item, Message, Ranking
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
from ._options import OptionSpec, check_options

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

MISSING = define(
    "preference.record.missing-field", "error",
    "A record has neither chosen/rejected, responses nor messages; it was skipped")
BAD_MESSAGE = define(
    "preference.message.invalid", "error",
    "A message is not an object with a string role and content; the record was skipped")
BAD_RANKING = define(
    "preference.ranking.invalid", "error",
    "A ranking does not list response indices; the record was read without it")
NOT_WRITTEN = define(
    "preference.write.lossy", "warning",
    "An item or ranking the preference layout cannot hold fully (ties, more than two "
    "responses, no ranking)")

_TURN = re.compile(r"\n\n(Human|Assistant): ")
_ROLE = {"Human": "user", "Assistant": "assistant"}
_HH = {v: k for k, v in _ROLE.items()}


_READ_OPTIONS: OptionSpec = {"annotator": str, "id_field": str}

class _Bad(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path


def parse_hh(text: str) -> list[Message] | None:
    """Turns of an Anthropic HH transcript, or None when it is not exactly one."""
    parts = _TURN.split(text)
    if len(parts) < 3 or parts[0] != "":
        return None
    out = [Message(role=_ROLE[parts[i]], content=parts[i + 1]) for i in range(1, len(parts), 2)]
    return out if render_hh(out) == text else None


def render_hh(messages: list[Message]) -> str:
    return "".join(f"\n\n{_HH.get(m.role, m.role.capitalize())}: {m.content}" for m in messages)


def _messages(value: Any, path: str) -> list[Message]:
    if not isinstance(value, list):
        raise _Bad(path, "expected a list of messages")
    out = []
    for k, m in enumerate(value):
        if not (isinstance(m, dict) and isinstance(m.get("role"), str)
                and isinstance(m.get("content"), str)):
            raise _Bad(f"{path}[{k}]", "a message needs string `role` and `content`")
        rest = {key: v for key, v in m.items() if key not in ("role", "content", "name")}
        out.append(Message(role=m["role"], content=m["content"], name=m.get("name"),
                           metadata=rest))
    return out


def _common(a: list[Message], b: list[Message]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


class PreferenceConverter:
    read_options: ClassVar[OptionSpec] = _READ_OPTIONS
    write_options: ClassVar[OptionSpec] = {}
    name: ClassVar[str] = "preference"
    description: ClassVar[str] = "preference pairs, rankings and chat JSONL (TRL, HH-RLHF)"
    extensions: ClassVar[tuple[str, ...]] = (".jsonl",)

    def detect(self, head: bytes, path: str) -> float:
        if first_byte(head) != b"{":
            return 0.0
        objs = [o for o in head_objects(head, 5) if isinstance(o, dict)]
        if not objs:
            return 0.0
        if all("chosen" in o and "rejected" in o for o in objs):
            return 0.9
        if all(isinstance(o.get("responses", o.get("completions")), list) for o in objs):
            return 0.7
        if all(isinstance(o.get("messages"), list) for o in objs):
            return 0.6
        return 0.0

    def read(self, path: str, *, fs: AbstractFileSystem | None = None, **options: Any) -> Dataset:
        with gc_paused():
            return self._read(path, fs=fs, **options)

    def _read(self, path: str, *, fs: AbstractFileSystem | None = None,
              **options: Any) -> Dataset:
        check_options(self.name, options, _READ_OPTIONS)
        options.pop("storage_options", None)
        annotator_opt = options.pop("annotator", None)
        id_field = options.pop("id_field", "id")
        issues: list[Issue] = []
        col = Collector(tool="preference")
        annotator = col.annotator(str(annotator_opt)) if annotator_opt else None
        items: list[Item] = []
        anns: list[AnnotationBase] = []
        seen: set[str] = set()
        for where, rec in iter_json_records(path, fs=fs, issues=issues):
            raw_id = rec.get(id_field)
            item_id = str(raw_id) if raw_id not in (None, "") else str(where.line or where.index)
            item_id = unique_id(seen, item_id, where, issues, f".{id_field}")
            w = where.with_id(item_id)
            try:
                got = self._record(rec, item_id, w, issues, id_field)
            except _Bad as exc:
                issues.append(issue(BAD_MESSAGE, str(exc), **w.at(exc.path)))
                continue
            if got is None:
                continue
            item, ranking = got
            if raw_id in (None, ""):
                item.extensions["preference"]["generated_id"] = True
            item.extensions["preference"]["order"] = len(items)
            items.append(item)
            if ranking is not None:
                ranking.annotator = annotator
                col.label("preference", None, "ranking")
                anns.append(ranking)
        check_found(self.name, path, fs, items=len(items), issues=issues)
        manifest = col.manifest(dataset_name(path))
        return Dataset(manifest, items, anns, issues=issues, source=path,
                       source_format=self.name)

    def _record(self, rec: dict[str, Any], item_id: str, where: Where, issues: list[Issue],
                id_field: str) -> tuple[Item, Ranking | None] | None:
        if "chosen" in rec and "rejected" in rec:
            used = {id_field, "prompt", "chosen", "rejected", "score_chosen", "score_rejected"}
            item, style = self._pair(rec, item_id)
            scores = {k: float(rec[f"score_{k}"]) for k in ("chosen", "rejected")
                      if isinstance(rec.get(f"score_{k}"), int | float)}
            ranking: Ranking | None = Ranking(id=f"{item_id}-pref", item_id=item_id,
                                              ranking=[["chosen"], ["rejected"]],
                                              label_set="preference", scores=scores)
        elif isinstance(rec.get("responses", rec.get("completions")), list):
            key = "responses" if "responses" in rec else "completions"
            used = {id_field, "prompt", key, "ranking", "scores"}
            item, ranking, style = self._ranked(rec, key, item_id, where, issues)
        elif "messages" in rec:
            used = {id_field, "messages"}
            msgs = _messages(rec["messages"], ".messages")
            if not msgs:
                raise _Bad(".messages", "a chat needs at least one message")
            item = Item(id=item_id, kind="conversation", messages=msgs)
            ranking, style = None, "chat"
        else:
            issues.append(issue(MISSING, "no chosen/rejected, responses or messages",
                                hint="a preference record needs `chosen` and `rejected` (or "
                                "`responses` + `ranking`, or `messages`)", **where.at()))
            return None
        item.metadata = {k: v for k, v in rec.items() if k not in used}
        item.extensions = {"preference": {"style": style}}
        return item, ranking

    def _pair(self, rec: dict[str, Any], item_id: str) -> tuple[Item, str]:
        chosen, rejected, prompt = rec["chosen"], rec["rejected"], rec.get("prompt")
        if isinstance(chosen, str) and isinstance(rejected, str):
            if isinstance(prompt, str):
                return Item(id=item_id, kind="text", text=prompt, candidates=[
                    Candidate(id="chosen", text=chosen),
                    Candidate(id="rejected", text=rejected)]), "standard"
            c, r = parse_hh(chosen), parse_hh(rejected)
            if c is not None and r is not None:
                return self._split(item_id, c, r), "hh"
            return Item(id=item_id, kind="text", text="", candidates=[
                Candidate(id="chosen", text=chosen),
                Candidate(id="rejected", text=rejected)]), "implicit"
        c = _messages(chosen, ".chosen")
        r = _messages(rejected, ".rejected")
        if prompt is not None:
            p = _messages(prompt, ".prompt")
            return Item(id=item_id, kind="conversation" if p else "text",
                        messages=p, text=None if p else "", candidates=[
                            Candidate(id="chosen", messages=c),
                            Candidate(id="rejected", messages=r)]), "conversational"
        return self._split(item_id, c, r), "conversational-implicit"

    def _split(self, item_id: str, c: list[Message], r: list[Message]) -> Item:
        n = _common(c, r)
        # Keep at least one turn per side where possible: the prompt ends before the first
        # differing turn.
        shared = c[:n]
        cands = [Candidate(id="chosen", messages=c[n:]), Candidate(id="rejected", messages=r[n:])]
        if shared:
            return Item(id=item_id, kind="conversation", messages=shared, candidates=cands)
        return Item(id=item_id, kind="text", text="", candidates=cands)

    def _ranked(self, rec: dict[str, Any], key: str, item_id: str, where: Where,
                issues: list[Issue]) -> tuple[Item, Ranking | None, str]:
        prompt = rec.get("prompt")
        cands = []
        for k, resp in enumerate(rec[key]):
            if isinstance(resp, str):
                cands.append(Candidate(id=f"r{k}", text=resp))
            else:
                cands.append(Candidate(id=f"r{k}", messages=_messages(resp, f".{key}[{k}]")))
        if isinstance(prompt, list):
            item = Item(id=item_id, kind="conversation", messages=_messages(prompt, ".prompt"),
                        candidates=cands)
        else:
            item = Item(id=item_id, kind="text", text=prompt if isinstance(prompt, str) else "",
                        candidates=cands)
        n = len(cands)
        ranking: Ranking | None = None
        order = rec.get("ranking")
        scores = rec.get("scores")
        if order is not None:
            valid = isinstance(order, list) and sorted(
                x for x in order if isinstance(x, int) and not isinstance(x, bool)
            ) == list(range(n))
            if valid:
                ranking = Ranking(id=f"{item_id}-rank", item_id=item_id, label_set="preference",
                                  ranking=[[f"r{i}"] for i in order])
            else:
                issues.append(issue(BAD_RANKING, f"ranking {order!r} is not a permutation of "
                                    f"0..{n - 1}", hint="list response indices, best first",
                                    **where.at(".ranking")))
        elif isinstance(scores, list) and len(scores) == n and all(
            isinstance(s, int | float) for s in scores
        ):
            groups: dict[float, list[str]] = {}
            for i, s in enumerate(scores):
                groups.setdefault(float(s), []).append(f"r{i}")
            ranking = Ranking(id=f"{item_id}-rank", item_id=item_id, label_set="preference",
                              ranking=[groups[s] for s in sorted(groups, reverse=True)],
                              scores={f"r{i}": float(s) for i, s in enumerate(scores)})
        return item, ranking, f"ranked-{key}"

    # -- writing --------------------------------------------------------------------------
    def write(self, dataset: Dataset, path: str, *, fs: AbstractFileSystem | None = None,
              **options: Any) -> ConversionReport:
        check_options(self.name, options, {}, direction="writing")
        overwrite = bool(options.pop("overwrite", False))
        options.pop("storage_options", None)
        report = ConversionReport(format=self.name, outputs=[path])
        by_item = dataset.annotations_by_item()

        def records() -> Iterator[dict[str, Any]]:
            for item in source_order(dataset.items, "preference"):
                anns = sorted(by_item.get(item.id, []), key=lambda a: natural_order(a.id))
                rec = self._out(item, anns, report)
                if rec is not None:
                    yield rec

        n = write_jsonl(path, records(), fs=fs, overwrite=overwrite)
        report.details = {"records": n}
        return report

    def _out(self, item: Item, anns: list[AnnotationBase],
             report: ConversionReport) -> dict[str, Any] | None:
        ext = item.extensions.get("preference", {})
        style = ext.get("style")
        rec: dict[str, Any] = {} if ext.get("generated_id") else {"id": item.id}
        if style == "chat" or (not item.candidates and item.messages):
            rec["messages"] = [_msg(m) for m in item.messages]
            rec.update(item.metadata)
            return rec
        rankings = [a for a in anns if isinstance(a, Ranking)]
        cands = {c.id: c for c in item.candidates}
        if not rankings or not cands:
            report.issues.append(issue(NOT_WRITTEN, f"item {item.id} has no ranking over "
                                       "candidates; skipped", record_id=item.id))
            return None
        rank = rankings[0]
        if len(rankings) > 1:
            report.issues.append(issue(NOT_WRITTEN, f"item {item.id}: {len(rankings)} rankings; "
                                       "only the first is written", record_id=item.id))
        if style and style.startswith("ranked-"):
            key = style.removeprefix("ranked-")
            ids = list(cands)
            rec["prompt"] = _prompt(item)
            rec[key] = [_content(c) for c in item.candidates]
            if rank.scores and all(len(g) for g in rank.ranking):
                rec["scores"] = [rank.scores.get(i) for i in ids]
            else:
                flat = [x for g in rank.ranking for x in g]
                rec["ranking"] = [ids.index(x) for x in flat if x in cands]
            rec.update(item.metadata)
            return rec
        best, worst = rank.ranking[0], rank.ranking[-1]
        if len(rank.ranking) < 2 or len(best) > 1 or len(worst) > 1:
            report.issues.append(issue(NOT_WRITTEN, f"item {item.id}: the ranking has ties at "
                                       "the top or bottom; the first of each is used",
                                       record_id=item.id))
        if len(cands) > 2:
            report.issues.append(issue(NOT_WRITTEN, f"item {item.id}: {len(cands)} candidates; "
                                       "only best vs worst is written", record_id=item.id))
        chosen, rejected = cands.get(best[0]), cands.get(worst[0])
        if chosen is None or rejected is None or chosen is rejected:
            report.issues.append(issue(NOT_WRITTEN, f"item {item.id}: ranking names unknown "
                                       "candidates; skipped", record_id=item.id))
            return None
        if style == "hh":
            rec["chosen"] = render_hh([*item.messages, *chosen.messages])
            rec["rejected"] = render_hh([*item.messages, *rejected.messages])
        elif style == "conversational-implicit":
            rec["chosen"] = [_msg(m) for m in [*item.messages, *chosen.messages]]
            rec["rejected"] = [_msg(m) for m in [*item.messages, *rejected.messages]]
        elif style == "implicit":
            rec["chosen"], rec["rejected"] = _content(chosen), _content(rejected)
        else:
            rec["prompt"] = _prompt(item)
            rec["chosen"], rec["rejected"] = _content(chosen), _content(rejected)
        for side, cand in (("chosen", chosen), ("rejected", rejected)):
            if cand.id in rank.scores:
                rec[f"score_{side}"] = rank.scores[cand.id]
        rec.update(item.metadata)
        return rec


def _msg(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.name is not None:
        out["name"] = m.name
    out.update(m.metadata)
    return out


def _prompt(item: Item) -> Any:
    if item.messages:
        return [_msg(m) for m in item.messages]
    return item.text or ""


def _content(c: Candidate) -> Any:
    if c.messages:
        return [_msg(m) for m in c.messages]
    return c.text or ""
