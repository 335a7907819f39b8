#!/usr/bin/env bash
# nnspice sweep under `mpirun -np 2` (issue 19): the ranks share out the run's stages (chips and points in parallel,
# each stage after the stages it reads); sweep.csv and every point of summary.json equal one process's.
# $1 = nnspice, $2 = scratch dir.
set -u
N=$1; D=$2; rm -rf "$D"; mkdir -p "$D"; cd "$D" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
command -v mpirun > /dev/null || { echo "note: mpirun not installed; test not run"; echo OK; exit 0; }
mpi() { OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe -np 2 "$@"; }
cat > s.yaml <<YAML
jobs: 1
experiment:
  dataset: iris
  layers: 4-7-3
  chips: 2
  characterize: {method: full, routings: 6}
  train: {epochs: 60}
  evaluate: {method: full, input_mean_A: 1.0e-7}
  dynamics: false
axes:
  temp_C: [27, 85]
  a_vt_scale: [1, 2]
YAML
"$N" sweep s.yaml --out one > one.log 2>&1 || fail "single: $(tail -5 one.log)"
mpi "$N" sweep s.yaml --out two > two.log 2>&1 || fail "mpirun: $(tail -8 two.log)"
grep -q '"mpi_ranks": 2' two/run.json || fail "the MPI sweep did not use 2 ranks: $(cat two/run.json)"
grep -q "rank 1" two.log || fail "rank 1 ran no stage: $(grep -c '\[run' two.log) stage lines"
cmp one/sweep.csv two/sweep.csv || fail "sweep.csv differs: $(diff one/sweep.csv two/sweep.csv | head -5)"
[ "$(wc -l < two/sweep.csv)" = 9 ] || fail "not 4 points x 2 chips: $(cat two/sweep.csv)"
points() { python3 -c "import json,sys; p=json.load(open(sys.argv[1]))['points']; [q.pop('folder') for q in p]; print(json.dumps(p, sort_keys=True))" "$1"; }
[ "$(points one/summary.json)" = "$(points two/summary.json)" ] || fail "summary.json points differ"
[ -f two/run/report.html ] && [ -f two/accuracy_vs_temp_C.png ] || fail "rank 0 wrote no report or figures"
# --resume under MPI keeps every stage.
mpi "$N" sweep s.yaml --out two --resume > resume.log 2>&1 || fail "mpirun --resume: $(tail -5 resume.log)"
! grep -q "ETA" resume.log || fail "a resumed MPI sweep redid a stage: $(grep ETA resume.log | head -3)"
cmp one/sweep.csv two/sweep.csv || fail "sweep.csv after --resume differs"
echo OK
