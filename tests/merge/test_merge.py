"""Three-way merge on generated edit sets of known overlap."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

import groundtruth as gt
from groundtruth import Dataset
from groundtruth.merge import merge
from groundtruth.models import (
    Annotator,
    BBox,
    Classification,
    Item,
    Label,
    LabelSet,
    Manifest,
    Taxonomy,
)

LABELS = ["car", "person", "bike"]


def make_base(n_items: int = 40, per_item: int = 4) -> Dataset:
    rng = random.Random(7)
    manifest = Manifest(
        name="street", version="v1",
        taxonomy=Taxonomy(label_sets=[
            LabelSet(name="objects", annotation_types=["bbox"],
                     labels=[Label(name=x) for x in LABELS]),
            LabelSet(name="scene", annotation_types=["classification"],
                     labels=[Label(name="day"), Label(name="night")])]),
        annotators=[Annotator(id="vendor", kind="human"), Annotator(id="team-a", kind="human"),
                    Annotator(id="team-b", kind="human")])
    items, anns = [], []
    for i in range(n_items):
        iid = f"img-{i:03d}"
        items.append(Item(id=iid, kind="image", uri=f"{iid}.jpg", width=640, height=480))
        for j in range(per_item):
            x, y = rng.uniform(0, 500), rng.uniform(0, 350)
            anns.append(BBox(id=f"{iid}-b{j}", item_id=iid, label=rng.choice(LABELS),
                             label_set="objects", annotator="vendor",
                             bbox=[round(x, 1), round(y, 1), 60.0 + j, 80.0]))
        anns.append(Classification(id=f"{iid}-scene", item_id=iid, label="day",
                                   label_set="scene", annotator="vendor"))
    return Dataset(manifest, items, anns).sort()


def copy(ds: Dataset) -> Dataset:
    return Dataset(ds.manifest.model_copy(deep=True), list(ds.items), list(ds.annotations))


def edit(ds: Dataset, ann_id: str, **update) -> None:
    ds.annotations = [a.model_copy(update=update) if a.id == ann_id else a
                      for a in ds.annotations]


def drop(ds: Dataset, ann_id: str) -> None:
    ds.annotations = [a for a in ds.annotations if a.id != ann_id]


def add(ds: Dataset, ann) -> None:
    ds.annotations.append(ann)


def records(ds: Dataset) -> list[str]:
    return sorted(json.dumps(r.to_json_dict(), sort_keys=True) for r in ds.records())


def apply(ds: Dataset, ops: list) -> None:
    for op, *args in ops:
        {"edit": lambda a: edit(ds, a[0], **a[1]), "drop": lambda a: drop(ds, a[0]),
         "add": lambda a: add(ds, a[0])}[op](args)


def edit_sets(base: Dataset, seed: int):
    """(ours-only, theirs-only, both) edit lists touching disjoint annotations."""
    rng = random.Random(seed)
    ids = [a.id for a in base.annotations if a.type == "bbox"]
    rng.shuffle(ids)
    groups = [ids[i::3] for i in range(3)]

    def ops(group, who, n):
        out = []
        for k, aid in enumerate(group[:n]):
            kind = k % 3
            if kind == 0:
                out.append(("edit", aid, {"label": rng.choice(LABELS), "annotator": who}))
            elif kind == 1:
                out.append(("edit", aid, {"bbox": [1.0, 2.0, 30.0 + k, 40.0], "annotator": who}))
            else:
                out.append(("drop", aid))
        item = f"img-{rng.randrange(40):03d}"
        out.append(("add", BBox(id=f"{who}-new-{seed}", item_id=item, label="bike",
                                label_set="objects", annotator=who,
                                bbox=[5.0, 5.0, 10.0 + seed, 10.0])))
        return out

    return ops(groups[0], "team-a", 12), ops(groups[1], "team-b", 12), ops(groups[2], "team-a", 6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_conflict_merge_equals_applying_both_edit_sets(seed):
    base = make_base()
    mine, theirs_ops, both = edit_sets(base, seed)
    ours, theirs, expected = copy(base), copy(base), copy(base)
    apply(ours, mine + both)
    apply(theirs, theirs_ops + both)
    apply(expected, mine + theirs_ops + both)
    result = merge(base, ours, theirs)
    assert result.clean
    assert records(result.dataset) == records(expected)
    assert result.dataset.fingerprint() == expected.fingerprint()
    assert result.counts["annotations"]["ours"] == len(mine)
    assert result.counts["annotations"]["theirs"] == len(theirs_ops)
    assert result.counts["annotations"]["both"] == len(both)
    assert result.dataset.manifest.parents == [ours.fingerprint(), theirs.fingerprint()]


def _swap(line: str) -> str:
    return (line.replace("~ours", "~TMP").replace("~theirs", "~ours")
                   .replace("~TMP", "~theirs").replace('"side": "ours"', '"side": "TMP"')
                   .replace('"side": "theirs"', '"side": "ours"')
                   .replace('"side": "TMP"', '"side": "theirs"')
                   .replace("changed/removed", "TMP").replace("removed/changed", "changed/removed")
                   .replace("TMP", "removed/changed"))


def _swap_names(ds: Dataset) -> list[str]:
    return sorted(_swap(line) for line in records(ds))


def conflicted_pair(base: Dataset) -> tuple[Dataset, Dataset]:
    ours, theirs = copy(base), copy(base)
    edit(ours, "img-000-b0", label="person", annotator="team-a")
    edit(theirs, "img-000-b0", label="bike", annotator="team-b")       # changed/changed
    edit(ours, "img-001-b1", bbox=[0.0, 0.0, 5.0, 5.0], annotator="team-a")
    drop(theirs, "img-001-b1")                                          # changed/removed
    add(ours, BBox(id="new-1", item_id="img-002", label="car", label_set="objects",
                   annotator="team-a", bbox=[1.0, 1.0, 9.0, 9.0]))
    add(theirs, BBox(id="new-1", item_id="img-002", label="bike", label_set="objects",
                     annotator="team-b", bbox=[1.0, 1.0, 9.0, 9.0]))   # added/added
    edit(ours, "img-003-b0", label="bike")                              # no conflict
    return ours, theirs


def test_conflicts_are_kept_as_disputes_with_their_annotators():
    base = make_base()
    ours, theirs = conflicted_pair(base)
    result = merge(base, ours, theirs)
    assert not result.clean
    reasons = sorted((c.key, c.reason) for c in result.unresolved)
    assert reasons == [("img-000/img-000-b0", "changed/changed"),
                       ("img-001/img-001-b1", "changed/removed"),
                       ("img-002/new-1", "added/added")]
    by_id = {a.id: a for a in result.dataset.annotations}
    assert "img-000-b0" not in by_id
    assert (by_id["img-000-b0~ours"].label, by_id["img-000-b0~ours"].annotator) == (
        "person", "team-a")
    assert (by_id["img-000-b0~theirs"].label, by_id["img-000-b0~theirs"].annotator) == (
        "bike", "team-b")
    assert by_id["img-000-b0~theirs"].extensions["merge"] == {
        "conflict": "img-000/img-000-b0", "side": "theirs", "reason": "changed/changed",
        "base_id": "img-000-b0"}
    assert "img-001-b1~ours" in by_id
    assert "img-001-b1~theirs" not in by_id
    assert {"new-1~ours", "new-1~theirs"} <= set(by_id)
    assert by_id["img-003-b0"].label == "bike"
    conflict = next(c for c in result.to_dict()["conflicts"] if c["reason"] == "changed/changed")
    assert (conflict["ours_annotator"], conflict["theirs_annotator"]) == ("team-a", "team-b")
    assert not gt.validate(result.dataset).errors


def test_ours_and_theirs_in_either_order_give_the_same_records():
    base = make_base()
    ours, theirs = conflicted_pair(base)
    ab, ba = merge(base, ours, theirs), merge(base, theirs, ours)
    assert records(ab.dataset) == _swap_names(ba.dataset)
    assert len(ab.conflicts) == len(ba.conflicts) == 3


@pytest.mark.parametrize("side", ["ours", "theirs"])
def test_prefer_resolves_every_conflict_for_one_side(side):
    base = make_base()
    ours, theirs = conflicted_pair(base)
    result = merge(base, ours, theirs, prefer=side)
    assert result.clean
    assert all(c.resolved == side for c in result.conflicts)
    by_id = {a.id: a for a in result.dataset.annotations}
    assert by_id["img-000-b0"].label == ("person" if side == "ours" else "bike")
    assert ("img-001-b1" in by_id) == (side == "ours")
    assert by_id["new-1"].label == ("car" if side == "ours" else "bike")
    assert not any("~" in a.id for a in result.dataset.annotations)


def test_same_addition_under_two_ids_applies_once():
    base = make_base()
    ours, theirs = copy(base), copy(base)
    box = {"item_id": "img-005", "label": "car", "label_set": "objects", "annotator": "team-a",
           "bbox": [3.0, 3.0, 30.0, 30.0]}
    add(ours, BBox(id="a-17", **box))
    add(theirs, BBox(id="b-99", **box))
    result = merge(base, ours, theirs)
    assert result.clean
    added = [a for a in result.dataset.annotations if a.item_id == "img-005"
             and a.id in ("a-17", "b-99")]
    assert [a.id for a in added] == ["a-17"]
    assert result.counts["annotations"]["both"] == 1


def test_taxonomy_changes_merge_and_a_rename_reaches_the_other_side():
    base = make_base()
    ours, theirs = copy(base), copy(base)
    # ours renames car -> automobile (taxonomy and every annotation)
    sets = ours.manifest.taxonomy.label_sets
    objects = sets[0].model_copy(update={"labels": [
        Label(name="automobile" if lb.name == "car" else lb.name) for lb in sets[0].labels]})
    ours.manifest = ours.manifest.model_copy(
        update={"taxonomy": Taxonomy(label_sets=[objects, sets[1]])})
    ours.annotations = [a.model_copy(update={"label": "automobile"}) if a.label == "car" else a
                        for a in ours.annotations]
    # theirs adds a label and a new box still called `car`
    tsets = theirs.manifest.taxonomy.label_sets
    tobjects = tsets[0].model_copy(update={"labels": [*tsets[0].labels, Label(name="truck")]})
    theirs.manifest = theirs.manifest.model_copy(
        update={"taxonomy": Taxonomy(label_sets=[tobjects, tsets[1]])})
    add(theirs, BBox(id="t-1", item_id="img-009", label="car", label_set="objects",
                     annotator="team-b", bbox=[1.0, 1.0, 5.0, 5.0]))
    add(theirs, BBox(id="t-2", item_id="img-009", label="truck", label_set="objects",
                     annotator="team-b", bbox=[50.0, 1.0, 5.0, 5.0]))
    result = merge(base, ours, theirs)
    assert result.clean
    names = [lb.name for lb in result.dataset.manifest.taxonomy.label_sets[0].labels]
    assert names == ["automobile", "person", "bike", "truck"]
    by_id = {a.id: a for a in result.dataset.annotations}
    assert by_id["t-1"].label == "automobile"
    assert by_id["t-2"].label == "truck"
    assert not any(a.label == "car" for a in result.dataset.annotations)
    assert not gt.validate(result.dataset).errors


def test_a_label_changed_differently_on_both_sides_is_a_conflict():
    base = make_base()
    ours, theirs = copy(base), copy(base)
    for ds, text in ((ours, "any motor car"), (theirs, "passenger cars only")):
        s = ds.manifest.taxonomy.label_sets
        objects = s[0].model_copy(update={"labels": [
            lb.model_copy(update={"description": text}) if lb.name == "car" else lb
            for lb in s[0].labels]})
        ds.manifest = ds.manifest.model_copy(update={"taxonomy": Taxonomy(
            label_sets=[objects, s[1]])})
    result = merge(base, ours, theirs)
    assert [(c.kind, c.key) for c in result.unresolved] == [("label", "objects/car")]
    car = result.dataset.manifest.taxonomy.label_sets[0].labels[0]
    assert car.description is None  # the base definition stays while disputed
    assert merge(base, ours, theirs, prefer="theirs").dataset.manifest.taxonomy.label_sets[
        0].labels[0].description == "passenger cars only"


def test_item_removed_on_one_side_and_annotated_on_the_other():
    base = make_base()
    ours, theirs = copy(base), copy(base)
    ours.items = [it for it in ours.items if it.id != "img-004"]
    ours.annotations = [a for a in ours.annotations if a.item_id != "img-004"]
    add(theirs, BBox(id="t-9", item_id="img-004", label="car", label_set="objects",
                     annotator="team-b", bbox=[1.0, 1.0, 5.0, 5.0]))
    result = merge(base, ours, theirs)
    assert [(c.kind, c.key, c.reason) for c in result.unresolved] == [
        ("item", "img-004", "removed/annotated")]
    item = next(it for it in result.dataset.items if it.id == "img-004")
    assert item.extensions["merge"]["reason"] == "removed/annotated"
    gone = merge(base, ours, theirs, prefer="ours").dataset
    assert not any(it.id == "img-004" for it in gone.items)
    assert not any(a.item_id == "img-004" for a in gone.annotations)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "groundtruth", *args], capture_output=True,
                          text=True, timeout=180, check=False)


def test_cli_exit_codes_and_reports(tmp_path):
    base = make_base(8, 2)
    ours, theirs = conflicted_pair(base)
    edit(theirs, "img-000-b0", label="<b>@team</b>", annotator="team-b")
    for name, ds in (("base", base), ("ours", ours), ("theirs", theirs)):
        gt.save(ds, tmp_path / name)
    args = [str(tmp_path / n) for n in ("base", "ours", "theirs")]
    res = run("merge", *args, str(tmp_path / "out"), "--format", "json")
    assert res.returncode == 1, res.stderr
    report = json.loads(res.stdout)
    assert report["unresolved"] == 3
    assert report["merged"]["fingerprint"] == gt.load(tmp_path / "out").fingerprint()
    res = run("merge", *args, str(tmp_path / "md"), "--format", "markdown")
    assert res.returncode == 1
    assert "<b>" not in res.stdout
    assert "\\<b\\>" in res.stdout
    res = run("merge", *args, str(tmp_path / "txt"))
    assert "conflict annotation img-000/img-000-b0 (changed/changed)" in res.stdout
    res = run("merge", *args, str(tmp_path / "pref"), "--prefer", "ours", "--version", "v2")
    assert res.returncode == 0, res.stderr
    merged = gt.load(tmp_path / "pref")
    assert merged.manifest.version == "v2"
    res = run("merge", *args, str(tmp_path / "pref"))
    assert res.returncode == 2
    assert "already exists" in res.stderr
    res = run("merge", *args[:2], str(tmp_path / "nope"), str(tmp_path / "x"))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr


def test_an_item_changed_differently_keeps_the_base_item_with_both_versions():
    base = make_base(6, 1)
    ours, theirs = copy(base), copy(base)
    ours.items = [it.model_copy(update={"split": "train"}) if it.id == "img-001" else it
                  for it in ours.items]
    theirs.items = [it.model_copy(update={"split": "test"}) if it.id == "img-001" else it
                    for it in theirs.items]
    theirs.items = [it.model_copy(update={"width": 800}) if it.id == "img-002" else it
                    for it in theirs.items]
    result = merge(base, ours, theirs)
    assert [(c.kind, c.key, c.reason) for c in result.unresolved] == [
        ("item", "img-001", "changed/changed")]
    items = {it.id: it for it in result.dataset.items}
    assert items["img-001"].split is None
    assert items["img-001"].extensions["merge"]["ours"]["split"] == "train"
    assert items["img-001"].extensions["merge"]["theirs"]["split"] == "test"
    assert items["img-002"].width == 800
    assert result.counts["items"]["theirs"] == 1
    resolved = {it.id: it for it in merge(base, ours, theirs, prefer="ours").dataset.items}
    assert resolved["img-001"].split == "train"
    assert "merge" not in resolved["img-001"].extensions
