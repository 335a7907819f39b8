#!/bin/bash
# A full disk on the output folder (docs/reliability.md): `nnspice dynamics` writes into a 24 KiB tmpfs mounted
# in a private mount namespace (unshare -m: needs CAP_SYS_ADMIN, as root in CI's container; exit 77 = skipped
# otherwise). The run must stop with exit 1 and a message naming the file and "No space left on device", leave
# no half-written or temporary file (every checkpoint present parses), and after space is freed `--resume`
# must finish without simulating the checkpointed patterns again.
# $1 = nnspice binary, $2 = scratch dir, $3 = shared dir.
set -u
N="$1"; D="$2"
rm -rf "$D"; mkdir -p "$D/mnt"
if ! unshare -m --propagation private true 2>/dev/null; then
  echo "SKIP: no private mount namespace here (unshare -m not permitted)"; exit 77
fi
# Eight patterns of 2 input currents (A).
printf '%s\n' 1.2e-8,2.5e-8 2.9e-8,0.8e-8 1.5e-8,1.5e-8 0.6e-8,2.2e-8 2.4e-8,1.1e-8 1.9e-8,2.8e-8 0.9e-8,0.7e-8 2.6e-8,1.7e-8 > "$D/eight.csv"
export N D
exec unshare -m --propagation private bash -c '
fail=0
M="$D/mnt"
mount -t tmpfs -o size=24k tmpfs "$M" || { echo "SKIP: cannot mount a tmpfs"; exit 77; }
args=(dynamics -l 2-2-1 --patterns "$D/eight.csv" --mean-input none --t-stop 2e-6 --no-progress -o "$M/run")
"$N" "${args[@]}" > "$D/full.txt" 2>&1
rc=$?
if [ $rc != 1 ] || ! grep -q "cannot write $M/run/.*: No space left on device" "$D/full.txt"; then
  echo "FAIL: full disk -> exit $rc (want 1 and a message naming the file):"; cat "$D/full.txt"; fail=1
fi
if find "$M" -name "*.tmp.*" | grep -q .; then echo "FAIL: temporary files left:"; find "$M" -name "*.tmp.*"; fail=1; fi
before=$(ls "$M/run/level_as_given/patterns" | wc -l)
[ "$before" -ge 1 ] && [ "$before" -lt 8 ] || { echo "FAIL: want some but not all 8 patterns checkpointed before the disk filled, got $before"; fail=1; }
for f in "$M"/run/level_as_given/patterns/*.json; do
  python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$f" || { echo "FAIL: $f is not complete JSON"; fail=1; }
done
stamps=$(stat -c "%n %Y.%y" "$M"/run/level_as_given/patterns/*.json)
mount -o remount,size=8m "$M"
"$N" "${args[@]}" --resume > "$D/resume.txt" 2>&1 || { echo "FAIL: --resume after freeing space:"; cat "$D/resume.txt"; fail=1; }
[ "$stamps" = "$(stat -c "%n %Y.%y" $(echo "$stamps" | cut -d" " -f1))" ] || { echo "FAIL: --resume rewrote checkpointed patterns"; fail=1; }
[ "$(ls "$M/run/level_as_given/patterns" | wc -l)" = 8 ] || { echo "FAIL: --resume did not finish all 8 patterns"; fail=1; }
[ -s "$M/run/summary.json" ] || { echo "FAIL: no summary.json after --resume"; fail=1; }
umount "$M"
exit $fail
'
