"""validate on real files written by other tools (skipped where ../shared/data is absent)."""

from __future__ import annotations

import json

import pytest

from groundtruth import validate
from tests.conftest import shared_path


@pytest.mark.parametrize(("parts", "fmt"), [
    (("coco", "tinycoco_instances_val2017.json"), "coco"),
    (("coco", "minicoco_person_keypoints_train2017.json"), "coco"),
    (("conll", "wnut17_emerging.dev.conll"), "conll"),
    (("conll", "en_ewt-ud-test.first564.conllu"), "conllu"),
    (("jsonl", "labelstudio_image_bbox_export.json"), "labelstudio"),
])
def test_real_deliveries_have_no_errors(parts, fmt):
    report = validate(shared_path(*parts), format=fmt)
    assert report.format == fmt
    assert report.errors == [], str(report)
    assert report.stats["items"] > 0


def test_broken_coco_is_reported_at_its_own_locations(tmp_path):
    data = json.loads(shared_path("coco", "tinycoco_instances_val2017.json").read_text())
    image = data["images"][0]
    ann = next(a for a in data["annotations"] if a["image_id"] == image["id"])
    ann["bbox"] = [image["width"] - 1.0, 0.0, 50.0, 10.0]  # reaches outside the image
    data["annotations"].append({**ann, "id": 999999, "image_id": -5})  # no such image
    f = tmp_path / "broken.json"
    f.write_text(json.dumps(data))
    report = validate(f, format="coco")
    assert not report.ok
    codes = {i.code for i in report.issues}
    assert "geometry.out-of-bounds" in codes
    out = next(i for i in report.issues if i.code == "geometry.out-of-bounds")
    assert out.location.record_id == str(ann["id"])
    assert out.location.file == str(f)
    # the dangling image id is reported by the reader or by the references layer
    assert codes & {"reference.item-missing"} or any(
        i.code.startswith("coco.") for i in report.issues)
