"""Nothing is lost silently: convert and export exit 1 when data was dropped.

Format limits (a COCO file has no annotator field) are a loss report and exit 0. Records the
reader skipped with errors, every annotation of a type left out by the writer, an export of
no rows, NaN/Infinity in a Parquet dataset: exit 1 and say what, unless --allow-loss. The API
returns the same facts in `ConversionReport.dropped` and raises only when asked.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import groundtruth as gt
from groundtruth.cli import main
from groundtruth.engine.synthetic import make_dataset
from groundtruth.errors import DataLossError
from tests.conftest import shared_path


def gt_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


@pytest.fixture
def zero_size_export(tmp_path: Path) -> Path:
    """The real Label Studio bbox export with its image sizes zeroed, as a broken export
    ships them: the 6 boxes cannot be turned from percents into pixels."""
    src = shared_path("jsonl", "labelstudio_image_bbox_export.json")
    tasks = json.loads(src.read_text())
    n = 0
    for task in tasks:
        for ann in task["annotations"]:
            for res in ann["result"]:
                res["original_width"] = res["original_height"] = 0
                n += 1
    assert n == 6
    out = tmp_path / "ls_zero.json"
    out.write_text(json.dumps(tasks))
    return out


def test_reader_drops_exit_1_and_say_what(capsys: pytest.CaptureFixture[str],
                                          zero_size_export: Path, tmp_path: Path) -> None:
    code, out, err = gt_cli(capsys, "convert", str(zero_size_export), str(tmp_path / "ds"))
    assert code == 1, err
    assert "nothing lost" not in out
    assert "DATA DROPPED" in err
    assert "convert.read-dropped" in err
    assert "labelstudio.result.missing-size x6" in err
    assert "--allow-loss" in err
    assert gt.load(tmp_path / "ds").annotations == []  # written all the same, and complete

    code, out, err = gt_cli(capsys, "convert", str(zero_size_export), str(tmp_path / "ok"),
                            "--allow-loss")
    assert code == 0, err
    assert "convert.read-dropped" in err  # still reported
    assert "nothing lost" not in out

    code, out, _ = gt_cli(capsys, "convert", str(zero_size_export), str(tmp_path / "j"),
                          "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["lossy"] is True
    assert [d["code"] for d in data["dropped"]] == ["convert.read-dropped"]


def test_api_returns_the_loss_and_raises_on_request(zero_size_export: Path,
                                                    tmp_path: Path) -> None:
    ds, report = gt.convert(zero_size_export, tmp_path / "ds")
    assert report.lossy
    assert [i.code for i in report.dropped] == ["convert.read-dropped"]
    assert len([i for i in ds.issues if i.severity == "error"]) == 6
    with pytest.raises(DataLossError, match=r"labelstudio\.result\.missing-size x6"):
        report.raise_for_loss()
    _, clean = gt.convert(shared_path("jsonl", "labelstudio_image_bbox_export.json"),
                          tmp_path / "clean")
    assert not clean.lossy
    clean.raise_for_loss()


def test_a_write_that_drops_every_span_exits_1(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    src = shared_path("conll", "wnut17_emerging.dev.conll")
    code, _, err = gt_cli(capsys, "convert", str(src), str(tmp_path / "x.jsonl"),
                          "--to", "jsonl")
    assert code == 1, err
    assert "convert.type-dropped" in err
    assert "jsonl wrote none of the 836 span annotation(s)" in err
    code, _, _ = gt_cli(capsys, "convert", str(src), str(tmp_path / "y.jsonl"), "--to",
                        "jsonl", "--allow-loss")
    assert code == 0


def test_format_limits_alone_are_not_a_drop(tmp_path: Path) -> None:
    """COCO cannot carry spans or annotators: a loss report, but boxes are written."""
    ds = make_dataset(10, 60, seed=3)
    gt.save(ds, tmp_path / "ds")
    _, report = gt.convert(tmp_path / "ds", tmp_path / "c.json", to_format="coco")
    assert report.issues  # the loss report
    kinds = {i.message.split()[-1] for i in report.dropped}
    written = {"bbox", "polygon", "keypoints", "mask"}
    assert not any(k in written for k in kinds), report.dropped
    assert any("span" in i.message for i in report.dropped)  # all spans left out: a drop


def test_partly_written_annotations_are_not_a_drop(tmp_path: Path) -> None:
    """A Label Studio write keeps the first ring of a multi-part polygon: not dropped."""
    from groundtruth.models import Item, Polygon

    ds = gt.Dataset(gt.load(shared_path("jsonl", "labelstudio_image_polygon_export.json"))
                    .manifest,
                    [Item(id="i", kind="image", width=100, height=100, uri="i.png")],
                    [Polygon(id="p", item_id="i", label="a",
                             polygon=[[1, 1, 5, 1, 5, 5], [10, 10, 20, 10, 20, 20]])])
    report = gt.save(ds, tmp_path / "ls.json", format="labelstudio")
    assert [i.code for i in report.issues] == ["labelstudio.write.partial"]
    assert gt.convert(tmp_path / "ls.json", tmp_path / "back")[1].dropped == []


def test_export_of_no_rows_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    gt.save(make_dataset(10, 60, seed=3), tmp_path / "ds")
    code, _out, err = gt_cli(capsys, "export", str(tmp_path / "ds"), str(tmp_path / "p.jsonl"),
                            "--task", "preference")
    assert code == 1, err
    assert "export.empty" in err
    assert "0 rows" in err
    assert (tmp_path / "p.jsonl").read_bytes() == b""
    code, _, _ = gt_cli(capsys, "export", str(tmp_path / "ds"), str(tmp_path / "q.jsonl"),
                        "--task", "preference", "--allow-loss")
    assert code == 0
    report = gt.export(tmp_path / "ds", tmp_path / "r.jsonl", task="preference")
    assert [i.code for i in report.dropped] == ["export.empty"]
    with pytest.raises(DataLossError):
        report.raise_for_loss()


def _poison_parquet(root: Path) -> None:
    """Put NaN and Infinity into a native Parquet dataset's annotations, keeping the manifest
    consistent (size and hash), as another tool writing the part would."""
    manifest = json.loads((root / "groundtruth.json").read_text())
    part = next(p for p in manifest["parts"] if p["kind"] == "annotations")
    path = root / part["path"]
    table = pq.read_table(path)
    boxes = table.column("bbox").to_pylist()
    row = next(k for k, v in enumerate(boxes) if v)
    boxes[row] = [float("nan"), boxes[row][1], float("inf"), boxes[row][3]]
    conf = table.column("confidence").to_pylist()
    conf[0] = float("-inf")
    for name, values in (("bbox", boxes), ("confidence", conf)):
        i = table.schema.get_field_index(name)
        table = table.set_column(i, table.schema.field(i),
                                 pa.array(values, table.schema.field(i).type))
    pq.write_table(table, path)
    data = path.read_bytes()
    part.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    (root / "groundtruth.json").write_text(json.dumps(manifest))


def test_nan_and_infinity_in_parquet_are_reported(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    gt.save(make_dataset(5, 20, seed=1), tmp_path / "pq", encoding="parquet")
    _poison_parquet(tmp_path / "pq")

    ds = gt.load(tmp_path / "pq")
    found = {(i.location.record_id, i.location.path) for i in ds.issues}
    boxed = next(a.id for a in ds.annotations if getattr(a, "bbox", None))
    first = ds.annotations[0].id
    assert found == {(boxed, "$.bbox[0]"), (boxed, "$.bbox[2]"), (first, "$.confidence")}
    assert {i.code for i in ds.issues} == {"content.not-finite"}
    assert all(i.location.file and i.location.file.endswith(".parquet") and
               i.location.row is not None for i in ds.issues)

    code, out, err = gt_cli(capsys, "convert", str(tmp_path / "pq"), str(tmp_path / "j"))
    assert code == 1, err
    assert "nothing lost" not in out
    assert "content.not-finite x3" in err

    # Parquet keeps them as they are: reported, but nothing lost
    code, _, err = gt_cli(capsys, "convert", str(tmp_path / "pq"), str(tmp_path / "pq2"),
                          "--encoding", "parquet")
    assert code == 0, err
    assert "content.not-finite" in err
    assert "DATA DROPPED" not in err

    report = gt.validate(tmp_path / "pq")
    assert not report.ok
    assert "content.not-finite" in {i.code for i in report.errors}


@pytest.mark.parametrize("to", ["conll", "conllu", "prodigy", "doccano", "preference"])
def test_a_write_that_holds_nothing_exits_1(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path, to: str) -> None:
    """Images and polygons written to a text format: no record written, every polygon gone
    (reported per item by the writer, not per annotation)."""
    src = shared_path("coco", "tinycoco_instances_val2017.json")
    code, _, err = gt_cli(capsys, "convert", str(src), str(tmp_path / "out"), "--to", to)
    assert code == 1, err
    assert "convert.empty-output" in err
    assert "wrote no record of the 6 item(s) and 136 annotation(s)" in err
    if to != "preference":  # its report names items it skipped, not what they held
        assert "wrote none of the 135 polygon annotation(s)" in err


def test_round_trips_of_real_files_are_not_flagged(tmp_path: Path) -> None:
    for parts, to in ((("coco", "tinycoco_instances_val2017.json"), "coco"),
                      (("coco", "tinycoco_instances_val2017.json"), "labelstudio"),
                      (("jsonl", "labelstudio_text_ner_export.3tasks.json"), "conll"),
                      (("jsonl", "labelstudio_text_ner_export.3tasks.json"), "prodigy"),
                      (("conll", "en_ewt-ud-test.first564.conllu"), "conllu")):
        _, report = gt.convert(shared_path(*parts), tmp_path / f"{to}-{parts[1]}",
                               to_format=to)
        assert report.dropped == [], (parts, to, report.dropped)


def test_non_finite_values_are_found_in_nested_and_sliced_columns() -> None:
    """Lists of lists, structs and maps (consensus votes), in an array slice: every NaN or
    infinity is found, with its path, and nothing else."""
    from groundtruth.io._finite import _bad_rows, _paths

    nan, inf = float("nan"), float("inf")
    rings = pa.array([[[1.0, 2.0]], None, [[3.0], [4.0, nan]], [[5.0]]],
                     pa.list_(pa.list_(pa.float64())))
    votes = pa.array([[("a", 1.0)], [("b", 2.0), ("c", -inf)], None, [("d", 0.5)]],
                     pa.map_(pa.string(), pa.float64()))
    consensus = pa.StructArray.from_arrays(
        [votes, pa.array([0.5, 0.1, nan, None])], names=["votes", "agreement"])
    assert _bad_rows(rings).tolist() == [2]
    assert _bad_rows(rings.slice(3)).tolist() == []
    assert _bad_rows(votes).tolist() == [1]
    assert _bad_rows(votes.slice(1, 2)).tolist() == [0]
    assert _bad_rows(consensus).tolist() == [1, 2]
    assert [p for p, _ in _paths(consensus[1].as_py(), ("consensus",))] == [
        ("consensus", "votes", "c")]
    assert [p for p, _ in _paths(rings[2].as_py(), ("polygon",))] == [("polygon", 1, 1)]
