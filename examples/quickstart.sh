#!/bin/sh
# What `make demo` runs: the life of a vendor delivery, on the bundled sample data.
set -e
GT=${GT:-gt}
OUT=${OUT:-out/quickstart}
rm -rf "$OUT" && mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*"; }

step "1. The vendor's COCO delivery -> a native groundtruth dataset"
$GT convert examples/delivery/instances_v1.json "$OUT/delivery-v1" --from coco

step "2. Is it usable? (validate exits 1 here: the vendor left a box outside its image)"
$GT validate "$OUT/delivery-v1" || echo "(exit $?: the delivery has errors, as expected)"

step "3. The corrected re-delivery: what changed from v1 to v2?"
$GT convert examples/delivery/instances_v2.json "$OUT/delivery-v2" --from coco --encoding parquet
$GT validate "$OUT/delivery-v2"
$GT diff "$OUT/delivery-v1" "$OUT/delivery-v2"
# the page embeds the street photos only because --media-root names their folder
$GT diff "$OUT/delivery-v1" "$OUT/delivery-v2" --format html --media-root examples/delivery \
  --output "$OUT/diff.html"
$GT diff "$OUT/delivery-v1" "$OUT/delivery-v2" --format markdown > "$OUT/diff.md"
echo "review page: $OUT/diff.html   pull-request comment: $OUT/diff.md"

step "4. Three raters labelled the same reviews: how much do they agree?"
$GT agreement examples/reviews

step "5. One training label per review (majority vote, ties flagged), then training files"
$GT consensus examples/reviews "$OUT/reviews-consensus" --method majority
$GT export "$OUT/reviews-consensus" "$OUT/train.jsonl" --task classification --resolve consensus

step "6. A reviewer settled one tie and marked the other unclear (gt review writes this log); replay it, train on it"
$GT adjudicate "$OUT/reviews-consensus" examples/reviews.decisions.jsonl "$OUT/reviews-adjudicated"
$GT export "$OUT/reviews-adjudicated" "$OUT/train-adjudicated.jsonl" --task classification \
  --resolve adjudicated
$GT guideline report "$OUT/reviews-adjudicated"

step "7. Back to COCO for the detector's training code (what COCO cannot carry is reported)"
$GT convert "$OUT/delivery-v2" "$OUT/delivery-v2-coco.json" --to coco
echo
echo "done: results in $OUT/"
