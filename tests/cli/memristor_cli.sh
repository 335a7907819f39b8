#!/bin/bash
# nnspice memristor: device, crossbar (64x32 G.V acceptance), irdrop, vteam, train and hybrid on tiny data
# that this script makes (MNIST layout, random digits); bad inputs exit 2 naming the field or file.
# Args: $1 nnspice binary, $2 scratch dir, $3 shared dir.
set -u
N="$1"; S="$2"
SRC="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$S"; mkdir -p "$S"
fail() { echo "FAIL: $*"; exit 1; }
. "$(dirname "$0")/figure_check.sh"
expect_rc() {  # rc, pattern-in-stderr, command...
  local want="$1" pat="$2"; shift 2
  "$@" > "$S/out.txt" 2> "$S/err.txt"; local rc=$?
  [ "$rc" = "$want" ] || { cat "$S/out.txt" "$S/err.txt"; fail "rc $rc (want $want): $*"; }
  [ -z "$pat" ] || grep -q -- "$pat" "$S/err.txt" || { cat "$S/err.txt"; fail "stderr lacks '$pat': $*"; }
}
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

expect_rc 0 "" "$N" memristor --help
grep -q "hybrid" "$S/out.txt" || fail "subcommand list"
expect_rc 0 "" "$N" memristor device --device protonic --json
grep -q '"states": 1000' "$S/out.txt" || fail "protonic states"
expect_rc 0 "" "$N" memristor device --device rram --out "$S/dev"
[ "$(wc -l < "$S/dev/pulse_response.csv")" = 128 ] || fail "pulse response rows"
check_figure "$S/dev" pulse_response || fail "pulse_response figure"

# the acceptance: 64 x 32 without wire resistance within 0.1 %
expect_rc 0 "" "$N" memristor crossbar --rows 64 --cols 32 --out "$S/xb"
[ "$(json "$S/xb/summary.json" "d['pass']")" = True ] || fail "64x32 G.V"
grep -q "^RG63_31 " "$S/xb/crossbar.cir" || fail "netlist element names"
expect_rc 0 "" "$N" memristor irdrop --sizes 4,8 --r-wire 1 --out "$S/ir"
[ "$(wc -l < "$S/ir/irdrop.csv")" = 3 ] || fail "irdrop rows"
check_figure "$S/ir" irdrop || fail "irdrop figure"
expect_rc 0 "" "$N" memristor vteam --periods 1 --out "$S/vt"
python3 -c "import json; d=json.load(open('$S/vt/summary.json')); assert d['max_state_deviation_vs_reference'] < 0.02 and d['x_max'] > 0.5, d" || fail "vteam"
check_figure "$S/vt" vteam || fail "vteam figure"

# tiny MNIST-layout data: 6,000 training / 200 test images of class-dependent stripes + noise
python3 - "$S/digits" <<'PY'
import os, random, struct, sys
d = sys.argv[1]; os.makedirs(d, exist_ok=True); random.seed(5)
def write(name, n):
    labels = [random.randrange(10) for _ in range(n)]
    img = bytearray()
    for l in labels:
        for y in range(28):
            for x in range(28):
                on = (x // 3) % 10 == l and 4 <= y < 24
                img.append(max(0, min(255, int((200 if on else 0) + random.gauss(0, 30)))))
    open(f"{d}/{name}-images-idx3-ubyte", "wb").write(struct.pack(">IIII", 0x803, n, 28, 28) + bytes(img))
    open(f"{d}/{name}-labels-idx1-ubyte", "wb").write(struct.pack(">II", 0x801, n) + bytes(labels))
write("train", 1200); write("t10k", 200)
PY
expect_rc 0 "" "$N" memristor train --mnist "$S/digits" --device rram --rules ideal,sgd,tiki-taka --train-limit 600 --test-limit 200 --epochs 1 --out "$S/tr"
python3 -c "import json; r=json.load(open('$S/tr/summary.json'))['results']; assert r['ideal']['test_accuracy'] > 0.8 and r['sgd']['pulses'] > 0 and 'tiki-taka' in r, r" || fail "train summary"
[ -f "$S/tr/run.json" ] && [ -f "$S/tr/weights_sgd.npy" ] || fail "train files"
check_figure "$S/tr" train_accuracy || fail "train_accuracy figure"
expect_rc 0 "" "$N" memristor hybrid --model "$SRC/tests/data/dnpu/legacy-f64.pt" --mnist "$S/digits" --devices ideal,rram --train-limit 300 --val 200 --test-limit 200 --epochs 1 --out "$S/hy"
python3 -c "import json; r=json.load(open('$S/hy/summary.json'))['results']; assert len(r) == 2 and r[1]['energy_per_inference_J']['total'] > 0, r" || fail "hybrid summary"
check_figure "$S/hy" hybrid_accuracy || fail "hybrid_accuracy figure"

# bad inputs -> exit 2 naming the field / file
expect_rc 2 "unknown device preset\|neither a preset" "$N" memristor device --device nosuch
printf 'preset: rram\nstatez: 10\n' > "$S/bad.yaml"
expect_rc 2 "bad.yaml:2" "$N" memristor device --device "$S/bad.yaml"
printf 'g_max_S: big\n' > "$S/bad2.yaml"
expect_rc 2 "g_max_S" "$N" memristor device --device "$S/bad2.yaml"
expect_rc 2 "rows" "$N" memristor crossbar --rows 0 --out "$S/x"
expect_rc 2 "r-wire" "$N" memristor irdrop --r-wire -1 --out "$S/x"
expect_rc 2 "adam" "$N" memristor train --rules sgd,adam --mnist "$S/digits" --out "$S/x"
expect_rc 2 "learning_rate" "$N" memristor train --lr -1 --mnist "$S/digits" --out "$S/x"
expect_rc 2 "--train-limit = '0': must be an integer in 1.." "$N" memristor train --train-limit 0 --mnist "$S/digits" --out "$S/x"
expect_rc 2 "MNIST file not found: looked for .*nodir/train-images-idx3-ubyte and .*nodir/train-images-idx3-ubyte.gz" "$N" memristor train --mnist "$S/nodir" --out "$S/x"
expect_rc 2 "adc_bits" "$N" memristor hybrid --adc-bits 1 --mnist "$S/digits" --out "$S/x"
expect_rc 2 "unknown memristor subcommand" "$N" memristor frobnicate
echo "all memristor CLI checks passed"
