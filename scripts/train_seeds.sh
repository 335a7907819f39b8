#!/usr/bin/env bash
# Reproduces the seed table of docs/training.md: `nnspice train` with the defaults of each data set over
# seeds 1..N (default 10), then mean ± sd, worst seed, per-seed test accuracies and the dead-output report of
# each run (summary.json: collapsed, output_health).
# Usage: scripts/train_seeds.sh [-n SEEDS] [-d "fsdd mnist iris"] [-j PARALLEL] NNSPICE OUTDIR [FSDD_DIR]
set -euo pipefail
seeds=10; datasets="fsdd mnist iris"; jobs=1
while getopts "n:d:j:" opt; do
  case $opt in n) seeds=$OPTARG ;; d) datasets=$OPTARG ;; j) jobs=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1))
N=${1:?nnspice binary}; OUT=${2:?output directory}; FSDD=${3:-$(dirname "$0")/../../shared/datasets/fsdd}
mkdir -p "$OUT"
run() {  # dataset seed
  local d=$1 s=$2 extra=()
  [[ $d == fsdd ]] && extra=(--fsdd "$FSDD")
  [[ -f "$OUT/$d-$s/summary.json" ]] && return 0
  "$N" train --dataset "$d" "${extra[@]}" --seed "$s" --plot false --quiet --out "$OUT/$d-$s" > "$OUT/$d-$s.log" 2>&1
}
for d in $datasets; do
  for s in $(seq 1 "$seeds"); do
    run "$d" "$s" &
    while (( $(jobs -rp | wc -l) >= jobs )); do wait -n; done
  done
done
wait
for d in $datasets; do
  for s in $(seq 1 "$seeds"); do jq -c --arg s "$s" '{seed: ($s|tonumber), acc: (100 * .test_accuracy), collapsed,
    dead: .output_health.dead_outputs_train, zero_test: .output_health.all_zero_outputs_test,
    dead_epochs: .output_health.epochs_with_dead_outputs, reinit: (.output_health.recoveries | length), wall_s}' \
    "$OUT/$d-$s/summary.json"; done | jq -rs --arg d "$d" '
    (map(.acc)) as $a | ($a | add / length) as $m | (($a | map(. - $m | . * .) | add) / (length - 1) | sqrt) as $sd |
    (min_by(.acc)) as $w |
    "| \($d) | \(length) | \($m * 100 | round / 100) ± \($sd * 100 | round / 100) | \($w.acc * 100 | round / 100) (seed \($w.seed)) | \($m - $w.acc | . * 100 | round / 100) | \(map(.acc * 100 | round / 100 | tostring) | join(" ")) | \(map(select(.collapsed)) | length) | \(map(.dead_epochs) | add) / \(map(.reinit) | add) | \(map(.wall_s) | add / length | round) s |"'
done
