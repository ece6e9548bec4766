"""Write the model-in-the-loop sample data (docs/model-loop.md): deterministic, ours, CC BY 4.0.

- `model-loop/labels/`: 48 product reviews; 40 labelled pos/neu/neg by a vendor (4 of those
  labels are wrong on purpose), 8 not labelled yet.
- `model-loop/predictions/`: a sentiment model's out-of-sample predictions on all 48, with the
  probability of each label in `attributes.probabilities`.

Run from the repository root: `python examples/make_model_loop.py`.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import groundtruth as gt
from groundtruth.dataset import Dataset
from groundtruth.models import (
    Annotator,
    Classification,
    Item,
    Label,
    LabelSet,
    Manifest,
    Taxonomy,
)

HERE = Path(__file__).resolve().parent / "model-loop"
LABELS = ["pos", "neu", "neg"]
GOOD = ["works perfectly", "great value", "love the battery", "arrived early, flawless",
        "better than expected", "sturdy and light"]
MEH = ["does the job", "average sound", "ok for the price", "nothing special",
       "as described", "fine, a bit loud"]
BAD = ["broke after a week", "stopped charging", "waste of money", "missing parts",
       "terrible support", "screen cracked on arrival"]  # fmt: skip
WRONG = {"r07": "neg", "r15": "neg", "r22": "pos", "r31": "pos"}  # the vendor's slips


def main() -> None:
    rng = random.Random(20)
    items, labels, preds = [], [], []
    for i in range(48):
        rid = f"r{i:02d}"
        truth = LABELS[i % 3]
        phrase = rng.choice({"pos": GOOD, "neu": MEH, "neg": BAD}[truth])
        items.append(Item(id=rid, kind="text", text=f"Review {i}: {phrase}.", split="test"))
        if i < 40:
            labels.append(Classification(id=f"{rid}-vendor", item_id=rid, label=WRONG.get(rid, truth),
                                         label_set="sentiment", annotator="vendor"))  # fmt: skip
        # a decent model: right most of the time, unsure on some, wrong on a few
        p = {lbl: rng.uniform(0.02, 0.12) for lbl in LABELS}
        guess = truth if i not in (5, 26, 44) else LABELS[(i + 1) % 3]
        p[guess] = rng.uniform(0.45, 0.95) if i % 7 else rng.uniform(0.36, 0.5)
        total = sum(p.values())
        probs = {k: round(v / total, 4) for k, v in p.items()}
        probs["neg"] = round(1 - probs["pos"] - probs["neu"], 4)  # rows sum to 1 exactly
        top = max(probs, key=lambda k: probs[k])
        preds.append(Classification(id=f"{rid}-model", item_id=rid, label=top, label_set="sentiment",
                                    annotator="sentiment-v3", confidence=probs[top],
                                    attributes={"probabilities": probs}))  # fmt: skip
    taxonomy = Taxonomy(label_sets=[LabelSet(name="sentiment",
                                             labels=[Label(name=x) for x in LABELS])])  # fmt: skip
    gt.save(
        Dataset(Manifest(name="reviews-labels", taxonomy=taxonomy,
                         annotators=[Annotator(id="vendor", kind="human", organization="vendor B")]),
                items, labels),
        HERE / "labels", overwrite=True,
    )  # fmt: skip
    gt.save(
        Dataset(Manifest(name="reviews-predictions", taxonomy=taxonomy,
                         annotators=[Annotator(id="sentiment-v3", kind="model",
                                               model_name="sentiment", model_version="3")]),
                items, preds),
        HERE / "predictions", overwrite=True,
    )  # fmt: skip


if __name__ == "__main__":
    main()
