"""CoNLL -> native (JSONL and Parquet) -> CoNLL gives the original file back."""

from __future__ import annotations

import pytest

import groundtruth as gt


@pytest.mark.parametrize(
    ("name", "fmt", "encoding"),
    [
        ("sec_filings_FIN3.conll", "conll", "jsonl"),
        ("btc_section_e.conll", "conll", "parquet"),
        ("en_ewt-ud-test.first564.conllu", "conllu", "jsonl"),
        ("fr_gsd-ud-test.first200.conllu", "conllu", "parquet"),
    ],
)
def test_through_native_dataset(conll_data, tmp_path, name, fmt, encoding):
    src = conll_data / name
    ds = gt.load(str(src), format=fmt)
    gt.save(ds, str(tmp_path / "ds"), encoding=encoding)
    back = gt.load(str(tmp_path / "ds"))
    assert back.fingerprint() == ds.fingerprint()
    out = tmp_path / name
    report = gt.save(back, str(out), format=fmt)
    assert report.issues == []
    assert out.read_bytes() == src.read_bytes()


def test_format_is_detected(conll_data):
    assert gt.load(str(conll_data / "btc_section_e.conll")).source_format == "conll"
    assert gt.load(str(conll_data / "fr_gsd-ud-test.first200.conllu")).source_format == "conllu"
