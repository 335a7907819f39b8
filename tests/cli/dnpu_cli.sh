#!/bin/bash
# nnspice dnpu: eval/info/convert/spice on the shipped and test models; bad inputs exit 2 with a message
# naming the file. Args: $1 nnspice binary, $2 scratch dir, $3 shared dir.
set -u
N="$1"; S="$2"; SHARED="$3"
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$S"; mkdir -p "$S"
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/figure_check.sh"
expect_rc() {  # rc, pattern-in-stderr, command...
  local want="$1" pat="$2"; shift 2
  "$@" > "$S/out.txt" 2> "$S/err.txt"; local rc=$?
  [ "$rc" = "$want" ] || { cat "$S/err.txt"; fail "rc $rc (want $want): $*"; }
  [ -z "$pat" ] || grep -q -- "$pat" "$S/err.txt" || { cat "$S/err.txt"; fail "stderr lacks '$pat': $*"; }
}
FIX="$SRC/tests/data/dnpu"

# eval on the fixture: output equals the Python float64 reference (column 8) to 1e-9 relative
expect_rc 0 "" "$N" dnpu eval --model "$FIX/legacy-f64.pt" --inputs "$FIX/legacy-f64-forward.csv" --out "$S/e.csv" --grad
head -1 "$S/e.csv" | grep -q '^v0_V,v1_V,v2_V,v3_V,v4_V,v5_V,v6_V,i_out_nA,di_dv0_nA_per_V' || fail "eval header"
paste -d, "$FIX/legacy-f64-forward.csv" "$S/e.csv" | awk -F, 'NR>1 { d=$8-$16; if (d<0) d=-d; r=($8<0?-$8:$8); if (d > 1e-9*(r+1)) bad++ } END { exit bad>0 }' || fail "eval values"
[ "$(wc -l < "$S/e.csv")" = 51 ] || fail "eval rows"

# shipped model by name (data dir), and the reference of the seed paper's surrogate when ../shared exists
if [ -f "$SHARED/dnpu/reference/si-boron-2020-forward.csv" ]; then
  expect_rc 0 "" "$N" dnpu eval --model dnpu/si-boron-2020 --inputs "$SHARED/dnpu/reference/si-boron-2020-forward.csv" --out "$S/sb.csv"
  paste -d, "$SHARED/dnpu/reference/si-boron-2020-forward.csv" "$S/sb.csv" | awk -F, 'NR>1 { d=$8-$16; if (d<0) d=-d; r=($8<0?-$8:$8); if (r<1e-3) r=1e-3; if (d > 1e-4*r) bad++ } END { exit bad>0 }' || fail "si-boron reference"
fi

# two stacks with nested prefixes: each prefix the refusal lists can be chosen (issue 17, class 10)
expect_rc 2 "choose one by its full key prefix (--prefix)" "$N" dnpu eval --model "$FIX/two-stacks.pt" --inputs "$FIX/two-stacks-forward.csv" --out "$S/ts.csv"
grep -q "^  'node.model' (2 layers)" "$S/err.txt" && grep -q "^  'outer.node.model' (2 layers)" "$S/err.txt" || { cat "$S/err.txt"; fail "two stacks not listed"; }
for p in node.model outer.node.model; do
  expect_rc 0 "" "$N" dnpu eval --model "$FIX/two-stacks.pt" --prefix "$p" --inputs "$FIX/two-stacks-forward.csv" --out "$S/ts.csv"
  paste -d, "$FIX/two-stacks-forward.csv" "$S/ts.csv" | awk -F, 'NR>1 { d=$8-$16; if (d<0) d=-d; r=($8<0?-$8:$8); if (d > 1e-9*(r+1)) bad++ } END { exit bad>0 }' \
    || fail "--prefix $p: values differ from the reference"
done
expect_rc 2 "with key prefix 'model'" "$N" dnpu eval --model "$FIX/two-stacks.pt" --prefix model --inputs "$FIX/two-stacks-forward.csv" --out "$S/ts.csv"

# info / convert round trip / spice
expect_rc 0 "" "$N" dnpu info --model "$FIX/zip-f64-p4.pt"
grep -q "7-10-8-1 (float64" "$S/out.txt" || fail "info network line"
expect_rc 0 "" "$N" dnpu convert --model "$FIX/zip-f64-p4.pt" --out "$S/plain"
[ -f "$S/plain/model.json" ] && [ -f "$S/plain/layer_0_weight.npy" ] || fail "plain files"
expect_rc 0 "" "$N" dnpu convert --model "$S/plain" --out "$S/back.pt" --legacy
expect_rc 0 "" "$N" dnpu eval --model "$S/back.pt" --inputs "$FIX/zip-f64-p4-forward.csv" --out "$S/b.csv"
# zip .pt -> plain -> legacy .pt: the round trip evaluates to the same bytes as the original
expect_rc 0 "" "$N" dnpu eval --model "$FIX/zip-f64-p4.pt" --inputs "$FIX/zip-f64-p4-forward.csv" --out "$S/a.csv"
cmp "$S/a.csv" "$S/b.csv" || fail "zip -> plain -> legacy round trip changed the outputs"
expect_rc 0 "" "$N" dnpu spice --model "$FIX/legacy-f32.pt" --out "$S/d.cir"
grep -q "^.subckt dnpu_legacy_f32 e0 e1 e2 e3 e4 e5 e6 out" "$S/d.cir" || fail "subckt line"

# bad inputs -> exit 2 with the file named
expect_rc 2 "no such file" "$N" dnpu eval --model "$S/missing.pt" --inputs "$FIX/legacy-f64-forward.csv" --out "$S/x.csv"
head -c 1500 "$FIX/zip-f64-p4.pt" > "$S/trunc.pt"
expect_rc 2 "trunc.pt" "$N" dnpu info --model "$S/trunc.pt"
head -c 900 "$FIX/legacy-f64.pt" > "$S/trunc2.pt"
expect_rc 2 "trunc2.pt" "$N" dnpu info --model "$S/trunc2.pt"
echo "not a model" > "$S/text.pt"
expect_rc 2 "not a torch file" "$N" dnpu info --model "$S/text.pt"
printf 'a,b\n1,2\n' > "$S/two.csv"
expect_rc 2 "two.csv" "$N" dnpu eval --model "$FIX/legacy-f64.pt" --inputs "$S/two.csv" --out "$S/x.csv"
printf 'v0_V,v1_V,v2_V,v3_V,v4_V,v5_V,v6_V\n0,0,0,0,0,0.9,0\n' > "$S/oor.csv"
expect_rc 2 "e5 = 0.9 V outside" "$N" dnpu eval --model "$FIX/legacy-f64.pt" --inputs "$S/oor.csv" --out "$S/x.csv"
expect_rc 0 "" "$N" dnpu eval --model "$FIX/legacy-f64.pt" --inputs "$S/oor.csv" --out "$S/x.csv" --allow-out-of-range
expect_rc 2 "unknown dnpu subcommand" "$N" dnpu frobnicate
expect_rc 2 "outside its range" "$N" dnpu spice --model "$FIX/legacy-f32.pt" --out "$S/d2.cir" --demo "$S/demo.cir" --controls e0=5
expect_rc 2 "violated\|Violated" "$N" dnpu capacity --model "$FIX/legacy-f64.pt" --n-min 5 --n-max 4 --out "$S/cap"
# ring: restarts saved with their controls; the same command resumes (and extends) to the restarts of an uninterrupted run
RING=(dnpu ring --model dnpu/si-boron-2020 --arch single --points 40 --epochs 15)
expect_rc 0 "" "$N" "${RING[@]}" --restarts 8 --out "$S/ring_a"
expect_rc 2 "add --resume" "$N" "${RING[@]}" --restarts 16 --out "$S/ring_a"
expect_rc 0 "" "$N" "${RING[@]}" --restarts 16 --resume --out "$S/ring_a"
grep -q "resuming after 8 finished restarts" "$S/out.txt" || fail "ring resume message"
expect_rc 0 "" "$N" "${RING[@]}" --restarts 16 --out "$S/ring_b"
cmp -s "$S/ring_a/restarts_single.csv" "$S/ring_b/restarts_single.csv" || fail "resumed ring restarts differ from an uninterrupted run"
head -1 "$S/ring_a/restarts_single.csv" | grep -q "max_range_violation_V,control_0_V" || fail "ring CSV header"
awk -F, 'NR>1 && $5 != 0 { bad++ } END { exit bad>0 }' "$S/ring_a/restarts_single.csv" || fail "clamped controls outside their ranges"
check_figure "$S/ring_a" ring_hist || fail "ring_hist figure"
expect_rc 2 "other options" "$N" "${RING[@]}" --restarts 16 --lr 0.01 --resume --out "$S/ring_a"
# a summary of fewer restarts than the CSV holds covers the first ones, as an uninterrupted run would
expect_rc 0 "" "$N" "${RING[@]}" --restarts 8 --out "$S/ring_8"
expect_rc 0 "" "$N" "${RING[@]}" --restarts 8 --resume --out "$S/ring_a"
grep -q '"restarts": 8,' "$S/ring_a/summary.json" || fail "summary of the first 8 restarts"
[ "$(grep -o '"median_test_accuracy": [0-9.e-]*' "$S/ring_a/summary.json")" = "$(grep -o '"median_test_accuracy": [0-9.e-]*' "$S/ring_8/summary.json")" ] || fail "median of the first 8"
printf 'restart,fisher_loss\n0,1\n' > "$S/ring_c.csv"; mkdir -p "$S/ring_c"; cp "$S/ring_c.csv" "$S/ring_c/restarts_single.csv"
expect_rc 2 "another run" "$N" "${RING[@]}" --restarts 8 --resume --out "$S/ring_c"

# mnist (when the MNIST files are installed): a stopped run resumes from OUT/checkpoint.bin
MN=/usr/local/share/nnspice/mnist
if [ -f "$MN/train-images-idx3-ubyte" ]; then
  MNIST=(dnpu mnist --model dnpu/si-boron-2020 --train-limit 640 --lr 1e-3)
  expect_rc 0 "" "$N" "${MNIST[@]}" --epochs 1 --out "$S/mn"
  expect_rc 2 "add --resume" "$N" "${MNIST[@]}" --epochs 2 --out "$S/mn"
  expect_rc 0 "" "$N" "${MNIST[@]}" --epochs 2 --resume --out "$S/mn"
  grep -q "epoch   1 (from checkpoint)" "$S/out.txt" || fail "mnist resume"
  [ "$(grep -c '^2,' "$S/mn/history.csv")" = 1 ] || fail "mnist history after resume"
  check_figure "$S/mn" mnist_accuracy || fail "mnist_accuracy figure"
  head -c 3000 "$S/mn/checkpoint.bin" > "$S/ck.bin" && cp "$S/ck.bin" "$S/mn/checkpoint.bin"
  # a damaged checkpoint is not used: a notice, then training from the first epoch (issue 17)
  expect_rc 0 "checkpoint.bin: not a usable MNIST DNPU checkpoint: checksum mismatch (truncated or damaged); training from the first epoch instead" \
    "$N" "${MNIST[@]}" --epochs 3 --resume --out "$S/mn"
  [ "$(grep -c '^[0-9]*,' "$S/mn/history.csv")" = 3 ] || fail "mnist: 3 epochs after a damaged checkpoint"
fi

expect_rc 0 "" "$N" dnpu eval --help
grep -q -- "--inputs" "$S/out.txt" || fail "help text"
echo "all dnpu CLI checks passed"
