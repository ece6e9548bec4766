"""CVAT: every shape kind, masks, bad input, refused entities, loss report, bounded memory, CLI."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from groundtruth import Dataset, converters
from groundtruth.cli import main
from groundtruth.converters import _rle
from groundtruth.converters.cvat._read import Ctx, iter_cvat
from groundtruth.errors import ConversionError
from groundtruth.models import (
    BBox,
    Classification,
    Item,
    Keypoints,
    Label,
    LabelSet,
    Manifest,
    Mask,
    Polygon,
    Polyline,
    Span,
    Taxonomy,
)
from tests.xmlvalues import file_value

SHAPES = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task>
      <name>shapes</name>
      <mode>annotation</mode>
      <labels>
        <label><name>car</name><attributes>
          <attribute><name>parked</name><mutable>False</mutable><input_type>checkbox</input_type>
            <default_value>false</default_value><values>false
true</values></attribute>
          <attribute><name>speed</name><mutable>False</mutable><input_type>number</input_type>
            <default_value>0</default_value><values>0
100
1</values></attribute>
        </attributes></label>
        <label><name>road</name><attributes></attributes></label>
      </labels>
    </task>
  </meta>
  <image id="7" name="a/b.png" subset="train" task_id="3" width="6" height="4">
    <box label="car" source="semi-auto" occluded="0" xtl="2" ytl="1" xbr="4" ybr="3" rotation="30" z_order="2" group_id="1">
      <attribute name="parked">true</attribute>
      <attribute name="speed">12.5</attribute>
    </box>
    <ellipse label="car" source="auto" occluded="1" cx="3" cy="2" rx="2" ry="1" rotation="10" z_order="0"/>
    <mask label="road" source="manual" occluded="0" rle="1, 2, 1, 2" left="2" top="1" width="3" height="2" z_order="0"/>
    <cuboid label="car" occluded="0" xtl1="1" ytl1="1" xbl1="1" ybl1="2"/>
    <tag label="road" source="manual"/>
    <polygon label="road" occluded="0" points="0,0;5,0;5,3" z_order="0" group_id="1"/>
  </image>
  <image id="8" name="c.png" width="6" height="4"/>
</annotations>
"""


@pytest.fixture
def shapes_file(tmp_path: Path) -> Path:
    path = tmp_path / "shapes.xml"
    path.write_text(SHAPES)
    return path


def test_every_shape_kind(shapes_file: Path) -> None:
    ds = converters.get("cvat").read(str(shapes_file))
    assert [i.code for i in ds.issues] == ["cvat.tag.unknown"]
    assert ds.issues[0].location.line == 29
    item = ds.item("7")
    assert (item.uri, item.split, item.width, item.height) == ("a/b.png", "train", 6, 4)
    assert item.extensions["cvat"]["@"] == {"task_id": "3"}
    anns = {a.id: a for a in ds.annotations}
    box = anns["7:1"]
    assert isinstance(box, BBox)
    assert (box.bbox, box.rotation) == ([2, 1, 2, 2], 30)
    assert box.attributes == {"occluded": False, "parked": True, "speed": 12.5}
    assert box.extensions["cvat"] == {"z_order": 2, "group_id": 1}
    assert box.annotator == "cvat-semi-auto"
    ellipse = anns["7:2"]
    assert isinstance(ellipse, BBox)
    assert (ellipse.bbox, ellipse.rotation) == ([1, 1, 4, 2], 10)
    assert ellipse.extensions["cvat"]["shape"] == "ellipse"
    assert ellipse.annotator == "cvat-auto"
    kinds = {a.id: a.kind for a in ds.manifest.annotators}
    assert kinds == {"cvat-semi-auto": "human", "cvat-auto": "model", "cvat-manual": "human"}
    mask = anns["7:3"]
    assert isinstance(mask, Mask)
    assert mask.rle is not None
    assert mask.rle.size == [4, 6]
    full = _rle.decode(mask.rle.counts, 4, 6)  # type: ignore[arg-type]
    # rle 1,2,1,2 row-major over the 3x2 box at (2, 1): .XX / .XX
    want = np.zeros((4, 6), dtype=bool)
    want[1:3, 3:5] = True
    assert (full == want).all()
    assert mask.bbox == [2, 1, 3, 2]
    assert isinstance(anns["7:5"], Classification)
    assert anns["7:5"].label == "road"
    assert isinstance(anns["7:6"], Polygon)
    assert anns["7:6"].polygon == [[0, 0, 5, 0, 5, 3]]
    assert item.extensions["cvat"]["unknown"][0]["tag"] == "cuboid"


def test_every_shape_kind_round_trips(shapes_file: Path, tmp_path: Path) -> None:
    conv = converters.get("cvat")
    report = conv.write(conv.read(str(shapes_file)), str(tmp_path / "out.xml"))
    assert report.lossless
    assert file_value(tmp_path / "out.xml") == file_value(shapes_file)


BAD = """<annotations>
  <version>1.0</version>
  <meta><task><labels><label><name>car</name><attributes><attribute><name>n</name>
    <input_type>number</input_type><values></values></attribute></attributes></label>
  </labels></task></meta>
  <image id="0" name="x.jpg" width="10" height="ten">
    <box label="car" xtl="1" ytl="1" xbr="2"/>
    <box label="car" xtl="1" ytl="one" xbr="2" ybr="3"/>
    <polygon label="car" points="1,1;2,2"/>
    <polyline label="car" points="1,1;2"/>
    <mask label="car" rle="1, 2" left="0" top="0" width="2" height="2"/>
    <points label="bus" points="1,1"/>
    <box label="car" xtl="1" ytl="1" xbr="2" ybr="3"><attribute name="n">fast</attribute></box>
    <tag/>
  </image>
  <image name="y.jpg"/>
  <surprise/>
</annotations>
"""


def test_bad_input_is_located_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text(BAD)
    ds = converters.get("cvat").read(str(path))
    got = [(i.code, i.location.line, i.location.record_id) for i in ds.issues]
    assert got == [
        ("cvat.file.version", 2, None),
        ("cvat.shape.bad-number", 6, "0"),
        ("cvat.shape.missing-attribute", 7, "0:1"),
        ("cvat.shape.bad-number", 8, "0:2"),
        ("cvat.shape.bad-points", 9, "0:3"),
        ("cvat.shape.bad-points", 10, "0:4"),
        ("cvat.mask.bad-rle", 11, "0:5"),
        ("cvat.label.unknown", 12, "0:6"),
        ("cvat.attribute.bad-value", 13, "0:7"),
        ("cvat.shape.missing-attribute", 14, "0:8"),
        ("cvat.shape.missing-attribute", 16, "image-1"),
        ("cvat.tag.unknown", 17, None),
    ]
    assert all(i.location.file == str(path) for i in ds.issues)
    assert [a.id for a in ds.annotations] == ["0:6", "0:7"]
    assert ds.annotations[1].attributes["n"] == "fast"
    assert ds.item("0").height is None


@pytest.mark.parametrize(("content", "code", "line"), [
    ("<annotations>\n  <image id='0'>\n</annotations>\n", "cvat.file.not-xml", 3),
    (('<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>\n'
     "<annotations>&b;</annotations>\n"), "cvat.file.entities", None),
    (('<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
     "<annotations>&x;</annotations>\n"), "cvat.file.entities", None),
    ("<annotation><filename>x</filename></annotation>", "cvat.file.not-cvat", 1),
])
def test_unreadable_files_raise_located_errors(tmp_path: Path, content: str, code: str,
                                              line: int | None) -> None:
    path = tmp_path / "x.xml"
    path.write_text(content)
    with pytest.raises(ConversionError) as err:
        converters.get("cvat").read(str(path))
    assert code in err.value.message
    assert err.value.location is not None
    assert err.value.location.file == str(path)
    assert err.value.location.line == line
    assert "root:" not in err.value.message  # the external entity was never read


def test_cli_reports_bad_xml_without_a_traceback(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.xml"
    path.write_text("<annotations>\n  <version>1.1</version>\n  <image id='0'>\n</annotations>")
    with pytest.raises(SystemExit) as exit_:
        main(["convert", str(path), str(tmp_path / "out"), "--from", "cvat"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "cvat.file.not-xml" in err
    assert "line 4, column 3" in err
    assert "Traceback" not in err


def _dataset() -> Dataset:
    labels = LabelSet(name="objects", labels=[
        Label(name="person", keypoints=["nose", "eye"], skeleton=[[0, 1]]),
        Label(name="road")])
    manifest = Manifest(name="t", taxonomy=Taxonomy(label_sets=[labels]), license="CC0")
    items = [Item(id="img-a", kind="image", uri="a.jpg", width=8, height=6, sha256="0" * 64),
             Item(id="3", kind="image", uri="b.jpg", width=8, height=6)]
    anns = [
        Polygon(id="p", item_id="img-a", label="road", polygon=[[0, 0, 4, 0, 4, 4],
                                                                [5, 5, 7, 5, 7, 6]],
                holes=[[1, 1, 2, 1, 2, 2]]),
        Polyline(id="l", item_id="img-a", label="road", polyline=[[0, 0, 1, 1]],
                 confidence=0.5),
        Keypoints(id="k", item_id="img-a", label="person", keypoints=[1, 2, 2, 0, 0, 0]),
        Span(id="s", item_id="img-a", start=0, end=1),
        Mask(id="m", item_id="3", label="road", uri="masks/3.png"),
        BBox(id="b", item_id="3", label="road", bbox=[1, 1, 2, 2], annotator="bot"),
    ]
    return Dataset(manifest, items, anns)


def test_write_reports_every_loss(tmp_path: Path) -> None:
    report = converters.get("cvat").write(_dataset(), str(tmp_path / "out.xml"))
    got = {(i.code, i.location.record_id) for i in report.issues}
    assert got == {
        ("cvat.export.manifest-fields", None),
        ("cvat.export.renumbered", None),
        ("cvat.export.item-fields", "img-a"),
        ("cvat.export.holes", "p"),
        ("cvat.export.multi-part", "p"),
        ("cvat.export.provenance", "l"),
        ("cvat.export.unsupported-annotation", "s"),
        ("cvat.export.unsupported-annotation", "m"),
        ("cvat.export.provenance", "b"),
    }
    assert report.details["renumbered_ids"] == {"image": {"img-a": 4}}
    back = converters.get("cvat").read(str(tmp_path / "out.xml"))
    assert [it.id for it in back.items] == ["4", "3"]
    polys = [a for a in back.annotations if isinstance(a, Polygon)]
    assert [p.polygon for p in polys] == [[[0, 0, 4, 0, 4, 4]], [[5, 5, 7, 5, 7, 6]]]
    assert {p.extensions["cvat"]["group_id"] for p in polys} == {1}
    skel = next(a for a in back.annotations if isinstance(a, Keypoints))
    assert skel.keypoints == [1, 2, 2, 0, 0, 0]
    person = back.manifest.taxonomy.label_sets[0].labels[0]
    assert person.keypoints == ["nose", "eye"]
    box = next(a for a in back.annotations if isinstance(a, BBox))
    assert box.annotator == "cvat-manual"  # 'bot' is unknown: kind human -> manual, reported


def test_video_layout_from_a_dataset_without_tracks(tmp_path: Path) -> None:
    ds = Dataset(Manifest(name="v"), [Item(id="v", kind="video", uri="v.mp4", width=10,
                                           height=10)],
                 [BBox(id="a", item_id="v", label="car", bbox=[0, 0, 2, 2], frame=3,
                       track_id="7"),
                  BBox(id="b", item_id="v", label="car", bbox=[1, 0, 2, 2], frame=4,
                       track_id="7"),
                  BBox(id="c", item_id="v", label="car", bbox=[5, 5, 1, 1], frame=4)])
    report = converters.get("cvat").write(ds, str(tmp_path / "v.xml"))
    assert [(i.code, i.location.record_id) for i in report.issues] == [
        ("cvat.export.shape-as-track", "c")]
    back = converters.get("cvat").read(str(tmp_path / "v.xml"))
    assert [(a.track_id, a.frame, a.bbox) for a in back.annotations] == [  # type: ignore[attr-defined]
        ("8", 4, [5, 5, 1, 1]), ("7", 3, [0, 0, 2, 2]), ("7", 4, [1, 0, 2, 2])]
    assert back.items[0].uri == "v.mp4"


def _big(images: int) -> bytes:
    body = b"".join(
        b'<image id="%d" name="i%d.jpg" width="640" height="480">'
        b'<box label="car" occluded="0" xtl="1" ytl="2" xbr="30" ybr="40" z_order="0"/>'
        b'<polygon label="car" occluded="0" points="1,2;3,4;5,6;7,8"/></image>\n' % (i, i)
        for i in range(images))
    return (b"<annotations><version>1.1</version><meta><task><labels><label><name>car</name>"
            b"</label></labels></task></meta>\n" + body + b"</annotations>")


def test_parsing_streams_in_bounded_memory() -> None:
    """The parser's peak memory does not grow with the file: elements are cleared as read."""
    peaks = []
    for n in (2_000, 20_000):
        data = io.BytesIO(_big(n))
        tracemalloc.start()
        count = sum(1 for _ in iter_cvat(data, Ctx(file="big.xml", label_set="cvat")))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert count == 3 * n
    assert peaks[1] < 1.5 * peaks[0], peaks


def test_stream_to_native_matches_read(shapes_file: Path, tmp_path: Path) -> None:
    conv = converters.get("cvat")
    result = conv.stream_to_native(str(shapes_file), str(tmp_path / "n"),  # type: ignore[attr-defined]
                                   encoding="parquet")
    assert (result.items, result.annotations) == (2, 5)
    assert Dataset.from_file(str(tmp_path / "n")) == conv.read(str(shapes_file))


def test_detection_and_every_verb(shapes_file: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert converters.detect_format(str(shapes_file)) == "cvat"
    with pytest.raises(SystemExit) as exit_:
        main(["convert", str(shapes_file), str(tmp_path / "native"), "--format", "json"])
    assert exit_.value.code == 0
    assert json.loads(capsys.readouterr().out)["from"] == "cvat"
    with pytest.raises(SystemExit) as exit_:
        main(["validate", str(shapes_file)])
    assert exit_.value.code == 0
    capsys.readouterr()
    other = tmp_path / "other.xml"
    other.write_text(SHAPES.replace('xtl="2" ytl="1"', 'xtl="2.5" ytl="1"'))
    with pytest.raises(SystemExit) as exit_:
        main(["diff", str(shapes_file), str(other), "--format", "json"])
    assert exit_.value.code == 0
    assert json.loads(capsys.readouterr().out)["summary"]["annotations"]["changed"] == 1
    with pytest.raises(SystemExit) as exit_:
        main(["agreement", str(shapes_file), "--type", "bbox", "--format", "json"])
    assert exit_.value.code == 0
    # the box (semi-auto) and the ellipse (auto) are two annotators on one image
    assert json.loads(capsys.readouterr().out)["annotators"] == ["cvat-auto", "cvat-semi-auto"]
    with pytest.raises(SystemExit) as exit_:
        main(["export", str(shapes_file), str(tmp_path / "t.jsonl"), "--task", "classification"])
    assert exit_.value.code == 1  # boxes on images make no text-classification row: data dropped
    assert "export.empty" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["export", str(shapes_file), str(tmp_path / "t2.jsonl"), "--task", "classification",
              "--allow-loss"])
    assert exit_.value.code == 0


def test_reads_and_writes_any_filesystem(shapes_file: Path, memfs) -> None:
    conv = converters.get("cvat")
    conv.write(conv.read(str(shapes_file)), "memory://c/out.xml")
    assert converters.detect_format("/c/out.xml", fs=memfs) == "cvat"
    assert conv.read("/c/out.xml", fs=memfs) == conv.read(str(shapes_file))


def test_a_mask_on_an_image_without_a_size_is_kept_raw(tmp_path: Path) -> None:
    path = tmp_path / "m.xml"
    path.write_text('<annotations><version>1.1</version><image id="0" name="a.jpg">'
                    '<mask label="x" rle="1, 3" left="4" top="5" width="2" height="2"/>'
                    "</image></annotations>")
    conv = converters.get("cvat")
    ds = conv.read(str(path))
    assert [i.code for i in ds.issues] == ["cvat.label.unknown", "cvat.mask.no-image-size"]
    mask = ds.annotations[0]
    assert isinstance(mask, Mask)
    assert mask.rle is not None
    assert mask.rle.size == [2, 2]
    assert mask.bbox == [4, 5, 2, 2]
    conv.write(ds, str(tmp_path / "back.xml"))
    assert 'rle="1, 3" left="4" top="5" width="2" height="2"' in (tmp_path / "back.xml").read_text()
