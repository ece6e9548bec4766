"""Guidelines with worked examples; feedback per annotator and per guideline section."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import groundtruth as gt
from groundtruth.adjudication import (
    adjudicate,
    feedback_report,
    find_disputes,
    guideline_check,
)
from groundtruth.models import DecisionRecord, WorkedExample
from tests.adjudication.builders import mixed, sentiment

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _gt(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "groundtruth", *args], capture_output=True,
                          text=True, env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"}, check=False)


def _decide_truth(ds: gt.Dataset) -> list[DecisionRecord]:
    """The reviewer sides with raters a and b on every disputed item, citing `neutral`."""
    return [DecisionRecord(
        id=f"d-{d.item_id}", item_id=d.item_id, decision="accepted",
        accepted=[f"{d.item_id}-rater-a"], overruled=[f"{d.item_id}-rater-c"],
        sources=[f"{d.item_id}-rater-b"], section="neutral", reviewer="lead",
        time="2026-12-02T15:00:00Z", rationale="no verdict: neutral",
    ) for d in find_disputes(ds)]


def test_disputes_are_exactly_the_planted_ones_ranked_like_agreement():
    ds = sentiment(30)
    got = find_disputes(ds)
    assert [d.item_id for d in got] == [f"t{i:03d}" for i in range(30) if i % 3 == 1]
    assert all(d.labels == {"neu", "pos"} and d.label_sets == ["sentiment"] for d in got)
    ranked = gt.agreement(ds, max_disputed=100).to_dict()["disputed_items"]
    assert [r["item_id"] for r in ranked] == [d.item_id for d in got]


def test_disputes_over_boxes_and_spans():
    got = {d.item_id: d for d in find_disputes(mixed())}
    assert set(got) == {"img1", "doc1"}
    assert got["doc1"].labels == {"PER", "ORG"}


def test_worked_example_items_must_exist_and_cite_known_sections():
    ds = sentiment(6)
    g = ds.manifest.guidelines[0]
    g.worked_examples.append(WorkedExample(item_id="t999", section="sarcasm",
                                           expected=[{"type": "classification", "label": "neg"}]))
    codes = sorted((i.code, i.location.path) for i in gt.validate(ds).issues
                   if i.code.startswith("reference."))
    assert codes == [
        ("reference.example-item-missing", "$.manifest.guidelines[0].worked_examples[2].item_id"),
        ("reference.example-section-unknown",
         "$.manifest.guidelines[0].worked_examples[2].section"),
    ]


def test_guideline_check_finds_who_disagrees_with_the_examples():
    res = guideline_check(sentiment(6))
    assert res.examples == 2
    assert res.per_annotator == {
        "rater-a": {"checked": 2, "agree": 2, "disagree": 0},
        "rater-b": {"checked": 2, "agree": 2, "disagree": 0},
        "rater-c": {"checked": 2, "agree": 1, "disagree": 1},
    }
    [d] = res.disagreements
    assert (d["annotator"], d["item_id"], d["section"]) == ("rater-c", "t001", "neutral")
    assert (d["expected"], d["got"]) == ("classification neu", "classification pos")
    assert not res.ok


def test_guideline_check_compares_regions_and_spans():
    ds = mixed()
    from groundtruth.models import Guideline

    ds.manifest.guidelines = [Guideline(id="g", version="1", worked_examples=[
        WorkedExample(item_id="img1", expected=[{"type": "bbox", "label": "cat",
                                                 "bbox": [4, 4, 20, 20]}]),
        WorkedExample(item_id="doc1", expected=[{"type": "span", "start": 0, "end": 12,
                                                 "label": "PER"}]),
    ])]
    res = guideline_check(ds)
    assert res.per_annotator["rater-b"] == {"checked": 2, "agree": 2, "disagree": 0}
    assert res.per_annotator["rater-c"] == {"checked": 2, "agree": 0, "disagree": 2}


def test_feedback_report_counts_overrules_by_label_and_section():
    ds = sentiment(30)
    out = adjudicate(ds, _decide_truth(ds))
    rep = feedback_report(out).to_dict()
    c = rep["annotators"]["rater-c"]
    assert (c["reviewed"], c["overruled"], c["overrule_rate"]) == (10, 10, 1.0)
    assert c["overruled_by_label"] == {"pos": 10}
    assert c["overruled_by_section"] == {"neutral": 10}
    assert len(c["examples"]) == 5
    assert rep["annotators"]["rater-a"]["overruled"] == 0
    assert next(iter(rep["annotators"])) == "rater-c"  # most overruled first
    neutral, polarity = rep["sections"]["neutral"], rep["sections"]["polarity"]
    assert (neutral["disputed_items"], neutral["decisions"], neutral["unclear"]) == (10, 10, 0)
    # the disputes are neu-vs-pos: they involve a label of `polarity` too
    assert polarity["disputed_items"] == 10
    assert rep["decisions"] == 10
    assert rep["disputed_items"] == 10


def test_unclear_marks_rank_a_section_first_and_keep_the_notes():
    ds = sentiment(9)
    log = [DecisionRecord(id="u1", item_id="t004", decision="guideline-unclear",
                          sources=["t004-rater-a", "t004-rater-c"], section="polarity",
                          rationale="is 'okay' positive?", reviewer="lead",
                          time="2026-12-02T15:00:00Z")]
    rep = feedback_report(adjudicate(ds, log))
    first_id, first = next(iter(rep.sections.items()))
    assert first_id == "polarity"
    assert first["unclear"] == 1
    assert first["notes"] == [{"item_id": "t004", "note": "is 'okay' positive?"}]
    md = rep.render("markdown")
    assert "| polarity | Clear polarity | 3 | 1 | 1 |" in md


def test_cli_guideline_check_and_report(tmp_path):
    ds = sentiment(9)
    gt.save(ds, tmp_path / "ds")
    r = _gt("guideline", "check", str(tmp_path / "ds"))
    assert r.returncode == 1
    assert "rater-c on item t001" in r.stdout
    r = _gt("guideline", "check", str(tmp_path / "ds"), "--format", "json")
    assert json.loads(r.stdout)["per_annotator"]["rater-c"]["disagree"] == 1
    gt.save(adjudicate(ds, _decide_truth(ds)), tmp_path / "adj")
    r = _gt("guideline", "report", str(tmp_path / "adj"), "--format", "markdown")
    assert r.returncode == 0, r.stderr
    assert "| rater-c | 3 | 0 | 3 | 1.00 | pos 3 | neutral 3 |" in r.stdout
    r = _gt("guideline", "check", str(tmp_path / "adj"), "--guideline", "nope")
    assert r.returncode == 2
    assert "no worked examples" in r.stderr
