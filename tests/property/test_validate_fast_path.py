"""The vectorised path (Parquet and JSONL) reports exactly what the per-record path reports."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groundtruth as gt
from groundtruth.dataset import Dataset
from groundtruth.models import (
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
    Rating,
    Span,
    Split,
    Taxonomy,
)
from groundtruth.validation import _sources

MANIFEST = Manifest(
    taxonomy=Taxonomy(label_sets=[
        LabelSet(name="objects", annotation_types=["bbox", "polygon", "keypoints"],
                 labels=[Label(name="cat"), Label(name="person", keypoints=["a", "b"])]),
        LabelSet(name="ner", annotation_types=["span"], labels=[Label(name="PER")]),
        LabelSet(name="topic", annotation_types=["classification"], labels=[Label(name="news")]),
        LabelSet(name="score", annotation_types=["rating"], min_value=1, max_value=5),
    ]),
    annotators=[Annotator(id="h1", kind="human"), Annotator(id="m1", kind="model")],
    guidelines=[Guideline(id="g", version="1")],
    splits=[Split(name="train")],
)
TEXT = "Ada met Bob 😀 in Paris."

# Each annotation is clean but for at most one fault, so every check of the fast path gets
# rows where it alone decides.
G = GuidelineRef(id="g", version="1")
LABELS = {"bbox": "cat", "polygon": "cat", "keypoints": "person", "span": "PER",
          "classification": "news", "rating": None}
FAULTS = [None, None, None, "annotator", "no-guideline", "guideline", "confidence", "item",
          "label", "id", "shape", "value", "bounds"]
BAD_NUMBERS = st.sampled_from([math.nan, math.inf, -1.0, 1e308, 101.0, -30.0])


@st.composite
def annotation(draw: st.DrawFn, n: int) -> object:
    kind = draw(st.sampled_from(["bbox", "polygon", "keypoints", "span", "classification",
                                 "rating"]))
    fault = draw(st.sampled_from(FAULTS))
    image = kind in ("bbox", "polygon", "keypoints")
    common = {
        "id": "a0" if fault == "id" else f"a{n}",
        "item_id": ("nope" if fault == "item" else
                    draw(st.sampled_from(["i0", "i0", "i1"] if image else ["t0", "t0", "t1"]))),
        "annotator": {"annotator": "zz", "no-guideline": "h1"}.get(
            fault or "", draw(st.sampled_from(["h1", "m1", None]))),
        "guideline": (None if fault == "no-guideline" else
                      GuidelineRef(id="g", version="2") if fault == "guideline" else G),
        "confidence": (draw(st.sampled_from([1.5, -0.1, math.nan])) if fault == "confidence"
                       else draw(st.one_of(st.none(), st.floats(0, 1)))),
    }
    lab = draw(st.sampled_from(["dog", "PER", "news"])) if fault == "label" else LABELS[kind]
    xy = st.floats(0, 40)
    size = st.floats(1, 39)

    def bad(values: list[float]) -> list[float]:
        if fault in ("value", "bounds") and values:
            values[draw(st.integers(0, len(values) - 1))] = draw(BAD_NUMBERS)
        return values

    if kind == "bbox":
        box = [draw(xy), draw(xy), draw(size), draw(size)]
        if fault == "shape":
            box = box[: draw(st.sampled_from([3]))] if draw(st.booleans()) else [*box, 1.0]
        return BBox.model_construct(type="bbox", bbox=bad(box), label=lab, **common)
    if kind == "polygon":
        ring = [draw(xy) for _ in range(2 * draw(st.integers(3, 5)))]
        if fault == "shape":
            ring = ring[: draw(st.sampled_from([3, 4, 5]))]
        return Polygon.model_construct(type="polygon", polygon=[bad(ring)], label=lab, **common)
    if kind == "keypoints":
        kp = [x for _ in range(2) for x in (draw(xy), draw(xy), draw(st.sampled_from([0., 1., 2.])))]
        if fault == "shape":
            kp = kp[:3] if draw(st.booleans()) else kp[:5]
        elif fault == "value":
            kp[draw(st.sampled_from([2, 5]))] = 3.0
        elif fault == "bounds":
            kp[0], kp[2] = 150.0, 2.0
        return Keypoints.model_construct(type="keypoints", keypoints=kp, label=lab, **common)
    if kind == "span":
        s = draw(st.integers(0, 20))
        e = s + draw(st.integers(0, 3))
        if fault == "value":
            s, e = e + 1, s
        elif fault == "bounds":
            e = 30
        text = draw(st.sampled_from([None, TEXT[s:e], "zz"]))
        return Span.model_construct(type="span", start=s, end=e, text=text, label=lab, **common)
    if kind == "rating":
        v = 7.0 if fault == "value" else draw(st.floats(1, 5))
        return Rating.model_construct(type="rating", value=v, **common)
    return Classification.model_construct(type="classification", label=lab, **common)


@st.composite
def dataset(draw: st.DrawFn) -> Dataset:
    items = [Item(id="i0", kind="image", uri="a.jpg", width=100, height=80, split="train"),
             Item(id="i1", kind="image", uri=draw(st.sampled_from(["a.jpg", "b.jpg"])),
                  split=draw(st.sampled_from(["train", "test", None]))),
             Item(id="t0", kind="text", text=TEXT),
             Item(id="t1", kind="text", uri="t.txt")]
    n = draw(st.integers(5, 40))
    anns = [draw(annotation(k)) for k in range(n)]
    return Dataset(MANIFEST, items, anns)  # type: ignore[arg-type]


def _key(report):
    return sorted((i.code, i.location.file, i.location.row, i.location.record_id,
                   i.location.path) for i in report.issues)


@given(ds=dataset(), encoding=st.sampled_from(["parquet", "jsonl"]))
@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_fast_path_matches_exact_path(ds, encoding, tmp_path_factory, monkeypatch):
    root = tmp_path_factory.mktemp("ds") / "ds"
    gt.save(ds, root, encoding=encoding)
    fast = gt.validate(root)
    monkeypatch.setattr(_sources, "VECTORISE", False)
    exact = gt.validate(root)
    monkeypatch.setattr(_sources, "VECTORISE", True)
    assert _key(fast) == _key(exact)
    assert fast.stats == exact.stats
