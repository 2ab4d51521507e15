#!/usr/bin/env bash
# Builds the libFuzzer targets in a separate clang build directory (default
# build-fuzz/) with ASan and UBSan: the top-level project configured with
# COTENANT_FUZZ=ON, which builds only the libraries the targets need and
# the targets themselves (tests/fuzz/CMakeLists.txt).
#   tests/fuzz/build.sh [BUILD_DIR] [TARGET...]    (default: every target)
# Exit 77 (with the reason on stdout) when clang or libFuzzer is missing, so
# CTest reports the fuzz tests as skipped; tools/setup.sh installs both.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build-fuzz}
shift || true
mkdir -p "$out"
rm -f "$out/skipped"
skip() {  # the reason goes to stdout and to $out/skipped, which fuzz_test.sh prints
  echo "fuzz: skipped: $*" | tee "$out/skipped"
  exit 77
}

cxx=${COTENANT_FUZZ_CXX:-}
if [[ -z $cxx ]]; then
  for c in clang++ clang++-14 clang++-15 clang++-16; do
    if command -v "$c" >/dev/null; then cxx=$c; break; fi
  done
fi
if [[ -z $cxx ]]; then
  skip "no clang++ (install the Debian packages clang and libclang-rt-14-dev: tools/setup.sh)"
fi
# libFuzzer ships in the compiler-rt package, not with clang itself.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
  >"$probe/p.cpp"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" 2>"$probe/err"; then
  skip "$cxx cannot link -fsanitize=fuzzer,address,undefined (libFuzzer and the" \
       "sanitizer runtimes are in libclang-rt-14-dev): $(head -c 300 "$probe/err")"
fi

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined"
flags+=" -fno-sanitize-recover=undefined"
cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER="$cxx" "${launcher[@]}" \
  -DCMAKE_CXX_FLAGS="$flags" -DCOTENANT_FUZZ=ON >"$out/configure.log" 2>&1 ||
  { cat "$out/configure.log"; exit 1; }
targets=()
for t in "$@"; do targets+=(--target "$t"); done
((${#targets[@]})) || targets=(--target fuzz_targets)
cmake --build "$out" -j"${COTENANT_FUZZ_JOBS:-$(nproc)}" "${targets[@]}"
