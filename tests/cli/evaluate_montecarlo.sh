#!/usr/bin/env bash
# nnspice evaluate --chips N: Monte Carlo over chips (characterise -> train -> evaluate per chip) with a
# mean +- sd summary and a histogram; different chips get different measured slopes; --synapse-codes gives each
# chip its per-synapse model.
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
# The per-synapse model of each chip (--synapse-codes): every synapse measured, training and inference use it.
"$nn" evaluate --chips 2 --layers 4-2-3 --dataset iris --seed 21 --method full --jobs 2 --train-epochs 50 --synapse-codes 7 --out mcs > mcs.log 2>&1 ||
  fail "monte carlo with --synapse-codes 7: $(tail -5 mcs.log)"
grep -q "synapses: 7" mcs/montecarlo.yaml || fail "the Monte Carlo config lacks synapses: 7"
grep -q '"chip_model": "per-synapse, codes 7"' mcs/summary.json || fail "summary.json does not name the per-synapse chip model"
for k in 0 1; do
  [ -s mcs/montecarlo/chip_$k/characterize/synapse_gain_pos_0.npy ] || fail "chip $k: no per-synapse gains"
  grep -q '"synapse_gains_used": true' mcs/montecarlo/chip_$k/train_chip/summary.json || fail "chip $k: training did not use the per-synapse gains"
  [ -s mcs/montecarlo/chip_$k/evaluate_chip/summary.json ] || fail "chip $k: no circuit-level evaluation"
done
"$nn" evaluate --chips 2 --layers 4-7-3 --dataset iris --synapse-codes 3 --out x > o.txt 2> e.txt
[ $? -eq 2 ] && grep -q "synapse-codes = '3'" e.txt || fail "--synapse-codes 3: $(cat e.txt)"
"$nn" evaluate --layers 4-7-3 --dataset iris --weights w --synapse-codes bits --out x > o.txt 2> e.txt
[ $? -eq 2 ] && grep -q "chips N > 1" e.txt || fail "--synapse-codes without --chips: $(cat e.txt)"
[ -e x ] && fail "work started despite a bad --synapse-codes"
echo OK
