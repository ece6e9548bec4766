"""Bad JSONL input: a located issue per problem, the rest still read, never a crash."""

from __future__ import annotations

import pytest

import groundtruth as gt
from groundtruth.converters import detect_format
from groundtruth.errors import ConversionError, UnknownFormatError


def write(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def codes(ds):
    return [(i.code, i.location.line, i.location.path) for i in ds.issues]


def test_generic_jsonl_bad_lines(tmp_path):
    data = (
        b'\xef\xbb\xbf{"text": "ok", "label": "pos"}\n'
        b"{not json}\n"
        b'{"label": "neg"}\n'
        b'{"text": "numbers", "label": 3}\n'
        b"[1, 2]\n"
        b'{"text": "many", "label": ["a", "b"], "answer": "free text"}\n'
        b'{"text": "bad label", "label": {"x": 1}}\n'
    )
    ds = gt.load(write(tmp_path, "d.jsonl", data), format="jsonl")
    assert [it.text for it in ds.items] == ["ok", "numbers", "many", "bad label"]
    assert codes(ds) == [
        ("jsonl.bom", 1, None),
        ("jsonl.syntax", 2, None),
        ("jsonl.record.missing-text", 3, "$.text"),
        ("jsonl.label.number", 4, "$.label"),
        ("json.record.not-an-object", 5, "$"),
        ("jsonl.label.invalid", 7, "$.label"),
    ]
    labels = [(a.item_id, a.type, getattr(a, "label", None) or a.text)
              for a in ds.annotations]
    assert labels == [("1", "classification", "pos"), ("4", "classification", "3"),
                      ("6", "classification", "a"), ("6", "classification", "b"),
                      ("6", "text", "free text")]


def test_generic_jsonl_field_mapping_and_label_names(tmp_path):
    data = b'{"uid": "a", "sentence": "x", "y": 1, "src": "web"}\n'
    ds = gt.load(write(tmp_path, "d.jsonl", data), format="jsonl", text_field="sentence",
                 label_field="y", id_field="uid", label_names=["neg", "pos"])
    assert ds.items[0].id == "a"
    assert ds.items[0].metadata == {"src": "web"}
    assert ds.annotations[0].label == "pos"
    assert ds.issues == []
    out = tmp_path / "o.jsonl"
    gt.save(ds, str(out), format="jsonl", text_field="sentence", id_field="uid")
    assert out.read_bytes() == b'{"uid":"a","sentence":"x","label":"pos","src":"web"}\n'


def test_prodigy_bad_spans(tmp_path):
    data = (
        b'{"text": "Apple is big", "spans": [{"start": 0, "end": 5, "label": "ORG", '
        b'"token_start": 0, "token_end": 1}, {"start": 9, "end": 40, "label": "X"}], '
        b'"tokens": [{"text": "Apple", "start": 0, "end": 5, "id": 0}, '
        b'{"text": "is", "start": 6, "end": 8, "id": 1}, '
        b'{"text": "big", "start": 9, "end": 12, "id": 2}], "answer": "maybe"}\n'
        b'{"spans": []}\n'
    )
    ds = gt.load(write(tmp_path, "p.jsonl", data), format="prodigy")
    assert codes(ds) == [
        ("prodigy.answer.unknown", 1, "$.answer"),
        ("prodigy.span.token-mismatch", 1, "$.spans[0]"),
        ("span.out-of-range", 1, "$.spans[1]"),
        ("prodigy.record.missing-text", 2, "$.text"),
    ]
    assert len(ds.annotations) == 1


def test_doccano_spans_past_text_and_numbers(tmp_path):
    data = (
        b'{"text": "Paris", "label": [[0, 5, "LOC"], [3, 99, "LOC"], [0, 2], [0, 1, 7]]}\n'
        b'{"text": "x", "entities": [{"id": 1, "start_offset": 0, "end_offset": 1, '
        b'"label": "A"}], "relations": [{"from_id": 1, "to_id": 9, "type": "r"}]}\n'
    )
    ds = gt.load(write(tmp_path, "d.jsonl", data), format="doccano", annotator="alice")
    assert codes(ds) == [
        ("span.out-of-range", 1, "$.label[1]"),
        ("doccano.span.invalid", 1, "$.label[2]"),
        ("jsonl.label.number", 1, "$.label[3][2]"),
        ("doccano.relation.dangling", 2, "$.relations[0]"),
    ]
    assert {a.annotator for a in ds.annotations} == {"alice"}
    assert [a.id for a in ds.manifest.annotators] == ["alice"]


def test_doccano_utf16_offsets_detected(tmp_path):
    text = "I 💙 New York"
    u = len(text[: text.index("New")].encode("utf-16-le")) // 2
    data = f'{{"text": "{text}", "label": [[{u}, {u + 8}, "LOC"]]}}\n'.encode()
    ds = gt.load(write(tmp_path, "d.jsonl", data), format="doccano", offsets="utf16")
    assert ds.annotations[0].text == "New York"
    assert ds.issues == []


def test_preference_bad_records(tmp_path):
    data = (
        b'{"prompt": "q", "chosen": "a", "rejected": "b", "score_chosen": 9}\n'
        b'{"prompt": "q"}\n'
        b'{"messages": [{"role": "user"}]}\n'
        b'{"prompt": "q", "responses": ["a", "b"], "ranking": [0, 0]}\n'
        b'{"prompt": "q", "responses": ["a", "b", "c"], "scores": [1, 3, 3]}\n'
    )
    ds = gt.load(write(tmp_path, "p.jsonl", data), format="preference")
    assert codes(ds) == [
        ("preference.record.missing-field", 2, "$"),
        ("preference.message.invalid", 3, "$.messages[0]"),
        ("preference.ranking.invalid", 4, "$.ranking"),
    ]
    ranks = [a for a in ds.annotations if a.type == "ranking"]
    assert ranks[0].scores == {"chosen": 9.0}
    assert ranks[1].ranking == [["r1", "r2"], ["r0"]]


def test_labelstudio_not_json_is_a_conversion_error(tmp_path):
    with pytest.raises(ConversionError):
        gt.load(write(tmp_path, "x.json", b'[{"id": 1, "data": {'), format="labelstudio")


def test_ambiguous_detection_lists_candidates(tmp_path):
    # Prodigy answers and doccano [start, end, label] lists in one record: both claim it.
    path = write(tmp_path, "x.jsonl",
                 b'{"text": "ab", "label": [[0, 1, "A"]], "answer": "accept"}\n')
    with pytest.raises(UnknownFormatError) as err:
        detect_format(path)
    assert "doccano" in str(err.value)
    assert "prodigy" in str(err.value)


def test_cli_ambiguous_and_detected(tmp_path):
    from click.testing import CliRunner

    from groundtruth.cli import cli

    amb = write(tmp_path, "x.jsonl",
                b'{"text": "ab", "label": [[0, 1, "A"]], "answer": "accept"}\n')
    r = CliRunner().invoke(cli, ["convert", amb, str(tmp_path / "o")])
    assert r.exit_code != 0
    assert isinstance(r.exception, UnknownFormatError)
    ok = write(tmp_path, "c.jsonl", b'{"text": "ab", "label": "A"}\n')
    r = CliRunner().invoke(cli, ["convert", ok, str(tmp_path / "o2")])
    assert r.exit_code == 0, r.output
    assert "(jsonl)" in r.output
