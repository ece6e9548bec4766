"""Versions in a local git repository, read at a revision through fsspec's git filesystem."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import groundtruth as gt
from groundtruth.versions import log

pytest.importorskip("pygit2")
if shutil.which("git") is None:
    pytest.skip("git is not installed", allow_module_level=True)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "groundtruth", *args], capture_output=True,
                          text=True, timeout=180, check=False, cwd=cwd)


@pytest.fixture
def repo(tmp_path):
    """A repository whose `data/reviews` has three committed versions (tags v1, v2, v3)."""
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    git(r, "config", "user.email", "t@example.org")
    git(r, "config", "user.name", "t")
    ds = gt.load(EXAMPLES / "reviews")
    gt.save(ds, r / "data" / "reviews", message="v1 delivered")
    git(r, "add", "-A")
    git(r, "commit", "-qm", "v1")
    git(r, "tag", "v1")
    for tag, cut in (("v2", 2), ("v3", 1)):
        ds = gt.load(r / "data" / "reviews")
        ds.annotations = ds.annotations[cut:]
        gt.save(ds, r / "data" / "reviews", overwrite=True, message=f"{tag}: cut {cut}")
        git(r, "add", "-A")
        git(r, "commit", "-qm", tag)
        git(r, "tag", tag)
    return r


def url(repo: Path, ref: str) -> str:
    return f"git://{repo}:{ref}@data/reviews"


def test_any_verb_reads_a_revision(repo):
    v1 = gt.load(url(repo, "v1"))
    assert len(v1.annotations) == 36
    assert len(gt.load(url(repo, "v2")).annotations) == 34
    assert len(gt.load(url(repo, "HEAD")).annotations) == 33
    assert v1.fingerprint() == gt.load(EXAMPLES / "reviews").fingerprint()
    res = run("info", url(repo, "v2"), "--format", "json")
    assert json.loads(res.stdout)["annotations"] == 34


def test_diff_across_two_revisions(repo):
    d = gt.diff(url(repo, "v1"), url(repo, "v3"))
    assert d.summary["annotations"]["removed"] == 3
    res = run("diff", url(repo, "v1"), url(repo, "v2"), "--format", "json")
    assert json.loads(res.stdout)["summary"]["annotations"]["removed"] == 2


def test_log_walks_the_git_history(repo, tmp_path):
    entries = log(url(repo, "v3"))
    reachable = [e for e in entries if e.reachable]
    assert [e.manifest.lineage.derivation.message for e in reachable[:3]] == [
        "v3: cut 1", "v2: cut 2", "v1 delivered"]
    assert len(reachable) == 3
    # v1's parent is a local folder: not followed from a git URL (a manifest's sources are
    # followed only on the dataset's own kind of storage)
    assert entries[-1].source == str(EXAMPLES / "reviews")
    assert "another kind of storage" in entries[-1].reason
    assert reachable[1].source.startswith(f"git://{repo}:")
    # from another folder, and at v2: the chain stops at v1's own parent (the examples folder)
    res = run("log", url(repo, "v2"), "--format", "json", cwd=tmp_path)
    versions = json.loads(res.stdout)["versions"]
    assert [v.get("message") for v in versions[:2]] == ["v2: cut 2", "v1 delivered"]


def test_merge_of_two_branches(repo, tmp_path):
    git(repo, "checkout", "-q", "-b", "team-b", "v1")
    ds = gt.load(repo / "data" / "reviews")
    ds.annotations[-1] = ds.annotations[-1].model_copy(update={"label": "neu"})
    gt.save(ds, repo / "data" / "reviews", overwrite=True, message="team b")
    git(repo, "commit", "-qam", "team b")
    out = tmp_path / "merged"
    res = run("merge", url(repo, "v1"), url(repo, "main"), url(repo, "team-b"), str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    merged = gt.load(out)
    assert len(merged.annotations) == 33
    assert merged.annotations[-1].label == "neu"
    lineage = merged.manifest.lineage
    assert [p.source for p in lineage.parents] == [url(repo, "main"), url(repo, "team-b"),
                                                   url(repo, "v1")]
