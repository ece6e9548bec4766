"""`gt diff a.json b.json --from coco` on real COCO files (needs the coco converter)."""

from __future__ import annotations

import copy
import json

import pytest

import groundtruth as gt
from groundtruth.cli import main
from tests.conftest import shared_path

pytestmark = pytest.mark.skipif("coco" not in gt.available_formats(),
                                reason="the coco converter is not registered in this checkout")


def _reexport(data: dict, *, renumber: bool) -> tuple[dict, dict]:
    """v2 of a real COCO file: one category flipped, one box moved, one dropped, one added;
    with `renumber`, annotation ids renumbered from 1 and the list reversed."""
    v2 = copy.deepcopy(data)
    anns = v2["annotations"]
    by_name = {c["name"]: c["id"] for c in v2["categories"]}
    name_of = {c["id"]: c["name"] for c in v2["categories"]}
    flip, move, drop = anns[3], anns[5], anns[8]
    old_flip = name_of[flip["category_id"]]
    new_flip = "dog" if old_flip != "dog" else "cat"
    flip["category_id"] = by_name[new_flip]
    move["bbox"] = [move["bbox"][0] + 2.0, *move["bbox"][1:]]
    anns.remove(drop)
    added = copy.deepcopy(anns[0])
    added["id"] = 10**9
    added["bbox"] = [1.0, 1.0, 3.0, 3.0]
    added["segmentation"] = [[1.0, 1.0, 4.0, 1.0, 4.0, 4.0, 1.0, 4.0]]
    anns.append(added)
    facts = {"flip": (str(flip["id"]), old_flip, new_flip), "move": str(move["id"]),
             "drop": str(drop["id"]), "added_image": str(added["image_id"])}
    if renumber:
        for n, a in enumerate(reversed(anns), 1):
            a["id"] = n
        anns.reverse()
    return v2, facts


@pytest.mark.parametrize("renumber", [False, True])
def test_diff_two_coco_versions(tmp_path, renumber):
    src = shared_path("coco", "tinycoco_instances_val2017.json")
    data = json.loads(src.read_text())
    v2, facts = _reexport(data, renumber=renumber)
    (tmp_path / "v2.json").write_text(json.dumps(v2))
    result = gt.diff(str(src), str(tmp_path / "v2.json"), format="coco")
    assert result.match_by["method"] == ("content" if renumber else "id")
    s = result.summary["annotations"]
    assert s["old"] == len(data["annotations"])
    assert (s["added"], s["removed"], s["changed"]) == (1, 1, 2)
    changes = result.annotation_changes
    (removed,) = [c for c in changes if c["change"] == "removed"]
    assert removed["id"] == facts["drop"]
    (added,) = [c for c in changes if c["change"] == "added"]
    assert added["item_id"] == facts["added_image"]
    changed = {c.get("old_id", c["id"]): c for c in changes if c["change"] == "changed"}
    flip_id, old_label, new_label = facts["flip"]
    assert changed[flip_id]["details"]["label"] == {"old": old_label, "new": new_label}
    assert changed[facts["move"]]["kinds"] == ["geometry"]
    assert changed[facts["move"]]["details"]["geometry"]["delta"] == {"x": 2.0}


def test_cli_from_coco_gate(tmp_path):
    src = shared_path("coco", "tinycoco_instances_val2017.json")
    v2, _ = _reexport(json.loads(src.read_text()), renumber=True)
    (tmp_path / "v2.json").write_text(json.dumps(v2))
    args = ["diff", str(src), str(tmp_path / "v2.json"), "--from", "coco"]
    with pytest.raises(SystemExit) as stop:
        main([*args, "--fail-on", "removed-annotations>0"])
    assert stop.value.code == 1
    with pytest.raises(SystemExit) as stop:
        main([*args, "--fail-on", "changed-labels>1", "--format", "markdown"])
    assert stop.value.code == 0
