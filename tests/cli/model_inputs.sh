#!/usr/bin/env bash
# Issue 17, classes 4 and 5: one layer grammar for every command and file, one weight reader, duplicate
# keys refused, calibration values range-checked, DNPU input columns read by name, no silent rounding.
# Each bad input: exit 2 and a message naming the option/field (and file:line where there is one) and value.
# $1 = nnspice binary, $2 = scratch dir.
set -u
N="$1"; D="$2"; SRC="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$D"; mkdir -p "$D"; cd "$D" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
expect_rc() {  # expect_rc CODE PATTERN args...
  local want="$1" pat="$2"; shift 2
  timeout 60 "$N" "$@" > out.txt 2> err.txt; local rc=$?
  [[ $rc == "$want" ]] || fail "'$*' exited $rc (want $want); stderr: $(cat err.txt)"
  grep -qF -- "$pat" err.txt || fail "'$*': stderr lacks \"$pat\"; got: $(cat err.txt)"
}

# --- One layer grammar (class 5): the spellings train once accepted are refused by every command. ---
for spec in '4-7 3' '4,7,3' '4x7x3' '+4-7-3' '4-1000000-3' '4' '4--3'; do
  for c in "train --dataset iris" "netlist" "evaluate" "characterize" "demo" "calibration random"; do
    # shellcheck disable=SC2086
    expect_rc 2 "--layers = '$spec': invalid layer spec" $c --layers "$spec" --out x
  done
done
printf 'dataset: iris\nlayers: "4,7,3"\nepochs: 1\n' > t.yaml
expect_rc 2 "t.yaml:2:" train --config t.yaml --out x
grep -qF "layers = '4,7,3': invalid layer spec" err.txt || fail "train.yaml layers: $(cat err.txt)"
printf 'dataset: iris\nlayers: [4, 1000000, 3]\nepochs: 1\n' > t2.yaml
expect_rc 2 "layers[1] = 1000000: invalid layer size" train --config t2.yaml --out x
printf 'experiments:\n  - name: a\n    dataset: iris\n    layers: 4-7 3\n' > run.yaml
expect_rc 2 "run.yaml:4:" run run.yaml --out x
grep -qF "invalid layer spec" err.txt || fail "run config layers: $(cat err.txt)"
"$N" netlist --layers 4-7-3 --seed 1 --out net > /dev/null || fail "netlist 4-7-3"
sed 's/^# layers: 4-7-3$/# layers: 4-7 3/' net/chip.csv > bad_chip.csv
grep -q '^# layers: 4-7 3$' bad_chip.csv || fail "chip header edit"
expect_rc 2 "bad_chip.csv:" netlist --layers 4-7-3 --chip bad_chip.csv --out x
grep -qF "'4-7 3': invalid layer spec" err.txt || fail "chip header layers: $(cat err.txt)"

# --- One weight reader: a layer given as both .npy and .csv is an error naming both. ---
"$N" train --dataset iris --layers 4-7-3 --epochs 2 --out tr > /dev/null 2>&1 || fail "train iris"
"$N" infer --dataset iris --weights tr > /dev/null || fail "infer"
cp -r tr both && printf '1,1,1,1\n' > both/weights_0.csv
expect_rc 2 "both/weights_0.npy and both/weights_0.csv: two files for weight layer 0" infer --dataset iris --weights both
expect_rc 2 "two files for weight layer 0" netlist --layers 4-7-3 --weights both --out x
expect_rc 2 "two files for weight layer 0" evaluate --layers 4-7-3 --weights both --dataset iris --out x

# --- Calibration values (class 4) and duplicate keys (class 5). ---
cal() { printf '{"format": "nnspice-calibration/1", "layers": [4, 7, 3], "slopes": [[%s, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]]%s}\n' "$1" "$2" > "$3"; }
cal 1e308 "" c308.json
expect_rc 2 "c308.json: slopes[0][0] = 1e+308: must be a finite number >= 0 and <= 1000" infer --dataset iris --weights tr --calibration c308.json
cal 1 ', "negative_gain": 1e300' cgain.json
expect_rc 2 "cgain.json: negative_gain = 1e+300" infer --dataset iris --weights tr --calibration cgain.json
cal 1 "" ok.json
"$N" infer --dataset iris --weights tr --calibration ok.json > /dev/null || fail "infer with a plausible calibration"
printf '{"format": "nnspice-calibration/1",\n "layers": [4, 7, 3],\n "slopes": [[1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]],\n "layers": [4, 7, 3]}\n' > dup.json
expect_rc 2 "dup.json:4:2: duplicate key 'layers'" infer --dataset iris --weights tr --calibration dup.json
printf 'dataset: iris\nlayers: 4-7-3\nepochs: 1\nepochs: 500\n' > dup.yaml
expect_rc 2 "dup.yaml:4:1: duplicate key 'epochs' (first at line 3" train --config dup.yaml --out x
printf 'out: o\nexperiments:\n  - name: a\n    name: b\n    dataset: iris\n    layers: 4-7-3\n' > duprun.yaml
expect_rc 2 "duprun.yaml:4:5: duplicate key 'name'" run duprun.yaml --out x

# --- dnpu eval reads columns by name; a header that does not name them is refused. ---
FIX="$SRC/tests/data/dnpu"
if [ -f "$FIX/legacy-f64.pt" ]; then
  head -3 "$FIX/legacy-f64-forward.csv" | cut -d, -f1-7 > in.csv
  # The same data with columns v0_V and v1_V swapped: the same outputs.
  awk -F, -v OFS=, '{ t=$1; $1=$2; $2=t; print }' in.csv > swapped.csv
  "$N" dnpu eval --model "$FIX/legacy-f64.pt" --inputs in.csv --out a.csv > /dev/null || fail "dnpu eval"
  "$N" dnpu eval --model "$FIX/legacy-f64.pt" --inputs swapped.csv --out b.csv > /dev/null || fail "dnpu eval swapped"
  [ "$(cut -d, -f8 a.csv)" = "$(cut -d, -f8 b.csv)" ] || fail "dnpu eval read the swapped columns by position"
  sed '1s/v6_V/v7_V/' in.csv > wrong.csv
  expect_rc 2 "has no column v6_V" dnpu eval --model "$FIX/legacy-f64.pt" --inputs wrong.csv --out c.csv
  sed '1s/v6_V/v5_V/' in.csv > twice.csv
  expect_rc 2 "has more than one column v5_V" dnpu eval --model "$FIX/legacy-f64.pt" --inputs twice.csv --out c.csv
fi

# --- No silent rounding: --negative-routings 3 is refused, naming the allowed values. ---
expect_rc 2 "--negative-routings = 3. Violated constraint: an even number in 2..100000" characterize --layers 4-7-3 --negative-routings 3 --out x
echo "model_inputs: all checks passed"
