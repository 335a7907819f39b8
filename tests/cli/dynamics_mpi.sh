#!/usr/bin/env bash
# nnspice dynamics under `mpirun -np 2` (issue 19): the ranks split the patterns (and, tabulated, the synapse tables);
# every pattern's numbers (time to output, energies, classes, time points, Newton iterations) and the Fig. 3
# traces equal one process's, for full ngspice transients and the tabulated model. $1 = nnspice, $2 = scratch dir.
set -u
nn=$1; dir=$2; rm -rf "$dir"; mkdir -p "$dir"; cd "$dir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
command -v mpirun > /dev/null || { echo "note: mpirun not installed; test not run"; echo OK; exit 0; }
mpi() { OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe -np 2 "$@"; }
"$nn" netlist --layers 4-7-3 --seed 5 --out w > /dev/null || fail "netlist"
strip_wall() { cut -d, -f1-18 "$1"; }  # patterns.csv without its last column, wall_s
for method in full tabulated; do
  args=(dynamics --layers 4-7-3 --chip w/chip.csv --weights w --random-patterns 5 --mean-input 15e-9,45e-9 --method "$method" --jobs 1
        --no-progress --table-cache tables_$method)
  "$nn" "${args[@]}" --out one_$method > one_$method.log 2>&1 || fail "single $method: $(tail -3 one_$method.log)"
  mpi "$nn" "${args[@]}" --out two_$method > two_$method.log 2>&1 || fail "mpirun $method: $(tail -5 two_$method.log)"
  grep -q '"mpi_ranks": 2' two_$method/run.json || fail "$method: the MPI run did not use 2 ranks"
  for level in level_15nA level_45nA; do
    [ "$(head -1 one_$method/$level/patterns.csv | cut -d, -f19)" = wall_s ] || fail "patterns.csv column 19 is not wall_s"
    diff <(strip_wall one_$method/$level/patterns.csv) <(strip_wall two_$method/$level/patterns.csv) > d.txt ||
      fail "$method $level: patterns differ between one process and 2 ranks: $(head -5 d.txt)"
    [ "$(wc -l < two_$method/$level/patterns.csv)" = 6 ] || fail "$method $level: not 5 patterns"
    cmp -s one_$method/$level/energy_curves.npy two_$method/$level/energy_curves.npy || fail "$method $level: energy curves differ"
    cmp -s one_$method/$level/fig3_traces.csv two_$method/$level/fig3_traces.csv || fail "$method $level: Fig. 3 traces differ"
    [ "$(ls two_$method/$level/patterns/*.json | wc -l)" = 5 ] || fail "$method $level: rank 0's folder lacks pattern checkpoints"
  done
done
echo OK
