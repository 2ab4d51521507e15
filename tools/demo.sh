#!/usr/bin/env bash
# The main job on bundled data: sets up (installing missing Debian packages),
# builds cotenant, then searches the schedule space of the three bundled
# multi-tenant vision/BERT workloads and of an LLM served beside a vision job,
# and prints, for each, the baselines against the best plan found and that
# plan in words; serves an LLM alone; and checks the model against measured
# A100 pairs. Plans, reports, timelines and plots (tools/plot.py) go to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh cotenant >/dev/null
mkdir -p out
cotenant=build/cotenant
# A fixed budget and thread count: the same output on every machine.
budget=${COTENANT_DEMO_BUDGET:-400}
llm_budget=${COTENANT_DEMO_LLM_BUDGET:-60}
threads=2

echo "cotenant demo: schedule search on the bundled workloads (configs/workloads/),"
echo "predicted with the fluid model on synthetic H100 traces (traces/synthetic/README.md)."
echo "Each search: $budget simulations, $threads threads, seed 1, strategy auto."

describe() {
  case "$1" in
    vision3) echo "ResNet-50, MobileNetV2 and VGG-16 at batch 32, 20 closed-loop requests each; objective makespan" ;;
    vision_bert) echo "BERT batch 8 (Poisson 150 req/s, SLO 5 ms, weight 4) with ResNet-50 and VGG-16 batch jobs; objective SLO misses" ;;
    mix4) echo "ResNet-50, MobileNetV2, VGG-16 and BERT (periodic, SLO 3 ms); objective makespan" ;;
  esac
}

for w in vision3 vision_bert mix4; do
  echo
  echo "=== $w: $(describe "$w")"
  "$cotenant" search --workload "configs/workloads/$w.json" --budget "$budget" \
    --threads "$threads" --seed 1 -o "out/$w-best-plan.json" --json "out/$w-search.json" \
    --timeline "out/$w-best-timeline.json" --curve "out/$w-curve.csv"
  # The native plan's timeline, for the Gantt chart of native against best.
  "$cotenant" simulate --workload "configs/workloads/$w.json" --plan native \
    --timeline "out/$w-native-timeline.json" >/dev/null
  tools/plot.py "out/$w-search.json" --timeline "native=out/$w-native-timeline.json" \
    --timeline "best=out/$w-best-timeline.json" -o "out/$w-plots"
done

echo
echo "=== llm_chat: Llama-3.1-8B (bf16) serving 200 chat requests, Poisson 4 req/s, alone on an"
echo "H100 (vLLM-style continuous batching, chunked prefill; synthetic iteration costs):"
"$cotenant" simulate --workload configs/workloads/llm_chat.json --json out/llm_chat-result.json \
  --timeline out/llm_chat-timeline.json

echo
echo "=== llm_vision: the same model serving 120 requests (Poisson 6 req/s, TTFT 200 ms, TPOT"
echo "12 ms) beside a ResNet-50 batch-32 job every 25 ms (SLO 10 ms) on one H100; objective SLO"
echo "misses. Search over priorities, SM partitions, token budget and prefill/decode"
echo "multiplexing ($llm_budget simulations, each a fixed point of serving loop and task graph):"
"$cotenant" search --workload configs/workloads/llm_vision.json --budget "$llm_budget" \
  --threads "$threads" --seed 1 -o out/llm_vision-best-plan.json --json out/llm_vision-search.json \
  --timeline out/llm_vision-best-timeline.json

echo
echo "=== fleet: 8 models (vision, BERT, one Llama-3.2-1B chat) with their rates and SLOs on"
echo "4 A100s and 4 H100s: which share which GPU, against one per GPU and bin packing:"
"$cotenant" fleet configs/fleets/mixed8.json --threads "$threads" --json out/fleet-mixed8.json \
  --no-models
tools/plot.py out/fleet-mixed8.json -o out/fleet-mixed8-plots

echo
echo "=== How far to trust a prediction: the model against 624 measured A100 pairs"
echo "(configs/measured/abacus-a100/, docs/VALIDATION.md), calibrated on the table, no GPU:"
"$cotenant" calibrate --measured configs/measured/abacus-a100/pairs.csv \
  --framework pytorch-1.8-eager -o out/abacus-a100-calibration.json >/dev/null
"$cotenant" validate --measured configs/measured/abacus-a100/pairs.csv \
  --calibration out/abacus-a100-calibration.json --summary-only \
  --json out/abacus-a100-validation.json
echo "(held out, 7-fold over model combinations: cotenant validate --measured ... --kfold 7)"

echo
echo "Files in out/: <workload>-best-plan.json (cotenant.plan/1: simulate or replay it),"
echo "<workload>-search.json (cotenant.search/1 report), <workload>-best-timeline.json (open in"
echo "https://ui.perfetto.dev; so is <workload>-native-timeline.json), <workload>-curve.csv"
echo "(best-so-far per simulation), <workload>-plots/ (curve.png, gantt.png),"
echo "abacus-a100-calibration.json (cotenant.model-calibration/1: --calibration of simulate,"
echo "search, whatif), abacus-a100-validation.json (cotenant.table-validation/1),"
echo "llm_chat-result.json (cotenant.result/1 with TTFT/TPOT), llm_chat-timeline.json (Perfetto),"
echo "fleet-mixed8.json (cotenant.fleet-result/1), fleet-mixed8-plots/fleet.png,"
echo "llm_vision-best-plan.json, llm_vision-search.json, llm_vision-best-timeline.json."
