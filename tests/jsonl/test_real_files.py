"""Every real file in ../shared/data/jsonl: counts, offsets, pixels, annotators, round trips."""

from __future__ import annotations

import hashlib
import math

import orjson
import pytest

import groundtruth as gt
from groundtruth.converters import detect_format
from groundtruth.converters.labelstudio import MEDIA_NOT_FOUND
from groundtruth.models import BBox, Classification, Keypoints, Polygon, Ranking, Span

FILES = {
    "doccano_multileg_en_216087.jsonl": ("doccano", 174, 130),
    "doccano_relation_extraction_example.jsonl": ("doccano", 1, 7),
    "doccano_text_classification_example.jsonl": ("doccano", 3, 3),
    "hh_rlhf_harmless_base_test.first200.jsonl": ("preference", 200, 200),
    "labelstudio_image_bbox_export.json": ("labelstudio", 2, 6),
    "labelstudio_image_polygon_export.json": ("labelstudio", 1, 1),
    "labelstudio_image_rect_poly_keypoint_export.json": ("labelstudio", 1, 4),
    "labelstudio_text_ner_export.3tasks.json": ("labelstudio", 3, 142),
    "prodigy_github_issues_textcat.first300.jsonl": ("prodigy", 300, 300),
    "prodigy_news_headlines_ner.first150.jsonl": ("prodigy", 150, 129),
}


def load_raw(path):
    data = path.read_bytes()
    if path.suffix == ".json":
        return orjson.loads(data)
    return [orjson.loads(line) for line in data.splitlines() if line.strip()]


def approx_equal(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(approx_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(approx_equal(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.mark.parametrize("name", sorted(FILES))
def test_detected_and_counted(jsonl_data, name):
    fmt, n_items, n_anns = FILES[name]
    path = jsonl_data / name
    assert detect_format(str(path)) == fmt
    ds = gt.load(str(path))
    assert ds.source_format == fmt
    assert (len(ds.items), len(ds.annotations)) == (n_items, n_anns)
    assert [i for i in ds.issues if i.severity == "error"] == []
    ids = [a.id for a in ds.annotations]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_span_matches_its_text(jsonl_data, name):
    ds = gt.load(str(jsonl_data / name))
    items = ds.items_by_id()
    for a in ds.annotations:
        if isinstance(a, Span):
            assert items[a.item_id].text[a.start : a.end] == a.text


@pytest.mark.parametrize("name", sorted(FILES))
def test_round_trip_gives_the_file_back(jsonl_data, tmp_path, name):
    fmt = FILES[name][0]
    src = jsonl_data / name
    ds = gt.load(str(src))
    # through the native format too, so everything needed lives in the model + extensions
    gt.save(ds, str(tmp_path / "native"))
    again = gt.load(str(tmp_path / "native"))
    assert again.fingerprint() == ds.fingerprint()
    out = tmp_path / f"out{src.suffix}"
    report = gt.save(again, str(out), format=fmt)
    assert report.issues == []
    assert approx_equal(load_raw(src), load_raw(out))


def test_labelstudio_percent_to_pixels(jsonl_data):
    path = jsonl_data / "labelstudio_image_rect_poly_keypoint_export.json"
    raw = orjson.loads(path.read_bytes())[0]["annotations"][0]["result"]
    ds = gt.load(str(path))
    item = ds.items[0]
    assert (item.width, item.height, item.kind) == (500, 320, "image")
    box = next(a for a in ds.annotations if isinstance(a, BBox))
    v = raw[0]["value"]
    assert box.bbox == pytest.approx((v["x"] * 5, v["y"] * 3.2, v["width"] * 5, v["height"] * 3.2))
    poly = next(a for a in ds.annotations if isinstance(a, Polygon))
    assert poly.polygon[0][:2] == pytest.approx([raw[1]["value"]["points"][0][0] * 5,
                                                 raw[1]["value"]["points"][0][1] * 3.2])
    kps = [a for a in ds.annotations if isinstance(a, Keypoints)]
    assert [k.label for k in kps] == ["keypoint_label1", "keypoint_label2"]
    assert kps[0].keypoints == pytest.approx([raw[2]["value"]["x"] * 5,
                                              raw[2]["value"]["y"] * 3.2, 2])
    assert all(0 <= c <= 500 for c in box.bbox)


def test_labelstudio_missing_image_is_reported(jsonl_data):
    ds = gt.load(str(jsonl_data / "labelstudio_image_rect_poly_keypoint_export.json"))
    found = [i for i in ds.issues if i.code == MEDIA_NOT_FOUND]
    assert len(found) == 1
    assert found[0].location.record_id == "175210175"
    assert found[0].location.path == "$[0].data.image"
    assert len(ds.annotations) == 4  # the task is still read


def test_labelstudio_annotators_kept_apart(jsonl_data):
    raw = orjson.loads((jsonl_data / "labelstudio_image_bbox_export.json").read_bytes())
    ds = gt.load(str(jsonl_data / "labelstudio_image_bbox_export.json"))
    task1 = [a for a in ds.annotations if a.item_id == "1"]
    by = {a.annotator for a in task1}
    assert by == {"ls-user-1", "ls-user-2"}
    n_per = {a["completed_by"]: len(a["result"]) for a in raw[0]["annotations"]}
    for user, n in n_per.items():
        assert sum(a.annotator == f"ls-user-{user}" for a in task1) == n
    assert {a.id for a in ds.manifest.annotators} == {"ls-user-1", "ls-user-2"}


def test_labelstudio_ner_region_choices_become_attributes(jsonl_data):
    raw = orjson.loads((jsonl_data / "labelstudio_text_ner_export.3tasks.json").read_bytes())
    choices = [(t["id"], r) for t in raw for a in t["annotations"] for r in a["result"]
               if r["type"] == "choices"]
    assert len(choices) == 29
    ds = gt.load(str(jsonl_data / "labelstudio_text_ner_export.3tasks.json"))
    spans = {a.id: a for a in ds.annotations if isinstance(a, Span)}
    with_attrs = [a for a in spans.values() if a.attributes]
    assert len(with_attrs) == 29
    for tid, r in choices:
        match = [a for a in with_attrs if a.item_id == str(tid)
                 and a.extensions["labelstudio"]["result"]["id"] == r["id"]]
        assert match
        assert match[0].attributes[r["from_name"]] == r["value"]["choices"]
        assert (match[0].start, match[0].end) == (r["value"]["start"], r["value"]["end"])


def test_prodigy_answers_and_tokens(jsonl_data):
    ds = gt.load(str(jsonl_data / "prodigy_github_issues_textcat.first300.jsonl"))
    statuses = [a.status for a in ds.annotations]
    assert (statuses.count("accepted"), statuses.count("rejected"),
            statuses.count("ignored")) == (103, 170, 27)
    assert all(isinstance(a, Classification) and a.label == "DOCUMENTATION"
               for a in ds.annotations)
    ner = gt.load(str(jsonl_data / "prodigy_news_headlines_ner.first150.jsonl"))
    raw = load_raw(jsonl_data / "prodigy_news_headlines_ner.first150.jsonl")
    item = ner.item(str(raw[0]["_input_hash"]))
    assert [(t.start, t.end) for t in item.tokens] == [(t["start"], t["end"])
                                                       for t in raw[0]["tokens"]]
    spans = [a for a in ner.annotations if a.item_id == item.id]
    for a, s in zip(spans, raw[0]["spans"], strict=True):
        # token_end is inclusive in Prodigy
        assert item.tokens[s["token_end"]].end == a.end
        assert item.tokens[s["token_start"]].start == a.start


def test_hh_split_into_prompt_and_candidates(jsonl_data):
    raw = load_raw(jsonl_data / "hh_rlhf_harmless_base_test.first200.jsonl")
    ds = gt.load(str(jsonl_data / "hh_rlhf_harmless_base_test.first200.jsonl"))
    by_item = ds.annotations_by_item()
    for item, rec in zip(ds.items, raw, strict=True):
        assert item.kind == "conversation"
        assert item.messages[0].role == "user"
        chosen = next(c for c in item.candidates if c.id == "chosen")
        text = "".join(f"\n\n{'Human' if m.role == 'user' else 'Assistant'}: {m.content}"
                       for m in [*item.messages, *chosen.messages])
        assert text == rec["chosen"]
        (rank,) = by_item[item.id]
        assert isinstance(rank, Ranking)
        assert rank.ranking == [["chosen"], ["rejected"]]


def test_doccano_relations_link_entities(jsonl_data):
    ds = gt.load(str(jsonl_data / "doccano_relation_extraction_example.jsonl"))
    spans = {a.id: a for a in ds.annotations if isinstance(a, Span)}
    rels = [a for a in ds.annotations if a.type == "relation"]
    assert [(spans[r.source].text, r.label, spans[r.target].text) for r in rels] == [
        ("Google", "foundedAt", "September 4, 1998"), ("Google", "foundedBy", "Larry Page"),
        ("Google", "foundedBy", "Sergey Brin")]


def test_pseudonym_is_stable_and_not_the_address():
    from groundtruth.converters.labelstudio import pseudonym

    p = pseudonym("Alice@Example.com")
    assert p == pseudonym(" alice@example.com ")
    assert p == "annotator-" + hashlib.sha256(b"alice@example.com").hexdigest()[:10]
    assert "example" not in p
