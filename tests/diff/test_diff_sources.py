"""Taxonomy changes, label maps, item kind changes, item keys, and streaming native datasets."""

from __future__ import annotations

import orjson
import pytest

import groundtruth as gt
from groundtruth import Dataset
from groundtruth.errors import GroundtruthError
from groundtruth.models import BBox, Classification, Item
from tests.diff.builders import grid_dataset, manifest, reexport


def _renamed(ds: Dataset, old: str, new: str) -> Dataset:
    labels = tuple(new if x == old else x for x in ("car", "person", "bike", "dog"))
    anns = [a.model_copy(update={"label": new}) if a.label == old else a for a in ds.annotations]
    return Dataset(manifest(labels), ds.items, anns)


def test_taxonomy_rename_is_reported_and_label_map_matches_through_it():
    old = grid_dataset()
    new = _renamed(old, "car", "automobile")
    result = gt.diff(old, new)
    tax = result.taxonomy
    assert tax["changed"]
    assert tax["labels"]["renamed"][0]["old"] == "car"
    assert tax["labels"]["renamed"][0]["new"] == "automobile"
    assert tax["labels"]["renamed"][0]["share"] == 1.0
    assert tax["labels"]["added"] == []
    assert tax["labels"]["removed"] == []
    assert result.issues[0].code == "diff.taxonomy-changed"
    n_cars = sum(a.label == "car" for a in old.annotations)
    assert result.summary["annotations"]["by_change"] == {"label": n_cars}

    mapped = gt.diff(old, new, label_map={"car": "automobile"})
    assert mapped.identical
    assert not mapped.taxonomy["changed"]
    assert mapped.taxonomy["label_map"] == {"car": "automobile"}
    assert not [i for i in mapped.issues if i.code == "diff.taxonomy-changed"]


def test_label_added_and_removed_from_the_taxonomy():
    old = grid_dataset()
    new = Dataset(manifest(("car", "person", "bike", "dog", "truck")), old.items,
                  [a for a in old.annotations if a.label != "bike"])
    tax = gt.diff(old, new).taxonomy
    assert tax["labels"]["added"] == ["truck"]
    assert tax["labels"]["removed"] == []  # still declared, just unused: not removed
    assert tax["labels"]["renamed"] == []


def test_item_kind_change_is_reported_not_crashed_on():
    old = Dataset(items=[Item(id="1", kind="image", uri="a.png", width=10, height=10)],
                  annotations=[BBox(id="b", item_id="1", label="x", bbox=[1, 1, 2, 2])])
    new = Dataset(items=[Item(id="1", kind="text", text="now a text")],
                  annotations=[Classification(id="b", item_id="1", label="x")])
    result = gt.diff(old, new)
    item = result.item_changes[0]
    assert item["kinds"][0] == "kind"
    assert item["details"]["kind"] == {"old": "image", "new": "text"}
    assert [i.code for i in result.issues if i.severity == "warning"] == [
        "diff.item-kind-changed"]
    # auto: the id now names another type of annotation, so ids are not trusted
    assert [c["change"] for c in result.annotation_changes] == ["removed", "added"]
    ann = gt.diff(old, new, match_by="id").annotation_changes[0]
    assert ann["kinds"] == ["geometry", "type"]
    assert ann["details"]["type"] == {"old": "bbox", "new": "classification"}
    assert result.render("html")  # renderers cope too
    assert result.render("markdown")


def test_items_added_removed_and_changed():
    old = grid_dataset(5)
    items = [*old.items[1:], Item(id="img999", kind="image", uri="new.jpg", width=1, height=1)]
    items[0] = items[0].model_copy(update={"uri": "moved/001.jpg", "split": "val"})
    new = Dataset(old.manifest, items,
                  [a for a in old.annotations if a.item_id != "img000"])
    result = gt.diff(old, new)
    by = {c["item_id"]: c for c in result.item_changes}
    assert by["img000"]["change"] == "removed"
    assert by["img000"]["annotations"]["removed"] == sum(
        a.item_id == "img000" for a in old.annotations)
    assert by["img999"]["change"] == "added"
    assert by["img001"]["kinds"] == ["media", "split"]
    assert by["img001"]["details"]["split"] == {"old": None, "new": "val"}
    assert result.summary["items"]["unchanged"] == 3


def test_item_key_name_matches_a_renumbered_reexport():
    old = grid_dataset(4)
    ids = {it.id: f"x{n}" for n, it in enumerate(reversed(old.items))}
    new = Dataset(old.manifest,
                  [it.model_copy(update={"id": ids[it.id],
                                         "uri": "https://cdn.example/" + it.uri}) for it in old.items],
                  [a.model_copy(update={"item_id": ids[a.item_id]}) for a in old.annotations])
    by_id = gt.diff(old, new)
    assert by_id.summary["items"]["added"] == 4
    by_name = gt.diff(old, new, item_key="name")
    assert by_name.summary["items"]["changed"] == 4
    assert by_name.summary["annotations"]["changed"] == 0
    assert by_name.summary["annotations"]["by_change"] == {}
    assert set(by_name.item_changes[0]["kinds"]) == {"media", "id"}


def test_moved_annotation_with_stable_id():
    old = grid_dataset(3)
    a = next(x for x in old.annotations if x.item_id == "img000" and x.type == "bbox")
    anns = [x.model_copy(update={"item_id": "img001"}) if x is a else x for x in old.annotations]
    result = gt.diff(old, Dataset(old.manifest, old.items, anns))
    assert result.summary["annotations"]["changed"] == 1
    c = result.annotation_changes[0]
    assert c["kinds"] == ["item"]
    assert c["details"]["item"] == {"old": "img000", "new": "img001"}


def test_streaming_native_equals_in_memory(tmp_path):
    old = grid_dataset()
    new, _ = reexport(old, renumber=False)
    gt.save(old, tmp_path / "v1")
    gt.save(new, tmp_path / "v2", encoding="parquet")
    streamed = gt.diff(str(tmp_path / "v1"), str(tmp_path / "v2"))
    in_memory = gt.diff(old, new)
    assert streamed.match_by["streamed"] is True
    assert streamed.summary == in_memory.summary
    assert streamed.annotation_changes == in_memory.annotation_changes
    assert streamed.old["fingerprint"] == old.fingerprint()
    assert streamed.new["fingerprint"] == new.fingerprint()


def test_unsorted_native_dataset_falls_back_to_memory(tmp_path):
    old = grid_dataset(6)
    new = grid_dataset(6)
    gt.save(old, tmp_path / "v1")
    # a hand-made dataset: records out of order, no parts list in the manifest
    folder = tmp_path / "v2"
    folder.mkdir()
    (folder / "groundtruth.json").write_bytes(orjson.dumps({"groundtruth": "1.0"}))
    (folder / "items.jsonl").write_bytes(b"".join(
        orjson.dumps(it.to_json_dict()) + b"\n" for it in reversed(new.items)))
    (folder / "annotations.jsonl").write_bytes(b"".join(
        orjson.dumps(a.to_json_dict()) + b"\n" for a in reversed(new.annotations)))
    result = gt.diff(str(tmp_path / "v1"), str(folder))
    assert result.match_by["streamed"] is False
    assert result.summary["annotations"]["unchanged"] == len(old.annotations)
    assert result.summary["items"]["unchanged"] == len(old.items)
    assert result.taxonomy["label_sets"]["removed"] == ["objects"]


def test_bad_options_raise_groundtruth_errors():
    ds = grid_dataset(1)
    with pytest.raises(GroundtruthError, match="cannot ignore"):
        gt.diff(ds, ds, ignore=["nonsense"])
    with pytest.raises(GroundtruthError):
        gt.diff(ds, ds, iou=1.5)
    with pytest.raises(gt.DatasetNotFoundError):
        gt.diff("/nonexistent/v1", ds)


def test_any_fsspec_url_and_zip(memfs, tmp_path):
    old = grid_dataset(5)
    new, _ = reexport(grid_dataset(30), renumber=False)
    new = Dataset(new.manifest, new.items[:5],
                  [a for a in new.annotations if a.item_id in {it.id for it in old.items}])
    gt.save(old, "memory://deliveries/v1")
    gt.save(new, str(tmp_path / "v2.zip"), encoding="parquet")
    result = gt.diff("memory://deliveries/v1", str(tmp_path / "v2.zip"))
    assert result.match_by["streamed"] is True
    assert result.new["source"].endswith("v2.zip")
    assert result.summary == gt.diff(old, new).summary


def test_a_line_that_is_not_an_object_is_a_located_error(tmp_path):
    """`match_by="auto"` reads every annotation line first: a JSON list there is reported where
    it is (file and line), not a crash."""
    ds = grid_dataset(2, 3)
    gt.save(ds, tmp_path / "a", encoding="jsonl")
    gt.save(ds, tmp_path / "b", encoding="jsonl")
    manifest_path = tmp_path / "b" / "groundtruth.json"
    data = orjson.loads(manifest_path.read_bytes())
    data.pop("parts", None)  # a hand-edited dataset: no sizes to contradict
    data.pop("fingerprint", None)
    manifest_path.write_bytes(orjson.dumps(data))
    with (tmp_path / "b" / "annotations.jsonl").open("ab") as f:
        f.write(b"[1]\n")
    with pytest.raises(gt.errors.DataFormatError) as err:
        gt.diff(tmp_path / "a", tmp_path / "b")
    assert err.value.location is not None
    assert (err.value.location.file or "").endswith("annotations.jsonl")
    assert err.value.location.line == len(ds.annotations) + 1
