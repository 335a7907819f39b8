#!/bin/bash
# Runs examples/dnpu_soma (ngspice, ~20-60 s): the DNPU current must change sign over the e1 sweep and the
# soma mirror must pass only the positive part (pA where the DNPU current is negative).
set -eu
N="$1"; S="$2"
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
command -v ngspice > /dev/null || { echo "ngspice missing: skipped"; exit 0; }
rm -rf "$S"; mkdir -p "$S"
bash "$SRC/examples/dnpu_soma/run.sh" "$N" "$S"
# nothing nnspice writes carries a .control block (issue 17): the demo uses .dc and .print cards
if grep -qi "^[[:space:]]*\.control" "$S/demo.cir"; then echo "demo.cir has a .control block"; exit 1; fi
awk -F, 'NR > 1 { n++; if ($2 < -1) { neg++; if ($3 > 0.01) bad++ } if ($2 > 5) { pos++; if ($3 < 0.5 * $2) bad++ } }
         END { if (n != 61 || neg < 5 || pos < 3 || bad > 0) { print "bad sweep: n=" n " neg=" neg " pos=" pos " bad=" bad; exit 1 } }' "$S/sweep.csv"
echo "dnpu soma example ok"
