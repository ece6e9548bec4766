"""Line reading: chunk boundaries, CRLF, BOM, bad bytes and a missing final newline."""

from __future__ import annotations

import pytest

from groundtruth.converters._textio import LineStats, iter_lines


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 1 << 20])
def test_lines_across_chunks(tmp_path, chunk):
    data = b"\xef\xbb\xbfa\tb\r\nc\xe9\n\n\xc3\xa9t\xc3\xa9\r\n\tO\nlast"
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    st = LineStats()
    got = list(iter_lines(str(path), stats=st, chunk_size=chunk))
    assert got == [(1, "a\tb"), (2, "cé"), (3, ""), (4, "été"), (5, "\tO"), (6, "last")]
    assert st.bom
    assert st.crlf_lines == [1, 4]
    assert st.bad_lines == [2]
    assert not st.final_newline


def test_final_newline(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"a\n\n")
    st = LineStats()
    assert list(iter_lines(str(path), stats=st, chunk_size=2)) == [(1, "a"), (2, "")]
    assert st.final_newline
