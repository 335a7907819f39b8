#!/usr/bin/env bash
# Issue 17, class 6: every numeric option has a range. Seeds are 0..2^63-1 (they are stored as int64),
# sample counts >= 1 (absent = all), worker counts 1..max(4 x cores, 256); an unsigned option refuses a
# sign. Each bad value: exit 2 before any work, and a message naming the option and the value.
# $1 = nnspice binary, $2 = scratch dir.
set -u
N="$1"; D="$2"; SRCDIR="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$D"; mkdir -p "$D"; cd "$D" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
expect_bad() {  # expect_bad PATTERN args...: exit 2 and PATTERN on stderr
  local pat="$1"; shift
  timeout 30 "$N" "$@" > out.txt 2> err.txt; local rc=$?
  [[ $rc == 2 ]] || fail "'$*' exited $rc (want 2); stderr: $(cat err.txt)"
  grep -qF -- "$pat" err.txt || fail "'$*': stderr lacks \"$pat\"; got: $(cat err.txt)"
}
# --seed (and every other seed option) of every command: -1, +1, 1e3, 2^63, 2^64 are refused.
seed_cmds=("netlist --layers 4-7-3" "demo" "characterize --layers 4-7-3" "evaluate --layers 4-7-3"
           "calibration random --layers 4-7-3" "train --dataset iris" "infer --weights w" "dnpu capacity" "dnpu ring" "dnpu mnist"
           "memristor device" "memristor crossbar" "memristor irdrop" "memristor train" "memristor hybrid")
for c in "${seed_cmds[@]}"; do
  # shellcheck disable=SC2086
  expect_bad "--seed = '-1'" $c --seed -1 --out x
  # shellcheck disable=SC2086
  expect_bad "--seed = '9223372036854775808'" $c --seed 9223372036854775808 --out x
  # shellcheck disable=SC2086
  expect_bad "--seed = '1e3'" $c --seed 1e3 --out x
done
for o in "netlist --layers 4-7-3 --weight-seed" "characterize --layers 4-7-3 --routing-seed" "evaluate --layers 4-7-3 --data-seed" \
         "dynamics --data-seed" "dynamics --pattern-seed" "memristor hybrid --chip-seed"; do
  # shellcheck disable=SC2086
  expect_bad "= '-5'" $o -5 --out x
done
# Sample counts: 0 and -1 no longer mean "all".
for o in "evaluate --layers 4-7-3 --limit" "train --dataset iris --train-limit" "train --dataset iris --test-limit" "infer --weights w --test-limit" \
         "dynamics --count" "dynamics --random-patterns" "dnpu mnist --train-limit" "memristor train --train-limit" "memristor hybrid --test-limit"; do
  for v in 0 -1; do
    # shellcheck disable=SC2086
    expect_bad "= '$v'" $o $v --out x
  done
done
expect_bad "--limit = '0': must be an integer in 1..1099511627776" evaluate --layers 4-7-3 --limit 0 --out x
# Worker counts: 0, -1 and 100000 are refused (no longer "all cores" or one worker per sample).
for o in "evaluate --layers 4-7-3 --jobs" "dynamics --jobs" "simulate --jobs" "characterize --layers 4-7-3 --workers" \
         "train --dataset iris --threads"; do
  for v in 0 -1 100000; do
    # shellcheck disable=SC2086
    expect_bad "= '$v': must be an integer in 1.." $o $v --out x
  done
done
# Any other unsigned option refuses a sign too (Boost would wrap it), e.g. --routings -1.
expect_bad "--routings = '-1'" characterize --layers 4-7-3 --routings -1 --out x
expect_bad "--epochs = '-3'" dnpu capacity --epochs -3 --out x
# Process geometry (one table of bounds for the process check, the chip writer and the chip loader):
# l_um 1e-9 once wrote a chip whose |dVT| the loader refused.
sed -e 's/mirror_lsb: {w_um: 0.27, l_um: 0.54}/mirror_lsb: {w_um: 0.27, l_um: 1e-9}/' -e "s|\.\./models/|$SRCDIR/data/models/|" "$SRCDIR/data/process/tsmc180.yaml" > tiny.yaml
grep -q 'l_um: 1e-9' tiny.yaml || fail "process edit"
expect_bad "process.sizes.mirror_lsb.l_um = 1e-09. Violated constraint: 0.01 <= l_um < 1000" netlist --layers 4-7-3 --process tiny.yaml --out x
sed -e 's/mirror_lsb: {w_um: 0.27, l_um: 0.54}/mirror_lsb: {w_um: 0.01, l_um: 0.01}/' -e "s|\.\./models/|$SRCDIR/data/models/|" "$SRCDIR/data/process/tsmc180.yaml" > small.yaml
expect_bad "Violated constraint: sigma_VT <= 0.1 V (chip files hold |dVT| <= 1 V)" netlist --layers 4-7-3 --process small.yaml --out x
# Still accepted: the bounds themselves.
"$N" netlist --layers 4-7-3 --seed 9223372036854775807 --out ok > /dev/null || fail "seed 2^63-1 refused"
"$N" netlist --layers 4-7-3 --seed 0 --out ok0 > /dev/null || fail "seed 0 refused"
echo "options_bounds: all checks passed"
