#!/usr/bin/env bash
# nnspice evaluate: (1) a run killed with SIGKILL midway resumes without redoing finished samples and gives
# results identical to an uninterrupted run; (2) `mpirun -np 2` gives results identical to one process.
set -u
nn=$1; dir=$2; rm -rf "$dir"; mkdir -p "$dir"; cd "$dir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
"$nn" netlist --layers 4-7-3 --seed 5 --out w > /dev/null || fail "netlist"
common=(evaluate --layers 4-7-3 --weights w --chip w/chip.csv --dataset iris --method full --jobs 1 --block 3)
"$nn" "${common[@]}" --out ref > ref.log 2>&1 || fail "reference run: $(tail -3 ref.log)"
"$nn" "${common[@]}" --out killed > k.log 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  [ -f killed/checkpoint/state.bin ] && break
  sleep 0.05
done
[ -f killed/checkpoint/state.bin ] || fail "no checkpoint appeared"
kill -9 $pid; wait $pid 2>/dev/null
[ -f killed/summary.json ] && echo "note: the run finished before the kill"
"$nn" "${common[@]}" --out killed --resume > r.log 2>&1 || fail "resume: $(tail -3 r.log)"
grep -q '"resumed_samples": [1-9]' killed/summary.json || fail "resume redid every sample: $(grep resumed killed/summary.json)"
cmp ref/outputs.npy killed/outputs.npy || fail "resumed outputs differ from the uninterrupted run"
cmp ref/predicted.npy killed/predicted.npy || fail "resumed classes differ"
if command -v mpirun > /dev/null; then
  "$nn" evaluate --layers 4-7-3 --weights w --chip w/chip.csv --dataset iris --jobs 1 --block 4 --out one > one.log 2>&1 || fail "single: $(tail -3 one.log)"
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun --oversubscribe -np 2 \
    "$nn" evaluate --layers 4-7-3 --weights w --chip w/chip.csv --dataset iris --jobs 1 --block 4 --out two > two.log 2>&1 || fail "mpirun: $(tail -5 two.log)"
  grep -q '"ranks": 2' two/summary.json || fail "MPI run did not use 2 ranks (built without MPI?): $(grep ranks two/summary.json)"
  cmp one/outputs.npy two/outputs.npy || fail "MPI outputs differ from the single-process run"
else
  echo "note: mpirun not installed; MPI part not run"
fi
echo OK
