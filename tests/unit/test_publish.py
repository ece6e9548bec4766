"""Writes never replace what they must not, and replacing a dataset never leaves a gap.

- `--overwrite` never deletes the input, never replaces a plain file, a folder that is not a
  dataset, or a .zip that is not one; `gt export` refuses an existing file without it.
- A second writer that appears between the existence check and the final move is not
  replaced (each fallback of the no-replace move is exercised).
- A crash at any point of a dataset replacement leaves the old or the new dataset, whole, at
  the destination; temporary folders of dead writers are removed by the next write.
- An interrupt after the output was published says so (no "aborted").
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

import groundtruth as gt
from groundtruth.cli import main
from groundtruth.errors import DatasetExistsError
from groundtruth.io import _publish
from groundtruth.io._publish import StaleStageWarning, collect_stale, recover_destination
from tests.helpers import all_examples

HOST = socket.gethostname().replace("-", "_").replace("/", "_")


def gt_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".gt-" in p.name or ".tmp-" in p.name)


@pytest.fixture
def ds_dir(tmp_path: Path) -> Path:
    gt.save(all_examples(), tmp_path / "ds")
    return tmp_path / "ds"


# -- overwrite guards ------------------------------------------------------------------------


@pytest.mark.parametrize("dst", ["ds", "ds/groundtruth.json", "."])
def test_overwrite_never_destroys_the_input(capsys: pytest.CaptureFixture[str], ds_dir: Path,
                                            dst: str) -> None:
    before = snapshot(ds_dir)
    code, _, err = gt_cli(capsys, "convert", str(ds_dir), str(ds_dir.parent / dst),
                          "--overwrite", "--encoding", "parquet")
    assert code == 2, err
    assert "the input" in err
    assert snapshot(ds_dir) == before


def test_overwrite_never_destroys_the_input_through_a_symlink(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    src = tmp_path / "delivery.json"
    src.write_text(json.dumps({"images": [], "annotations": [], "categories": []}))
    (tmp_path / "alias.json").symlink_to(src)
    code, _, err = gt_cli(capsys, "convert", str(src), str(tmp_path / "alias.json"),
                          "--to", "coco", "--overwrite")
    assert code == 2
    assert "the input" in err
    with pytest.raises(DatasetExistsError, match="the input"):
        gt.export(tmp_path / "alias.json", src, task="classification", overwrite=True,
                  from_format="coco")


def test_overwrite_never_replaces_what_is_not_a_dataset(capsys: pytest.CaptureFixture[str],
                                                        ds_dir: Path, tmp_path: Path) -> None:
    plain = tmp_path / "notes.txt"
    plain.write_text("mine")
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.jpg").write_bytes(b"\xff\xd8")
    foreign_zip = tmp_path / "backup.zip"
    with zipfile.ZipFile(foreign_zip, "w") as zf:
        zf.writestr("thesis.tex", "x")
    zip_bytes = foreign_zip.read_bytes()
    for dst, needle in ((plain, "is a file"), (photos, "not a groundtruth dataset"),
                        (foreign_zip, "not a groundtruth dataset")):
        code, _, err = gt_cli(capsys, "convert", str(ds_dir), str(dst), "--overwrite")
        assert code == 2, err
        assert needle in err
    assert plain.read_text() == "mine"
    assert sorted(p.name for p in photos.iterdir()) == ["a.jpg"]
    assert foreign_zip.read_bytes() == zip_bytes
    # a file write never replaces a folder either
    code, _, err = gt_cli(capsys, "convert", str(ds_dir), str(photos), "--to", "coco",
                          "--overwrite")
    assert code == 2
    assert "is a folder" in err
    assert leftovers(tmp_path) == []


def test_a_dataset_zip_is_replaced_with_overwrite(ds_dir: Path, tmp_path: Path) -> None:
    gt.save(all_examples(), tmp_path / "ds.zip")
    with pytest.raises(DatasetExistsError):
        gt.save(all_examples(), tmp_path / "ds.zip")
    gt.save(all_examples(), tmp_path / "ds.zip", encoding="parquet", overwrite=True)
    assert gt.read_manifest(tmp_path / "ds.zip").encoding == "parquet"


def test_export_refuses_an_existing_file_before_any_work(
        capsys: pytest.CaptureFixture[str], ds_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "train.jsonl"
    out.write_text("keep me\n")
    loaded: list[Any] = []
    real_load = gt.api.load
    monkeypatch.setattr(gt.api, "load", lambda *a, **k: loaded.append(a) or real_load(*a, **k))
    code, _, err = gt_cli(capsys, "export", str(ds_dir), str(out), "--task", "classification")
    assert code == 2, err
    assert "already exists" in err
    assert "--overwrite" in err
    assert out.read_text() == "keep me\n"
    assert loaded == []  # refused before reading the dataset
    code, _, err = gt_cli(capsys, "export", str(ds_dir), str(out), "--task", "classification",
                          "--overwrite")
    assert code == 0, err
    assert out.read_text() != "keep me\n"
    code, _, err = gt_cli(capsys, "export", str(ds_dir), str(tmp_path), "--task",
                          "classification", "--overwrite")
    assert code == 2
    assert "is a folder" in err


# -- the race between the check and the move --------------------------------------------------


def _second_writer_before(monkeypatch: pytest.MonkeyPatch, module: Any, name: str,
                          create: Any) -> None:
    """Make a second writer create the destination just before our (first) final move."""
    real = getattr(module, name)
    raced: list[bool] = []

    def racing(src: str, dst: str, **kw: Any) -> None:
        if not raced:
            raced.append(True)
            create(Path(dst))
        real(src, dst, **kw)

    monkeypatch.setattr(module, name, racing)


@pytest.mark.parametrize("fallback", ["renameat2", "link", "exclusive-create"])
def test_a_file_that_appears_meanwhile_is_not_replaced(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fallback: str) -> None:
    if fallback != "renameat2":
        monkeypatch.setattr(_publish, "_renameat2", lambda *a: False)
    if fallback == "exclusive-create":
        def no_links(*_a: Any) -> None:
            raise OSError(errno.EPERM, "hard links not supported")

        monkeypatch.setattr(_publish.os, "link", no_links)
    _second_writer_before(monkeypatch, _publish, "publish_file",
                          lambda p: p.write_text("the other writer's"))
    with pytest.raises(DatasetExistsError, match="appeared while this write ran"):
        gt.save(all_examples(), tmp_path / "out.json", format="coco")
    assert (tmp_path / "out.json").read_text() == "the other writer's"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("fallback", [False, True])
def test_a_dataset_that_appears_meanwhile_is_not_replaced(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fallback: bool) -> None:
    if fallback:
        monkeypatch.setattr(_publish, "_renameat2", lambda *a: False)
    other = gt.Dataset(all_examples().manifest, all_examples().items[:1], [])

    from groundtruth.io import _native

    _second_writer_before(monkeypatch, _native, "publish_dir", lambda p: gt.save(other, p))
    with pytest.raises(DatasetExistsError, match="appeared while this write ran"):
        gt.save(all_examples(), tmp_path / "ds")
    assert gt.load(tmp_path / "ds") == other
    assert leftovers(tmp_path) == []


# -- replacing a dataset: crash at any point ---------------------------------------------------


CRASH = textwrap.dedent("""
    import os, shutil, sys
    import groundtruth as gt
    from groundtruth.io import _publish
    from tests.helpers import all_examples
    point, dst = sys.argv[1], sys.argv[2]
    if point == "before-swap":
        _publish._renameat2 = lambda *a: os._exit(9)
    elif point == "after-swap":
        _publish.shutil.rmtree = lambda *a, **k: os._exit(9)
    elif point == "between-renames":
        _publish._renameat2 = lambda *a: False
        real = os.rename
        calls = []
        def rename(a, b):
            calls.append(a)
            real(a, b)
            if len(calls) == 1 and ".gt-old-" in b:
                os._exit(9)
        _publish.os.rename = rename
    ds = all_examples()
    ds.manifest.name = "new"
    gt.save(ds, dst, encoding="parquet", overwrite=True)
""")


@pytest.mark.parametrize("point", ["before-swap", "after-swap", "between-renames"])
def test_a_crash_while_replacing_leaves_a_whole_dataset(ds_dir: Path, point: str) -> None:
    old = gt.load(ds_dir)
    res = subprocess.run([sys.executable, "-c", CRASH, point, str(ds_dir)],
                         capture_output=True, text=True, timeout=120, check=False,
                         cwd=Path(__file__).parents[2])
    assert res.returncode == 9, res.stderr
    if point == "between-renames":
        # The documented fallback (no RENAME_EXCHANGE): the old version sits under its
        # hidden name for that instant, and the next write to the destination restores it.
        assert not ds_dir.exists()
        recover_destination(str(ds_dir))
    after = gt.load(ds_dir)  # whole: every part matches the manifest
    assert after.manifest.name == ("new" if point == "after-swap" else old.manifest.name)
    if point == "after-swap":
        assert gt.read_manifest(ds_dir).encoding == "parquet"
    # the dead writer's folder (holding the old version) goes with the next write nearby
    gt.save(all_examples(), ds_dir.parent / "other")
    assert leftovers(ds_dir.parent) == []


def test_the_swap_keeps_a_dataset_at_the_destination(ds_dir: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    real = _publish._renameat2

    def watched(src: str, dst: str, flags: int) -> bool:
        seen.append((Path(dst) / "groundtruth.json").exists())
        done = real(src, dst, flags)
        seen.append((Path(dst) / "groundtruth.json").exists())
        return done

    monkeypatch.setattr(_publish, "_renameat2", watched)
    gt.save(all_examples(), ds_dir, encoding="parquet", overwrite=True)
    assert seen == [True, True]
    assert gt.read_manifest(ds_dir).encoding == "parquet"


# -- stale temporary folders -------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_stages_are_removed_or_named(tmp_path: Path) -> None:
    dead = tmp_path / f".gt-stage-{HOST}-{_dead_pid()}-abc"
    alive = tmp_path / f".gt-stage-{HOST}-{os.getpid()}-def"
    foreign = tmp_path / ".gt-stage-otherhost-1-ghi"
    legacy = tmp_path / ".gt-stage-k2j3h4"
    for d in (dead, alive, foreign, legacy):
        d.mkdir()
        (d / "items.jsonl").write_text("{}\n")
    with pytest.warns(StaleStageWarning) as warned:
        gt.save(all_examples(), tmp_path / "ds")
    assert not dead.exists()
    assert alive.exists()
    assert foreign.exists()
    assert legacy.exists()
    named = " ".join(str(w.message) for w in warned)
    assert str(foreign) in named
    assert str(legacy) in named
    assert str(alive) not in named


def test_an_old_version_left_by_a_dead_writer_is_put_back(tmp_path: Path) -> None:
    gt.save(all_examples(), tmp_path / "ds")
    hidden = tmp_path / f".ds.gt-old-{HOST}-{_dead_pid()}-1234"
    (tmp_path / "ds").rename(hidden)
    assert collect_stale(str(tmp_path)) == []  # nothing deleted: put back
    assert not hidden.exists()
    assert gt.load(tmp_path / "ds").fingerprint() == all_examples().fingerprint()


# -- interrupts --------------------------------------------------------------------------------


def test_an_interrupt_after_publishing_does_not_say_aborted(
        capsys: pytest.CaptureFixture[str], ds_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from groundtruth.converters.native import NativeConverter

    real = NativeConverter.write

    def write_then_interrupt(self: Any, *a: Any, **k: Any) -> Any:
        real(self, *a, **k)
        raise KeyboardInterrupt

    monkeypatch.setattr(NativeConverter, "write", write_then_interrupt)
    code, _, err = gt_cli(capsys, "convert", str(ds_dir), str(tmp_path / "copy"))
    assert code == 130
    assert "aborted" not in err
    assert "interrupted after writing" in err
    assert "copy (complete)" in err
    assert gt.load(tmp_path / "copy") == gt.load(ds_dir)


def test_an_interrupt_before_publishing_leaves_nothing(
        capsys: pytest.CaptureFixture[str], ds_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from groundtruth.io._native import DatasetWriter

    def interrupted(self: Any, *a: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(DatasetWriter, "_publish", interrupted)
    code, _, err = gt_cli(capsys, "convert", str(ds_dir), str(tmp_path / "copy"))
    assert code == 130
    assert "aborted: interrupted before anything was written" in err
    assert not (tmp_path / "copy").exists()
    assert leftovers(tmp_path) == []


def test_signals_during_the_final_move_wait_for_it(tmp_path: Path) -> None:
    import signal

    order: list[str] = []

    def move() -> None:
        with _publish.held_signals():
            os.kill(os.getpid(), signal.SIGINT)
            order.append("move finished")
        order.append("not reached: the held interrupt is raised here")

    with pytest.raises(KeyboardInterrupt):
        move()
    assert order == ["move finished"]


def test_training_export_overwrite_replaces_only_an_earlier_export(tmp_path: Path) -> None:
    import groundtruth.engine as gte
    from groundtruth.engine.synthetic import make_dataset

    gt.save(make_dataset(10, 50, seed=2), tmp_path / "ds", encoding="parquet")
    gte.export_training(str(tmp_path / "ds"), tmp_path / "train")
    again = gte.export_training(str(tmp_path / "ds"), tmp_path / "train", overwrite=True)
    assert again["rows"] == 50
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.tex").write_text("x")
    with pytest.raises(DatasetExistsError, match="not a training export"):
        gte.export_training(str(tmp_path / "ds"), mine, overwrite=True)
    assert (mine / "thesis.tex").read_text() == "x"


def test_temporary_files_of_dead_writers_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / f".train.json.gt-tmp-{HOST}-{_dead_pid()}-abcd1234"
    alive = tmp_path / f".train.json.gt-tmp-{HOST}-{os.getpid()}-abcd1234"
    dead.write_text("half")
    alive.write_text("being written")
    gt.save(all_examples(), tmp_path / "train.json", format="coco")
    assert not dead.exists()
    assert alive.read_text() == "being written"


def test_consensus_never_replaces_its_input(capsys: pytest.CaptureFixture[str],
                                            ds_dir: Path) -> None:
    before = snapshot(ds_dir)
    code, _, err = gt_cli(capsys, "consensus", str(ds_dir), str(ds_dir), "--overwrite")
    assert code == 2, err
    assert "the input" in err
    assert snapshot(ds_dir) == before
