#!/usr/bin/env bash
# `nnspice run` whose executable disappears mid-run (rebuilt or removed): the next stage cannot be started; the run
# stops at once with a message naming the file and the way out (--resume), instead of recording every later stage as
# failed (exit 127 each); --resume with the binary back finishes the run. $1 = nnspice, $2 = scratch dir.
set -u
nn=$(realpath "$1"); dir=$2; rm -rf "$dir"; mkdir -p "$dir"; cd "$dir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
printf 'out: x\njobs: 1\nexperiments:\n  - name: iris\n    dataset: iris\n    layers: 4-7-3\n    chip_seed: 7\n    data_seed: 1\n' > cfg.yaml
printf '    characterize: {method: full, routings: 4}\n    train: {epochs: 30}\n    evaluate: {method: full, limit: 15}\n    dynamics: false\n' >> cfg.yaml
cp "$nn" ./nn || fail "copy"
./nn run cfg.yaml > run.log 2>&1 &
pid=$!
for _ in $(seq 600); do compgen -G "x/*/*.inputs.json" > /dev/null && break; sleep 0.05; done
compgen -G "x/*/*.inputs.json" > /dev/null || fail "no stage started: $(cat run.log)"
sleep 0.3
rm -f ./nn
wait $pid; rc=$?
[ $rc -ne 0 ] || fail "the run ended with exit 0 without its executable: $(tail -5 run.log)"
grep -q "cannot execute .*/nn for the next stage: No such file or directory.*rerun with --resume" run.log || fail "message: $(tail -5 run.log)"
[ "$(grep -c 'failed (exit 127)' run.log)" -eq 0 ] || fail "stages recorded as failed with exit 127: $(grep 'exit 127' run.log | head -3)"
cp "$nn" ./nn
./nn run cfg.yaml --resume > resume.log 2>&1 || fail "resume: $(tail -5 resume.log)"
grep -q "done earlier, kept" resume.log || fail "resume kept nothing: $(head -5 resume.log)"
[ -s x/report.md ] || fail "no report after the resume"
echo OK
