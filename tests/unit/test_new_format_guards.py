"""The YOLO, VOC and CVAT converters under issue 13's guarantees: typed options (a wrong name
or type is a usage error naming the option, its type and the valid keys), described options
(type, default, help for `gt formats`), writes that never leave the output folder whatever the
item ids, image paths, split or label names say, never replace a file or a foreign folder, and
never copy local files a stranger's dataset points at."""

from __future__ import annotations

from pathlib import Path

import pytest

import groundtruth as gt
from groundtruth import converters
from groundtruth.cli import main
from groundtruth.converters._options import Option, describe
from groundtruth.dataset import Dataset
from groundtruth.errors import DatasetExistsError, UnknownOptionError
from groundtruth.models import (
    BBox,
    Classification,
    Item,
    Label,
    LabelSet,
    Manifest,
    Taxonomy,
)

FORMATS = ("yolo", "voc", "cvat")
# ids and paths a stranger's dataset may hold, to write outside the output folder
EVIL = ["../../escaped", "/tmp/abs-escaped", "a/../../escaped2", "nul\x00byte", "..", "ok"]


def _boxes(ids: list[str], *, split: str | None = None, label: str = "cat",
           uri: str | None = None) -> Dataset:
    items = [Item(id=i, kind="image", uri=uri or f"{i}.jpg", width=100, height=80, split=split)
             for i in ids]
    anns = [BBox(id=f"b{k}", item_id=i, label=label, bbox=[10, 10, 20, 20])
            for k, i in enumerate(ids)]
    tax = Taxonomy(label_sets=[LabelSet(name="classes", labels=[Label(name=label)])])
    return Dataset(Manifest(name="evil", taxonomy=tax), items, anns)


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


# -- options ---------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_option_specs_are_described(fmt: str) -> None:
    conv = converters.get(fmt)
    for spec in (conv.read_options, conv.write_options):
        assert spec
        for name, opt in spec.items():
            assert isinstance(opt, Option), name
            assert opt.help, name
            assert "\n" not in opt.help, name
            assert opt.type_name
            assert opt.default is None or isinstance(opt.default, opt.types), name
        rows = describe(spec)
        assert [r["name"] for r in rows] == sorted(spec)
        assert all(set(r) == {"name", "type", "default", "help", "choices"} for r in rows)


@pytest.mark.parametrize(("fmt", "direction", "key", "value", "expected"), [
    ("yolo", "reading", "task", 5, "must be a string, not an integer"),
    ("yolo", "reading", "task", "banana", "is not one of detect, segment"),
    ("yolo", "writing", "precision", "high", "must be an integer, not a string"),
    ("yolo", "writing", "kpt_dim", 4, "is not one of 2, 3"),
    ("yolo", "writing", "confidence", "yes", "must be true or false"),
    ("voc", "reading", "label_set", [1], "must be a string, not a list"),
    ("voc", "writing", "shape_boxes", 1, "must be true or false, not an integer"),
    ("cvat", "reading", "frames", "some", "is not one of all, keyframes"),
    ("cvat", "writing", "layout", {"a": 1}, "must be a string, not an object"),
])
def test_wrong_option_types_are_usage_errors(fmt: str, direction: str, key: str, value: object,
                                             expected: str, tmp_path: Path) -> None:
    conv = converters.get(fmt)
    spec = conv.read_options if direction == "reading" else conv.write_options
    if direction == "reading":
        with pytest.raises(UnknownOptionError) as err:
            conv.read(str(tmp_path / "x.xml"), **{key: value})
    else:
        with pytest.raises(UnknownOptionError) as err:
            conv.write(_boxes(["a"]), str(tmp_path / "out.xml"), **{key: value})
    message = str(err.value)
    assert f"{direction} option {key}=" in message
    assert expected in message
    assert ", ".join(sorted(spec)) in message  # the valid keys
    assert not (tmp_path / "out.xml").exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_option_names_the_valid_ones(fmt: str, tmp_path: Path) -> None:
    with pytest.raises(UnknownOptionError, match=f"unknown writing option.*{fmt}: colour"):
        converters.get(fmt).write(_boxes(["a"]), str(tmp_path / "o"), colour="red")


def test_cli_wrong_option_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "ds"
    gt.save(_boxes(["a"]), src)
    with pytest.raises(SystemExit) as exit_:
        main(["convert", str(src), str(tmp_path / "o"), "--to", "yolo", "-w", "precision=[1]"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "precision=[1] for yolo must be an integer, not a list" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


# -- file names from data ---------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["yolo", "voc"])
def test_ids_never_write_outside_the_output(fmt: str, tmp_path: Path) -> None:
    out = tmp_path / "deep" / "out"
    report = converters.get(fmt).write(_boxes(EVIL, split="../../split-escaped",
                                              label="../../label-escaped"), str(out))
    inside = {str(p) for p in tmp_path.rglob("*")}
    assert all(p.startswith(str(out)) or p == str(tmp_path / "deep") for p in inside), inside
    assert not Path("/tmp/abs-escaped.txt").exists()
    assert not Path("/tmp/abs-escaped.xml").exists()
    assert any(i.code == f"{fmt}.export.renamed" for i in report.issues)
    assert not any("\x00" in name for name in _files(out))
    back = converters.get(fmt).read(str(out))
    assert len(back.items) == len(EVIL)  # every item is written, under a safe name


def test_yolo_image_paths_never_write_outside(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ds = _boxes(["a", "b", "c"])
    ds.items[0] = ds.items[0].model_copy(update={"uri": "../../../../escaped.jpg"})
    ds.items[1] = ds.items[1].model_copy(update={"uri": "images/train/../../../x\x00.jpg"})
    report = converters.get("yolo").write(ds, str(out), layout="ultralytics")
    assert {str(p.relative_to(tmp_path)).split("/")[0] for p in tmp_path.rglob("*")} == {"out"}
    renamed = [i for i in report.issues if i.code == "yolo.export.renamed"]
    assert len(renamed) == 2
    assert all(f.startswith(("labels/", "data.yaml", "image_sizes.json")) for f in _files(out))


def test_yolo_classify_never_copies_local_files_it_is_pointed_at(tmp_path: Path) -> None:
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"\xff\xd8\xff secret")
    media = tmp_path / "media"
    media.mkdir()
    (media / "good.jpg").write_bytes(b"\xff\xd8\xff good")
    (media / "link.jpg").symlink_to(secret)
    uris = [str(secret), "../secret.jpg", f"file://{secret}", "link.jpg", "good.jpg"]
    items = [Item(id=f"i{k}", kind="image", uri=u) for k, u in enumerate(uris)]
    anns = [Classification(id=f"c{k}", item_id=f"i{k}", label="cat") for k in range(len(uris))]
    ds = Dataset(Manifest(name="c"), items, anns)
    out = tmp_path / "out"
    report = converters.get("yolo").write(ds, str(out), task="classify", media_root=str(media))
    copied = [p.read_bytes() for p in out.rglob("*.jpg")]
    assert copied == [b"\xff\xd8\xff good"]
    missing = [i for i in report.issues if i.code == "yolo.export.media-missing"]
    assert len(missing) == 4


# -- no silent replace --------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_no_replace_without_overwrite_and_never_a_foreign_target(fmt: str, tmp_path: Path
                                                                 ) -> None:
    conv = converters.get(fmt)
    target = tmp_path / ("out.xml" if fmt == "cvat" else "out")
    conv.write(_boxes(["a"]), str(target))
    before = _files(target) if target.is_dir() else {target.read_bytes()}
    with pytest.raises(DatasetExistsError):
        conv.write(_boxes(["a", "b"]), str(target))
    assert (_files(target) if target.is_dir() else {target.read_bytes()}) == before
    conv.write(_boxes(["a", "b"]), str(target), overwrite=True)  # the same kind: replaced
    assert len(conv.read(str(target)).items) == 2
    if fmt != "cvat":  # a folder format never replaces a plain file or a foreign folder
        plain = tmp_path / "plain"
        plain.write_text("keep")
        foreign = tmp_path / "foreign"
        foreign.mkdir()
        (foreign / "notes.txt").write_text("keep")
        for dst in (plain, foreign):
            with pytest.raises(DatasetExistsError):
                conv.write(_boxes(["a"]), str(dst), overwrite=True)
        assert plain.read_text() == "keep"
        assert (foreign / "notes.txt").read_text() == "keep"
    else:  # a file format never replaces a folder
        folder = tmp_path / "folder.xml"
        folder.mkdir()
        with pytest.raises(DatasetExistsError):
            conv.write(_boxes(["a"]), str(folder), overwrite=True)
        assert folder.is_dir()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no stage left


@pytest.mark.parametrize("fmt", ["yolo", "voc", "cvat"])
def test_convert_never_replaces_its_input(fmt: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / ("in.xml" if fmt == "cvat" else "in")
    converters.get(fmt).write(_boxes(["a"]), str(src))
    before = _files(src) if src.is_dir() else {src.read_bytes()}
    with pytest.raises(SystemExit) as exit_:
        main(["convert", str(src), str(src), "--from", fmt, "--to", fmt, "--overwrite"])
    assert exit_.value.code == 2
    assert "is the input" in capsys.readouterr().err
    assert (_files(src) if src.is_dir() else {src.read_bytes()}) == before


@pytest.mark.parametrize("fmt", ["yolo", "voc"])
def test_cli_reads_a_folder_format_and_missing_paths_exit_2(
        fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in"
    converters.get(fmt).write(_boxes(["a"]), str(src))
    for args in (["validate", str(src)], ["validate", str(src), "--from", fmt]):
        with pytest.raises(SystemExit) as exit_:
            main(args)
        assert exit_.value.code == 0, capsys.readouterr()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["validate", str(tmp_path / "missing"), "--from", fmt])
    assert exit_.value.code == 2
    assert "nothing at" in capsys.readouterr().err


# -- what the fuzz test found, pinned -----------------------------------------------------------
def test_yolo_list_entries_outside_the_dataset_are_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "labels").mkdir(parents=True)
    (outside / "labels" / "secret.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    root = tmp_path / "ds"
    (root / "labels").mkdir(parents=True)
    (root / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    (root / "data.yaml").write_text(f"train: train.txt\nval: {outside}/list.txt\nnames: [a]\n")
    (outside / "list.txt").write_text("images/secret.jpg\n")
    (root / "train.txt").write_text(
        f"images/a.jpg\n../outside/images/secret.jpg\n{outside}/images/secret.jpg\n")
    (root / "image_sizes.json").write_text('{"images/a.jpg": {"width": 10, "height": true}}')
    ds = gt.load(str(root), format="yolo")
    assert [it.id for it in ds.items] == ["images/a"]
    assert ds.items[0].width is None  # `true` is not a size
    messages = [i.message for i in ds.issues]
    assert sum("outside the dataset folder" in m for m in messages) == 2
    assert any("list file" in m and "not found" in m for m in messages)  # the outside list


def test_cvat_label_without_name_and_unicode_digits_are_issues(tmp_path: Path) -> None:
    xml = tmp_path / "a.xml"
    xml.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1</version><meta><task>'
        "<labels><label><name></name></label><label><name>cat</name></label></labels>"
        '</task></meta><image id="0" name="a.jpg" width="²" height="10">'
        '<box label="cat" xtl="1" ytl="1" xbr="5" ybr="5" occluded="0"/></image></annotations>',
        encoding="utf-8")
    ds = converters.get("cvat").read(str(xml))
    codes = [i.code for i in ds.issues]
    assert "cvat.shape.missing-attribute" in codes  # the nameless label, located
    assert "cvat.shape.bad-number" in codes  # width="²"
    assert [lab.name for s in ds.manifest.taxonomy.label_sets for lab in s.labels] == ["cat"]
