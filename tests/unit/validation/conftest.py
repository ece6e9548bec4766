from __future__ import annotations

import pytest

from groundtruth.dataset import Dataset
from groundtruth.models import (
    Annotator,
    BBox,
    Guideline,
    GuidelineRef,
    Item,
    Label,
    LabelSet,
    Manifest,
    Span,
    Taxonomy,
)

G = GuidelineRef(id="g", version="1")


def make_dataset(n_images: int = 3) -> Dataset:
    """A small clean dataset: images with boxes, one text with spans."""
    manifest = Manifest(
        name="clean",
        taxonomy=Taxonomy(label_sets=[
            LabelSet(name="objects", annotation_types=["bbox"], labels=[Label(name="cat")]),
            LabelSet(name="ner", annotation_types=["span"], labels=[Label(name="PER")]),
        ]),
        annotators=[Annotator(id="h1", kind="human")],
        guidelines=[Guideline(id="g", version="1")],
    )
    items = [Item(id=f"i{k}", kind="image", uri=f"img/{k}.jpg", width=100, height=80)
             for k in range(n_images)]
    items.append(Item(id="t1", kind="text", text="Ada met Bob."))
    anns = [BBox(id=f"a{k}", item_id=f"i{k}", label="cat", bbox=[10, 10, 20, 20],
                 annotator="h1", guideline=G) for k in range(n_images)]
    anns += [Span(id="s1", item_id="t1", label="PER", start=0, end=3, text="Ada",
                  annotator="h1", guideline=G),
             Span(id="s2", item_id="t1", label="PER", start=8, end=11, text="Bob",
                  annotator="h1", guideline=G)]
    return Dataset(manifest, items, anns)


@pytest.fixture
def clean() -> Dataset:
    return make_dataset()


@pytest.fixture(name="make_dataset")
def make_dataset_fixture():
    return make_dataset
