#!/usr/bin/env bash
# The README's first command: set everything up, then run the main job on its embedded default.
# Only the nnspice command is built before the job starts; the Python package is built after it.
set -euo pipefail
cd "$(dirname "$0")/.."
NNSPICE_SKIP_PYTHON=1 scripts/setup.sh
# --resume makes a second invocation idempotent: finished stages are kept, an interrupted one continues.
rc=0
build/tools/nnspice run --out "${1:-out/run}" --resume || rc=$?
scripts/setup.sh python || echo "run-main.sh: the Python package did not build (the main job's results stand)" >&2
out="${1:-out/run}"
[[ -f "$out/report.html" ]] && echo "run-main.sh: the report is $out/report.html (and $out/report.md)"
exit "$rc"
