"""`-o guideline=ID@VERSION` on import: the guideline a delivery was made under (issue 16)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import groundtruth as gt
from groundtruth import validate
from groundtruth.errors import UnknownOptionError
from tests.conftest import shared_path

CONLL = "John B-PER\nruns O\n\nMary B-PER\n\n"


def _ner(tmp_path):
    path = tmp_path / "ner.conll"
    path.write_text(CONLL)
    return path


def test_load_records_the_guideline_on_each_annotation_and_in_the_manifest(tmp_path):
    ds = gt.load(_ner(tmp_path), guideline="ner-rules@2.1")
    assert [(a.guideline.id, a.guideline.version) for a in ds.annotations] == [
        ("ner-rules", "2.1"), ("ner-rules", "2.1")]
    assert [(g.id, g.version) for g in ds.manifest.guidelines] == [("ner-rules", "2.1")]


def test_an_annotation_naming_its_own_guideline_keeps_it(tmp_path):
    from groundtruth._guideline import attach_guideline, parse_guideline
    from groundtruth.models.annotations import GuidelineRef

    ds = gt.load(_ner(tmp_path))
    ds.annotations[0].guideline = GuidelineRef(id="old", version="1")
    assert attach_guideline(ds, parse_guideline("new@2")) == 1
    assert [a.guideline.id for a in ds.annotations] == ["old", "new"]


@pytest.mark.parametrize("bad", ["ner-rules", "@2", "ner@", 3])
def test_a_guideline_without_version_is_a_usage_error(tmp_path, bad):
    with pytest.raises(UnknownOptionError, match="ID@VERSION"):
        gt.load(_ner(tmp_path), guideline=bad)


def test_cli_convert_and_validate_take_it(tmp_path):
    src = shared_path("jsonl", "labelstudio_image_bbox_export.json")
    assert any(i.code == "dataset.annotator-without-guideline" for i in validate(src).issues)
    assert not any(i.code == "dataset.annotator-without-guideline"
                   for i in validate(src, guideline="g@1").issues)
    res = subprocess.run([sys.executable, "-m", "groundtruth", "convert", str(src),
                          str(tmp_path / "out"), "-o", "guideline=g@1"],
                         capture_output=True, text=True, check=False, timeout=120)
    assert res.returncode == 0, res.stderr
    assert gt.load(tmp_path / "out").annotations[0].guideline.id == "g"
    res = subprocess.run([sys.executable, "-m", "groundtruth", "validate", str(src),
                          "-o", "guideline=g"], capture_output=True, text=True, check=False,
                         timeout=120)
    assert res.returncode == 2
    assert 'option guideline takes ID@VERSION, got "g"' in res.stderr
    assert "Traceback" not in res.stderr
