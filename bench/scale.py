"""Scale-out benchmark (issue 9): a sharded Parquet dataset on a local S3 endpoint, processed
single-process and by the Dask engine.

    python bench/scale.py                      # 1M annotations (a few minutes)
    python bench/scale.py --scale 10M          # the demonstration: 10M annotations
    python bench/run.py --only scale --annotations 200000

A moto S3 server runs in its own process on 127.0.0.1 (the data never touches local disk). The
dataset is generated part by part, in parallel, straight into the bucket: 10 annotations per
image item (boxes, classes, polygons), 1M rows per part, manifest last. Then `stats` (what
`gt info` reads), `fingerprint` (every record, canonical form), `validate` (every layer of
`gt validate`) and, with `--ops diff`, `diff` (against a second version with 5% of labels
changed) run twice: single-process (in a fresh process so its peak memory is its own; for
validate and diff, the plain `gt.validate` / `gt.diff` without an engine) and on a Dask
LocalCluster of N worker processes (each worker's peak RSS reported). Each Dask result must
equal the single-process one (for validate and diff: the whole report).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import resource
import socket
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

LABELS = ["car", "person", "bicycle", "truck", "bus", "dog", "traffic light", "stop sign"]
OPS = ("stats", "fingerprint", "validate", "diff")
PER_ITEM = 10


def parse_scale(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    mult = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if mult > 1 else text) * mult)


# ---------------------------------------------------------------------------------------------
# the S3 endpoint


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"http://127.0.0.1:{port}"
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("moto server did not start")


def options(endpoint: str) -> dict[str, Any]:
    return {"endpoint_url": endpoint, "key": "testing", "secret": "testing", "anon": False}


# ---------------------------------------------------------------------------------------------
# generation: one part per task, Arrow built column-wise with numpy


def _annotations(start: int, count: int, seed: int, edit: bool = False) -> Any:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from groundtruth.io._arrow import ANNOTATION_SCHEMA

    rng = np.random.default_rng(seed + start)
    n = np.arange(start, start + count)
    kind = n % 10  # 7 boxes, 2 classifications, 1 polygon in 10
    types = np.where(kind < 7, "bbox", np.where(kind < 9, "classification", "polygon"))
    x, y = rng.uniform(0, 560, count), rng.uniform(0, 400, count)
    w, h = rng.uniform(2, 80, count), rng.uniform(2, 80, count)
    box_vals = np.stack([x, y, w, h], axis=1).ravel()
    boxes = pa.ListArray.from_arrays(pa.array(np.arange(0, 4 * count + 1, 4, dtype=np.int32)),
                                     pa.array(box_vals))
    ring = np.stack([x, y, x + w, y, x + w, y + h], axis=1).ravel()
    rings = pa.ListArray.from_arrays(pa.array(np.arange(0, 6 * count + 1, 6, dtype=np.int32)),
                                     pa.array(ring))
    polys = pa.ListArray.from_arrays(pa.array(np.arange(0, count + 1, dtype=np.int32)), rings)
    is_box, is_poly = pa.array(kind < 7), pa.array(kind == 9)
    t0 = np.datetime64("2025-01-01T00:00:00", "us")
    columns = {
        "id": pa.array([f"a{i:010d}" for i in n]),
        "item_id": pa.array([f"i{i // PER_ITEM:09d}" for i in n]),
        "type": pa.array(types),
        "label": pa.array(np.where((n % 20 == 0) & edit, "truck",
                                   np.array(LABELS)[rng.integers(0, len(LABELS), count)])),
        "annotator": pa.array(np.char.add("ann-", rng.integers(0, 20, count).astype(str))),
        "created": pa.array(t0 + n.astype("timedelta64[s]")).cast(pa.timestamp("us", tz="UTC")),
        "confidence": pa.array(np.round(rng.uniform(0, 1, count), 3)),
        "status": pa.array(np.where(n % 3 == 0, "accepted", "submitted")),
        "bbox": pc.if_else(is_box, boxes, pa.nulls(count, boxes.type)),
        "polygon": pc.if_else(is_poly, polys, pa.nulls(count, polys.type)),
    }
    arrays = [columns[f.name].cast(f.type) if f.name in columns else pa.nulls(count, f.type)
              for f in ANNOTATION_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=ANNOTATION_SCHEMA)


def _items(start: int, count: int) -> Any:
    import numpy as np
    import pyarrow as pa

    from groundtruth.io._arrow import ITEM_SCHEMA

    n = np.arange(start, start + count)
    columns = {
        "id": pa.array([f"i{i:09d}" for i in n]),
        "kind": pa.array(["image"] * count),
        "uri": pa.array([f"s3://fleet/frames/{i}.jpg" for i in n]),
        "width": pa.array(np.full(count, 640)), "height": pa.array(np.full(count, 480)),
        "split": pa.array(np.where(n % 10 == 0, "val", "train")),
    }
    arrays = [columns[f.name].cast(f.type) if f.name in columns else pa.nulls(count, f.type)
              for f in ITEM_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=ITEM_SCHEMA)


def make_part(spec: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """Generate one part, upload it, return its manifest entry and partial fingerprint."""
    import fsspec
    import pyarrow.parquet as pq

    from groundtruth import batch as B

    kind, index, start, count = spec["kind"], spec["index"], spec["start"], spec["count"]
    table = (_items(start, count) if kind == "items"
             else _annotations(start, count, spec["seed"], spec.get("edit", False)))
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", row_group_size=65536)
    data = buf.getvalue()
    rel = f"{kind}/part-{index:05d}.parquet"
    fs, root = fsspec.core.url_to_fs(spec["url"], **spec["options"])
    fs.pipe_file(f"{root}/{rel}", data)
    fp = B.Fingerprinter()
    for b in table.to_batches(max_chunksize=65536):
        fp.merge(B.fingerprint_batch(b, kind))
    part = {"path": rel, "kind": kind, "records": count, "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}
    return part, fp


def generate(url: str, opts: dict[str, Any], n_annotations: int, engine: Any,
             rows_per_part: int = 1_000_000, seed: int = 0, edit: bool = False) -> None:
    """The dataset; `edit`: a second version, every 20th annotation relabelled `truck`."""
    import fsspec
    import orjson

    from groundtruth.engine.synthetic import manifest as synthetic_manifest
    from groundtruth.fingerprint import Fingerprinter
    from groundtruth.models import Annotator, Label, LabelSet, Part, Taxonomy

    n_items = -(-n_annotations // PER_ITEM)
    specs = []
    for kind, total in (("items", n_items), ("annotations", n_annotations)):
        for index, start in enumerate(range(0, total, rows_per_part)):
            specs.append({"url": url, "options": opts, "kind": kind, "index": index,
                          "start": start, "count": min(rows_per_part, total - start),
                          "seed": seed, "edit": edit})
    results = engine.map(make_part, specs)
    fp = Fingerprinter()
    for _, partial in results:
        fp.merge(partial)
    m = synthetic_manifest("fleet-frames").model_copy(update={
        "taxonomy": Taxonomy(label_sets=[LabelSet(name="objects",
                                                  labels=[Label(name=x) for x in LABELS])]),
        "annotators": [Annotator(id=f"ann-{k}", kind="human") for k in range(20)]})
    m = m.model_copy(update={"encoding": "parquet",
                             "parts": [Part(**p) for p, _ in results]})
    m = m.model_copy(update={"fingerprint": fp.hexdigest(m)})
    fs, root = fsspec.core.url_to_fs(url, **opts)
    fs.pipe_file(f"{root}/groundtruth.json", orjson.dumps(m.to_json_dict()))  # manifest last


# ---------------------------------------------------------------------------------------------
# measuring


def run_op(op: str, url: str, opts: dict[str, Any], engine: Any) -> Any:
    import groundtruth.engine as gte

    if op == "stats":
        return gte.stats(url, engine=engine, storage_options=opts)["annotations"]
    if op == "fingerprint":
        return gte.fingerprint(url, engine=engine, storage_options=opts)
    import groundtruth as gt

    if op == "diff":  # against the edited second version; single process: plain `gt.diff`
        d = gt.diff(url, url + "-v2", storage_options=opts,
                    engine=None if engine == "local" else engine)
        return hashlib.sha256(json.dumps(d.to_dict(), sort_keys=True).encode()).hexdigest()
    # single process: the plain `gt.validate` (no engine); the engine's report must equal it
    report = gt.validate(url, storage_options=opts, engine=None if engine == "local" else engine)
    if report.errors:
        raise RuntimeError(f"generated data should be valid: {report.issues[:3]}")
    return hashlib.sha256(json.dumps(report.to_dict(), sort_keys=True).encode()).hexdigest()


def _single(op: str, url: str, opts: dict[str, Any]) -> dict[str, Any]:
    """One op in a fresh process, engine="local": its time and its own peak memory."""
    env = {**os.environ, "PYTHONPATH": os.path.join(HERE, "..", "src")}
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--single", op, url,
                          json.dumps(opts)], capture_output=True, text=True, env=env,
                         check=False)
    if out.returncode:
        raise RuntimeError(f"single-process {op} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def bench(n_annotations: int, workers: int = 2, rows_per_part: int | None = None,
          ops: tuple[str, ...] = OPS[:3], emit: Any = None) -> list[dict[str, Any]]:
    import groundtruth.engine as gte

    proc, endpoint = start_moto()
    opts = options(endpoint)
    class _Rows(list[dict[str, Any]]):  # prints each row as it is measured
        def append(self, row: dict[str, Any]) -> None:
            super().append(row)
            if emit is not None:
                emit(row)

    rows = _Rows()
    try:
        import fsspec

        fsspec.filesystem("s3", **opts).mkdir("bench")
        url = "s3://bench/fleet"
        per_part = rows_per_part or min(1_000_000, max(50_000, n_annotations // 8))
        with gte.get_engine("dask", workers=workers) as eng:
            t = time.perf_counter()
            generate(url, opts, n_annotations, eng, rows_per_part=per_part)
            if "diff" in ops:
                generate(url + "-v2", opts, n_annotations, eng, rows_per_part=per_part,
                         edit=True)
            gen_s = time.perf_counter() - t
            rows.append(_row(f"generate + upload ({n_annotations:,} annotations)", gen_s,
                             max(eng.peak_memory_mb().values()), n_annotations, None, "dask"))
        for op in ops:
            single = _single(op, url, opts)
            rows.append(_row(f"{op} single-process", single["seconds"], single["peak_mb"],
                             n_annotations, None, "local", single["cpu"]))
            # a fresh cluster per operation: its workers' peak memory is this operation's
            with gte.get_engine("dask", workers=workers) as eng:
                eng.client.run(_warm_up)  # imports happen before the clock starts
                cpu0 = sum(eng.client.run(_cpu_seconds).values())
                t = time.perf_counter()
                result = run_op(op, url, opts, eng)
                seconds = time.perf_counter() - t
                cpu = sum(eng.client.run(_cpu_seconds).values()) - cpu0
                assert str(result) == single["result"], (op, result, single["result"])
                rows.append(_row(f"{op} dask ({workers} workers)", seconds,
                                 max(eng.peak_memory_mb().values()), n_annotations,
                                 single["seconds"] / seconds, "dask", cpu))
    finally:
        proc.terminate()
        proc.wait(10)
    return rows


def _warm_up() -> None:
    import groundtruth.engine.tasks  # noqa: F401


def _cpu_seconds() -> float:
    """CPU time of this process so far (user + system): throughput per CPU-second does not
    depend on how busy the machine is, wall time does."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _row(name: str, seconds: float, peak_mb: float, n: int, speedup: float | None,
         engine: str, cpu: float | None = None) -> dict[str, Any]:
    return {"benchmark": name, "seconds": seconds, "peak_mb": peak_mb,
            "throughput": n / seconds, "vs_anchor": speedup, "engine": engine,
            "per_cpu_second": n / cpu if cpu else None,
            "target": "same result as single-process" if speedup is not None else ""}


def run(annotations: int, workdir: str) -> list[dict[str, Any]]:
    """Entry point for bench/run.py (vs_anchor = speed-up over single-process)."""
    return bench(annotations)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--single":
        op, url, opts = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
        t = time.perf_counter()
        cpu0 = _cpu_seconds()
        result = run_op(op, url, opts, "local")
        seconds = time.perf_counter() - t
        cpu = _cpu_seconds() - cpu0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"seconds": seconds, "peak_mb": peak, "result": str(result),
                          "cpu": cpu}))
        return
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", default="1M", help="annotations: 200k, 1M, 10M ...")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rows-per-part", type=int, default=None)
    p.add_argument("--ops", nargs="*", default=list(OPS[:3]), choices=OPS,
                   help="default: stats fingerprint validate (diff: one process streams both "
                        "versions, slow at 10M)")
    args = p.parse_args()
    n = parse_scale(args.scale)
    print("| benchmark | seconds | annotations/s | annotations per CPU-s | "
          "peak MB (per worker) | speed-up |")
    print("|---|---:|---:|---:|---:|---:|", flush=True)

    def emit(r: dict[str, Any]) -> None:
        speedup = f"{r['vs_anchor']:.2f}x" if r["vs_anchor"] else ""
        per_cpu = f"{r['per_cpu_second']:,.0f}" if r.get("per_cpu_second") else ""
        print(f"| {r['benchmark']} | {r['seconds']:.1f} | {r['throughput']:,.0f} | {per_cpu} | "
              f"{r['peak_mb']:.0f} | {speedup} |", flush=True)

    bench(n, args.workers, args.rows_per_part, tuple(args.ops), emit)


if __name__ == "__main__":
    main()
