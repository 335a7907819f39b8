#!/usr/bin/env bash
# The README's second command (and CI's): set up, build with AddressSanitizer + UndefinedBehaviorSanitizer,
# run every test except the `slow` label; any sanitizer report fails the run.
#   NNSPICE_TEST_LABELS=...   extra ctest arguments, e.g. "-L slow" for the long suites
set -euo pipefail
cd "$(dirname "$0")/.."
NNSPICE_SKIP_BUILD=1 scripts/setup.sh
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$(nproc)"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd build-asan
exec ctest --output-on-failure -j "$(nproc)" ${NNSPICE_TEST_LABELS:--LE slow}
