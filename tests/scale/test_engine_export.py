"""`groundtruth.export` on an engine writes the single-process file, byte for byte, and returns
the same report (issues in the same order), on the local engine and on 2 Dask workers."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

import groundtruth as gt
from groundtruth.cli import cli
from groundtruth.engine import EngineError, LocalEngine
from groundtruth.engine.export import export as engine_export
from groundtruth.engine.synthetic import make_dataset
from groundtruth.errors import ConversionError, DataFormatError, DatasetExistsError
from groundtruth.models import (
    AnnotationBase,
    Annotator,
    Candidate,
    Classification,
    ConsensusInfo,
    Item,
    Label,
    LabelSet,
    Message,
    Ranking,
    Span,
    TextAnswer,
    Token,
)

WHO = ("alice", "bob", "carol", "model-v2")


def _tokens(text: str) -> list[Token]:
    out, pos = [], 0
    for word in text.split(" "):
        out.append(Token(start=pos, end=pos + len(word)))
        pos += len(word) + 1
    return out


def _review(needs: bool) -> ConsensusInfo:
    return ConsensusInfo(method="majority", votes={}, agreement=0.5 if needs else 1.0,
                         needs_review=needs, reason="tie" if needs else None)


def rich_dataset(seed: int) -> gt.Dataset:
    """The synthetic dataset plus what every export branch needs: label sets (one multi-label),
    aligned/unaligned/overlapping spans, ties, conversations with candidates and rankings, text
    answers, predictions, rejected work, unknown annotators, consensus annotations (some
    flagged for review, one about a missing item) and splits."""
    rng = random.Random(seed)
    ds = make_dataset(96, 350, seed=seed)
    taxonomy = ds.manifest.taxonomy.model_copy(update={"label_sets": [
        *ds.manifest.taxonomy.label_sets,
        LabelSet(name="sentiment", labels=[Label(name=x) for x in ("pos", "neg", "neu")]),
        LabelSet(name="topics", multi_label=True,
                 labels=[Label(name=x) for x in ("sports", "tech", "art")]),
        LabelSet(name="entities", labels=[Label(name="PER"), Label(name="LOC")])]})
    manifest = ds.manifest.model_copy(update={
        "taxonomy": taxonomy,
        "annotators": [*ds.manifest.annotators, Annotator(id="panel", kind="consensus")]})
    items: list[Item] = []
    for it in ds.items:
        if it.text is not None and int(it.id[2:]) % 8 == 3:
            it = it.model_copy(update={"tokens": _tokens(it.text)})
        items.append(it)
    anns: list[AnnotationBase] = list(ds.annotations)
    n = 0

    def add(cls: type[AnnotationBase], **kw: Any) -> None:
        nonlocal n
        n += 1
        anns.append(cls(id=f"p{n}", **kw))

    texts = [it for it in items if it.text is not None]
    for it in texts:
        who = rng.sample(WHO, rng.randint(1, 4))
        for w in who:
            status = "rejected" if rng.random() < 0.1 else "submitted"
            add(Classification, item_id=it.id, label=rng.choice(("pos", "neg", "neu")),
                label_set="sentiment", annotator=w, status=status)
            for topic in rng.sample(("sports", "tech", "art"), rng.randint(0, 2)):
                add(Classification, item_id=it.id, label=topic, label_set="topics",
                    annotator=w)
            if it.tokens:
                for _ in range(rng.randint(0, 2)):
                    i = rng.randrange(len(it.tokens))
                    j = min(len(it.tokens) - 1, i + rng.randint(0, 2))
                    add(Span, item_id=it.id, start=it.tokens[i].start, end=it.tokens[j].end,
                        label=rng.choice(("PER", "LOC")), label_set="entities", annotator=w)
        if it.tokens and rng.random() < 0.5:  # agreed, but overlapping: one IOB tag wins
            for w in ("alice", "bob"):
                for i, lab in ((0, "PER"), (1, "LOC")):
                    add(Span, item_id=it.id, start=it.tokens[i].start,
                        end=it.tokens[i + 1].end, label=lab, label_set="entities", annotator=w)
                add(Span, item_id=it.id, start=it.tokens[3].start + 1, end=it.tokens[3].end,
                    label="LOC", label_set="entities", annotator=w)  # not on a token start
        if rng.random() < 0.2:  # nobody in particular
            add(Classification, item_id=it.id, label="neu", label_set="sentiment")
        if rng.random() < 0.5:
            add(TextAnswer, item_id=it.id, text=f"answer to {it.id}", annotator=who[0])
        if rng.random() < 0.25:  # an earlier consensus (not in every bucket): resolve=consensus
            add(Classification, item_id=it.id, label=rng.choice(("pos", "neg")),
                label_set="sentiment", annotator="panel", consensus=_review(rng.random() < 0.3))
            if it.tokens:
                add(Span, item_id=it.id, start=it.tokens[0].start, end=it.tokens[0].end,
                    label="PER", label_set="entities", annotator="panel",
                    consensus=_review(rng.random() < 0.3))
    for k in range(30):
        split = ("train", "val", "test")[k % 3]
        kind: Any = "conversation" if k in (4, 5) else "text"  # makes every prompt a conversation
        cands = [Candidate(id=c, text=f"{c}{k}") if kind == "text" else
                 Candidate(id=c, messages=[Message(role="assistant", content=f"{c}{k}")])
                 for c in "abc"]
        item = Item(id=f"chat{k}", kind=kind, split=split, candidates=cands,
                    text=f"question {k}" if kind == "text" else None,
                    messages=[] if kind == "text" else [Message(role="user", content=f"q{k}")])
        if k % 7 == 6:
            item = item.model_copy(update={"candidates": []})  # a plain chat: sft as it is
        items.append(item)
        for w in rng.sample(WHO, rng.randint(0, 3)):
            order = rng.sample("abc", 3)
            add(Ranking, item_id=item.id, ranking=[[c] for c in order], annotator=w,
                status="rejected" if rng.random() < 0.1 else None)
    for k in range(4):  # text without tokens, alone in its split: no token columns
        items.append(Item(id=f"plain{k}", kind="text", text=f"plain text {k}", split="holdout"))
        add(Span, item_id=f"plain{k}", start=0, end=5, label="PER", annotator="carol")
    # about items that do not exist: only the consensus one is reported (needs review)
    add(Classification, item_id="ghost", label="pos", label_set="sentiment", annotator="bob")
    add(Classification, item_id="ghost", label="pos", label_set="sentiment", annotator="panel",
        consensus=_review(True))
    return gt.Dataset(manifest, items, anns)


def tied_label_sets(ds: gt.Dataset) -> gt.Dataset:
    """The two most used classification label sets tied: the first used wins the default."""
    counts = Counter(a.label_set for a in ds.annotations if isinstance(a, Classification))
    (_, a), (second, b) = counts.most_common(2)
    image = next(it for it in ds.items if it.text is None)
    extra = [Classification(id=f"tie{k}", item_id=image.id, label="x", label_set=second)
             for k in range(a - b)]
    return gt.Dataset(ds.manifest, ds.items, [*ds.annotations, *extra])


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("export")
    out = {}
    for name, ds, enc in (("parquet", rich_dataset(1), "parquet"),
                          ("jsonl", rich_dataset(2), "jsonl"),
                          ("tied", tied_label_sets(rich_dataset(3)), "parquet")):
        out[name] = str(root / name)
        gt.save(ds, out[name], encoding=enc, rows_per_part=90)
        assert len(gt.read_manifest(out[name]).parts) >= 8
    return out


@pytest.fixture(scope="module")
def dask_engine() -> Iterator[Any]:
    pytest.importorskip("distributed")
    with gt.engine.get_engine("dask", workers=2) as eng:
        yield eng


@pytest.fixture(params=["local", "dask"])
def engine(request: pytest.FixtureRequest) -> Any:
    if request.param == "local":
        return LocalEngine()
    return request.getfixturevalue("dask_engine")  # one cluster for the whole module


def run(engine: Any, src: str, dst: Path, **kw: Any) -> gt.converters.ConversionReport:
    if engine.name == "local":  # several buckets, so the merge is what is tested
        return engine_export(src, dst, engine=engine, buckets=5, **kw)
    return gt.export(src, dst, engine=engine, **kw)  # the public entry point, 8 buckets


def same(engine: Any, src: str, tmp_path: Path, fmt: str, **kw: Any) -> dict[str, Any]:
    """Export both ways; the bytes, the report and the issues' order must be equal."""
    a, b = tmp_path / f"one.{fmt}", tmp_path / f"engine.{fmt}"
    one = gt.export(src, a, format=fmt, **kw)
    dist = run(engine, src, b, format=fmt, **kw)
    assert a.read_bytes() == b.read_bytes()
    dist.outputs = one.outputs
    assert dist.to_dict() == one.to_dict()
    assert dist.issues == one.issues
    return one.details


CASES = [
    # (store, format, options, issue codes the case must exercise)
    ("parquet", "jsonl", {"task": "classification"}, {"export.no-content", "export.tie"}),
    ("jsonl", "parquet", {"task": "classification", "label_set": "sentiment",
                          "resolve": "first", "include_models": True, "split": "train"},
     {"export.no-label"}),
    ("jsonl", "jsonl", {"task": "classification", "label_set": "topics"}, {"export.tie"}),
    ("parquet", "parquet", {"task": "classification", "label_set": "topics",
                            "split": "val"}, set()),
    ("parquet", "parquet", {"task": "classification", "resolve": "consensus",
                            "label_set": "sentiment"}, {"export.needs-review"}),
    ("tied", "jsonl", {"task": "classification"}, set()),
    ("parquet", "jsonl", {"task": "ner"},
     {"export.span-not-aligned", "export.span-overlap", "export.tie", "export.no-content"}),
    ("jsonl", "parquet", {"task": "ner", "resolve": "first", "skip_empty": True,
                          "include_models": True}, {"export.no-label"}),
    ("parquet", "parquet", {"task": "ner", "split": "test"}, set()),
    ("jsonl", "parquet", {"task": "ner", "split": "holdout"}, set()),
    ("jsonl", "jsonl", {"task": "ner", "resolve": "consensus", "label_set": "entities"},
     {"export.needs-review"}),
    ("parquet", "parquet", {"task": "preference"}, {"export.tie", "export.no-label"}),
    ("jsonl", "parquet", {"task": "preference", "split": "train", "resolve": "first"}, set()),
    ("tied", "jsonl", {"task": "preference", "split": "val"}, set()),
    ("parquet", "jsonl", {"task": "sft"}, {"export.no-content", "export.no-label"}),
    ("jsonl", "parquet", {"task": "sft", "resolve": "first", "include_models": True}, set()),
]


@pytest.mark.parametrize(("store", "fmt", "options", "codes"), CASES,
                         ids=lambda v: "-".join(f"{k}={v[k]}" for k in v)
                         if isinstance(v, dict) else None)
def test_same_file_and_report(stores: dict[str, str], engine: Any, tmp_path: Path, store: str,
                              fmt: str, options: dict[str, Any], codes: set[str]) -> None:
    details = same(engine, stores[store], tmp_path, fmt, **options)
    assert details["rows"] > 0
    assert codes <= set(details["dropped"]), details["dropped"]  # the branch is exercised


def test_shape_decisions_are_dataset_wide(stores: dict[str, str]) -> None:
    """What the cases above rely on: the multi-label, conversational and token columns, the
    tie between label sets, and issues from several parts of the data, not one bucket."""
    tied = gt.load(stores["tied"])
    counts = Counter(a.label_set for a in tied.annotations if isinstance(a, Classification))
    assert len({n for _, n in counts.most_common(2)}) == 1
    ds = gt.load(stores["parquet"])
    assert any(it.tokens for it in ds.items)
    assert not all(it.tokens for it in ds.items if it.text)
    assert {it.kind for it in ds.items if it.split == "train" and it.candidates} == {"text"}
    assert [it.id for it in ds.items if it.kind == "conversation"] == ["chat4", "chat5"]
    assert not any(it.tokens for it in ds.items if it.split == "holdout")


def test_bad_input_same_errors(stores: dict[str, str], engine: Any, tmp_path: Path) -> None:
    src = stores["parquet"]
    cases: list[tuple[dict[str, Any], type[Exception]]] = [
        ({"task": "ner", "split": "dev"}, ConversionError),
        ({"task": "sft", "resolve": "consensus"}, ValueError)]
    for kw, error in cases:
        with pytest.raises(error) as one:
            gt.export(src, tmp_path / "a.jsonl", **kw)
        with pytest.raises(error) as dist:
            run(engine, src, tmp_path / "b.jsonl", **kw)
        assert str(dist.value) == str(one.value)
    gt.export(src, tmp_path / "there.jsonl", task="sft")
    with pytest.raises(DatasetExistsError):
        run(engine, src, tmp_path / "there.jsonl", task="sft")
    run(engine, src, tmp_path / "there.jsonl", task="sft", overwrite=True)


def test_bad_record_is_located(tmp_path: Path, engine: Any) -> None:
    url = tmp_path / "ds"
    gt.save(make_dataset(20, 60, seed=4), url, encoding="jsonl")
    part = url / "annotations.jsonl"
    lines = part.read_bytes().splitlines()
    lines[7] = lines[7].replace(b'"item_id"', b'"item_ix"')
    part.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(DataFormatError) as one:
        gt.export(url, tmp_path / "a.jsonl", task="ner")
    with pytest.raises(DataFormatError) as dist:
        run(engine, str(url), tmp_path / "b.jsonl", task="ner")
    assert dist.value.location == one.value.location
    assert not (tmp_path / "b.jsonl").exists()


def test_refused_when_the_engine_cannot_match(stores: dict[str, str], engine: Any,
                                              tmp_path: Path) -> None:
    # no consensus annotation of the set in the data: it would be computed dataset-wide
    with pytest.raises(EngineError, match="consensus") as exc:
        run(engine, stores["parquet"], tmp_path / "c.jsonl", task="classification",
            resolve="consensus", label_set="topics")
    assert "gt consensus" in (exc.value.hint or "")
    assert not (tmp_path / "c.jsonl").exists()
    with pytest.raises(EngineError, match="in memory"):
        gt.export(make_dataset(5, 10), tmp_path / "m.jsonl", task="ner", engine=engine)
    foreign = tmp_path / "x.jsonl"
    foreign.write_bytes(orjson.dumps({"text": "hi", "label": "a"}) + b"\n")
    with pytest.raises(EngineError, match="native"):
        gt.export(foreign, tmp_path / "f.jsonl", task="classification", engine=engine)


def test_cli_engine_equals_plain(stores: dict[str, str], tmp_path: Path, dask_engine: Any,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    src = stores["parquet"]
    plain, dist = tmp_path / "plain.parquet", tmp_path / "dask.parquet"
    runner = CliRunner()
    args = ["export", src, "--task", "ner", "--report", "json"]
    r1 = runner.invoke(cli, [*args[:2], str(plain), *args[2:]])
    assert r1.exit_code == 0, r1.output
    # the command joins the module's cluster rather than starting a second one
    monkeypatch.setenv("GROUNDTRUTH_DASK_ADDRESS", dask_engine.client.scheduler.address)
    r2 = runner.invoke(cli, [*args[:2], str(dist), *args[2:], "--engine", "dask"])
    assert r2.exit_code == 0, r2.output
    assert plain.read_bytes() == dist.read_bytes()
    one, other = orjson.loads(r1.output), orjson.loads(r2.output)
    one.pop("outputs"), other.pop("outputs")
    assert one == other
    r3 = runner.invoke(cli, ["export", src, str(tmp_path / "w.jsonl"), "--task", "ner",
                             "--workers", "2"])
    assert r3.exit_code == 2
    assert "--engine" in r3.output
