#!/usr/bin/env bash
# Corners (issue 19): --temp-C / --vdd-V on every command that simulates, and temp_C / vdd_V in run configs
# (the run's and per stage). A chip evaluated at another temperature uses that temperature's physics; a
# corner outside what the cards and device tables cover is refused before any work, naming the option or
# file:line and the value. $1 = nnspice binary, $2 = scratch dir.
set -u
N="$1"; D="$2"
rm -rf "$D"; mkdir -p "$D"; cd "$D" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
expect_bad() {  # expect_bad PATTERN args...: exit 2 and PATTERN on stderr
  local pat="$1"; shift
  timeout 60 "$N" "$@" > out.txt 2> err.txt; local rc=$?
  [[ $rc == 2 ]] || fail "'$*' exited $rc (want 2); stderr: $(cat err.txt)"
  grep -qF -- "$pat" err.txt || fail "'$*': stderr lacks \"$pat\"; got: $(cat err.txt)"
}
expect_bad "--temp-C = '200': must be a number in -40..125" netlist --layers 2-2-1 --temp-C 200 --out n
expect_bad "--temp-C = '-41'" characterize --layers 2-2-1 --temp-C -41 --out c
expect_bad "--vdd-V = '0.1'" evaluate --layers 4-7-3 --weights w --vdd-V 0.1 --dataset iris --out e
expect_bad "--temp-C" dynamics --layers 2-2-1 --temp-C hot --out d
expect_bad "--vdd-V = '9'" device-tables --vdd-V 9
[ ! -e n ] && [ ! -e c ] || fail "a refused corner left an output folder"

# The netlist carries the corner; run.json records it.
"$N" netlist --layers 4-7-3 --seed 5 --temp-C 85 --vdd-V 1.62 --out n85 > /dev/null 2> err.txt || fail "netlist at 85 C: $(cat err.txt)"
grep -q "^\.temp 85$" n85/network.cir || fail "no .temp 85 in the netlist: $(grep -n temp n85/network.cir)"
grep -q "^VDD vdd 0 DC 1.62$" n85/network.cir || fail "no 1.62 V supply: $(grep -n '^VDD' n85/network.cir)"
python3 -c "import json,sys; p=json.load(open('n85/run.json'))['process']; sys.exit(0 if p['temp_C']==85 and p['vdd_V']==1.62 else 1)" ||
  fail "run.json lacks the corner: $(cat n85/run.json)"

# The same chip and weights at 27 and 85 C (full netlist, 30 Iris patterns): both recorded, the currents differ.
"$N" netlist --layers 4-7-3 --seed 5 --out n27 > /dev/null 2> err.txt || fail "netlist: $(cat err.txt)"
for t in 27 85; do
  "$N" evaluate --layers 4-7-3 --weights n27 --chip n27/chip.csv --dataset iris --method full --temp-C $t --jobs 2 --out e$t > /dev/null 2> err.txt ||
    fail "evaluate at $t C: $(cat err.txt)"
  python3 -c "import json,sys; s=json.load(open('e$t/summary.json')); sys.exit(0 if s['temp_C']==$t and s['evaluated']==30 else 1)" ||
    fail "summary at $t C: $(head -c 600 e$t/summary.json)"
done
/usr/bin/python3 - <<'PY' || fail "the 85 C currents are not the 27 C ones"
import numpy as np, sys
a, b = np.load("e27/outputs.npy"), np.load("e85/outputs.npy")
rel = np.abs(a - b).max() / np.abs(a).max()
print(f"max |I(85 C) - I(27 C)| / max I = {rel:.3f}")
sys.exit(0 if a.shape == b.shape and rel > 1e-3 else 1)
PY

# Run configs: the run's corner and a stage's own; out of range refused with file:line.
cat > corner.yaml <<'Y'
out: rc
temp_C: 0
experiments:
  - name: iris
    dataset: iris
    layers: 4-7-3
    evaluate: {temp_C: 85, vdd_V: 1.7}
Y
"$N" run corner.yaml --dry-run > plan.txt 2> err.txt || fail "dry run: $(cat err.txt)"
grep -q "nnspice netlist .*--temp-C 0" plan.txt || fail "the chip stage lacks the run's corner: $(grep netlist plan.txt)"
grep -q "nnspice characterize .*--temp-C 0" plan.txt || fail "characterize lacks the run's corner"
grep "nnspice evaluate" plan.txt | grep -q -- "--temp-C 85 --vdd-V 1.7" || fail "evaluate lacks its own corner: $(grep evaluate plan.txt)"
grep "nnspice dynamics" plan.txt | grep -q -- "--temp-C 0" || fail "dynamics lacks the run's corner"
sed 's/evaluate: {temp_C: 85, vdd_V: 1.7}/evaluate: {temp_C: 300}/' corner.yaml > bad.yaml
expect_bad "bad.yaml:7" run bad.yaml --dry-run
grep -qF "temp_C" err.txt || fail "the refusal does not name temp_C: $(cat err.txt)"
sed 's/^temp_C: 0/vdd_V: 6/' corner.yaml > bad2.yaml
expect_bad "vdd_V" run bad2.yaml --dry-run
echo "corners_cli: ok"
