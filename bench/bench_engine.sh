#!/usr/bin/env bash
# bench_engine — a chip never seen before through the native engine (characterise -> train on its measured
# slopes -> evaluate the MNIST test set), against the ngspice-table path (--method decomposed-ngspice) on the
# same chip in the same run. Prints times with counts (synapse points, Newton iterations, device evaluations,
# device tables built or cached, peak memory) and the ratio.
#
#   bench/bench_engine.sh [--nnspice build/tools/nnspice] [--layers 196-50-10] [--seed 41] [--workers 2]
#                         [--limit N] [--card-cache DIR] [--reference characterize|all|none] [--out DIR]
#
#   --card-cache DIR   reuse the device tables in DIR (default: a fresh folder, so their build is timed too)
#   --reference        characterize (default): time the ngspice-table characterisation of the same chip;
#                      all: also its evaluation; none: native only
set -euo pipefail
nn=build/tools/nnspice; layers=196-50-10; seed=41; workers=2; limit=""; card=""; reference=characterize; out=""
while [ $# -gt 0 ]; do
  case $1 in
    --nnspice) nn=$2; shift 2 ;;
    --layers) layers=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --card-cache) card=$2; shift 2 ;;
    --reference) reference=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n 2,13p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench_engine: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$nn" ] || { echo "bench_engine: no nnspice binary at '$nn' (build first or pass --nnspice)" >&2; exit 2; }
case $reference in characterize|all|none) ;; *) echo "bench_engine: --reference must be characterize, all or none, got '$reference'" >&2; exit 2 ;; esac
[[ -z $limit || $limit =~ ^[1-9][0-9]*$ ]] || { echo "bench_engine: --limit must be a positive integer, got '$limit'" >&2; exit 2; }
[ -n "$out" ] || out=$(mktemp -d /tmp/bench_engine.XXXXXX)
mkdir -p "$out"
[ -n "$card" ] || card=$out/card-tables
export NNSPICE_CACHE_DIR=$card
lim=(); [ -n "$limit" ] && lim=(--limit "$limit")

now() { date +%s.%N; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }
step() {
  local log=$1; shift
  "$@" > "$log" 2>&1 || { echo "bench_engine: failed: $*  (see $log)" >&2; tail -5 "$log" >&2; exit 1; }
}

echo "bench_engine: $layers chip seed $seed, $workers workers ($(nproc) cores), $(date -u +%FT%TZ); device tables in $card"
t0=$(now)
step "$out/characterize.log" "$nn" characterize --layers "$layers" --seed "$seed" --method decomposed --workers "$workers" --out "$out/char"
t1=$(now)
step "$out/train.log" "$nn" train --dataset mnist --layers "$layers" --calibration "$out/char/calibration.json" --seed 1 -q --out "$out/w"
t2=$(now)
step "$out/evaluate.log" "$nn" evaluate --layers "$layers" --seed "$seed" --weights "$out/w" --dataset mnist "${lim[@]}" --method decomposed \
  --jobs "$workers" --table-cache "$out/char/decomposed_tables" --out "$out/eval"
t3=$(now)
tc=$(secs "$t0" "$t1"); tt=$(secs "$t1" "$t2"); te=$(secs "$t2" "$t3")

rc=""; re=""
if [ "$reference" != none ]; then
  t4=$(now)
  step "$out/ref_characterize.log" "$nn" characterize --layers "$layers" --seed "$seed" --method decomposed-ngspice --workers "$workers" \
    --out "$out/ref_char"
  t5=$(now); rc=$(secs "$t4" "$t5")
  if [ "$reference" = all ]; then
    step "$out/ref_evaluate.log" "$nn" evaluate --layers "$layers" --seed "$seed" --weights "$out/w" --dataset mnist "${lim[@]}" \
      --method decomposed-ngspice --jobs "$workers" --table-cache "$out/ref_char/decomposed_tables" --out "$out/ref_eval"
    t6=$(now); re=$(secs "$t5" "$t6")
  fi
fi

python3 - "$out" "$tc" "$tt" "$te" "$rc" "$re" <<'EOF'
import json, sys
d, tc, tt, te = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
rc = float(sys.argv[5]) if sys.argv[5] else None
re = float(sys.argv[6]) if sys.argv[6] else None
c = json.load(open(d + "/char/summary.json")); sv = c["solver"]; nat = sv.get("native", {}); dt = nat.get("device_tables", {})
w = json.load(open(d + "/w/summary.json"))
e = json.load(open(d + "/eval/summary.json")); st = e["stats"]; en = st.get("engine", {}); ne = en.get("native", {})
print(f"  device tables {'built' if dt.get('built') else 'from the cache'} in {dt.get('seconds', 0):.1f} s "
      f"({dt.get('sweep_points', 0)} ngspice points, {dt.get('bytes', 0) / 1e6:.0f} MB)")
print(f"  characterise {tc:8.1f} s  {c['operating_points']} operating points, {sv.get('synapse_tables')} synapse tables, "
      f"{nat.get('synapse_points')} synapse points, {nat.get('newton_iterations')} Newton iterations, "
      f"{nat.get('device_evaluations')} device evaluations, peak {sv.get('peak_memory_MB', 0):.0f} MB; "
      f"audit {c.get('engine_audit', {}).get('worst_error_over_bound', float('nan')):.3f} of the bound")
print(f"  train        {tt:8.1f} s  test accuracy {w.get('test_accuracy', float('nan')) * 100:.2f} % (behavioural)")
print(f"  evaluate     {te:8.1f} s  {e['evaluated']} samples, {ne.get('synapse_points')} new synapse points, "
      f"{st.get('kirchhoff_solves')} Kirchhoff solves in {st.get('solve_s', 0):.1f} s, peak {en.get('peak_memory_MB', 0):.0f} MB, "
      f"{e['failed']} failed; circuit accuracy {e['accuracy'] * 100:.2f} %; audit "
      f"{e.get('engine_audit', {}).get('worst_error_over_bound', float('nan')):.3f} of the bound")
tot = tc + tt + te
print(f"  total        {tot:8.1f} s = {tot / 60:.2f} min (device tables included: {dt.get('seconds', 0) if dt.get('built') else 0:.1f} s)")
if rc is not None:
    r = json.load(open(d + "/ref_char/summary.json"))["solver"]
    print(f"  reference characterise (ngspice tables) {rc:8.1f} s  {r.get('table_sweep_jobs')} sweep jobs, {r.get('table_sweep_points')} sweep "
          f"points, {r.get('table_newton_iterations')} Newton iterations; ratio reference / native = {rc / tc:.2f}x")
if re is not None:
    print(f"  reference evaluate {re:8.1f} s; ratio = {re / te:.2f}x; whole path ratio = {(rc + tt + re) / tot:.2f}x")
EOF
