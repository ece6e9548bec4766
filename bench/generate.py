"""Synthetic native datasets for benchmarks: mixed item kinds and annotation types, seeded.

    python bench/generate.py OUT --annotations 1000000 --items 100000 --encoding parquet
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator

import groundtruth as gt
from groundtruth.io import DatasetWriter
from groundtruth.models import (
    AnnotationBase,
    Annotator,
    BBox,
    Classification,
    Guideline,
    GuidelineRef,
    Item,
    Keypoints,
    Label,
    LabelSet,
    Manifest,
    Polygon,
    Span,
    Split,
    Taxonomy,
)

OBJECTS = ["car", "person", "bicycle", "truck", "bus", "dog", "traffic light", "stop sign"]
ENTITIES = ["PER", "ORG", "LOC", "MISC"]
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "seven", "bright", "stars", "shine"]


def manifest(n_annotators: int = 20) -> Manifest:
    return Manifest(
        name="bench",
        taxonomy=Taxonomy(label_sets=[
            LabelSet(name="objects", annotation_types=["bbox", "polygon", "keypoints"],
                     labels=[Label(name=n) for n in OBJECTS]),
            LabelSet(name="ner", annotation_types=["span"], labels=[Label(name=n) for n in ENTITIES]),
            LabelSet(name="topic", annotation_types=["classification"],
                     labels=[Label(name=n) for n in ("news", "sport", "tech")]),
        ]),
        annotators=[Annotator(id=f"ann-{i}", kind="human") for i in range(n_annotators)],
        guidelines=[Guideline(id="guide", version="1", title="bench guideline")],
        splits=[Split(name="train"), Split(name="val")],
    )


def records(n_annotations: int, n_items: int, seed: int = 0) -> Iterator[Item | AnnotationBase]:
    """Items (half images, half texts) then annotations spread over them."""
    rng = random.Random(seed)
    texts: dict[int, str] = {}
    for i in range(n_items):
        if i % 2 == 0:
            yield Item(id=str(i), kind="image", uri=f"s3://bench/img/{i}.jpg", width=640, height=480,
                       split="train" if i % 10 else "val")
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(12))
            texts[i] = text
            yield Item(id=str(i), kind="text", text=text, split="train" if i % 10 else "val")
    g = GuidelineRef(id="guide", version="1")
    for a in range(n_annotations):
        item = rng.randrange(n_items)
        common = {"id": str(a), "item_id": str(item), "annotator": f"ann-{a % 20}", "guideline": g}
        if item % 2 == 0:
            x, y = rng.uniform(0, 500), rng.uniform(0, 380)
            w, h = rng.uniform(5, 130), rng.uniform(5, 95)
            kind = a % 10
            if kind < 7:
                yield BBox(bbox=[x, y, w, h], label=rng.choice(OBJECTS), confidence=rng.random(),
                           **common)
            elif kind < 9:
                yield Polygon(polygon=[[x, y, x + w, y, x + w, y + h, x, y + h]],
                              label=rng.choice(OBJECTS), **common)
            else:
                yield Keypoints(keypoints=[x, y, 2, x + w, y + h, 1], label="person", **common)
        else:
            text = texts[item]
            if a % 4 == 0:
                yield Classification(label=rng.choice(("news", "sport", "tech")), **common)
            else:
                start = rng.randrange(0, max(1, len(text) - 10))
                end = start + rng.randrange(1, 10)
                yield Span(start=start, end=end, text=text[start:end], label=rng.choice(ENTITIES),
                           **common)


def generate(path: str, n_annotations: int, n_items: int, encoding: str = "parquet",
             seed: int = 0, rows_per_part: int | None = None) -> Manifest:
    """Write a synthetic dataset to `path` (any URL); returns its manifest."""
    with DatasetWriter(path, encoding=encoding, overwrite=True,  # type: ignore[arg-type]
                       rows_per_part=rows_per_part) as w:
        w.write_all(records(n_annotations, n_items, seed))
        return w.close(manifest())


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("out")
    p.add_argument("--annotations", type=int, default=1_000_000)
    p.add_argument("--items", type=int, default=100_000)
    p.add_argument("--encoding", choices=["jsonl", "parquet"], default="parquet")
    a = p.parse_args()
    m = generate(a.out, a.annotations, a.items, a.encoding)
    print(m.fingerprint, sum(p.records for p in m.parts), "records")
    del gt
