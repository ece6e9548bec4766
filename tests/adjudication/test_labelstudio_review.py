"""Adjudicating in Label Studio: disputed items out as tasks (each annotator's version a
prediction), the reviewed export back as decisions linked to their sources."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

import groundtruth as gt
from groundtruth.adjudication import build_adjudication, read_decisions
from groundtruth.adjudication._labelstudio import decisions_from_labelstudio
from groundtruth.errors import DecisionLogError
from tests.adjudication.builders import mixed, sentiment
from tests.conftest import shared_path

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _gt(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "groundtruth", *args], capture_output=True,
                          text=True, env={"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"}, check=False)


def _review(tasks: list[dict], choose) -> list[dict]:
    """What a reviewer does in Label Studio: per task, an annotation made from a prediction."""
    out = copy.deepcopy(tasks)
    for i, t in enumerate(out):
        preds = {p["model_version"]: p for p in t["predictions"]}
        result = choose(t["data"]["groundtruth"]["item_id"], copy.deepcopy(preds))
        if result is None:
            continue
        t["annotations"] = [{"id": 500 + i, "completed_by": 9, "result": result,
                             "was_cancelled": False, "created_at": "2026-12-02T09:00:00Z",
                             "updated_at": f"2026-12-02T09:{i:02d}:00Z"}]
    return out


def test_disputed_items_become_tasks_with_one_prediction_per_annotator(tmp_path):
    ds = sentiment(9)
    report = gt.save(ds, tmp_path / "tasks.json", format="labelstudio", disputes=True)
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    assert report.details["disputed_items"] == 3
    assert [t["data"]["groundtruth"]["item_id"] for t in tasks] == ["t001", "t004", "t007"]
    first = tasks[0]
    assert first["annotations"] == []
    assert [p["model_version"] for p in first["predictions"]] == ["rater-a", "rater-b",
                                                                  "rater-c"]
    assert [p["result"][0]["value"]["choices"] for p in first["predictions"]] == [
        ["neu"], ["neu"], ["pos"]]
    assert first["data"]["groundtruth"]["versions"] == {
        "rater-a": ["t001-rater-a"], "rater-b": ["t001-rater-b"], "rater-c": ["t001-rater-c"]}
    assert first["data"]["text"] == "review number 1"


def test_reviewed_export_yields_adjudications_linked_to_sources(tmp_path):
    ds = mixed()
    gt.save(ds, tmp_path / "tasks.json", format="labelstudio", disputes=True)
    tasks = json.loads((tmp_path / "tasks.json").read_text())

    def choose(item_id, preds):
        if item_id == "doc1":
            return preds["rater-a"]["result"]  # accept rater-a's span
        res = preds["rater-c"]["result"]
        res[0]["value"]["rectanglelabels"] = ["cat"]  # same box: accepted as it is
        return res

    (tmp_path / "reviewed.json").write_text(json.dumps(_review(tasks, choose)))
    decisions, notes = decisions_from_labelstudio(ds, str(tmp_path / "reviewed.json"))
    assert notes == []
    got = {d.item_id: d for d in decisions}
    assert (got["doc1"].decision, got["doc1"].accepted, got["doc1"].overruled) == (
        "accepted", ["s-rater-a"], ["s-rater-b", "s-rater-c"])
    assert got["img1"].accepted == ["b-rater-c"]
    assert got["doc1"].reviewer == "ls-user-9"
    out = build_adjudication(ds, decisions).dataset
    adj = next(a for a in out.annotations if a.item_id == "doc1" and a.adjudication)
    assert (adj.start, adj.end, adj.label) == (0, 12, "PER")
    assert adj.sources == ["s-rater-a", "s-rater-b", "s-rater-c"]
    assert out.manifest.annotator("ls-user-9").kind == "adjudicator"


def test_relabel_and_edit_in_label_studio(tmp_path):
    ds = mixed()
    gt.save(ds, tmp_path / "tasks.json", format="labelstudio", disputes=True)
    tasks = json.loads((tmp_path / "tasks.json").read_text())

    def choose(item_id, preds):
        if item_id == "doc1":
            res = preds["rater-c"]["result"]
            res[0]["value"]["labels"] = ["PER"]  # rater-c's boundaries, another label
            return res
        res = preds["rater-a"]["result"]
        res[0]["value"]["x"] += 20  # the reviewer moved the box: an edit
        return res

    (tmp_path / "reviewed.json").write_text(json.dumps(_review(tasks, choose)))
    decisions, _ = decisions_from_labelstudio(ds, str(tmp_path / "reviewed.json"))
    got = {d.item_id: d for d in decisions}
    assert (got["doc1"].decision, got["doc1"].accepted, got["doc1"].label) == (
        "relabelled", ["s-rater-c"], "PER")
    edit = got["img1"]
    assert edit.decision == "edited"
    assert edit.sources == ["b-rater-a", "b-rater-b", "b-rater-c"]
    [body] = edit.annotations
    assert body["type"] == "bbox"
    assert body["bbox"][0] == pytest.approx(4 + 0.2 * 64)
    out = build_adjudication(ds, decisions).dataset
    assert gt.validate(out).ok


def test_real_two_annotator_label_studio_export_round_trip(tmp_path):
    src = shared_path("jsonl", "labelstudio_image_bbox_export.json")
    ds = gt.load(src, format="labelstudio")
    gt.save(ds, tmp_path / "ds")
    r = _gt("convert", str(tmp_path / "ds"), str(tmp_path / "tasks.json"), "--to",
            "labelstudio", "-w", "disputes=true")
    assert r.returncode == 0, r.stderr
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    assert [t["data"]["groundtruth"]["item_id"] for t in tasks] == ["1"]
    assert sorted(p["model_version"] for p in tasks[0]["predictions"]) == ["ls-user-1",
                                                                           "ls-user-2"]
    reviewed = _review(tasks, lambda _i, preds: preds["ls-user-1"]["result"])
    (tmp_path / "reviewed.json").write_text(json.dumps(reviewed))
    r = _gt("adjudicate", str(tmp_path / "ds"), str(tmp_path / "reviewed.json"),
            str(tmp_path / "out"), "--save-decisions", str(tmp_path / "log.jsonl"),
            "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["by_decision"] == {"accepted": 2}
    [logged] = read_decisions(tmp_path / "log.jsonl")
    assert sorted(logged.record.accepted) == ["1-a2-QtdGMXo-M0", "1-a2-ipBS_GBGZp"]
    assert sorted(logged.record.overruled) == ["1-a1-9GLz8g9skg", "1-a1-C7oHaRDVVC"]
    out = gt.load(tmp_path / "out")
    adj = [a for a in out.annotations if a.adjudication is not None]
    assert sorted(a.label for a in adj) == ["parasites", "white"]
    assert all(a.sources == [*logged.record.accepted, *logged.record.overruled] for a in adj)
    # the log written from Label Studio replays to the same version
    r = _gt("adjudicate", str(tmp_path / "ds"), str(tmp_path / "log.jsonl"),
            str(tmp_path / "out2"), "--format", "json")
    assert json.loads(r.stdout)["fingerprint"] == out.manifest.fingerprint


def test_an_export_not_written_for_disputes_is_refused_with_where(tmp_path):
    src = shared_path("jsonl", "labelstudio_image_bbox_export.json")
    ds = gt.load(src, format="labelstudio")
    with pytest.raises(DecisionLogError) as exc:
        decisions_from_labelstudio(ds, str(src))
    assert exc.value.issues[0].code == "labelstudio.review.not-disputes"
    assert exc.value.issues[0].location.record_id == "1"


def test_unreviewed_tasks_are_noted_not_decided(tmp_path):
    ds = sentiment(6)
    gt.save(ds, tmp_path / "tasks.json", format="labelstudio", disputes=True)
    decisions, notes = decisions_from_labelstudio(ds, str(tmp_path / "tasks.json"))
    assert decisions == []
    assert [n.code for n in notes] == ["labelstudio.review.unreviewed"] * 2
