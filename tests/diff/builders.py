"""Builders for diff tests: an image dataset on a grid, and a vendor re-export of it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from groundtruth import Dataset
from groundtruth.models import BBox, Item, Keypoints, Label, LabelSet, Manifest, Polygon, Taxonomy

LABELS = ("car", "person", "bike", "dog")
CELL, SIZE = 80, 50  # boxes sit in 80-px grid cells, 50 px wide: distinct boxes never overlap


def manifest(labels=LABELS) -> Manifest:
    return Manifest(name="grid", taxonomy=Taxonomy(label_sets=[
        LabelSet(name="objects", labels=[Label(name=x) for x in labels])]))


def _box(cell: int) -> list[float]:
    cx, cy = cell % 8, cell // 8
    return [cx * CELL + 10.0, cy * CELL + 10.0, float(SIZE), float(SIZE)]


def grid_dataset(n_items: int = 30, seed: int = 1) -> Dataset:
    """`n_items` 640x480 images, each with 3-8 boxes in distinct grid cells, a polygon in some,
    a keypoint set in others. Annotation ids are "1", "2", ... (numeric, like COCO's)."""
    rng = random.Random(seed)
    items, anns = [], []
    next_id = 1
    for i in range(n_items):
        items.append(Item(id=f"img{i:03d}", kind="image", uri=f"images/{i:03d}.jpg",
                          width=640, height=480))
        cells = rng.sample(range(40), 10)
        for cell in cells[: rng.randint(3, 8)]:
            anns.append(BBox(id=str(next_id), item_id=f"img{i:03d}", label=rng.choice(LABELS),
                             bbox=_box(cell), annotator="ann1"))
            next_id += 1
        x, y, *_ = _box(cells[9])
        if i % 3 == 0:
            anns.append(Polygon(id=str(next_id), item_id=f"img{i:03d}", label="dog",
                                polygon=[[x, y, x + 50, y, x + 50, y + 50, x, y + 50]]))
            next_id += 1
        elif i % 3 == 1:
            kps = [x + 5, y + 5, 2.0, x + 40, y + 5, 2.0, x + 20, y + 45, 1.0]
            anns.append(Keypoints(id=str(next_id), item_id=f"img{i:03d}", label="person",
                                  keypoints=kps, bbox=[x, y, 50.0, 50.0]))
            next_id += 1
    return Dataset(manifest(), items, anns).sort()


@dataclass
class Expected:
    """What a re-export did, by old annotation id (and new ids for additions)."""

    moved: set[str] = field(default_factory=set)
    flipped: dict[str, tuple[str, str]] = field(default_factory=dict)
    dropped: set[str] = field(default_factory=set)
    added: set[str] = field(default_factory=set)
    new_id: dict[str, str] = field(default_factory=dict)  # old id -> new id


def reexport(old: Dataset, *, renumber: bool, seed: int = 7) -> tuple[Dataset, Expected]:
    """A vendor's v2: some boxes moved slightly, labels flipped, some dropped, some added;
    with `renumber`, annotation ids are shuffled numbers (colliding with the old ones)."""
    rng = random.Random(seed)
    exp = Expected()
    new_anns = []
    boxes = [a for a in old.annotations if a.type == "bbox"]
    chosen = rng.sample(boxes, 40)
    moved, flipped, dropped = chosen[:12], chosen[12:24], chosen[24:32]
    both = chosen[32:36]  # moved and flipped
    for a in old.annotations:
        b = a
        if a in dropped:
            exp.dropped.add(a.id)
            continue
        if a in moved or a in both:
            x, y, w, h = a.bbox
            b = b.model_copy(update={"bbox": [x + 3, y - 2, w, h]})
            exp.moved.add(a.id)
        if a in flipped or a in both:
            new_label = next(x for x in LABELS if x != a.label)
            b = b.model_copy(update={"label": new_label})
            exp.flipped[a.id] = (a.label, new_label)
        new_anns.append(b)
    # additions: a box in an empty cell of some items
    used = {(a.item_id, tuple(a.bbox)) for a in boxes}
    for item in rng.sample(old.items, 6):
        for cell in range(40):
            if (item.id, tuple(_box(cell))) not in used and not any(
                    a.item_id == item.id and a.type != "bbox" and _overlaps(a, _box(cell))
                    for a in old.annotations):
                new_anns.append(BBox(id=f"add-{item.id}", item_id=item.id, label="bike",
                                     bbox=_box(cell), annotator="ann2"))
                exp.added.add(f"add-{item.id}")
                break
    if renumber:
        order = list(range(1, len(new_anns) + 1))
        rng.shuffle(order)
        renamed = []
        for a, n in zip(new_anns, order, strict=True):
            renamed.append(a.model_copy(update={"id": str(n)}))
            if a.id.startswith("add-"):
                exp.added.discard(a.id)
                exp.added.add(str(n))
            else:
                exp.new_id[a.id] = str(n)
        new_anns = renamed
        rng.shuffle(new_anns)
    else:
        exp.new_id = {a.id: a.id for a in new_anns if not a.id.startswith("add-")}
    return Dataset(old.manifest, old.items, new_anns), exp


def _overlaps(a, box) -> bool:
    bx = a.bbox if a.bbox is not None else None
    if bx is None:
        xs, ys = a.polygon[0][0::2], a.polygon[0][1::2]
        bx = (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    return not (bx[0] + bx[2] <= box[0] or box[0] + box[2] <= bx[0]
                or bx[1] + bx[3] <= box[1] or box[1] + box[3] <= bx[1])
