"""`gt evaluate`, `gt suspects` and `gt sample` under attack (issue 13's guarantees): hostile
labels, ids and annotator names are shown inert in text and Markdown (and escaped in HTML),
outputs never replace a file, a folder or an input without asking, I/O problems exit 2 with
a message, and a Label Studio task file that drops a whole annotation type exits 1 unless
--allow-loss."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import groundtruth as gt
from groundtruth.dataset import Dataset
from groundtruth.evaluation import evaluate
from groundtruth.label_errors import suspects
from groundtruth.models import Annotator, BBox, Classification, Item, Manifest
from groundtruth.sampling import sample

if TYPE_CHECKING:
    from collections.abc import Callable

# a Markdown image + raw HTML, an OSC 8 hyperlink and a CSI that clears the screen, a newline
# that would forge a report line, and a GitHub team mention
HTML = '<img src=x onerror=alert(1)>'
LINK = "[click](javascript:alert(1))"
OSC = "\x1b]8;;http://evil.example\x07ok\x1b]8;;\x07"
CSI = "\x1b[2J\x1b[1;1H"
FORGED = "cat\nnote: all clear"
MENTION = "@org/team"
HOSTILE = [HTML, LINK, OSC, CSI, FORGED, MENTION]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def gt_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
           ) -> Callable[..., Run]:
    """`gt ARGS` in this process (a subprocess costs seconds each on a shared machine): exit
    code, stdout, stderr. An exception other than SystemExit (a traceback) fails the test."""
    from groundtruth.cli import main

    monkeypatch.delenv("GROUNDTRUTH_DEBUG", raising=False)

    def run(*args: str) -> Run:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return run


def _hostile_classes() -> Dataset:
    """Text items whose ids, labels and annotator names are hostile; a model `m` predicts."""
    items = [Item(id=f"{LINK}{i}", kind="text", text="t") for i in range(4)]
    anns = []
    for i, item in enumerate(items):
        truth = HOSTILE[i % len(HOSTILE)]
        anns.append(Classification(id=f"h{i}", item_id=item.id, label=truth, annotator=OSC))
        anns.append(Classification(id=f"d{i}", item_id=item.id, label=HOSTILE[(i + 1) % 6],
                                   annotator="other"))
        anns.append(Classification(id=f"m{i}", item_id=item.id, label=HOSTILE[(i + 2) % 6],
                                   annotator="m", confidence=0.9,
                                   attributes={"probabilities": {HOSTILE[(i + 2) % 6]: 0.9,
                                                                 truth: 0.1}}))
    manifest = Manifest(annotators=[Annotator(id=OSC, kind="human"),
                                    Annotator(id="other", kind="human"),
                                    Annotator(id="m", kind="model")])
    return Dataset(manifest, items, anns)


def _assert_plain(text: str) -> None:
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\nnote: all clear" not in text  # a label cannot start a line of its own


def _assert_markdown(text: str) -> None:
    _assert_plain(text)
    assert not re.search(r"(?<!\\)<", text)  # every `<` escaped: no HTML
    assert "](javascript" not in text
    assert "@org" not in text  # the mention is broken by a word joiner after an escaped @


def test_evaluate_text_and_markdown_are_inert() -> None:
    ds = _hostile_classes()  # one ground truth per item (no disagreement): every row shown
    ds = Dataset(ds.manifest, ds.items, [a for a in ds.annotations if a.annotator != "other"])
    report = evaluate(ds, model="m", tasks=["classification"])
    assert report.sections["classification"]["worst_items"]
    text, markdown = report.to_text(), report.to_markdown()
    _assert_plain(text)
    _assert_markdown(markdown)
    # ... and the data is still there to read, only inert
    assert "[click](javascript" in text
    assert "\\[click\\]\\(javascript" in markdown
    page = report.to_html()  # every value escaped, controls stripped
    assert "&lt;img" in page
    assert "<img src=x" not in page
    assert "\x1b" not in page
    assert "[click](javascript" in page  # text, not a link: Markdown means nothing in HTML
    assert 'href="javascript' not in page


def test_suspects_text_and_markdown_are_inert() -> None:
    report = suspects(_hostile_classes(), model="m")
    assert report.suspects  # there is something to show
    _assert_plain(report.to_text())
    md = report.to_markdown()
    _assert_markdown(md)
    rows = [line for line in md.splitlines() if line.startswith("| ") and "score" not in line]
    assert rows
    assert all(line.count(" | ") == 7 for line in rows)


def test_sample_text_is_inert() -> None:
    ds = _hostile_classes()
    pool = Dataset(ds.manifest, ds.items, [a for a in ds.annotations if a.annotator == "m"])
    sel = sample(pool, model="m", budget=4)
    assert len(sel.picked) == 4
    _assert_plain(sel.to_text())
    assert "[click](javascript:alert(1))" in sel.to_text()


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    ds = _hostile_classes()
    gt.save(ds, tmp_path / "ds")
    return tmp_path / "ds"


def test_cli_outputs_are_inert(gt_cli: Callable[..., Run], saved: Path) -> None:
    for args in (["evaluate", str(saved), "--model", "m", "--task", "classification"],
                 ["suspects", str(saved), "--model", "m"],
                 ["suspects", str(saved), "--model", "m", "--format", "markdown"],
                 ["evaluate", str(saved), "--model", "m", "--format", "markdown"]):
        res = gt_cli(*args)
        assert res.returncode == 0, (args, res.stderr)
        (_assert_markdown if "markdown" in args else _assert_plain)(res.stdout)


def test_evaluate_output_is_never_replaced_without_overwrite(gt_cli: Callable[..., Run], saved: Path, tmp_path: Path
                                                             ) -> None:
    out = tmp_path / "report.md"
    out.write_text("keep me")
    base = ["evaluate", str(saved), "--model", "m", "--format", "markdown"]
    res = gt_cli(*base, "--output", str(out))
    assert res.returncode == 2
    assert "already exists" in res.stderr
    assert "Traceback" not in res.stderr
    assert out.read_text() == "keep me"
    res = gt_cli(*base, "--output", str(out), "--overwrite")
    assert res.returncode == 0, res.stderr
    assert out.read_text().startswith("## Evaluation")
    # a folder, and an input, are never replaced, even with --overwrite
    res = gt_cli(*base, "--output", str(tmp_path), "--overwrite")
    assert res.returncode == 2
    assert "is a folder" in res.stderr
    manifest = saved / "groundtruth.json"
    before = manifest.read_bytes()
    res = gt_cli("evaluate", str(manifest), "--model", "m", "--output", str(manifest),
                 "--overwrite")
    assert res.returncode == 2
    assert "inputs" in res.stderr
    assert manifest.read_bytes() == before
    res = gt_cli(*base, "--output", str(saved / "report.md"))
    assert res.returncode == 2
    assert "is the input" in res.stderr
    assert not (saved / "report.md").exists()
    res = gt_cli(*base, "--overwrite")
    assert res.returncode == 2
    assert "--overwrite applies to --output" in res.stderr
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]  # no temporary left


def test_subsets_never_replace_an_input_or_a_file(gt_cli: Callable[..., Run], saved: Path, tmp_path: Path) -> None:
    before = sorted((p.name, p.read_bytes()) for p in saved.iterdir())
    for args in (["suspects", str(saved), "--model", "m", "--subset", str(saved), "--overwrite"],
                 ["sample", str(saved), "--model", "m", "--budget", "2", "--subset",
                  str(saved), "--overwrite"],
                 ["sample", str(saved), "--model", "m", "--budget", "2", "--tasks",
                  str(saved / "groundtruth.json"), "--overwrite"]):
        res = gt_cli(*args)
        assert res.returncode == 2, (args, res.stdout, res.stderr)
        assert "is the input" in res.stderr
        assert "Traceback" not in res.stderr
    assert sorted((p.name, p.read_bytes()) for p in saved.iterdir()) == before
    tasks = tmp_path / "tasks.json"
    tasks.write_text("[]")
    res = gt_cli("sample", str(saved), "--model", "m", "--budget", "2", "--tasks", str(tasks))
    assert res.returncode == 2
    assert "already exists" in res.stderr
    assert tasks.read_text() == "[]"
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    res = gt_cli("suspects", str(saved), "--model", "m", "--subset", str(plain), "--overwrite")
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert plain.read_text() == "x"


def test_io_problems_exit_2(gt_cli: Callable[..., Run], tmp_path: Path, saved: Path) -> None:
    missing = str(tmp_path / "nope")
    for args in (["evaluate", missing, "--model", "m"],
                 ["evaluate", str(saved), missing],
                 ["suspects", missing, "--model", "m"],
                 ["suspects", str(saved), "--predictions", missing],
                 ["sample", missing, "--model", "m", "--budget", "1"],
                 ["sample", str(saved), "--predictions", missing, "--budget", "1"],
                 ["evaluate", str(tmp_path), "--model", "m"]):  # a folder, not a dataset
        res = gt_cli(*args)
        assert res.returncode == 2, (args, res.stderr)
        assert "Traceback" not in res.stderr
        assert res.stderr.startswith("error:"), res.stderr
    if os.geteuid() != 0:  # root reads everything
        locked = tmp_path / "locked.json"
        locked.write_text("[]")
        locked.chmod(0)
        res = gt_cli("evaluate", str(locked), "--model", "m")
        assert res.returncode == 2
        assert "permission" in res.stderr.lower()


def test_sample_tasks_that_drop_a_type_exit_1_unless_allow_loss(gt_cli: Callable[..., Run], tmp_path: Path) -> None:
    """Label Studio tasks cannot hold a box without its image size: every prediction of the
    pool is dropped from the task file, so the command says so and exits 1."""
    items = [Item(id=f"i{k}", kind="image", uri=f"{k}.jpg") for k in range(3)]
    anns = [BBox(id=f"p{k}", item_id=f"i{k}", label="cat", bbox=[1, 1, 5, 5], annotator="m",
                 confidence=0.5 + k / 10) for k in range(3)]
    ds = Dataset(Manifest(annotators=[Annotator(id="m", kind="model")]), items, anns)
    gt.save(ds, tmp_path / "pool")
    base = ["sample", str(tmp_path / "pool"), "--model", "m", "--budget", "2", "--strategy",
            "least-confidence"]
    res = gt_cli(*base, "--tasks", str(tmp_path / "t1.json"))
    assert res.returncode == 1, res.stderr
    assert "DATA DROPPED" in res.stderr
    assert "convert.type-dropped" in res.stderr
    assert (tmp_path / "t1.json").exists()  # written, and said to lack the boxes
    res = gt_cli(*base, "--tasks", str(tmp_path / "t2.json"), "--allow-loss")
    assert res.returncode == 0, res.stderr
    assert "accepted with --allow-loss" in res.stderr
