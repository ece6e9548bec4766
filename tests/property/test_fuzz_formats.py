"""Mutation fuzzing of every registered format over real files: only our own errors escape.

For each registered format that has real files in ../shared/data, each case takes one such
file (cut to a few records so a case stays fast), applies one seeded mutation and runs it
through `validate`, the reader (`load`), the streaming converter where the format has one, the
format's own writer and the native writer (JSONL; a long run also Parquet, and validates what
it wrote), and reads the outputs back. The only exceptions allowed anywhere are
`GroundtruthError`s (the project's own, each with a message and a place); anything else
(`TypeError`, `KeyError`, pydantic's `ValidationError`, ...) is a crash a user would see as a
traceback, and so is a `source.reader-failed` issue (validate's record of a reader crash).
Native datasets are fuzzed too: a file of a small native dataset is mutated, and most of the
time the manifest is resealed (sizes, hashes, counts) so the records are read, not only the
integrity check.

Mutations: byte flips, truncation at a random offset, wrong encodings (UTF-16, Latin-1,
stray invalid bytes, a BOM), line edits (dropped, doubled, swapped, CRLF, blank), field
deletions, type swaps (a value replaced by one of another type, huge or empty), duplicated
records, and column edits for the column formats. Cases are deterministic: case `i` of format
`f` uses `random.Random(f"{f}:{i}")`.

    GROUNDTRUTH_FUZZ=5000 pytest -m fuzz tests/property/test_fuzz_formats.py  # a long run
    GROUNDTRUTH_FUZZ=5000:9000 pytest -m fuzz ...                              # the next cases
    GROUNDTRUTH_FUZZ_ONLY=coco:17 pytest tests/property/test_fuzz_formats.py   # one case
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

import groundtruth as gt
from groundtruth import converters
from groundtruth.errors import GroundtruthError
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.fuzz

# cases per format: N (cases 0..N-1), or START:END to go on where an earlier run stopped
_RANGE = os.environ.get("GROUNDTRUTH_FUZZ", "200").partition(":")
FIRST, LAST = (int(_RANGE[0]), int(_RANGE[2])) if _RANGE[1] else (0, int(_RANGE[0]))
# a long run also writes and reads Parquet and validates what was written
LONG = "GROUNDTRUTH_FUZZ" in os.environ
ONLY = os.environ.get("GROUNDTRUTH_FUZZ_ONLY")  # "fmt:i": replay one case
SRC = Path(gt.__file__).resolve().parent

# Real files per format (paths under ../shared/data). The native format is made from some.
FILES: dict[str, list[str]] = {
    "coco": [
        "coco/tinycoco_instances_val2017.json",
        "coco/minicoco_person_keypoints_train2017.json",
        "coco/cocostuff_stuff_examples.json",
        "coco/panoptic_coco_detection_format.json",
        "coco/datumaro_cvat_style/captions_val.json",
        "coco/results/instances_val2014_fakesegm100_results.json",
        "coco/results/person_keypoints_val2014_fakekeypoints100_results.json",
    ],
    "conll": ["conll/wnut17_emerging.dev.conll", "conll/btc_section_e.conll",
              "conll/sec_filings_FIN3.conll"],
    "conllu": ["conll/en_ewt-ud-test.first564.conllu", "conll/fr_gsd-ud-test.first200.conllu"],
    "labelstudio": [
        "jsonl/labelstudio_image_rect_poly_keypoint_export.json",
        "jsonl/labelstudio_image_bbox_export.json",
        "jsonl/labelstudio_image_polygon_export.json",
        "jsonl/labelstudio_text_ner_export.3tasks.json",
    ],
    "prodigy": ["jsonl/prodigy_news_headlines_ner.first150.jsonl",
                "jsonl/prodigy_github_issues_textcat.first300.jsonl"],
    "doccano": ["jsonl/doccano_relation_extraction_example.jsonl",
                "jsonl/doccano_multileg_en_216087.jsonl",
                "jsonl/doccano_text_classification_example.jsonl"],
    "preference": ["jsonl/hh_rlhf_harmless_base_test.first200.jsonl"],
    "jsonl": ["jsonl/doccano_text_classification_example.jsonl",
              "jsonl/prodigy_github_issues_textcat.first300.jsonl"],
    "cvat": ["cvat/datumaro/for_images/train.xml", "cvat/datumaro/for_video/annotations.xml",
             "cvat/darwin/convert/cvat/to/output.xml"],
    # folder formats: the folder is copied and one of its files is mutated
    "yolo": ["yolo/datumaro/yolo", "yolo/datumaro/yolov8_detection",
             "yolo/datumaro/yolov8_oriented_boxes", "yolo/datumaro/yolov8_pose",
             "yolo/datumaro/yolov8_segmentation",
             "yolo/datumaro/yolov8_detection_with_subset_txt",
             "yolo/labelformat/instance_segmentation/YOLOv8", "yolo/labelstudio_sdk"],
    "voc": ["voc/datumaro/voc_dataset1", "voc/datumaro/voc_dataset2", "voc/kili_voc2012",
            "voc/raccoon/annotations", "voc/kili_export_expected/car_1.xml"],
}
# which files of a copied folder a case mutates (label files, configs, lists, sizes)
FOLDER_FILES = (".txt", ".xml", ".yaml", ".yml", ".data", ".names", ".json")
# native datasets are converted from these (format, file), then their files are mutated
NATIVE_FROM = [("coco", "coco/tinycoco_instances_val2017.json"),
               ("conllu", "conll/fr_gsd-ud-test.first200.conllu"),
               ("labelstudio", "jsonl/labelstudio_image_rect_poly_keypoint_export.json")]

JUNK: list[Any] = [
    None, True, 0, -1, 1.5, -1e308, 1e308, 2**63, 2**64, 2**70, -(2**70), "", " ", "x", "0",
    "-1", "😀", "\u0000", [], [None], [1, 2, 3], [[1, 2]], {}, {"a": 1}, {"": []}, "B-", "\t",
]
COLUMN_JUNK = ["", "_", "0", "-1", "00", "1-0", "2-1", "0.1", "99999999999999999999", "²",
               "B-", "I-", "B-X-Y", "O O", "\u00a0", "#", "-DOCSTART-"]


# -- the real files, cut to a few records -----------------------------------------------------
def _shrink(fmt: str, raw: bytes) -> bytes:
    """A small, still well-formed head of a real file (so that one case takes milliseconds)."""
    if fmt in ("conll", "conllu"):
        lines = raw.split(b"\n")
        blanks = [i for i, line in enumerate(lines) if not line.strip() and i >= 40]
        cut = blanks[0] + 1 if blanks else len(lines)
        return b"\n".join(lines[:cut]) + (b"\n" if cut < len(lines) else b"")
    text = raw.lstrip()
    if text.startswith(b"<"):  # the XML files are small already
        return raw
    if text.startswith(b"["):
        records = orjson.loads(raw)
        keep = 2 if fmt == "labelstudio" and b'"labels"' in raw else 8
        return orjson.dumps(records[:keep])
    if text.startswith(b"{") and fmt == "coco":
        doc = orjson.loads(raw)
        images = doc.get("images", [])[:5]
        ids = {im.get("id") for im in images}
        doc["images"] = images
        anns = [a for a in doc.get("annotations", []) if a.get("image_id") in ids][:25]
        doc["annotations"] = anns
        return orjson.dumps(doc)
    return b"\n".join(raw.splitlines()[:10]) + b"\n"


_BASES: dict[str, bytes] = {}


def _base(rel: str, fmt: str) -> bytes:
    key = f"{fmt}:{rel}"
    if key not in _BASES:
        _BASES[key] = _shrink(fmt, (SHARED_DATA / rel).read_bytes())
    return _BASES[key]


# -- mutations --------------------------------------------------------------------------------
def _walk(rng: random.Random, node: Any) -> tuple[Any, Any] | None:
    """A random (container, key) pair inside a JSON value, mostly deep inside a record."""
    path: list[tuple[Any, Any]] = []
    while isinstance(node, dict | list) and node:
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append((node, key))
        node = node[key]
        if rng.random() < 0.1:
            break
    if not path:
        return None
    return path[-1] if rng.random() < 0.7 else rng.choice(path)


def _field(rng: random.Random, root: Any) -> tuple[Any, Any] | None:
    """A random field of a random object anywhere in a JSON value (every record field is as
    likely as the next, however deep, unlike a walk from the root)."""
    objects: list[dict[str, Any]] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node:
                objects.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    if not objects:
        return None
    obj = rng.choice(objects)
    return obj, rng.choice(list(obj))


def _other_type(rng: random.Random, value: Any, root: Any) -> Any:
    """A value of another type than `value` (or a hostile one of the same type)."""
    if rng.random() < 0.3:  # a value from elsewhere in the file: an id, a list of points...
        spot = _walk(rng, root)
        if spot is not None:
            return copy.deepcopy(spot[0][spot[1]])
    if isinstance(value, bool) or value is None:
        pool = [0, 1, "true", [], 2**64]
    elif isinstance(value, int | float):
        pool = [str(value), [value], {"v": value}, -value - 1, value * 2**64, 2**70, -1e308,
                1e-320, True, None, 0]
    elif isinstance(value, str):
        pool = [len(value), [value], {value: value}, "", value * 50, value[::-1], None,
                "\ud83d\ude00" + value, "../" + value]
    elif isinstance(value, list):
        pool = [{}, "list", len(value), [value], value[:1], value * 3, [None] * len(value),
                [str(v) for v in value]]
    else:
        pool = [[], "object", 1, [value], dict.fromkeys(value)]
    return copy.deepcopy(rng.choice(pool + JUNK[:6]))


def _json_mutation(rng: random.Random, value: Any, kind: str) -> None:
    for _ in range(rng.randint(1, 4)):
        spot = _walk(rng, value) if rng.random() < 0.4 else _field(rng, value)
        if spot is None:
            return
        container, key = spot
        if kind == "delete":
            del container[key]
        elif kind == "swap":
            container[key] = _other_type(rng, container[key], value)
        elif kind == "duplicate" and isinstance(container, list):
            container.insert(key, copy.deepcopy(container[key]))
        elif kind == "duplicate" and isinstance(container, dict) and len(container) > 1:
            other = rng.choice([k for k in container if k != key])
            container[other] = copy.deepcopy(container[key])


def _mutate_json(rng: random.Random, data: bytes, kind: str) -> bytes | None:
    try:
        whole = orjson.loads(data)
    except orjson.JSONDecodeError:
        whole = None
    if whole is not None:
        _json_mutation(rng, whole, kind)
        return json.dumps(whole).encode()  # the stdlib writes ints past 64 bits too
    lines = data.splitlines()
    if not lines:
        return None
    i = rng.randrange(len(lines))
    try:
        rec = orjson.loads(lines[i])
    except orjson.JSONDecodeError:
        return None
    box = [rec]
    _json_mutation(rng, box, kind)
    lines[i:i + 1] = [json.dumps(r).encode() for r in box]
    return b"\n".join(lines) + b"\n"


_XML_VALUE = re.compile(rb'="([^"]*)"|>([^<>]+)<')
_XML_ELEMENT = re.compile(rb"<([A-Za-z_][\w.-]*)\b[^>]*?(?:/>|>.*?</\1>)", re.DOTALL)


def _mutate_xml(rng: random.Random, data: bytes, kind: str) -> bytes | None:
    """Delete, retype or duplicate attribute values, element texts and whole elements."""
    out = data
    for _ in range(rng.randint(1, 3)):
        if kind == "swap":
            spots = list(_XML_VALUE.finditer(out))
            if not spots:
                return None
            m = rng.choice(spots)
            g = 1 if m.group(1) is not None else 2
            junk = str(rng.choice(JUNK + COLUMN_JUNK)).encode()
            junk = junk.replace(b"<", b"").replace(b'"', b"").replace(b"&", b"")
            out = out[:m.start(g)] + junk + out[m.end(g):]
            continue
        elements = list(_XML_ELEMENT.finditer(out))
        if not elements:
            return None
        m = rng.choice(elements[1:] or elements)
        piece = out[m.start():m.end()]
        out = out[:m.start()] + (piece * 2 if kind == "duplicate" else b"") + out[m.end():]
    return out


def _mutate_columns(rng: random.Random, data: bytes) -> bytes | None:
    lines = data.split(b"\n")
    rows = [i for i, line in enumerate(lines) if line.strip() and not line.startswith(b"#")]
    if not rows:
        return None
    for _ in range(rng.randint(1, 3)):
        i = rng.choice(rows)
        sep = b"\t" if b"\t" in lines[i] else b" "
        cols = lines[i].split(sep)
        j = rng.randrange(len(cols))
        r = rng.random()
        if r < 0.5:
            cols[j] = rng.choice(COLUMN_JUNK).encode()
        elif r < 0.75:
            del cols[j]
        else:
            cols.insert(j, cols[j])
        lines[i] = sep.join(cols)
    return b"\n".join(lines)


def _mutate_lines(rng: random.Random, data: bytes) -> bytes:
    lines = data.split(b"\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    kind = rng.choice(["drop", "double", "swap", "blank", "crlf", "join"])
    if kind == "drop":
        del lines[i]
    elif kind == "double":
        lines.insert(i, lines[i])
    elif kind == "swap":
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "blank":
        lines.insert(i, rng.choice([b"", b" ", b"\t", b"\r"]))
    elif kind == "crlf":
        return b"\r\n".join(lines)
    elif i + 1 < len(lines):
        lines[i:i + 2] = [lines[i] + lines[i + 1]]
    return b"\n".join(lines)


def _mutate_encoding(rng: random.Random, data: bytes) -> bytes:
    text = data.decode("utf-8", "replace")
    kind = rng.choice(["utf16", "latin1", "invalid", "bom", "nul"])
    if kind == "utf16":
        return text.encode("utf-16")
    if kind == "latin1":
        return (text + "é").encode("latin-1", "replace")
    if kind == "bom":
        return b"\xef\xbb\xbf" + data
    at = rng.randrange(len(data) + 1)
    return data[:at] + (b"\xff\xfe\xc3" if kind == "invalid" else b"\x00") + data[at:]


MUTATIONS = ["flip", "truncate", "encoding", "lines", "delete", "swap", "duplicate", "columns"]


def mutate(rng: random.Random, data: bytes, fmt: str) -> tuple[str, bytes]:
    """(name of the mutation, mutated bytes)."""
    if not data:  # an empty file (a native part with no records): give it some bytes
        return "garbage", bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
    kind = rng.choice(MUTATIONS)
    out: bytes | None = None
    if kind in ("delete", "swap", "duplicate") and data.lstrip().startswith(b"<"):
        out = _mutate_xml(rng, data, kind)
    elif kind in ("delete", "swap", "duplicate"):
        out = _mutate_json(rng, data, kind)
    elif kind == "columns":
        out = _mutate_columns(rng, data)
    elif kind == "lines":
        out = _mutate_lines(rng, data)
    elif kind == "encoding":
        out = _mutate_encoding(rng, data)
    elif kind == "truncate":
        out = data[:rng.randrange(len(data))]
    if out is None:  # the mutation does not apply to this file: flip bytes instead
        kind = "flip"
        buf = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        out = bytes(buf)
    return kind, out


# -- running a case ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Foreign:
    """An exception that is not ours, where it was raised, and the case that raised it."""

    site: str
    error: str
    case: str

    def __str__(self) -> str:
        return f"{self.site}: {self.error}  [{self.case}]"


def _site(exc: BaseException) -> str:
    """The innermost frame of groundtruth's own code (where the foreign error escaped)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if Path(f.filename).resolve().is_relative_to(SRC)]
    if not frames:
        return "outside groundtruth"
    f = frames[-1]
    return f"{Path(f.filename).resolve().relative_to(SRC.parent)}:{f.lineno} ({f.name})"


def run_case(fmt: str, path: Path, out: Path, case: str,
             reached: Counter[str] | None = None) -> list[Foreign]:
    """Validate, read, write (the format itself and native) and read back `path`.

    `reached` counts the steps that succeeded (so a test can tell the mutations leave most
    files readable, and the writers are exercised, not only the first error path).
    """
    found: list[Foreign] = []
    done = reached if reached is not None else Counter()

    def step(name: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
        except GroundtruthError:
            return None
        except Exception as exc:  # noqa: BLE001 - this is what the test looks for
            found.append(Foreign(_site(exc), f"{name}: {type(exc).__name__}: {exc}"[:300], case))
            return None
        done[name] += 1
        return result if result is not None else True

    native = fmt == "groundtruth"
    report = step("validate", gt.validate, str(path), format=None if native else fmt)
    if report is not None:  # validate turns a reader's crash into an issue: still a crash
        found.extend(Foreign(f"validate: {i.code}", i.message[:300], case)
                     for i in report.issues if i.code == "source.reader-failed")
    streamer = None if native else getattr(converters.get(fmt), "stream_to_native", None)
    if streamer is not None:  # what `gt convert --encoding parquet` runs (bounded memory)
        step("stream to native", streamer, str(path), str(out / "streamed"), encoding="parquet")
    ds = step("load", gt.load, str(path), format=None if native else fmt)
    if ds is None:
        return found
    if not native:
        target = out / f"back{path.suffix}"
        if step("save", gt.save, ds, str(target), format=fmt) is not None:
            step("reload", gt.load, str(target), format=fmt)
    for encoding in ("jsonl", "parquet") if LONG else ("jsonl",):
        dst = out / f"native-{encoding}"
        if step(f"save native {encoding}", gt.save, ds, str(dst), encoding=encoding) is not None:
            step(f"reload native {encoding}", gt.load, str(dst))
            if LONG:
                again = step(f"validate native {encoding}", gt.validate, str(dst))
                found.extend(Foreign(f"validate native: {i.code}", i.message[:300], case)
                             for i in getattr(again, "issues", []) if i.code.endswith(
                                 "reader-failed"))
    return found


@pytest.fixture(scope="module")
def native_bases(tmp_path_factory) -> list[Path]:
    """Small native datasets (JSONL) made from real files, to mutate file by file."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA}")
    root = tmp_path_factory.mktemp("native-bases")
    out = []
    for k, (fmt, rel) in enumerate(NATIVE_FROM):
        src = root / f"src{k}{Path(rel).suffix}"
        src.write_bytes(_base(rel, fmt))
        gt.save(gt.load(str(src), format=fmt), str(root / f"ds{k}"))
        out.append(root / f"ds{k}")
    return out


def _reseal(manifest: Path, part: str, data: bytes) -> None:
    """Make the manifest agree with a mutated part (size, hash, count), as a tamperer would,
    so the reader gets past the integrity check to the records."""
    doc = json.loads(manifest.read_bytes())
    for entry in doc.get("parts", []):
        if entry.get("path") == part:
            entry.update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                         records=data.count(b"\n"))
    manifest.write_text(json.dumps(doc))


def _cases(fmt: str) -> range:
    if ONLY:
        only_fmt, _, index = ONLY.partition(":")
        return range(int(index), int(index) + 1) if only_fmt == fmt else range(0)
    return range(FIRST, LAST)


def _prepare(fmt: str, i: int, work: Path, native_bases: list[Path]) -> tuple[Path, str]:
    """Write case `i` of `fmt` under `work`; (its path, its description)."""
    rng = random.Random(f"{fmt}:{i}")
    if fmt == "groundtruth":
        base = rng.choice(native_bases)
        ds = work / "ds"
        shutil.copytree(base, ds)
        target = rng.choice(sorted(p for p in ds.iterdir() if p.is_file()))
        kind, data = mutate(rng, target.read_bytes(), fmt)
        target.write_bytes(data)
        if target.name != "groundtruth.json" and rng.random() < 0.8:
            _reseal(ds / "groundtruth.json", target.name, data)
            kind += " (manifest resealed)"
        return ds, f"{fmt}:{i} {kind} of {base.name}/{target.name}"
    rel = rng.choice([r for r in FILES[fmt] if (SHARED_DATA / r).exists()])
    if (SHARED_DATA / rel).is_dir():  # a folder format: mutate one file of a copy
        folder = work / Path(rel).name
        shutil.copytree(SHARED_DATA / rel, folder)
        files = sorted(p for p in folder.rglob("*") if p.suffix in FOLDER_FILES)
        target = rng.choice(files)
        kind, data = mutate(rng, target.read_bytes(), fmt)
        target.write_bytes(data)
        return folder, f"{fmt}:{i} {kind} of {rel}/{target.relative_to(folder)}"
    kind, data = mutate(rng, _base(rel, fmt), fmt)
    path = work / Path(rel).name
    path.write_bytes(data)
    return path, f"{fmt}:{i} {kind} of {rel}"


FORMATS = sorted([*FILES, "groundtruth"])
# a handful of (format, command), each on its own mutated file, in a subprocess (~2 s each)
CLI_RUNS = [("coco", "convert"), ("conll", "validate"), ("labelstudio", "convert"),
            ("groundtruth", "validate"), ("yolo", "convert"), ("voc", "validate"),
            ("cvat", "convert")]


def test_every_registered_format_is_fuzzed():
    assert set(converters.available()) <= set(FORMATS), (
        "a registered format has no real files in the fuzz test: add them to FILES")


@pytest.mark.parametrize("fmt", FORMATS)
def test_mutated_real_files_raise_only_our_errors(fmt, tmp_path, native_bases):
    if fmt != "groundtruth" and not any((SHARED_DATA / r).exists() for r in FILES[fmt]):
        pytest.skip(f"no real {fmt} file in {SHARED_DATA}")
    found: list[Foreign] = []
    reached: Counter[str] = Counter()
    ran = 0
    for i in _cases(fmt):
        work = tmp_path / f"case{i}"
        work.mkdir()
        path, case = _prepare(fmt, i, work, native_bases)
        found.extend(run_case(fmt, path, work, case, reached))
        shutil.rmtree(work)
        ran += 1
    assert ran == len(_cases(fmt))
    if ran >= 50:  # many mutated files still read, so the writers are fuzzed too (the
        # native reader is strict: a record it cannot load is an error, not a skipped record)
        # (an XML reader refuses a file that is not well-formed as a whole: CVAT is one file)
        share = {"groundtruth": 10, "cvat": 5}.get(fmt, 3)
        assert reached["load"] >= ran // share, (fmt, ran, dict(reached))
        assert reached["save native jsonl"] >= ran // share, (fmt, ran, dict(reached))
    by_site: dict[str, list[Foreign]] = defaultdict(list)
    for f in found:
        by_site[f.site].append(f)
    summary = "\n".join(f"  {len(fs)}x {site}\n      e.g. {fs[0].error}\n      replay: "
                        f"GROUNDTRUTH_FUZZ_ONLY={fs[0].case.split()[0]}"
                        for site, fs in sorted(by_site.items(), key=lambda kv: -len(kv[1])))
    assert not found, (f"{len(found)} foreign exception(s) at {len(by_site)} code site(s) in "
                       f"{ran} {fmt} cases:\n{summary}")


def test_mutations_change_the_file_and_are_deterministic():
    data = b'{"images": [{"id": 1}], "annotations": [], "categories": []}'
    seen = set()
    changed = 0
    for i in range(40):
        a = mutate(random.Random(f"coco:{i}"), data, "coco")
        assert a == mutate(random.Random(f"coco:{i}"), data, "coco")
        seen.add(a[0])
        # (a swap may pick the value already there, a line edit may move nothing)
        changed += a[1] != data
    assert changed >= 32
    assert {"flip", "truncate", "encoding", "delete", "swap"} <= seen


# -- the CLI: a mutated file never prints a traceback -----------------------------------------
def test_cli_never_prints_a_traceback_on_mutated_files(tmp_path, native_bases):
    commands = []
    for fmt, command in CLI_RUNS:
        if fmt != "groundtruth" and not any((SHARED_DATA / r).exists() for r in FILES[fmt]):
            continue
        work = tmp_path / fmt
        work.mkdir()
        path, case = _prepare(fmt, 10_000, work, native_bases)
        args = [command, str(path)] + ([str(work / "out")] if command == "convert" else [])
        commands.append((case, args + ([] if fmt == "groundtruth" else ["--from", fmt])))
    assert len(commands) >= 2
    env = {**os.environ, "PYTHONPATH": str(SRC.parent)}
    env.pop("GROUNDTRUTH_DEBUG", None)
    for k in range(0, len(commands), 2):  # two at a time: the machine is shared
        procs = [(case, args, subprocess.Popen(
            [sys.executable, "-m", "groundtruth", *args], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=env)) for case, args in commands[k:k + 2]]
        for case, args, proc in procs:
            _, err = proc.communicate(timeout=120)
            assert "Traceback" not in err, (case, args, err)
            assert proc.returncode in (0, 1, 2), (case, args, proc.returncode, err)
