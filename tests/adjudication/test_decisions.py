"""Decisions as data: the decisions log, replay into an adjudicated version, export by rule."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import orjson
import pytest
from pydantic import ValidationError

import groundtruth as gt
from groundtruth.adjudication import (
    adjudicate,
    append_decision,
    build_adjudication,
    read_decisions,
)
from groundtruth.errors import DecisionLogError
from groundtruth.models import DecisionRecord, Span
from tests.helpers import SPEC_EXAMPLES, example

DECISIONS = SPEC_EXAMPLES / "decisions"
SCHEMA = json.loads((SPEC_EXAMPLES.parent / "schema" / "decision.schema.json").read_text())
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _gt(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "groundtruth", *args], capture_output=True,
                          text=True, env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"}, check=False)


def _write(path: Path, *records: dict) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _dec(i: str, item: str, decision: str, **kw) -> dict:
    return {"id": i, "item_id": item, "decision": decision, "reviewer": "lead",
            "time": "2026-12-02T15:00:00Z", **kw}


# -- the log format -------------------------------------------------------------------------------
@pytest.mark.parametrize("path", sorted(DECISIONS.glob("*.jsonl")), ids=lambda p: p.stem)
def test_decision_examples_get_the_same_verdict_from_models_and_schema(path):
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    for line in path.read_text().splitlines():
        doc = json.loads(line)
        schema_ok = not list(validator.iter_errors(doc))
        try:
            DecisionRecord.model_validate(doc)
            model_ok = True
        except ValidationError:
            model_ok = False
        assert schema_ok == model_ok
        assert model_ok is path.stem.startswith("valid")


def test_append_then_read_keeps_order_and_lines(tmp_path):
    log = tmp_path / "d.jsonl"
    for i in range(3):
        append_decision(log, DecisionRecord.model_validate(_dec(f"d{i}", "t1", "accepted",
                                                                accepted=["a1"])))
    got = read_decisions(log)
    assert [(d.line, d.record.id) for d in got] == [(1, "d0"), (2, "d1"), (3, "d2")]
    assert log.read_bytes().endswith(b"\n")
    assert read_decisions(tmp_path / "absent.jsonl") == []


def test_a_torn_last_line_is_reported_or_repaired(tmp_path):
    log = _write(tmp_path / "d.jsonl", _dec("d1", "t1", "accepted", accepted=["a2"]))
    whole = log.read_bytes()
    log.write_bytes(whole + b'{"id": "d2", "item_id": "t')  # a crash mid-append
    with pytest.raises(DecisionLogError) as exc:
        read_decisions(log)
    assert [(i.code, i.location.line) for i in exc.value.issues] == [("decision.truncated", 2)]
    got = read_decisions(log, repair=True)
    assert [d.record.id for d in got] == ["d1"]
    assert log.read_bytes() == whole


def test_bad_lines_are_all_reported_with_line_and_field(tmp_path):
    log = tmp_path / "d.jsonl"
    log.write_text(json.dumps(_dec("d1", "t1", "accepted", accepted=["a2"])) + "\n"
                   "not json\n[1, 2]\n"
                   + json.dumps(_dec("d4", "t1", "approved")) + "\n"
                   + json.dumps(_dec("d1", "t1", "accepted", accepted=["a1"])) + "\n")
    with pytest.raises(DecisionLogError) as exc:
        read_decisions(log)
    got = [(i.code, i.location.line, i.location.path) for i in exc.value.issues]
    assert got == [("decision.syntax", 2, None), ("decision.syntax", 3, None),
                   ("decision.structure", 4, "$.decision"), ("decision.duplicate-id", 5, "$.id")]
    assert "and 3 more problems" in str(exc.value)


# -- replay ---------------------------------------------------------------------------------------
def test_replay_builds_linked_adjudications_and_keeps_the_sources():
    ds = example("adjudication")
    ds.annotations = [a for a in ds.annotations if a.adjudication is None]
    res = build_adjudication(ds, DECISIONS / "valid.jsonl")
    out = res.dataset
    by_id = {a.id: a for a in out.annotations}
    # d2 decides the same item and versions as d1, later: it replaces d1
    assert "adj:d1" not in by_id
    assert res.details["superseded"] == 1
    relabelled = by_id["adj:d2"]
    assert (relabelled.label, relabelled.annotator, relabelled.status) == ("neu", "lead",
                                                                          "adjudicated")
    assert relabelled.sources == ["a1", "a2"]
    assert relabelled.adjudication.accepted == ["a1"]
    assert relabelled.adjudication.overruled == ["a2"]
    unclear = by_id["adj:d3"]
    assert unclear.type == "text"
    assert unclear.label is None
    assert unclear.text == "is 'great' ever literal here?"
    assert unclear.adjudication.section == "sarcasm"
    assert unclear.sources == ["a3", "a4"]
    edited = by_id["adj:d4"]
    assert (edited.type, edited.label, edited.adjudication.decision) == ("classification", "neg",
                                                                         "edited")
    assert {"a1", "a2", "a3", "a4"} <= set(by_id)  # every source annotation stays
    assert out.manifest.annotator("lead").kind == "adjudicator"
    assert out.manifest.parents == [ds.fingerprint()]
    assert gt.validate(out).ok, str(gt.validate(out))


def test_replaying_a_log_gives_the_same_fingerprint_in_both_encodings(tmp_path):
    ds = example("adjudication")
    ds.annotations = [a for a in ds.annotations if a.adjudication is None]
    gt.save(ds, tmp_path / "src")
    src = gt.load(tmp_path / "src")
    one = adjudicate(src, DECISIONS / "valid.jsonl")
    two = adjudicate(gt.load(tmp_path / "src"), DECISIONS / "valid.jsonl")
    assert one.fingerprint() == two.fingerprint() != src.fingerprint()
    gt.save(one, tmp_path / "a.jsonl-ds")
    gt.save(two, tmp_path / "a.parquet-ds", encoding="parquet")
    back_j, back_p = gt.load(tmp_path / "a.jsonl-ds"), gt.load(tmp_path / "a.parquet-ds")
    assert back_j.fingerprint() == back_p.fingerprint() == one.fingerprint()
    adj = next(a for a in back_p.annotations if a.id == "adj:d2")
    assert adj.adjudication.overruled == ["a2"]
    assert back_j.manifest.parents == [src.manifest.fingerprint]
    assert back_j.manifest.lineage.derivation.operation == "adjudicate"
    # replaying on the adjudicated version replaces its adjudications, never doubles them
    again = adjudicate(back_j, DECISIONS / "valid.jsonl")
    assert len(again.annotations) == len(back_j.annotations)


def test_decisions_that_do_not_fit_the_dataset_are_all_reported_and_nothing_is_built(tmp_path):
    ds = example("adjudication")
    log = _write(
        tmp_path / "d.jsonl",
        _dec("d1", "t9", "accepted", accepted=["a1"]),                     # unknown item
        _dec("d2", "t1", "accepted", accepted=["a3"]),                     # a3 is of t2
        _dec("d3", "t1", "relabelled", accepted=["a1"]),                   # no label
        _dec("d4", "t1", "relabelled", accepted=["a1"], label="meh"),      # unknown label
        _dec("d5", "t1", "accepted", accepted=["a1"], section="tone",
             guideline={"id": "main", "version": "2"}),                     # unknown section
        _dec("d6", "t1", "edited", accepted=["a1"],
             annotations=[{"type": "bbox", "label": "neg"}]),               # bbox without bbox
        _dec("d7", "t1", "edited", annotations=[{"type": "classification", "label": "neg",
                                                  "id": "x"}]),            # sets the id
        _dec("d8", "t1", "accepted", accepted=["zz"]),                     # unknown annotation
        _dec("d9", "t1", "accepted", guideline={"id": "main", "version": "9"},
             accepted=["a2"]),                                              # unknown version
    )
    with pytest.raises(DecisionLogError) as exc:
        build_adjudication(ds, log)
    got = [(i.code, i.location.line, i.location.path) for i in exc.value.issues]
    assert got == [
        ("decision.item-missing", 1, "$.item_id"),
        ("decision.source-other-item", 2, "$.accepted[0]"),
        ("decision.incomplete", 3, "$.label"),
        ("decision.label-unknown", 4, "$.label"),
        ("decision.section-unknown", 5, "$.section"),
        ("decision.annotation-invalid", 6, "$.annotations[0].bbox"),
        ("decision.annotation-invalid", 7, "$.annotations[0].id"),
        ("decision.source-missing", 8, "$.accepted[0]"),
        ("decision.guideline-unknown", 9, "$.guideline"),
    ]
    assert all(i.location.file == str(log) for i in exc.value.issues)


def test_a_reviewer_who_also_annotated_is_recorded_under_another_id():
    ds = example("adjudication")
    res = build_adjudication(ds, [DecisionRecord.model_validate(
        {**_dec("d9", "t2", "accepted", accepted=["a3"], overruled=["a4"]), "reviewer": "h1"})])
    adj = res.annotations[0]
    assert adj.annotator == "h1:adjudicator"
    assert res.dataset.manifest.annotator("h1:adjudicator").kind == "adjudicator"
    assert res.dataset.manifest.annotator("h1").kind == "human"
    assert [i.code for i in res.issues] == ["decision.reviewer-clash"]


# -- export ---------------------------------------------------------------------------------------
def _reviews(tmp_path: Path) -> gt.Dataset:
    root = Path(__file__).resolve().parents[2] / "examples" / "reviews"
    return gt.load(root)


def test_export_adjudicated_prefers_adjudicated_then_consensus_then_majority(tmp_path):
    ds = gt.consensus(_reviews(tmp_path), "majority")
    # consensus-majority covers review-01 (no review needed); review-03 ties (needs review)
    log = _write(
        tmp_path / "d.jsonl",
        _dec("d1", "review-03", "accepted", accepted=["review-03-rater-a"],
             overruled=["review-03-rater-b", "review-03-rater-c"]),
        _dec("d2", "review-01", "relabelled", accepted=["review-01-rater-a"], label="neu"),
        _dec("d3", "review-12", "guideline-unclear",
             sources=["review-12-rater-a", "review-12-rater-b"], rationale="?"),
    )
    out = adjudicate(ds, log)
    dst = tmp_path / "train.jsonl"
    report = gt.export(out, dst, task="classification", resolve="adjudicated")
    rows = {r["id"]: r for r in map(orjson.loads, dst.read_bytes().splitlines())}
    assert rows["review-03"] == {**rows["review-03"], "label": "neg",
                                 "resolved_by": "adjudicated"}
    assert rows["review-01"]["label"] == "neu"  # the reviewer overrides a unanimous consensus
    assert rows["review-01"]["resolved_by"] == "adjudicated"
    assert rows["review-02"]["resolved_by"] == "consensus"
    # review-12 ties (consensus needs review) and its guideline is unclear: majority decides,
    # and a tied majority leaves the item out (ties are flagged, never guessed)
    assert "review-12" not in rows
    codes = [i.code for i in report.issues if i.location.record_id == "review-12"]
    assert codes == ["export.guideline-unclear", "export.tie"]
    # 12 items: 2 needed review (review-03, review-12), one of them adjudicated
    assert report.details["resolved_by"] == {"adjudicated": 2, "consensus": 9}
    first = tmp_path / "first.jsonl"
    report = gt.export(out, first, task="classification", resolve="adjudicated", ties="first")
    rows = {r["id"]: r for r in map(orjson.loads, first.read_bytes().splitlines())}
    assert rows["review-12"]["resolved_by"] == "majority"  # the stated tie-break, reported
    assert report.details["resolved_by"] == {"adjudicated": 2, "consensus": 9, "majority": 1}
    # adjudications never vote: a plain majority export is what it was before adjudication
    a = tmp_path / "a.jsonl"
    b = tmp_path / "b.jsonl"
    gt.export(out, a, task="classification")
    gt.export(ds, b, task="classification")
    assert a.read_bytes() == b.read_bytes()


def test_export_adjudicated_spans(tmp_path):
    ds = example("text-ner-relations")
    spans = [a for a in ds.annotations if isinstance(a, Span)]
    first = spans[0]
    log = [DecisionRecord.model_validate(_dec(
        "d1", first.item_id, "edited", accepted=[first.id],
        annotations=[{"type": "span", "start": first.start, "end": first.end,
                      "label": first.label, "label_set": first.label_set}]))]
    out = adjudicate(ds, log)
    dst = tmp_path / "ner.jsonl"
    gt.export(out, dst, task="ner", resolve="adjudicated")
    rows = [orjson.loads(x) for x in dst.read_bytes().splitlines()]
    row = next(r for r in rows if r["id"] == first.item_id)
    assert row["resolved_by"] == "adjudicated"
    assert row["spans"] == [{"start": first.start, "end": first.end, "label": first.label}]


def test_agreement_ignores_adjudications(tmp_path):
    ds = _reviews(tmp_path)
    before = gt.agreement(ds).to_dict()["krippendorff_alpha"]["value"]
    log = [DecisionRecord.model_validate(_dec("d1", "review-03", "relabelled",
                                              accepted=["review-03-rater-a"], label="pos"))]
    after = gt.agreement(adjudicate(ds, log)).to_dict()["krippendorff_alpha"]["value"]
    assert after == before


# -- command line ---------------------------------------------------------------------------------
def test_cli_adjudicate_and_export(tmp_path):
    root = Path(__file__).resolve().parents[2] / "examples" / "reviews"
    log = _write(tmp_path / "d.jsonl", _dec("d1", "review-03", "accepted",
                                            accepted=["review-03-rater-b"]))
    r = _gt("adjudicate", str(root), str(log), str(tmp_path / "out"), "--format", "json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["adjudications"] == 1
    assert summary["parent"].startswith("sha256:")
    r2 = _gt("adjudicate", str(root), str(log), str(tmp_path / "out2"))
    assert r2.returncode == 0
    assert summary["fingerprint"] in r2.stdout
    r = _gt("export", str(tmp_path / "out"), str(tmp_path / "t.jsonl"), "--task",
            "classification", "--resolve", "adjudicated")
    assert r.returncode == 0, r.stderr
    row = next(x for x in map(json.loads, (tmp_path / "t.jsonl").read_text().splitlines())
               if x["id"] == "review-03")
    assert (row["label"], row["resolved_by"]) == ("pos", "adjudicated")


def test_cli_adjudicate_bad_log_exits_1_with_located_message(tmp_path):
    root = Path(__file__).resolve().parents[2] / "examples" / "reviews"
    log = _write(tmp_path / "d.jsonl", _dec("d1", "nope", "accepted", accepted=["x"]))
    r = _gt("adjudicate", str(root), str(log), str(tmp_path / "out"))
    assert r.returncode == 1
    assert f"{log}:1" in r.stderr
    assert "decision.item-missing" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()
