"""VOC: bad input as located issues, refused entities, the loss report, detection and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groundtruth import Dataset, converters
from groundtruth.cli import main
from groundtruth.errors import ConversionError, UnknownOptionError
from groundtruth.models import (
    BBox,
    Classification,
    Item,
    Keypoints,
    Label,
    LabelSet,
    Manifest,
    Polygon,
    Taxonomy,
)
from tests.xmlvalues import file_value

GOOD = """<annotation>
  <filename>good.jpg</filename>
  <size><width>100</width><height>50</height><depth>3</depth></size>
  <object>
    <name>dog</name>
    <difficult>yes</difficult>
    <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>100</xmax><ymax>50</ymax></bndbox>
    <mood>happy</mood>
  </object>
  <object>
    <name>cat</name>
    <bndbox><xmin>10</xmin><ymin>abc</ymin><xmax>20</xmax><ymax>30</ymax></bndbox>
  </object>
  <object>
    <name>cat</name>
  </object>
  <object>
    <bndbox><xmin>30</xmin><ymin>20</ymin><xmax>10</xmax><ymax>40</ymax></bndbox>
  </object>
</annotation>
"""
BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<annotation><filename>&lol9;</filename></annotation>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE annotation [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<annotation><filename>&xxe;</filename></annotation>
"""


@pytest.fixture
def bad_folder(tmp_path: Path) -> Path:
    root = tmp_path / "bad"
    ann = root / "Annotations"
    ann.mkdir(parents=True)
    (ann / "good.xml").write_text(GOOD)
    (ann / "broken.xml").write_text(
        "<annotation>\n  <filename>broken.jpg</filename>\n  <object>\n    <name>dog</name>\n"
        "  </annotation>\n")
    (ann / "bomb.xml").write_text(BOMB)
    (ann / "external.xml").write_text(EXTERNAL)
    (ann / "notvoc.xml").write_text("<annotations><version>1.1</version></annotations>\n")
    (ann / "size.xml").write_text(
        "<annotation>\n<filename>size.jpg</filename>\n"
        "<size><width>0</width><height>-3</height></size>\n</annotation>\n")
    main_sets = root / "ImageSets" / "Main"
    main_sets.mkdir(parents=True)
    (main_sets / "train.txt").write_text("# the training images\ngood\n\nsize\n")
    (main_sets / "dog_train.txt").write_text("good  1\nsize maybe\n")
    return root


def test_bad_input_is_located_and_the_rest_is_read(bad_folder: Path) -> None:
    ds = converters.get("voc").read(str(bad_folder))
    ann = bad_folder / "Annotations"
    got = {(i.code, Path(i.location.file or "").name, i.location.line, i.location.record_id)
           for i in ds.issues}
    assert got >= {
        ("voc.file.not-xml", "broken.xml", 5, "broken"),
        ("voc.file.entities", "bomb.xml", None, "bomb"),
        ("voc.file.entities", "external.xml", None, "external"),
        ("voc.file.not-voc", "notvoc.xml", 1, "notvoc"),
        ("voc.object.bad-flag", "good.xml", 6, "good:1"),
        ("voc.tag.unknown", "good.xml", 8, "good:1"),
        ("voc.bndbox.invalid", "good.xml", 12, "good:2"),
        ("voc.object.missing-bndbox", "good.xml", 14, "good:3"),
        ("voc.object.missing-name", "good.xml", 17, "good:4"),
        ("voc.bndbox.reversed", "good.xml", 18, "good:4"),
        ("voc.size.invalid", "size.xml", 3, "size"),
        ("voc.imageset.comment", "train.txt", 1, None),
        ("voc.imageset.bad-line", "dog_train.txt", 2, None),
    }
    broken = next(i for i in ds.issues if i.code == "voc.file.not-xml")
    assert "line 5, column 5" in broken.message
    assert broken.location.file == str(ann / "broken.xml")
    bomb = next(i for i in ds.issues if i.location.record_id == "bomb")
    assert "'lol'" in bomb.message
    assert len(bomb.message) < 400
    external = next(i for i in ds.issues if i.location.record_id == "external")
    assert "/etc/passwd" in external.message
    assert "root:" not in external.message
    assert [it.id for it in ds.items] == ["good", "size"]
    anns = {a.id: a for a in ds.annotations}
    assert sorted(anns) == ["good:1", "good:4", "good:class:dog"]
    assert anns["good:1"].attributes["difficult"] == "yes"  # kept as text
    assert anns["good:1"].extensions["voc"]["mood"] == "happy"
    assert anns["good:4"].label is None
    assert ds.item("size").width is None
    assert ds.item("size").extensions["voc"]["size"] == {"width": "0", "height": "-3"}


def test_unknown_and_odd_values_are_written_back(bad_folder: Path, tmp_path: Path) -> None:
    conv = converters.get("voc")
    ds = conv.read(str(bad_folder))
    conv.write(ds, str(tmp_path / "out"))
    text = (tmp_path / "out" / "Annotations" / "good.xml").read_text()
    assert "<mood>happy</mood>" in text
    assert "<difficult>yes</difficult>" in text
    size = (tmp_path / "out" / "Annotations" / "size.xml").read_text()
    assert "<width>0</width>" in size
    assert "<height>-3</height>" in size


@pytest.mark.parametrize("content", [BOMB, EXTERNAL, "<annotation><filename>x</annotation>"])
def test_one_unreadable_file_raises_a_located_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "one.xml"
    path.write_text(content)
    with pytest.raises(ConversionError) as err:
        converters.get("voc").read(str(path))
    assert err.value.location is not None
    assert err.value.location.file == str(path)
    assert err.value.hint


def test_cli_shows_a_broken_file_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "one.xml"
    path.write_text("<annotation>\n<filename>x.jpg\n</annotation>\n")
    with pytest.raises(SystemExit) as exit_:
        main(["convert", str(path), str(tmp_path / "out")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "voc.file.not-xml" in err
    assert "line 3" in err
    assert "Traceback" not in err


def _dataset() -> Dataset:
    labels = LabelSet(name="objects", labels=[
        Label(name="dog", description="a dog"), Label(name="cat")])
    manifest = Manifest(name="t", taxonomy=Taxonomy(label_sets=[labels]), description="x")
    items = [
        Item(id="a", kind="image", uri="a.jpg", width=40, height=30, split="train",
             metadata={"k": 1}),
        Item(id="t", kind="text", text="hello"),
    ]
    anns = [
        BBox(id="1", item_id="a", label="dog", bbox=[0, 0, 10, 5], annotator="ann1",
             attributes={"difficult": True, "colour": "brown"}),
        BBox(id="2", item_id="a", label="cat", bbox=[2.5, 3, 4, 4], rotation=30),
        Polygon(id="3", item_id="a", label="cat", polygon=[[0, 0, 5, 0, 5, 5]]),
        Keypoints(id="4", item_id="a", label="dog", keypoints=[1, 1, 2]),
        Classification(id="5", item_id="a", label="dog"),
        Classification(id="6", item_id="t", label="cat"),
    ]
    return Dataset(manifest, items, anns)


def test_write_reports_every_loss_and_converts_coordinates(tmp_path: Path) -> None:
    report = converters.get("voc").write(_dataset(), str(tmp_path / "out"))
    codes = {(i.code, i.location.record_id) for i in report.issues}
    assert codes == {
        ("voc.export.manifest-fields", None),
        ("voc.export.label-fields", "dog"),
        ("voc.export.unsupported-item", "t"),
        ("voc.export.item-fields", "a"),
        ("voc.export.provenance", "1"),
        ("voc.export.rotation", "2"),
        ("voc.export.unsupported-annotation", "3"),
        ("voc.export.unsupported-annotation", "4"),
    }
    xml = (tmp_path / "out" / "Annotations" / "a.xml").read_text()
    # [0, 0, 10, 5] covers pixels 0..9 x 0..4: VOC 1..10 x 1..5
    assert "<xmin>1</xmin>" in xml
    assert "<xmax>10</xmax>" in xml
    assert "<ymax>5</ymax>" in xml
    assert "<xmin>3.5</xmin>" in xml
    assert "<xmax>6.5</xmax>" in xml
    assert "<difficult>1</difficult>" in xml
    assert "<name>colour</name>" in xml
    assert "<value>brown</value>" in xml
    main_lists = tmp_path / "out" / "ImageSets" / "Main"
    assert (main_lists / "train.txt").read_text() == "a\n"
    assert (main_lists / "dog_train.txt").read_text() == "a  1\n"
    assert (main_lists / "cat_train.txt").read_text() == "a -1\n"
    labelmap = (tmp_path / "out" / "labelmap.txt").read_text().splitlines()
    assert labelmap[1:] == ["dog:::", "cat:::"]
    back = converters.get("voc").read(str(tmp_path / "out"))
    box = next(a for a in back.annotations if a.id == "a:1")
    assert box.bbox == [0, 0, 10, 5]  # type: ignore[attr-defined]
    assert box.attributes == {"difficult": True, "colour": "brown"}


def test_write_refuses_an_existing_folder_and_leaves_it(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError):
        converters.get("voc").write(_dataset(), str(out))
    assert (out / "keep.txt").exists()
    # --overwrite replaces a VOC dataset only, never a folder of other files (nor a file)
    with pytest.raises(FileExistsError, match="not a VOC dataset folder"):
        converters.get("voc").write(_dataset(), str(out), overwrite=True)
    assert (out / "keep.txt").read_text() == "x"
    (tmp_path / "plain.txt").write_text("y")
    with pytest.raises(FileExistsError, match="not a VOC dataset folder"):
        converters.get("voc").write(_dataset(), str(tmp_path / "plain.txt"), overwrite=True)
    assert (tmp_path / "plain.txt").read_text() == "y"
    voc = tmp_path / "voc"
    converters.get("voc").write(_dataset(), str(voc))
    (voc / "Annotations" / "old.xml").write_text("<annotation/>")
    converters.get("voc").write(_dataset(), str(voc), overwrite=True)
    assert not (voc / "Annotations" / "old.xml").exists()
    assert (voc / "Annotations" / "a.xml").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no stage left


def test_detection_of_folder_file_and_annotations_layout(tmp_path: Path) -> None:
    converters.get("voc").write(_dataset(), str(tmp_path / "voc"))
    assert converters.detect_format(str(tmp_path / "voc")) == "voc"
    assert converters.detect_format(str(tmp_path / "voc" / "Annotations")) == "voc"
    assert converters.detect_format(str(tmp_path / "voc" / "Annotations" / "a.xml")) == "voc"


def test_every_verb_reads_a_voc_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    conv = converters.get("voc")
    conv.write(_dataset(), str(tmp_path / "v1"))
    changed = _dataset()
    changed.annotations[0] = changed.annotations[0].model_copy(update={"label": "cat"})
    conv.write(changed, str(tmp_path / "v2"))
    with pytest.raises(SystemExit) as exit_:
        main(["convert", str(tmp_path / "v1"), str(tmp_path / "native"), "--format", "json"])
    assert exit_.value.code == 0
    assert json.loads(capsys.readouterr().out)["from"] == "voc"
    with pytest.raises(SystemExit) as exit_:
        main(["validate", str(tmp_path / "v1"), "--format", "json"])
    assert exit_.value.code == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["diff", str(tmp_path / "v1"), str(tmp_path / "v2"), "--format", "json"])
    assert exit_.value.code == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["summary"]["annotations"]["changed"] == 1
    with pytest.raises(SystemExit) as exit_:
        main(["agreement", str(tmp_path / "v1"), "--type", "bbox"])
    assert exit_.value.code == 1  # VOC names no annotator: said so, no traceback
    assert "names an annotator" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["export", str(tmp_path / "v1"), str(tmp_path / "train.jsonl"),
              "--task", "classification", "--allow-loss"])  # no text: 0 rows, accepted
    assert exit_.value.code == 0
    assert (tmp_path / "train.jsonl").exists()


def test_round_trip_through_native_keeps_the_xml(tmp_path: Path) -> None:
    src = tmp_path / "src"
    converters.get("voc").write(_dataset(), str(src))
    ds = converters.get("voc").read(str(src))
    native = tmp_path / "native"
    ds.to_file(str(native))
    again = Dataset.from_file(str(native))
    converters.get("voc").write(again, str(tmp_path / "back"))
    assert file_value(tmp_path / "back" / "Annotations" / "a.xml") == file_value(
        src / "Annotations" / "a.xml")


def test_reads_and_writes_any_filesystem(memfs) -> None:
    conv = converters.get("voc")
    conv.write(_dataset(), "memory://voc/out")
    assert converters.detect_format("/voc/out", fs=memfs) == "voc"
    back = conv.read("/voc/out", fs=memfs)
    assert [a.id for a in back.annotations] == ["a:1", "a:2", "a:class:dog"]
    assert back.annotations[0].bbox == [0, 0, 10, 5]  # type: ignore[attr-defined]


def test_ids_that_are_not_safe_file_names_are_renamed(tmp_path: Path) -> None:
    items = [Item(id=i, kind="image", uri="x.jpg", split="train")
             for i in ("../../escape", "/abs/path", "a:b", "sub/ok", "with space")]
    anns = [BBox(id=f"b{n}", item_id=it.id, label="dog", bbox=[0, 0, 1, 1])
            for n, it in enumerate(items)]
    report = converters.get("voc").write(Dataset(Manifest(), items, anns), str(tmp_path / "out"))
    renamed = {i.location.record_id for i in report.issues if i.code == "voc.export.renamed"}
    assert renamed == {"../../escape", "/abs/path", "a:b"}
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.xml"))
    assert written == ["out/Annotations/a_b.xml", "out/Annotations/abs_path.xml",
                       "out/Annotations/escape.xml", "out/Annotations/sub/ok.xml",
                       "out/Annotations/with space.xml"]
    lines = (tmp_path / "out" / "ImageSets" / "Main" / "train.txt").read_text().splitlines()
    assert lines == ["escape", "abs_path", "a_b", "sub/ok", "with space"]
    back = converters.get("voc").read(str(tmp_path / "out"))
    assert {it.id: it.split for it in back.items}["with space"] == "train"


def test_coco_to_voc_with_shape_boxes(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    from tests.conftest import shared_path

    src = shared_path("coco", "tinycoco_instances_val2017.json")
    coco = converters.get("coco").read(str(src))
    out = tmp_path / "voc"
    with pytest.raises(SystemExit) as exit_:
        main(["convert", str(src), str(out), "--to", "voc", "-w", "shape_boxes=true",
              "--format", "json"])
    assert exit_.value.code == 0
    loss = json.loads(capsys.readouterr().out)["loss"]
    assert loss["voc.export.shape-as-box"]["count"] == 136
    assert "voc.export.unsupported-annotation" not in loss
    back = converters.get("voc").read(str(out))
    boxes = {(a.item_id, tuple(round(v, 6) for v in a.bbox)) for a in back.annotations  # type: ignore[attr-defined]
             if isinstance(a, BBox)}
    # each instance's box is COCO's stated `bbox`, exactly (1-based conversion undone on read)
    want = {(a.item_id, tuple(round(v, 6) for v in a.bbox)) for a in coco.annotations  # type: ignore[attr-defined]
            if getattr(a, "bbox", None) is not None}
    assert boxes == want
    without = converters.get("voc").write(coco, str(tmp_path / "plain"))
    assert {i.code for i in without.issues} >= {"voc.export.unsupported-annotation"}
    with pytest.raises(UnknownOptionError, match=r"shape_boxes=.* must be true or false"):
        converters.get("voc").write(coco, str(tmp_path / "x"), shape_boxes="maybe")


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConversionError, match=r"voc\.folder\.empty"):
        converters.get("voc").read(str(tmp_path / "empty"))


def test_unlabelled_boxes_and_labels_without_a_split_are_reported(tmp_path: Path) -> None:
    ds = Dataset(Manifest(), [Item(id="a", kind="image", uri="a.jpg")],
                 [BBox(id="1", item_id="a", bbox=[0, 0, 2, 2]),
                  Classification(id="2", item_id="a", label="dog")])
    report = converters.get("voc").write(ds, str(tmp_path / "out"))
    assert {(i.code, i.location.record_id) for i in report.issues} == {
        ("voc.export.unlabelled", "1"), ("voc.export.classification-no-split", "2")}
    assert "<name></name>" in (tmp_path / "out" / "Annotations" / "a.xml").read_text()
