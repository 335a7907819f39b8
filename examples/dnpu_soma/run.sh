#!/bin/bash
# A DNPU (the seed paper's si-boron surrogate as an ngspice subcircuit) drives a current-mode soma
# (docs/circuits.md section 2: M0 diode-connected nFET, M1 1:1 mirror; MOSIS TSMC 0.18 um BSIM3 card).
# The data electrode e1 is swept over its range with the controls fixed; the DNPU current changes sign,
# and the soma passes only its positive part: the mirrored current is ReLU(I_dnpu).
# Usage: examples/dnpu_soma/run.sh [nnspice binary] [output dir]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
NNSPICE="${1:-nnspice}"
OUT="${2:-$PWD/dnpu_soma_out}"
mkdir -p "$OUT"
# controls picked so that I_dnpu crosses zero inside e1's range (found with nnspice dnpu eval on random settings)
CONTROLS="e0=0.1389,e2=0.1794,e3=0.0567,e4=-1.1743,e5=-0.5082,e6=-0.1636"
"$NNSPICE" dnpu spice --model dnpu/si-boron-2020 --out "$OUT/dnpu_si_boron.cir" --demo "$OUT/demo.cir" --controls "$CONTROLS" --sweep 1
cd "$OUT"
ngspice -b demo.cir > ngspice.log 2> ngspice.err || { echo "ngspice failed, see $OUT/ngspice.err" >&2; exit 1; }
# the .print table: Index, e1 (V), I_dnpu (A, vin#branch), V(iin), I_mirror (A, vmir#branch)
awk -F'[ \t]+' '/^[0-9]+\t/ { printf "%.4f,%.4f,%.4f,%.5f\n", $2, $3 * 1e9, $5 * 1e9, $4 }' ngspice.log > sweep.csv
[[ $(wc -l < sweep.csv) -gt 0 ]] || { echo "ngspice printed no sweep, see $OUT/ngspice.log" >&2; exit 1; }
sed -i '1i e1_V,i_dnpu_nA,i_mirror_nA,v_soma_V' sweep.csv
cat > sweep.gp <<'GP'
set terminal pngcairo size 800,500
set output 'dnpu_soma.png'
set datafile separator ','
set xlabel 'data electrode e1 (V)'
set ylabel 'current (nA)'
set y2label 'soma gate voltage (V)'
set y2tics
set grid
set key top left
plot 'sweep.csv' every ::1 using 1:2 with lines lw 2 title 'DNPU output current', \
     '' every ::1 using 1:3 with lines lw 2 title 'soma mirror output (ReLU)', \
     '' every ::1 using 1:4 axes x1y2 with lines dt 2 title 'V(iin)'
GP
gnuplot sweep.gp 2>/dev/null || echo "gnuplot missing: data kept in $OUT/sweep.csv" >&2
echo "wrote $OUT/sweep.csv and $OUT/dnpu_soma.png"
awk -F, 'NR > 1 && ($2 > 0) != (p > 0) && NR > 2 { print "I_dnpu changes sign near e1 = " $1 " V" } NR > 1 { p = $2 }' sweep.csv
