#!/usr/bin/env bash
# fluid against block on the bundled workloads (requests capped at 4 per
# tenant so that block finishes in seconds): makespan and per-tenant mean
# latency under the native plan, with the relative difference.
#   bench/fluid_vs_block.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf "%-12s %-14s %12s %12s %8s\n" workload metric fluid block diff
for w in configs/workloads/*.json; do
  name=$(basename "$w" .json)
  grep -q '"kind": "llm"' "$w" && continue  # served LLM tenants have no contention model
  python3 - "$w" "$tmp/$name.json" <<'PY'
import json, os, sys
src, dst = sys.argv[1], sys.argv[2]
d = json.load(open(src))
base = os.path.dirname(os.path.abspath(src))
for t in d["tenants"]:
    t["requests"] = min(t["requests"], 4)
    t["trace"] = os.path.join(base, t["trace"])
    t["traces_by_batch"] = {k: os.path.join(base, v) for k, v in t.get("traces_by_batch", {}).items()}
json.dump(d, open(dst, "w"))
PY
  for m in fluid block; do build/cotenant simulate --workload "$tmp/$name.json" --model $m --json "$tmp/$name-$m.out"; done >/dev/null
  python3 - "$name" "$tmp/$name-fluid.out" "$tmp/$name-block.out" <<'PY'
import json, sys
name, f, b = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
rows = [("makespan", f["makespan_ns"], b["makespan_ns"])]
rows += [(t + " mean", f["tenants"][t]["latency_ns"]["mean"], b["tenants"][t]["latency_ns"]["mean"]) for t in f["tenants"]]
for metric, x, y in rows:
    print(f"{name:12s} {metric:14s} {x/1e6:9.3f} ms {y/1e6:9.3f} ms {100*(x-y)/y:+7.1f}%")
PY
done
