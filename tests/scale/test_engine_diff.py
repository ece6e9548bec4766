"""`groundtruth.diff` on an engine gives exactly the single-process diff, on local and Dask."""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

import groundtruth as gt
import groundtruth.engine as gte
from groundtruth.cli import cli
from groundtruth.dataset import natural_key
from groundtruth.engine import diff as engine_diff
from groundtruth.engine.synthetic import make_dataset, manifest
from groundtruth.models import AnnotationBase, Item, annotation_adapter

pytest.importorskip("distributed")


@pytest.fixture(scope="module", params=["local", "dask"])
def engine(request: pytest.FixtureRequest) -> Iterator[Any]:
    with gte.get_engine(request.param, workers=2) as eng:
        yield eng


def _edit(a: AnnotationBase, **update: Any) -> AnnotationBase:
    return annotation_adapter.validate_python({**a.to_json_dict(), **update})


def _edited(ds: gt.Dataset) -> gt.Dataset:
    """A new version with one of every kind of change the diff merges across buckets."""
    items = list(ds.items)
    anns = list(ds.annotations)
    by_type: dict[str, list[int]] = {}
    for k, a in enumerate(anns):
        by_type.setdefault(a.type, []).append(k)  # type: ignore[attr-defined]
    for k in by_type["bbox"][:40]:  # geometry: scores whose mean is summed in order
        x, y, w, h = anns[k].bbox  # type: ignore[attr-defined]
        anns[k] = _edit(anns[k], bbox=[x + k % 7, y, w, h + 1.5])
    for k in by_type["classification"][:30]:  # labels, incl. one only the new side has
        anns[k] = _edit(anns[k], label="zebra" if k % 3 == 0 else "truck")
    for k in by_type["span"][:10]:
        anns[k] = _edit(anns[k], status="rejected")
    moved = by_type["polygon"][:6]  # same id on another item: settled across buckets
    for k in moved:
        anns[k] = _edit(anns[k], item_id=items[(int(anns[k].item_id[2:]) + 17) % 80].id)
    dup = by_type["rating"][0]  # an id twice on one item
    anns.append(_edit(anns[dup], value=1.0))
    removed = set(by_type["keypoints"][:25])
    anns = [a for k, a in enumerate(anns) if k not in removed]
    anns += [_edit(ds.annotations[k], id=f"new{k}", label="bus")
             for k in by_type["mask"][:25]]
    anns.append(_edit(ds.annotations[by_type["bbox"][50]], id="ghost-a", item_id="ghost"))
    for k in range(0, 60, 9):  # item changes: metadata, split
        it = items[k]
        if it.kind == "image":
            items[k] = it.model_copy(update={"metadata": {"camera": "side"}})
        else:
            items[k] = it.model_copy(update={"split": "val"})
    items[4] = Item(id=items[4].id, kind="text", text="now a text")  # kind changed
    del items[10:13]  # items removed (their annotations stay: they point at nothing)
    items.append(Item(id="it999", kind="text", text="a new item"))
    return gt.Dataset(ds.manifest, items, anns)


def _renumbered(ds: gt.Dataset) -> gt.Dataset:
    """Annotation ids not stable: `auto` matches by content."""
    rng = random.Random(4)
    anns = []
    for k, a in enumerate(ds.annotations):
        if k % 11 == 0:
            continue
        update: dict[str, Any] = {"id": f"r{k * 7 % 1009}-{k}"}
        if a.type == "bbox" and k % 2:  # type: ignore[attr-defined]
            x, y, w, h = a.bbox  # type: ignore[attr-defined]
            update["bbox"] = [x + rng.uniform(0, 3), y, w, h]
        anns.append(_edit(a, **update))
    return gt.Dataset(ds.manifest, ds.items, anns)


def _numeric(ds: gt.Dataset, pad: bool) -> gt.Dataset:
    """Items named by numbers; `pad`: some written zero-padded (`0012`), which the natural
    order cannot tell from `12`: one process pairs them as one item."""
    def name(item_id: str) -> str:
        if not item_id[2:].isdigit():
            return item_id
        n = int(item_id[2:])
        return f"{n:04d}" if pad and n % 5 == 0 else str(n)

    items = [it.model_copy(update={"id": name(it.id)}) for it in ds.items]
    anns = [a.model_copy(update={"item_id": name(a.item_id)}) for a in ds.annotations]
    return gt.Dataset(ds.manifest, items, anns)


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))


def _handmade(root: Path, ds: gt.Dataset, parts: int, seed: int, empty: bool = False) -> str:
    """A hand-made dataset (no parts listed, no fingerprint): records shuffled over parts, an
    item id twice (`it7`), optionally an empty record (`{}`): one process reads it whole."""
    rng = random.Random(seed)
    items = [it.to_json_dict() for it in ds.items]
    items.append({**items[7], "metadata": {"camera": "copy"}})  # same id, second record
    anns = [a.to_json_dict() for a in ds.annotations]
    rng.shuffle(items)
    rng.shuffle(anns)
    for kind, records in (("items", items), ("annotations", anns)):
        size = -(-len(records) // parts)
        for p in range(parts):
            chunk = records[p * size:(p + 1) * size]
            _write_jsonl(root / kind / f"part-{p:05d}.jsonl", chunk)
    if empty:
        with (root / "annotations" / "part-00001.jsonl").open("ab") as f:
            f.write(b"{}\n")
    (root / "groundtruth.json").write_bytes(orjson.dumps(manifest("handmade").to_json_dict()))
    return str(root)


def _sorted_parts(root: Path, ds: gt.Dataset, item_cuts: list[int], ann_parts: int,
                  reverse: bool = False) -> str:
    """A hand-made dataset, sorted within each part; item parts cut at `item_cuts`,
    `reverse`: annotation parts read last to first (each sorted, their sequence not)."""
    items = sorted((it.to_json_dict() for it in ds.items), key=lambda d: natural_key(d["id"]))
    anns = sorted((a.to_json_dict() for a in ds.annotations),
                  key=lambda d: natural_key(d["item_id"]))
    bounds = [0, *item_cuts, len(items)]
    for p in range(len(bounds) - 1):
        _write_jsonl(root / "items" / f"part-{p:05d}.jsonl", items[bounds[p]:bounds[p + 1]])
    size = -(-len(anns) // ann_parts)
    for p in range(ann_parts):
        name = ann_parts - 1 - p if reverse else p
        _write_jsonl(root / "annotations" / f"part-{name:05d}.jsonl",
                     anns[p * size:(p + 1) * size])
    (root / "groundtruth.json").write_bytes(orjson.dumps(manifest("parts").to_json_dict()))
    return str(root)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, str]]:
    root = tmp_path_factory.mktemp("engine-diff")
    base = make_dataset(80, 1200, seed=3)
    out: dict[str, tuple[str, str]] = {}

    def save(name: str, ds: gt.Dataset, encoding: str, rows: int) -> str:
        gt.save(ds, root / name, encoding=encoding, rows_per_part=rows)
        return str(root / name)

    old = save("old", base, "parquet", 150)
    out["edited"] = (old, save("edited", _edited(base), "jsonl", 200))
    out["renumbered"] = (old, save("renumbered", _renumbered(base), "parquet", 300))
    out["numeric"] = (save("num-old", _numeric(base, False), "jsonl", 250),
                      save("num-new", _numeric(_edited(base), True), "parquet", 250))
    twice = _edited(base)  # sorted, but an item id twice (next to each other): not streamed
    twice.items.append(twice.items[20].model_copy(update={"metadata": {"camera": "copy"}}))
    out["item-twice"] = (old, save("item-twice", twice, "parquet", 200))
    # each part in order, the parts not: an item id on both sides of a part boundary; the
    # annotation parts read in reverse
    ids = sorted((it.id for it in twice.items), key=natural_key)
    out["straddle"] = (old, _sorted_parts(root / "straddle", twice,
                                          [ids.index(twice.items[20].id) + 1], 3))
    out["reversed"] = (old, _sorted_parts(root / "reversed", _edited(base), [40], 5,
                                          reverse=True))
    hand = make_dataset(50, 500, seed=8)
    # one process names the second `it7` `it7'` (and this one `it7''`, or the other way round)
    hand.items.append(Item(id="it7'", kind="text", text="named like a renamed duplicate"))
    hand_new = gt.Dataset(hand.manifest, hand.items,
                          [_edit(a, label="dog") if k % 13 == 0 else a
                           for k, a in enumerate(hand.annotations) if k % 17])
    out["unsorted"] = (_handmade(root / "hand-old", hand, 3, seed=1),
                       _handmade(root / "hand-new", hand_new, 4, seed=2, empty=True))
    return out


CASES = [
    ("edited", {}),
    ("edited", {"max_changes": 7}),
    ("edited", {"label_map": {"car": "automobile"}, "ignore": ("created", "status")}),
    ("edited", {"match_by": "content"}),
    ("renumbered", {}),
    ("numeric", {}),
    ("item-twice", {}),
    ("straddle", {}),
    ("reversed", {}),
    ("unsorted", {}),
    ("unsorted", {"match_by": "id", "max_changes": 3}),
]


@pytest.mark.parametrize(("pair", "options"), CASES,
                         ids=[f"{p}-{'-'.join(o) or 'default'}" for p, o in CASES])
def test_same_diff_as_single_process(pairs: dict[str, tuple[str, str]], engine: Any,
                                     pair: str, options: dict[str, Any]) -> None:
    old, new = pairs[pair]
    ref = gt.diff(old, new, **options)
    got = gt.diff(old, new, engine=engine, **options)
    assert got.to_dict() == ref.to_dict()
    assert got.render("text") == ref.render("text")
    assert got.render("markdown") == ref.render("markdown")
    assert got.item_changes.raw == ref.item_changes.raw  # byte for byte, in order
    assert got.annotation_changes.raw == ref.annotation_changes.raw


def test_the_cases_exercise_every_merged_part(pairs: dict[str, tuple[str, str]]) -> None:
    """The pairs above really hold what the merge must get right (not vacuous)."""
    edited = gt.diff(*pairs["edited"])
    s = edited.summary
    assert edited.match_by["method"] == "id"
    assert edited.match_by["streamed"]
    codes = {i.code for i in edited.issues}
    assert {"diff.taxonomy-changed", "diff.duplicate-id", "diff.item-kind-changed"} <= codes
    assert s["annotations"]["geometry"]["changed"] >= 40
    assert s["annotations"]["by_change"]["item"] == 6  # moved across items (and buckets)
    assert all(s[kind][change] for kind in ("items", "annotations")
               for change in ("added", "removed", "changed"))
    assert any(c["item_id"] == "ghost" for c in edited.item_changes)
    buckets = {engine_diff.item_bucket(c["item_id"], 4) for c in edited.annotation_changes}
    assert len(buckets) == 4  # changes from every bucket: a lost one or a wrong order shows
    assert gt.diff(*pairs["edited"], max_changes=7).truncated
    renumbered = gt.diff(*pairs["renumbered"])
    assert renumbered.match_by["method"] == "content"
    assert renumbered.issues[0].code == "diff.ids-renumbered"
    numeric = gt.diff(*pairs["numeric"])
    assert any(c.get("old_id") for c in numeric.item_changes)  # `15` paired with `0015`
    for name in ("item-twice", "straddle", "reversed"):
        assert gt.diff(*pairs[name]).match_by["streamed"] is False
    unsorted = gt.diff(*pairs["unsorted"])
    assert unsorted.match_by["streamed"] is False
    assert unsorted.match_by["stable_share"] < 1  # the `{}` record's key counts
    assert unsorted.old["fingerprint"]
    assert unsorted.old["annotations"] == 500
    # `it7`, its duplicate and `it7'` paired by the names one process gives them
    assert sum(c["item_id"].startswith("it7") and "id" in c["kinds"]
               for c in unsorted.item_changes) == 2
    for n in (4, 8):  # renamed duplicates must be routed with their item
        assert len({zlib.crc32(k.encode()) % n for k in ("it7", "it7'", "it7''")}) > 1


def _box(aid: str, item: str, label: str, at: float = 0.0) -> AnnotationBase:
    return annotation_adapter.validate_python(
        {"id": aid, "item_id": item, "type": "bbox", "bbox": [at, at, 10, 10], "label": label})


def test_confusion_ties_keep_single_process_order(engine: Any, tmp_path: Path) -> None:
    """`None -> x` (an addition) and `"None" -> x` (a relabel) sort alike: the one seen first
    (on the item first in id order, here in a later bucket) comes first, as in one process."""
    names = [f"t{i:02d}" for i in range(100)]
    first, second = next((a, b) for a in names for b in names if a < b and all(
        engine_diff.item_bucket(a, n) > engine_diff.item_bucket(b, n) for n in (4, 8)))
    items = [Item(id=i, kind="image", uri=f"{i}.jpg", width=50, height=50)
             for i in (first, second, *names[90:96])]
    old = [_box("p", first, "x"), _box("q", second, "None")]
    new = [_box("p2", first, "x"), _box("n1", first, "x", at=30), _box("q2", second, "x")]
    for name, anns in (("old", old), ("new", new)):
        gt.save(gt.Dataset(manifest(), items, anns), tmp_path / name, encoding="jsonl",
                rows_per_part=1)
    ref = gt.diff(tmp_path / "old", tmp_path / "new", match_by="content")
    got = gt.diff(tmp_path / "old", tmp_path / "new", match_by="content", engine=engine)
    assert [(c["old"], c["new"]) for c in ref.summary["confusion"][:2]] == [(None, "x"),
                                                                           ("None", "x")]
    assert got.to_dict() == ref.to_dict()


def test_a_wrong_merge_is_seen(pairs: dict[str, tuple[str, str]],
                               monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = pairs["edited"]
    ref = gt.diff(old, new).to_dict()
    real = engine_diff._merge
    monkeypatch.setattr(engine_diff, "_merge", lambda parts, *a: real(parts[:-1], *a))
    assert gt.diff(old, new, engine="local").to_dict() != ref  # a bucket lost
    monkeypatch.setattr(engine_diff, "_merge", lambda parts, *a: real(parts[::-1], *a))
    monkeypatch.setattr(engine_diff.heapq, "merge", lambda *runs, key: [s for r in runs
                                                                       for s in r])
    assert gt.diff(old, new, engine="local").to_dict() != ref  # buckets merged in turn


def test_bad_record_is_the_same_error(engine: Any, tmp_path: Path) -> None:
    ds = make_dataset(20, 100, seed=1)
    gt.save(ds, tmp_path / "a", encoding="jsonl")
    root = Path(_handmade(tmp_path / "b", ds, 2, seed=0))
    part = root / "annotations" / "part-00000.jsonl"
    lines = part.read_bytes().splitlines()
    lines[3] = lines[3].replace(b'"item_id"', b'"item_ix"')
    part.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(gt.errors.DataFormatError) as single:
        gt.diff(tmp_path / "a", root, match_by="id")
    with pytest.raises(gt.errors.DataFormatError) as dist:
        gt.diff(tmp_path / "a", root, engine=engine)
    assert str(dist.value) == str(single.value)
    assert "part-00000.jsonl" in str(dist.value)


def test_refusals(pairs: dict[str, tuple[str, str]], tmp_path: Path) -> None:
    old, new = pairs["edited"]
    with pytest.raises(gt.GroundtruthError, match="item_key") as err:
        gt.diff(old, new, item_key="uri", engine="local")
    assert "without an engine" in (err.value.hint or "")
    with pytest.raises(gt.GroundtruthError, match="in memory"):
        gt.diff(gt.load(old), new, engine="local")
    coco = tmp_path / "old.json"
    gt.convert(old, coco, to_format="coco")
    with pytest.raises(gt.GroundtruthError, match="coco format") as err:
        gt.diff(coco, new, engine="local")
    assert "gt convert" in (err.value.hint or "")
    with pytest.raises(gt.GroundtruthError, match="workers"):
        gt.diff(old, new, workers=2)


def test_cli_engine_output_is_the_same(pairs: dict[str, tuple[str, str]], engine: Any,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = pairs["edited"]
    args = ["diff", old, new, "--format", "json", "--fail-on", "removed-items>100"]
    extra = ["--engine", engine.name]
    if engine.name == "dask":  # the module's cluster, not a second one
        monkeypatch.setenv("GROUNDTRUTH_DASK_ADDRESS", engine.client.scheduler.address)
        extra += ["--workers", "2"]
    runner = CliRunner()
    plain, spread = runner.invoke(cli, args), runner.invoke(cli, [*args, *extra])
    assert plain.exit_code == spread.exit_code == 0, spread.output
    assert spread.output == plain.output
    md = ["diff", old, new, "--format", "markdown"]
    assert runner.invoke(cli, [*md, *extra]).output == runner.invoke(cli, md).output


def test_cli_refusals(pairs: dict[str, tuple[str, str]]) -> None:
    old, new = pairs["edited"]
    result = CliRunner().invoke(cli, ["diff", old, new, "--workers", "2"])
    assert result.exit_code == 2
    assert "--engine" in result.output


def test_urls_and_zips(pairs: dict[str, tuple[str, str]], engine: Any, tmp_path: Path) -> None:
    old, new = pairs["edited"]
    zipped = str(tmp_path / "old.zip")
    gt.save(gt.load(old), zipped, encoding="parquet", rows_per_part=300)
    ref = gt.diff(zipped, new).to_dict()
    if engine.name == "dask":  # one open zip file cannot be read from several processes
        with pytest.raises(gte.EngineError, match="zipped"):
            gt.diff(zipped, new, engine=engine)
        return
    assert gt.diff(zipped, new, engine=engine).to_dict() == ref
    url = f"memory://engine-diff-{tmp_path.name}/new"  # a URL (in this process only)
    gt.save(gt.load(new), url, encoding="jsonl", rows_per_part=300)
    assert gt.diff(zipped, url, engine=engine).to_dict() == gt.diff(zipped, url).to_dict()
