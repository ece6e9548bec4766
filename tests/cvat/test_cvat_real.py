"""Every real CVAT file in ../shared/data/cvat reads without error-level issues and round-trips
(CVAT -> groundtruth -> CVAT) to the same content, compared as parsed values."""

from __future__ import annotations

from pathlib import Path

import pytest

from groundtruth import Dataset, converters
from groundtruth.models import BBox, Keypoints
from tests.conftest import shared_path
from tests.xmlvalues import file_value

SOURCES = [
    "datumaro/for_images/train.xml",
    "datumaro/for_video/annotations.xml",
    "darwin/convert/cvat/to/output.xml",
]


@pytest.mark.parametrize("source", SOURCES)
def test_real_cvat_round_trips(source: str, tmp_path: Path) -> None:
    src = shared_path("cvat", *source.split("/"))
    conv = converters.get("cvat")
    ds = conv.read(str(src))
    assert not [i for i in ds.issues if i.severity != "info"], ds.issues
    report = conv.write(ds, str(tmp_path / "out.xml"))
    assert report.lossless, report.issues
    assert file_value(tmp_path / "out.xml") == file_value(src)


@pytest.mark.parametrize("encoding", ["jsonl", "parquet"])
@pytest.mark.parametrize("source", SOURCES)
def test_real_cvat_round_trips_through_a_native_dataset(source: str, encoding: str,
                                                        tmp_path: Path) -> None:
    src = shared_path("cvat", *source.split("/"))
    conv = converters.get("cvat")
    conv.read(str(src)).to_file(str(tmp_path / "native"), encoding=encoding)
    conv.write(Dataset.from_file(str(tmp_path / "native")), str(tmp_path / "out.xml"))
    assert file_value(tmp_path / "out.xml") == file_value(src)


def test_real_images_file_values() -> None:
    ds = converters.get("cvat").read(str(shared_path("cvat", "datumaro", "for_images",
                                                     "train.xml")))
    box = ds.annotations[0]
    assert isinstance(box, BBox)
    assert box.bbox == [0, 2, 4, 2]
    assert box.attributes == {"occluded": True, "a1": True, "a2": "v3", "a3": "0003", "a4": 2.4}
    assert box.extensions["cvat"]["z_order"] == 1
    labels = {lab.name: lab for lab in ds.manifest.taxonomy.label_sets[0].labels}
    assert [a.type for a in labels["label1"].attributes] == ["boolean", "enum", "string", "number"]
    assert labels["label1"].attributes[1].values == ["v1", "v2", "v3"]
    assert labels["skeleton"].keypoints == ["1", "2", "3", "4"]
    assert sorted(map(sorted, labels["skeleton"].skeleton)) == [[0, 3], [1, 2]]
    assert "1" not in labels  # skeleton nodes are keypoints, not labels
    skel = ds.annotations[2]
    assert isinstance(skel, Keypoints)
    # node 1 is outside: not labelled (its CVAT coordinates kept in extensions)
    assert skel.keypoints == [0, 0, 0, 2, 2, 2, 3, 3, 2, 4, 4, 2]
    assert skel.annotator == "cvat-manual"
    assert ds.manifest.annotator("cvat-manual").kind == "human"  # type: ignore[union-attr]


def test_real_video_file_values(tmp_path: Path) -> None:
    src = shared_path("cvat", "datumaro", "for_video", "annotations.xml")
    ds = converters.get("cvat").read(str(src))
    (video,) = ds.items
    assert (video.kind, video.uri, video.width, video.height) == ("video", "t.mp4", 25, 20)
    assert video.frame_count == 20  # stop_frame 19: the video's own frame numbers
    track0 = [a for a in ds.annotations if a.track_id == "0"]
    assert [(a.frame, a.attributes["outside"]) for a in track0] == [
        (10, False), (13, True), (16, True)]
    skeleton = [a for a in ds.annotations if a.track_id == "3"]
    assert [a.frame for a in skeleton] == [10, 13, 16]
    assert [a.extensions["cvat"]["keyframe"] for a in skeleton] == [True, False, False]
    # node 3 goes outside at frame 13 and has no element at 16
    assert [a.keypoints[6:9] for a in skeleton] == [  # type: ignore[attr-defined]
        [83.27, 106.61, 2], [0, 0, 0], [0, 0, 0]]
    points = [a for a in ds.annotations if a.track_id == "1"]
    assert [a.attributes["hgl"] for a in points] == ["hgkf", "jk"]
    frames = [i for i in ds.issues if i.code == "cvat.track.frames"]
    assert frames
    assert "1 interpolated" in frames[0].message


def test_keyframes_only(tmp_path: Path) -> None:
    src = shared_path("cvat", "datumaro", "for_video", "annotations.xml")
    conv = converters.get("cvat")
    ds = conv.read(str(src), frames="keyframes")
    skeleton = [a.frame for a in ds.annotations if a.track_id == "3"]
    assert skeleton == [10, 13]  # frame 16 was interpolated everywhere: left out
    note = next(i for i in ds.issues if i.code == "cvat.track.frames")
    assert "1 interpolated" in note.message
    assert "not read" in note.message
    conv.write(ds, str(tmp_path / "k.xml"))
    text = (tmp_path / "k.xml").read_text()
    assert 'frame="16" outside="0" occluded="0" keyframe="0"' not in text
    assert text.count("<box ") == 3


SPARSE = """<annotations><version>1.1</version>
<meta><task><mode>interpolation</mode><frame_filter>step=5</frame_filter>
<labels><label><name>car</name></label></labels></task></meta>
<track id="0" label="car">
  <box frame="0" outside="0" occluded="0" keyframe="1" xtl="0" ytl="0" xbr="10" ybr="10"/>
  <box frame="20" outside="0" occluded="0" keyframe="1" xtl="40" ytl="0" xbr="50" ybr="20"/>
  <box frame="25" outside="1" occluded="0" keyframe="1" xtl="40" ytl="0" xbr="50" ybr="20"/>
</track>
<track id="1" label="car">
  <points frame="0" outside="0" occluded="0" keyframe="1" points="0,0;10,10"/>
  <points frame="10" outside="0" occluded="0" keyframe="1" points="10,10;20,30"/>
</track>
</annotations>
"""


def test_frames_missing_from_the_file_are_materialised(tmp_path: Path) -> None:
    path = tmp_path / "sparse.xml"
    path.write_text(SPARSE)
    conv = converters.get("cvat")
    ds = conv.read(str(path))
    boxes = [(a.frame, a.bbox) for a in ds.annotations if a.track_id == "0"]  # type: ignore[attr-defined]
    assert boxes == [(0, [0, 0, 10, 10]), (5, [10, 0, 10, 12.5]), (10, [20, 0, 10, 15]),
                     (15, [30, 0, 10, 17.5]), (20, [40, 0, 10, 20]), (25, [40, 0, 10, 20])]
    points = [a.keypoints for a in ds.annotations if a.track_id == "1"]  # type: ignore[attr-defined]
    assert points[1] == [5, 5, 2, 15, 20, 2]
    filled = [a for a in ds.annotations if a.extensions["cvat"].get("materialised")]
    assert len(filled) == 4
    assert all(a.extensions["cvat"]["keyframe"] is False for a in filled)
    note = next(i for i in ds.issues if i.code == "cvat.track.frames")
    assert "4 frame(s) missing from the file materialised" in note.message
    # the filled frames are CVAT's to interpolate: the file written back is the one read
    conv.write(ds, str(tmp_path / "back.xml"))
    assert file_value(tmp_path / "back.xml") == file_value(path)
    assert len(conv.read(str(path), frames="keyframes").annotations) == 5


def test_the_write_report_states_the_frames(tmp_path: Path) -> None:
    src = shared_path("cvat", "datumaro", "for_video", "annotations.xml")
    conv = converters.get("cvat")
    details = conv.write(conv.read(str(src)), str(tmp_path / "a.xml")).details
    assert details == {"layout": "video", "tracks": 4, "keyframes": 9, "interpolated_frames": 1,
                       "materialised_frames_left_to_cvat": 0}
    sparse = tmp_path / "sparse.xml"
    sparse.write_text(SPARSE)
    details = conv.write(conv.read(str(sparse)), str(tmp_path / "b.xml")).details
    assert details["materialised_frames_left_to_cvat"] == 4
    assert details["keyframes"] == 5
