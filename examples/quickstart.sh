#!/bin/sh
# What `make demo` runs: the life of a vendor delivery, on the bundled sample data.
set -e
GT=${GT:-gt}
OUT=${OUT:-out/quickstart}
rm -rf "$OUT" && mkdir -p "$OUT"

echo "== 1. what is in the sample reviews dataset (3 raters per item)"
$GT info examples/reviews

echo
echo "== 2. native encodings: JSONL -> Parquet, same fingerprint"
$GT convert examples/reviews "$OUT/reviews-parquet" --encoding parquet
$GT info "$OUT/reviews-parquet" --format json | grep fingerprint
