#!/usr/bin/env bash
# nnspice characterize under `mpirun -np 2` (issue 19): the ranks split the operating points, and every result file
# (calibration, slopes, gains, raw currents) is byte-identical to one process, for the full-netlist solver and the
# native engine; a --resume under MPI of a finished run keeps every point. $1 = nnspice, $2 = scratch dir.
set -u
shopt -s nullglob
nn=$1; dir=$2; rm -rf "$dir"; mkdir -p "$dir"; cd "$dir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
command -v mpirun > /dev/null || { echo "note: mpirun not installed; test not run"; echo OK; exit 0; }
mpi() { OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe -np 2 "$@"; }
"$nn" netlist --layers 4-7-3 --seed 5 --out w > /dev/null || fail "netlist"
same_results() {  # every result file of $1 equals $2's (run.json and summary.json hold times and rank counts)
  local n=0
  for f in "$1"/*.json "$1"/*.npy "$1"/*.csv; do
    local b; b=$(basename "$f")
    case "$b" in run.json|summary.json) continue ;; esac
    cmp -s "$f" "$2/$b" || fail "$b differs between one process and 2 ranks ($3)"
    n=$((n + 1))
  done
  (( n >= 5 )) || fail "only $n result files compared in $1 ($3)"
}
for method in full decomposed; do
  args=(characterize --layers 4-7-3 --chip w/chip.csv --method "$method" --routings 6 --synapses --synapse-codes bits --workers 1 --no-progress
       )
  "$nn" "${args[@]}" --out one_$method --table-cache tables_one_$method > one_$method.log 2>&1 || fail "single $method: $(tail -3 one_$method.log)"
  mpi "$nn" "${args[@]}" --out two_$method --table-cache tables_two_$method > two_$method.log 2>&1 || fail "mpirun $method: $(tail -5 two_$method.log)"
  grep -q '"mpi_ranks": 2' two_$method/summary.json || fail "$method: the MPI run did not use 2 ranks: $(grep mpi_ranks two_$method/summary.json)"
  same_results one_$method two_$method "$method"
  [ "$(grep -c . two_$method/ops.jsonl)" = "$(grep -c . one_$method/ops.jsonl)" ] || fail "$method: rank 0's checkpoint lacks points of rank 1"
done
# A resumed MPI run takes every point from rank 0's checkpoint.
mpi "$nn" characterize --layers 4-7-3 --chip w/chip.csv --method full --routings 6 --synapses --synapse-codes bits --workers 1 --no-progress \
  --table-cache tables_two_full --out two_full --resume > resume.log 2>&1 || fail "mpirun --resume: $(tail -5 resume.log)"
grep -q "0 simulated" resume.log || fail "the resumed MPI run simulated points again: $(grep simulated resume.log)"
same_results one_full two_full "resumed"
echo OK
