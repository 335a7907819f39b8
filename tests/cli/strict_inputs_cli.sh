#!/usr/bin/env bash
# Issue 17, classes 1, 7, 9 (strict input files, resources, labels): every attack ends in exit 2 with a
# message naming the file/line/field and the value, within 30 s; gzip-compressed IDX files are read.
# $1 = nnspice binary, $2 = scratch dir.
set -u
nn=$1; dir=$2; rm -rf "$dir"; mkdir -p "$dir"; cd "$dir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }
expect_error() {  # expect_error <exit> <pattern> <args...>; every pattern given with -e must appear
  local want=$1 pat=$2; shift 2
  timeout 30 "$nn" "$@" > out.txt 2> err.txt; rc=$?
  [ $rc -eq "$want" ] || fail "exit $rc (want $want) for: $* ; stderr: $(cat err.txt)"
  grep -q -- "$pat" err.txt || fail "stderr lacks '$pat' for: $* ; got: $(cat err.txt)"
}
"$nn" netlist --layers 2-2-1 --seed 3 --out n > /dev/null || fail "netlist 2-2-1"

# ---- class 1: CSV rows lost ----
# A first row with one non-numeric field is a broken data row (file:line:col, the field), not a header.
printf '1e-8,2e-8x\n3e-8,1e-8\n' > p.csv
expect_error 2 "p.csv:1:6: field 2 = '2e-8x' is not a number" simulate --netlist n/network.cir --inputs-file p.csv --out s
printf '3e-8,1e-8\n1e-8,2e-8x\n' > p2.csv
expect_error 2 "p2.csv:2:6: field 2 = '2e-8x'" simulate --netlist n/network.cir --inputs-file p2.csv --out s
printf '1e-8,2e-8x\n3e-8,1e-8\n' > pat.csv
expect_error 2 "pat.csv:1:6" dynamics -l 2-2-1 --patterns pat.csv -o d
# labels: a one-column first row that looks like a mistyped number is not a header (labels would shift by one)
printf '1e-8,2e-8\n2e-8,1e-8\n' > two.csv
printf '1x\n0\n1\n' > lab.csv
expect_error 2 "lab.csv:1:1: '1x' is not a number" dynamics -l 2-2-1 --patterns two.csv --labels lab.csv -o d
printf 'label\n1\n' > lab1.csv
expect_error 2 "1 labels for 2 patterns" dynamics -l 2-2-1 --patterns two.csv --labels lab1.csv -o d
# a label outside the network's outputs (2-2-1 has one output: class 0 only)
printf '0\n3\n' > lab3.csv
expect_error 2 "lab3.csv: label 1 = 3: outside the class range 0..0 of the network's 1 outputs" dynamics -l 2-2-1 --patterns two.csv --labels lab3.csv -o d
# Iris: a first row with the class as a name
{ printf '5.1,3.5,1.4,0.2,setosa\n'; grep -v '^#' "$(dirname "$nn")/../../data/datasets/iris.csv" 2>/dev/null | tail -n +2; } > iris_bad.csv
expect_error 2 "iris_bad.csv:1:17: field 5 = 'setosa' is not a number" train --dataset iris --iris-csv iris_bad.csv --epochs 1 --out t
# a header with more names than the rows have fields
printf 'a,b,c\n1e-8,2e-8\n' > hdr.csv
expect_error 2 "hdr.csv:2: row has 2 fields, expected 3 (the header line 1 names)" simulate --netlist n/network.cir --inputs-file hdr.csv --out s
# weight CSVs: the mixed first row, and a UTF-8 BOM is stripped (the same codes as without)
printf '3,-7x\n1,2\n' > w0bad.csv; printf '1,-1\n' > w1.csv
expect_error 2 "w0bad.csv:1:3: field 2 = '-7x'" netlist --layers 2-2-1 --weights w0bad.csv w1.csv --out x
printf '3,-7\n1,2\n' > w0.csv; printf '\xef\xbb\xbf3,-7\n1,2\n' > w0bom.csv
"$nn" netlist --layers 2-2-1 --seed 3 --weights w0.csv w1.csv --out wa > /dev/null || fail "weights csv"
"$nn" netlist --layers 2-2-1 --seed 3 --weights w0bom.csv w1.csv --out wb > /dev/null || fail "weights csv with a BOM: $(cat err.txt)"
cmp wa/network.cir wb/network.cir > /dev/null || diff <(grep -v '^\*' wa/network.cir) <(grep -v '^\*' wb/network.cir) > /dev/null \
  || fail "a BOM changed the weights"
# a BOM on simulate inputs: one sample, the same currents
printf '\xef\xbb\xbf1e-8,2e-8\n' > bom.csv
"$nn" simulate --netlist n/network.cir --inputs-file bom.csv --out sb > o.txt 2> err.txt || fail "simulate with a BOM: $(cat err.txt)"

# ---- class 7: resources ----
mkfifo fifo.npy
expect_error 2 "fifo.npy: it is a FIFO" netlist --layers 2-2-1 --weights fifo.npy w1.csv --out x
ln -s /dev/zero zero.npy
expect_error 2 "zero.npy: it is a character device" netlist --layers 2-2-1 --weights zero.npy w1.csv --out x
expect_error 2 "/dev/zero: it is a character device" simulate --netlist n/network.cir --inputs-file /dev/zero --out s
mkdir adir.yaml
expect_error 2 "adir.yaml: it is a directory" netlist --layers 2-2-1 --process adir.yaml --out x
printf 'dataset: iris\n' > big.yaml; truncate -s 48M big.yaml
expect_error 2 "big.yaml: it is 50331648 bytes (48.0 MiB), more than the limit of 16777216 bytes (16.0 MiB) for a YAML config" \
  train --config big.yaml --out t
# networks too large for a chip or netlist: refused before allocation, naming the count and the bound
expect_error 2 "network 100000-100000 has 110000700000 transistors" netlist --layers 100000-100000 --out x
grep -q "bound of 50000000" err.txt || fail "no bound in: $(cat err.txt)"
expect_error 2 "network 3000-3000-10 has" dynamics -l 3000-3000-10 --random-patterns 2 -o d
expect_error 2 "network 100000-100000 has" characterize --layers 100000-100000 --out c
# ... and to train (was: bad_alloc, then "out of memory", exit 1)
expect_error 2 "--layers (YAML layers) = 4-100000-100000-3 (10000700000 weights). Violated constraint: at most 4500000 weights" train --dataset iris --layers 4-100000-100000-3 --out t
# training options are named as the user gives them: the flag and the YAML key (was: TrainOptions::epochs)
expect_error 2 "--epochs (YAML epochs) = 0. Violated constraint: epochs >= 1" train --dataset iris --epochs 0 --out t
expect_error 2 "--batch (YAML batch) = 0. Violated constraint: batch >= 1" train --dataset iris --batch 0 --out t
expect_error 2 "--lr (YAML lr) = -1. Violated constraint: lr > 0" train --dataset iris --lr -1 --out t

# ---- class 9: labels and data ----
mnist=${NNSPICE_MNIST_DIR:-/usr/local/share/nnspice/mnist}
if [ -f "$mnist/t10k-images-idx3-ubyte" ]; then
  # 40 images of each split, gzip-compressed only (as Debian's dataset-fashion-mnist ships them)
  mkdir gz
  for s in train t10k; do
    { printf '\x00\x00\x08\x03\x00\x00\x00\x28\x00\x00\x00\x1c\x00\x00\x00\x1c'; tail -c +17 "$mnist/$s-images-idx3-ubyte" | head -c 31360; } | gzip > gz/$s-images-idx3-ubyte.gz
    { printf '\x00\x00\x08\x01\x00\x00\x00\x28'; tail -c +9 "$mnist/$s-labels-idx1-ubyte" | head -c 40; } | gzip > gz/$s-labels-idx1-ubyte.gz
  done
  "$nn" train --dataset mnist --mnist gz --pixels most_active --num-pixels 16 --layers 16-10 --epochs 1 --plot false --quiet --out tg > o.txt 2> err.txt || fail "train on gzipped MNIST: $(cat err.txt)"
  grep -q '"test_samples": *40' tg/summary.json || fail "gzipped MNIST: not 40 test samples: $(cat tg/summary.json)"
  # a label of 200 (sample 3 of the test labels)
  mkdir bad; cp gz/train-* bad/; cp gz/t10k-images-idx3-ubyte.gz bad/
  { printf '\x00\x00\x08\x01\x00\x00\x00\x28'; tail -c +9 "$mnist/t10k-labels-idx1-ubyte" | head -c 3; printf '\xc8'; tail -c +13 "$mnist/t10k-labels-idx1-ubyte" | head -c 36; } > bad/t10k-labels-idx1-ubyte
  expect_error 2 "bad/t10k-labels-idx1-ubyte: label of sample 3 = 200: outside the class range 0..9" train --dataset mnist --mnist bad --layers 196-10 --epochs 1 --out tb
  expect_error 2 "bad/t10k-labels-idx1-ubyte: label of sample 3 = 200" infer --weights tg --dataset mnist --mnist bad
  # a truncated gzip file
  mkdir trunc; cp gz/* trunc/; head -c 2000 gz/t10k-images-idx3-ubyte.gz > trunc/t10k-images-idx3-ubyte.gz
  expect_error 2 "trunc/t10k-images-idx3-ubyte.gz: truncated gzip data" train --dataset mnist --mnist trunc --layers 196-10 --epochs 1 --out tt
fi
# the missing-data message names what was looked for
expect_error 2 "looked for nomnist/train-images-idx3-ubyte and nomnist/train-images-idx3-ubyte.gz" train --dataset mnist --mnist nomnist --out t
echo "strict_inputs_cli: all checks passed"
