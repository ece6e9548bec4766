"""`gt card`: the card's header lets Hugging Face `datasets` read the folder, offline."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import groundtruth as gt
from groundtruth.models import Annotator, Label, LabelSet, Manifest, Taxonomy
from groundtruth.publish import dataset_card, hf_license, size_category
from tests.helpers import all_examples

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "groundtruth", *args], capture_output=True,
                          text=True, timeout=180, check=False)


def header(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n", 2)[1])


def load_hf(folder: Path, cache: Path, config: str | None = None):
    datasets = pytest.importorskip("datasets")
    return datasets.load_dataset(str(folder), config, cache_dir=str(cache))["full"]


@pytest.fixture
def reviews_pq(tmp_path):
    ds = gt.load(EXAMPLES / "reviews")
    gt.save(ds, tmp_path / "reviews", encoding="parquet")
    return tmp_path / "reviews"


def test_datasets_loads_the_folder_with_the_card(reviews_pq, tmp_path):
    res = run("card", str(reviews_pq))
    assert res.returncode == 0, res.stderr
    card = (reviews_pq / "README.md").read_text()
    head = header(card)
    assert head["license"] == "cc-by-4.0"
    assert head["task_categories"] == ["text-classification"]
    assert head["size_categories"] == ["n<1K"]
    ours = gt.load(reviews_pq)
    anns = load_hf(reviews_pq, tmp_path / "hf")
    items = load_hf(reviews_pq, tmp_path / "hf", "items")
    assert anns.num_rows == len(ours.annotations) == 36
    assert items.num_rows == len(ours.items) == 12
    by_id = {a.id: a for a in ours.annotations}
    for row in anns:
        a = by_id[row["id"]]
        assert (row["item_id"], row["label"], row["annotator"]) == (a.item_id, a.label, a.annotator)
    assert sorted(items["split"]) == sorted(it.split for it in ours.items)
    # the body: taxonomy with per-label counts, annotators, agreement from groundtruth.quality
    report = gt.agreement(ours, "sentiment")
    assert f"percent agreement {report['percent_agreement']['value']:.3f}" in card
    assert "| pos | the writer is pleased |  | 15 |" in card
    assert "| rater\\-c | human | Acme Labeling | senior reviewer |  | 12 |" in card


def test_every_annotation_type_loads_and_map_columns_are_named(tmp_path):
    """Maps (token attributes, rating scores, consensus votes) have no `datasets` type: the
    card's configs leave those columns out, say so, and every other column loads as written."""
    ds = all_examples()
    gt.save(ds, tmp_path / "all", encoding="parquet")
    card = dataset_card(str(tmp_path / "all"))
    cfg = {c["config_name"]: c for c in card.header["configs"]}
    assert "scores" not in cfg["annotations"]["columns"]
    assert "tokens" not in cfg["items"]["columns"]
    assert "bbox" in cfg["annotations"]["columns"]
    assert "`` tokens ``" in card.text or " tokens " in card.text
    (tmp_path / "all" / "README.md").write_text(card.text)
    anns = load_hf(tmp_path / "all", tmp_path / "hf")
    assert anns.num_rows == len(ds.annotations)
    want = {a.id: a for a in ds.annotations}
    boxes = [r for r in anns if r["type"] == "bbox"]
    assert boxes
    for row in boxes:
        assert row["bbox"] == pytest.approx(want[row["id"]].bbox)  # type: ignore[attr-defined]
    spans = [r for r in anns if r["type"] == "span"]
    for row in spans:
        assert (row["start"], row["end"]) == (want[row["id"]].start, want[row["id"]].end)  # type: ignore[attr-defined]
    kinds = set(card.header["task_categories"])
    assert {"object-detection", "token-classification", "image-segmentation"} <= kinds


def test_jsonl_dataset_card_points_at_jsonl_parts(tmp_path):
    ds = gt.load(EXAMPLES / "reviews")
    gt.save(ds, tmp_path / "r")
    card = dataset_card(str(tmp_path / "r"))
    cfg = {c["config_name"]: c for c in card.header["configs"]}
    assert cfg["annotations"]["data_files"] == [{"split": "full", "path": ["annotations.jsonl"]}]
    assert "dataset_info" not in card.header
    assert card.notes
    (tmp_path / "r" / "README.md").write_text(card.text)
    assert load_hf(tmp_path / "r", tmp_path / "hf").num_rows == 36


def test_strings_from_the_dataset_are_inert(tmp_path):
    ds = gt.load(EXAMPLES / "reviews")
    evil = "<img src=x onerror=alert(1)> @org/team | x"
    sets = [LabelSet(name="sentiment", labels=[
        Label(name=lb.name, description=evil if lb.name == "pos" else lb.description)
        for lb in ds.manifest.taxonomy.label_sets[0].labels])]
    ds.manifest = ds.manifest.model_copy(update={
        "taxonomy": Taxonomy(label_sets=sets),
        "annotators": [*ds.manifest.annotators, Annotator(id="bot", kind="model",
                                                          model_name="[click](http://x)")]})
    gt.save(ds, tmp_path / "e", encoding="parquet")
    text = dataset_card(str(tmp_path / "e")).text
    assert "\\<img src\\=x" in text
    assert "\\@\u2060org" in text
    assert "<img" not in text.replace("\\<img", "")
    assert "](http" not in text
    assert "@org" not in text
    row = next(line for line in text.splitlines() if line.startswith("| pos |"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 5  # the `|` in the text opened no cell


def test_header_helpers():
    assert size_category(999) == "n<1K"
    assert size_category(1000) == "1K<n<10K"
    assert size_category(2_000_000_000) == "n>1B"
    assert hf_license("MIT") == {"license": "mit"}
    assert hf_license("LicenseRef-internal")["license"] == "other"
    assert hf_license(None) == {"license": "unknown"}


def test_cli_guards(reviews_pq, tmp_path):
    (reviews_pq / "README.md").write_text("mine\n")
    res = run("card", str(reviews_pq))
    assert res.returncode == 2
    assert "already exists" in res.stderr
    assert (reviews_pq / "README.md").read_text() == "mine\n"
    assert run("card", str(reviews_pq), "--overwrite").returncode == 0
    assert header((reviews_pq / "README.md").read_text())["pretty_name"]
    res = run("card", str(EXAMPLES / "delivery" / "instances_v1.json"), "--output", "-")
    assert res.returncode == 2
    assert "gt convert" in res.stderr
    assert "Traceback" not in res.stderr
    res = run("card", str(reviews_pq), "--output", "-")
    assert res.returncode == 0
    assert res.stdout.startswith("---\nlicense: cc-by-4.0")


def test_manifest_without_taxonomy_or_annotators(tmp_path):
    ds = gt.load(EXAMPLES / "reviews")
    ds.manifest = Manifest(name="bare")
    ds.annotations = []
    gt.save(ds, tmp_path / "b", encoding="parquet")
    card = dataset_card(str(tmp_path / "b"))
    assert card.header["license"] == "unknown"
    assert "task_categories" not in card.header
    assert "declares no label sets" in card.text
    assert "no agreement figures" in card.text


def test_card_lineage_is_the_changelog(tmp_path):
    from groundtruth.publish import croissant

    coco = EXAMPLES / "delivery" / "instances_v1.json"
    assert run("convert", str(coco), str(tmp_path / "v1"), "-m", "vendor delivery").returncode == 0
    v1 = gt.load(tmp_path / "v1")
    v1.annotations = v1.annotations[1:]
    gt.save(v1, tmp_path / "v2", encoding="parquet", message="one box removed")
    text = dataset_card(str(tmp_path / "v2")).text
    lineage = text.split("## Lineage", 1)[1].split("## Loading", 1)[0]
    assert lineage.index("one box removed") < lineage.index("vendor delivery")
    assert "a coco file" in lineage
    doc, _ = croissant(str(tmp_path / "v2"))
    assert "made by save: one box removed" in doc["rai:dataCollection"]
    assert "from coco file" in doc["rai:dataCollection"]
