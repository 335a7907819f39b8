#!/usr/bin/env bash
# nnspice evaluate --chips N: Monte Carlo over chips (characterise -> train -> evaluate per chip) with a
# mean +- sd summary and a histogram; different chips get different measured slopes.
set -u
nn=$1; dir=$2; rm -rf "$dir"; mkdir -p "$dir"; cd "$dir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
"$nn" evaluate --chips 2 --layers 4-7-3 --dataset iris --seed 21 --method full --jobs 2 --train-epochs 100 --out mc > mc.log 2>&1 || fail "monte carlo: $(tail -5 mc.log)"
for f in summary.json report.md montecarlo/chips_histogram.png montecarlo/accuracy.png montecarlo/chip_0/evaluate_chip/summary.json montecarlo/chip_1/evaluate_chip/summary.json; do
  [ -s "mc/$f" ] || fail "missing mc/$f"
done
grep -q '"chip_seed": 22' mc/summary.json || fail "second chip has not seed 22"
grep -q '"mean"' mc/summary.json || fail "no mean over chips"
cmp -s mc/montecarlo/chip_0/characterize/slopes_1.npy mc/montecarlo/chip_1/characterize/slopes_1.npy && fail "two chips measured identical slopes"
"$nn" evaluate --chips 0 --layers 4-7-3 --dataset iris --out x > o.txt 2> e.txt; [ $? -eq 2 ] && grep -q "chips = 0" e.txt || fail "--chips 0: $(cat e.txt)"
echo OK
