#!/usr/bin/env bash
# bench_characterize — `nnspice characterize`: the decomposed DC engine against the full-netlist ngspice
# operating points on the same chip, in the same run, then (with --big) a 196-100-50-10 chip from scratch.
# Prints operating points, Newton iterations / table sweep points and wall times next to each other, and the
# largest relative slope difference between the two methods. See bench/README.md.
#
#   bench/bench_characterize.sh [--nnspice build/tools/nnspice] [--sizes 4-7-3,20-10-5] [--workers 2]
#                               [--big] [--out DIR]
set -euo pipefail
nn=build/tools/nnspice; sizes=4-7-3,20-10-5; workers=2; big=0; out=""
while [ $# -gt 0 ]; do
  case $1 in
    --nnspice) nn=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --big) big=1; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n 2,8p "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench_characterize: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$nn" ] || { echo "bench_characterize: no nnspice binary at '$nn' (build first or pass --nnspice)" >&2; exit 2; }
[ -n "$out" ] || out=$(mktemp -d /tmp/bench_characterize.XXXXXX)
mkdir -p "$out"

# One characterisation; prints its line of the table from summary.json.
run() {  # layers method dir
  local t0 t1
  t0=$(date +%s.%N)
  "$nn" characterize --layers "$1" --seed 7 --method "$2" --workers "$workers" --out "$3" --overwrite > "$3.log" 2>&1 ||
    { echo "bench_characterize: $1 $2 failed, see $3.log" >&2; tail -5 "$3.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  python3 - "$3/summary.json" "$1" "$2" "$t0" "$t1" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
flat = {}
def walk(d, p=""):
    if isinstance(d, dict):
        for k, v in d.items(): walk(v, p + k + ".")
    else: flat.setdefault(p[:-1].split(".")[-1], d)
walk(s)
get = lambda k: flat.get(k, "-")
print(f"{sys.argv[2]:>14} {sys.argv[3]:>10} {float(sys.argv[5]) - float(sys.argv[4]):9.1f} s"
      f"  ops {get('operating_points')} (failed {get('operating_points_failed')}), Newton {get('newton_iterations')}"
      f"; tables {get('synapse_tables')}, sweep points {get('table_sweep_points')}, table Newton {get('table_newton_iterations')}")
EOF
}

echo "nnspice characterize, chip seed 7, $workers workers ($(nproc) cores), $(date -u +%FT%TZ)"
echo "       network     method      wall   counts"
for l in ${sizes//,/ }; do
  run "$l" full "$out/$l-full"
  run "$l" decomposed "$out/$l-decomposed"
  python3 - "$out/$l-full" "$out/$l-decomposed" <<'EOF'
import ast, glob, os, struct, sys
def npy(path):  # float64 vectors as characterize writes them (no numpy needed)
    with open(path, "rb") as f:
        assert f.read(6) == b"\x93NUMPY"; major = f.read(1)[0]; f.read(1)
        n = struct.unpack("<H", f.read(2))[0] if major == 1 else struct.unpack("<I", f.read(4))[0]
        h = ast.literal_eval(f.read(n).decode("latin1")); assert h["descr"] == "<f8"
        count = 1
        for d in h["shape"]: count *= d
        return struct.unpack(f"<{count}d", f.read(8 * count))
a, b = sys.argv[1], sys.argv[2]
worst = 0.0
for f in sorted(glob.glob(os.path.join(a, "slopes_raw_*.npy"))):
    x, y = npy(f), npy(os.path.join(b, os.path.basename(f)))
    worst = max([worst] + [abs(v - u) / abs(u) for u, v in zip(x, y)])
print(f"{'':>14} {'':>10} max |decomposed - full| / full over raw slopes: {worst:.2e}")
EOF
done
if [ $big = 1 ]; then
  echo "196-100-50-10, decomposed, from scratch (the issue's target: <= 30 min on 2 cores)"
  run 196-100-50-10 decomposed "$out/196-100-50-10-decomposed"
fi
echo "outputs: $out"
