#!/usr/bin/env bash
# nnspice sweep (issue 19): bad sweep configs are refused before any work with file:line and the value; a small
# grid (Iris 4-7-3, 2 chips, temp_C x a_vt_scale) gives one CSV row per point and chip, per-point yields that are
# those of the rows, evaluations at the point's temperature on chips characterised at 27 C (shared, not redone),
# a derived process with A_VT x 2, figures, and a --resume that keeps every stage. $1 = nnspice, $2 = scratch dir.
set -u
N="$1"; D="$2"
rm -rf "$D"; mkdir -p "$D"; cd "$D" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
base='experiment:
  dataset: iris
  layers: 4-7-3
  chips: 2
  characterize: {method: full, routings: 6}
  train: {epochs: 100}
  evaluate: {method: full, input_mean_A: 1.0e-7}
  dynamics: false'
expect_bad() {  # expect_bad PATTERN AXES-YAML [top-level lines]: exit 2, PATTERN on stderr, nothing written
  local pat="$1" axes="$2" top="${3:-}"
  printf '%s\nout: %s/o\n%s\naxes:\n%s\n' "$top" "$D" "$base" "$axes" > bad.yaml
  timeout 60 "$N" sweep bad.yaml > out.txt 2> err.txt; local rc=$?
  [[ $rc == 2 ]] || fail "axes '$axes' exited $rc (want 2); stderr: $(cat err.txt)"
  grep -qF -- "$pat" err.txt || fail "axes '$axes': stderr lacks \"$pat\"; got: $(cat err.txt)"
  [ ! -e o ] || fail "a refused sweep wrote $D/o"
}
expect_bad "bad.yaml:12:3: axes: unknown axis 'foo' (known: temp_C, vdd_V" "  foo: [1, 2]"
expect_bad "axes.weight_bits: value '0': outside 1 .. 6" "  weight_bits: [0, 7]"
expect_bad "axes.weight_bits: value '2.5': not a whole number of bits" "  weight_bits: [2.5]"
expect_bad "chips are not an axis" "  chip_seed: [1, 2]"
expect_bad "bad.yaml:12:3: axes.temp_C: expected a non-empty list of values" "  temp_C: []"
expect_bad "axes.temp_C: value '200': outside -40 .. 125" "  temp_C: [27, 200]"
grep -qF "bad.yaml:12:" err.txt || fail "no line in: $(cat err.txt)"
expect_bad "axes.temp_C: value 'hot': not a number" "  temp_C: [hot]"
expect_bad "axes.vdd_V: value '0.1': outside 0.5 .. 4.75" "  vdd_V: [0.1]"
expect_bad "bad.yaml:12:16: axes.temp_C: value '27.0': given twice" "  temp_C: [27, 27.0]"
expect_bad "the data set needs 4 inputs and 3 outputs" "  layers: [5-7-3]"
expect_bad "axes.training: value 'hot': expected nominal, recalibrated or corner_aware" "  training: [hot]"
expect_bad "target_accuracy = 1.5: expected a fraction in (0, 1]" "  temp_C: [27]" "target_accuracy: 1.5"
expect_bad "a_vt_scale 50 x area_scale 1 of process" "  a_vt_scale: [1, 50]"
grep -qF "process.mismatch.a_vt_mV_um(soma) = 165." err.txt || fail "the A_VT value: $(cat err.txt)"
expect_bad "the grid has more than 1000 points" "  temp_C: [$(seq -s, -40 1 59)]
  a_vt_scale: [$(seq -s, 1 1 11)]"
printf 'out: %s/o\n%s\naxes:\n  temp_C: [%s]\n' "$D" "$(echo "$base" | sed 's/chips: 2/chips: 10000/')" "$(seq -s, -40 1 10)" > bad.yaml
"$N" sweep bad.yaml > out.txt 2> err.txt; [[ $? == 2 ]] && grep -qF "experiment.chips = 10000 x 51 points = 510000 chips: a sweep evaluates at most 100000" err.txt ||
  fail "too many chips: $(cat err.txt)"
printf 'out: %s/o\n%s\naxes: {}\n' "$D" "$base" > bad.yaml
"$N" sweep bad.yaml > out.txt 2> err.txt; [[ $? == 2 ]] && grep -qF "axes: expected a non-empty map" err.txt || fail "empty axes: $(cat err.txt)"
# a command that does not share its work between ranks is refused under mpirun (sweep itself is MPI-aware: sweep_mpi)
OMPI_COMM_WORLD_SIZE=2 "$N" train --layers 4-7-3 --dataset iris > out.txt 2> err.txt; [[ $? == 2 ]] && grep -qF "train does not share its work between ranks" err.txt ||
  fail "train under mpirun: $(cat err.txt)"
"$N" sweep --help | grep -q "a_vt_scale" || fail "--help does not list the axes"

# training modes (dry run): recalibrated at 27 C is the nominal point (shared); at 85 C it characterises at 85 C
printf 'out: %s/tm\n%s\naxes:\n  temp_C: [27, 85]\n  training: [nominal, recalibrated]\n' "$D" "$base" > tm.yaml
"$N" sweep tm.yaml --dry-run > tm.txt 2>&1 || fail "training dry run: $(cat tm.txt)"
! grep -q "p001/chip_0/characterize" tm.txt || fail "27 C recalibrated characterises again: $(grep characterize tm.txt)"
! grep -q "p002/chip_0/characterize" tm.txt || fail "85 C nominal characterises again"
grep -A1 "p003/chip_0/characterize" tm.txt | grep -q -- "--temp-C 85" || fail "85 C recalibrated is not characterised at 85 C: $(grep -A1 p003/chip_0/characterize tm.txt)"
grep -A1 "p002/chip_0/evaluate_chip" tm.txt | grep -q -- "--weights $D/tm/run/p000/chip_0/train_chip .*--temp-C 85" || fail "85 C nominal does not evaluate the 27 C weights at 85 C"

# corner-aware points: characterised at each of train.corners too, trained against all of them
expect_bad "corner_aware needs the corners to train against" "  training: [nominal, corner_aware]"
printf 'out: %s/o\n%s\naxes: {temp_C: [27]}\n' "$D" "$(echo "$base" | sed 's/train: {epochs: 100}/train: {epochs: 100, corners: []}/')" > bad.yaml
"$N" sweep bad.yaml > out.txt 2> err.txt; [[ $? == 2 ]] && grep -qF "bad.yaml:7:24: experiment.train.corners: expected a list of 1..15 corners" err.txt || fail "empty corners: $(cat err.txt)"
printf 'out: %s/o\n%s\naxes: {temp_C: [27]}\n' "$D" "$(echo "$base" | sed 's/train: {epochs: 100}/train: {epochs: 100, corners: [{temp_C: 300}]}/')" > bad.yaml
"$N" sweep bad.yaml > out.txt 2> err.txt; [[ $? == 2 ]] && grep -qF "temp_C = 300: expected -40 .. 125 C" err.txt || fail "corner out of range: $(cat err.txt)"
printf 'out: %s/ca\n%s\naxes:\n  temp_C: [85]\n  training: [nominal, corner_aware]\n' "$D" \
  "$(echo "$base" | sed 's/train: {epochs: 100}/train: {epochs: 100, corners: [{temp_C: -40}, {temp_C: 85}]}/')" > ca.yaml
"$N" sweep ca.yaml --dry-run > ca.txt 2>&1 || fail "corner-aware dry run: $(cat ca.txt)"
grep -A1 "p001/chip_1/characterize_c1 " ca.txt | grep -q -- "--temp-C 85 --out" || fail "no 85 C characterisation: $(grep -A1 characterize_c ca.txt)"
grep -A1 "p001/chip_1/train_chip " ca.txt | grep -q -- "--corner-calibration $D/ca/run/p001/chip_1/characterize_c0/calibration.json --corner-calibration $D/ca/run/p001/chip_1/characterize_c1/calibration.json" ||
  fail "corner-aware training lacks its calibrations: $(grep -A1 p001/chip_1/train_chip ca.txt)"
! grep -A1 "p000/chip_0/train_chip " ca.txt | grep -q -- "--corner-calibration" || fail "a nominal point trains corner-aware"
! grep -qE "p001/chip_[01]/(chip|characterize) |p001/train_homogeneous" ca.txt || fail "the corner-aware point redraws or re-characterises the nominal chips"
grep -A1 "p001/chip_1/train_chip " ca.txt | grep -q -- "--calibration $D/ca/run/p000/chip_1/characterize/calibration.json" || fail "corner-aware training not on the shared nominal calibration"

# A small grid: 2 temperatures x A_VT x 2 (one value: a derived process), 2 chips each.
printf 'out: %s/sw\ntarget_accuracy: 0.8\n%s\naxes:\n  temp_C: [27, 85]\n  a_vt_scale: [2]\n' "$D" "$base" > s.yaml
"$N" sweep s.yaml --dry-run > dry.txt 2>&1 || fail "dry run: $(cat dry.txt)"
grep -q "p001: temp_C=85, a_vt_scale=2" dry.txt || fail "dry run lacks the points: $(cat dry.txt)"
[ ! -e sw ] || fail "--dry-run wrote the output folder"
timeout 900 "$N" sweep s.yaml > log.txt 2> err.txt || fail "sweep failed: $(tail -20 err.txt)"
[[ $(wc -l < sw/sweep.csv) == 5 ]] || fail "want a header and 4 rows: $(cat sw/sweep.csv)"
grep -q "a_vt_mV_um: 6.5999999999999996\|a_vt_mV_um: 6.6" sw/processes/a_vt_x2_area_x1.yaml || fail "derived process: $(grep a_vt sw/processes/*.yaml)"
for f in accuracy_vs_temp_C.png accuracy_vs_temp_C.svg run/report.html; do [ -s "sw/$f" ] || fail "no sw/$f"; done
# the 85 C point reuses the 27 C point's chips and characterisation, and evaluates at 85 C
[ ! -e sw/run/p001/chip_0/characterize ] || fail "the 85 C point characterised its chip again"
python3 - "$D/sw" <<'PY' || fail "sweep results inconsistent"
import csv, json, sys, math
d = sys.argv[1]
rows = list(csv.DictReader(open(f"{d}/sweep.csv")))
s = json.load(open(f"{d}/summary.json"))
assert s["target_accuracy"] == 0.8 and len(s["points"]) == 2, s
for p in s["points"]:
    r = [x for x in rows if x["point"] == p["point"]]
    assert len(r) == 2 and all(x["status"] == "ok" for x in r), r
    acc = [float(x["circuit_chip_aware"]) for x in r]
    assert abs(p["circuit_chip_aware"]["mean"] - sum(acc) / 2) < 1e-12, (p, acc)
    assert p["yield_chip_aware"] == sum(a >= 0.8 for a in acc) / 2, (p, acc)
    ideal = [float(x["circuit_ideal"]) for x in r]
    assert p["yield_ideal"] == sum(a >= 0.8 for a in ideal) / 2, (p, ideal)
    assert p["area_um2"] > 0 and float(r[0]["area_um2"]) == p["area_um2"]
    for c in (0, 1):
        e = json.load(open(f"{d}/run/{p['point']}/chip_{c}/evaluate_chip/run.json"))
        assert e["temp_C"] == p["values"]["temp_C"], (p["point"], e)
        assert e["process"].endswith("a_vt_x2_area_x1.yaml"), e["process"]
assert [x["chip_seed"] for x in rows] == ["7", "8", "7", "8"], rows
PY
cp sw/sweep.csv first.csv
timeout 600 "$N" sweep s.yaml --resume > log2.txt 2> err2.txt || fail "resume failed: $(tail -5 err2.txt)"
grep -q "done earlier, kept" err2.txt || fail "resume redid stages: $(head err2.txt)"
! grep -q "\] p[0-9]*/.*: [a-z].*(elapsed" err2.txt || fail "resume ran a stage: $(grep elapsed err2.txt | head -3)"
cmp -s first.csv sw/sweep.csv || fail "resume changed sweep.csv"
"$N" sweep s.yaml > o.txt 2> e.txt; [[ $? == 2 ]] && grep -q "already holds a sweep" e.txt || fail "a second sweep into the same folder: $(cat e.txt)"
echo "sweep_cli: ok"
