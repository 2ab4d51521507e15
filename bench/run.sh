#!/usr/bin/env bash
# Reproduces docs/BENCHMARKS.md: simulation speed and memory (fluid, block),
# and trace loading speed. Run from the repository root after tools/setup.sh.
#   bench/run.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
echo "== fluid, 8 tenants (4 synthetic models x batch 8/32), closed-loop requests ($repeats runs)"
for i in $(seq "$repeats"); do build/sim_bench 10000 100000 1000000 | tail -n +$([[ $i -eq 1 ]] && echo 1 || echo 2); done
echo "== fluid, 8 random 2-stream traces x 10 requests (12,500-kernel requests at 1M: cache stress)"
for i in $(seq "$repeats"); do build/sim_bench --mix random 10000 100000 1000000 | tail -n +$([[ $i -eq 1 ]] && echo 1 || echo 2); done
echo "== block, same inputs (slow: 10k and 100k only)"
build/sim_bench --model block 10000 100000
build/sim_bench --model block --mix random 10000 100000
echo "== trace loading"
build/cotenant synth --random --kernels 1000000 --streams 2 --seed 1 --gpu h100-sxm -o "$tmp/random_1m.json"
build/cotenant synth --random --kernels 100000 --streams 2 --seed 1 --gpu h100-sxm -o "$tmp/random_100k.json.gz"
for i in $(seq 3); do build/load_bench "$tmp/random_1m.json" "$tmp/random_100k.json.gz" | tail -n +$([[ $i -eq 1 ]] && echo 1 || echo 2); done
