"""`make demo` runs examples/quickstart.sh: it must keep working end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT


def test_quickstart_script_runs_end_to_end(tmp_path):
    env = {**os.environ, "GT": f"{sys.executable} -m groundtruth", "OUT": str(tmp_path / "qs"),
           "PYTHONPATH": str(ROOT / "src")}
    res = subprocess.run(["sh", "examples/quickstart.sh"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    out = tmp_path / "qs"
    assert "geometry.out-of-bounds" in res.stdout  # validate finds the vendor's slip in v1
    assert "label changes" in res.stdout  # diff shows the flipped labels
    page = (out / "diff.html").read_text()
    assert page.count("data:image/jpeg;base64,") >= 3  # the changed photos, from --media-root
    assert "not shown" not in page
    rows = [json.loads(line) for line in (out / "train.jsonl").open()]
    assert len(rows) == 10  # 12 reviews, 2 ties left out for adjudication
    adjudicated = {r["id"]: r for r in map(json.loads, (out / "train-adjudicated.jsonl").open())}
    # the reviewer settled review-03; review-12 is marked unclear, so majority decides, and its
    # tied majority leaves it out (ties are flagged, never guessed)
    assert len(adjudicated) == 11
    assert (adjudicated["review-03"]["label"], adjudicated["review-03"]["resolved_by"]) == (
        "neu", "adjudicated")
    assert "review-12" not in adjudicated
    assert "rater-a              overruled 1/1" in res.stdout  # the feedback report
    original = json.loads((ROOT / "examples/delivery/instances_v2.json").read_text())
    assert json.loads((out / "delivery-v2-coco.json").read_text()) == original
