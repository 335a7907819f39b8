#!/usr/bin/env bash
# Long fuzz runs (docs/reliability.md): every target in turn (one at a time), SECONDS each, on a copy of
# its seed corpus in WORK/<target>; prints one summary line per target (runs, final corpus files and
# bytes, findings). Build first: cmake --preset fuzz && cmake --build --preset fuzz
# Usage: tests/fuzz/fuzz_all.sh SECONDS [WORK (default build-fuzz/long)] [target ...]
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:?usage: fuzz_all.sh SECONDS [WORK] [target ...]}
work=${2:-build-fuzz/long}
shift $(( $# >= 2 ? 2 : 1 ))
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(npy csv chip calibration idx wav torch netlist process train_config run_config layer_spec store sweep_config)
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for t in "${targets[@]}"; do
  bin=build-fuzz/tests/fuzz/fuzz_$t
  if [ ! -x "$bin" ]; then echo "$t: $bin not built"; status=1; continue; fi
  start=$(date +%s)
  tests/fuzz/run_fuzzer.sh "$bin" "tests/fuzz/corpus/$t" "$work/$t" "$seconds" > "$work.$t.log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work.$t.log")
  files=$(ls "$work/$t/corpus" | wc -l)
  bytes=$(du -sb "$work/$t/corpus" | cut -f1)
  findings=$(ls "$work/$t/artifacts" | tr '\n' ' ')
  echo "$t: rc=$rc time=$(( $(date +%s) - start ))s runs=${runs:-?} corpus=${files} files/${bytes} bytes findings=[${findings}]"
  [ $rc -ne 0 ] && status=1
done
exit $status
