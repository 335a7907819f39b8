#!/usr/bin/env bash
# bench_evaluate — circuit-level evaluation of the whole MNIST test set (`nnspice evaluate`, decomposed engine)
# against naive `ngspice -b`, one process per sample on the full netlist, in the same run.
#   1. Small network (--small, default 196-20-10; chip --seed): `ngspice -b` on the full netlist of --samples input
#      vectors (MNIST scale: 15 nA mean, half the inputs 0), then `nnspice evaluate` of all 10,000 test images on
#      the same chip and weights from scratch (tables + solves). Prints both costs per sample and their ratio.
#   2. --big: a chip never seen before (--big-seed) of --big-layers (default 196-100-50-10), timed stage by stage:
#      characterise -> train on its measured slopes -> evaluate all 10,000 test images (the per-chip preparation is
#      included). Prints counts next to times, the total against the 1 h target, and the ratio against step 1's
#      naive cost per sample (a lower bound: the naive path was timed on the smaller network).
#
#   bench/bench_evaluate.sh [--nnspice build/tools/nnspice] [--small 196-20-10] [--samples 2] [--seed 7]
#                           [--workers 2] [--big] [--big-layers 196-100-50-10] [--big-seed 31] [--out DIR]
set -euo pipefail
nn=build/tools/nnspice; small=196-20-10; samples=2; seed=7; workers=2; big=0; big_layers=196-100-50-10; big_seed=31; out=""
while [ $# -gt 0 ]; do
  case $1 in
    --nnspice) nn=$2; shift 2 ;;
    --small) small=$2; shift 2 ;;
    --samples) samples=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --big) big=1; shift ;;
    --big-layers) big_layers=$2; shift 2 ;;
    --big-seed) big_seed=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n 2,14p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench_evaluate: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$nn" ] || { echo "bench_evaluate: no nnspice binary at '$nn' (build first or pass --nnspice)" >&2; exit 2; }
command -v ngspice > /dev/null || { echo "bench_evaluate: no ngspice on PATH (apt-get install ngspice)" >&2; exit 2; }
[[ $samples =~ ^[1-9][0-9]*$ ]] || { echo "bench_evaluate: --samples must be a positive integer, got '$samples'" >&2; exit 2; }
[ -n "$out" ] || out=$(mktemp -d /tmp/bench_evaluate.XXXXXX)
mkdir -p "$out"

now() { date +%s.%N; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }
step() {  # log-file command...: runs one stage, its output into the log; exits with the log's tail on failure
  local log=$1; shift
  "$@" > "$log" 2>&1 || { echo "bench_evaluate: failed: $*  (see $log)" >&2; tail -5 "$log" >&2; exit 1; }
}
# summary.json field by dotted path (python3 only, no numpy)
field() { python3 -c "import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split('.'): v = v[k]
print(v)" "$1" "$2"; }
n_in() { echo "${1%%-*}"; }

echo "nnspice evaluate vs ngspice -b, $workers workers ($(nproc) cores), $(date -u +%FT%TZ)"
echo "ngspice: $(ngspice -v 2>/dev/null | grep -m1 -o 'ngspice-[0-9.]*' || echo unknown)"

# 1. the small network
s_dir=$out/small-$small
mkdir -p "$s_dir"
step "$s_dir/train.log" "$nn" train --dataset mnist --layers "$small" --epochs 5 --seed 1 -q --out "$s_dir/w"
naive_total=0
for k in $(seq 1 "$samples"); do
  inputs=$(python3 -c "import random, sys
r = random.Random(int(sys.argv[2]))
x = [0.0 if r.random() < 0.5 else r.random() for _ in range(int(sys.argv[1]))]
m = sum(x) / len(x)
print(','.join(f'{15e-9 * v / m:.6g}' for v in x))" "$(n_in "$small")" "$k")
  step "$s_dir/netlist_$k.log" "$nn" netlist --layers "$small" --seed "$seed" --weights "$s_dir/w" --inputs "$inputs" \
    --out "$s_dir/netlist_$k"
  t0=$(now)
  step "$s_dir/ngspice_$k.log" ngspice -b "$s_dir/netlist_$k/network.cir"
  t1=$(now)
  grep -q "Total analysis time" "$s_dir/ngspice_$k.log" ||
    { echo "bench_evaluate: ngspice -b did not finish the operating point, see $s_dir/ngspice_$k.log" >&2; exit 1; }
  if grep -q -i -E "no convergence|singular matrix|^error" "$s_dir/ngspice_$k.log"; then
    echo "bench_evaluate: ngspice -b reported a failed operating point, see $s_dir/ngspice_$k.log" >&2; exit 1
  fi
  dt=$(secs "$t0" "$t1")
  echo "  naive: $small sample $k: ngspice -b $dt s ($(field "$s_dir/netlist_$k/summary.json" transistors) FETs)"
  naive_total=$(python3 -c "import sys; print(float(sys.argv[1]) + float(sys.argv[2]))" "$naive_total" "$dt")
done
naive=$(python3 -c "import sys; print(f'{float(sys.argv[1]) / int(sys.argv[2]):.2f}')" "$naive_total" "$samples")
t0=$(now)
step "$s_dir/evaluate.log" "$nn" evaluate --layers "$small" --seed "$seed" --weights "$s_dir/w" --dataset mnist \
  --jobs "$workers" --out "$s_dir/eval"
t1=$(now)
ev=$(secs "$t0" "$t1")
n=$(field "$s_dir/eval/summary.json" evaluated)
python3 - "$small" "$naive" "$ev" "$n" "$s_dir/eval/summary.json" "$workers" <<'EOF'
import json, sys
net, naive, ev, n, workers = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[6])
s = json.load(open(sys.argv[5])); st = s["stats"]
print(f"  ours:  {net}: {n} samples in {ev:.1f} s = {ev / n * 1e3:.2f} ms per sample "
      f"({st.get('sweep_jobs')} ngspice sweep jobs, {st.get('sweep_points')} sweep points, "
      f"{st.get('kirchhoff_solves')} Kirchhoff solves), accuracy {s['accuracy'] * 100:.2f} %")
print(f"  ratio: ngspice -b per sample / ours per sample = {naive / (ev / n):.0f}x wall-clock; "
      f"{naive / (ev / n) / workers:.0f}x per core (ngspice -b uses one core, ours {workers} workers); "
      f"whole test set naive: {naive * n / 3600:.1f} h on one core (measured per sample x {n})")
EOF

[ "$big" = 1 ] || exit 0

# 2. a new chip of the big network, from scratch
b_dir=$out/big-$big_layers-seed$big_seed
mkdir -p "$b_dir"
echo "cold chip: $big_layers, seed $big_seed, nothing cached ($b_dir)"
t0=$(now)
step "$b_dir/characterize.log" "$nn" characterize --layers "$big_layers" --seed "$big_seed" --method decomposed \
  --workers "$workers" --out "$b_dir/char"
t1=$(now)
step "$b_dir/train.log" "$nn" train --dataset mnist --layers "$big_layers" --calibration "$b_dir/char/calibration.json" \
  --seed 1 -q --out "$b_dir/w"
t2=$(now)
step "$b_dir/evaluate.log" "$nn" evaluate --layers "$big_layers" --seed "$big_seed" --weights "$b_dir/w" --dataset mnist \
  --jobs "$workers" --table-cache "$b_dir/char/decomposed_tables" --out "$b_dir/eval"
t3=$(now)
python3 - "$b_dir" "$(secs "$t0" "$t1")" "$(secs "$t1" "$t2")" "$(secs "$t2" "$t3")" "$naive" "$small" "$workers" <<'EOF'
import json, sys
d, tc, tt, te, naive, small = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
workers = int(sys.argv[7])
c = json.load(open(d + "/char/summary.json")); sv = c["solver"]
w = json.load(open(d + "/w/summary.json"))
e = json.load(open(d + "/eval/summary.json")); st = e["stats"]
tot = tc + tt + te; n = e["evaluated"]
print(f"  characterise {tc:8.1f} s  {c['operating_points']} operating points, {sv.get('synapse_tables')} synapse tables, "
      f"{sv.get('table_sweep_points')} sweep points")
print(f"  train        {tt:8.1f} s  {w.get('epochs_run', '?')} epochs on the measured slopes, "
      f"test accuracy {w.get('test_accuracy', float('nan')) * 100:.2f} % (behavioural)")
print(f"  evaluate     {te:8.1f} s  {n} samples, {st.get('sweep_jobs')} sweep jobs ({st.get('cached_jobs')} from the "
      f"characterisation's cache), {st.get('sweep_points')} sweep points, {st.get('kirchhoff_solves')} Kirchhoff solves "
      f"in {st.get('solve_s', 0):.1f} s, {e['failed']} failed; circuit accuracy {e['accuracy'] * 100:.2f} %")
print(f"  total        {tot:8.1f} s = {tot / 60:.1f} min for {n} images, chip preparation included: "
      f"{'within' if tot <= 3600 else 'OVER'} the 1 h target")
print(f"  ratio: naive ngspice -b per sample on {small} ({naive:.1f} s) x {n} / total = {naive * n / tot:.0f}x wall-clock, "
      f"{naive * n / tot / workers:.0f}x per core (a lower bound: the naive path was timed on the smaller network)")
EOF
