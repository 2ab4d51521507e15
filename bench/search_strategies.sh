#!/usr/bin/env bash
# Strategies on equal budgets: for every bundled workload, each strategy runs
# with the same budget in simulations and seeds 1..SEEDS (2 threads), and the
# best objective found is tabulated (and the best-so-far at 25%, 50% of the
# budget), so which strategy wins where can be read off.
#   bench/search_strategies.sh [BUDGET (default 400)] [SEEDS (default 3)] [WORKLOADS...]
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-400}
seeds=${2:-3}
shift $(($# > 2 ? 2 : $#))
workloads=("$@")
((${#workloads[@]})) || workloads=(vision3 vision_bert mix4)
cotenant=${COTENANT:-build/cotenant}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for w in "${workloads[@]}"; do
  for s in random greedy anneal genetic surrogate auto; do
    for ((seed = 1; seed <= seeds; seed++)); do
      "$cotenant" search -w "configs/workloads/$w.json" --strategy "$s" --budget "$budget" -j2 \
        --seed "$seed" --json "$tmp/$w-$s-$seed.json" >/dev/null
    done
  done
done
python3 - "$tmp" "$budget" "$seeds" "${workloads[@]}" <<'PY'
import json, os, sys
tmp, budget, seeds, workloads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
strategies = ["random", "greedy", "anneal", "genetic", "surrogate", "auto"]


def value(obj, tie, objective):
    """An objective value as people read it: ms for times, misses (then makespan) for slo."""
    if objective == "slo":
        return f"{obj:g} ({tie / 1e6:.2f} ms)"
    if objective == "throughput":
        return f"{obj:.1f}/s"
    return f"{obj / 1e6:.3f} ms"


def at(curve, n):
    best = None
    for p in curve:
        if p["evaluation"] <= n:
            best = (p["objective"], p.get("tie", 0))
    return best


for w in workloads:
    reps = {s: [json.load(open(os.path.join(tmp, f"{w}-{s}-{k}.json"))) for k in range(1, seeds + 1)]
            for s in strategies}
    r0 = reps["random"][0]
    o = r0["objective"]
    native = next(b for b in r0["baselines"] if b["name"] == "native")
    nat = value(native["objective"], native["result"]["makespan_ns"], o)
    print(f"\n{w}: objective {o}, native plan {nat}; best found after {budget // 4}, "
          f"{budget // 2} and {budget} simulations, seeds 1..{seeds}")
    print(f"| strategy | after {budget // 4} | after {budget // 2} | after {budget} |")
    print("|---|---|---|---|")
    for s in strategies:
        cells = []
        for n in (budget // 4, budget // 2, budget):
            pts = [at(r["curve"], n) for r in reps[s]]
            cells.append(" / ".join("-" if p is None else value(p[0], p[1], o) for p in pts))
        print(f"| {s} | " + " | ".join(cells) + " |")
PY
