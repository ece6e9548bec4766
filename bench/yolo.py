"""YOLO at scale: a generated Ultralytics folder -> native Parquet, peak memory by folder size.

    python bench/yolo.py memory 10000 100000 [--workdir=DIR]   # DIR keeps the folders
    python bench/yolo.py compare 5000 DIR     # vs Datumaro: COCO -> YOLO, YOLO -> native

Each folder has `data.yaml` (80 classes), `labels/train/<n>.txt` with 0-14 boxes (7 on
average, like COCO train2017) and `image_sizes.json` (no images: sizes come from that file).
A run converts it with `yolo_to_native` (the streaming path of `gt convert --encoding
parquet`), then the native dataset back with `native_to_yolo` (the path of `gt convert NATIVE
--to yolo`), each in a fresh process, and prints seconds and peak RSS (self + children), so
flat memory shows as the same peak at 10x the images.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def generate(root: Path, images: int, seed: int = 0) -> dict[str, int]:
    """An Ultralytics detection folder of `images` label files and a sizes file."""
    rng = random.Random(seed)
    labels = root / "labels" / "train"
    labels.mkdir(parents=True, exist_ok=True)
    names = "\n".join(f"  {i}: class_{i}" for i in range(80))
    (root / "data.yaml").write_text(f"path: .\ntrain: images/train\nnames:\n{names}\n")
    boxes = 0
    with open(root / "image_sizes.json", "w") as sizes:
        sizes.write("{\n")
        for n in range(images):
            rows = []
            for _ in range(rng.randint(0, 14)):
                w, h = rng.uniform(0.01, 0.5), rng.uniform(0.01, 0.5)
                cx, cy = rng.uniform(w / 2, 1 - w / 2), rng.uniform(h / 2, 1 - h / 2)
                rows.append(f"{rng.randrange(80)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
            boxes += len(rows)
            (labels / f"{n:012d}.txt").write_text("".join(rows))
            sep = ",\n" if n < images - 1 else "\n"
            sizes.write(f'  "images/train/{n:012d}.jpg": {{"width": 640, "height": 480}}{sep}')
        sizes.write("}\n")
    return {"images": images, "boxes": boxes}


def _child(src: str, dst: str) -> None:
    from groundtruth.converters.yolo import yolo_to_native

    t0 = time.perf_counter()
    result = yolo_to_native(src, dst, encoding="parquet")
    seconds = time.perf_counter() - t0
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
               + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "items": result.items,
                      "annotations": result.annotations, "issues": len(result.issues)}))


def _child_write(src: str, dst: str) -> None:
    from groundtruth.converters.yolo import native_to_yolo

    t0 = time.perf_counter()
    native_to_yolo(src, dst)
    seconds = time.perf_counter() - t0
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
               + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    print(json.dumps({"write_seconds": seconds, "write_peak_mb": peak_mb}))


def memory(sizes: list[int], workdir: str | None = None) -> list[dict[str, float]]:
    """Generate (or reuse, in `workdir`) the folders and measure each conversion."""
    keep = workdir is not None
    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="gt-bench-yolo-"))
    rows = []
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    try:
        for n in sizes:
            src = base / f"yolo_{n}"
            info_file = base / f"yolo_{n}.json"
            if keep and info_file.exists():
                info = json.loads(info_file.read_text())
            else:
                info = generate(src, n)
                info_file.write_text(json.dumps(info))
            dst = base / f"native_{n}"
            shutil.rmtree(dst, ignore_errors=True)
            proc = subprocess.run([sys.executable, __file__, "--child", str(src), str(dst)],
                                  capture_output=True, text=True, env=env, check=True)
            got = json.loads(proc.stdout.strip().splitlines()[-1])
            back = base / f"yolo_back_{n}"
            shutil.rmtree(back, ignore_errors=True)
            proc = subprocess.run([sys.executable, __file__, "--child-write", str(dst), str(back)],
                                  capture_output=True, text=True, env=env, check=True)
            got.update(json.loads(proc.stdout.strip().splitlines()[-1]))
            rows.append({**info, **got})
            shutil.rmtree(dst)
            shutil.rmtree(back)
            if not keep:
                shutil.rmtree(src)
    finally:
        if not keep:
            shutil.rmtree(base, ignore_errors=True)
    return rows


GEN_COCO = ROOT.parent / "shared" / "bench" / "gen_coco.py"

_GT_TASKS = {
    # COCO -> YOLO detection, darknet layout: what Datumaro's `yolo` exporter writes (its
    # `yolo_ultralytics` exporter refuses a dataset without a val subset). Whole process.
    "coco-to-yolo": "import groundtruth as gt\n"
                    "gt.save(gt.load(SRC, format='coco'), DST, format='yolo', task='detect',\n"
                    "        layout='darknet')",
    "yolo-to-native": "from groundtruth.converters.yolo import yolo_to_native\n"
                      "yolo_to_native(SRC, DST, encoding='parquet')",
}
_DM_TASKS = {
    "coco-to-yolo": "import datumaro as dm, os, shutil\n"
                    "root = DST + '.in'; os.makedirs(root + '/annotations', exist_ok=True)\n"
                    "shutil.copy(SRC, root + '/annotations/instances_train.json')\n"
                    "os.makedirs(root + '/images/train', exist_ok=True)\n"
                    "dm.Dataset.import_from(root, 'coco_instances').export(DST, 'yolo')",
    "yolo-to-native": "import datumaro as dm\n"
                      "dm.Dataset.import_from(SRC, 'yolo').export(DST, 'datumaro')",
}
_MEASURED = """
import json, resource, sys, time
SRC, DST = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
{code}
seconds = time.perf_counter() - t0
usage = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
cpu = sum(u.ru_utime + u.ru_stime for u in usage)  # whole process: imports included
peak = sum(u.ru_maxrss for u in usage) / 1024
print(json.dumps({{"seconds": seconds, "cpu": cpu, "peak_mb": peak}}))
"""


def _run(python: str, code: str, src: Path, dst: Path) -> dict[str, float] | None:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src")
    proc = subprocess.run([python, "-c", _MEASURED.format(code=code), str(src), str(dst)],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
        return None
    out: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def compare(images: int, workdir: str) -> list[dict[str, object]]:
    """COCO (gen_coco.py, train2017-shaped) -> YOLO and YOLO -> native, groundtruth vs Datumaro
    (its own venv, tests/datumaro_env.py), whole process (imports included), same run."""
    sys.path.insert(0, str(ROOT))
    from PIL import Image

    from tests.datumaro_env import ensure_venv

    base = Path(workdir)
    base.mkdir(parents=True, exist_ok=True)
    coco = base / f"coco_{images}.json"
    if not coco.exists():
        subprocess.run([sys.executable, str(GEN_COCO), "--images", str(images), "--out",
                        str(coco)], check=True)
    dm_python = str(ensure_venv())
    rows: list[dict[str, object]] = []
    yolo = base / "gt-yolo"
    for task in ("coco-to-yolo", "yolo-to-native"):
        src = coco if task == "coco-to-yolo" else yolo
        if task == "yolo-to-native":
            # Datumaro reads image sizes from the images: blank ones, the sizes we wrote.
            sizes = json.loads((yolo / "image_sizes.json").read_text())
            for rel, size in sizes.items():
                path = yolo / rel
                if not path.exists():
                    path.parent.mkdir(parents=True, exist_ok=True)
                    Image.new("L", (size["width"], size["height"])).save(path, "JPEG")
        for who, python, code in (("groundtruth", sys.executable, _GT_TASKS[task]),
                                  ("datumaro", dm_python, _DM_TASKS[task])):
            dst = yolo if (task, who) == ("coco-to-yolo", "groundtruth") else base / f"{who}-{task}"
            shutil.rmtree(dst, ignore_errors=True)
            shutil.rmtree(str(dst) + ".in", ignore_errors=True)
            got = _run(python, code, src, dst)
            rows.append({"task": task, "tool": who,
                         **(got or {"seconds": None, "cpu": None, "peak_mb": None})})
    return rows


def main() -> None:
    if sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
        return
    if sys.argv[1] == "--child-write":
        _child_write(sys.argv[2], sys.argv[3])
        return
    if sys.argv[1] == "memory":
        args = [a for a in sys.argv[2:] if not a.startswith("--workdir=")]
        workdir = next((a.split("=", 1)[1] for a in sys.argv[2:] if a.startswith("--workdir=")),
                       None)
        rows = memory([int(v) for v in args] or [10_000, 100_000], workdir)
        print("| images | boxes | YOLO -> native s | peak MB | native -> YOLO s | peak MB |")
        print("|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['images']:,} | {r['boxes']:,} | {r['seconds']:.1f} | {r['peak_mb']:.0f} "
                  f"| {r['write_seconds']:.1f} | {r['write_peak_mb']:.0f} |")
        return
    if sys.argv[1] == "compare":
        n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
        rows = compare(n, sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp())
        print("| task | tool | wall s | CPU s | peak MB |")
        print("|---|---|---:|---:|---:|")
        for r in rows:
            sec = "failed" if r["seconds"] is None else f"{r['seconds']:.1f}"
            cpu = "" if r.get("cpu") is None else f"{r['cpu']:.1f}"
            mb = "" if r["peak_mb"] is None else f"{r['peak_mb']:.0f}"
            print(f"| {r['task']} | {r['tool']} | {sec} | {cpu} | {mb} |")
        return
    raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
