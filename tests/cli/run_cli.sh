#!/usr/bin/env bash
# nnspice run: the plan, config validation before any work (unknown key / wrong type named with its line),
# a whole Iris run, and a run killed midway that resumes to results identical to the uninterrupted one.
set -u
nn=$1; dir=$2; src=$(cd "$(dirname "$0")/../.." && pwd); rm -rf "$dir"; mkdir -p "$dir"; cd "$dir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
"$nn" run --dry-run > plan.txt 2>&1 || fail "dry run: $(cat plan.txt)"
grep -q "^plan: 18 stages" plan.txt || fail "default plan: $(head -2 plan.txt)"
grep -q "nnspice characterize --layers 4-7-3" plan.txt || fail "plan lacks the characterisation command"
"$nn" run --print-default > default.yaml || fail "print-default"
"$nn" run default.yaml --dry-run > /dev/null 2>&1 || fail "the printed default does not parse"
cmp default.yaml "$src/examples/run_default.yaml" || fail "examples/run_default.yaml is stale: regenerate with nnspice run --print-default"
for ex in "$src"/examples/run_*.yaml; do "$nn" run "$ex" --dry-run > /dev/null 2> e.txt || fail "example $ex: $(cat e.txt)"; done

printf 'out: x\nexperiments:\n  - name: a\n    dataset: iris\n    layers: 4-7-3\n    evaluate: {method: decomposed, limt: 3}\n' > unknown.yaml
"$nn" run unknown.yaml --out u > o.txt 2> e.txt; rc=$?
[ $rc -eq 2 ] || fail "unknown key: exit $rc"
grep -q "unknown.yaml:6:.*unknown key 'limt'" e.txt || fail "unknown key message: $(cat e.txt)"
[ -e u ] && fail "work started despite the bad config"
printf 'out: x\nexperiments:\n  - name: a\n    dataset: iris\n    layers: 4-7-3\n    chip_seed: seven\n' > type.yaml
"$nn" run type.yaml --out u > o.txt 2> e.txt; rc=$?
[ $rc -eq 2 ] || fail "wrong type: exit $rc"
grep -q "type.yaml:6:.*chip_seed = seven" e.txt || fail "wrong type message: $(cat e.txt)"
printf 'out: x\nexperiments:\n  - name: a\n    dataset: iris\n    layers: 4-7-3\n    dynamics: {count: 2, tmax_s: 5}\n' > tmax.yaml
"$nn" run tmax.yaml --out u > o.txt 2> e.txt; rc=$?
[ $rc -eq 2 ] && grep -q "tmax.yaml:6:.*tmax_s" e.txt || fail "out-of-range tmax_s: exit $rc, $(cat e.txt)"
printf 'out: x\nexperiments:\n  - name: a\n    dataset: iris\n    layers: 4-7-3\n    dynamics: {count: 2, tmax_s: 1.0e-7, chunk: 3}\n' > tmax_ok.yaml
"$nn" run tmax_ok.yaml --dry-run > o.txt 2> e.txt || fail "tmax_s/chunk config: $(cat e.txt)"
grep -q "nnspice dynamics .*--tmax 1e-07 --chunk 3" o.txt || fail "plan lacks --tmax/--chunk: $(grep dynamics o.txt)"
printf 'out: x\nexperiments:\n  - name: a\n    dataset: iris\n    layers: 4-7-3\n    characterize: {method: full, synapses: bits}\n' > syn.yaml
"$nn" run syn.yaml --dry-run > o.txt 2> e.txt || fail "synapses: bits config: $(cat e.txt)"
grep -q "nnspice characterize .*--synapses --synapse-codes bits" o.txt || fail "plan lacks --synapses --synapse-codes bits: $(grep characterize o.txt)"
printf 'out: x\nexperiments:\n  - name: a\n    dataset: iris\n    layers: 4-7-3\n    characterize: {synapses: 3}\n' > syn_bad.yaml
"$nn" run syn_bad.yaml --out u > o.txt 2> e.txt; rc=$?
[ $rc -eq 2 ] && grep -q "syn_bad.yaml:6:.*synapses" e.txt || fail "synapses: 3: exit $rc, $(cat e.txt)"
printf 'out: x\nexperiments: [\n' > broken.yaml
"$nn" run broken.yaml > o.txt 2> e.txt; [ $? -eq 2 ] && grep -q "broken.yaml:[0-9]*:[0-9]*: malformed YAML" e.txt || fail "malformed: $(cat e.txt)"

cfg=$src/examples/run_iris_quick.yaml
"$nn" run "$cfg" --out ref > ref.log 2>&1 || fail "reference run: $(tail -5 ref.log)"
for f in report.md report.html summary.json config.yaml run.json iris/accuracy.png iris/accuracy.svg iris/figures/accuracy.gp iris/characterize/calibration.json iris/train_chip/weights_0.npy iris/evaluate_chip/summary.json; do
  [ -s "ref/$f" ] || fail "missing ref/$f"
done
[ -e ref/iris/accuracy.gp ] && fail "figure sources beside the figure (expected under iris/figures/)"
# The report: no JSON dump, the paper comparison, every stage's table; report.html in headless Chromium.
grep -q '```json' ref/report.md && fail "report.md dumps JSON"
grep -q '"mean"' ref/report.md && fail "report.md holds JSON keys"
for h in "## Against the paper" "## Config, seeds and versions" "### iris: measured mismatch" "### iris: time to output and energy" "### iris: fidelity audit and stage times"; do
  grep -qF "$h" ref/report.md || fail "report.md lacks '$h'"
  grep -qF "${h#* }" ref/report.html || fail "report.html lacks '${h#* }'"
done
grep -q "| Iris on a chip (iris 4-7-3) | 100 % (fabricated 4-7-3 prototype) | [0-9.]* % " ref/report.md || fail "paper comparison row: $(grep -i 'iris on a chip' ref/report.md)"
bash "$src/tests/cli/check_report_html.sh" ref/report.html "$dir/report_screenshot.png" || fail "report.html"
"$nn" run "$cfg" --out ref > again.log 2>&1 && fail "a second run into the same folder without --resume must be refused"

"$nn" run "$cfg" --out killed > k.log 2>&1 &
pid=$!
for _ in $(seq 1 600); do [ -f killed/iris/train_chip/stage.json ] && break; sleep 0.1; done
[ -f killed/iris/train_chip/stage.json ] || fail "the run never reached train_chip"
kill -9 $pid; wait $pid 2>/dev/null
[ -f killed/summary.json ] && fail "killed too late: the run had finished"
"$nn" run "$cfg" --out killed --resume > r.log 2>&1 || fail "resume: $(tail -5 r.log)"
grep -q "done earlier, kept" r.log || fail "resume redid finished stages"
for f in iris/train_chip/weights_0.npy iris/train_chip/weights_1.npy iris/evaluate_chip/outputs.npy iris/evaluate_homogeneous/outputs.npy iris/characterize/slopes_0.npy iris/characterize/slopes_1.npy iris/characterize/negative_gain_0.npy; do
  cmp "ref/$f" "killed/$f" || fail "resumed $f differs from the uninterrupted run"
done
cmp <(grep -o "\"circuit_chip_aware_weights\": [0-9.]*" ref/summary.json) <(grep -o "\"circuit_chip_aware_weights\": [0-9.]*" killed/summary.json) || fail "accuracies differ"
echo OK
