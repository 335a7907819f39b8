#!/usr/bin/env bash
# The temperature study of docs/training.md ("Measured: one 196-100-50-10 chip at -40 / 0 / 27 / 85 C"): one chip
# (seed 43), characterised at each temperature; weights trained at 27 C, recalibrated at T, and corner-aware; all
# 10,000 MNIST test images at circuit level and 10 transients at each temperature. Idempotent: a finished step
# (NAME.done) is skipped, so a second call continues. Usage: examples/temperature_study.sh OUT [nnspice binary]
set -uo pipefail
out=${1:?usage: temperature_study.sh OUT [nnspice]}
B=${2:-$(cd "$(dirname "$0")/.." && pwd)/build/tools/nnspice}
mkdir -p "$out" && cd "$out" || exit 2
L=196-100-50-10
TS="27 85 -40 0"
step() {  # NAME CMD...: runs once, its output in NAME.log
  local n=$1; shift
  [[ -f $n.done ]] && return 0
  echo "$(date +%T) start $n" | tee -a progress.txt
  if "$@" > "$n.log" 2>&1; then touch "$n.done"; else echo "$(date +%T) FAILED $n (see $out/$n.log)" | tee -a progress.txt; return 1; fi
}
step netlist "$B" netlist --layers $L --seed 43 --out chip || exit 1
for T in $TS; do
  step char_$T "$B" characterize --layers $L --chip chip/chip.csv --method decomposed --temp-C $T --table-cache tables -j2 --no-progress --out char_$T || exit 1
done
step train_w27 "$B" train --dataset mnist --layers $L --calibration char_27/calibration.json --seed 1 --out w27
step train_wca "$B" train --dataset mnist --layers $L --calibration char_27/calibration.json --corner-calibration char_-40/calibration.json \
  --corner-calibration char_0/calibration.json --corner-calibration char_85/calibration.json --seed 1 --out wca
for T in 85 -40 0; do
  step train_w$T "$B" train --dataset mnist --layers $L --calibration char_$T/calibration.json --seed 1 --out w$T
done
evaluate() { step eval_$1_$2 "$B" evaluate --layers $L --chip chip/chip.csv --weights $1 --dataset mnist --method decomposed --table-cache tables --temp-C $2 --jobs 2 --out eval_$1_$2; }
for T in $TS; do
  evaluate w27 $T
  evaluate wca $T
  [[ $T != 27 ]] && evaluate w$T $T
  step infer_w27_$T "$B" infer --weights w27 --calibration char_$T/calibration.json --dataset mnist --out infer_w27_$T
done
for W in w27 wca; do for T in $TS; do
  step dyn_${W}_$T "$B" dynamics --layers $L --chip chip/chip.csv --weights $W --dataset mnist --count 10 --mean-input 15e-9 --method tabulated \
    --table-cache tables --temp-C $T -j2 --no-progress --out dyn_${W}_$T
done; done
echo "$(date +%T) all done: circuit accuracy in eval_*/summary.json, transients in dyn_*/summary.json" | tee -a progress.txt
