#!/usr/bin/env bash
# nnspice evaluate: a run on Iris with random codes, and bad inputs (exit 2, message names the problem).
set -u
nn=$1; dir=$2; mkdir -p "$dir"; cd "$dir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
expect_error() {  # expect_error <pattern> <args...>
  local pat=$1; shift
  "$nn" "$@" > out.txt 2> err.txt; rc=$?
  [ $rc -eq 2 ] || fail "exit $rc (want 2) for: $* ; stderr: $(cat err.txt)"
  grep -q -- "$pat" err.txt || fail "stderr lacks '$pat' for: $* ; got: $(cat err.txt)"
}
"$nn" netlist --layers 4-7-3 --seed 5 --out w > /dev/null || fail "netlist"
"$nn" evaluate --layers 4-7-3 --weights w --chip w/chip.csv --dataset iris --jobs 1 --out e > out.txt 2> err.txt || fail "evaluate: $(cat err.txt)"
grep -q "correct" out.txt || fail "no accuracy line"
for f in summary.json run.json outputs.npy predicted.npy labels.npy confusion.csv; do [ -s "e/$f" ] || fail "missing e/$f"; done
grep -q '"samples": 30' e/summary.json || fail "summary lacks 30 samples"
expect_error "chip was drawn for network 4-7-3" evaluate --layers 4-8-3 --weights w --chip w/chip.csv --dataset iris --out x
expect_error "expected (8, 4)" evaluate --layers 4-8-3 --weights w --seed 1 --dataset iris --out x
expect_error "method 'magic'" evaluate --layers 4-7-3 --weights w --chip w/chip.csv --dataset iris --method magic --out x
expect_error "cannot read" evaluate --layers 4-7-3 --weights w --chip nope.csv --dataset iris --out x
expect_error "invalid layer spec" evaluate --layers 4-x-3 --weights w --dataset iris --out x
echo OK
