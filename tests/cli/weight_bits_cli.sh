#!/usr/bin/env bash
# Weight bits other than 3 (issue 19), end to end on Iris 4-7-3 with a 4-bit process: the netlist has 14 FETs per
# synapse and runs in ngspice with codes up to ±15 (the output current grows with the code); characterise (full
# netlist and native engine, with gains per code) writes a 4-bit calibration with 15 codes; train takes the bits from
# it, with the step 0.25 · 7 / 15 (the same range in finer steps), and uses codes beyond ±7; infer, evaluate (native = full) and dynamics run on it; mixing bits is refused with
# the file and the values; bad bit counts in a process, train and sweep are refused. $1 = nnspice, $2 = scratch dir.
set -u
N=$(realpath "$1"); D=$2; rm -rf "$D"; mkdir -p "$D"
card=$(cd "$(dirname "$0")/../.." && pwd)/data/models/mosis-tsmc018-t58f-bsim3v33.lib
cd "$D" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
printf 'name: tsmc180-4bit\nmodel_card: %s\nweight_bits: 4\n' "$card" > p4.yaml
# 1. The synapse: 14 transistors, codes 1 < 7 < 15 in output current.
prev=0
for c in 1 7 15; do
  echo "$c" > w$c.csv
  "$N" netlist --layers 1-1 --process p4.yaml --weights w$c.csv --no-mismatch --inputs 1e-8 --out n$c > /dev/null || fail "netlist code $c"
  [ "$(grep -c '^MW' n$c/network.cir)" = 14 ] || fail "a 4-bit synapse has $(grep -c '^MW' n$c/network.cir) transistors, not 14"
  "$N" simulate --netlist n$c/network.cir --out s$c > /dev/null 2>&1 || fail "simulate code $c"
  i=$(tail -1 s$c/currents.csv | cut -d, -f2)
  python3 -c "import sys; sys.exit(0 if float('$i') > float('$prev') else 1)" || fail "code $c gives $i A, not more than the code below ($prev A)"
  prev=$i
done
echo 16 > w16.csv
"$N" netlist --layers 1-1 --process p4.yaml --weights w16.csv --out n16 > o.txt 2> e.txt; [[ $? == 2 ]] && grep -q "outside -15..15\|16" e.txt ||
  fail "code 16 on 4 bits: $(cat e.txt)"
# 2. Characterise, train, infer, evaluate.
"$N" netlist --layers 4-7-3 --process p4.yaml --seed 7 --out chip > /dev/null || fail "netlist 4-7-3"
head -3 chip/chip.csv | grep -q "# weight_bits: 4" || fail "chip file lacks its bits: $(head -3 chip/chip.csv)"
for m in full decomposed; do
  "$N" characterize --layers 4-7-3 --process p4.yaml --chip chip/chip.csv --method $m --routings 6 --synapses --synapse-codes bits --workers 2 \
    --no-progress --out cal_$m > cal_$m.log 2>&1 || fail "characterize $m: $(tail -3 cal_$m.log)"
  grep -q '"weight_bits": 4' cal_$m/calibration.json || fail "$m: calibration without weight_bits 4"
  grep -q "code 15 vs sum of its bits" cal_$m.log || fail "$m: no code-15 additivity line: $(tail -5 cal_$m.log)"
done
python3 - cal_full <<'PY' || fail "code gains of 15 codes"
import sys, struct, json
d = sys.argv[1]
j = json.load(open(d + "/calibration.json"))
f = open(d + "/" + j["synapse_gains"][0]["pos_codes"], "rb").read()
hl = struct.unpack("<H", f[8:10])[0]
hdr = f[10:10 + hl].decode()
assert "(15, 7, 4)" in hdr, hdr
PY
"$N" train --dataset iris --calibration cal_full/calibration.json --out w --quiet > t.log 2>&1 || fail "train: $(tail -3 t.log)"
grep -q '"weight_bits": 4' w/run.json || fail "train did not record 4 bits"
grep -q '"weight_step": 0.1166' w/run.json || fail "the 4-bit default step is not 0.25 * 7 / 15: $(grep weight_step w/run.json)"
python3 - w <<'PY' || fail "trained codes (the default step on 4 bits, 0.25 * 7 / 15, needs codes beyond 7)"
import sys, struct
f = open(sys.argv[1] + "/weights_0.npy", "rb").read()
hl = struct.unpack("<H", f[8:10])[0]
v = struct.unpack("<%di" % ((len(f) - 10 - hl) // 4), f[10 + hl:])
assert max(abs(x) for x in v) <= 15 and max(abs(x) for x in v) > 7, max(abs(x) for x in v)
PY
"$N" infer --weights w --calibration cal_full/calibration.json --dataset iris > i.log 2>&1 || fail "infer: $(tail -3 i.log)"
"$N" evaluate --layers 4-7-3 --process p4.yaml --weights w --chip chip/chip.csv --method full --dataset iris --jobs 2 --out ef > ef.log 2>&1 || fail "evaluate full: $(tail -3 ef.log)"
"$N" evaluate --layers 4-7-3 --process p4.yaml --weights w --chip chip/chip.csv --method decomposed --table-cache tables --dataset iris --out en > en.log 2>&1 ||
  fail "evaluate native: $(tail -3 en.log)"
cmp -s ef/predicted.npy en/predicted.npy || fail "native engine and full ngspice classify differently on 4 bits"
grep -q "worst error 0\.[0-9]* of the bound" en.log || fail "no audit within bound: $(grep audit en.log)"
"$N" dynamics --layers 4-7-3 --process p4.yaml --chip chip/chip.csv --weights w --dataset iris --count 3 --mean-input 15e-9 --method tabulated \
  --table-cache tables --validate 3 --out dyn --no-progress > dyn.log 2>&1 || fail "dynamics: $(tail -3 dyn.log)"
grep -q "codes -15..15" dyn.log || grep -q "same asymptotic class 3/3" dyn.log || fail "dynamics on 4 bits: $(tail -3 dyn.log)"
# 3. Mixed bits and bad bit counts.
"$N" evaluate --layers 4-7-3 --weights w --chip chip/chip.csv --dataset iris --out e3 > o.txt 2> e.txt; [[ $? == 2 ]] &&
  grep -qF "chip was drawn with 4-bit synapses, but the network 4-7-3 has 3" e.txt || fail "4-bit chip on a 3-bit process: $(cat e.txt)"
"$N" netlist --layers 4-7-3 --seed 7 --out chip3 > /dev/null && "$N" characterize --layers 4-7-3 --chip chip3/chip.csv --method full --routings 4 --workers 2 \
  --no-progress --out cal3 > /dev/null 2>&1 || fail "3-bit characterize"
"$N" infer --weights w --calibration cal3/calibration.json --dataset iris > o.txt 2> e.txt; [[ $? == 2 ]] && grep -qF "3-bit synapses (codes up to ±7)" e.txt ||
  fail "4-bit codes on a 3-bit calibration: $(cat e.txt)"
"$N" train --dataset iris --calibration cal3/calibration.json --weight-bits 4 --out wx > o.txt 2> e.txt; [[ $? == 2 ]] &&
  grep -qF "cal3/calibration.json is the calibration of a chip with 3-bit synapses" e.txt || fail "train --weight-bits 4 on 3 bits: $(cat e.txt)"
"$N" train --dataset iris --weight-bits 7 --out wx > o.txt 2> e.txt; [[ $? == 2 ]] && grep -qF "weight_bits) = 7" e.txt || fail "--weight-bits 7: $(cat e.txt)"
printf 'name: b\nmodel_card: %s\nweight_bits: 0\n' "$card" > p0.yaml
"$N" netlist --layers 4-7-3 --process p0.yaml --out x > o.txt 2> e.txt; [[ $? == 2 ]] && grep -qF "p0.yaml:3" e.txt && grep -qF "weight_bits" e.txt ||
  fail "weight_bits 0: $(cat e.txt)"
"$N" train --dataset iris --weight-bits 2 --epochs 20 --out w2 --quiet > /dev/null 2>&1 || fail "homogeneous 2-bit training"
echo OK
