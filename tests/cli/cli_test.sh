#!/usr/bin/env bash
# End-to-end checks of the cotenant CLI: good runs produce well-formed output;
# every kind of bad input gives exactly one line on stderr that names the file
# and field, a non-zero exit status, no crash, no hang, and no output file.
# Usage: cli_test.sh PATH/TO/cotenant SOURCE_DIR
set -u
bin=$1
src=$2
bad=$src/tests/data/bad
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$src" || exit 1
failures=0
checks=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# expect_error "expected substring" cotenant-args...
expect_error() {
  local want=$1
  shift
  checks=$((checks + 1))
  local out err rc
  out=$(timeout 60 "$bin" "$@" 2>"$work/stderr")
  rc=$?
  err=$(cat "$work/stderr")
  if [[ $rc -eq 0 ]]; then
    fail "cotenant $*: exit status 0, expected an error"
    return
  fi
  if [[ $rc -ge 124 ]]; then
    fail "cotenant $*: exit status $rc (crash or hang)"
    return
  fi
  if [[ $(printf '%s\n' "$err" | wc -l) -ne 1 ]]; then
    fail "cotenant $*: expected one line on stderr, got:"$'\n'"$err"
    return
  fi
  if [[ $err != "cotenant: error: "* ]]; then
    fail "cotenant $*: stderr does not start with 'cotenant: error: ': $err"
    return
  fi
  if [[ $err != *"$want"* ]]; then
    fail "cotenant $*: expected '$want' in: $err"
    return
  fi
}

# expect_ok cotenant-args...
expect_ok() {
  checks=$((checks + 1))
  if ! timeout 120 "$bin" "$@" >"$work/stdout" 2>"$work/stderr"; then
    fail "cotenant $*: failed: $(cat "$work/stderr")"
  fi
}

# Traces: each mistake through inspect and through simulate.
while IFS='|' read -r file want; do
  [[ -z $file ]] && continue
  expect_error "$want" inspect "$bad/$file"
  expect_error "$want" simulate "$bad/$file" --json "$work/out.json"
  [[ -e $work/out.json ]] && fail "simulate $file: wrote $work/out.json despite the error"
done <<'CASES'
malformed.json|malformed.json:3:69: malformed JSON: unexpected '}'
truncated.json|truncated.json:4:48: malformed JSON: unexpected end of input
wrong_type.json|wrong_type.json: tasks[1].dur_ns: expected a non-negative integer, found a string
unknown_key.json|unknown_key.json: tasks[0].strat_ns: unknown key; did you mean "start_ns"?
negative_dur.json|negative_dur.json: tasks[1].dur_ns: expected a non-negative integer, found -5
missing_field.json|missing_field.json: tasks[0].stream: missing required field
duplicate_id.json|duplicate_id.json: tasks[2].id: duplicate id 1 (also tasks[0])
dangling_event.json|dangling_event.json: tasks[0].event: dangling event 3
dangling_after.json|dangling_after.json: tasks[1].after[0]: dangling task id 42
cyclic.json|cyclic.json: dependency cycle: task 2 -> task 3 -> task 2
duplicate_correlation.json|duplicate_correlation.json: tasks[1].correlation: duplicate launch correlation 10
wrong_schema.json|wrong_schema.json: schema: expected "cotenant.trace/1", found "cotenant.trace/2"
corrupt.json.gz|corrupt.json.gz: corrupt gzip data
missing.json|missing.json: cannot open: No such file or directory
CASES

# Too large an input (the limit is lowered through the environment).
checks=$((checks + 1))
err=$(COTENANT_MAX_INPUT_BYTES=100 timeout 60 "$bin" inspect traces/synthetic/vgg16_b1.json 2>&1 >/dev/null)
[[ $? -ne 0 && $err == *"vgg16_b1.json: file too large"* ]] || fail "size limit: $err"

# A workload too large to simulate is refused before anything is allocated.
python3 - "$src" "$work/huge.json" <<'PY'
import json, os, sys
src, dst = os.path.abspath(sys.argv[1]), sys.argv[2]
d = json.load(open(src + "/configs/workloads/vision3.json"))
for t in d["tenants"]:
    t["requests"] = 30000000
    t["trace"] = src + "/configs/workloads/" + t["trace"]
    t.pop("traces_by_batch", None)
json.dump(d, open(dst, "w"))
PY
expect_error "huge.json: tenants: the workload has 23310000000 tasks" simulate --workload "$work/huge.json"

# Workloads and plans.
expect_error 'workload_duplicate_tenant.json: tenants[1].name: duplicate tenant name "resnet50"' \
  simulate --workload "$bad/workload_duplicate_tenant.json"
expect_error 'plan_unknown_tenant.json: tenants.bret: unknown tenant "bret"; did you mean "bert"?' \
  simulate --workload "$bad/plan_workload.json" --plan "$bad/plan_unknown_tenant.json"
expect_error 'plan_partition_too_big.json: tenants: SM partitions add up to 160 SMs' \
  simulate --workload "$bad/plan_workload.json" --plan "$bad/plan_partition_too_big.json"
expect_error 'plan_partition_not_multiple.json: tenants.resnet50.sm_count: expected a multiple of 8' \
  simulate --workload "$bad/plan_workload.json" --plan "$bad/plan_partition_not_multiple.json"
expect_error 'plan_group_missing.json: groups: tenant "vgg16" is in no group' \
  simulate --workload "$bad/plan_workload.json" --plan "$bad/plan_group_missing.json"

# A GPU spec that does not exist, an unknown model, a bad selector.
expect_error 'gpu spec "h99": no such GPU' simulate traces/synthetic/vgg16_b1.json --gpu h99
expect_error '--model: expected one of fluid, block, found "fluidd"; did you mean "fluid"?' \
  simulate traces/synthetic/vgg16_b1.json --model fluidd
expect_error 'nothing to simulate' simulate
expect_error 'found "resnet51"; did you mean "resnet50"?' synth --model resnet51 --batch 8 --gpu h100-sxm -o "$work/x.json"
[[ -e $work/x.json ]] && fail "synth wrote $work/x.json despite the error"

# Good runs: outputs are complete JSON, no temporary files are left behind.
expect_ok simulate --workload configs/workloads/vision_bert.json --plan native \
  --plan configs/plans/vision_bert_priority.json --json "$work/r.json" --timeline "$work/t.json"
for f in r-native.json r-vision_bert_priority.json t-native.json t-vision_bert_priority.json; do
  checks=$((checks + 1))
  python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$work/$f" 2>/dev/null ||
    fail "$f is not valid JSON"
done
checks=$((checks + 1))
grep -q '"schema": "cotenant.result/1"' "$work/r-native.json" || fail "result has no schema"
checks=$((checks + 1))
ls "$work" | grep -q '\.tmp' && fail "temporary files left: $(ls "$work")"
expect_ok simulate traces/synthetic/resnet50_b8.json traces/synthetic/bert-base_b1.json --model block
expect_ok inspect traces/synthetic/bert-base_b8.json --json
expect_ok whatif traces/synthetic/resnet50_b8.json traces/synthetic/vgg16_b8.json \
  --select name=gemm --scale 0.5 --json "$work/w.json"
expect_ok synth --model mobilenetv2 --batch 4 --gpu a100-sxm4-80g -o "$work/m.json.gz"
expect_ok inspect "$work/m.json.gz"

# Options that take a value never swallow the trace files after them.
expect_ok simulate --plan native traces/synthetic/vgg16_b1.json
expect_ok whatif --insert-after 4 --insert-dur 1000 --insert-grid 4,1 --insert-block 128 \
  traces/synthetic/vgg16_b1.json

# Same input, same output, byte for byte.
checks=$((checks + 1))
"$bin" simulate --workload configs/workloads/vision3.json --json "$work/a.json" >/dev/null &&
  "$bin" simulate --workload configs/workloads/vision3.json --json "$work/b.json" >/dev/null &&
  cmp -s "$work/a.json" "$work/b.json" || fail "two runs of the same simulation differ"

echo "cli_test: $checks checks, $failures failures"
[[ $failures -eq 0 ]]
