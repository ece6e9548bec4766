"""Generated datasets for tests and benchmarks: mixed item kinds and every annotation type.

Generated data is for scale, never for truth: the values are plausible (boxes inside their
images, spans inside their texts) but carry no meaning. Everything is deterministic in `seed`.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from ..dataset import Dataset
from ..models import (
    AnnotationBase,
    Annotator,
    Guideline,
    Item,
    Label,
    LabelSet,
    Manifest,
    Split,
    Taxonomy,
    annotation_adapter,
)

LABELS = ("car", "person", "bicycle", "truck", "dog", "traffic_light", "sign", "bus")
ANNOTATORS = ("alice", "bob", "carol", "model-v2")
SPLITS = ("train", "val", "test")
_T0 = datetime(2025, 1, 1, tzinfo=UTC)


def manifest(name: str = "synthetic") -> Manifest:
    return Manifest(
        name=name,
        taxonomy=Taxonomy(label_sets=[LabelSet(name="objects",
                                               labels=[Label(name=x) for x in LABELS])]),
        annotators=[Annotator(id=a, kind="model" if a.startswith("model") else "human")
                    for a in ANNOTATORS],
        guidelines=[Guideline(id="g1", version="2")],
        splits=[Split(name=s) for s in SPLITS],
    )


def make_items(n: int, seed: int = 0) -> list[Item]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        split = SPLITS[i % 3]
        if i % 4 == 3:
            words = " ".join(rng.choice(LABELS) for _ in range(8))
            out.append(Item(id=f"it{i}", kind="text", text=words, split=split))
        else:
            out.append(Item(id=f"it{i}", kind="image", uri=f"s3://media/{i}.jpg",
                            width=640, height=480, split=split,
                            metadata={"camera": rng.choice(("front", "rear"))}))
    return out


def _annotation(i: int, item: Item, rng: random.Random) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": f"a{i}", "item_id": item.id, "label": rng.choice(LABELS),
        "annotator": rng.choice(ANNOTATORS), "status": rng.choice(("submitted", "accepted")),
    }
    if i % 5 == 0:
        base["created"] = (_T0 + timedelta(seconds=i)).isoformat()
        base["confidence"] = round(rng.random(), 3)
    if i % 7 == 0:
        base["attributes"] = {"occluded": bool(i % 2), "note": None if i % 3 else "x"}
    if item.kind == "text":
        text = item.text or ""
        start = rng.randrange(0, max(1, len(text) - 4))
        end = min(len(text), start + 4)
        return {**base, "type": "span", "start": start, "end": end, "text": text[start:end]}
    x, y = rng.uniform(0, 500), rng.uniform(0, 350)
    w, h = rng.uniform(1, 100), rng.uniform(1, 100)
    kind = i % 6
    if kind == 0:
        return {**base, "type": "classification"}
    if kind == 1:
        return {**base, "type": "polygon", "polygon": [[x, y, x + w, y, x + w, y + h]]}
    if kind == 2:
        return {**base, "type": "keypoints", "keypoints": [x, y, 2.0, x + 1, y + 1, 1.0]}
    if kind == 3:
        return {**base, "type": "mask", "rle": {"size": [480, 640], "counts": [5, 10, 307185]}}
    if kind == 4:
        return {**base, "type": "rating", "value": float(rng.randrange(1, 6)),
                "guideline": {"id": "g1", "version": "2"}}
    return {**base, "type": "bbox", "bbox": [x, y, w, h], "track_id": f"t{i % 11}"}


def make_annotations(items: list[Item], n: int, seed: int = 0) -> list[AnnotationBase]:
    rng = random.Random(seed + 1)
    return [
        annotation_adapter.validate_python(_annotation(i, items[i % len(items)], rng))
        for i in range(n)
    ]


def make_dataset(n_items: int = 40, n_annotations: int = 200, seed: int = 0,
                 name: str = "synthetic") -> Dataset:
    """A small dataset with images and texts and every common annotation type."""
    items = make_items(n_items, seed)
    return Dataset(manifest(name), items, make_annotations(items, n_annotations, seed))
