"""Training-ready export: shapes, one answer per item by a stated rule, loss report, Parquet."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest
from click.testing import CliRunner

import groundtruth as gt
from groundtruth.cli import cli
from groundtruth.errors import ConversionError, DatasetExistsError
from groundtruth.models import (
    Annotator,
    Candidate,
    Classification,
    Item,
    LabelSet,
    Manifest,
    Message,
    Ranking,
    Span,
    Taxonomy,
    Token,
)


def rows(path):
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def votes_dataset():
    items = [Item(id=str(i), kind="text", text=f"t{i}", split="train" if i < 4 else "test")
             for i in range(5)]
    anns = [
        # item 0: 2 x pos vs 1 x neg -> pos
        Classification(id="a", item_id="0", label="pos", annotator="u1", label_set="s"),
        Classification(id="b", item_id="0", label="neg", annotator="u2", label_set="s"),
        Classification(id="c", item_id="0", label="pos", annotator="u3", label_set="s"),
        # item 1: tie neg / pos -> left out and reported (ties="first": "neg", first by name)
        Classification(id="d", item_id="1", label="pos", annotator="u1", label_set="s"),
        Classification(id="e", item_id="1", label="neg", annotator="u2", label_set="s"),
        # item 2: only a rejected label and a model prediction -> no label
        Classification(id="f", item_id="2", label="pos", annotator="u1", label_set="s",
                       status="rejected"),
        Classification(id="g", item_id="2", label="pos", annotator="m", label_set="s"),
        # item 3: nothing
        Classification(id="h", item_id="4", label="neg", annotator="u1", label_set="s"),
    ]
    manifest = Manifest(annotators=[Annotator(id="m", kind="model")],
                        taxonomy=Taxonomy(label_sets=[LabelSet(name="s")]))
    return gt.Dataset(manifest, items, anns)


def test_classification_majority_ties_and_losses(tmp_path):
    out = tmp_path / "c.jsonl"
    report = gt.export(votes_dataset(), out, task="classification")
    assert rows(out) == [{"id": "0", "text": "t0", "label": "pos"},
                         {"id": "4", "text": "t4", "label": "neg"}]
    got = sorted((i.code, i.location.record_id) for i in report.issues)
    assert got == [("export.no-label", "2"), ("export.no-label", "3"), ("export.tie", "1")]
    [tie] = [i for i in report.issues if i.code == "export.tie"]
    assert tie.message == "item 1: labels neg, pos tie with 1 vote each; left out"
    assert report.details["rows"] == 2
    assert report.details["ties"] == "skip"


def test_classification_ties_first_takes_the_first_label_by_name(tmp_path):
    out = tmp_path / "c.jsonl"
    report = gt.export(votes_dataset(), out, task="classification", ties="first")
    assert [(r["id"], r["label"]) for r in rows(out)] == [("0", "pos"), ("1", "neg"),
                                                          ("4", "neg")]
    [tie] = [i for i in report.issues if i.code == "export.tie"]
    assert tie.message.endswith("; took neg (first by name)")


def test_classification_ties_fail_raises_naming_the_item(tmp_path):
    from groundtruth.errors import ConversionError

    with pytest.raises(ConversionError, match="item 1: labels neg, pos tie"):
        gt.export(votes_dataset(), tmp_path / "c.jsonl", task="classification", ties="fail")
    assert not (tmp_path / "c.jsonl").exists()


def test_cli_ties_option(tmp_path):
    import subprocess
    import sys

    gt.save(votes_dataset(), tmp_path / "ds")
    base = [sys.executable, "-m", "groundtruth", "export", str(tmp_path / "ds"),
            str(tmp_path / "c.jsonl"), "--task", "classification"]
    res = subprocess.run(base, capture_output=True, text=True, check=False, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "(resolve: majority, ties: skip)" in res.stdout
    assert "export.tie: 1" in res.stdout
    res = subprocess.run([*base, "--overwrite", "--ties", "fail"], capture_output=True,
                         text=True, check=False, timeout=120)
    assert res.returncode != 0
    assert "item 1: labels neg, pos tie" in res.stderr
    assert "Traceback" not in res.stderr


def test_classification_first_models_and_split(tmp_path):
    out = tmp_path / "c.jsonl"
    gt.export(votes_dataset(), out, task="classification", resolve="first",
              include_models=True, split="train")
    assert [(r["id"], r["label"]) for r in rows(out)] == [("0", "pos"), ("1", "pos"),
                                                          ("2", "pos")]
    with pytest.raises(ConversionError):
        gt.export(votes_dataset(), tmp_path / "x.jsonl", task="classification", split="dev")
    with pytest.raises(DatasetExistsError):
        gt.export(votes_dataset(), out, task="classification")
    assert not (tmp_path / "x.jsonl").exists()


def test_multilabel_majority(tmp_path):
    items = [Item(id="0", kind="text", text="t")]
    anns = [Classification(id=f"{w}{lab}", item_id="0", label=lab, annotator=w, label_set="m")
            for w, labs in (("u1", "ab"), ("u2", "ac"), ("u3", "a")) for lab in labs]
    manifest = Manifest(taxonomy=Taxonomy(label_sets=[LabelSet(name="m", multi_label=True)]))
    out = tmp_path / "m.jsonl"
    gt.export(gt.Dataset(manifest, items, anns), out, task="classification")
    assert rows(out) == [{"id": "0", "text": "t", "label": ["a"]}]


def ner_dataset():
    text = "Ann met Bob in Rome"
    toks = [Token(start=s, end=e) for s, e in ((0, 3), (4, 7), (8, 11), (12, 14), (15, 19))]
    item = Item(id="0", kind="text", text=text, tokens=toks)
    spans = []
    for who, marks in (("u1", [(0, 3, "PER"), (15, 19, "LOC")]),
                       ("u2", [(0, 3, "PER"), (8, 11, "PER")]),
                       ("u3", [(0, 3, "PER"), (15, 19, "LOC"), (2, 5, "X")])):
        for k, (s, e, lab) in enumerate(marks):
            spans.append(Span(id=f"{who}-{k}", item_id="0", start=s, end=e, label=lab,
                              annotator=who))
    return gt.Dataset(Manifest(), [item], spans)


def test_ner_majority_spans_and_iob(tmp_path):
    out = tmp_path / "n.jsonl"
    report = gt.export(ner_dataset(), out, task="ner")
    (row,) = rows(out)
    assert row["spans"] == [{"start": 0, "end": 3, "label": "PER"},
                            {"start": 15, "end": 19, "label": "LOC"}]
    assert row["tokens"] == ["Ann", "met", "Bob", "in", "Rome"]
    assert row["ner_tags"] == ["B-PER", "O", "O", "O", "B-LOC"]
    assert report.issues == []
    gt.export(ner_dataset(), tmp_path / "f.jsonl", task="ner", resolve="first")
    (first,) = rows(tmp_path / "f.jsonl")
    assert [s["label"] for s in first["spans"]] == ["PER", "LOC"]


def test_ner_unaligned_span_reported(tmp_path):
    ds = ner_dataset()
    ds.annotations = [a for a in ds.annotations if a.annotator == "u3"]
    report = gt.export(ds, tmp_path / "n.jsonl", task="ner")
    assert [i.code for i in report.issues] == ["export.span-not-aligned"]


def pref_dataset():
    item = Item(id="0", kind="conversation", messages=[Message(role="user", content="hi")],
                candidates=[Candidate(id="a", messages=[Message(role="assistant", content="A")]),
                            Candidate(id="b", messages=[Message(role="assistant", content="B")])])
    anns = [Ranking(id="r1", item_id="0", ranking=[["a"], ["b"]], annotator="u1"),
            Ranking(id="r2", item_id="0", ranking=[["b"], ["a"]], annotator="u2")]
    return gt.Dataset(Manifest(), [item], anns)


def test_preference_tie_dropped_and_first(tmp_path):
    report = gt.export(pref_dataset(), tmp_path / "p.jsonl", task="preference")
    assert rows(tmp_path / "p.jsonl") == []
    assert [i.code for i in report.issues] == ["export.tie"]
    gt.export(pref_dataset(), tmp_path / "f.jsonl", task="preference", resolve="first")
    assert rows(tmp_path / "f.jsonl") == [{
        "id": "0", "prompt": [{"role": "user", "content": "hi"}],
        "chosen": [{"role": "assistant", "content": "A"}],
        "rejected": [{"role": "assistant", "content": "B"}]}]


@pytest.mark.parametrize(("name", "task", "fmt", "n"), [
    ("prodigy_news_headlines_ner.first150.jsonl", "ner", "prodigy", 150),
    ("labelstudio_text_ner_export.3tasks.json", "ner", "labelstudio", 3),
    ("doccano_text_classification_example.jsonl", "classification", "doccano", 3),
    ("prodigy_github_issues_textcat.first300.jsonl", "classification", "prodigy", 103),
    ("hh_rlhf_harmless_base_test.first200.jsonl", "preference", "preference", 200),
    ("hh_rlhf_harmless_base_test.first200.jsonl", "sft", "preference", 200),
])
def test_parquet_loads_in_hf_datasets(jsonl_data, tmp_path, name, task, fmt, n):
    datasets = pytest.importorskip("datasets")
    out = tmp_path / "train.parquet"
    gt.export(str(jsonl_data / name), out, task=task, format="parquet")
    ds = datasets.load_dataset("parquet", data_files=str(out), split="train",
                               cache_dir=str(tmp_path / "cache"))
    assert ds.num_rows == n
    src = gt.load(str(jsonl_data / name), format=fmt)
    if task == "ner":
        items = src.items_by_id()
        for row in ds:
            for s in row["spans"]:
                assert s["end"] <= len(items[row["id"]].text)
    if task == "preference":
        assert ds[0]["chosen"][-1]["role"] == "assistant"
        assert ds[0]["prompt"][0]["role"] == "user"


def test_cli_export(jsonl_data, tmp_path):
    out = tmp_path / "c.jsonl"
    r = CliRunner().invoke(cli, ["export", str(jsonl_data / "doccano_multileg_en_216087.jsonl"),
                                 str(out), "--task", "ner", "--skip-empty", "--report", "json"])
    assert r.exit_code == 0, r.output
    report = orjson.loads(r.output)
    assert report["details"]["rows"] == len(rows(out))
    assert report["loss"]["export.no-label"]["count"] == 174 - len(rows(out))
    assert sum(len(x["spans"]) for x in rows(out)) == 130


def test_consensus_resolve(tmp_path):
    out = tmp_path / "c.jsonl"
    report = gt.export(votes_dataset(), out, task="classification", resolve="consensus")
    assert rows(out) == [{"id": "0", "text": "t0", "label": "pos"}]
    got = sorted((i.code, i.location.record_id) for i in report.issues)
    # the tie (item 1) and the single-annotator item (4) need review; 2 and 3 have no label
    assert got == [("export.needs-review", "1"), ("export.needs-review", "4"),
                   ("export.no-label", "2"), ("export.no-label", "3")]
    ner_out = tmp_path / "n.jsonl"
    gt.export(ner_dataset(), ner_out, task="ner", resolve="consensus")
    (row,) = rows(ner_out)
    assert row["spans"] == [{"start": 0, "end": 3, "label": "PER"},
                            {"start": 15, "end": 19, "label": "LOC"}]


def test_existing_consensus_is_used_and_never_votes(tmp_path):
    ds = gt.consensus(votes_dataset())
    out = tmp_path / "c.jsonl"
    gt.export(ds, out, task="classification", resolve="majority", ties="first")
    assert [(r["id"], r["label"]) for r in rows(out)] == [("0", "pos"), ("1", "neg"),
                                                          ("4", "neg")]
    gt.export(ds, tmp_path / "k.jsonl", task="classification", resolve="consensus")
    assert [(r["id"], r["label"]) for r in rows(tmp_path / "k.jsonl")] == [("0", "pos")]
    with pytest.raises(ValueError):
        gt.export(ds, tmp_path / "p.jsonl", task="preference", resolve="consensus")


def test_cli_export_parquet_format_flag(jsonl_data, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "train.data"
    r = CliRunner().invoke(cli, ["export", str(jsonl_data / "doccano_text_classification_example"
                                                ".jsonl"), str(out), "--task", "classification",
                                 "--format", "parquet", "--from", "doccano"])
    assert r.exit_code == 0, r.output
    table = pq.read_table(out)
    assert table.column_names == ["id", "text", "label"]
    assert table.column("label").to_pylist() == ["negative", "positive", "positive"]


def _binary_textcat(multi: bool) -> gt.Dataset:
    items = [Item(id=str(i), kind="text", text=f"t{i}") for i in range(3)]
    anns = [Classification(id="a", item_id="0", label="DOCS", label_set="textcat",
                           status="accepted"),
            Classification(id="b", item_id="1", label="DOCS", label_set="textcat",
                           status="rejected"),
            Classification(id="c", item_id="2", label="DOCS", label_set="textcat",
                           status="ignored")]
    manifest = Manifest(taxonomy=Taxonomy(label_sets=[
        LabelSet(name="textcat", multi_label=multi)]))
    return gt.Dataset(manifest, items, anns)


def test_binary_textcat_rejects_are_reported_as_rejected(tmp_path):
    report = gt.export(_binary_textcat(False), tmp_path / "c.jsonl", task="classification")
    assert [(r["id"], r["label"]) for r in rows(tmp_path / "c.jsonl")] == [("0", "DOCS")]
    by_item = {i.location.record_id: i.message for i in report.issues}
    assert "was rejected" in by_item["1"]
    assert "was rejected" not in by_item["2"]  # ignored is not a negative


def test_binary_textcat_negatives_become_not_label(tmp_path):
    gt.export(_binary_textcat(False), tmp_path / "c.jsonl", task="classification",
              negatives=True)
    assert [(r["id"], r["label"]) for r in rows(tmp_path / "c.jsonl")] == [
        ("0", "DOCS"), ("1", "not DOCS")]


def test_multi_label_negatives_are_false(tmp_path):
    gt.export(_binary_textcat(True), tmp_path / "c.jsonl", task="classification",
              negatives=True)
    assert [(r["id"], r["label"]) for r in rows(tmp_path / "c.jsonl")] == [
        ("0", ["DOCS"]), ("1", [])]


def test_prodigy_textcat_negatives_from_the_cli(tmp_path):
    import subprocess
    import sys

    from tests.conftest import shared_path

    src = shared_path("jsonl", "prodigy_github_issues_textcat.first300.jsonl")
    out = tmp_path / "c.jsonl"
    res = subprocess.run([sys.executable, "-m", "groundtruth", "export", str(src), str(out),
                          "--task", "classification", "--negatives"], capture_output=True,
                         text=True, check=False, timeout=120)
    assert res.returncode == 0, res.stderr
    labels = Counter(r["label"] for r in rows(out))
    assert labels == {"DOCUMENTATION": 103, "not DOCUMENTATION": 170}
