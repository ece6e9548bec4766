"""Every real CoNLL and CoNLL-U file: read and written back byte for byte (issue 16)."""

from __future__ import annotations

import pytest

import groundtruth as gt
from tests.conftest import SHARED_DATA

REAL = sorted(p for p in (SHARED_DATA / "conll").glob("*") if p.suffix in (".conll", ".conllu")
              ) if (SHARED_DATA / "conll").is_dir() else []


@pytest.mark.skipif(not REAL, reason=f"real data not available: {SHARED_DATA / 'conll'}")
@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_real_file_round_trips_byte_identical(path, tmp_path):
    fmt = path.suffix[1:]
    out = tmp_path / path.name
    _, report = gt.convert(path, out, to_format=fmt)
    assert not report.issues, report.issues
    assert out.read_bytes() == path.read_bytes()


def test_multi_tag_cells_keep_their_order(tmp_path):
    text = ("Apple B-creative-work,B-corporation,B-group\nrocks O\n\n"
            "Big B-location,B-group\nBand I-location,I-group\n\n")
    src = tmp_path / "wnut.conll"
    src.write_text(text)
    ds = gt.load(src)
    assert [a.label for a in ds.annotations if a.item_id == ds.items[0].id] == [
        "creative-work", "corporation", "group"]
    _, report = gt.convert(src, tmp_path / "back.conll", to_format="conll")
    assert not report.issues
    assert (tmp_path / "back.conll").read_text() == text
