"""Writes examples/reviews/: 12 product reviews, each labelled by three raters (seeded)."""

import random

import groundtruth as gt
from groundtruth.models import (
    Annotator, Classification, Guideline, GuidelineRef, Item, Label, LabelSet, Manifest, Split,
    Taxonomy,
)

random.seed(3)
TEXTS = [
    ("The battery lasts all day, love it.", "pos"), ("Stopped working after a week.", "neg"),
    ("It's fine, nothing special.", "neu"), ("Best purchase this year!", "pos"),
    ("The manual is confusing but the product works.", "neu"),
    ("Terrible support, never again.", "neg"), ("Arrived on time and well packed.", "pos"),
    ("Too expensive for what it does.", "neg"), ("My kids use it every day.", "pos"),
    ("The screen scratches far too easily.", "neg"), ("Does exactly what it says.", "pos"),
    ("Not sure yet, ask me in a month.", "neu"),
]
LABELS = ["pos", "neu", "neg"]
NOISE = {"rater-a": 0.15, "rater-b": 0.3, "rater-c": 0.05}

annotators = [
    Annotator(id="rater-a", kind="human", organization="Acme Labeling", expertise="crowd"),
    Annotator(id="rater-b", kind="human", organization="Acme Labeling", expertise="crowd"),
    Annotator(id="rater-c", kind="human", organization="Acme Labeling", expertise="senior reviewer"),
]
items, anns = [], []
for i, (text, truth) in enumerate(TEXTS, 1):
    item_id = f"review-{i:02d}"
    items.append(Item(id=item_id, kind="text", text=text, split="train" if i <= 9 else "test"))
    for a in annotators:
        label = truth if random.random() > NOISE[a.id] else random.choice(
            [x for x in LABELS if x != truth])
        anns.append(Classification(
            id=f"{item_id}-{a.id}", item_id=item_id, label=label, annotator=a.id,
            label_set="sentiment", guideline=GuidelineRef(id="sentiment-guide", version="2")))
manifest = Manifest(
    name="product reviews (3 raters)", license="CC-BY-4.0", version="v1",
    description="Quickstart sample: 12 short product reviews, each labelled by three raters.",
    taxonomy=Taxonomy(label_sets=[LabelSet(
        name="sentiment", annotation_types=["classification"], scale="nominal",
        labels=[Label(name="pos", description="the writer is pleased"),
                Label(name="neu", description="mixed or no opinion"),
                Label(name="neg", description="the writer is unhappy")])]),
    annotators=annotators,
    guidelines=[Guideline(id="sentiment-guide", version="2", title="Sentiment labeling guide")],
    splits=[Split(name="train"), Split(name="test")],
)
gt.save(gt.Dataset(manifest, items, anns), "examples/reviews", overwrite=True)
