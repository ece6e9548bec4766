"""Lineage recorded by every write, and `gt log` following it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import groundtruth as gt
from groundtruth.merge import merge
from groundtruth.models import Manifest
from groundtruth.versions import log, render_log

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
COCO = EXAMPLES / "delivery" / "instances_v1.json"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "groundtruth", *args], capture_output=True,
                          text=True, timeout=180, check=False, cwd=cwd)


def manifest(path: Path) -> dict:
    return json.loads((path / "groundtruth.json").read_text())


def test_convert_records_the_foreign_source_with_its_hash(tmp_path):
    res = run("convert", str(COCO), str(tmp_path / "v1"), "-m", "vendor delivery")
    assert res.returncode == 0, res.stderr
    lin = manifest(tmp_path / "v1")["lineage"]
    assert lin["parents"] == [{
        "name": "instances_v1", "source": str(COCO), "format": "coco",
        "sha256": hashlib.sha256(COCO.read_bytes()).hexdigest()}]
    d = lin["derivation"]
    assert (d["operation"], d["message"]) == ("convert", "vendor delivery")
    read = gt.load(tmp_path / "v1").manifest.lineage
    assert read.derivation.tool == "groundtruth"  # the default, left out of the file
    assert d["tool_version"] == gt.__version__
    assert d["options"]["from"] == "coco"
    assert "parents" not in manifest(tmp_path / "v1")  # a foreign parent has no fingerprint


def test_a_streamed_conversion_records_its_source_too(tmp_path):
    res = run("convert", str(COCO), str(tmp_path / "pq"), "--encoding", "parquet", "-m", "x")
    assert res.returncode == 0, res.stderr
    assert "streamed: yes" in res.stdout
    m = manifest(tmp_path / "pq")
    assert m["lineage"]["parents"][0]["sha256"] == hashlib.sha256(COCO.read_bytes()).hexdigest()
    assert m["lineage"]["derivation"]["message"] == "x"
    ds = gt.load(tmp_path / "pq")  # parts still match the rewritten manifest
    assert ds.fingerprint() == m["fingerprint"]


def test_lineage_is_not_part_of_the_fingerprint(tmp_path):
    ds = gt.load(EXAMPLES / "reviews")
    gt.save(ds, tmp_path / "a", message="first")
    gt.save(ds, tmp_path / "b", message="second")
    a, b = manifest(tmp_path / "a"), manifest(tmp_path / "b")
    assert a["lineage"]["derivation"]["message"] != b["lineage"]["derivation"]["message"]
    assert a["fingerprint"] == b["fingerprint"] == ds.fingerprint()
    assert gt.load(tmp_path / "a").fingerprint() == a["fingerprint"]


def test_save_of_a_loaded_version_names_it_and_a_native_convert_changes_nothing(tmp_path):
    ds = gt.load(EXAMPLES / "reviews")
    gt.save(ds, tmp_path / "v1")
    gt.convert(tmp_path / "v1", tmp_path / "pq", write_options={"encoding": "parquet"})
    lin = manifest(tmp_path / "pq")["lineage"]
    fp = manifest(tmp_path / "v1")["fingerprint"]
    assert lin["parents"][0]["fingerprint"] == fp
    assert lin["parents"][0]["source"] == str(tmp_path / "v1")
    changes = gt.load(tmp_path / "pq").manifest.lineage.changes
    assert changes.against == fp
    assert (changes.items.added, changes.annotations.changed) == (0, 0)
    assert manifest(tmp_path / "pq")["parents"] == [fp]
    # a dataset made in memory has no parent: its lineage says `save` and nothing else
    fresh = gt.Dataset(Manifest(name="new"))
    gt.save(fresh, tmp_path / "fresh")
    lineage = manifest(tmp_path / "fresh")["lineage"]
    assert "parents" not in lineage
    assert lineage["derivation"]["operation"] == "save"


def test_consensus_and_merge_record_parents_and_changes(tmp_path):
    res = run("consensus", str(EXAMPLES / "reviews"), str(tmp_path / "c"), "-m", "vote")
    assert res.returncode == 0, res.stderr
    m = manifest(tmp_path / "c")
    base_fp = manifest(EXAMPLES / "reviews")["fingerprint"]
    assert m["parents"] == [base_fp]
    assert m["lineage"]["changes"]["annotations"] == {"added": 12}
    assert m["lineage"]["derivation"]["operation"] == "consensus"
    base = gt.load(EXAMPLES / "reviews")
    ours, theirs = gt.load(EXAMPLES / "reviews"), gt.load(EXAMPLES / "reviews")
    ours.annotations[0] = ours.annotations[0].model_copy(update={"label": "neg"})
    theirs.annotations[3] = theirs.annotations[3].model_copy(update={"label": "neu"})
    gt.save(ours, tmp_path / "ours")
    gt.save(theirs, tmp_path / "theirs")
    res = run("merge", str(EXAMPLES / "reviews"), str(tmp_path / "ours"),
              str(tmp_path / "theirs"), str(tmp_path / "m"), "-m", "round 1")
    assert res.returncode == 0, res.stderr
    lin = manifest(tmp_path / "m")["lineage"]
    roles = [(p.get("role", "parent"), p["fingerprint"]) for p in lin["parents"]]
    assert roles == [("parent", ours.fingerprint()), ("parent", theirs.fingerprint()),
                     ("merge-base", base.fingerprint())]
    assert manifest(tmp_path / "m")["parents"] == [ours.fingerprint(), theirs.fingerprint()]
    assert merge(base, ours, theirs).dataset.lineage.derivation.operation == "merge"


def test_log_follows_reachable_parents_and_says_where_they_are_not(tmp_path):
    assert run("convert", str(COCO), "v1", "-m", "delivery", cwd=tmp_path).returncode == 0
    assert run("convert", "v1", "v1pq", "--encoding", "parquet", cwd=tmp_path).returncode == 0
    v1 = gt.load(tmp_path / "v1")
    v1.annotations = v1.annotations[1:]
    gt.save(v1, tmp_path / "v2", message="dropped one")
    entries = log(str(tmp_path / "v2"))
    assert [e.reachable for e in entries] == [True, True, False]
    assert entries[1].manifest.lineage.derivation.message == "delivery"
    assert entries[2].parent.format == "coco"
    text = render_log(entries)
    assert "message    dropped one" in text
    assert "a coco file: the chain starts here" in text
    # the parent folder is overwritten with another version: said, not followed
    other = gt.load(EXAMPLES / "reviews")
    gt.save(other, tmp_path / "v1", overwrite=True)
    entries = log(str(tmp_path / "v2"))
    assert len(entries) == 2
    assert not entries[1].reachable
    assert "now holds another version" in entries[1].reason
    res = run("log", "v1pq", "--format", "json", cwd=tmp_path)
    data = json.loads(res.stdout)["versions"]
    assert [v["operation"] for v in data if v["reachable"]] == ["convert"]
    assert data[1]["reachable"] is False  # v1 was overwritten meanwhile
    md = run("log", "v2", "--format", "markdown", cwd=tmp_path).stdout
    assert md.startswith("## Changelog")
    assert "dropped one" in md


def test_log_of_a_dataset_without_lineage(tmp_path):
    res = run("log", str(EXAMPLES / "reviews"))
    assert res.returncode == 0
    assert "(no lineage recorded)" in res.stdout
    res = run("log", str(tmp_path / "nothing"))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize("bad", ["sha256:xyz", "md5:00"])
def test_lineage_fingerprints_are_validated(bad):
    from pydantic import ValidationError

    from groundtruth.models import ParentRef

    with pytest.raises(ValidationError):
        ParentRef(fingerprint=bad)


def test_sources_are_recorded_without_credentials():
    from groundtruth.lineage import safe_source

    assert safe_source("https://u:secret@host/x.json?X-Amz-Signature=abc") == "https://host/x.json"
    assert safe_source("s3://bucket/ds") == "s3://bucket/ds"
    assert safe_source("git:///repo:v1@data/ds") == "git:///repo:v1@data/ds"
    assert safe_source("data/ds") == "data/ds"


def test_log_does_not_follow_a_crafted_source_off_the_dataset_s_storage(tmp_path):
    ds = gt.load(EXAMPLES / "reviews")
    gt.save(ds, tmp_path / "v1")
    data = manifest(tmp_path / "v1")
    data["lineage"]["parents"] = [
        {"fingerprint": data["fingerprint"], "source": "http://169.254.169.254/latest"},
        {"fingerprint": data["fingerprint"], "source": "memory://elsewhere"}]
    (tmp_path / "v1" / "groundtruth.json").write_text(json.dumps(data))
    entries = log(str(tmp_path / "v1"))
    assert [e.reachable for e in entries] == [True, False, False]
    assert all("another kind of storage" in e.reason for e in entries[1:])
