#!/usr/bin/env bash
# The README's first command: set everything up, then run the main job on its embedded default.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# --resume makes a second invocation idempotent: finished stages are kept, an interrupted one continues.
exec build/tools/nnspice run --out "${1:-out/run}" --resume
