"""A vendor re-export, with stable and with renumbered ids: every change classified exactly."""

from __future__ import annotations

import pytest

import groundtruth as gt
from tests.diff.builders import grid_dataset, reexport


def _check(result, exp, *, renumbered: bool):
    changes = result.annotation_changes
    removed = {c["id"] for c in changes if c["change"] == "removed"}
    added = {c["id"] for c in changes if c["change"] == "added"}
    changed = {c.get("old_id", c["id"]): c for c in changes if c["change"] == "changed"}
    assert removed == exp.dropped
    assert added == exp.added
    assert set(changed) == exp.moved | set(exp.flipped)
    for old_id, c in changed.items():
        assert c["id"] == exp.new_id[old_id], "paired with the wrong annotation"
        kinds = set(c["kinds"])
        want = set()
        if old_id in exp.moved:
            want.add("geometry")
            geo = c["details"]["geometry"]
            assert geo["delta"] == {"x": 3.0, "y": -2.0}
            assert geo["iou"] == pytest.approx((47 * 48) / (2 * 2500 - 47 * 48), abs=1e-4)
        if old_id in exp.flipped:
            want.add("label")
            assert (c["details"]["label"]["old"], c["details"]["label"]["new"]) == \
                exp.flipped[old_id]
        assert kinds == want, old_id
    s = result.summary["annotations"]
    n_old = s["old"]
    assert s["removed"] == len(exp.dropped)
    assert s["added"] == len(exp.added)
    assert s["changed"] == len(changed)
    assert s["unchanged"] == n_old - len(exp.dropped) - len(changed)
    assert s["by_change"] == {"geometry": len(exp.moved), "label": len(exp.flipped)}
    # the confusion table counts every flip once, off the diagonal
    flips = sum(c["count"] for c in result.summary["confusion"]
                if c["old"] and c["new"] and c["old"] != c["new"])
    assert flips == len(exp.flipped)
    assert result.match_by["method"] == ("content" if renumbered else "id")


def test_stable_ids():
    old = grid_dataset()
    new, exp = reexport(old, renumber=False)
    result = gt.diff(old, new)
    _check(result, exp, renumbered=False)
    assert all("similarity" not in c for c in result.annotation_changes)


def test_renumbered_ids_are_matched_by_content():
    old = grid_dataset()
    new, exp = reexport(old, renumber=True)
    # the new ids are the same numbers, shuffled: id matching would pair strangers
    assert {a.id for a in new.annotations} <= {a.id for a in old.annotations} | exp.added
    result = gt.diff(old, new)
    _check(result, exp, renumbered=True)
    assert any(i.code == "diff.ids-renumbered" for i in result.issues)


def test_forcing_id_matching_on_a_renumbered_export_pairs_strangers():
    old = grid_dataset()
    new, _ = reexport(old, renumber=True)
    result = gt.diff(old, new, match_by="id")
    assert result.match_by["method"] == "id"
    # same numbers, different annotations: nearly everything looks changed
    assert result.summary["annotations"]["changed"] > 0.8 * result.summary["annotations"]["old"]


def test_identical_datasets():
    old = grid_dataset()
    result = gt.diff(old, grid_dataset())
    assert result.identical
    s = result.summary
    assert s["items"] == {**s["items"], "added": 0, "removed": 0, "changed": 0,
                          "unchanged": len(old.items)}
    assert result.old["fingerprint"] == result.new["fingerprint"] == old.fingerprint()


def test_item_changes_count_their_annotations():
    old = grid_dataset()
    new, exp = reexport(old, renumber=False)
    result = gt.diff(old, new)
    per_item = {c["item_id"]: c for c in result.item_changes}
    touched = {a.item_id for a in old.annotations if a.id in exp.dropped | exp.moved
               | set(exp.flipped)} | {a.item_id for a in new.annotations if a.id in exp.added}
    assert set(per_item) == touched
    assert all(c["kinds"] == ["annotations"] for c in per_item.values())
    assert sum(c["annotations"]["removed"] for c in per_item.values()) == len(exp.dropped)
    assert result.summary["items"]["changed"] == len(touched)


def test_thresholds_decide_what_pairs():
    old = grid_dataset()
    new, exp = reexport(old, renumber=True)
    strict = gt.diff(old, new, iou=0.9)
    # moved boxes (IoU 0.82) no longer pair: each is one removal plus one addition
    s = strict.summary["annotations"]
    assert s["removed"] == len(exp.dropped) + len(exp.moved)
    assert s["added"] == len(exp.added) + len(exp.moved)


def test_ignore_geometry_and_label():
    old = grid_dataset()
    new, exp = reexport(old, renumber=False)
    result = gt.diff(old, new, ignore=["geometry"])
    assert result.summary["annotations"]["by_change"] == {"label": len(exp.flipped)}
    result = gt.diff(old, new, ignore=["label", "geometry"])
    assert result.summary["annotations"]["changed"] == 0


def test_max_changes_truncates_lists_not_counts():
    old = grid_dataset()
    new, exp = reexport(old, renumber=False)
    result = gt.diff(old, new, max_changes=5)
    assert len(result.annotation_changes) == 5
    assert result.truncated
    assert result.summary["annotations"]["removed"] == len(exp.dropped)
