#!/usr/bin/env bash
# Issue 17, class 3: a damaged checkpoint is recomputed, never used. Each checkpoint kind is edited (one flipped
# bit, one changed digit, a NaN), then the command runs again with --resume: it must say which file it does not
# use and why (one "note:" line), exit 0, and give results byte-identical to an uninterrupted run.
# Args: $1 nnspice binary, $2 scratch dir, $3 shared dir.
set -u
N=$1; D=$2
rm -rf "$D"; mkdir -p "$D"; cd "$D" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
flip() {  # flip FILE OFFSET_FROM_END: xor one bit of one byte
  python3 - "$1" "$2" <<'PY'
import sys
p, k = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[len(b) - k] ^= 0x04; open(p, "wb").write(bytes(b))
PY
}

# --- train: checkpoint.bin with one flipped bit -> trained again from the first epoch, same weights ------------
T=(train --dataset iris --quiet --plot false)
"$N" "${T[@]}" --epochs 6 --out tr_full > /dev/null 2>&1 || fail "train reference"
"$N" "${T[@]}" --epochs 3 --out tr_part > /dev/null 2>&1 || fail "train part"
flip tr_part/checkpoint.bin 100
"$N" "${T[@]}" --epochs 6 --out tr_part --resume > tr.txt 2>&1 || fail "train --resume on a damaged checkpoint: $(cat tr.txt)"
grep -q "note: tr_part/checkpoint.bin: .*checksum mismatch.*training from the first epoch" tr.txt || fail "train: no notice: $(cat tr.txt)"
for f in weights_0.npy weights_1.npy; do cmp tr_full/$f tr_part/$f || fail "train: $f differs after a damaged checkpoint"; done

# --- characterize: one changed digit in one line of ops.jsonl -> only that point is simulated again ----------
C=(characterize -l 4-7-3 --seed 11 --routings 4 --levels 2e-9:76e-9:3 --negative-routings 2 --negative-levels 1e-8,3e-8 --no-progress)
"$N" "${C[@]}" --out ch_full > /dev/null 2>&1 || fail "characterize reference"
cp -r ch_full ch_edit
python3 - ch_edit/ops.jsonl <<'PY'
import re, sys
p = sys.argv[1]; lines = open(p).read().split("\n")
m = re.search(r"e-0(\d)", lines[2]); i = m.start(1)
lines[2] = lines[2][:i] + str((int(lines[2][i]) + 1) % 10) + lines[2][i + 1:]
open(p, "w").write("\n".join(lines))
PY
"$N" "${C[@]}" --out ch_edit --resume > ch.txt 2>&1 || fail "characterize --resume: $(cat ch.txt)"
grep -q "note: ch_edit/ops.jsonl: 1 line(s) not used (line 3: checksum mismatch" ch.txt || fail "characterize: no notice: $(cat ch.txt)"
grep -q "(1 simulated, " ch.txt || fail "characterize: want exactly the edited point simulated again: $(cat ch.txt)"
for f in calibration.json slopes_0.npy slopes_1.npy negative_gain_0.npy; do cmp ch_full/$f ch_edit/$f || fail "characterize: $f differs"; done

# --- evaluate: one flipped bit in checkpoint/state.bin -> every sample evaluated again, same outputs ----------
"$N" netlist --layers 4-7-3 --seed 5 --out w > /dev/null || fail "netlist"
E=(evaluate --layers 4-7-3 --weights w --chip w/chip.csv --dataset iris --method full --jobs 1 --block 10 --limit 20)
"$N" "${E[@]}" --out ev_full > /dev/null 2>&1 || fail "evaluate reference"
cp -r ev_full ev_edit
flip ev_edit/checkpoint/state.bin 20
"$N" "${E[@]}" --out ev_edit --resume > ev.txt 2>&1 || fail "evaluate --resume: $(cat ev.txt)"
grep -q "note: ev_edit/checkpoint/state.bin: payload checksum mismatch" ev.txt || fail "evaluate: no notice: $(cat ev.txt)"
grep -q '"resumed_samples": 0' ev_edit/summary.json || fail "evaluate: the damaged checkpoint was used"
for f in outputs.npy predicted.npy; do cmp ev_full/$f ev_edit/$f || fail "evaluate: $f differs"; done

# --- dynamics: an edited energy digit, and a NaN, in pattern JSONs -> those patterns simulated again ----------
printf '1e-8,2e-8\n2e-8,1e-8\n1.5e-8,0.5e-8\n' > three.csv
Y=(dynamics -l 2-2-1 --patterns three.csv --mean-input none --t-stop 2e-6 --no-progress)
"$N" "${Y[@]}" -o dy_full > /dev/null 2>&1 || fail "dynamics reference"
cp -r dy_full dy_edit
python3 - dy_edit/level_as_given/patterns <<'PY'
import re, sys
d = sys.argv[1]
t = open(d + "/1.json").read()
m = re.search(r'"energy_window_J": (-?\d\.\d)', t); i = m.end(1) - 1
open(d + "/1.json", "w").write(t[:i] + str((int(t[i]) + 1) % 10) + t[i + 1:])
t = open(d + "/2.json").read()
open(d + "/2.json", "w").write(re.sub(r'"power_window_W": [^,\n]*', '"power_window_W": NaN', t))
PY
"$N" "${Y[@]}" -o dy_edit --resume > dy.txt 2>&1 || fail "dynamics --resume: $(cat dy.txt)"
grep -q "note: dy_edit/level_as_given/patterns/1.json: payload checksum mismatch.*simulating pattern 1 again" dy.txt || fail "dynamics: no notice for 1: $(cat dy.txt)"
grep -q "note: dy_edit/level_as_given/patterns/2.json: not JSON" dy.txt || fail "dynamics: no notice for 2: $(cat dy.txt)"
strip() { python3 -c "import csv,sys; [print(','.join(r[:-1])) for r in csv.reader(open(sys.argv[1]))]" "$1"; }  # drop wall_s
cmp <(strip dy_full/level_as_given/patterns.csv) <(strip dy_edit/level_as_given/patterns.csv) || fail "dynamics: patterns.csv differs"
grep -q '"failed": 0' dy_edit/level_as_given/summary.json || fail "dynamics: failed count"

# --- dnpu ring: one digit of restarts_single.csv changed -> every restart computed again, same CSV ----------
R=(dnpu ring --model dnpu/si-boron-2020 --arch single --points 40 --epochs 15 --restarts 8)
"$N" "${R[@]}" --out ring_full > /dev/null 2>&1 || fail "ring reference"
cp -r ring_full ring_edit
python3 - ring_edit/restarts_single.csv <<'PY'
import sys
p = sys.argv[1]; lines = open(p).read().split("\n"); f = lines[2].split(",")
f[3] = str(float(f[3]) + 1); lines[2] = ",".join(f); open(p, "w").write("\n".join(lines))
PY
"$N" "${R[@]}" --out ring_edit --resume > ring.txt 2>&1 || fail "ring --resume: $(cat ring.txt)"
grep -q "note: ring_edit/ring_single_options.json: ring_edit/restarts_single.csv was changed after it was written; computing every restart again" ring.txt \
  || fail "ring: no notice: $(cat ring.txt)"
cmp ring_full/restarts_single.csv ring_edit/restarts_single.csv || fail "ring: restarts differ"
echo "ok"
