#!/usr/bin/env bash
# Reproduces the "Nsight Systems import" section of docs/BENCHMARKS.md:
# `cotenant import nsys` against `cotenant import kineto` on the same work
# (bench/gen_nsys.py and bench/gen_kineto.py: STEPS iterations of 1,000
# operators, one kernel each), end to end, with peak memory. Run from the
# repository root after building the cotenant target.
#   bench/nsys_import.sh [STEPS] [REPEATS]
# 100 steps = 100,000 kernels (14 MB of SQLite, 80 MB of JSON); 1000 = 1M.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-100}
repeats=${2:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), load: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/gen_nsys.py "$steps" 1000 "$tmp/n.sqlite"
python3 bench/gen_kineto.py "$steps" 1000 "$tmp/k.json"
run() {  # run FORMAT INPUT OUTPUT
  local best_s=999999 best_cpu=999999 peak_kb=0
  for _ in $(seq "$repeats"); do
    /usr/bin/time -v build/cotenant import "$1" "$2" -o "$3" >/dev/null 2>"$tmp/time"
    local s cpu kb
    s=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time" |
        awk -F: '{print ($1 * 60) + $2}')
    cpu=$(awk -F': ' '/User time|System time/ {t += $2} END {print t}' "$tmp/time")
    kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time")
    best_s=$(awk -v a="$best_s" -v b="$s" 'BEGIN {print (b < a) ? b : a}')
    best_cpu=$(awk -v a="$best_cpu" -v b="$cpu" 'BEGIN {print (b < a) ? b : a}')
    peak_kb=$((kb > peak_kb ? kb : peak_kb))
  done
  awk -v n="$1" -v in_mb="$(stat -c %s "$2")" -v s="$best_s" -v c="$best_cpu" -v kb="$peak_kb" \
    -v out="$(stat -c %s "$3")" -v k="$((steps * 1000))" \
    'BEGIN {printf "  %-6s input %6.1f MB   wall %6.2f s   cpu %6.2f s   %5.0f k kernels/s (cpu)   peak RSS %6.1f MB   trace written %6.1f MB\n",
            n, in_mb / 1e6, s, c, k / c / 1000, kb * 1024 / 1e6, out / 1e6}'
}
echo "== cotenant import, $((steps * 1000)) kernels (best wall and cpu (user+sys) of $repeats, largest peak RSS; /usr/bin/time -v)"
run nsys "$tmp/n.sqlite" "$tmp/n.out.json"
run kineto "$tmp/k.json" "$tmp/k.out.json"
