"""The words of user-facing text: plurals, quoting, where two texts differ (issue 16)."""

from __future__ import annotations

import groundtruth as gt
from groundtruth import validate
from groundtruth._text import count, first_difference, quote, where_differ
from groundtruth.models import Item, Span


def test_count_and_quote():
    assert [count(n, "item") for n in (0, 1, 2)] == ["0 items", "1 item", "2 items"]
    assert count(2, "entry", "entries") == "2 entries"
    assert quote('say "hi"\n') == '"say \\"hi\\"\\n"'
    assert quote("x" * 50, 10) == '"' + "x" * 9 + '…"'


def test_where_two_long_texts_first_differ():
    a = "The quick brown fox jumps over the lazy dog near the river bank"
    b = "The quick brown fox jumps over the lazy cat near the river bank"
    assert first_difference(a, b) == 40
    i, x, y = where_differ(a, b)
    assert i == 40
    assert x.startswith("…")
    assert "dog" in x
    assert "cat" in y
    assert first_difference("abc", "abcd") == 3


def test_span_text_mismatch_shows_where_long_texts_differ():
    text = "Annual report of the Example Holding Corporation for fiscal year 2024 and beyond"
    wrong = text[:60].replace("fiscal", "fiskal")
    ds = gt.Dataset(items=[Item(id="t", kind="text", text=text)],
                    annotations=[Span(id="s", item_id="t", label="ORG", start=0, end=60,
                                      text=wrong)])
    [issue] = [i for i in validate(ds).issues if i.code == "content.span-text-mismatch"]
    assert "differ from character 56" in issue.message
    assert 'span "…tion for fiskal ", text "…tion for fiscal "' in issue.message


def test_conll_reader_span_mismatch_is_quoted_not_a_repr(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"text": "Hello Bob", "spans": [{"start": 6, "end": 9, "label": "PER", '
                    '"text": "Rob"}], "answer": "accept"}\n')
    ds = gt.load(path, format="prodigy")
    [issue] = [i for i in ds.issues if i.code == "span.text-mismatch"]
    assert 'span text "Rob" but text[6:9] is "Bob"' in issue.message


def test_show_values_as_a_person_reads_them():
    from groundtruth._text import show

    assert show(True) == "yes"
    assert show(["token", "ner"]) == "token, ner"
    assert show({"person": 1, "car": 3}) == "person 1, car 3"
    assert show({str(i): i for i in range(80)}, limit=2) == "0 0, 1 1 and 78 more"
    assert show(None) == "none"


def test_convert_output_has_no_python_reprs(tmp_path):
    import subprocess
    import sys

    src = tmp_path / "m.conll"
    src.write_text("Apple B-ORG\n\n")
    res = subprocess.run([sys.executable, "-m", "groundtruth", "convert", str(src),
                          str(tmp_path / "o.conll"), "--to", "conll"], capture_output=True,
                         text=True, check=False, timeout=120)
    assert res.returncode == 0, res.stderr
    assert ": 1 item, 1 annotation\n" in res.stdout
    assert "columns: token, ner\n" in res.stdout
    assert "[" not in res.stdout
    assert "'" not in res.stdout


def test_dataset_names_come_from_file_names_the_same_way(tmp_path):
    files = {
        "a.conll": "John B-PER\n\n",
        "b.jsonl": '{"text": "hi", "label": "x"}\n',
        "c.json": '[{"id": 1, "data": {"text": "hi"}, "annotations": []}]',
        "d.json": '{"images": [], "annotations": [], "categories": []}',
        "e.prodigy.jsonl": '{"text": "hi", "spans": [], "answer": "accept"}\n',
    }
    names = {}
    for fname, text in files.items():
        (tmp_path / fname).write_text(text)
        names[fname] = gt.load(tmp_path / fname).manifest.name
    assert names == {"a.conll": "a", "b.jsonl": "b", "c.json": "c", "d.json": "d",
                     "e.prodigy.jsonl": "e.prodigy"}
