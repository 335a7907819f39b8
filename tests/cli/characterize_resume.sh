#!/usr/bin/env bash
# nnspice characterize: a run killed with SIGKILL midway resumes (--resume) without redoing the operating
# points it finished, and ends with the same calibration as an uninterrupted run.
# Args: $1 nnspice binary, $2 scratch dir, $3 shared dir.
set -u
bin=$1; dir=$2
rm -rf "$dir"; mkdir -p "$dir"
fail() { echo "FAIL: $*"; exit 1; }
args=(-l 4-7-3 --seed 11 --routings 8 --levels 2e-9:76e-9:4 --negative-routings 2 --negative-levels 1e-8,3e-8 --no-progress)
total=$((8 * 4 + 2 * 2 * 2 * 2))

"$bin" characterize "${args[@]}" --out "$dir/whole" > "$dir/whole.txt" 2>&1 || { cat "$dir/whole.txt"; fail "uninterrupted run failed"; }

"$bin" characterize "${args[@]}" --out "$dir/killed" > "$dir/killed.txt" 2>&1 &
pid=$!
# Wait until about a third of the operating points are in the checkpoint, then kill the command.
for _ in $(seq 1 600); do
  n=$( (wc -l < "$dir/killed/ops.jsonl") 2>/dev/null || echo 0)
  [ "${n:-0}" -ge $((total / 3)) ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -9 "$pid" 2>/dev/null || fail "the run finished before it could be killed"
wait "$pid" 2>/dev/null
sleep 0.5  # worker processes die with their parent (PR_SET_PDEATHSIG)
done_before=$(wc -l < "$dir/killed/ops.jsonl")
[ "$done_before" -gt 0 ] && [ "$done_before" -lt "$total" ] || fail "killed run has $done_before of $total points"
[ -e "$dir/killed/calibration.json" ] && fail "killed run already wrote calibration.json"

"$bin" characterize "${args[@]}" --out "$dir/killed" --resume > "$dir/resumed.txt" 2>&1 || { cat "$dir/resumed.txt"; fail "resume failed"; }
python3 - "$dir/whole" "$dir/killed" "$done_before" "$total" <<'PY' || fail "resumed run differs"
import json, sys
whole, killed, done_before, total = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
a = json.load(open(whole + "/calibration.json"))
b = json.load(open(killed + "/calibration.json"))
for key in ("layers", "slopes", "negative_gain", "seed"):
    assert a[key] == b[key], f"{key}: {a[key]} != {b[key]}"
s = json.load(open(killed + "/summary.json"))
assert s["operating_points"] == total, s["operating_points"]
# Every point recorded before the kill is taken from the checkpoint; only the rest is simulated.
assert s["operating_points_from_checkpoint"] >= done_before, (s["operating_points_from_checkpoint"], done_before)
assert s["operating_points_simulated"] == total - s["operating_points_from_checkpoint"], s
assert s["operating_points_simulated"] < total
print(f"killed after {done_before}/{total} points; resume simulated {s['operating_points_simulated']}")
PY
echo "ok"
