"""A review session: the queue of disputed items, each item's versions, and the decisions log.

The session holds the dataset in memory, ranks the disputed items once (as `gt agreement`
ranks them), and appends every decision to the decisions log as soon as it is made (one line,
fsync'd: see `groundtruth.adjudication`). Restarting on the same log resumes: the decisions in
force are read back (a line torn by a crash is cut off), so decided items show as decided.
`finish()` replays the log into a new dataset version (`groundtruth.adjudicate`).
"""

from __future__ import annotations

import os
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..adjudication import adjudicate, append_decision, decision_key, read_decisions
from ..adjudication._apply import _check, _labels
from ..adjudication._disputes import Dispute, find_disputes
from ..adjudication._guideline import describe, expected_annotations
from ..diff._media import MediaPolicy, resolve_media
from ..errors import DecisionLogError, GroundtruthError
from ..models import DecisionRecord, GuidelineRef, Mask

if TYPE_CHECKING:
    from ..dataset import Dataset
    from ..models import AnnotationBase, Item

PAGE_SIZE = 50
MAX_MASK_PIXELS = 40_000_000
"""Masks larger than this are outlined by their box only (the page would not draw them fast)."""
_DERIVED = ("consensus", "adjudicator")


class ReviewInputError(GroundtruthError, ValueError):
    """A decision the page sent cannot be recorded (unknown item or annotator, bad label...)."""


@dataclass
class QueueEntry:
    item_id: str
    rank: int
    disagreement: float | None
    labels: set[str]
    label_sets: list[str]
    annotators: list[str]
    split: str | None


@dataclass
class ReviewSession:
    """Everything the review app serves, over one dataset and one decisions log."""

    ds: Dataset
    log_path: str
    reviewer: str
    media: MediaPolicy
    include_all: bool = False
    out: str | None = None
    queue: list[QueueEntry] = field(default_factory=list)
    decided: dict[str, dict[str, Any]] = field(default_factory=dict)  # item -> last decision
    _agreement: dict[str, Any] = field(default_factory=dict)
    _facets: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _lock_fd: int | None = None
    _n: int = 0

    # -- start --------------------------------------------------------------------------------
    @classmethod
    def open(cls, ds: Dataset, log_path: str | os.PathLike[str], *, reviewer: str,
             media_root: str | None = None, include_all: bool = False,
             out: str | None = None, label_set: str | None = None) -> ReviewSession:
        """Rank the disputes and resume from the log (repairing a torn last line)."""
        from ..quality._gc import paused_gc

        s = cls(ds, os.fspath(log_path), reviewer, MediaPolicy.make(media_root),
                include_all, out)
        s._lock_log()
        with paused_gc():  # a million small objects: the collector would rescan them all
            s._index()
            reports: dict[str, dict[str, Any]] = {}
            s._build_queue(find_disputes(ds, label_set=label_set, reports=reports))
            s._agreement = _agreement_so_far(reports)
        for entry in read_decisions(s.log_path, repair=True):
            s._n += 1
            s._note(entry.record)
        return s

    def _lock_log(self) -> None:
        """One session per log: decision ids are numbered by the session, and two writers
        would interleave them. The lock lives as long as the session (the process)."""
        try:
            import fcntl
        except ImportError:  # not POSIX: no advisory locks; one session per log by convention
            return
        from ..adjudication._log import _fsync_dir

        existed = os.path.exists(self.log_path)
        fd = os.open(self.log_path, os.O_RDWR | os.O_CREAT, 0o644)
        if not existed:  # the new (empty) log's directory entry must survive a crash too
            _fsync_dir(os.path.dirname(os.path.abspath(self.log_path)))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise ReviewInputError(f"another review session is writing {self.log_path}",
                                   hint="stop it first, or review with another --decisions "
                                        "file") from None
        self._lock_fd = fd

    def close(self) -> None:
        """Release the log for another session."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _index(self) -> None:
        self.kinds = {a.id: a.kind for a in self.ds.manifest.annotators}
        self.items: dict[str, Item] = {it.id: it for it in self.ds.items}
        self.by_item: dict[str, list[AnnotationBase]] = defaultdict(list)
        for a in self.ds.annotations:
            if (self.kinds.get(a.annotator or "") in _DERIVED or a.consensus is not None
                    or a.adjudication is not None):
                continue
            self.by_item[a.item_id].append(a)
        self.by_id = {a.id: a for a in self.ds.annotations}
        self.labels = _labels(self.ds)

    def _build_queue(self, disputes: list[Dispute]) -> None:
        seen: set[str] = set()
        for d in disputes:
            self.queue.append(self._entry(d.item_id, len(self.queue), d.disagreement, d.labels,
                                          d.label_sets))
            seen.add(d.item_id)
        if self.include_all:
            from ..dataset import natural_key

            for item_id in sorted(self.items, key=natural_key):
                if item_id not in seen:
                    anns = self.by_item.get(item_id, [])
                    self.queue.append(self._entry(
                        item_id, len(self.queue), None,
                        {a.label for a in anns if a.label is not None},
                        sorted({a.label_set for a in anns if a.label_set})))

    def _entry(self, item_id: str, rank: int, score: float | None, labels: set[str],
               label_sets: list[str]) -> QueueEntry:
        anns = self.by_item.get(item_id, [])
        item = self.items.get(item_id)
        return QueueEntry(item_id, rank, score, set(labels), list(label_sets),
                          sorted({a.annotator for a in anns if a.annotator}),
                          item.split if item is not None else None)

    # -- decisions ------------------------------------------------------------------------------
    def _note(self, rec: DecisionRecord) -> None:
        self.decided[rec.item_id] = {
            "id": rec.id, "decision": rec.decision, "accepted": list(rec.accepted),
            "label": rec.label, "rationale": rec.rationale, "section": rec.section,
            "time": rec.time.isoformat(),
        }

    def decide(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record one decision from the page: validate it, append it to the log (fsync)."""
        item_id = str(body.get("item_id", ""))
        if item_id not in self.items:
            raise ReviewInputError(f"item {item_id!r} is not in the dataset")
        anns = self.by_item.get(item_id, [])
        action = body.get("action")
        annotator = body.get("annotator")
        mine = [a.id for a in anns if a.annotator == annotator]
        everyone = [a.id for a in anns]
        fields: dict[str, Any]
        if action == "accept":
            if not mine:
                raise ReviewInputError(f"annotator {annotator!r} has no version of {item_id}")
            fields = {"decision": "accepted", "accepted": mine,
                      "overruled": [x for x in everyone if x not in mine]}
        elif action == "relabel":
            if not mine:
                raise ReviewInputError(f"annotator {annotator!r} has no version of {item_id}")
            fields = {"decision": "relabelled", "accepted": mine, "label": body.get("label"),
                      "overruled": [x for x in everyone if x not in mine]}
        elif action == "unclear":
            fields = {"decision": "guideline-unclear", "sources": everyone}
        elif action == "merge":
            fields = self._merge(item_id, anns, body.get("picked"))
        elif action == "edit":
            fields = self._edit(item_id, anns, body)
        else:
            raise ReviewInputError(f"unknown action {action!r}",
                                   hint="accept, relabel, merge, edit or unclear")
        note = body.get("rationale")
        with self._lock:
            self._n += 1
            rec = DecisionRecord.model_validate({
                "id": f"{self.reviewer}-{self._n:06d}", "item_id": item_id, **fields,
                "rationale": note if isinstance(note, str) and note.strip() else None,
                "section": body.get("section") or None,
                "guideline": self._guideline_of(anns), "reviewer": self.reviewer,
                "time": datetime.now(UTC).replace(microsecond=0).isoformat(),
            }, strict=False)
            problems = _check(self.ds, rec, set(self.items), self.by_id, self.labels,
                              {"record_id": rec.id})
            if problems:
                self._n -= 1
                raise ReviewInputError(problems[0].message, hint=problems[0].hint)
            append_decision(self.log_path, rec)  # durable before the page hears "saved"
            self._note(rec)
        return {"saved": True, "decision": self.decided[item_id], "key": sorted(
            decision_key(rec)[1])}

    def _picked(self, item_id: str, anns: list[AnnotationBase], ids: Any) -> list[str]:
        known = {a.id for a in anns}
        if not isinstance(ids, list) or not ids:
            raise ReviewInputError("pick at least one region or span",
                                   hint="click the regions or spans to keep, then merge")
        wrong = [str(x) for x in ids if x not in known]
        if wrong:
            raise ReviewInputError(f"{wrong[0]!r} is not an annotation of item {item_id}")
        return list(dict.fromkeys(str(x) for x in ids))

    def _merge(self, item_id: str, anns: list[AnnotationBase], ids: Any) -> dict[str, Any]:
        """Keep the picked regions or spans, from any versions: a `merged` decision."""
        picked = self._picked(item_id, anns, ids)
        return {"decision": "merged", "accepted": picked,
                "overruled": [a.id for a in anns if a.id not in picked],
                "annotations": [_body(self.by_id[x]) for x in picked]}

    def _edit(self, item_id: str, anns: list[AnnotationBase],
              body: dict[str, Any]) -> dict[str, Any]:
        """One span with new boundaries (and maybe label): an `edited` decision."""
        [aid] = self._picked(item_id, anns, [body.get("annotation")])
        ann = self.by_id[aid]
        text = self.items[item_id].text
        start, end = body.get("start"), body.get("end")
        if ann.type != "span" or text is None:  # type: ignore[attr-defined]
            raise ReviewInputError("only spans of a text item have boundaries to adjust")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise ReviewInputError(f"boundaries [{start}, {end}) are not inside the text "
                                   f"(0..{len(text)}) with start < end")
        new = {**_body(ann), "start": start, "end": end, "text": text[start:end]}
        if body.get("label"):
            new["label"] = body["label"]
        return {"decision": "edited", "accepted": [aid],
                "overruled": [a.id for a in anns if a.id != aid], "annotations": [new]}

    def _guideline_of(self, anns: list[AnnotationBase]) -> dict[str, Any] | None:
        refs = Counter((a.guideline.id, a.guideline.version) for a in anns if a.guideline)
        if not refs:
            return None
        (gid, version), _ = refs.most_common(1)[0]
        if self.ds.manifest.guideline(gid, version) is None:
            return None
        return GuidelineRef(id=gid, version=version).model_dump(exclude_none=True)

    def finish(self) -> dict[str, Any]:
        """Replay the log into the output dataset (what `gt adjudicate` does)."""
        from ..api import read_manifest, save

        if self.out is None:
            raise ReviewInputError("no output dataset was given",
                                   hint="start gt review with --out DIR, or run gt adjudicate")
        parent = self.ds.manifest.fingerprint or self.ds.fingerprint()
        overwrite = False
        if os.path.exists(self.out):
            try:
                prev = read_manifest(self.out)
            except GroundtruthError as exc:
                raise ReviewInputError(f"{self.out} exists and is not a dataset this session "
                                       "wrote", hint="choose another --out") from exc
            if prev.parents != [parent]:
                raise ReviewInputError(f"{self.out} holds a dataset that does not derive "
                                       "from this one", hint="choose another --out")
            overwrite = True
        try:
            out = adjudicate(self.ds, self.log_path)
        except DecisionLogError as exc:
            raise ReviewInputError(str(exc)) from exc
        save(out, self.out, overwrite=overwrite)
        return {"written": self.out, "fingerprint": out.fingerprint(), "parent": parent,
                "decisions": len(self.decided)}

    # -- what the page reads ----------------------------------------------------------------------
    def page(self, *, page: int = 0, label: str | None = None, annotator: str | None = None,
             label_set: str | None = None, split: str | None = None,
             status: str = "all") -> dict[str, Any]:
        """One page of the queue, filtered; counts for the whole filtered queue."""
        rows = self.queue
        if label:
            rows = [e for e in rows if label in e.labels]
        if annotator:
            rows = [e for e in rows if annotator in e.annotators]
        if label_set:
            rows = [e for e in rows if label_set in e.label_sets]
        if split:
            rows = [e for e in rows if e.split == split]
        if status == "open":
            rows = [e for e in rows if e.item_id not in self.decided]
        elif status == "decided":
            rows = [e for e in rows if e.item_id in self.decided]
        start = max(page, 0) * PAGE_SIZE
        shown = rows[start:start + PAGE_SIZE]
        return {
            "total": len(rows), "page": max(page, 0), "page_size": PAGE_SIZE,
            "decided": sum(1 for e in self.queue if e.item_id in self.decided),
            "queue_size": len(self.queue),
            "rows": [{"item_id": e.item_id, "rank": e.rank + 1, "disagreement": e.disagreement,
                      "labels": sorted(e.labels), "annotators": e.annotators,
                      "decision": (self.decided.get(e.item_id) or {}).get("decision")}
                     for e in shown],
        }

    def facets(self) -> dict[str, Any]:
        """What the filters offer (computed once: the queue does not change)."""
        if not self._facets:
            self._facets = {
                "labels": sorted({lab for e in self.queue for lab in e.labels}),
                "annotators": sorted({a for e in self.queue for a in e.annotators}),
                "label_sets": sorted({s for e in self.queue for s in e.label_sets}),
                "splits": sorted({e.split for e in self.queue if e.split}),
            }
        return {
            **self._facets,
            "all_labels": sorted(self.labels),
            "reviewer": self.reviewer, "can_finish": self.out is not None,
            "agreement": self._agreement,
        }

    def item(self, item_id: str) -> dict[str, Any]:
        """An item with each annotator's version, the guideline sections and worked examples
        for the labels involved, and each annotator's agreement so far."""
        it = self.items.get(item_id)
        if it is None:
            raise ReviewInputError(f"item {item_id!r} is not in the dataset")
        anns = self.by_item.get(item_id, [])
        versions: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for a in anns:
            shown = a.to_json_dict()
            if isinstance(a, Mask):
                shown["mask_png"] = _mask_png(a)
            versions[a.annotator or "(unknown)"].append(shown)
        media = resolve_media(it.uri, self.media) if it.kind == "image" else None
        labels = {a.label for a in anns if a.label}
        return {
            "item": {k: v for k, v in it.to_json_dict().items()
                     if k in ("id", "kind", "text", "width", "height", "split", "uri",
                              "candidates", "messages")},
            "media": None if media is None else {"href": media.href, "note": media.note},
            "versions": [{"annotator": who, "annotations": v,
                          "summary": describe([self.by_id[x["id"]] for x in v]),
                          "agreement": self._agreement.get(who, {})}
                         for who, v in sorted(versions.items())],
            "guidance": self._guidance(labels),
            "decision": self.decided.get(item_id),
        }

    def _guidance(self, labels: set[str]) -> list[dict[str, Any]]:
        out = []
        for g in self.ds.manifest.guidelines:
            for s in g.sections:
                if s.labels and not labels & set(s.labels):
                    continue
                examples = []
                for k, ex in enumerate(g.worked_examples):
                    if ex.section != s.id:
                        continue
                    try:
                        answer = describe(expected_annotations(g, k))
                    except ValueError:
                        answer = "(not a valid annotation)"
                    examples.append({"item_id": ex.item_id, "expected": answer,
                                     "note": ex.note})
                out.append({"guideline": f"{g.id}@{g.version}", "id": s.id, "title": s.title,
                            "text": s.text, "uri": s.uri, "labels": list(s.labels),
                            "examples": examples})
        return out


_NOT_IN_BODY = ("id", "item_id", "annotator", "status", "created", "sources", "adjudication",
                "consensus", "confidence", "extensions", "guideline", "mask_png")


def _mask_png(ann: Mask) -> str | None:
    """The mask as a grayscale PNG data URI (white = inside), for the page to tint; None when
    it is only a URI, cannot be decoded or is too large."""
    import base64
    import io

    from PIL import Image

    from ..geometry import rle_decode

    if ann.rle is None or ann.rle.size[0] * ann.rle.size[1] > MAX_MASK_PIXELS:
        return None
    try:
        pixels = rle_decode(ann.rle.size, ann.rle.counts)
    except (ValueError, IndexError):
        return None
    buf = io.BytesIO()
    Image.fromarray(pixels.astype("uint8") * 255, mode="L").save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _body(ann: AnnotationBase) -> dict[str, Any]:
    """An annotation as a decision states it: its content, without identity or provenance."""
    return {k: v for k, v in ann.to_json_dict().items() if k not in _NOT_IN_BODY}


def _agreement_so_far(reports: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per annotator and label set: agreement with the others, from the reports measured."""
    out: dict[str, Any] = {}
    for name, rep in reports.items():
        for who, row in (rep.get("per_annotator") or {}).items():
            value = row.get("agreement_with_others", row.get("f1_with_others"))
            out.setdefault(who, {})[name] = value
    return out
