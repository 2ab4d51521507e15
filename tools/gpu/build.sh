#!/usr/bin/env bash
# Builds what the GPU campaign carries to the device machine: cotenant,
# libcotenant_inject.so and the [gpu] test program two_streams, for sm_90
# (H100/H200) only, in build-sm90/ (a normal CMake build folder), then copies
# them, stripped, into build-gpu/ (the folder named in the run tool's carry;
# a few MiB). Executables link libstdc++ and libgcc statically, so they do not
# depend on the device image's C++ runtime (glibc 2.36 or newer is needed).
#
# Usage: tools/gpu/build.sh [JOBS]        (default 2)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
jobs=${1:-2}
build=$root/build-sm90
stage=$root/build-gpu
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi
command -v nvcc >/dev/null 2>&1 || [[ -x /usr/local/cuda/bin/nvcc ]] || {
  echo "build.sh: error: no nvcc: the campaign needs the CUDA toolkit build" >&2
  exit 2
}
mkdir -p "$build"
cmake -S "$root" -B "$build" "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CUDA_ARCHITECTURES=90 "-DCMAKE_EXE_LINKER_FLAGS=-static-libstdc++ -static-libgcc" \
  >"$build/configure.log" 2>&1 || {
  cat "$build/configure.log" >&2
  exit 1
}
if ! grep -q "building libcotenant_inject.so" "$build/configure.log" ||
  ! grep -q "building the CUDA replay harness" "$build/configure.log"; then
  echo "build.sh: error: CMake found no CUPTI or no CUDA compiler (see $build/configure.log)" >&2
  exit 1
fi
cmake --build "$build" -j "$jobs" --target cotenant cotenant_inject two_streams
rm -rf "$stage"
mkdir -p "$stage"
cp "$build/cotenant" "$build/libcotenant_inject.so" "$build/tests/two_streams" "$stage/"
strip --strip-unneeded "$stage/cotenant" "$stage/libcotenant_inject.so" "$stage/two_streams"
{
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git -C "$root" rev-parse HEAD)$(git -C "$root" diff --quiet HEAD || echo ' (with uncommitted changes)')"
  echo "nvcc: $(nvcc --version 2>/dev/null | tail -1)"
  echo "CUDA architectures: 90 (cotenant_replay_cuda: 90)"
} >"$stage/BUILD_INFO.txt"
echo "build.sh: $stage: $(du -sh "$stage" | cut -f1) ($(cd "$stage" && echo *))"
