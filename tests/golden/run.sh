#!/usr/bin/env bash
# Golden results: the bundled workloads' predictions and searched plans,
# pinned. Runs cotenant on each case, drops the fields that measure this
# machine (wall-clock seconds, evaluations per second), and compares with the
# files in tests/golden/expected/ byte for byte.
#
#   tests/golden/run.sh COTENANT SOURCE_DIR            compare (CTest: golden_test)
#   tests/golden/run.sh COTENANT SOURCE_DIR --update   rewrite expected/
#
# A change that moves a prediction updates expected/ in the same commit and
# says why in the commit message.
set -euo pipefail
cotenant=$1
src=$2
update=${3:-}
expected="$src/tests/golden/expected"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$src"

# name | cotenant arguments (the result goes to --json $work/<name>.raw.json)
cases=(
  "simulate-vision3-native|simulate --workload configs/workloads/vision3.json --plan native"
  "simulate-vision3-partition|simulate --workload configs/workloads/vision3.json --plan configs/plans/vision3_partition.json"
  "simulate-vision3-native-block|simulate --workload configs/workloads/vision3.json --plan native --model block"
  "simulate-vision_bert-native|simulate --workload configs/workloads/vision_bert.json --plan native"
  "simulate-vision_bert-priority|simulate --workload configs/workloads/vision_bert.json --plan configs/plans/vision_bert_priority.json"
  "simulate-mix4-native|simulate --workload configs/workloads/mix4.json --plan native"
  "simulate-llm_chat-native|simulate --workload configs/workloads/llm_chat.json --plan native"
  "simulate-llm_vision-native|simulate --workload configs/workloads/llm_vision.json --plan native"
  "simulate-llm_vision-pd|simulate --workload configs/workloads/llm_vision.json --plan configs/plans/llm_vision_pd.json"
  "search-vision3|search --workload configs/workloads/vision3.json --budget 400 --threads 2 --seed 1"
  "search-vision_bert|search --workload configs/workloads/vision_bert.json --budget 400 --threads 2 --seed 1"
  "search-mix4|search --workload configs/workloads/mix4.json --budget 400 --threads 2 --seed 1"
)

# Sorted keys, one value per line (readable diffs), machine-dependent fields out.
normalise() {
  python3 - "$1" "$2" <<'PY'
import json, sys
VOLATILE = {"seconds", "evaluations_per_second"}
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in VOLATILE}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v
with open(sys.argv[1]) as f:
    doc = strip(json.load(f))
with open(sys.argv[2], "w") as f:
    json.dump(doc, f, indent=1, sort_keys=True)
    f.write("\n")
PY
}

failed=0
for c in "${cases[@]}"; do
  name=${c%%|*}
  read -r -a args <<<"${c#*|}"
  if ! "$cotenant" "${args[@]}" --json "$work/$name.raw.json" >"$work/$name.log" 2>&1; then
    echo "golden: $name: cotenant ${args[*]} failed:"
    cat "$work/$name.log"
    failed=1
    continue
  fi
  normalise "$work/$name.raw.json" "$work/$name.json"
  if [[ $update == --update ]]; then
    mkdir -p "$expected"
    cp "$work/$name.json" "$expected/$name.json"
    echo "golden: $name: written"
  elif [[ ! -f $expected/$name.json ]]; then
    echo "golden: $name: no expected file $expected/$name.json (run with --update)"
    failed=1
  elif ! diff -u "$expected/$name.json" "$work/$name.json" >"$work/$name.diff"; then
    echo "golden: $name: the prediction moved (cotenant ${args[*]}):"
    head -n 60 "$work/$name.diff"
    failed=1
  else
    echo "golden: $name: same"
  fi
done
if ((failed)); then
  echo "golden: some results differ. If the change is meant, run"
  echo "  tests/golden/run.sh build/cotenant . --update"
  echo "and commit tests/golden/expected/ with the change, saying why the predictions moved."
  exit 1
fi
