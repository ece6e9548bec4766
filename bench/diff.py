"""Benchmark `groundtruth.diff`: two versions of a detection dataset, stable and renumbered ids.

    python bench/diff.py [ANNOTATIONS] [WORKDIR]   # default 1,000,000 stable, 100,000 renumbered
    python bench/run.py --only diff                # as a suite of the lead's runner

Rows (each measured in a fresh subprocess, so peak memory is that run's own high-water mark,
read from /proc/self/status VmHWM):

- floor: a bare read of both native datasets (`iter_records`, every record validated, nothing
  kept): the anchor of the stable-id diff.
- `gt diff`, ids stable, 5% of annotations changed (label flips, moved boxes, removals,
  additions). Target: within 5x of the floor.
- the same at a tenth of the size: the anchor of the next row.
- every annotation id renumbered (the same numbers, shuffled), matched by content (auto
  detects it). Target: within 3x of the stable-id diff of the same size.
- peak memory of the big diff over the small one.

Datasets are generated once per size into WORKDIR (default: GT_BENCH_DIR or a temp folder),
Parquet encoding, 10 boxes per image.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LABELS = ("car", "person", "bike", "dog", "cat", "truck", "bus", "sign")
PER_ITEM = 10


def _generate(folder: Path, n_annotations: int, *, renumber: bool, encoding: str,
              seed: int = 0) -> None:
    """v1 and v2 (5% changed) of an image dataset with `PER_ITEM` boxes per image."""
    sys.path.insert(0, str(ROOT / "src"))
    from groundtruth.io import DatasetWriter
    from groundtruth.models import BBox, Item, Label, LabelSet, Manifest, Taxonomy

    rng = random.Random(seed)
    manifest = Manifest(name="bench", taxonomy=Taxonomy(label_sets=[
        LabelSet(name="objects", labels=[Label(name=x) for x in LABELS])]))
    n_items = max(1, n_annotations // PER_ITEM)
    # new ids: a shuffled numbering (the same numbers, other annotations) when renumbering
    new_numbers = list(range(1, n_annotations + 1))
    if renumber:
        rng.shuffle(new_numbers)
    w1 = DatasetWriter(str(folder / "v1"), encoding=encoding)  # type: ignore[arg-type]
    w2 = DatasetWriter(str(folder / "v2"), encoding=encoding)  # type: ignore[arg-type]
    items = [Item(id=f"{i:08d}", kind="image", uri=f"img/{i:08d}.jpg",
                                  width=640, height=480) for i in range(n_items)]
    for it in items:
        w1.write(it)
        w2.write(it)
    pending_v2: list[Any] = []
    n = 0
    extra = 0
    for i in range(n_items):
        item_id = f"{i:08d}"
        v2_here = []
        for k in range(PER_ITEM):
            n += 1
            x, y = (k % 5) * 120 + 10.0, (k // 5) * 200 + 10.0
            a = BBox(id=str(n), item_id=item_id, type="bbox",
                                     label=LABELS[(i + k) % len(LABELS)],
                                     bbox=[x, y, 100.0, 150.0], annotator="vendor")
            w1.write(a)
            r = rng.random()
            b = a
            if r < 0.0125:
                continue  # removed
            if r < 0.025:
                b = a.model_copy(update={"label": LABELS[(i + k + 1) % len(LABELS)]})
            elif r < 0.0375:
                b = a.model_copy(update={"bbox": [x + 4.0, y + 3.0, 100.0, 150.0]})
            b = b.model_copy(update={"id": str(new_numbers[n - 1])})
            v2_here.append(b)
        if rng.random() < 0.125:  # ~1.25% of annotations added
            extra += 1
            v2_here.append(BBox(
                id=str(n_annotations + extra), item_id=item_id, type="bbox", label="sign",
                bbox=[600.0 - 30, 400.0, 30.0, 30.0], annotator="vendor"))
        v2_here.sort(key=lambda a: (len(a.id), a.id))
        pending_v2.extend(v2_here)
        if len(pending_v2) > 50_000:
            for b in pending_v2:
                w2.write(b)
            pending_v2 = []
    for b in pending_v2:
        w2.write(b)
    w1.close(manifest)
    w2.close(manifest)


def _measure(code: str) -> dict[str, Any]:
    """Run `code` in a fresh interpreter; it sets `result` (a dict). Time and peak RSS."""
    wrapper = f"""
import json, resource, sys, time
def hwm_mb():
    # VmHWM restarts at exec; ru_maxrss would carry the parent's peak over (Linux)
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
sys.path.insert(0, {str(ROOT / "src")!r})
import groundtruth as gt
base = hwm_mb()
t0 = time.perf_counter()
{code}
seconds = time.perf_counter() - t0
print(json.dumps({{"seconds": seconds, "peak_mb": hwm_mb(), "import_mb": base,
                  "result": result}}))
"""
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


_READ = """
n = 0
for url in ({a!r}, {b!r}):
    for _ in gt.iter_records(url):
        n += 1
result = {{"records": n}}
"""
_DIFF = """
d = gt.diff({a!r}, {b!r}, match_by={how!r})
s = d.summary["annotations"]
result = {{k: s[k] for k in ("added", "removed", "changed", "unchanged")}}
result["streamed"] = d.match_by["streamed"]
"""


def _dataset(cache: Path, n: int, renumber: bool, encoding: str) -> Path:
    folder = cache / f"{'renum' if renumber else 'stable'}-{n}-{encoding}"
    if not (folder / "v2" / "groundtruth.json").exists():
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        _generate(folder, n, renumber=renumber, encoding=encoding)
        print(f"# generated {folder.name} in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return folder


def _coco_versions(folder: Path, n_annotations: int, seed: int = 0) -> tuple[Path, Path]:
    """Two COCO instance files of `n_annotations` boxes+polygons (10 per image), v2 with 5%
    changed: categories flipped, boxes moved, annotations dropped and added."""
    import orjson

    a_path, b_path = folder / "coco-v1.json", folder / "coco-v2.json"
    if b_path.exists():
        return a_path, b_path
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    n_images = max(1, n_annotations // PER_ITEM)
    cats = [{"id": i + 1, "name": name, "supercategory": "thing"}
            for i, name in enumerate(LABELS)]
    images = [{"id": i + 1, "file_name": f"{i + 1:012d}.jpg", "width": 640, "height": 480}
              for i in range(n_images)]
    v1: list[dict[str, Any]] = []
    v2: list[dict[str, Any]] = []
    n = 0
    for img in range(1, n_images + 1):
        for k in range(PER_ITEM):
            n += 1
            x, y = (k % 5) * 120 + 10.0, (k // 5) * 200 + 10.0
            ann = {"id": n, "image_id": img, "category_id": (img + k) % len(LABELS) + 1,
                   "bbox": [x, y, 100.0, 150.0], "area": 15000.0, "iscrowd": 0,
                   "segmentation": [[x, y, x + 100, y, x + 100, y + 150, x, y + 150]]}
            v1.append(ann)
            r = rng.random()
            if r < 0.0125:
                continue
            new = dict(ann)
            if r < 0.025:
                new["category_id"] = new["category_id"] % len(LABELS) + 1
            elif r < 0.0375:
                new["bbox"] = [x + 4.0, y + 3.0, 100.0, 150.0]
                new["segmentation"] = [[x + 4, y + 3, x + 104, y + 3, x + 104, y + 153,
                                        x + 4, y + 153]]
            v2.append(new)
    for path, anns in ((a_path, v1), (b_path, v2)):
        path.write_bytes(orjson.dumps({"images": images, "annotations": anns,
                                       "categories": cats}))
    return a_path, b_path


_COCO_LOAD = """
from pycocotools.coco import COCO
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    for p in ({a!r}, {b!r}):
        COCO(p)
result = {{}}
"""
_COCO_DIFF = """
d = gt.diff({a!r}, {b!r}, format="coco")
s = d.summary["annotations"]
result = {{k: s[k] for k in ("added", "removed", "changed", "unchanged")}}
"""
_DATUMARO = """
import datumaro as dm
from datumaro.components.operations import compare_datasets
a = dm.Dataset.import_from({a!r}, "coco_instances")
b = dm.Dataset.import_from({b!r}, "coco_instances")
compare_datasets(a, b)
result = {{}}
"""


def run_coco(annotations: int, workdir: Path) -> list[dict[str, Any]]:
    """`gt diff --from coco` beside loading both files with pycocotools (and Datumaro's compare
    where it is installed). Skipped (no rows) until the `coco` converter is registered."""
    sys.path.insert(0, str(ROOT / "src"))
    import importlib.util

    import groundtruth as gt

    if "coco" not in gt.available_formats():
        print("# coco converter not registered: COCO rows skipped", file=sys.stderr)
        return []
    a, b = _coco_versions(workdir / f"coco-{annotations}", annotations)
    rows: list[dict[str, Any]] = []
    floor = _measure(_COCO_LOAD.format(a=str(a), b=str(b)))
    rows.append({"benchmark": f"floor: pycocotools COCO() of both files ({annotations:,})",
                 "seconds": round(floor["seconds"], 2), "peak_mb": round(floor["peak_mb"], 1),
                 "vs_anchor": None, "target": ""})
    m = _measure(_COCO_DIFF.format(a=str(a), b=str(b)))
    rows.append({"benchmark": f"gt diff --from coco ({annotations:,})",
                 "seconds": round(m["seconds"], 2), "peak_mb": round(m["peak_mb"], 1),
                 "vs_anchor": round(m["seconds"] / floor["seconds"], 2), "target": "<= 1x",
                 **m["result"]})
    if importlib.util.find_spec("datumaro") is not None:
        d = _measure(_DATUMARO.format(a=str(a), b=str(b)))
        rows.append({"benchmark": f"Datumaro compare ({annotations:,})",
                     "seconds": round(d["seconds"], 2), "peak_mb": round(d["peak_mb"], 1),
                     "vs_anchor": round(d["seconds"] / m["seconds"], 2),
                     "target": ">= 10x gt diff"})
    return rows


def run(annotations: int = 1_000_000, workdir: str | None = None) -> list[dict[str, Any]]:
    """The suite for `bench/run.py`: rows {benchmark, seconds, peak_mb, vs_anchor, target}.

    `annotations` is the size of the stable-id case; the renumbered case is a tenth of it.
    """
    cache = Path(workdir or os.environ.get("GT_BENCH_DIR")
                 or tempfile.mkdtemp(prefix="gt-bench-diff-"))
    big, small = max(1000, annotations), max(1000, annotations // 10)
    rows: list[dict[str, Any]] = []

    def row(name: str, m: dict[str, Any] | None, anchor: dict[str, Any] | None = None,
            target: str = "", **extra: Any) -> None:
        r = {"benchmark": name, "seconds": round(m["seconds"], 3) if m else None,
             "peak_mb": round(m["peak_mb"], 1) if m else None,
             "vs_anchor": round(m["seconds"] / anchor["seconds"], 2) if m and anchor else None,
             "target": target, **(m["result"] if m else {}), **extra}
        rows.append(r)
        print(json.dumps(r), file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    stable = _dataset(cache, big, False, "parquet")
    stable_small = _dataset(cache, small, False, "parquet")
    renum = _dataset(cache, small, True, "parquet")
    rows.append({"benchmark": f"diff: generate the versions ({big:,} + 2x {small:,})",
                 "seconds": round(time.perf_counter() - t0, 1), "peak_mb": None,
                 "vs_anchor": None, "target": ""})
    a, b = str(stable / "v1"), str(stable / "v2")
    read = _measure(_READ.format(a=a, b=b))
    row(f"floor: read both versions, iter_records ({big:,} annotations each)", read)
    big_diff = _measure(_DIFF.format(a=a, b=b, how="auto"))
    row(f"gt diff, ids stable, 5% changed ({big:,})", big_diff, read, "<= 5x")
    small_diff = _measure(_DIFF.format(a=str(stable_small / "v1"), b=str(stable_small / "v2"),
                                       how="auto"))
    row(f"gt diff, ids stable ({small:,})", small_diff)
    row(f"gt diff, ids renumbered, by content ({small:,})",
        _measure(_DIFF.format(a=str(renum / "v1"), b=str(renum / "v2"), how="auto")),
        small_diff, "<= 3x (same size)")
    rows.append({"benchmark": f"diff peak memory {small:,} -> {big:,} (x{big // small})",
                 "seconds": None, "peak_mb": round(big_diff["peak_mb"], 1),
                 "vs_anchor": round(big_diff["peak_mb"] / small_diff["peak_mb"], 2),
                 "target": "grows with the changes kept, not the dataset"})
    rows += run_coco(annotations, cache)
    return rows


if __name__ == "__main__":
    n = int(float(sys.argv[1])) if len(sys.argv) > 1 else 1_000_000
    for r in run(n, sys.argv[2] if len(sys.argv) > 2 else None):
        print(f"{r['benchmark']:<70} {r['seconds']!s:>9} s {r['peak_mb']!s:>8} MB "
              f"{r['vs_anchor']!s:>6}x  {r['target']}")
