#!/usr/bin/env bash
# `auto` with a 10-second budget against exhaustive search, on a space of
# each bundled workload small enough to enumerate (but too large for auto to
# enumerate in 10 s): prints the space, the exhaustive optimum and its time,
# auto's best and its gap to the optimum. 2 threads, seed 1.
#   bench/auto_vs_exhaustive.sh [SECONDS (default 10)]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
cotenant=${COTENANT:-build/cotenant}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# workload | knobs | SM step
cases=("vision3|priority,sm,split|32" "vision_bert|priority,sm,split|32" "mix4|priority,sm|32")
for c in "${cases[@]}"; do
  IFS='|' read -r w knobs step <<<"$c"
  args=(-w "configs/workloads/$w.json" --knobs "$knobs" --sm-step "$step" -j2 --seed 1)
  "$cotenant" search "${args[@]}" --strategy exhaustive --budget 100000000 --json "$tmp/$w-ex.json" >/dev/null
  "$cotenant" search "${args[@]}" --strategy auto --time "$seconds" --json "$tmp/$w-auto.json" >/dev/null
done
python3 - "$tmp" "$seconds" "${cases[@]}" <<'PY'
import json, sys
tmp, seconds, cases = sys.argv[1], sys.argv[2], sys.argv[3:]
print(f"| workload | space (knobs, SM step) | plans | exhaustive: best, simulations, s | auto {seconds} s: strategy, best, simulations | gap |")
print("|---|---|---:|---|---|---:|")
def show(r):
    o, b = r["objective"], r["best"]
    if o == "slo":
        return f'{b["objective"]:g} misses ({b["result"]["makespan_ns"] / 1e6:.3f} ms)'
    return f'{b["objective"] / 1e6:.3f} ms' if o != "throughput" else f'{b["objective"]:.2f}/s'
for c in cases:
    w, knobs, step = c.split("|")
    ex = json.load(open(f"{tmp}/{w}-ex.json"))
    au = json.load(open(f"{tmp}/{w}-auto.json"))
    a, e = au["best"]["objective"], ex["best"]["objective"]
    if ex["objective"] == "slo" and a == e:
        a, e = au["best"]["result"]["makespan_ns"], ex["best"]["result"]["makespan_ns"]
    gap = (a / e - 1) * 100 if ex["objective"] != "throughput" else (e / a - 1) * 100
    print(f'| {w} | {knobs}, {step} | {ex["space"]["size"]:,} | {show(ex)}, {ex["evaluations"]:,}, '
          f'{ex["seconds"]:.1f} | {au["strategy"]}, {show(au)}, {au["evaluations"]:,} | {gap:+.2f}% |')
PY
