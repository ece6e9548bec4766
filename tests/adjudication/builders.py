"""Generated review data with known answers: three raters, one of them wrong on purpose."""

from __future__ import annotations

from groundtruth import Dataset
from groundtruth.models import (
    Annotator,
    BBox,
    Classification,
    Guideline,
    GuidelineRef,
    GuidelineSection,
    Item,
    Label,
    LabelSet,
    Manifest,
    Span,
    Taxonomy,
    WorkedExample,
)

LABELS = ("pos", "neu", "neg")
GUIDE = GuidelineRef(id="guide", version="1")


def truth(i: int) -> str:
    return LABELS[i % 3]


def sentiment(n: int = 30) -> Dataset:
    """n texts; rater-a and rater-b give the true label; rater-c calls every `neu` `pos`.

    So the disputed items are exactly the `neu` ones (i % 3 == 1), each 2 votes to 1.
    Worked examples: item 1 (neu, section `neutral`) and item 0 (pos, section `polarity`).
    """
    items = [Item(id=f"t{i:03d}", kind="text", text=f"review number {i}") for i in range(n)]
    anns = []
    for i in range(n):
        for who in ("rater-a", "rater-b", "rater-c"):
            label = truth(i)
            if who == "rater-c" and label == "neu":
                label = "pos"
            anns.append(Classification(id=f"t{i:03d}-{who}", item_id=f"t{i:03d}", label=label,
                                       label_set="sentiment", annotator=who, guideline=GUIDE))
    guide = Guideline(
        id="guide", version="1", title="Sentiment",
        sections=[
            GuidelineSection(id="polarity", title="Clear polarity", labels=["pos", "neg"]),
            GuidelineSection(id="neutral", title="Neutral or mixed", labels=["neu"],
                             text="A review with no verdict is `neu`."),
        ],
        worked_examples=[
            WorkedExample(item_id="t001", section="neutral",
                          expected=[{"type": "classification", "label": "neu"}]),
            WorkedExample(item_id="t000", section="polarity",
                          expected=[{"type": "classification", "label": "pos"}]),
        ],
    )
    manifest = Manifest(
        name="generated sentiment",
        taxonomy=Taxonomy(label_sets=[LabelSet(name="sentiment",
                                               annotation_types=["classification"],
                                               labels=[Label(name=x) for x in LABELS])]),
        annotators=[Annotator(id=w, kind="human") for w in ("rater-a", "rater-b", "rater-c")],
        guidelines=[guide],
    )
    return Dataset(manifest, items, anns)


def mixed() -> Dataset:
    """An image with three raters' boxes (rater-c's box is off) and a text with spans."""
    items = [Item(id="img1", kind="image", uri="img1.png", width=64, height=48),
             Item(id="doc1", kind="text", text="Ada Lovelace met Babbage in London.")]
    anns = []
    for who, box in (("rater-a", [4, 4, 20, 20]), ("rater-b", [5, 4, 20, 21]),
                     ("rater-c", [30, 20, 20, 20])):
        anns.append(BBox(id=f"b-{who}", item_id="img1", label="cat", label_set="objects",
                         annotator=who, bbox=box))
    for who, (s, e, lab) in (("rater-a", (0, 12, "PER")), ("rater-b", (0, 12, "PER")),
                             ("rater-c", (0, 3, "ORG"))):
        anns.append(Span(id=f"s-{who}", item_id="doc1", start=s, end=e, label=lab,
                         label_set="ner", annotator=who))
    manifest = Manifest(
        name="generated mixed",
        taxonomy=Taxonomy(label_sets=[
            LabelSet(name="objects", annotation_types=["bbox"], labels=[Label(name="cat")]),
            LabelSet(name="ner", annotation_types=["span"],
                     labels=[Label(name="PER"), Label(name="ORG"), Label(name="LOC")]),
        ]),
        annotators=[Annotator(id=w, kind="human") for w in ("rater-a", "rater-b", "rater-c")],
    )
    return Dataset(manifest, items, anns)
