"""`gt croissant`: mlcroissant validates the document and reads the records gt reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import groundtruth as gt
from groundtruth.models import Annotator
from groundtruth.publish import CROISSANT_1_1, croissant
from tests.helpers import all_examples

mlc = pytest.importorskip("mlcroissant")
pytestmark = [  # mlcroissant's dependencies, not ours
    pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The inplace keyword"),
]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "groundtruth", *args], capture_output=True,
                          text=True, timeout=180, check=False)


def _value(v):
    return v.decode() if isinstance(v, bytes) else v


def read_records(folder: Path, record_set: str) -> list[dict]:
    dataset = mlc.Dataset(jsonld=str(folder / "croissant.json"))
    assert not dataset.metadata.ctx.issues.errors
    prefix = record_set + "/"
    return [{k.removeprefix(prefix): _value(v) for k, v in r.items()}
            for r in dataset.records(record_set)]


@pytest.mark.parametrize("encoding", ["parquet", "jsonl"])
def test_mlcroissant_reads_what_gt_reads(tmp_path, encoding):
    ds = gt.load(EXAMPLES / "reviews")
    ds.manifest = ds.manifest.model_copy(update={"annotators": [
        *ds.manifest.annotators, Annotator(id="m", kind="model", model_name="sentiment-bert",
                                           model_version="3", tool="autolabel")]})
    gt.save(ds, tmp_path / "r", encoding=encoding)
    res = run("croissant", str(tmp_path / "r"))
    assert res.returncode == 0, res.stderr
    doc = json.loads((tmp_path / "r" / "croissant.json").read_text())
    assert CROISSANT_1_1 in doc["conformsTo"]
    ours = gt.load(tmp_path / "r")
    anns = read_records(tmp_path / "r", "annotations")
    items = read_records(tmp_path / "r", "items")
    assert len(anns) == len(ours.annotations) == 36
    assert len(items) == len(ours.items) == 12
    assert sorted((a["id"], a["item_id"], a["label"], a["annotator"]) for a in anns) == sorted(
        (a.id, a.item_id, a.label, a.annotator) for a in ours.annotations)
    assert sorted((i["id"], i["text"], i["split"]) for i in items) == sorted(
        (i.id, i.text, i.split) for i in ours.items)
    meta = mlc.Dataset(jsonld=str(tmp_path / "r" / "croissant.json")).metadata
    assert meta.annotations_per_item.startswith("3.00 annotations per item")
    assert meta.data_annotation_platform == ["Acme Labeling", "autolabel"]
    assert meta.machine_annotation_tools == ["sentiment-bert 3"]
    assert meta.data_annotation_protocol == ["Sentiment labeling guide (sentiment-guide v2)"]
    report = gt.agreement(ours, "sentiment")
    pa_value = f"percent agreement {report['percent_agreement']['value']:.3f}"
    assert any(pa_value in line for line in meta.data_annotation_analysis)
    assert ours.fingerprint() in meta.data_collection
    assert doc["license"] == "CC-BY-4.0"
    assert "version" not in doc  # `v1` is no MAJOR.MINOR.PATCH; the fingerprint identifies it
    assert doc["identifier"] == ours.fingerprint()


def test_array_columns_and_undescribed_ones(tmp_path):
    ds = all_examples()
    gt.save(ds, tmp_path / "all", encoding="parquet")
    doc, undescribed = croissant(str(tmp_path / "all"))
    assert "annotations.polygon" in undescribed
    assert "annotations.bbox" not in undescribed
    assert "annotations.polygon" in doc["description"]
    (tmp_path / "all" / "croissant.json").write_text(json.dumps(doc))
    anns = read_records(tmp_path / "all", "annotations")
    assert len(anns) == len(ds.annotations)
    want = {a.id: a for a in ds.annotations}
    boxes = [a for a in anns if a["type"] == "bbox"]
    assert boxes
    for a in boxes:
        assert list(a["bbox"]) == pytest.approx(want[a["id"]].bbox)  # type: ignore[attr-defined]
    for a in anns:
        if a["type"] == "span":
            assert (a["start"], a["end"]) == (want[a["id"]].start, want[a["id"]].end)  # type: ignore[attr-defined]


def test_cli_refuses_foreign_files_and_existing_output(tmp_path):
    res = run("croissant", str(EXAMPLES / "delivery" / "instances_v1.json"), "--output", "-")
    assert res.returncode == 2
    assert "gt convert" in res.stderr
    gt.save(gt.load(EXAMPLES / "reviews"), tmp_path / "r")
    (tmp_path / "r" / "croissant.json").write_text("{}")
    res = run("croissant", str(tmp_path / "r"))
    assert res.returncode == 2
    assert (tmp_path / "r" / "croissant.json").read_text() == "{}"
