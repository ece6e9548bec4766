"""CoNLL column files: real files, every scheme, bad input located, spans from any dataset."""

from __future__ import annotations

import warnings

import pytest
from seqeval.metrics.sequence_labeling import get_entities

from groundtruth.converters.conll import ConllConverter
from groundtruth.converters.conllu import ConlluConverter
from groundtruth.dataset import Dataset
from groundtruth.models import Classification, Item, Span, Token

REAL = ["wnut17_emerging.dev.conll", "btc_section_e.conll", "sec_filings_FIN3.conll"]


@pytest.fixture(scope="module")
def conv():
    return ConllConverter()


def codes(issues):
    return [(i.code, i.location.line) for i in issues]


@pytest.mark.parametrize("name", REAL)
def test_round_trip_is_byte_identical(conll_data, tmp_path, conv, name):
    src = conll_data / name
    ds = conv.read(str(src))
    assert ds.issues == []
    out = tmp_path / name
    report = conv.write(ds, str(out))
    assert report.issues == []
    assert out.read_bytes() == src.read_bytes()


@pytest.mark.parametrize("name", REAL)
def test_spans_are_exact_and_match_seqeval(conll_data, column_sentences, conv, name):
    ds = conv.read(str(conll_data / name))
    sentences = column_sentences(name)
    assert len(ds.items) == len(sentences)
    by_item = ds.annotations_by_item()
    for item, sent in zip(ds.items, sentences, strict=True):
        forms = [cols[0] for cols in sent]
        assert item.text == " ".join(forms)
        assert [item.text[t.start : t.end] for t in item.tokens] == forms
        tags = [cols[-1] for cols in sent]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = get_entities(tags)
        spans = by_item.get(item.id, [])
        assert len(spans) == len(expected)
        for span, (typ, s, e) in zip(spans, expected, strict=True):
            assert span.label == typ
            assert (span.start, span.end) == (item.tokens[s].start, item.tokens[e].end)
            assert item.text[span.start : span.end] == " ".join(forms[s : e + 1]) == span.text


def test_sec_file_layout_documents_and_scheme(conll_data, conv):
    ds = conv.read(str(conll_data / "sec_filings_FIN3.conll"))
    ext = ds.manifest.extensions["conll"]
    assert ext == {"columns": ["token", "pos", "chunk", "ner"], "sep": "space", "scheme": "iob1"}
    assert ds.items[0].tokens[0].attributes == {"pos": "NNP", "chunk": "-"}
    assert sorted({it.metadata["document"] for it in ds.items}) == [1, 2, 3]
    docs = conv.read(str(conll_data / "sec_filings_FIN3.conll"), group="document")
    assert len(docs.items) == 3
    assert len(docs.annotations) == len(ds.annotations)
    for span in docs.annotations:
        text = docs.item(span.item_id).text
        assert text[span.start : span.end] == span.text
    assert sum(it.text.count("\n") + 1 for it in docs.items) == len(ds.items)


@pytest.mark.parametrize("group", ["sentence", "document"])
def test_document_grouping_round_trips(conll_data, tmp_path, conv, group):
    src = conll_data / "sec_filings_FIN3.conll"
    ds = conv.read(str(src), group=group)
    out = tmp_path / "o.conll"
    conv.write(ds, str(out))
    assert out.read_bytes() == src.read_bytes()


@pytest.mark.parametrize("scheme", ["iob2", "bioes", "bilou", "iob1", "ioe2"])
def test_write_any_scheme_and_read_back(conll_data, tmp_path, conv, scheme):
    src = conll_data / "btc_section_e.conll"
    ds = conv.read(str(src))
    out = tmp_path / f"o.{scheme}"
    report = conv.write(ds, str(out), scheme=scheme)
    assert report.issues == []
    back = conv.read(str(out))
    assert back.manifest.extensions["conll"]["scheme"] == scheme
    assert back.issues == []
    assert [a.to_json_dict() for a in back.annotations] == [
        a.to_json_dict() for a in ds.annotations
    ]


def test_iob1_to_iob2_to_bioes_to_iob1_is_identity_on_the_file(conll_data, tmp_path, conv):
    src = conll_data / "sec_filings_FIN3.conll"
    path = str(src)
    for k, scheme in enumerate(["iob2", "bioes", "iob1"]):
        out = str(tmp_path / f"step{k}.conll")
        conv.write(conv.read(path), out, scheme=scheme)
        path = out
    assert (tmp_path / "step2.conll").read_bytes() == src.read_bytes()


def test_exported_tags_give_seqeval_our_spans(conll_data, tmp_path, conv):
    ds = conv.read(str(conll_data / "btc_section_e.conll"))
    out = tmp_path / "o.conll"
    conv.write(ds, str(out), scheme="bioes")
    by_item = ds.annotations_by_item()
    lines = out.read_text(encoding="utf-8").split("\n\n")
    for item, block in zip(ds.items, lines, strict=False):
        tags = [line.split("\t")[-1] for line in block.splitlines()]
        spans = [(a.start, a.end, a.label) for a in by_item.get(item.id, [])]
        got = [
            (item.tokens[s].start, item.tokens[e].end, t) for t, s, e in get_entities(tags)
        ]
        assert got == spans


def test_bad_input_is_located_never_fatal(tmp_path, conv):
    src = tmp_path / "bad.conll"
    src.write_bytes(
        b"\xef\xbb\xbf#hashtag\tO\r\n"  # BOM, `#` token, CRLF
        b"Paris\tPER\r\n"  # no prefix
        b"caf\xe9\tO\r\n"  # Latin-1 byte in a UTF-8 file
        b"three\tcols\tO\r\n"  # wrong column count
        b"\t\r\n"  # whitespace-only line ends the sentence
        b"x\tO\n"
        b"London\tI-LOC\n"  # stray I- after O in an IOB2 file
        b"y\tB-ORG\n"
        b"z\tI-ORG"  # no trailing blank line, no final newline
    )
    ds = conv.read(str(src))
    assert sorted(codes(ds.issues)) == sorted(
        [
            ("conll.tag.no-prefix", 2),
            ("conll.encoding.invalid", 3),
            ("conll.line.columns", 4),
            ("conll.tag.invalid-transition", 7),
            ("conll.file.no-trailing-blank", 9),
            ("conll.line.crlf", 1),
        ]
    )
    assert all(i.location.file == str(src) for i in ds.issues)
    first, second = ds.items
    assert first.text == "#hashtag Paris café three"
    assert [(a.label, a.text) for a in ds.annotations] == [
        ("PER", "Paris"), ("LOC", "London"), ("ORG", "y z")
    ]
    assert second.text == "x London y z"


def test_latin1_encoding_option(tmp_path, conv):
    src = tmp_path / "de.conll"
    src.write_bytes("Müller NN I-NC I-PER\nsagt VV I-VC O\n\n".encode("latin-1"))
    ds = conv.read(str(src), encoding="latin-1")
    assert ds.issues == []
    assert ds.items[0].text == "Müller sagt"
    assert ds.manifest.extensions["conll"]["columns"] == ["token", "pos", "chunk", "ner"]


def test_columns_option_and_tag_column(tmp_path, conv):
    src = tmp_path / "a.conll"
    src.write_text("Paris B-LOC NNP\nis O VBZ\n\n", encoding="utf-8")
    ds = conv.read(str(src), columns="token,ner,pos")  # a column named `ner` is the tag
    assert ds.items[0].tokens[0].attributes == {"pos": "NNP"}
    assert [(a.label, a.text) for a in ds.annotations] == [("LOC", "Paris")]
    ds = conv.read(str(src), columns="token,ent,pos", tag_column="ent")
    assert ds.items[0].tokens[0].attributes == {"pos": "NNP"}
    assert ds.annotations[0].label_set == "ent"
    ds = conv.read(str(src), columns="token,ent,pos")  # else the last column
    assert ds.items[0].tokens[0].attributes == {"ent": "B-LOC"}
    out = tmp_path / "o.conll"
    conv.write(conv.read(str(src), columns="token,ner,pos"), str(out))
    assert out.read_text(encoding="utf-8") == "Paris B-LOC NNP\nis O VBZ\n\n"


def test_multi_tag_cells_round_trip(tmp_path, conv):
    src = tmp_path / "m.conll"
    src.write_text(
        "Harry\tB-person,B-creative-work\nPotter\tI-person,I-creative-work\n"
        "films\tI-creative-work\n!\tO\n\n",
        encoding="utf-8",
    )
    ds = conv.read(str(src))
    assert [(a.label, a.text) for a in ds.annotations] == [
        ("person", "Harry Potter"), ("creative-work", "Harry Potter films")
    ]
    out = tmp_path / "o.conll"
    conv.write(ds, str(out))
    assert out.read_bytes() == src.read_bytes()


def test_spans_from_any_text_dataset(tmp_path, conv):
    ds = Dataset(
        items=[
            Item(id="a", kind="text", text="Angela Merkel visited New York."),
            Item(
                id="b", kind="text", text="San Francisco",
                tokens=[Token(start=0, end=3), Token(start=4, end=13)],
            ),
            Item(id="c", kind="image", uri="x.png"),
        ],
        annotations=[
            Span(id="s1", item_id="a", start=0, end=13, label="PER"),
            Span(id="s2", item_id="a", start=22, end=30, label="LOC"),  # `New York` w/o `.`
            Span(id="s3", item_id="b", start=0, end=13, label="LOC"),
            Span(id="s4", item_id="b", start=4, end=8, label="LOC"),  # inside a token
            Span(id="s5", item_id="a", start=7, end=13),  # no label
            Classification(id="k1", item_id="a", label="news"),
        ],
    )
    out = tmp_path / "o.conll"
    report = conv.write(ds, str(out))
    assert sorted((i.code, i.location.record_id) for i in report.issues) == [
        ("conll.annotation.dropped", "k1"),
        ("conll.item.no-text", "c"),
        ("conll.span.off-token", "s2"),
        ("conll.span.off-token", "s4"),
        ("conll.span.unlabelled", "s5"),
    ]
    assert out.read_text(encoding="utf-8") == (
        "Angela\tB-PER\nMerkel\tI-PER\nvisited\tO\nNew\tO\nYork.\tO\n\n"
        "San\tB-LOC\nFrancisco\tI-LOC\n\n"
    )
    out2 = tmp_path / "o2.conll"
    report = conv.write(ds, str(out2), tokenizer=r"regex:\w+|[^\w\s]")
    assert ("conll.span.off-token", "s2") not in [
        (i.code, i.location.record_id) for i in report.issues
    ]
    assert "New\tB-LOC\nYork\tI-LOC\n.\tO\n" in out2.read_text(encoding="utf-8")


def test_token_with_space_on_write(tmp_path, conv):
    ds = Dataset(
        items=[
            Item(
                id="a", kind="text", text="New York is big",
                tokens=[Token(start=0, end=8), Token(start=9, end=11), Token(start=12, end=15)],
            )
        ],
        annotations=[Span(id="s", item_id="a", start=0, end=8, label="LOC")],
    )
    out = tmp_path / "o.conll"
    report = conv.write(ds, str(out), sep="space")
    assert [(i.code, i.location.record_id, i.location.path) for i in report.issues] == [
        ("conll.token.whitespace", "a", "$.tokens[0]")
    ]
    assert out.read_text(encoding="utf-8").splitlines()[0] == "New\u00a0York B-LOC"
    from groundtruth.errors import DatasetExistsError

    with pytest.raises(DatasetExistsError):
        conv.write(ds, str(out), sep="tab")
    report = conv.write(ds, str(out), sep="tab", overwrite=True)
    assert report.issues == []
    assert out.read_text(encoding="utf-8").splitlines()[0] == "New York\tB-LOC"


def test_conllu_items_to_conll_keep_chosen_attributes(conll_data, tmp_path):
    ds = ConlluConverter().read(str(conll_data / "fr_gsd-ud-test.first200.conllu"))
    out = tmp_path / "o.conll"
    report = ConllConverter().write(ds, str(out), columns="token,upos,ner")
    dropped = {i.message.split("'")[1] for i in report.issues}
    assert {"lemma", "feats", "head", "deprel"} <= dropped
    assert all(i.code == "conll.attribute.dropped" for i in report.issues)
    first = out.read_text(encoding="utf-8").splitlines()[0]
    assert first == "Je\tPRON\tO"


def test_unknown_options_and_values(tmp_path, conv):
    from groundtruth.errors import ConversionError

    src = tmp_path / "a.conll"
    src.write_text("a\tO\n\n", encoding="utf-8")
    with pytest.raises(TypeError):
        conv.read(str(src), nope=1)
    with pytest.raises(ConversionError):
        conv.read(str(src), scheme="xyz")
    with pytest.raises(ConversionError):
        conv.write(conv.read(str(src)), str(tmp_path / "o"), scheme="xyz")


def test_detect(conll_data, conv):
    for name in REAL:
        head = (conll_data / name).read_bytes()[:65536]
        assert conv.detect(head, "x.txt") > 0.5
    head = (conll_data / "en_ewt-ud-test.first564.conllu").read_bytes()[:65536]
    assert conv.detect(head, "x.txt") == 0.0
    assert ConlluConverter().detect(head, "x.txt") > 0.5
