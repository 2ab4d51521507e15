#!/usr/bin/env bash
# Installs the Debian packages cotenant needs (only those missing), then
# configures the build in build/. Used by tools/test.sh and tools/demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# pybind11-dev, python3-dev and python3-pytest: the Python module (python/)
# and its pytest tests.
# libopenmpi-dev and openmpi-bin: fleet placement's evaluations over MPI
# (fleet/mpi_pool.cpp) and its mpirun tests; the build works without them.
# clang and libclang-rt-14-dev (libFuzzer, ASan, UBSan runtimes): the fuzz
# tests (tests/fuzz/, docs/FUZZING.md); Debian 12's clang is clang 14.
packages=(cmake make g++ pkg-config zlib1g-dev libboost-graph-dev libeigen3-dev
          nlohmann-json3-dev libcli11-dev catch2 python3 python3-matplotlib gzip
          clang libclang-rt-14-dev libsqlite3-dev sqlite3 pybind11-dev python3-dev
          python3-pytest libopenmpi-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Optional arguments: build targets (default: everything).
build_type=${COTENANT_BUILD_TYPE:-Release}
cmake -S . -B build -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build build -j"$(nproc)" "${targets[@]}"
