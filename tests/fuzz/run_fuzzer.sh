#!/usr/bin/env bash
# Runs one libFuzzer target for a fixed time on a scratch copy of its seed corpus (the committed corpus
# is never modified). Usage: run_fuzzer.sh FUZZER SEED_DIR WORK_DIR SECONDS [extra libFuzzer flags]
# Exit status: libFuzzer's (0 = no crash, leak, timeout or out-of-memory found). Findings are written
# to WORK_DIR/artifacts/ (crash-*, leak-*, timeout-*, oom-*); reproduce with: FUZZER WORK_DIR/artifacts/<file>
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3 seconds=$4
shift 4
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp "$seeds"/* "$work/corpus/"
exec "$fuzzer" "$work/corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$@"
