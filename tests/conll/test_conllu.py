"""CoNLL-U: lossless round trips on real treebanks, offsets, and the `conllu` cross-check."""

from __future__ import annotations

import conllu
import pytest

from groundtruth.converters.conllu import ConlluConverter

CONLLU = ["en_ewt-ud-test.first564.conllu", "fr_gsd-ud-test.first200.conllu"]


@pytest.fixture(scope="module")
def conv():
    return ConlluConverter()


@pytest.mark.parametrize("name", CONLLU)
@pytest.mark.parametrize("dependencies", ["attributes", "relations"])
def test_round_trip_is_byte_identical(conll_data, tmp_path, conv, name, dependencies):
    src = conll_data / name
    ds = conv.read(str(src), dependencies=dependencies)
    assert ds.issues == []
    out = tmp_path / name
    report = conv.write(ds, str(out))
    assert report.issues == []
    assert out.read_bytes() == src.read_bytes()


@pytest.mark.parametrize("name", CONLLU)
def test_conllu_package_agrees(conll_data, tmp_path, conv, name):
    """`conllu` parses our output into the sentences it parses from the input."""
    src = conll_data / name
    ds = conv.read(str(src))
    out = tmp_path / name
    conv.write(ds, str(out))
    theirs = conllu.parse(src.read_text(encoding="utf-8"))
    ours = conllu.parse(out.read_text(encoding="utf-8"))
    assert len(ours) == len(theirs) == len(ds.items)
    for a, b in zip(ours, theirs, strict=True):
        assert a.metadata == b.metadata
        assert [dict(t) for t in a] == [dict(t) for t in b]


@pytest.mark.parametrize("name", CONLLU)
def test_items_hold_words_with_offsets(conll_data, conv, name):
    src = conll_data / name
    ds = conv.read(str(src))
    parsed = conllu.parse(src.read_text(encoding="utf-8"))
    for item, sent in zip(ds.items, parsed, strict=True):
        assert item.text == sent.metadata["text"]
        assert item.id == sent.metadata["sent_id"]
        words = [t for t in sent if isinstance(t["id"], int)]
        assert len(item.tokens) == len(words)
        surface = {}
        for t in sent:
            if isinstance(t["id"], tuple) and t["id"][1] == "-":
                for i in range(t["id"][0], t["id"][2] + 1):
                    surface[i] = t["form"]
        for tok, word in zip(item.tokens, words, strict=True):
            form = tok.form if tok.form is not None else item.text[tok.start : tok.end]
            assert form == word["form"]
            # the offsets cover the surface token (the MWT for its parts)
            assert item.text[tok.start : tok.end] == surface.get(word["id"], word["form"])
            assert tok.attributes.get("upos", "_") == word["upos"]
            assert tok.attributes.get("lemma", "_") == word["lemma"]
            head = tok.attributes.get("head")
            assert (int(head) if head is not None else None) == word["head"]


def test_mwt_and_empty_nodes(conll_data, conv):
    ds = conv.read(str(conll_data / "en_ewt-ud-test.first564.conllu"))
    item = ds.item("email-enronsent28_01-0019")
    rows = item.extensions["conllu"]["rows"]
    assert any(r["columns"][0] == "24.1" for r in rows)
    fr = conv.read(str(conll_data / "fr_gsd-ud-test.first200.conllu"))
    mwts = sum(
        1 for it in fr.items for r in it.extensions["conllu"].get("rows", [])
        if "-" in r["columns"][0]
    )
    assert mwts == 165


def test_relations_option(conll_data, conv):
    ds = conv.read(str(conll_data / "en_ewt-ud-test.first564.conllu"), dependencies="relations")
    item = ds.items[0]
    anns = [a for a in ds.annotations if a.item_id == item.id]
    spans = {a.id: a for a in anns if a.type == "span"}
    rels = [a for a in anns if a.type == "relation"]
    assert len(spans) == len(item.tokens)
    assert len(rels) == sum(1 for t in item.tokens if t.attributes.get("head") not in ("0", None))
    for rel in rels:
        word = rel.target.rsplit("/w", 1)[1]
        tok = item.tokens[int(word) - 1]
        assert rel.label == tok.attributes["deprel"]
        assert rel.source == f"{item.id}/w{tok.attributes['head']}"
    assert ds.manifest.taxonomy.label_sets[0].name == "deprel"


def test_without_text_comment_offsets_from_space_after(tmp_path, conv):
    src = tmp_path / "a.conllu"
    src.write_text(
        "# sent_id = 1\n"
        "# a comment without equals sign\n"
        "1-2\tdu\t_\t_\t_\t_\t_\t_\t_\tSpaceAfter=No\n"
        "1\tde\tde\tADP\t_\t_\t3\tcase\t_\t_\n"
        "2\tle\tle\tDET\t_\t_\t3\tdet\t_\t_\n"
        "3\tchat\tchat\tNOUN\t_\t_\t0\troot\t_\tSpaceAfter=No\n"
        "3.1\tx\t_\t_\t_\t_\t_\t_\t3:dep\t_\n"
        "4\t.\t.\tPUNCT\t_\t_\t3\tpunct\t_\tGloss=a=b\n"
        "\n",
        encoding="utf-8",
    )
    ds = conv.read(str(src))
    item = ds.items[0]
    assert item.text == "duchat."
    assert [(t.start, t.end, t.form) for t in item.tokens] == [
        (0, 2, "de"), (0, 2, "le"), (2, 6, None), (6, 7, None)
    ]
    assert item.tokens[3].attributes["misc"] == "Gloss=a=b"
    out = tmp_path / "b.conllu"
    conv.write(ds, str(out))
    assert out.read_bytes() == src.read_bytes()


@pytest.mark.parametrize(
    ("body", "code", "line"),
    [
        ("1\tA\ta\tX\t_\t_\t5\tdep\t_\t_\n", "conllu.head.out-of-range", 2),
        ("1\tA\ta\tX\t_\t_\t0\troot\n", "conllu.line.columns", 2),
        ("x\tA\ta\tX\t_\t_\t0\troot\t_\t_\n", "conllu.line.id", 2),
        ("1\tB\ta\tX\t_\t_\t0\troot\t_\t_\n", "conllu.text.mismatch", 2),
        ("1\tA\ta\tX\t_\t_\t0\troot\t_\t_\n# late\n", "conllu.comment.misplaced", 3),
    ],
)
def test_bad_input_is_located(tmp_path, conv, body, code, line):
    src = tmp_path / "bad.conllu"
    src.write_text("# text = A\n" + body + "\n", encoding="utf-8")
    ds = conv.read(str(src))
    assert [(i.code, i.location.line) for i in ds.issues] == [(code, line)]
    assert all(i.location.file == str(src) for i in ds.issues)


def test_latin1_and_crlf_are_reported_not_fatal(tmp_path, conv):
    src = tmp_path / "bad.conllu"
    src.write_bytes(b"# text = caf\xe9\r\n1\tcaf\xe9\t_\t_\t_\t_\t0\troot\t_\t_\r\n\r\n")
    ds = conv.read(str(src))
    codes = [(i.code, i.location.line) for i in ds.issues]
    assert ("conllu.encoding.invalid", 1) in codes
    assert ("conllu.encoding.invalid", 2) in codes
    assert ("conllu.line.crlf", 1) in codes
    assert ds.items[0].text == "café"


def test_no_final_newline_round_trips(tmp_path, conv):
    src = tmp_path / "a.conllu"
    src.write_bytes(b"# text = A\n1\tA\t_\t_\t_\t_\t0\troot\t_\t_")
    ds = conv.read(str(src))
    assert [(i.code, i.location.line) for i in ds.issues] == [("conllu.file.no-trailing-blank", 2)]
    out = tmp_path / "b.conllu"
    conv.write(ds, str(out))
    assert out.read_bytes() == src.read_bytes()


def test_write_from_plain_text_items(tmp_path, conv):
    from groundtruth.dataset import Dataset
    from groundtruth.models import Item, Span

    ds = Dataset(
        items=[Item(id="a", kind="text", text="Hello, world!")],
        annotations=[Span(id="s1", item_id="a", start=0, end=5, label="X")],
    )
    out = tmp_path / "o.conllu"
    report = conv.write(ds, str(out))
    assert [(i.code, i.location.record_id) for i in report.issues] == [
        ("conllu.annotation.dropped", "s1")
    ]
    parsed = conllu.parse(out.read_text(encoding="utf-8"))
    assert parsed[0].metadata == {"sent_id": "a", "text": "Hello, world!"}
    assert [t["form"] for t in parsed[0]] == ["Hello,", "world!"]
    back = conv.read(str(out))
    assert back.items[0].text == "Hello, world!"


def test_duplicate_sent_id(tmp_path, conv):
    src = tmp_path / "d.conllu"
    sent = "# sent_id = x\n# text = A\n1\tA\t_\t_\t_\t_\t0\troot\t_\t_\n\n"
    src.write_text(sent + sent, encoding="utf-8")
    ds = conv.read(str(src))
    assert [it.id for it in ds.items] == ["x", "2"]
    assert [(i.code, i.location.line) for i in ds.issues] == [("conllu.sent-id.duplicate", 5)]
    out = tmp_path / "o.conllu"
    conv.write(ds, str(out))
    assert out.read_bytes() == src.read_bytes()


def test_spaces_after_without_text(tmp_path, conv):
    src = tmp_path / "s.conllu"
    src.write_text(
        "1\tA\t_\t_\t_\t_\t0\troot\t_\tSpacesAfter=\\s\\s\n2\tB\t_\t_\t_\t_\t1\tdep\t_\t_\n\n",
        encoding="utf-8",
    )
    ds = conv.read(str(src))
    assert ds.items[0].text == "A  B"
    assert [(t.start, t.end) for t in ds.items[0].tokens] == [(0, 1), (3, 4)]
