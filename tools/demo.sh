#!/usr/bin/env bash
# The main job on bundled data: sets up (installing missing Debian packages),
# builds cotenant, then predicts a latency-critical BERT tenant co-located
# with two batch vision models, under the native multi-stream plan and under
# a hand-written plan that gives BERT's stream the higher priority, side by
# side, and writes Perfetto timelines of both to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh cotenant >/dev/null
mkdir -p out
cotenant=build/cotenant
workload=configs/workloads/vision_bert.json
plan=configs/plans/vision_bert_priority.json

echo "cotenant demo: $workload (synthetic traces, see traces/synthetic/README.md)"
echo "  bert      batch 8, Poisson arrivals at 150 req/s, SLO 5 ms (latency-critical)"
echo "  resnet50  batch 32, closed loop;  vgg16  batch 32, closed loop"
echo "  plans: native multi-stream (one stream per tenant, equal priority)"
echo "         $plan (bert's stream at priority -1)"
echo
"$cotenant" simulate --workload "$workload" --plan native --plan "$plan" \
  --timeline out/vision_bert.json --json out/vision_bert-result.json
echo
python3 - out/vision_bert-result-native.json out/vision_bert-result-vision_bert_priority.json <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
ta, tb = a["tenants"], b["tenants"]
n = ta["bert"]["requests"]
print(f"In words: raising bert's stream priority cuts its SLO misses from "
      f"{ta['bert']['slo_violations']}/{n} to {tb['bert']['slo_violations']}/{n} and its p99 "
      f"latency from {ta['bert']['latency_ns']['p99'] / 1e6:.1f} ms to "
      f"{tb['bert']['latency_ns']['p99'] / 1e6:.1f} ms;")
others = [t for t in ta if t != "bert"]
changes = ", ".join(f"{t} {100 * (tb[t]['latency_ns']['mean'] / ta[t]['latency_ns']['mean'] - 1):+.1f}%"
                    for t in others)
print(f"the batch tenants pay in mean latency: {changes} (predicted, synthetic traces).")
PY
echo
echo "results: out/vision_bert-result-native.json, out/vision_bert-result-vision_bert_priority.json"
echo "open out/vision_bert-native.json and out/vision_bert-vision_bert_priority.json in https://ui.perfetto.dev"
