#!/usr/bin/env bash
# Issue 17, classes 2, 7 (transient bounds) and 8: nothing from a config is injected into a netlist (hostile
# process YAMLs, --name, --option exit 2 naming the field and the value, and `ngspice -b` on every netlist
# nnspice did write never runs `shell`); `simulate --analysis tran` refuses too many time points before any work;
# the simulator's own reason for a failure (a card with tox = -1e-9) reaches every command's message and
# failures file. Args: $1 nnspice binary, $2 scratch dir.
set -u
nn=$1; dir=$2; rm -rf "$dir"; mkdir -p "$dir"; cd "$dir" || exit 1
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
CARD="$SRC/data/models/mosis-tsmc018-t58f-bsim3v33.lib"
MARK="$dir/pwned"
fail() { echo "FAIL: $*"; exit 1; }
expect_error() {  # expect_error <exit> <pattern> <args...>
  local want=$1 pat=$2; shift 2
  timeout 30 "$nn" "$@" > out.txt 2> err.txt; rc=$?
  [ $rc -eq "$want" ] || fail "exit $rc (want $want) for: $* ; stderr: $(cat err.txt)"
  grep -qF -- "$pat" err.txt || fail "stderr lacks '$pat' for: $* ; got: $(cat err.txt)"
}
payload=".control\\nshell touch $MARK\\n.endc"

# --- class 2: hostile process YAMLs, each through every command that reads a process -------------------
printf 'model_card: %s\nngspice_options:\n  reltol: "1000\\n%s"\n' "$CARD" "$payload" > opt_value.yaml
printf 'model_card: %s\nngspice_options:\n  "reltol=1\\n%s": 1\n' "$CARD" "$payload" > opt_key.yaml
printf 'model_card: %s\nngspice_options: {reltol: "1 ; x"}\n' "$CARD" > opt_comment.yaml
printf 'model_card: %s\nname: "p\\n%s"\n' "$CARD" "$payload" > name.yaml
printf 'model_card: %s\nnmos_model: "nfet\\n%s"\n' "$CARD" "$payload" > nmos.yaml
printf 'model_card: %s\npmos_model: "pfet x"\n' "$CARD" > pmos.yaml
# a model card whose file name carries the payload (it exists, so only the name is hostile; no '/' in a name)
evil_card="$dir/card
.control
shell touch pwned
.endc
x.lib"
cp "$CARD" "$evil_card" || fail "cannot create the card with a hostile name"
printf 'model_card: "%s/card\\n.control\\nshell touch pwned\\n.endc\\nx.lib"\n' "$dir" > card_path.yaml
declare -A want=(
  [opt_value]='opt_value.yaml:3:3: process.ngspice_options.reltol = "1000\n.control\nshell touch'
  [opt_key]='opt_key.yaml:3:3: process.ngspice_options = "reltol=1\n.control'
  [opt_comment]='process.ngspice_options.reltol = "1 ; x": not a number or known keyword'
  [name]='name.yaml:2:1: process.name = "p\n.control\nshell touch'
  [nmos]='nmos.yaml:2:1: process.nmos_model = "nfet\n.control'
  [pmos]='pmos.yaml:2:1: process.pmos_model = "pfet x": contains whitespace'
  [card_path]='card_path.yaml:1:1: process.model_card = '
)
"$nn" netlist --layers 4-3 --seed 1 --out w43 > /dev/null || fail "netlist 4-3"
for y in "${!want[@]}"; do
  expect_error 2 "${want[$y]}" netlist --layers 2-2 --process $y.yaml --out n_$y
  expect_error 2 "${want[$y]}" demo --layers 2-2 --patterns 1 --process $y.yaml --out d_$y
  expect_error 2 "${want[$y]}" characterize --layers 2-2 --routings 1 --process $y.yaml --out c_$y
  expect_error 2 "${want[$y]}" evaluate --layers 4-3 --weights w43 --dataset iris --limit 1 --process $y.yaml --out e_$y
  expect_error 2 "${want[$y]}" dynamics --layers 2-2 --random-patterns 1 --process $y.yaml --out y_$y
done
# other CLI strings that reach SPICE text
"$nn" netlist --layers 2-2 --seed 1 --out good > /dev/null || fail "netlist"
expect_error 2 '--option = "rel;shell touch x": not an identifier' simulate --netlist good/network.cir --option 'rel;shell touch x=2' --out s1
expect_error 2 '--option.reltol = "1;shell": not a number or known keyword' simulate --netlist good/network.cir --option 'reltol=1;shell' --out s2
expect_error 2 '--name = "x y": contains whitespace' dnpu spice --model "$SRC/tests/data/dnpu/legacy-f64.pt" --name 'x y' --out x.cir
expect_error 2 '--name = "x\n.control' dnpu spice --model "$SRC/tests/data/dnpu/legacy-f64.pt" --name "$(printf 'x\n.control')" --out x.cir
expect_error 2 '--name = ".control"' dnpu spice --model "$SRC/tests/data/dnpu/legacy-f64.pt" --name '.control' --out x.cir
# a good subcircuit name still works
"$nn" dnpu spice --model "$SRC/tests/data/dnpu/legacy-f64.pt" --name dn_1 --out ok.cir > /dev/null || fail "dnpu spice --name dn_1"
grep -q '^.subckt dn_1 ' ok.cir || fail "dnpu spice: no .subckt dn_1"
# ngspice -b on everything nnspice did write (here and in the attempts above) never creates the marker
if command -v ngspice > /dev/null; then
  n=0
  while IFS= read -r -d '' f; do
    (cd "$(dirname "$f")" && timeout 60 ngspice -b "$(basename "$f")" > /dev/null 2>&1)
    n=$((n + 1))
  done < <(find "$dir" -name '*.cir' -print0)
  [ $n -ge 2 ] || fail "expected netlists to run through ngspice -b, found $n"
fi
[ -n "$(find "$dir" -name 'pwned*')" ] && fail "a netlist ran 'shell touch'"
grep -rlsF '.control' --include='*.cir' . && fail "a written netlist carries .control"

# --- class 7: transient size before any work -----------------------------------------------------------
t0=$(date +%s)
expect_error 2 '--tstop / --tstep = 1 / 1e-12 = 1e+12 time points: more than the bound of 1e+07' \
  simulate --netlist good/network.cir --analysis tran --tstop 1 --tstep 1e-12 --out t1
expect_error 2 '--tstop / --tmax = 0.1 / 1e-15' simulate --netlist good/network.cir --analysis tran --tstop 0.1 --tstep 1e-6 --tmax 1e-15 --out t2
[ $(( $(date +%s) - t0 )) -le 20 ] || fail "the bound check took more than 20 s"
[ -e t1/summary.json ] && fail "refused transient wrote results"
expect_error 2 't_stop_s / t_max_s <= 1e7' dynamics --layers 2-2 --random-patterns 1 --t-stop 1e-2 --tmax 1e-15 --tstep 1e-8 --out y_tran
"$nn" simulate --netlist good/network.cir --analysis tran --tstop 1e-7 --tstep 1e-9 --out t_ok > /dev/null || fail "a small transient"

# --- class 8: the simulator's reason reaches the user ----------------------------------------------------
sed 's/\(TOX *= *\)[0-9.eE+-]*/\1-1e-9/' "$CARD" > badtox.lib
grep -q 'TOX *= *-1e-9' badtox.lib || fail "could not make the bad card"
printf 'model_card: %s/badtox.lib\n' "$dir" > badtox.yaml
"$nn" netlist --layers 2-2 --seed 1 --process badtox.yaml --out bad > /dev/null || fail "netlist with the bad card"
expect_error 3 'Tox = -1e-09 is not positive' simulate --netlist bad/network.cir --out sb
grep -q 'Tox = -1e-09 is not positive' sb/summary.json || fail "simulate summary.json lacks the reason"
expect_error 1 'Tox = -1e-09 is not positive' characterize --layers 2-2 --routings 2 --process badtox.yaml --no-progress --out cb
grep -q 'Tox = -1e-09 is not positive' cb/failures.json || fail "characterize failures.json lacks the reason: $(cat cb/failures.json 2>&1)"
expect_error 3 'Tox = -1e-09 is not positive' characterize --layers 2-2 --routings 2 --method decomposed --process badtox.yaml --no-progress --out cd
grep -q 'Tox = -1e-09 is not positive' cd/failures.json || fail "characterize --method decomposed failures.json lacks the reason"
timeout 120 "$nn" evaluate --layers 4-3 --weights w43 --dataset iris --limit 2 --process badtox.yaml --out eb > out.txt 2> err.txt; rc=$?
[ $rc -ne 0 ] || fail "evaluate on a bad card exited 0"
grep -q 'Tox = -1e-09 is not positive' err.txt || fail "evaluate stderr lacks the reason: $(cat err.txt)"
timeout 120 "$nn" dynamics --layers 2-2 --random-patterns 1 --process badtox.yaml --out yb > out.txt 2> err.txt; rc=$?
[ $rc -ne 0 ] || fail "dynamics on a bad card exited 0"
grep -q 'Tox = -1e-09 is not positive' err.txt || fail "dynamics stderr lacks the reason: $(cat err.txt)"
echo PASS
