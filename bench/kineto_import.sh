#!/usr/bin/env bash
# Reproduces the "Kineto import" section of docs/BENCHMARKS.md: speed of the
# importer against nlohmann's plain parse of the same file (build/kineto_bench),
# then `cotenant import kineto` end to end with its peak memory against the
# size of the trace it writes. Run from the repository root after building
# the cotenant and kineto_bench targets.
#   bench/kineto_import.sh [STEPS] [REPEATS]
# STEPS iterations of 1,000 operators (gen_kineto.py; 100 = 80 MB of JSON).
# OLD=path/to/an/older/cotenant adds its time and memory, and checks that
# both write the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-100}
repeats=${2:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), load: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 bench/gen_kineto.py "$steps" 1000 "$tmp/k.json"
gzip -k -6 "$tmp/k.json"
echo "== parse and import speed (build/kineto_bench, best of $repeats)"
build/kineto_bench --repeats "$repeats" "$tmp/k.json"
mb=$(stat -c %s "$tmp/k.json")
run() {  # run NAME BINARY INPUT OUTPUT
  local best_s=999999 best_cpu=999999 peak_kb=0
  for _ in $(seq "$repeats"); do
    /usr/bin/time -v "$2" import kineto "$3" -o "$4" >/dev/null 2>"$tmp/time"
    local s cpu kb
    s=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time" |
        awk -F: '{print ($1 * 60) + $2}')
    cpu=$(awk -F': ' '/User time|System time/ {t += $2} END {print t}' "$tmp/time")
    kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time")
    best_s=$(awk -v a="$best_s" -v b="$s" 'BEGIN {print (b < a) ? b : a}')
    best_cpu=$(awk -v a="$best_cpu" -v b="$cpu" 'BEGIN {print (b < a) ? b : a}')
    peak_kb=$((kb > peak_kb ? kb : peak_kb))
  done
  local out
  out=$(stat -c %s "$4")
  # MB = 10^6 bytes; %M of time is KiB.
  awk -v n="$1" -v f="$(basename "$3")" -v s="$best_s" -v c="$best_cpu" -v kb="$peak_kb" \
    -v out="$out" -v mb="$mb" \
    'BEGIN {printf "  %-4s %-10s wall %5.2f s %6.1f MB/s   cpu %5.2f s %6.1f MB/s   peak RSS %6.1f MB   trace written %5.1f MB   ratio %.2f\n",
            n, f, s, mb / 1e6 / s, c, mb / 1e6 / c, kb * 1024 / 1e6, out / 1e6, kb * 1024 / out}'
}
echo "== cotenant import kineto (whole run; best wall and cpu (user+sys) time, largest peak RSS of $repeats; /usr/bin/time -v)"
for f in k.json k.json.gz; do
  run new build/cotenant "$tmp/$f" "$tmp/new_$f.out.json"
  if [[ -n ${OLD:-} ]]; then
    run old "$OLD" "$tmp/$f" "$tmp/old_$f.out.json"
    cmp "$tmp/new_$f.out.json" "$tmp/old_$f.out.json" && echo "  $f: same bytes written"
  fi
done
