#!/usr/bin/env bash
# The README's second command (and CI's): set up, build with AddressSanitizer + UndefinedBehaviorSanitizer,
# run every test except the `slow` label; any sanitizer report fails the run.
#   NNSPICE_TEST_LABELS=...   extra ctest arguments, e.g. "-L slow" for the long suites
#   NNSPICE_FUZZ=1            also build the libFuzzer targets and fuzz each for 30 s (docs/reliability.md)
set -euo pipefail
cd "$(dirname "$0")/.."
NNSPICE_SKIP_BUILD=1 NNSPICE_TEST_PACKAGES=1 scripts/setup.sh
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$(nproc)"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
(cd build-asan && ctest --output-on-failure -j "$(nproc)" ${NNSPICE_TEST_LABELS:--LE slow})
# Opt-in (not in CI's default run: the fuzz build and 11 x 30 s of fuzzing would add ~15 min on 2 cores).
if [[ "${NNSPICE_FUZZ:-0}" == 1 ]]; then
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$(nproc)"
  ctest --preset fuzz
fi
