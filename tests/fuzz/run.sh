#!/usr/bin/env bash
# Builds a fuzzer with clang (libFuzzer, ASan, UBSan) and runs it for SECONDS
# (default 120). TARGET: trace_fuzz (bytes as trace JSON; seeds: the test
# fixtures and a bundled trace) or workload_fuzz (bytes decoded into traces
# and a plan).
#   tests/fuzz/run.sh [SECONDS] [TARGET]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-120}
target=${2:-trace_fuzz}
out=build-fuzz
cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
  -DBUILD_TESTING=OFF >/dev/null
cmake --build "$out" -j"$(nproc)" --target cotenant_sim >/dev/null
clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I. "tests/fuzz/$target.cpp" "$out/libcotenant_sim.a" -lz -o "$out/$target"
corpus="$out/corpus-$target"
mkdir -p "$corpus"
if [[ $target == trace_fuzz ]]; then
  cp tests/data/formats/*.json tests/data/bad/*.json traces/synthetic/vgg16_b1.json "$corpus/" 2>/dev/null || true
fi
"$out/$target" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 "$corpus"
