"""Tag schemes: decoding matches seqeval's default mode; re-encoding is exact."""

from __future__ import annotations

import itertools
import random
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics.sequence_labeling import get_entities

from groundtruth.converters._tagging import (
    TagProblem,
    convert,
    decode,
    decode_batch,
    decode_multi,
    detect_scheme,
    encode,
    encode_multi,
    parse_scheme,
)

REAL = ["wnut17_emerging.dev.conll", "btc_section_e.conll", "sec_filings_FIN3.conll"]


def seqeval_spans(tags: list[str]) -> list[tuple[str, int, int]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [(t, s, e + 1) for t, s, e in get_entities(list(tags))]


@pytest.mark.parametrize(
    "tags",
    [
        ["O", "I-PER", "I-PER", "O"],
        ["B-PER", "I-LOC", "I-LOC"],
        ["B-PER", "B-PER", "I-PER"],
        ["I-PER", "B-PER", "O", "I-ORG", "I-PER"],
        ["B-PER", "E-PER", "S-LOC", "B-ORG", "I-ORG", "E-ORG"],
        ["E-PER", "E-PER", "I-PER", "S-PER", "I-PER"],
        ["B-creative-work", "I-creative-work", "O", "B-person"],
        ["I-X", "E-X", "I-X", "I-X", "E-X", "O"],
        [],
        ["O", "O"],
        ["B-A", "I-A", "I-A"],
    ],
)
def test_decode_matches_seqeval_default_mode(tags):
    assert decode(tags) == seqeval_spans(tags)


@pytest.mark.parametrize("name", REAL)
def test_decode_matches_seqeval_on_real_files(column_sentences, name):
    sentences = column_sentences(name)
    n = 0
    for sent in sentences:
        tags = [cols[-1] for cols in sent]
        ours = decode(tags)
        assert ours == seqeval_spans(tags)
        n += len(ours)
    assert n > 100  # the files really hold entities


@pytest.mark.parametrize(
    ("name", "scheme"),
    [
        ("wnut17_emerging.dev.conll", "iob2"),
        ("btc_section_e.conll", "iob2"),
        ("sec_filings_FIN3.conll", "iob1"),
    ],
)
def test_detect_scheme_on_real_files(column_sentences, name, scheme):
    sentences = column_sentences(name)
    assert detect_scheme([[c[-1] for c in s] for s in sentences]) == scheme


@pytest.mark.parametrize("name", REAL)
def test_scheme_cycle_is_identity_on_real_files(column_sentences, name):
    """IOB1 -> IOB2 -> BIOES -> IOB1 gives the IOB1 tags back, and each step keeps the spans."""
    for sent in column_sentences(name):
        tags = [cols[-1] for cols in sent]
        iob1 = convert(tags, "iob1")
        iob2 = convert(iob1, "iob2")
        bioes = convert(iob2, "bioes")
        bilou = convert(bioes, "bilou")
        assert convert(bioes, "iob1") == iob1
        assert convert(bilou, "iob1") == iob1
        spans = decode(tags)
        for seq in (iob1, iob2, bioes, bilou, convert(tags, "ioe1"), convert(tags, "ioe2")):
            assert decode(seq) == spans
        # seqeval reads our BIOES output the same way (it does not read BILOU).
        assert seqeval_spans(bioes) == spans
        assert seqeval_spans(iob2) == spans


def test_sec_file_is_already_iob1(column_sentences):
    for sent in column_sentences("sec_filings_FIN3.conll"):
        tags = [cols[-1] for cols in sent]
        problems: list[TagProblem] = []
        decode(tags, "iob1", problems)
        assert problems == []
        assert convert(tags, "iob1") == tags


def test_encode_each_scheme():
    ents = [("PER", 0, 2), ("PER", 2, 3), ("LOC", 4, 5)]
    assert encode(ents, 5, "iob2") == ["B-PER", "I-PER", "B-PER", "O", "B-LOC"]
    assert encode(ents, 5, "iob1") == ["I-PER", "I-PER", "B-PER", "O", "I-LOC"]
    assert encode(ents, 5, "bioes") == ["B-PER", "E-PER", "S-PER", "O", "S-LOC"]
    assert encode(ents, 5, "bilou") == ["B-PER", "L-PER", "U-PER", "O", "U-LOC"]
    assert encode(ents, 5, "ioe1") == ["I-PER", "E-PER", "I-PER", "O", "I-LOC"]
    assert encode(ents, 5, "ioe2") == ["I-PER", "E-PER", "E-PER", "O", "E-LOC"]
    assert encode(ents, 5, "io") == ["I-PER", "I-PER", "I-PER", "O", "I-LOC"]


def test_bilou_is_decoded_unlike_seqeval():
    assert decode(["U-ORG", "U-ORG", "B-PER", "L-PER"]) == [
        ("ORG", 0, 1), ("ORG", 1, 2), ("PER", 2, 4)
    ]


def test_invalid_transitions_are_reported_per_scheme():
    problems: list[TagProblem] = []
    assert decode(["O", "I-PER", "I-PER", "B-LOC", "I-ORG"], "iob2", problems) == [
        ("PER", 1, 3), ("LOC", 3, 4), ("ORG", 4, 5)
    ]
    assert [(p.position, p.kind, p.expected) for p in problems] == [
        (1, "invalid-transition", "B-PER"),
        (4, "invalid-transition", "B-ORG"),
    ]
    problems = []
    decode(["O", "I-PER", "I-PER"], "iob1", problems)
    assert problems == []
    problems = []
    decode(["B-PER", "I-PER", "O"], "bioes", problems)
    assert [p.position for p in problems] == [1]  # should have been E-PER


def test_malformed_tags():
    problems: list[TagProblem] = []
    assert decode(["PER", "PER", "O", "B-", "X-LOC"], "iob2", problems) == [
        ("PER", 0, 2), ("LOC", 4, 5)
    ]
    assert [(p.position, p.kind) for p in problems] == [
        (0, "no-prefix"), (1, "no-prefix"), (3, "empty-type"), (4, "bad-prefix")
    ]


def test_labels_split_on_first_hyphen():
    assert decode(["B-creative-work", "I-creative-work"]) == [("creative-work", 0, 2)]
    assert convert(["B-creative-work", "I-creative-work"], "bioes") == [
        "B-creative-work", "E-creative-work"
    ]


def test_multi_tag_cells_round_trip():
    cells = ["B-person,B-creative-work", "I-creative-work", "O", "B-location"]
    ents = decode_multi(cells)
    assert ents == [("person", 0, 1), ("creative-work", 0, 2), ("location", 3, 4)]
    out, rejected = encode_multi(ents, 4, "iob2")
    assert rejected == []
    assert out == cells
    assert decode_multi(out) == ents
    out, rejected = encode_multi([*ents, ("person", 0, 2)], 4, "iob2")
    assert rejected == [("person", 0, 2)]
    assert out == cells


def test_detect_scheme_variants():
    assert detect_scheme([["O"]]) is None
    assert detect_scheme([["B-X", "E-X", "S-Y"]]) == "bioes"
    assert detect_scheme([["B-X", "L-X", "U-Y"]]) == "bilou"
    assert detect_scheme([["I-X", "E-X", "E-Y"]]) == "ioe2"
    assert detect_scheme([["I-X", "I-X", "E-X", "I-X"]]) == "ioe1"
    assert detect_scheme([["I-X", "B-X", "O", "I-Y"]]) == "iob1"
    assert detect_scheme([["B-X", "I-X", "O", "I-Y"]]) == "iob2"


def test_parse_scheme_aliases():
    assert parse_scheme("BIO") == "iob2"
    assert parse_scheme("IOBES") == "bioes"
    assert parse_scheme("biluo") == "bilou"
    with pytest.raises(ValueError, match="unknown tag scheme"):
        parse_scheme("nope")


@pytest.mark.parametrize("scheme", [None, "io", "iob1", "iob2", "ioe1", "ioe2", "bioes", "bilou"])
def test_decode_batch_equals_decode(scheme):
    rng = random.Random(7)
    vocab = ["O"] * 6 + [
        f"{p}-{t}" for p in "BIESLU" for t in ("PER", "LOC", "creative-work")
    ] + ["PER", "B-", "X-ORG"]
    sentences = [[rng.choice(vocab) for _ in range(rng.randint(0, 12))] for _ in range(400)]
    sentences.append(["B-person,B-creative-work", "I-creative-work", "O", "I-person"])
    batch, problems = decode_batch(sentences, scheme)
    for k, sent in enumerate(sentences):
        found: list[TagProblem] = []
        assert batch[k] == decode_multi(sent, scheme, found), sent
        if scheme is None:
            found = [q for q in found if q.kind != "invalid-transition"]
        assert [q for j, q in problems if j == k] == found, sent


def test_decode_batch_on_real_file(column_sentences):
    sentences = [[c[-1] for c in s] for s in column_sentences("wnut17_emerging.dev.conll")]
    batch, problems = decode_batch(sentences, "iob2")
    assert batch == [seqeval_spans(s) for s in sentences]
    assert problems == []


@st.composite
def entity_sets(draw):
    """Non-overlapping entities over n tokens, with types that hold hyphens."""
    n = draw(st.integers(0, 25))
    cuts = sorted(draw(st.sets(st.integers(0, n), max_size=12)))
    ents = []
    for a, b in itertools.pairwise(cuts):
        if draw(st.booleans()):
            ents.append((draw(st.sampled_from(["PER", "LOC", "creative-work"])), a, b))
    return n, ents


@given(entity_sets(), st.sampled_from(["iob1", "iob2", "ioe1", "ioe2", "bioes", "bilou"]))
@settings(max_examples=300, deadline=None)
def test_encode_then_decode_is_identity(data, scheme):
    n, ents = data
    tags = encode(ents, n, scheme)
    problems: list[TagProblem] = []
    assert decode(tags, scheme, problems) == ents
    assert problems == []  # our own encoding is valid in its scheme
    batch, found = decode_batch([tags], scheme)
    assert batch == [ents]
    assert found == []


@given(
    st.lists(entity_sets(), min_size=2, max_size=2),
    st.sampled_from(["iob1", "iob2", "bioes", "bilou"]),
)
@settings(max_examples=200, deadline=None)
def test_overlapping_types_round_trip_through_multi_tag_cells(layers, scheme):
    """Two layers of entities (types made distinct per layer) survive encode_multi/decode_multi."""
    n = max(layers[0][0], layers[1][0])
    ents = [(f"{t}-{k}", s, e) for k, (_, layer) in enumerate(layers) for t, s, e in layer]
    cells, rejected = encode_multi(ents, n, scheme)
    assert rejected == []
    # by start; entities starting on one token in the order given (the order of the cell)
    assert decode_multi(cells) == sorted(ents, key=lambda x: x[1])
