"""Small malformed inputs that used to end in a traceback: each is now a located issue or a
clear error (issue 13, "Tracebacks found" and item 12)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

import groundtruth as gt
from groundtruth.converters._mismatch import WrongFormatError
from groundtruth.errors import ConversionError, DataFormatError, UnknownOptionError
from tests.conftest import shared_path

L = "\tx\tx\tX\t_\t_\t0\troot\t_\t_\n"  # the nine columns after a CoNLL-U word ID


def gt_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "groundtruth", *args], capture_output=True,
                          text=True, timeout=120, check=False)


def codes(ds: gt.Dataset) -> list[tuple[str, str]]:
    return [(i.code, i.severity) for i in ds.issues]


COCO = {
    "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 10}],
    "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2],
                     "area": 4, "iscrowd": 0}],
    "categories": [{"id": 1, "name": "cat"}],
}


def coco_file(tmp_path, change, name="c.json"):
    data = copy.deepcopy(COCO)
    change(data)
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


# -- CoNLL ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("body", "line"), [
    (b"EU\tB-ORG\nrejects\t\n\n", 2),                # an empty tag column
    (b"EU\tB-ORG\r\nrejects\tO\r\nGerman\t", 3),    # a CRLF file cut after the TAB
    (b"EU\tB-ORG\r\nrejects\tO\r\nGerman\t\r", 3),  # ... or before the LF
], ids=["empty-tag", "crlf-cut", "crlf-cut-cr"])
def test_conll_empty_tag_column_is_a_located_error(tmp_path, body, line):
    path = tmp_path / "x.conll"
    path.write_bytes(body)
    ds = gt.load(str(path))
    empty = [i for i in ds.issues if i.code == "conll.tag.empty"]
    assert [(i.severity, i.location.line) for i in empty] == [("error", line)]
    assert empty[0].message == "the tag column is empty"
    # the token is kept, read as O: the sentence still has its one ORG entity
    assert [a.label for a in ds.annotations] == ["ORG"]
    assert ds.items[0].text.endswith("rejects" if line == 2 else "German")


# -- CoNLL-U word ids -------------------------------------------------------------------------
@pytest.mark.parametrize(("rows", "lines", "words"), [
    ("0" + L, [1], "word ID 0"),
    ("1" + L + "1" + L, [2], "used twice"),
    ("1" + L + "3" + L, [2], "skips 2"),
    ("1" + L + "3" + L + "2" + L, [2, 3], "word ID 2 comes after word 3: IDs must increase"),
    ("1" + L + "99999999999999999999999999" + L, [2], "skips 2..99999999999999999999999998"),
], ids=["zero", "duplicate", "skipped", "reversed", "overflowing"])
def test_conllu_bad_word_ids_are_located_errors(tmp_path, rows, lines, words):
    path = tmp_path / "x.conllu"
    path.write_text(rows + "\n")
    ds = gt.load(str(path))
    bad = [i for i in ds.issues if i.code == "conllu.word.id-order"]
    assert [(i.severity, i.location.line) for i in bad] == [("error", n) for n in lines]
    assert words in bad[-1].message
    # kept as it stands: writing it back gives the same file
    out = tmp_path / "back.conllu"
    gt.save(ds, str(out), format="conllu")
    assert out.read_text() == path.read_text()
    # ambiguous ids name no dependency ends: no word spans or relations that would collide
    rel = gt.load(str(path), dependencies="relations")
    assert rel.annotations == []
    assert {i.code for i in gt.validate(rel).errors} == {"conllu.word.id-order"}


def test_conllu_range_past_the_last_word_is_an_error(tmp_path):
    path = tmp_path / "x.conllu"
    path.write_text("1-3\tab\t_\t_\t_\t_\t_\t_\t_\t_\n1" + L + "2" + L + "\n")
    ds = gt.load(str(path))
    assert [(i.code, i.location.line) for i in ds.issues] == [("conllu.range.invalid", 1)]


def test_conllu_non_ascii_digit_id_is_not_a_word(tmp_path):
    path = tmp_path / "x.conllu"
    path.write_text("²" + L + "\n")  # str.isdigit() is true, int() fails
    ds = gt.load(str(path))
    assert [i.code for i in ds.issues] == ["conllu.line.id"]


# -- COCO -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "words"), [
    ({"a": 1}, 'image_id {"a":1} is an object'),
    ([1], "image_id [1] is a list"),
])
def test_coco_unhashable_image_id_is_a_located_error(tmp_path, value, words):
    path = coco_file(tmp_path, lambda d: d["annotations"][0].update(image_id=value))
    ds = gt.load(str(path))
    (err,) = ds.issues
    assert (err.code, err.severity, err.location.path) == (
        "coco.annotation.unknown-image", "error", "$.annotations[0].image_id")
    assert words in err.message
    assert ds.annotations == []


def test_coco_list_annotation_id_is_flagged_and_written_back(tmp_path):
    path = coco_file(tmp_path, lambda d: d["annotations"][0].update(id=[1]))
    ds = gt.load(str(path))
    assert [(i.code, i.location.path) for i in ds.issues] == [
        ("coco.record.missing-id", "$.annotations[0].id")]
    assert "is a list" in ds.issues[0].message
    out = tmp_path / "back.json"
    gt.save(ds, str(out), format="coco")  # used to raise TypeError: unhashable type
    assert json.loads(out.read_text())["annotations"][0]["id"] == [1]


def test_coco_keypoint_past_64_bits_is_written(tmp_path):
    def change(d):
        d["categories"][0]["keypoints"] = ["nose"]
        d["annotations"][0].update(keypoints=[2**64, 1, 2], num_keypoints=1)

    ds = gt.load(str(coco_file(tmp_path, change)))
    out = tmp_path / "back.json"
    gt.save(ds, str(out), format="coco")  # used to raise "Integer exceeds 64-bit range"
    assert json.loads(out.read_text())["annotations"][0]["keypoints"] == [2.0**64, 1, 2]
    # the coordinate is far outside its 10x10 image: validation says so
    assert "geometry.out-of-bounds" in {i.code for i in gt.validate(ds).errors}


def test_coco_image_id_past_64_bits_says_out_of_range(tmp_path):
    def change(d):
        d["images"][0]["id"] = 2**70
        d["annotations"][0]["image_id"] = 2**70

    ds = gt.load(str(coco_file(tmp_path, change)))
    first = ds.issues[0]
    assert (first.code, first.location.path) == ("coco.record.missing-id", "$.images[0].id")
    assert "1180591620717411303424 is out of range" in first.message
    assert "no integer or string" not in first.message


# -- Label Studio -----------------------------------------------------------------------------
def _ls_task(**result_changes):
    res = {"id": "r1", "type": "rectanglelabels", "from_name": "label", "to_name": "image",
           "original_width": 10, "original_height": 10,
           "value": {"x": 1, "y": 1, "width": 2, "height": 2, "rectanglelabels": ["cat"]}}
    res.update(result_changes)
    return {"id": 7, "data": {"image": "http://x/a.jpg"},
            "annotations": [{"id": 1, "result": [res]}]}


@pytest.mark.parametrize(("change", "words"), [
    ({"type": [1, 2, 3]}, "result type [1,2,3]"),
    ({"from_name": ""}, 'from_name ""'),
])
def test_labelstudio_unusable_result_is_a_located_error(tmp_path, change, words):
    path = tmp_path / "ls.json"
    path.write_text(json.dumps([_ls_task(**change)]))
    ds = gt.load(str(path), format="labelstudio")
    (err,) = ds.issues
    assert (err.code, err.severity, err.location.path) == (
        "labelstudio.result.invalid", "error", "$[0].annotations[0].result[0]")
    assert words in err.message
    assert [it.id for it in ds.items] == ["7"]
    assert ds.annotations == []
    out = tmp_path / "back.json"
    gt.save(ds, str(out), format="labelstudio")  # the result is given back verbatim
    assert json.loads(out.read_text())[0]["annotations"][0]["result"][0]["id"] == "r1"


def test_labelstudio_single_task_object_is_read_and_detected(tmp_path):
    path = tmp_path / "one.json"
    task = _ls_task()
    del task["id"]
    path.write_text(json.dumps(task))
    assert gt.converters.detect_format(str(path)) == "labelstudio"
    ds = gt.load(str(path))
    assert [it.id for it in ds.items] == ["0"]  # never "None"
    assert [a.label for a in ds.annotations] == ["cat"]


# -- a forced wrong --from (item 12) ----------------------------------------------------------
@pytest.mark.parametrize("fmt", ["labelstudio", "conll", "conllu", "jsonl", "prodigy",
                                 "doccano", "preference"])
def test_coco_file_read_as_another_format_says_so(fmt):
    path = shared_path("coco", "tinycoco_instances_val2017.json")
    with pytest.raises(WrongFormatError) as info:
        gt.load(str(path), format=fmt)
    assert str(info.value).startswith(
        f"no {fmt} records found in {path}; it looks like coco — try --from coco")


@pytest.mark.parametrize(("parts", "fmt", "detected"), [
    (("jsonl", "prodigy_news_headlines_ner.first150.jsonl"), "coco", "prodigy"),
    (("jsonl", "labelstudio_image_bbox_export.json"), "coco", "labelstudio"),
    (("conll", "en_ewt-ud-test.first564.conllu"), "conll", "conllu"),
])
def test_other_files_read_as_the_wrong_format_say_so(parts, fmt, detected):
    path = shared_path(*parts)
    with pytest.raises(WrongFormatError, match=f"it looks like {detected} — try --from "
                       f"{detected}"):
        gt.load(str(path), format=fmt)


def test_validate_reports_a_forced_wrong_format_as_an_error():
    path = shared_path("coco", "tinycoco_instances_val2017.json")
    report = gt.validate(str(path), format="labelstudio")
    assert [(i.code, i.severity) for i in report.issues] == [("source.unreadable", "error")]
    assert "it looks like coco — try --from coco" in report.issues[0].message


def test_conll_with_a_named_layout_reads_a_conllu_file_as_asked():
    path = shared_path("conll", "en_ewt-ud-test.first564.conllu")
    cols = "id,token,lemma,upos,xpos,feats,head,deprel,deps,ner"
    ds = gt.load(str(path), format="conll", columns=cols)
    assert len(ds.items) > 500


def test_wrong_from_on_the_cli_exits_2_without_traceback(tmp_path):
    path = shared_path("coco", "tinycoco_instances_val2017.json")
    res = gt_cli("convert", str(path), str(tmp_path / "o"), "--from", "labelstudio")
    assert res.returncode == 2
    assert "no labelstudio records found" in res.stderr
    assert "try --from coco" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "o").exists()


# -- options ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("value", "kind"), [("5", "an integer"), ("[1]", "a list")])
def test_option_of_the_wrong_type_is_a_usage_error(tmp_path, value, kind):
    src = tmp_path / "x.conll"
    src.write_text("EU\tB-ORG\n\n")
    res = gt_cli("convert", str(src), str(tmp_path / "o"), "-o", f"scheme={value}")
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert f"scheme={value} for conll must be a string, not {kind}" in res.stderr
    assert "columns, encoding, group, multi_tag_sep, scheme, sep, tag_column" in res.stderr


def test_option_types_are_checked_in_the_api_too(tmp_path):
    src = tmp_path / "x.conll"
    src.write_text("EU\tB-ORG\n\n")
    with pytest.raises(UnknownOptionError, match="must be a string, not an integer"):
        gt.load(str(src), scheme=5)
    with pytest.raises(UnknownOptionError, match="unknown reading option"):
        gt.load(str(src), shceme="bio")
    with pytest.raises(UnknownOptionError, match=r"embed=.* must be true or false"):
        gt.load(str(coco_file(tmp_path, lambda d: None)), embed="yes")
    ds = gt.load(str(src), scheme="bio", sep=None)  # None means the default
    with pytest.raises(UnknownOptionError, match="writing option results=1 for coco"):
        gt.save(ds, str(tmp_path / "o.json"), format="coco", results=1)
    with pytest.raises(UnknownOptionError, match=r"unknown writing option.*groundtruth: foo"):
        gt.save(ds, str(tmp_path / "native"), foo=1)  # was a TypeError from the writer
    assert not (tmp_path / "native").exists()


def test_category_ids_file_that_is_not_json_is_a_located_usage_error(tmp_path):
    src = coco_file(tmp_path, lambda d: None)
    cats = tmp_path / "cats.txt"
    cats.write_text("person 1\n")
    res = gt_cli("convert", str(src), str(tmp_path / "o.json"), "--to", "coco",
                 "--category-ids", str(cats))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert f"{cats}:1: the category id map is not JSON" in res.stderr
    assert not (tmp_path / "o.json").exists()
    with pytest.raises(ConversionError, match="the id of 'cat' is \"x\", not an integer"):
        gt.save(gt.load(str(src)), str(tmp_path / "o.json"), format="coco",
                category_ids={"cat": "x"})


# -- found by the long fuzz run ---------------------------------------------------------------
def test_native_part_starting_with_null_is_an_issue_not_a_segfault(tmp_path):
    """pyarrow's JSON reader crashes the process on a `null` first line: validate must not
    hand it such a chunk (run in a subprocess, so a regression fails instead of killing)."""
    import hashlib

    root = tmp_path / "ds"
    gt.save(gt.load(str(coco_file(tmp_path, lambda d: None))), str(root))
    items = root / "items.jsonl"
    data = b"null\n" + items.read_bytes()
    items.write_bytes(data)
    manifest = json.loads((root / "groundtruth.json").read_text())
    for part in manifest["parts"]:
        if part["path"] == "items.jsonl":  # resealed, as a tamperer would
            part.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), records=2)
    (root / "groundtruth.json").write_text(json.dumps(manifest))
    code = ("import groundtruth as gt, sys; r = gt.validate(sys.argv[1]); "
            "print(sorted({(i.code, i.location.line) for i in r.errors}))")
    res = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True,
                         text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "('structure.not-object', 1)" in res.stdout


def test_native_jsonl_null_line_is_not_dropped_silently_by_load(tmp_path):
    """A `null` line in a resealed part used to vanish on `gt.load` (validate saw it): the
    reader now stops at it with a located error, as it does for any record that is no object."""
    import hashlib

    root = tmp_path / "ds"
    gt.save(gt.load(str(coco_file(tmp_path, lambda d: None))), str(root))
    part = root / "annotations.jsonl"
    data = part.read_bytes() + b"null\n"
    part.write_bytes(data)
    manifest = json.loads((root / "groundtruth.json").read_text())
    for p in manifest["parts"]:
        if p["path"] == "annotations.jsonl":
            p.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (root / "groundtruth.json").write_text(json.dumps(manifest))
    with pytest.raises(DataFormatError, match=r"structure\.not-object") as err:
        gt.load(str(root))
    assert err.value.location.line == data.count(b"\n")
