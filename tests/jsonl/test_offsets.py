"""Offsets: UTF-16 units, CRLF-normalised text and nearby search, each reported by code."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundtruth.converters._offsets import (
    BAD_OFFSETS,
    CRLF_CONVERTED,
    OUT_OF_RANGE,
    RELOCATED,
    TEXT_MISMATCH,
    UTF16_CONVERTED,
    OffsetMap,
    check_span,
)


def utf16(text: str, cp: int) -> int:
    return len(text[:cp].encode("utf-16-le")) // 2


@given(st.lists(st.sampled_from(["a", "é", "😀", "\r\n", "\n", "𝄞", "中"]), max_size=40).map("".join))
def test_utf16_mapping_is_the_inverse_of_encoding(text):
    m = OffsetMap(text)
    for cp in range(len(text) + 1):
        u = utf16(text, cp)
        assert m.cp_to_utf16(cp) == u
        assert m.utf16_to_cp(u) == cp


@given(st.lists(st.sampled_from(["a", "b", "\r\n", "\n", " "]), max_size=40).map("".join))
def test_crlf_mapping_round_trips(text):
    m = OffsetMap(text)
    norm = text.replace("\r\n", "\n")
    for n in range(len(norm) + 1):
        cp = m.normalised_to_cp(n)
        assert text[:cp].replace("\r\n", "\n") == norm[:n] or text[cp - 1 : cp + 1] == "\r\n"
        assert m.cp_to_normalised(cp) == n


def test_exact_offsets_pass_without_issue():
    c = check_span("hello world", 6, 11, "world")
    assert (c.start, c.end, c.fix, c.issue) == (6, 11, None, None)


def test_utf16_offsets_are_converted_and_reported():
    text = "😀😀 Paris is big"
    u_start = utf16(text, 3)
    c = check_span(text, u_start, u_start + 5, "Paris", file="f.jsonl", line=3, path="$.label[0]")
    assert (c.start, c.end, c.fix) == (3, 8, "utf16")
    assert c.issue is not None
    assert c.issue.code == UTF16_CONVERTED
    assert c.issue.location.line == 3
    assert c.issue.location.path == "$.label[0]"


def test_utf16_without_span_text_only_when_offsets_exceed_code_points():
    text = "😀 ab"
    # in range in code points: trusted as is (cannot be checked)
    assert check_span(text, 2, 4).fix is None
    # only fits UTF-16 units: converted
    c = check_span(text, 3, 5)
    assert (c.start, c.end, c.fix) == (2, 4, "utf16")


def test_forced_units():
    text = "😀 ab"
    c = check_span(text, 3, 5, "ab", offsets="utf16")
    assert (c.start, c.end, c.issue) == (2, 4, None)
    c = check_span(text, 3, 5, "ab", offsets="codepoints")
    assert c.fix != "utf16"


def test_crlf_normalised_offsets_are_converted():
    text = "line one\r\nline two\r\nPARIS"
    norm = text.replace("\r\n", "\n")
    s = norm.index("PARIS")
    c = check_span(text, s, s + 5, "PARIS")
    assert (c.start, c.end, c.fix) == (text.index("PARIS"), text.index("PARIS") + 5, "crlf")
    assert c.issue is not None
    assert c.issue.code == CRLF_CONVERTED


def test_nearby_text_relocates():
    text = "abc def Paris ghi"
    c = check_span(text, 9, 14, "Paris")
    assert (c.start, c.end, c.fix) == (8, 13, "relocated")
    assert c.issue is not None
    assert c.issue.code == RELOCATED


def test_mismatch_is_an_error_and_keeps_offsets():
    c = check_span("abc def", 0, 3, "xyz")
    assert c.keep
    assert (c.start, c.end) == (0, 3)
    assert c.issue is not None
    assert c.issue.code == TEXT_MISMATCH
    assert c.issue.severity == "error"


@pytest.mark.parametrize(("start", "end", "code"), [
    (5, 40, OUT_OF_RANGE), (-1, 2, BAD_OFFSETS), (3, 1, BAD_OFFSETS), ("1", 2, BAD_OFFSETS),
    (1.5, 2, BAD_OFFSETS), (True, 2, BAD_OFFSETS),
])
def test_unusable_offsets_are_dropped(start, end, code):
    c = check_span("abcdef", start, end)
    assert not c.keep
    assert c.issue is not None
    assert c.issue.code == code
