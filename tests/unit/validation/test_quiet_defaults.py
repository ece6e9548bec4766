"""Defaults that do not cry wolf: warnings only where a person should act (issue 16)."""

from __future__ import annotations

import groundtruth as gt
from groundtruth import validate

CONLL = "John B-PER\nruns O\n\nIt O\nrains O\n\n"


def codes(report) -> list[str]:
    return sorted(i.code for i in report.issues)


def test_a_sentence_with_no_entity_is_a_label(tmp_path):
    path = tmp_path / "ner.conll"
    path.write_text(CONLL)
    report = validate(path)
    assert "dataset.item-unannotated" not in codes(report)
    ds = gt.load(path)
    assert len(ds.items) == 2  # the all-O sentence is still read
    assert len(ds.annotations) == 1


def test_an_untokenised_text_with_no_span_is_still_reported(tmp_path):
    path = tmp_path / "ner.conll"
    path.write_text(CONLL)
    ds = gt.load(path)
    ds.items[1] = ds.items[1].model_copy(update={"tokens": []})
    assert "dataset.item-unannotated" in codes(validate(ds))
