#!/usr/bin/env bash
# Profiler overhead: the wall time of ITERS ResNet-50 batch-8 inferences
# (timed inside the process, after 20 warm-up requests) run plainly and under
# `cotenant profile` (libcotenant_inject.so tracing everything), REPS times
# each, alternating; prints each run, the medians and the overhead.
# Needs a GPU, PyTorch and torchvision, and a build with CUPTI.
#   bench/profiler_overhead.sh [REPS (default 5)] [ITERS (default 200)] [MODEL] [BATCH]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
iters=${2:-200}
model=${3:-resnet50}
batch=${4:-8}
cotenant=${COTENANT:-build/cotenant}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run=(python3 tools/zoo/run_model.py --model "$model" --batch "$batch" --warmup 20
     --iters "$iters" --window none)
total_ms() { sed -n 's/.*: total \([0-9.]*\) ms for.*/\1/p' "$1"; }

plain=()
traced=()
for ((i = 1; i <= reps; i++)); do
  "${run[@]}" >"$tmp/plain.log" 2>&1 || { cat "$tmp/plain.log" >&2; exit 1; }
  plain+=("$(total_ms "$tmp/plain.log")")
  "$cotenant" profile -o "$tmp/t.json" -- "${run[@]}" >"$tmp/traced.log" 2>&1 ||
    { cat "$tmp/traced.log" >&2; exit 1; }
  traced+=("$(total_ms "$tmp/traced.log")")
  printf 'run %d: plain %s ms, under cotenant profile %s ms\n' "$i" "${plain[-1]}" "${traced[-1]}"
done
kernels=$(python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); print(sum(1 for x in t["tasks"] if x["kind"]=="kernel"))' "$tmp/t.json")
python3 - "$model" "$batch" "$iters" "$kernels" "${plain[*]}" "${traced[*]}" <<'PY'
import statistics, sys
model, batch, iters, kernels = sys.argv[1:5]
plain = [float(x) for x in sys.argv[5].split()]
traced = [float(x) for x in sys.argv[6].split()]
mp, mt = statistics.median(plain), statistics.median(traced)
print(f"{model} batch {batch}, {iters} inferences, median of {len(plain)} runs each: "
      f"plain {mp:.1f} ms, traced {mt:.1f} ms ({kernels} kernels traced in the last run), "
      f"overhead {100 * (mt / mp - 1):+.2f}%")
PY
