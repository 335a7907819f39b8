#!/usr/bin/env bash
# nnspice characterize: --help, bad inputs (exit 2 with a message naming the problem), a small run writing
# the calibration in the conventions.md format. Args: $1 nnspice binary, $2 scratch dir, $3 shared dir.
set -u
bin=$1; dir=$2
rm -rf "$dir"; mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/figure_check.sh"
# expect_error CODE PATTERN ARGS...: exit code and a stderr line matching PATTERN
expect_error() {
  local code=$1 pattern=$2; shift 2
  "$bin" characterize "$@" > "$dir/out.txt" 2> "$dir/err.txt"; local rc=$?
  [ "$rc" -eq "$code" ] || { cat "$dir/err.txt"; fail "characterize $* exited $rc, expected $code"; }
  grep -q -- "$pattern" "$dir/err.txt" || { cat "$dir/err.txt"; fail "characterize $*: stderr lacks '$pattern'"; }
}
small=(--routings 3 --levels 5e-9:40e-9:2 --negative-routings 2 --negative-levels 2e-8 --no-progress)

"$bin" characterize --help > "$dir/help.txt" || fail "--help exited non-zero"
grep -q -- "--resume" "$dir/help.txt" || fail "--help lacks --resume"

expect_error 2 "cannot read" -l 4-7-3 --chip "$dir/no_such_chip.csv" --out "$dir/a"
"$bin" netlist -l 4-8-3 --seed 3 --out "$dir/other" > /dev/null || fail "nnspice netlist failed"
expect_error 2 "4-8-3" -l 4-7-3 --chip "$dir/other/chip.csv" --out "$dir/a"
expect_error 2 "HI must be >= LO" -l 4-7-3 --levels 5e-8:1e-9:3 --out "$dir/a"
expect_error 2 "levels" -l 4-7-3 --levels 0,1e-8 --out "$dir/a"
expect_error 2 "routings" -l 4-7-3 --routings 0 --out "$dir/a"
expect_error 2 "routings >= 4" -l 40-10-3 --routings 3 --out "$dir/a"
expect_error 2 "--method" -l 4-7-3 --method magic --out "$dir/a"
expect_error 2 "--negative-ratio" -l 4-7-3 --negative-ratio 0.5 --out "$dir/a"
expect_error 2 "--fit" -l 4-7-3 --fit best --out "$dir/a"
expect_error 2 "invalid layer spec" -l 4-x-3 --out "$dir/a"

# A small run on a chip file.
"$bin" netlist -l 4-7-3 --seed 5 --out "$dir/chip5" > /dev/null || fail "nnspice netlist failed"
"$bin" characterize -l 4-7-3 --chip "$dir/chip5/chip.csv" --out "$dir/run" "${small[@]}" > "$dir/run.txt" 2>&1 \
  || { cat "$dir/run.txt"; fail "small characterisation failed"; }
for f in calibration.json summary.json run.json slopes.png slopes_0.npy slopes_1.npy negative_gain_0.npy routings_0.npy \
         currents_1.npy ops.jsonl; do
  [ -s "$dir/run/$f" ] || fail "missing $f"
done
check_figure "$dir/run" slopes || fail "slopes figure"
[ -s "$dir/run/figures/slopes.dat" ] && [ ! -e "$dir/run/slopes.dat" ] || fail "slopes.dat is not (only) in figures/"
python3 - "$dir/run" <<'PY' || fail "calibration.json does not follow the conventions"
import json, sys
d = sys.argv[1]
c = json.load(open(d + "/calibration.json"))
assert c["format"] == "nnspice-calibration/1", c["format"]
assert c["layers"] == [4, 7, 3], c["layers"]
assert [len(s) for s in c["slopes"]] == [4, 7], c["slopes"]
assert [len(g) for g in c["negative_gain"]] == [4, 7]
for s in c["slopes"]:
    assert all(v > 0 for v in s) and abs(sum(s) / len(s) - 1) < 1e-9, s
for g in c["negative_gain"]:
    assert all(0.5 < v < 4 for v in g), g
assert c["chip"].endswith("chip.csv") and c["seed"] == 5, (c["chip"], c["seed"])
s = json.load(open(d + "/summary.json"))
assert s["operating_points"] == 3 * 2 + 2 * 2 * 2 * 1, s["operating_points"]
assert s["operating_points_failed"] == 0 and s["newton_iterations"] > 0
assert len(s["per_layer"]) == 2 and s["method"] == "full-netlist"
PY
# Per-synapse calibration + the evaluation of the three models.
expect_error 2 "--synapses" -l 4-7-3 --evaluate 2 --out "$dir/ev0"
"$bin" characterize -l 4-7-3 --seed 5 --synapses --evaluate 1 --levels 1e-8,4e-8 --negative-levels 2e-8 --no-progress \
  --out "$dir/syn" > "$dir/syn.txt" 2>&1 || { cat "$dir/syn.txt"; fail "--synapses run failed"; }
python3 - "$dir/syn" <<'PY' || fail "--synapses outputs"
import json, struct, ast, sys
d = sys.argv[1]
def shape(p):
    b = open(p, "rb").read(); n = struct.unpack("<H", b[8:10])[0]
    return ast.literal_eval(b[10:10 + n].decode())["shape"]
assert shape(d + "/synapse_gain_pos_0.npy") == (7, 4) and shape(d + "/synapse_gain_neg_1.npy") == (3, 7)
c = json.load(open(d + "/calibration.json")); s = json.load(open(d + "/summary.json"))
assert c["slopes_source"] == "synapses" and s["slopes_source"] == "synapses"
assert s["operating_points"] == 7 * 2 + (4 + 7) * 1 * 2 + 5, s["operating_points"]
ev = s["evaluation"]["layers"]
assert len(ev) == 2 and all(e["per_synapse"]["rms_rel_err"] >= 0 for e in ev), ev
assert c["synapse_gains"] == [{"pos": "synapse_gain_pos_%d.npy" % l, "neg": "synapse_gain_neg_%d.npy" % l} for l in (0, 1)], c
PY
# The trainer reads that calibration with its per-synapse gains.
"$bin" train --dataset iris --epochs 2 --calibration "$dir/syn/calibration.json" --out "$dir/syn_train" --plot false \
  > "$dir/syn_train.txt" 2>&1 || { cat "$dir/syn_train.txt"; fail "train on the --synapses calibration"; }
grep -q '"synapse_gains_used": true' "$dir/syn_train/summary.json" || fail "train did not use the per-synapse gains"
# Gains per code (--synapse-codes): bad values, without --synapses, a bits run (decomposed) and its resume.
expect_error 2 "--synapse-codes" -l 4-7-3 --synapses --synapse-codes 5 --out "$dir/codes_bad"
expect_error 2 "--synapse-codes" -l 4-7-3 --synapses --synapse-codes "" --out "$dir/codes_bad"
expect_error 2 "needs the per-synapse measurement" -l 4-7-3 --synapse-codes bits --out "$dir/codes_bad"
codes=(-l 4-7-3 --seed 5 --synapses --synapse-codes bits --method decomposed --workers 1 --levels 1e-8,4e-8 --negative-levels 2e-8 --no-progress)
"$bin" characterize "${codes[@]}" --out "$dir/codes" > "$dir/codes.txt" 2>&1 || { cat "$dir/codes.txt"; fail "--synapse-codes bits run failed"; }
grep -q "per-code gain sd" "$dir/codes.txt" || { cat "$dir/codes.txt"; fail "--synapse-codes bits: no per-code line"; }
"$bin" characterize "${codes[@]}" --out "$dir/codes" --resume > "$dir/codes2.txt" 2>&1 || { cat "$dir/codes2.txt"; fail "--synapse-codes bits resume failed"; }
python3 - "$dir/codes" "$dir/codes.txt" "$dir/codes2.txt" <<'PY' || fail "--synapse-codes bits outputs"
import json, struct, ast, sys, re
d = sys.argv[1]
def npy(p):
    b = open(p, "rb").read(); n = struct.unpack("<H", b[8:10])[0]
    h = ast.literal_eval(b[10:10 + n].decode())
    vals = struct.unpack("<%dd" % (len(b[10 + n:]) // 8), b[10 + n:])
    return h["shape"], vals
for l, (post, pre) in enumerate([(7, 4), (3, 7)]):
    for sign in ("pos", "neg"):
        shp, v = npy("%s/synapse_gain_code_%s_%d.npy" % (d, sign, l))
        assert shp == (7, post, pre), shp
        # Sane, not tight: a code −1 synapse is a small difference of currents (measured up to ~4).
        assert all(0.2 < x < 8 for x in v), (sign, l, min(v), max(v))
        _, g7 = npy("%s/synapse_gain_%s_%d.npy" % (d, sign, l))
        assert list(v[6 * post * pre:]) == list(g7), "code 7 is the ±7 gain"
s = json.load(open(d + "/summary.json"))
assert s["synapse_codes"] == "bits" and s["synapse_codes_measured"] == [1, 2, 4], s["synapse_codes_measured"]
pc = s["per_layer"][1]["synapse_gain_code_neg"]
assert [e["code"] for e in pc] == list(range(1, 8)) and [e["source"] for e in pc][2] == "bits", pc
assert all(e["n"] == 21 and e["sd"] > 0 for e in pc), pc
assert s["synapse_code_additivity"][0]["code"] == 7
# The resumed run simulated nothing and reports the same gains.
first = open(sys.argv[2]).read(); second = open(sys.argv[3]).read()
assert re.search(r"\(0 simulated, \d+ from checkpoint", second), second
f = lambda t: [l for l in t.splitlines() if "per-code gain sd" in l]
assert f(first) == f(second), (f(first), f(second))
PY
# A second run into the same directory must not silently discard its checkpoint.
expect_error 2 "--resume" -l 4-7-3 --chip "$dir/chip5/chip.csv" --out "$dir/run" "${small[@]}"
echo "ok"
