#!/usr/bin/env bash
# nnspice device-tables (issue 18): the native engine's device tables of a process, built once per card,
# temperature and supply, then loaded; a temperature or supply the tables cannot cover is refused before any
# sweep. $1 = nnspice binary, $2 = scratch dir.
set -u
N="$1"; D="$2"; SRCDIR="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$D"; mkdir -p "$D"; cd "$D" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
expect_bad() {  # expect_bad PATTERN args...: exit 2 and PATTERN on stderr
  local pat="$1"; shift
  timeout 60 "$N" "$@" > out.txt 2> err.txt; local rc=$?
  [[ $rc == 2 ]] || fail "'$*' exited $rc (want 2); stderr: $(cat err.txt)"
  grep -qF -- "$pat" err.txt || fail "'$*': stderr lacks \"$pat\"; got: $(cat err.txt)"
}
P="$SRCDIR/data/process/tsmc180.yaml"
# The shared cache holds the card's tables (the test fixture built them): loaded, not built.
"$N" device-tables --process "$P" --json > t.json 2> err.txt || fail "device-tables exited $?: $(cat err.txt)"
python3 -c "import json, sys; j = json.load(open('t.json')); sys.exit(0 if j['built'] is False and j['bytes'] > 0 and len(j['classes']) == 6 else 1)" ||
  fail "expected the cached tables: $(cat t.json)"
# Out of what the tables cover: refused before any work, naming the file, field and value.
sed "s#^temp_C: 27#temp_C: 200#; s#model_card: ../models#model_card: $SRCDIR/data/models#" "$P" > hot.yaml
grep -q "temp_C: 200" hot.yaml || fail "could not write hot.yaml"
expect_bad "temp_C = 200" device-tables --process hot.yaml --cache "$D/c1"
[ ! -e "$D/c1/device-tables-"*.bin ] || fail "tables were built for a refused process"
expect_bad "temp_C = 200" characterize --layers 4-7-3 --process hot.yaml --method decomposed --out "$D/ch"
# (A damaged or foreign cache file is rebuilt: tests/engine/test_native.cpp, on a coarse grid.)
echo "device_tables_cli: ok"
