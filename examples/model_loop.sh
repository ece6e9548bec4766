#!/bin/sh
# The worked example of docs/model-loop.md: evaluate a model, review the label errors it points
# at, fix them, evaluate again, and choose what to label next.
set -e
GT=${GT:-gt}
PY=${PY:-python}
OUT=${OUT:-out/model-loop}
rm -rf "$OUT" && mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*"; }

step "1. How good is the model on the vendor's labels?"
$GT evaluate examples/model-loop/labels examples/model-loop/predictions

step "2. Which labels does the model's evidence doubt?"
$GT suspects examples/model-loop/labels --predictions examples/model-loop/predictions \
    --subset "$OUT/suspects"

step "3. A reviewer settles the suspects (r15, r22: label wrong; r05: the model is wrong)"
OUT="$OUT" $PY - <<'PY'
import os
import groundtruth as gt

out = os.environ["OUT"]
labels = gt.load("examples/model-loop/labels")
report = gt.suspects(labels, "examples/model-loop/predictions")
verdicts = {"r15": "accept", "r22": "accept", "r05": "reject"}  # what the reviewer decided
fix = {s.annotation_id: s.suggested for s in report.suspects
       if verdicts.get(s.item_id) == "accept"}
labels.annotations = [
    a.model_copy(update={"label": fix[a.id], "status": "adjudicated"}) if a.id in fix else a
    for a in labels.annotations
]
gt.save(labels, f"{out}/labels-fixed")
print(f"relabelled {sorted(fix)}; kept r05 as labelled")
PY

step "4. The same model against the fixed labels"
$GT evaluate "$OUT/labels-fixed" examples/model-loop/predictions --format markdown \
    --output "$OUT/evaluation.md"
$GT evaluate "$OUT/labels-fixed" examples/model-loop/predictions

step "5. What to label next: the unlabelled reviews the model is least sure about"
$GT sample "$OUT/labels-fixed" --predictions examples/model-loop/predictions --budget 4 \
    --strategy margin --subset "$OUT/next" --tasks "$OUT/next-tasks.json"
