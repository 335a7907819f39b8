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
"$nn" evaluate --layers 4-7-3 --weights w --chip w/chip.csv --dataset iris --jobs 1 --method decomposed --out e > out.txt 2> err.txt || fail "evaluate: $(cat err.txt)"
grep -q "correct" out.txt || fail "no accuracy line"
for f in summary.json run.json outputs.npy predicted.npy labels.npy confusion.csv; do [ -s "e/$f" ] || fail "missing e/$f"; done
grep -q '"samples": 30' e/summary.json || fail "summary lacks 30 samples"
# the engine's own error estimate: one finite, non-negative value per output current, summarised in summary.json;
# the full netlist (the reference) writes none
python3 - <<'PY' || fail "error estimate"
import json, struct
def npy(p):
    b = open(p, "rb").read(); n = struct.unpack("<H", b[8:10])[0]; h = eval(b[10:10 + n])
    import array; a = array.array("d"); a.frombytes(b[10 + n:]); return h["shape"], list(a)
shape, est = npy("e/outputs_error_estimate.npy")
assert shape == (30, 3), shape
assert all(v >= 0 and v < 1e-6 for v in est), est[:6]
_, out = npy("e/outputs.npy")
s = json.load(open("e/summary.json"))["stats"]["engine_error_estimate"]
assert s["samples"] == 30 and s["assumed_synapse_relative_error"] == 1e-3, s
# the counts are those of the files: estimate over 0.5 % |I| + 20 pA; the winner within the estimates of another
over = [e > 5e-3 * abs(i) + 20e-12 for i, e in zip(out, est)]
assert s["outputs_over_bound"] == sum(over), (s, sum(over))
assert s["samples_with_outputs_over_bound"] == sum(any(over[3 * k:3 * k + 3]) for k in range(30)), s
unc = 0
for k in range(30):
    I, E = out[3 * k:3 * k + 3], est[3 * k:3 * k + 3]
    t = max(range(3), key=lambda j: I[j])
    unc += any(j != t and I[t] - E[t] <= I[j] + E[j] for j in range(3))
assert s["class_uncertain_samples"] == unc, (s, unc)
PY
expect_error "chip was drawn for network 4-7-3" evaluate --layers 4-8-3 --weights w --chip w/chip.csv --dataset iris --out x
expect_error "expected (8, 4)" evaluate --layers 4-8-3 --weights w --seed 1 --dataset iris --out x
expect_error "--method = 'magic'" evaluate --layers 4-7-3 --weights w --chip w/chip.csv --dataset iris --method magic --out x
expect_error "cannot read" evaluate --layers 4-7-3 --weights w --chip nope.csv --dataset iris --out x
expect_error "invalid layer spec" evaluate --layers 4-x-3 --weights w --dataset iris --out x
# --reference: the full-netlist ngspice operating points of the same chip, weights and samples vs the decomposed run
# (--method decomposed: auto would pick the full netlist for a network this small)
"$nn" evaluate --layers 4-7-3 --weights w --chip w/chip.csv --dataset iris --jobs 1 --limit 6 --method full --out ef > /dev/null 2> err.txt || fail "full: $(cat err.txt)"
"$nn" evaluate --layers 4-7-3 --weights w --chip w/chip.csv --dataset iris --jobs 1 --limit 6 --method decomposed --table-cache e/tables --reference ef --out ed > out.txt 2> err.txt || fail "reference: $(cat err.txt)"
grep -q "within tolerance" out.txt || fail "decomposed vs full: $(cat out.txt)"
grep -q '"within_tolerance": true' ed/fidelity.json || fail "fidelity.json"
grep -q '"compared": 6,' ed/fidelity.json || fail "fidelity.json compared count (--limit 6 on Iris)"
[ -e ef/outputs_error_estimate.npy ] && fail "the full netlist wrote an engine error estimate"
grep -q '"engine_error_estimate"' ef/summary.json && fail "the full netlist's summary has an engine error estimate"
# a reference of another shape or other samples, itself, or none, is refused
expect_error "compared with itself" evaluate --layers 4-7-3 --weights w --chip w/chip.csv --dataset iris --jobs 1 --limit 6 --table-cache e/tables --reference ed --out ed
expect_error "samples x 3 outputs" evaluate --layers 4-7-3 --weights w --chip w/chip.csv --dataset iris --jobs 1 --limit 5 --table-cache e/tables --reference ef --out ed5
expect_error "does not exist" evaluate --layers 4-7-3 --weights w --chip w/chip.csv --dataset iris --reference nowhere --out x
python3 - <<'PY' || fail "shape check"
import struct
h = "{'descr': '<f8', 'fortran_order': False, 'shape': (6, 2), }"
h += " " * (63 - (10 + len(h)) % 64) + "\n"
open("bad_outputs.npy", "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + struct.pack("<12d", *range(12)))
PY
mkdir -p badref && cp bad_outputs.npy badref/outputs.npy && cp ef/predicted.npy badref/
expect_error "6 samples x 3 outputs" evaluate --layers 4-7-3 --weights w --chip w/chip.csv --dataset iris --jobs 1 --limit 6 --table-cache e/tables --reference badref --out x
echo OK
