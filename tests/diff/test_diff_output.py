"""`gt diff --output FILE`: never replaces a file unless asked, and a second writer cannot be
silently replaced (the existence check and the publish are one atomic step)."""

from __future__ import annotations

import errno
import os
import threading

import pytest

import groundtruth as gt
from groundtruth.cli import main
from groundtruth.diff import publish
from groundtruth.errors import DatasetExistsError
from tests.diff.builders import grid_dataset, reexport


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    root = tmp_path_factory.mktemp("out")
    old = grid_dataset(12)
    new, _ = reexport(old, renumber=False)
    gt.save(old, root / "v1")
    gt.save(new, root / "v2")
    return root


def _gt(capsys, *args) -> tuple[int, str]:
    with pytest.raises(SystemExit) as stop:
        main([str(a) for a in args])
    return stop.value.code, capsys.readouterr().err


def _temps(folder) -> list[str]:
    return [p for p in os.listdir(folder) if ".tmp-" in p]


def test_existing_file_is_kept_without_overwrite(versions, tmp_path, capsys):
    target = tmp_path / "review.md"
    target.write_text("my notes")
    code, err = _gt(capsys, "diff", versions / "v1", versions / "v2", "--format", "markdown",
                    "--output", target)
    assert code == 2
    assert "already exists" in err
    assert "--overwrite" in err
    assert "Traceback" not in err
    assert target.read_text() == "my notes"
    code, err = _gt(capsys, "diff", versions / "v1", versions / "v2", "--format", "markdown",
                    "--output", target, "--overwrite")
    assert code == 0, err
    assert target.read_text().startswith("### groundtruth diff")
    assert not _temps(tmp_path)


def test_folder_input_and_symlink_targets(versions, tmp_path, capsys):
    (tmp_path / "dir").mkdir()
    code, err = _gt(capsys, "diff", versions / "v1", versions / "v2", "--output",
                    tmp_path / "dir", "--overwrite")
    assert code == 2
    assert "is a folder" in err
    # an input is never the output, even with --overwrite (here a COCO file diffed with itself)
    gt.save(grid_dataset(2), tmp_path / "c.json", format="coco")
    before = (tmp_path / "c.json").read_bytes()
    code, err = _gt(capsys, "diff", tmp_path / "c.json", tmp_path / "c.json", "--from", "coco",
                    "--output", tmp_path / "c.json", "--overwrite")
    assert code == 2
    assert "one of the inputs" in err
    assert (tmp_path / "c.json").read_bytes() == before
    # a dangling symlink is an existing name: not followed to create its target
    (tmp_path / "link.txt").symlink_to(tmp_path / "elsewhere.txt")
    code, _ = _gt(capsys, "diff", versions / "v1", versions / "v2", "--output",
                  tmp_path / "link.txt")
    assert code == 2
    assert not (tmp_path / "elsewhere.txt").exists()
    # with --overwrite the link itself is replaced, its target still not written
    code, _ = _gt(capsys, "diff", versions / "v1", versions / "v2", "--output",
                  tmp_path / "link.txt", "--overwrite")
    assert code == 0
    assert not (tmp_path / "link.txt").is_symlink()
    assert not (tmp_path / "elsewhere.txt").exists()
    code, err = _gt(capsys, "diff", versions / "v1", versions / "v2", "--overwrite")
    assert code == 2
    assert "--overwrite applies to --output" in err


def test_a_writer_that_wins_the_race_is_not_replaced(tmp_path, monkeypatch):
    """Another process creates FILE after the early check, while the report is being written:
    the publish fails instead of replacing that file."""
    target = tmp_path / "r.html"
    real_link = os.link

    def other_writer_first(src, dst, **kw):
        with open(dst, "w") as f:  # the other writer
            f.write("theirs")
        return real_link(src, dst, **kw)

    monkeypatch.setattr(os, "link", other_writer_first)
    with pytest.raises(DatasetExistsError, match="already exists"):
        publish(b"ours", target)
    assert target.read_text() == "theirs"
    assert not _temps(tmp_path)


def test_concurrent_writers_exactly_one_wins(tmp_path):
    target = tmp_path / "r.json"
    results: dict[int, str] = {}
    start = threading.Barrier(8)

    def write(n: int) -> None:
        start.wait()
        try:
            publish(f"writer {n}".encode(), target)
            results[n] = "ok"
        except DatasetExistsError:
            results[n] = "refused"

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for n, r in results.items() if r == "ok"]
    assert len(winners) == 1
    assert sorted(results) == list(range(8))
    assert target.read_text() == f"writer {winners[0]}"  # the winner's file, complete
    assert not _temps(tmp_path)


def test_without_hard_links_the_name_is_claimed_exclusively(tmp_path, monkeypatch):
    def no_links(*args, **kw):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    publish(b"first", tmp_path / "r.txt")
    assert (tmp_path / "r.txt").read_bytes() == b"first"
    with pytest.raises(DatasetExistsError):
        publish(b"second", tmp_path / "r.txt")
    assert (tmp_path / "r.txt").read_bytes() == b"first"
    publish(b"third", tmp_path / "r.txt", overwrite=True)
    assert (tmp_path / "r.txt").read_bytes() == b"third"
    assert not _temps(tmp_path)


def test_file_mode_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        publish(b"x", tmp_path / "r.txt")
    finally:
        os.umask(old)
    assert (tmp_path / "r.txt").stat().st_mode & 0o777 == 0o644


def test_memory_filesystem(tmp_path):
    publish(b"one", "memory://reports/r.md")
    with pytest.raises(DatasetExistsError):
        publish(b"two", "memory://reports/r.md")
    publish(b"two", "memory://reports/r.md", overwrite=True)
    import fsspec

    assert fsspec.filesystem("memory").cat_file("/reports/r.md") == b"two"
