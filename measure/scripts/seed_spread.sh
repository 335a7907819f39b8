#!/usr/bin/env bash
# Slope spread vs chip seed and mismatch sigma (docs/characterize.md "Seeds and mismatch sigma"):
# characterises 4-7-3 chips of several seeds at A_VT = 3.3 (default), 1.65 and 0 mV*um and prints, per layer,
# the spread of ln(raw slope) over all neurons of all chips. Usage: seed_spread.sh NNSPICE OUTDIR [SEEDS...]
set -eu
bin=$1; out=$2; shift 2
seeds=${*:-1 2 3 4 5 6}
mkdir -p "$out"
data=$(cd "$(dirname "$0")/../../data" && pwd)
for avt in 3.3 1.65; do
  sed -e "s|^model_card:.*|model_card: $data/models/mosis-tsmc018-t58f-bsim3v33.lib|" \
      -e "s|a_vt_mV_um: 3.3|a_vt_mV_um: $avt|" "$data/process/tsmc180.yaml" > "$out/process_$avt.yaml"
  for s in $seeds; do
    [ -s "$out/avt$avt/seed$s/calibration.json" ] ||
      "$bin" characterize -l 4-7-3 --seed "$s" --process "$out/process_$avt.yaml" --out "$out/avt$avt/seed$s" --no-progress --overwrite > /dev/null
  done
done
[ -s "$out/ideal/calibration.json" ] || "$bin" characterize -l 4-7-3 --no-mismatch --out "$out/ideal" --no-progress --overwrite > /dev/null
python3 - "$out" $seeds <<'PY'
import json, math, sys, statistics as st
out, seeds = sys.argv[1], sys.argv[2:]
def raw(d):
    s = json.load(open(d + "/summary.json")); c = json.load(open(d + "/calibration.json"))
    mean = [e["slope_raw"]["mean"] for e in s["per_layer"]]
    return [[v * m for v in layer] for layer, m in zip(c["slopes"], mean)], c["negative_gain"]
print("A_VT (mV um) | layer | chips x neurons | sd ln(raw slope) | mean within-chip sd of normalised slopes | sd ln(negative gain)")
for avt, dirs in (("3.3", [f"{out}/avt3.3/seed{s}" for s in seeds]), ("1.65", [f"{out}/avt1.65/seed{s}" for s in seeds]), ("0", [f"{out}/ideal"])):
    data = [raw(d) for d in dirs]
    for l in range(2):
        logs = [math.log(v) for slopes, _ in data for v in slopes[l]]
        within = [st.stdev([v / st.mean(slopes[l]) for v in slopes[l]]) for slopes, _ in data]
        gains = [math.log(v) for _, g in data for v in g[l]]
        print(f"{avt:>12} | {l:>5} | {len(data)} x {len(data[0][0][l]):<9} | {st.stdev(logs):16.4f} | {st.mean(within):40.4f} | {st.stdev(gains):.4f}")
PY
