#!/bin/bash
# nnspice dynamics: bad inputs exit 2 with a message naming the problem; a tiny run writes its files.
# $1 = nnspice binary, $2 = scratch dir, $3 = shared dir.
set -u
N="$1"; D="$2"
rm -rf "$D"; mkdir -p "$D"
fail=0
. "$(dirname "$0")/figure_check.sh"
expect() {  # expect CODE PATTERN -- args...
  local code="$1" pat="$2"; shift 3
  "$N" dynamics "$@" > "$D/out.txt" 2>&1
  local rc=$?
  if [ "$rc" != "$code" ] || ! grep -q -- "$pat" "$D/out.txt"; then
    echo "FAIL: nnspice dynamics $* -> exit $rc (want $code), output:"; cat "$D/out.txt"; echo "(wanted /$pat/)"; fail=1
  fi
}
expect 2 "exactly one of" -- -l 2-2-1 -o "$D/a"
expect 2 "expected full, layerwise or tabulated" -- -l 2-2-1 --random-patterns 2 --method fast -o "$D/a"
expect 2 "reference must differ" -- -l 2-2-1 --random-patterns 2 --method tabulated --validate 1 --validate-method tabulated -o "$D/a"
printf '1e-8,2e-8,3e-8\n' > "$D/three.csv"
expect 2 "3 columns" -- -l 2-2-1 --patterns "$D/three.csv" -o "$D/a"
printf '1e-8,-2e-8\n' > "$D/neg.csv"
expect 2 "non-negative" -- -l 2-2-1 --patterns "$D/neg.csv" -o "$D/a"
printf '1e-8,2e-8\n0,0\n' > "$D/zero.csv"
expect 2 "all zero" -- -l 2-2-1 --patterns "$D/zero.csv" --mean-input 15e-9 -o "$D/a"
expect 2 "mean-input" -- -l 2-2-1 --random-patterns 2 --mean-input -1e-9 -o "$D/a"
expect 2 "t_stop_s" -- -l 2-2-1 --random-patterns 2 --t-stop 0 -o "$D/a"
expect 2 "window" -- -l 2-2-1 --random-patterns 2 --mean-input 15e-9 --t-stop 2e-6 --window 3e-6 -o "$D/a"
expect 2 "--figure-pattern = 5: must be < 2 (the number of patterns)" -- -l 2-2-1 --random-patterns 2 --figure-pattern 5 -o "$D/a"
printf '0\n1\n2\n' > "$D/labels.csv"
printf '1e-8,2e-8\n2e-8,1e-8\n' > "$D/two.csv"
expect 2 "3 labels for 2 patterns" -- -l 2-2-1 --patterns "$D/two.csv" --labels "$D/labels.csv" -o "$D/a"
expect 2 "no such file\|cannot read" -- -l 2-2-1 --patterns "$D/missing.csv" -o "$D/a"
# A tiny real run (2 patterns, 2 us, currents as given).
expect 0 "as_given" -- -l 2-2-1 --patterns "$D/two.csv" --mean-input none --t-stop 2e-6 --no-progress -o "$D/run"
for f in summary.json run.json level_as_given/patterns.csv level_as_given/patterns.npy level_as_given/summary.json \
         level_as_given/patterns/0.json level_as_given/patterns/1.json level_as_given/fig3_traces.csv; do
  [ -s "$D/run/$f" ] || { echo "FAIL: missing $D/run/$f"; fail=1; }
done
# Fig. 3 per level, Fig. 4 (energy vs run time) at the top; no pattern reaches an output change here, so no fig4_tto_power
check_figure "$D/run/level_as_given" fig3_transient || { echo "FAIL: fig3_transient figure"; fail=1; }
[ -s "$D/run/level_as_given/figures/fig3_transient.dat" ] || { echo "FAIL: no figures/fig3_transient.dat"; fail=1; }
check_figure "$D/run" fig4_energy_runtime || { echo "FAIL: fig4_energy_runtime figure"; fail=1; }
ls "$D/run"/*.dat "$D/run"/*.gp "$D/run/level_as_given"/*.dat > /dev/null 2>&1 && { echo "FAIL: .dat/.gp beside the images"; fail=1; }
# --resume reuses the checkpoints, the Fig. 3 pattern's included (no pattern is simulated again), and still writes the tables.
m0=$(stat -c %Y "$D/run/level_as_given/patterns/0.json"); m1=$(stat -c %Y "$D/run/level_as_given/patterns/1.json")
sleep 1.1
rm -f "$D/run/level_as_given/patterns.csv"
expect 0 "as_given" -- -l 2-2-1 --patterns "$D/two.csv" --mean-input none --t-stop 2e-6 --no-progress --resume -o "$D/run"
[ "$m0" = "$(stat -c %Y "$D/run/level_as_given/patterns/0.json")" ] || { echo "FAIL: --resume simulated pattern 0 again"; fail=1; }
[ "$m1" = "$(stat -c %Y "$D/run/level_as_given/patterns/1.json")" ] || { echo "FAIL: --resume simulated pattern 1 again"; fail=1; }
[ -s "$D/run/level_as_given/patterns.csv" ] || { echo "FAIL: --resume wrote no patterns.csv"; fail=1; }
# The tabulated engine validated against the full netlist on the same switches (2-2-2, diagonal-free
# random codes; the numbers are checked in test_dynamics_switch): validation.json names both methods.
expect 0 "validation (tabulated vs full" -- -l 2-2-2 --random-patterns 3 --method tabulated --mean-input 15e-9 --t-stop 3e-6 --validate 3 \
  --table-cache "$D/tables" --no-progress -o "$D/tab"
grep -q '"reference": "full"' "$D/tab/validation.json" || { echo "FAIL: validation.json does not name the reference"; fail=1; }
grep -q '"couple_n_F"' "$D/tab/summary.json" || { echo "FAIL: summary.json lacks the tabulated model's capacitances"; fail=1; }
ls "$D/tables"/*.keys > /dev/null 2>&1 || { echo "FAIL: --table-cache wrote no tables"; fail=1; }
exit $fail
