#!/usr/bin/env bash
# Issue 17, class 3: `run --resume` after OUT/config.yaml was edited (chip seed 7 -> 8) redoes the stages whose
# inputs changed and everything downstream of them, keeps the others, and ends byte-identical to an
# uninterrupted run with the new config; report.md names the new seed.
# Args: $1 nnspice binary, $2 scratch dir, $3 shared dir.
set -u
nn=$1; dir=$2; rm -rf "$dir"; mkdir -p "$dir"; cd "$dir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
cfg() {  # cfg SEED
  printf 'out: x\njobs: 2\nexperiments:\n  - name: iris\n    dataset: iris\n    layers: 4-7-3\n    chip_seed: %s\n    data_seed: 1\n' "$1"
  printf '    characterize: {method: full, routings: 4}\n    train: {epochs: 30}\n    evaluate: {method: full, limit: 15}\n    dynamics: false\n'
}
cfg 7 > seed7.yaml; cfg 8 > seed8.yaml
"$nn" run seed8.yaml --out ref > ref.log 2>&1 || fail "reference run (seed 8): $(tail -5 ref.log)"
"$nn" run seed7.yaml --out edited > e7.log 2>&1 || fail "seed-7 run: $(tail -5 e7.log)"
"$nn" run seed8.yaml --out edited --resume > e8.log 2>&1 || fail "resume with the edited config: $(tail -5 e8.log)"
grep -q "train_homogeneous: done earlier, kept" e8.log || fail "the stage the seed does not reach was redone: $(cat e8.log)"
grep -q "note: edited/iris/chip/stage.json: made from other inputs.*stage iris/chip is redone from scratch" e8.log || fail "chip stage kept: $(cat e8.log)"
grep -q "stage iris/evaluate_chip is redone" e8.log || fail "downstream stage kept: $(cat e8.log)"
for f in iris/chip/chip.csv iris/characterize/slopes_0.npy iris/characterize/slopes_1.npy iris/characterize/negative_gain_0.npy iris/train_chip/weights_0.npy iris/train_chip/weights_1.npy \
         iris/evaluate_chip/outputs.npy iris/evaluate_homogeneous/outputs.npy iris/train_homogeneous/weights_0.npy; do
  cmp "ref/$f" "edited/$f" || fail "$f differs from the uninterrupted seed-8 run"
done
cmp <(grep -o "\"circuit_[a-z_]*weights\": [0-9.]*" ref/summary.json) <(grep -o "\"circuit_[a-z_]*weights\": [0-9.]*" edited/summary.json) || fail "accuracies differ"
grep -q "seed 8" edited/report.md || fail "report.md does not name seed 8"
grep -q "seed 7" edited/report.md && fail "report.md still names seed 7"
# An output of a finished stage edited afterwards: that stage is redone (and what uses it), the result restored.
printf 'x' >> edited/iris/train_chip/learning_curve.csv
"$nn" run seed8.yaml --out edited --resume > e9.log 2>&1 || fail "resume after an edited output: $(tail -5 e9.log)"
grep -q "note: edited/iris/train_chip/stage.json: its output files were changed after the stage finished; stage iris/train_chip is redone" e9.log \
  || fail "edited output kept: $(cat e9.log)"
grep -q "iris/characterize: done earlier, kept" e9.log || fail "an upstream stage was redone: $(cat e9.log)"
[ "$(tail -c 1 edited/iris/train_chip/learning_curve.csv)" != x ] || fail "learning_curve.csv not rewritten"  # (it holds timings)
for f in weights_0.npy weights_1.npy; do cmp "ref/iris/train_chip/$f" "edited/iris/train_chip/$f" || fail "$f differs after the redo"; done
echo ok
