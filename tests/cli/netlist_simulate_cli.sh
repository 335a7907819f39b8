#!/usr/bin/env bash
# nnspice netlist / simulate / demo: outputs, byte-identical netlists, --help on every command, and every
# bad input of the foundation issue: exit 2 and a message naming the problem.
set -u
nn=$1; dir=$2; rm -rf "$dir"; mkdir -p "$dir"; cd "$dir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
expect_error() {  # expect_error <exit> <pattern> <args...>
  local want=$1 pat=$2; shift 2
  "$nn" "$@" > out.txt 2> err.txt; rc=$?
  [ $rc -eq "$want" ] || fail "exit $rc (want $want) for: $* ; stderr: $(cat err.txt)"
  grep -q -- "$pat" err.txt || fail "stderr lacks '$pat' for: $* ; got: $(cat err.txt)"
}
# --help on every command, exit 0.
for c in $("$nn" --help | awk '/^Commands:/{f=1;next} f && /^  [a-z]/{print $1}'); do
  "$nn" "$c" --help > h.txt 2>&1 || fail "$c --help exited non-zero"
  grep -q "Usage" h.txt || fail "$c --help prints no usage"
done
# The foundation's headline: 196-100-50-10 with defaults, byte-identical for the same seed.
"$nn" netlist --layers 196-100-50-10 --seed 7 --out big1 > o.txt || fail "big netlist"
grep -q "277850 transistors, 25100 synapses" o.txt || fail "big netlist counts: $(cat o.txt)"
"$nn" netlist --layers 196-100-50-10 --seed 7 --out big2 > /dev/null || fail "big netlist 2"
cmp big1/network.cir big2/network.cir || fail "same seed, different netlist bytes"
cmp big1/chip.csv big2/chip.csv || fail "same seed, different chip"
"$nn" netlist --layers 196-100-50-10 --seed 8 --out big3 > /dev/null || fail "big netlist 3"
cmp -s big1/chip.csv big3/chip.csv && fail "different seeds gave the same chip"
# Chip reuse: same chip + other weights -> same transistor shifts.
"$nn" netlist --layers 4-7-3 --seed 3 --out a > /dev/null || fail "4-7-3"
"$nn" netlist --layers 4-7-3 --chip a/chip.csv --weight-seed 9 --out b > /dev/null || fail "chip reuse"
[ "$(grep -o 'delvto=[^ ]*' a/network.cir | md5sum)" = "$(grep -o 'delvto=[^ ]*' b/network.cir | md5sum)" ] || fail "chip reuse changed the mismatch"
"$nn" netlist --layers 4-7-3 --chip a/chip.csv --weights a --out c > /dev/null || fail "weights from a directory"
# Same chip, a's own weights read back from its directory: the same circuit, only the provenance comments differ.
cmp <(grep -v '^\*' a/network.cir) <(grep -v '^\*' c/network.cir) || fail "chip + weights of a/ read back give another circuit than a/"
grep -q '^\* weights a$' c/network.cir || fail "the netlist does not name the weights it was built from"
cmp -s a/network.cir c/network.cir && fail "the provenance comments do not name the chip and weights files"
# Simulation in-process; the netlist also runs unchanged in ngspice -b.
"$nn" simulate --netlist a/network.cir --inputs 2e-8 --out op > o.txt || fail "simulate op"
grep -q "^class:" o.txt || fail "simulate prints no class"
for f in currents.npy currents.csv summary.json run.json; do [ -s "op/$f" ] || fail "missing op/$f"; done
if command -v ngspice > /dev/null; then ngspice -b a/network.cir > ng.log 2>&1; grep -q "Circuit: nnspice 4-7-3" ng.log || fail "ngspice -b did not load the netlist"; fi
"$nn" demo --patterns 2 --out demo > o.txt || fail "demo"
# Bad inputs.
expect_error 2 "--layers = '4-x-3': invalid layer spec" netlist --layers 4-x-3 --out x
expect_error 2 "--layers = '7': invalid layer spec" netlist --layers 7 --out x
printf '1,2,3,4\n' > w0.csv; printf '1,1,1\n1,1,1\n1,1,1\n' > w1.csv
expect_error 2 "w0.csv: weight layer 0 has shape (1, 4), expected (7, 4)" netlist --layers 4-7-3 --weights w0.csv w1.csv --out x
for bad in 8 -8 2.5; do
  { echo "$bad,0,0,0"; for _ in 1 2 3 4 5 6; do echo "0,0,0,0"; done; } > wb.csv
  printf '0,0,0,0,0,0,0\n0,0,0,0,0,0,0\n0,0,0,0,0,0,0\n' > wc.csv
  expect_error 2 "row 0, column 0: weight code $bad" netlist --layers 4-7-3 --weights wb.csv wc.csv --out x
done
printf 'model_card: x.lib\nvdd_V: [1.8\n' > mal.yaml
expect_error 2 "mal.yaml:[0-9]*:[0-9]*: malformed YAML" netlist --layers 4-7-3 --process mal.yaml --out x
printf 'model_card: /nonexistent/card.lib\n' > nocard.yaml
expect_error 2 "model card '/nonexistent/card.lib' not found" netlist --layers 4-7-3 --process nocard.yaml --out x
card=$(sed -n 's/^\.include "\(.*\)"/\1/p' a/network.cir | head -1)
sed 's/VERSION = 3.3.0/VERSION = 3.1/' "$card" > v31.lib; printf 'model_card: %s/v31.lib\n' "$PWD" > v31.yaml
expect_error 2 "rejects the delvto" netlist --layers 4-7-3 --process v31.yaml --out x
expect_error 2 "chip was drawn for network 4-7-3" netlist --layers 4-8-3 --chip a/chip.csv --out x
expect_error 2 "cannot read" simulate --netlist missing.cir --out x
expect_error 2 "outside 0..1e-3" netlist --layers 4-7-3 --inputs -1e-9 --out x
expect_error 2 "unknown command" frobnicate
# A circuit that does not converge: reported, exit 3, and the next simulation in the same process runs.
cp a/network.cir bad.cir; sed -i 's/^VDD vdd 0 DC 1.8$/VDD vdd 0 DC 1.8\nVBAD vdd 0 DC 1.0/' bad.cir
printf '1e-8,1e-8,1e-8,1e-8\n' > in.csv
expect_error 3 "did not converge" simulate --netlist bad.cir --inputs-file in.csv --out bad
# A simulator that cannot start (no scratch directory) is a simulator failure (exit 3), named as such.
TMPDIR=/nonexistent/nnspice-test expect_error 3 "simulator failure: cannot create a scratch directory" demo --out demo
echo OK
