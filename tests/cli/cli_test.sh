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
expect_error 'dtype: expected one of "fp16", "bf16", "fp32", "fp8", found "fp4"' \
  synth --model resnet50 --dtype fp4 --gpu h100-sxm -o "$work/x.json"
expect_error 'dtype: fp8 applies to LLM models, not resnet50' \
  synth --model resnet50 --dtype fp8 --gpu h100-sxm -o "$work/x.json"
expect_error 'framework: expected one of "pytorch-eager", "pytorch-1.8-eager", "vllm", found "pytorch-eagr"; did you mean "pytorch-eager"?' \
  synth --model resnet50 --framework pytorch-eagr --gpu h100-sxm -o "$work/x.json"
expect_error 'seq: applies to bert-base and bert-base-full, not vgg16, found 32' \
  synth --model vgg16 --seq 32 --gpu h100-sxm -o "$work/x.json"
expect_error 'seq: expected an integer in 1..512 (0 = 128), found 600' \
  synth --model bert-base --seq 600 --gpu h100-sxm -o "$work/x.json"
expect_error '--batch/--seq/--phase/--dtype/--framework/--library: apply to --model, not --random' \
  synth --random --kernels 10 --dtype fp32 -o "$work/x.json"
[[ -e $work/x.json ]] && fail "synth wrote $work/x.json despite the error"
# LLM models: --phase and --seq, the context window, fp8 only from compute capability 8.9.
expect_error 'phase: expected one of "prefill", "decode" for llama-3.1-8b, found none' \
  synth --model llama-3.1-8b --seq 128 -o "$work/x.json"
expect_error "seq: expected an integer in 1..131072 (llama-3.1-8b's context window" \
  synth --model llama-3.1-8b --phase decode --seq 200000 -o "$work/x.json"
expect_error 'phase: applies to LLM models (' \
  synth --model bert-base --phase prefill -o "$work/x.json"
expect_error 'dtype: fp8 needs compute capability 8.9 or newer, found 8.0 (gpu a100-sxm4-80g)' \
  synth --model llama-3.1-8b --phase decode --seq 128 --dtype fp8 --gpu a100-sxm4-80g -o "$work/x.json"
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
# An llm tenant served alone: the table, the result's llm object, and one-line errors.
expect_ok simulate --workload configs/workloads/llm_chat.json --json "$work/llm.json"
checks=$((checks + 1))
grep -q '^TTFT (SLO 500.0 ms)' "$work/stdout" || fail "simulate llm: no TTFT row in: $(cat "$work/stdout")"
checks=$((checks + 1))
python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))['tenants']['chat']['llm']
assert r['requests'] == 200 and r['kv_cache']['capacity_tokens'] == 450673, r
assert 0 < r['ttft_ns']['p50'] <= r['ttft_ns']['p90'] <= r['ttft_ns']['p99'], r
assert 0 < r['tpot_ns']['p50'] <= r['tpot_ns']['p99'] and r['tokens_per_s'] > 0, r
" "$work/llm.json" || fail "simulate llm: bad result JSON"
expect_ok simulate --workload configs/workloads/llm_chat.json --timeline "$work/llm_t.json"
checks=$((checks + 1))
python3 -c "
import json, sys
ev = json.load(open(sys.argv[1]))['traceEvents']
names = {e['args']['name'] for e in ev if e['ph'] == 'M' and e['name'] == 'thread_name'}
assert names == {'prefill', 'decode'}, names
assert any(e['ph'] == 'X' and e['tid'] == 2 for e in ev)
" "$work/llm_t.json" || fail "simulate llm: bad timeline"
python3 - "$work" <<'PY'
import json, sys
w = json.load(open("configs/workloads/llm_chat.json"))
def put(name, f):
    j = json.loads(json.dumps(w)); f(j["tenants"][0]); j["tenants"] += j.pop("extra", [])
    json.dump(j, open(sys.argv[1] + "/" + name, "w"))
put("llm_model.json", lambda t: t.update(model="llama-3.1-8"))
put("llm_context.json", lambda t: t.update(prompt_tokens={"kind": "fixed", "value": 200000}))
put("llm_kv.json", lambda t: t["serving"].update(gpu_memory_utilization=0.2))
put("llm_dist.json", lambda t: t.update(output_tokens={"kind": "uniform", "min": 10}))
j = json.loads(json.dumps(w)); j["tenants"].append({"name": "cnn", "trace": "x.json"})
json.dump(j, open(sys.argv[1] + "/llm_mix.json", "w"))
PY
expect_error 'llm_model.json: tenants[0].model: expected one of' simulate --workload "$work/llm_model.json"
expect_error "tenants[0].prompt_tokens: request 0 has 200000 prompt tokens, above llama-3.1-8b's context window" \
  simulate --workload "$work/llm_context.json"
expect_error 'llm_kv.json: tenants[0]: the KV cache cannot hold one request' simulate --workload "$work/llm_kv.json"
expect_error 'llm_dist.json: tenants[0].output_tokens.max: missing required field' \
  simulate --workload "$work/llm_dist.json"
expect_error 'x.json' simulate --workload "$work/llm_mix.json"
expect_error 'tenants[0]: whatif does not run llm tenants (simulate and search do)' \
  whatif --workload configs/workloads/llm_chat.json --swap-gpu a100-sxm4-80g
# An llm tenant beside a trace tenant: both in the table, the fixed point in the JSON,
# one timeline process per tenant (two for a multiplexed llm tenant), and the checks.
expect_ok simulate --workload configs/workloads/llm_vision.json --json "$work/lv.json" \
  --timeline "$work/lv_t.json"
checks=$((checks + 1))
grep -q '^resnet50 ' "$work/stdout" && grep -q '^chat ' "$work/stdout" &&
  grep -q '^slowdown beside others' "$work/stdout" ||
  fail "simulate llm_vision: missing rows in: $(cat "$work/stdout")"
cat > "$work/lv_pd.json" <<'PLAN'
{"schema": "cotenant.plan/1", "tenants": {"chat": {"prefill_sm_count": 64, "decode_sm_count": 64,
 "max_num_batched_tokens": 2048}, "resnet50": {"priority": -1}}}
PLAN
expect_ok simulate --workload configs/workloads/llm_vision.json --plan "$work/lv_pd.json" \
  --json "$work/lv_pd_r.json" --timeline "$work/lv_pd_t.json"
checks=$((checks + 1))
python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))['tenants']
c = r['chat']['llm']
assert c['fixed_point']['rounds'] >= 1 and c['fixed_point']['converged'], c['fixed_point']
assert c['fixed_point']['mean_stretch'] >= 1.0, c['fixed_point']
assert c['generated_tokens'] > 0 and r['chat']['requests'] == 120, c
assert r['resnet50']['requests'] == 800 and r['resnet50']['latency_ns']['p99'] > 0, r['resnet50']
p = json.load(open(sys.argv[2]))['tenants']['chat']['llm']['serving']
assert p['multiplexed'] and p['prefill_sm_count'] == 64 and p['max_num_batched_tokens'] == 2048, p
names = lambda f: {e['args']['name'] for e in json.load(open(f))['traceEvents'] if e['name'] == 'process_name'}
assert names(sys.argv[3]) == {'tenant resnet50', 'tenant chat'}, names(sys.argv[3])
assert names(sys.argv[4]) == {'tenant resnet50', 'tenant chat prefill', 'tenant chat decode'}, names(sys.argv[4])
" "$work/lv.json" "$work/lv_pd_r.json" "$work/lv_t.json" "$work/lv_pd_t.json" ||
  fail "simulate llm_vision: bad result or timeline"
echo '{"schema": "cotenant.plan/1", "tenants": {"resnet50": {"chunked_prefill": false}}}' >"$work/lv_bad.json"
expect_error 'lv_bad.json: tenants.resnet50.chunked_prefill: only llm tenants have this knob' \
  simulate --workload configs/workloads/llm_vision.json --plan "$work/lv_bad.json"
echo '{"schema": "cotenant.plan/1", "tenants": {"chat": {"prefill_sm_count": 64}}}' >"$work/lv_bad2.json"
expect_error 'lv_bad2.json: tenants.chat.decode_sm_count: expected an SM count beside prefill_sm_count' \
  simulate --workload configs/workloads/llm_vision.json --plan "$work/lv_bad2.json"
python3 - "$work" <<'PY'
import json, sys
w = json.load(open("configs/workloads/llm_vision.json"))
w["tenants"][0]["serving"]["gpu_memory_utilization"] = 0.97
w["tenants"][1]["trace"] = "../../traces/synthetic/resnet50_b32.json"
json.dump(w, open(sys.argv[1] + "/lv_mem.json", "w"))
PY
sed -i "s#\.\./\.\./traces#$PWD/traces#" "$work/lv_mem.json"
expect_error "lv_mem.json: tenants[0].serving.gpu_memory_utilization: the llm tenants' shares of h100-sxm's memory" \
  simulate --workload "$work/lv_mem.json"
expect_ok inspect traces/synthetic/bert-base_b8.json --json
# inspect --json on a bundled trace: pinned numbers (bert-base, batch 8, one
# stream: GPU busy equals GPU time) and the sums that must hold between them.
checks=$((checks + 1))
python3 - "$work/stdout" <<'PY' || fail "inspect --json: numbers moved or do not add up"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "cotenant.inspect/1" and d["tenant"] == "bert-base", d["tenant"]
t, g = d["tasks"], d["gpu"]
assert t["total"] == 477 and sum(t["by_kind"].values()) == 477, t
assert (t["by_kind"]["kernel"], t["by_kind"]["launch"], t["by_kind"]["memcpy"], t["by_kind"]["sync"]) == (236, 238, 2, 1), t
assert (g["kernel_time_ns"], g["gpu_time_ns"], g["busy_ns"]) == (1068546, 1068919, 1068919), g
assert (g["first_start_ns"], g["last_end_ns"], g["span_ns"]) == (8777, 2499910, 2491133), g
assert g["busy_fraction"] == g["busy_ns"] / g["span_ns"], g
assert [(s["id"], s["kernels"], s["gpu_tasks"], s["gpu_time_ns"]) for s in d["streams"]] == [(7, 236, 238, 1068919)]
assert [(h["id"], h["tasks"], h["launches"], h["busy_ns"], h["span_ns"]) for h in d["threads"]] == [(1, 239, 238, 1073253, 2505316)]
ops = d["operators"]
assert ops["distinct"] == 11 and len(ops["top"]) == 10, ops["distinct"]
assert (ops["top"][0]["operator"], ops["top"][0]["kernels"], ops["top"][0]["time_ns"]) == ("aten::linear", 73, 439490)
occ = d["occupancy"]
assert occ["gpu"] == "h100-sxm" and occ["sm_count"] == 132, occ["gpu"]
waves = {w["bucket"]: w["kernels"] for w in occ["waves"] if w["kernels"]}
assert waves == {"<1 wave, 0-25% of slots": 2, "<1 wave, 25-50% of slots": 98,
                 "<1 wave, 50-75% of slots": 112, "2-4 waves": 24}, waves
assert sum(w["time_ns"] for w in occ["waves"]) == g["kernel_time_ns"]
assert [(l["limiter"], l["kernels"], l["time_ns"]) for l in occ["limiters"]] == [("registers", 97, 543842), ("threads", 139, 524704)]
PY
expect_ok whatif traces/synthetic/resnet50_b8.json traces/synthetic/vgg16_b8.json \
  --select name=gemm --scale 0.5 --json "$work/w.json"
expect_ok synth --model mobilenetv2 --batch 4 --gpu a100-sxm4-80g -o "$work/m.json.gz"
expect_ok synth --model bert-base --batch 4 --seq 32 --dtype bf16 --framework pytorch-1.8-eager \
  --gpu a100-sxm4-80g -o "$work/b.json"
expect_ok synth --model inception_v3 --batch 2 --dtype fp32 --library cudnn9-cublas12 \
  --gpu h100-sxm -o "$work/i.json"
checks=$((checks + 1))
"$bin" synth --help | grep -q 'inception_v3' || fail "synth --help does not list the models"
"$bin" synth --help | grep -q 'qwen1.5-moe-a2.7b' || fail "synth --help does not list the LLMs"
expect_ok synth --model llama-3.1-8b --phase decode --batch 4 --seq 1024 --gpu h100-sxm -o "$work/llm_d.json"
expect_ok synth --model qwen1.5-moe-a2.7b --phase prefill --batch 2 --seq 256 --dtype fp8 \
  --gpu h100-sxm -o "$work/llm_p.json.gz"
expect_ok simulate "$work/llm_d.json" "$work/llm_p.json.gz" --gpu h100-sxm
"$bin" synth --help | grep -q 'pytorch-1.8-eager' || fail "synth --help does not list the frameworks"
"$bin" synth --help | grep -q 'bf16' || fail "synth --help does not list the dtypes"
expect_ok inspect "$work/m.json.gz"

# The GPU a run uses: the traces' device when --gpu is not given. Copies of a
# synthetic (h100-sxm) trace re-labelled as captured on other devices, with
# device.name only, as imported traces carry it.
relabel() { # relabel IN OUT DEVICE_NAME
  python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["device"] = {"name": sys.argv[3]}
json.dump(d, open(sys.argv[2], "w"))
PY
}
relabel traces/synthetic/vgg16_b1.json "$work/dev_a100.json" "NVIDIA A100-PG509-200"
relabel traces/synthetic/vgg16_b1.json "$work/dev_a100b.json" "NVIDIA A100-SXM4-40GB"
relabel traces/synthetic/vgg16_b1.json "$work/dev_v100.json" "Tesla V100-SXM2-32GB"
relabel traces/synthetic/vgg16_b1.json "$work/dev_unknown.json" "NVIDIA A100-PG509-201"
expect_ok simulate "$work/dev_a100.json" "$work/dev_a100b.json"
checks=$((checks + 1))
grep -qx "simulate: GPU a100-sxm4-40g from the traces' device NVIDIA A100-PG509-200" \
  "$work/stderr" || fail "simulate on an A100 trace: $(cat "$work/stderr")"
grep -q "on a100-sxm4-40g$" "$work/stdout" || fail "simulate on an A100 trace: $(cat "$work/stdout")"
expect_ok simulate traces/synthetic/vgg16_b1.json
checks=$((checks + 1))
grep -qx "simulate: GPU h100-sxm from the traces' device.gpu" "$work/stderr" ||
  fail "simulate on a synthetic trace: $(cat "$work/stderr")"
expect_error "cotenant: error: traces captured on different GPUs: $work/dev_a100.json (device NVIDIA A100-PG509-200 = a100-sxm4-40g) and $work/dev_v100.json (device Tesla V100-SXM2-32GB = v100-sxm2); give --gpu KEY to simulate them on one GPU" \
  simulate "$work/dev_a100.json" "$work/dev_v100.json"
expect_error "traces captured on different GPUs: $work/dev_a100.json (device NVIDIA A100-PG509-200 = a100-sxm4-40g) and traces/synthetic/vgg16_b1.json (device.gpu h100-sxm)" \
  search "$work/dev_a100.json" traces/synthetic/vgg16_b1.json --budget 2
expect_error "traces captured on different GPUs" \
  whatif "$work/dev_a100.json" "$work/dev_v100.json" --scale 0.5
expect_ok simulate "$work/dev_a100.json" "$work/dev_v100.json" --gpu h100-sxm
checks=$((checks + 1))
grep -qx "simulate: GPU h100-sxm from --gpu" "$work/stderr" ||
  fail "simulate --gpu: $(cat "$work/stderr")"
grep -qx "note: vgg16-2 was traced on v100-sxm2 (device Tesla V100-SXM2-32GB); its durations were rescaled to h100-sxm by the what-if GPU swap (rescaled 51 kernels, 2 host copies, 0 device copies/memsets (306822 ns -> 71085 ns of GPU time))" \
  "$work/stderr" || fail "simulate --gpu: no note on vgg16-2: $(cat "$work/stderr")"
grep -q "NOT rescaled" "$work/stderr" && fail "simulate --gpu: a trace left unscaled: $(cat "$work/stderr")"
# Rescaled by --gpu as by whatif --swap-gpu: the same makespan.
"$bin" simulate "$work/dev_a100.json" --gpu h100-sxm --json "$work/dev_sim.json" 2>/dev/null ||
  fail "simulate --gpu h100-sxm on an A100 trace"
"$bin" whatif "$work/dev_a100.json" --swap-gpu h100-sxm --json "$work/dev_whatif.json" 2>/dev/null ||
  fail "whatif --swap-gpu h100-sxm on an A100 trace"
checks=$((checks + 1))
python3 - "$work/dev_sim.json" "$work/dev_whatif.json" <<'PY' || fail "simulate --gpu and whatif --swap-gpu differ"
import json, sys
s, w = (json.load(open(p)) for p in sys.argv[1:])
assert s["makespan_ns"] == w["whatif"]["makespan_ns"], (s["makespan_ns"], w["whatif"]["makespan_ns"])
PY
expect_error "$work/dev_unknown.json: device.name: GPU device \"NVIDIA A100-PG509-201\" matches no spec in" \
  simulate "$work/dev_unknown.json"
expect_error "; nearest: a100-sxm4-40g (\"NVIDIA A100-PG509-200\")" simulate "$work/dev_unknown.json"
expect_ok simulate "$work/dev_unknown.json" --gpu a100-sxm4-40g
# A workload without "gpu" runs on its traces' GPU; with one, on its own.
cat >"$work/dev_wl.json" <<EOF
{"schema": "cotenant.workload/1", "tenants": [{"name": "a", "trace": "$work/dev_a100.json"},
 {"name": "b", "trace": "$work/dev_a100b.json"}]}
EOF
expect_ok simulate --workload "$work/dev_wl.json"
checks=$((checks + 1))
grep -qx "simulate: GPU a100-sxm4-40g from the traces' device NVIDIA A100-PG509-200" \
  "$work/stderr" || fail "workload without gpu: $(cat "$work/stderr")"
sed 's/"tenants"/"gpu": "h100-sxm", "tenants"/' "$work/dev_wl.json" >"$work/dev_wl2.json"
expect_ok simulate --workload "$work/dev_wl2.json"
checks=$((checks + 1))
grep -qx "simulate: GPU h100-sxm from the workload" "$work/stderr" ||
  fail "workload with gpu: $(cat "$work/stderr")"
"$bin" inspect "$work/dev_a100.json" --json >"$work/dev_inspect.json" 2>&1 ||
  fail "inspect on an A100 trace: $(cat "$work/dev_inspect.json")"
"$bin" inspect "$work/dev_unknown.json" --json >"$work/dev_inspect2.json" 2>&1 ||
  fail "inspect on an unknown device: $(cat "$work/dev_inspect2.json")"
checks=$((checks + 1))
python3 - "$work/dev_inspect.json" "$work/dev_inspect2.json" <<'PY' || fail "inspect picks the trace's device"
import json, sys
a, u = (json.load(open(p)) for p in sys.argv[1:])
assert a["occupancy"]["gpu"] == "a100-sxm4-40g", a["occupancy"]["gpu"]
assert u["occupancy"]["gpu"] == "h100-sxm", u["occupancy"]["gpu"]
PY
# whatif --swap-gpu rescales from the traces' GPU.
expect_ok whatif "$work/dev_a100.json" --swap-gpu h100-sxm
checks=$((checks + 1))
grep -q "baseline on a100-sxm4-40g, what-if on h100-sxm" "$work/stdout" ||
  fail "whatif --swap-gpu on an A100 trace: $(cat "$work/stdout")"

# An unwritable output: one line naming the file and the reason, a non-zero
# status, and nothing left behind (no output, no temporary file), for each
# subcommand that writes a file. (Run as root, a read-only folder would not
# stop the write, so the cases are a missing folder, a file in the way of a
# folder and a folder in the way of the file.)
mkdir -p "$work/unw/adir"
: >"$work/unw/afile"
while IFS='|' read -r target reason; do
  [[ -z $target ]] && continue
  out=$work/unw/$target
  while IFS= read -r args; do
    [[ -z $args ]] && continue
    read -ra args <<<"${args//OUT/$out}"
    expect_error "$out: cannot write: $reason" "${args[@]}"
  done <<'RUNS'
simulate traces/synthetic/vgg16_b1.json --json OUT
whatif traces/synthetic/vgg16_b1.json --scale 0.5 --json OUT
synth --model resnet50 --batch 1 --gpu h100-sxm -o OUT
import kineto tests/data/kineto/current.json -o OUT
RUNS
  checks=$((checks + 1))
  left=$(find "$work/unw" -mindepth 1 -not -path "$work/unw/adir" -not -path "$work/unw/afile")
  [[ -z $left ]] || fail "unwritable $target: files left behind: $left"
done <<'CASES'
none/out.json|No such file or directory
afile/out.json|Not a directory
adir|Is a directory
CASES

# Options that take a value never swallow the trace files after them.
expect_ok simulate --plan native traces/synthetic/vgg16_b1.json
expect_ok whatif --insert-after 4 --insert-dur 1000 --insert-grid 4,1 --insert-block 128 \
  traces/synthetic/vgg16_b1.json

# Same input, same output, byte for byte.
checks=$((checks + 1))
"$bin" simulate --workload configs/workloads/vision3.json --json "$work/a.json" >/dev/null &&
  "$bin" simulate --workload configs/workloads/vision3.json --json "$work/b.json" >/dev/null &&
  cmp -s "$work/a.json" "$work/b.json" || fail "two runs of the same simulation differ"

# Kineto (PyTorch profiler) import: both layouts convert to traces that inspect
# and simulate read; bad inputs give one line naming the file and field, and
# write nothing.
kineto=tests/data/kineto
expect_ok import kineto $kineto/current.json --step 2 --tenant mlp --gpu h100-sxm -o "$work/k.json"
checks=$((checks + 1))
grep -q '"tenant":"mlp"' "$work/k.json" && grep -q '"step":2' "$work/k.json" ||
  fail "import kineto --step 2: tenant or step missing from $work/k.json"
checks=$((checks + 1))
grep -q 'selection  *ProfilerStep#2' "$work/stdout" || fail "import kineto: no selection in summary"
expect_ok import kineto $kineto/legacy.json -o "$work/kl.json.gz"
# Without --tenant the tenant is the input's stem; PyTorch's file names
# (<worker>.<ms timestamp>.pt.trace.json) give the worker name.
expect_ok inspect "$work/kl.json.gz"
checks=$((checks + 1))
grep -q '^tenant   legacy$' "$work/stdout" || fail "import kineto: tenant not named after the input"
cp $kineto/current.json "$work/node3_4242.1700000000123.pt.trace.json"
expect_ok import kineto "$work/node3_4242.1700000000123.pt.trace.json" -o "$work/kp.json"
expect_ok inspect "$work/kp.json"
checks=$((checks + 1))
grep -q '^tenant   node3_4242$' "$work/stdout" || fail "import kineto: .pt.trace.json stem not used"
# Memory intensity of imported kernels: the import summary and inspect show
# where each kernel's DRAM figures came from (the fixture's aten::addmm has
# record_shapes args; two kernels have a name class; relu_kernel neither).
checks=$((checks + 1))
grep -q '^DRAM     0 counter, 1 shape estimate, 2 name class, 1 none (of 4 kernels)$' "$work/stdout" ||
  fail "inspect: no DRAM coverage line for an imported trace: $(cat "$work/stdout")"
expect_ok import kineto "$kineto/current.json" -o "$work/kc.json"
checks=$((checks + 1))
grep -q '^  DRAM figures  *0 counter, 1 shape estimate, 2 name class, 1 none (of 4 kernels) on h100-sxm$' \
  "$work/stdout" || fail "import kineto: no DRAM coverage line: $(cat "$work/stdout")"
expect_ok inspect "$work/kc.json" --json
checks=$((checks + 1))
python3 - "$work/stdout" <<'PY' || fail "inspect --json: DRAM coverage wrong"
import json, sys
d = json.load(open(sys.argv[1]))["dram"]
assert d == {"counter": 0, "shape": 1, "name": 2, "none": 1}, d
PY
# Two imported traces co-located: the DRAM model now sees their traffic;
# without the estimates (fields stripped, as imports were before) it sees none.
expect_ok simulate "$work/kc.json" "$work/kl.json.gz"
checks=$((checks + 1))
grep -q 'DRAM busy [1-9][0-9.]*%' "$work/stdout" ||
  fail "simulate: two imported traces report no DRAM use: $(grep makespan "$work/stdout")"
python3 - "$work/kc.json" "$work/kl.json.gz" "$work/nodram_a.json" "$work/nodram_b.json" <<'PY'
import gzip, json, sys
for src, dst in ((sys.argv[1], sys.argv[3]), (sys.argv[2], sys.argv[4])):
    opener = gzip.open if src.endswith(".gz") else open
    t = json.load(opener(src, "rt"))
    for task in t["tasks"]:
        for k in ("dram_bytes", "mem_bound", "dram_source"):
            task.pop(k, None)
    json.dump(t, open(dst, "w"))
PY
expect_ok simulate "$work/nodram_a.json" "$work/nodram_b.json"
checks=$((checks + 1))
grep -q 'DRAM busy 0.0%' "$work/stdout" ||
  fail "simulate: imported traces without DRAM figures should report 0.0%: $(grep makespan "$work/stdout")"
expect_ok inspect "$work/k.json"
expect_ok simulate "$work/k.json" "$work/kl.json.gz"
while IFS='|' read -r file want; do
  [[ -z $file ]] && continue
  expect_error "$want" import kineto "$kineto/$file" -o "$work/kbad.json"
  [[ -e $work/kbad.json ]] && fail "import kineto $file: wrote $work/kbad.json despite the error"
done <<'CASES'
broken.json|broken.json:3:87: malformed JSON: unexpected '}'; expected string literal
events_not_array.json|events_not_array.json: traceEvents: expected an array of trace events, found an object
string_dur.json|string_dur.json: traceEvents[1].dur: expected a non-negative number of µs, found "12us"
negative_dur.json|negative_dur.json: traceEvents[0].dur: expected a non-negative number of µs, found -5
not_a_trace.json|not_a_trace.json: expected a Chrome trace
no_events.json|no_events.json: traceEvents: missing required field
missing.json|missing.json: cannot open: No such file or directory
CASES
expect_error 'import FORMAT: expected one of "kineto", "nsys", found "perfetto"' \
  import perfetto $kineto/current.json -o "$work/kbad.json"
expect_error '--pid: only for `import nsys`, not `import kineto`' \
  import kineto $kineto/current.json --pid 3 -o "$work/kbad.json"
expect_error 'current.json: --step 9: no ProfilerStep#9 range in the trace (its steps: 1, 2)' \
  import kineto $kineto/current.json --step 9 -o "$work/kbad.json"
expect_error '--step, --window: give one of them, not both' \
  import kineto $kineto/current.json --step 1 --window all -o "$work/kbad.json"
expect_error '--window: expected "all", "profiler"' \
  import kineto $kineto/current.json --window steps -o "$work/kbad.json"
expect_error 'gpu spec "h99": no such GPU' import kineto $kineto/current.json --gpu h99 -o "$work/kbad.json"
# A trace cut short: refused at its byte (12 events end before byte 2600);
# --partial imports those events and says so.
head -c 2600 $kineto/current.json >"$work/cut.json"
expect_error "$work/cut.json: the trace is cut short at byte 2600, after 12 complete events; --partial imports them" \
  import kineto "$work/cut.json" -o "$work/kbad.json"
[[ -e $work/kbad.json ]] && fail "import kineto wrote $work/kbad.json despite an error"
expect_ok import kineto "$work/cut.json" --partial -o "$work/kcut.json"
checks=$((checks + 1))
grep -q 'note: the trace is cut short at byte 2600, after 12 complete events: those were imported' \
  "$work/stdout" || fail "import kineto --partial: no note of the cut"
grep -q '"truncated_at_byte": *2600' "$work/kcut.json" || fail "import kineto --partial: no truncated_at_byte in meta"
# Several devices: refused, listing them; --device picks one.
expect_error 'devices.json: GPU work on 2 devices; pick one with --device: 0 (NVIDIA H100 80GB HBM3, 2 kernels), 1 (NVIDIA A100-SXM4-80GB, 1 kernel)' \
  import kineto $kineto/devices.json -o "$work/kbad.json"
[[ -e $work/kbad.json ]] && fail "import kineto wrote $work/kbad.json despite an error"
expect_ok import kineto $kineto/devices.json --device 1 -o "$work/kdev.json"
checks=$((checks + 1))
grep -q '^  device  *NVIDIA A100-SXM4-80GB$' "$work/stdout" || fail "import kineto --device 1: wrong device"
# Polls folded into waits are counted in the summary.
expect_ok import kineto $kineto/polling.json -o "$work/kpoll.json"
checks=$((checks + 1))
grep -q '^  polls  *8 (7 folded into 2 waits)$' "$work/stdout" || fail "import kineto: polls not summarised"

# Nsight Systems import: a report built here with the sqlite3 shell from the
# documented export schema (two processes on device 0, one kernel on device 1).
# Several devices need --device; each process becomes its own trace.
if command -v sqlite3 >/dev/null; then
  nsys_sql="CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO StringIds VALUES (1, 'cudaLaunchKernel_v7000'), (2, 'gemm_kernel'),
  (3, 'aten::mm, seq = 4'), (4, 'cudaMemcpyAsync_v3020');
CREATE TABLE TARGET_INFO_GPU (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
INSERT INTO TARGET_INFO_GPU VALUES (0, 'NVIDIA A100 SXM4 80GB'), (1, 'NVIDIA H100 SXM5 80GB');
CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER NOT NULL, end INTEGER NOT NULL,
  deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, streamId INTEGER NOT NULL,
  correlationId INTEGER, globalPid INTEGER, demangledName INTEGER NOT NULL,
  shortName INTEGER NOT NULL, registersPerThread INTEGER NOT NULL, gridX INTEGER NOT NULL,
  gridY INTEGER NOT NULL, gridZ INTEGER NOT NULL, blockX INTEGER NOT NULL,
  blockY INTEGER NOT NULL, blockZ INTEGER NOT NULL, staticSharedMemory INTEGER NOT NULL,
  dynamicSharedMemory INTEGER NOT NULL);
CREATE TABLE CUPTI_ACTIVITY_KIND_MEMCPY (start INTEGER NOT NULL, end INTEGER NOT NULL,
  deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, streamId INTEGER NOT NULL,
  correlationId INTEGER, globalPid INTEGER, bytes INTEGER NOT NULL, copyKind INTEGER NOT NULL);
CREATE TABLE CUPTI_ACTIVITY_KIND_RUNTIME (start INTEGER NOT NULL, end INTEGER NOT NULL,
  eventClass INTEGER NOT NULL, globalTid INTEGER, correlationId INTEGER,
  nameId INTEGER NOT NULL, returnValue INTEGER NOT NULL);
CREATE TABLE NVTX_EVENTS (start INTEGER NOT NULL, end INTEGER, eventType INTEGER NOT NULL,
  text TEXT, globalTid INTEGER, textId INTEGER);"
  # pid P, thread P+1: globalPid = P << 24, globalTid = (P << 24) | tid.
  for pid in 200 300; do
    g=$((pid << 24)) t=$(((pid << 24) | (pid + 1))) o=$((pid * 10))
    nsys_sql+="
INSERT INTO NVTX_EVENTS VALUES ($((o + 1000)), $((o + 9000)), 59, NULL, $t, 3);
INSERT INTO CUPTI_ACTIVITY_KIND_RUNTIME VALUES ($((o + 1100)), $((o + 1300)), 0, $t, 1, 4, 0);
INSERT INTO CUPTI_ACTIVITY_KIND_MEMCPY VALUES ($((o + 1400)), $((o + 2400)), 0, 1, 7, 1, $g, 65536, 1);
INSERT INTO CUPTI_ACTIVITY_KIND_RUNTIME VALUES ($((o + 2000)), $((o + 2500)), 0, $t, 2, 1, 0);
INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES ($((o + 2600)), $((o + 6600)), 0, 1, 7, 2, $g, 2, 2,
  64, 80, 1, 1, 256, 1, 1, 0, 16384);"
  done
  nsys_sql+="
INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES (500, 700, 1, 1, 9, 77, $((400 << 24)), 2, 2,
  32, 1, 1, 1, 32, 1, 1, 0, 0);"
  sqlite3 "$work/run.sqlite" "$nsys_sql" || fail "sqlite3 could not build the nsys report"
  expect_error 'run.sqlite: the report has 2 devices; pick one with --device N (0 "NVIDIA A100 SXM4 80GB": 2 kernels, 2 memcpys, 0 memsets; 1 "NVIDIA H100 SXM5 80GB": 1 kernels' \
    import nsys "$work/run.sqlite" -o "$work/n.json"
  expect_ok import nsys "$work/run.sqlite" --device 0 -o "$work/n.json"
  checks=$((checks + 1))
  [[ -e $work/n.pid200.json && -e $work/n.pid300.json && ! -e $work/n.json ]] ||
    fail "import nsys: expected n.pid200.json and n.pid300.json, one per process"
  checks=$((checks + 1))
  grep -q '^  processes  *200, 300$' "$work/stdout" && grep -q 'gpu spec a100-sxm4-80g' "$work/stdout" ||
    fail "import nsys: summary without processes or gpu spec: $(cat "$work/stdout")"
  expect_ok inspect "$work/n.pid300.json"
  checks=$((checks + 1))
  grep -q '^tenant   run.pid300$' "$work/stdout" || fail "import nsys: tenant not run.pid300"
  expect_ok simulate "$work/n.pid200.json" "$work/n.pid300.json"
  expect_ok import nsys "$work/run.sqlite" --device 0 --pid 200 --tenant bert -o "$work/n1.json.gz"
  expect_ok inspect "$work/n1.json.gz"
  checks=$((checks + 1))
  grep -q '^tenant   bert$' "$work/stdout" || fail "import nsys --pid: tenant not bert"
  expect_error 'run.sqlite: --pid 5: no GPU work of that process on device 0 (processes: 200, 300)' \
    import nsys "$work/run.sqlite" --device 0 --pid 5 -o "$work/nbad.json"
  expect_error '--step: not for `import nsys`' \
    import nsys "$work/run.sqlite" --device 0 --step 1 -o "$work/nbad.json"
  sqlite3 "$work/old.sqlite" "CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT);
CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (begin INTEGER, end INTEGER, deviceId INTEGER);"
  expect_error 'old.sqlite: CUPTI_ACTIVITY_KIND_KERNEL.start: missing column (unknown Nsight Systems schema' \
    import nsys "$work/old.sqlite" -o "$work/nbad.json"
  expect_error 'current.json: not an Nsight Systems SQLite export (file is not a database' \
    import nsys $kineto/current.json -o "$work/nbad.json"
  expect_error 'none.sqlite: cannot open: No such file or directory' \
    import nsys "$work/none.sqlite" -o "$work/nbad.json"
  head -c 3000 "$work/run.sqlite" >"$work/cut.sqlite"
  expect_error 'cut.sqlite: ' import nsys "$work/cut.sqlite" -o "$work/nbad.json"
  checks=$((checks + 1))
  [[ -e $work/nbad.json || -e $work/nbad.pid200.json ]] && fail "import nsys wrote output on bad input"
else
  echo "cli_test: sqlite3 not found (tools/setup.sh installs it); import nsys checks skipped"
fi

# profile: the command, --window and -o are checked before anything runs; no
# output file is left behind by an error.
expect_error 'no command to profile: give it after --' profile -o "$work/p.json" --
expect_error 'nosuchcommand: command not found' profile -o "$work/p.json" -- nosuchcommand --flag
expect_error 'cannot run "./no/such/program": No such file or directory' \
  profile -o "$work/p.json" -- ./no/such/program
expect_error '--window: expected "all", "profiler", "range:NAME[:N]" or "time:FROM_NS:TO_NS", found "sometimes"' \
  profile --window sometimes -o "$work/p.json" -- true
expect_error "$work/none/p.json: cannot write: No such file or directory" \
  profile -o "$work/none/p.json" -- true
# A program that never initialises CUDA writes no trace. Built without CUPTI,
# there is no injection library and profile says so.
fake=$src/tests/cli/fake_cuda_program.sh
good=$src/tests/data/formats/trace_good.json
if [[ -e $(dirname "$bin")/libcotenant_inject.so ]]; then
  have_cupti=1
  expect_error 'no trace produced: `true` exited normally but no process wrote one' \
    profile -o "$work/p.json" -- true
else
  have_cupti=0
  expect_error 'built without CUPTI' profile -o "$work/p.json" -- true
fi
checks=$((checks + 1))
[[ -e $work/p.json ]] && fail "profile wrote $work/p.json despite the errors"

# With the injection library: the CLI's side of the contract, with a program
# that writes what the library would (fake_cuda_program.sh), so no GPU is needed.
if [[ $have_cupti -eq 1 ]]; then
  mkdir -p "$work/tmp"
  COTENANT_INJECT_LIB=$work/nope.so expect_error "COTENANT_INJECT_LIB: $work/nope.so: No such file or directory" \
    profile -o "$work/p.json" -- "$fake" "$good"
  # Two processes merged into one trace; the tenant defaults to the file name.
  TMPDIR=$work/tmp expect_ok profile --nvtx --window profiler -o "$work/two.json" -- "$fake" "$good" 2
  checks=$((checks + 1))
  grep -q 'tenant=two window=profiler nvtx=1' "$work/stdout" || fail "profile: environment not passed: $(cat "$work/stdout")"
  checks=$((checks + 1))
  grep -q 'wrote .*two.json: tenant two, 26 tasks from 2 processes merged' "$work/stdout" ||
    fail "profile: no summary line: $(cat "$work/stdout")"
  checks=$((checks + 1))
  python3 - "$work/two.json" <<'PY' || fail "profile: merged trace is wrong"
import json, sys
t = json.load(open(sys.argv[1]))
m = t["meta"]
assert t["tenant"] == "two", t["tenant"]
assert len(t["tasks"]) == 26 and len(m["processes"]) == 2, m
assert m["exit_status"] == 0 and m["nvtx"] is True and m["command"][-1] == "2", m
assert len({x["stream"] for x in t["tasks"] if x["kind"] == "kernel"}) == 4
PY
  # The counter pass: each kernel gets the counters of its counter-pass twin.
  TMPDIR=$work/tmp expect_ok profile --counters --tenant c -o "$work/c.json.gz" -- "$fake" "$good"
  checks=$((checks + 1))
  grep -q '^counter pass: ' "$work/stdout" || fail "profile --counters: no 'counter pass:' line"
  checks=$((checks + 1))
  python3 - "$work/c.json.gz" <<'PY' || fail "profile --counters: counters not merged"
import gzip, json, sys
t = json.load(gzip.open(sys.argv[1]))
k = {x["name"]: x for x in t["tasks"] if x["kind"] == "kernel"}
assert k["relu_kernel"]["dram_bytes"] == 4096 and k["relu_kernel"]["mem_bound"] == 0.8, k
assert k["sm90_xmma_gemm_f16f16_f16f32"]["mem_bound"] == 0.25, k
assert t["meta"]["counters"]["merged"] == 2, t["meta"]
PY
  # A failing program: its status is cotenant's, the trace is still written
  # and says how the program ended.
  checks=$((checks + 1))
  TMPDIR=$work/tmp timeout 60 "$bin" profile -o "$work/fail.json" -- "$fake" "$good" 1 3 \
    >/dev/null 2>"$work/stderr"
  rc=$?
  [[ $rc -eq 3 && $(wc -l <"$work/stderr") -eq 1 ]] &&
    grep -q "exited with status 3; the trace of what it ran is in $work/fail.json" "$work/stderr" &&
    grep -q '"exit_status":3' "$work/fail.json" ||
    fail "profile of a failing program: status $rc, stderr: $(cat "$work/stderr")"
  checks=$((checks + 1))
  TMPDIR=$work/tmp timeout 60 "$bin" profile -o "$work/fail0.json" -- "$fake" "$good" 0 4 \
    >/dev/null 2>"$work/stderr"
  rc=$?
  [[ $rc -eq 4 && ! -e $work/fail0.json ]] &&
    grep -q 'exited with status 4 and produced no trace' "$work/stderr" ||
    fail "profile of a failing program without trace: status $rc, stderr: $(cat "$work/stderr")"
  # SIGINT sent to cotenant reaches the program; the trace it wrote on the way
  # out is kept and marked.
  checks=$((checks + 1))
  # SIGINT is ignored in a job started in the background (by a CI runner, say),
  # and cotenant rightly keeps an ignored SIGINT ignored: reset it first.
  TMPDIR=$work/tmp timeout 60 env --default-signal=INT "$bin" profile -o "$work/int.json" -- \
    "$fake" "$good" 0 interrupt \
    >/dev/null 2>"$work/stderr"
  rc=$?
  [[ $rc -eq 130 ]] && grep -q 'was killed by SIGINT; the trace of what it ran is in' "$work/stderr" &&
    grep -q '"exit_signal":"SIGINT"' "$work/int.json" ||
    fail "profile: SIGINT not forwarded: status $rc, stderr: $(cat "$work/stderr")"
  checks=$((checks + 1))
  [[ -z $(ls -A "$work/tmp") ]] || fail "profile left temporary files: $(ls -A "$work/tmp")"
fi

# search: a bad space, knob, strategy, start plan or workload is one line naming
# the setting or file and field, and writes nothing.
v3=configs/workloads/vision3.json
sdata=tests/data/search
souts=(-o "$work/s-plan.json" --json "$work/s-report.json" --curve "$work/s-curve.csv"
  --timeline "$work/s-timeline.json")
printf '%s\n' '{"schema": "cotenant.plan/1", "tenants": {"resnet50": {"sm_count": 64}}}' \
  >"$work/s-start.json"
printf '%s\n' '{"schema": "cotenant.searchspace/1",' '  "knobs": ["groups",}' >"$work/s-malformed.json"
while IFS='|' read -r want args; do
  [[ -z $want ]] && continue
  read -ra args <<<"$args"
  expect_error "$want" search "${args[@]}" --budget 5 -j1 "${souts[@]}"
done <<CASES
--set resnet50.sm_count=60: tenants.resnet50.sm_count: expected a multiple of 8 SMs (the partition granularity of h100-sxm), found 60|-w $v3 --set resnet50.sm_count=60
--set max_connections=64: max_connections: expected an integer in 1..32, found 64|-w $v3 --set max_connections=64
--set sm_stepp=8: unknown key "sm_stepp"; did you mean "sm_step"?|-w $v3 --set sm_stepp=8
--knobs: expected one of "groups", "priority", "sm", "split", "stages", "offset", "connections", "budget", "chunked", "pd", found "smm"; did you mean "sm"?|-w $v3 --knobs groups,smm
--strategy: expected one of "auto", "exhaustive", "random", "greedy", "anneal", "genetic", "surrogate", found "annealing"; did you mean "anneal"?|-w $v3 --strategy annealing
s-malformed.json:2:22: malformed JSON: unexpected '}'|-w $v3 --space $work/s-malformed.json
space_unknown_key.json: sm_stepp: unknown key; did you mean "sm_step"?|-w $v3 --space $sdata/space_unknown_key.json
space_wrong_schema.json: schema: expected "cotenant.searchspace/1", found "cotenant.searchspace/2"|-w $v3 --space $sdata/space_wrong_schema.json
space_unknown_tenant.json: tenants.bret: unknown tenant "bret"|-w $v3 --space $sdata/space_unknown_tenant.json
s-start.json: tenants.resnet50.sm_count: outside the search space: expected one of null, found 64|-w $v3 --knobs groups,priority --start $work/s-start.json
no-such-workload.json: cannot open: No such file or directory|-w $work/no-such-workload.json
nothing to simulate: give --workload W.json or trace files|
CASES
for f in s-plan.json s-report.json s-curve.csv s-timeline.json; do
  checks=$((checks + 1))
  [[ -e $work/$f ]] && fail "search wrote $work/$f despite an error"
done

# A small search writes the plan, the report, the curve and the timeline; the
# plan reads back and simulates to the same result; the report's space reads
# back as the same space; the same run gives the same plan, byte for byte.
python3 - "$src" "$work/v3r1.json" <<'PY'
import json, os, sys
src, dst = os.path.abspath(sys.argv[1]), sys.argv[2]
d = json.load(open(src + "/configs/workloads/vision3.json"))
for t in d["tenants"]:
    t["requests"] = 1
    t["trace"] = src + "/configs/workloads/" + t["trace"]
    for k, v in t["traces_by_batch"].items():
        t["traces_by_batch"][k] = src + "/configs/workloads/" + v
json.dump(d, open(dst, "w"))
PY
# simulate --requests as search's (OverrideRequests): every tenant, this many.
expect_ok simulate -w "$v3" --requests 2 --json "$work/req2.json"
checks=$((checks + 1))
python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert all(t['requests'] == 2 for t in r['tenants'].values()), r['tenants']" \
  "$work/req2.json" || fail "simulate --requests: not every tenant ran 2 requests"
sgood=(-w "$v3" --requests 1 --budget 50 -j1 --seed 1)
expect_ok search "${sgood[@]}" "${souts[@]}"
checks=$((checks + 1))
python3 - "$work" <<'PY' || fail "search: report, curve or timeline is wrong"
import csv, json, sys
w = sys.argv[1]
r = json.load(open(w + "/s-report.json"))
json.dump(r["space"]["definition"], open(w + "/s-space.json", "w"))
assert r["schema"] == "cotenant.search/1", r["schema"]
assert r["evaluations"] == 50 and r["budget"]["evaluations"] == 50, r["budget"]
assert (r["seed"], r["threads"], r["objective"]) == (1, 1, "makespan")
assert r["best"]["plan"]["schema"] == "cotenant.plan/1"
assert r["best"]["result"]["schema"] == "cotenant.result/1"
assert r["space"]["definition"]["schema"] == "cotenant.searchspace/1"
assert [b["name"] for b in r["baselines"]] == ["sequential", "native", "equal-partition", "priority"]
assert all(t["requests"] == 1 for t in r["best"]["result"]["tenants"].values())
assert r["best"]["plan"] == json.load(open(w + "/s-plan.json"))
rows = list(csv.reader(open(w + "/s-curve.csv")))
assert rows[0] == ["strategy", "evaluation", "seconds", "objective", "tie"], rows[0]
assert len(rows) >= 2 and all(len(x) == 5 for x in rows), rows
evals = [int(x[1]) for x in rows[1:]]
objs = [float(x[3]) for x in rows[1:]]
assert evals == sorted(evals) and evals[-1] == 50, evals
assert objs == sorted(objs, reverse=True) and objs[-1] == r["best"]["objective"], objs
assert [p["objective"] for p in r["curve"]] == objs[: len(r["curve"])]
t = json.load(open(w + "/s-timeline.json"))
assert t["displayTimeUnit"] == "ns", t.keys()
assert any(e["ph"] == "X" and e.get("cat") == "kernel" for e in t["traceEvents"])
PY
expect_ok simulate --workload "$work/v3r1.json" --plan "$work/s-plan.json" --json "$work/s-sim.json"
checks=$((checks + 1))
python3 - "$work" <<'PY' || fail "search: its plan does not simulate to its result"
import json, sys
w = sys.argv[1]
best = json.load(open(w + "/s-report.json"))["best"]["result"]
sim = json.load(open(w + "/s-sim.json"))
assert sim["makespan_ns"] == best["makespan_ns"], (sim["makespan_ns"], best["makespan_ns"])
assert sim["tenants"] == best["tenants"]
PY
expect_ok search "${sgood[@]}" -o "$work/s-plan2.json" --curve "$work/s-curve2.csv"
checks=$((checks + 1))
cmp -s "$work/s-plan.json" "$work/s-plan2.json" || fail "two runs of the same search give different plans"
checks=$((checks + 1))
cmp -s <(cut -d, -f1,2,4,5 "$work/s-curve.csv") <(cut -d, -f1,2,4,5 "$work/s-curve2.csv") ||
  fail "two runs of the same search give different curves"
expect_ok search "${sgood[@]}" --space "$work/s-space.json" -o "$work/s-plan3.json"
checks=$((checks + 1))
cmp -s "$work/s-plan.json" "$work/s-plan3.json" ||
  fail "search with the report's space.definition gives another plan"

# Plans the simulator refuses are counted by reason, in the terminal (with the
# knob to change and the first message) and in the report. Kernel 1 waits for
# kernel 2 on another stream, issued later: with one hardware queue, a deadlock.
cat >"$work/dl_trace.json" <<'JSON'
{"schema": "cotenant.trace/1",
 "tasks": [
  {"id": 1, "kind": "kernel", "name": "k1", "stream": 7, "start_ns": 0, "dur_ns": 1000,
   "grid": [2], "block": [128], "after": [2]},
  {"id": 2, "kind": "kernel", "name": "k2", "stream": 8, "start_ns": 1000, "dur_ns": 1000,
   "grid": [2], "block": [128]}]}
JSON
expect_ok search "$work/dl_trace.json" --knobs connections --budget 10 -j1 --json "$work/dl-report.json"
checks=$((checks + 1))
grep -q '^  streams sharing a hardware queue deadlock  *1  connections: a larger max_connections$' \
  "$work/stdout" || fail "search: no refusal reason table: $(cat "$work/stdout")"
grep -q '^  first queue_deadlock: workload deadlocks: .*(dl_trace request 0 ' "$work/stdout" ||
  fail "search: no first message of the refusal (or the tenant is not named after the file)"
python3 - "$work/dl-report.json" <<'PY' || fail "search: refused reasons missing from the report"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["failed"] == 1 and r["refused"] == {"queue_deadlock": 1}, (r["failed"], r["refused"])
assert r["refused_examples"]["queue_deadlock"].startswith("workload deadlocks: ")
PY
# search with an llm tenant (Llama-3.1-8B chat beside ResNet-50, about 1 s per
# simulation): a small random search prints the llm columns and the serving
# baselines, and writes the llm summaries to the report.
expect_ok search --workload configs/workloads/llm_vision.json --strategy random --budget 4 -j2 \
  --json "$work/llm-report.json" -o "$work/llm-plan.json"
checks=$((checks + 1))
grep -q 'chat TTFT p99 .*chat TPOT p99 .*chat goodput' "$work/stdout" &&
  grep -q '^ *pd-even ' "$work/stdout" && grep -q '^ *chunked-shared ' "$work/stdout" &&
  grep -q '^ *each alone (no sharing) ' "$work/stdout" &&
  grep -q '^. not a plan for the shared GPU' "$work/stdout" ||
  fail "search llm_vision: no llm columns or serving baselines: $(cat "$work/stdout")"
python3 - "$work/llm-report.json" <<'PY' || fail "search llm_vision: report is wrong"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "cotenant.search/1"
names = [b["name"] for b in r["baselines"]]
assert names == ["sequential", "native", "equal-partition", "priority", "chunked-shared",
                 "pd-even", "alone"], names
for e in [r["best"]] + [b for b in r["baselines"] if "result" in b]:
    (l,) = e["llm"]
    assert l["tenant"] == "chat" and l["ttft_p99_ns"] > 0 and l["tpot_p99_ns"] > 0, l
    assert l["goodput_rps"] >= 0
assert r["baselines"][6]["alone"] is True and "plan" not in r["baselines"][6]
t = r["space"]["definition"]["tenants"]["chat"]
assert t["max_num_batched_tokens"] == [512, 2048, 8192], t
assert t["prefill_decode_sm"] == [None, [32, 96], [64, 64], [96, 32]], t
PY

checks=$((checks + 1))
ls "$work" | grep -q '\.tmp' && fail "temporary files left: $(ls "$work")"

# tools/plot.py on that report: PNGs of the curve and of the timelines. It needs
# matplotlib (Debian's python3-matplotlib, for /usr/bin/python3).
plot_python=
for py in python3 /usr/bin/python3; do
  if "$py" -c 'import matplotlib' 2>/dev/null; then
    plot_python=$py
    break
  fi
done
if [[ -z $plot_python ]]; then
  echo "cli_test: skip: tools/plot.py checks (no python3 with matplotlib)"
else
  # The native plan's timeline for the same requests as the search.
  expect_ok simulate --workload "$work/v3r1.json" --plan native --timeline "$work/s-native.json"
  checks=$((checks + 1))
  if ! out=$(timeout 120 "$plot_python" tools/plot.py "$work/s-report.json" \
    --curves "$work/s-report.json" --timeline "native=$work/s-native.json" \
    --timeline "best=$work/s-timeline.json" -o "$work/plots" 2>"$work/stderr"); then
    fail "plot.py: failed: $(cat "$work/stderr")"
  elif [[ $out != "$work/plots/curve.png"$'\n'"$work/plots/gantt.png" ]]; then
    fail "plot.py: expected the two files written on stdout, got: $out"
  fi
  for f in curve.png gantt.png; do
    checks=$((checks + 1))
    [[ $(head -c 8 "$work/plots/$f" 2>/dev/null | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] ||
      fail "plot.py: $work/plots/$f is not a PNG"
  done
  checks=$((checks + 1))
  ls "$work/plots" | grep -q '\.tmp' && fail "plot.py left temporary files: $(ls "$work/plots")"
  # Bad inputs: one line naming the file, a non-zero status, no PNG.
  while IFS='|' read -r want args; do
    [[ -z $want ]] && continue
    read -ra args <<<"$args"
    checks=$((checks + 1))
    timeout 60 "$plot_python" tools/plot.py "${args[@]}" -o "$work/badplots" >/dev/null 2>"$work/stderr"
    rc=$?
    err=$(cat "$work/stderr")
    [[ $rc -ne 0 && $(wc -l <"$work/stderr") -eq 1 && $err == "plot.py: error: "*"$want"* ]] ||
      fail "plot.py ${args[*]}: status $rc, expected one line with '$want', got: $err"
  done <<CASES
no-such-report.json: cannot open: No such file or directory|$work/no-such-report.json
s-plan.json: schema: expected "cotenant.search/1", found "cotenant.plan/1"|$work/s-plan.json
s-malformed.json:2:22: malformed JSON|$work/s-malformed.json
s-report.json: expected a trace-event timeline|$work/s-report.json --timeline best=$work/s-report.json
t-native.json: tenant "bert" is not in|$work/s-report.json --timeline $work/t-native.json
CASES
  checks=$((checks + 1))
  [[ -e $work/badplots/curve.png ]] && fail "plot.py wrote $work/badplots/curve.png despite an error"
fi

# validate and calibrate: bad flags are refused by the option parser; bad
# inputs name the file; without a usable GPU (or a CUDA build) one line says
# so, and nothing is written.
expect_usage_error() {
  local want=$1
  shift
  checks=$((checks + 1))
  timeout 60 "$bin" "$@" >/dev/null 2>"$work/stderr"
  local rc=$?
  if [[ $rc -eq 0 || $rc -ge 124 ]]; then
    fail "cotenant $*: exit status $rc, expected a usage error"
  elif ! grep -q -- "$want" "$work/stderr"; then
    fail "cotenant $*: expected '$want' in: $(cat "$work/stderr")"
  fi
}
expect_error "validate: give --workload (replay on a GPU) or --measured (a table)" validate
expect_usage_error "--tie-pct" validate --workload configs/workloads/vision3.json --tie-pct -1
expect_usage_error "--model" validate --workload configs/workloads/vision3.json --model exact
expect_error "calibrate: give --gpu (micro-benchmarks on a GPU) or --measured (a table)" \
  calibrate -o "$work/gpu.json"
expect_usage_error "--output is required" calibrate --gpu h100-sxm
expect_error "calibrate: --fix bogus: expected one of" calibrate --gpu h100-sxm \
  -o "$work/gpu.json" --fix bogus
expect_usage_error "--repeat" calibrate --gpu h100-sxm -o "$work/gpu.json" --repeat 0
expect_usage_error "--every" calibrate --gpu h100-sxm -o "$work/gpu.json" --every 0
expect_error "calibrate: --every thins the GPU micro-benchmarks: drop it with --measured" \
  calibrate --measured configs/measured/abacus-a100/pairs.csv -o "$work/cal.json" --every 4
expect_usage_error "--output is required" replay --workload configs/workloads/vision3.json
checks=$((checks + 1))
if ! "$bin" replay --workload tests/replay/gpu/data/every_kind.json --dry-run >"$work/dry.out" 2>&1; then
  fail "replay --dry-run failed: $(cat "$work/dry.out")"
elif ! grep -q "side stream of stream" "$work/dry.out" || ! grep -q "cross-thread waits" "$work/dry.out"; then
  fail "replay --dry-run: no program table or side stream in: $(cat "$work/dry.out")"
fi
expect_usage_error "--timing" replay --workload configs/workloads/vision3.json -o "$work/m.json" \
  --timing events
if ! nvidia-smi -L >/dev/null 2>&1; then
  expect_error "needs a CUDA GPU" validate --workload configs/workloads/vision3.json \
    --plan native --plan configs/plans/vision3_partition.json --json "$work/val.json"
  checks=$((checks + 1))
  [[ -e $work/val.json ]] && fail "validate wrote $work/val.json without a GPU"
  expect_error "needs a CUDA GPU" calibrate --gpu h100-sxm -o "$work/gpu.json" \
    --report "$work/fit.json"
  checks=$((checks + 1))
  [[ -e $work/gpu.json || -e $work/fit.json ]] && fail "calibrate wrote output without a GPU"
  # With a CUDA build, inputs are read first and a bad one is named; without
  # one, the missing GPU is the first and only thing said: one line either way.
  expect_error "" validate --workload "$work/no-such-workload.json"
  expect_error "" calibrate --gpu h100-sx -o "$work/gpu.json"
  expect_error "needs a CUDA GPU" replay --workload configs/workloads/vision3.json \
    -o "$work/m.json" --timeline "$work/m-timeline.json"
  checks=$((checks + 1))
  [[ -e $work/m.json || -e $work/m-timeline.json ]] && fail "replay wrote output without a GPU"
  if [[ $have_cupti -eq 1 ]]; then
    # CUPTI timing asked for with a library that is not there: named, before any GPU work.
    expect_error "--inject: $work/none.so" replay --workload configs/workloads/vision3.json \
      -o "$work/m.json" --timing cupti --inject "$work/none.so"
  fi
fi

# ---------------------------------------------------------------------------
# replay / validate / calibrate on the fake GPU (--runner fake, a testing aid:
# tools/replay/README.md): the whole path a real GPU takes, without one.
# ---------------------------------------------------------------------------
fake_ok() {  # fake_ok NAME cotenant-args...: runs, keeps stdout and stderr as NAME.out/.err
  local name=$1
  shift
  checks=$((checks + 1))
  if ! timeout 120 "$bin" "$@" >"$work/$name.out" 2>"$work/$name.err"; then
    fail "cotenant $*: failed: $(cat "$work/$name.err")"
  fi
}
fake_ok fv0 validate -w configs/workloads/vision3.json --plan native \
  --plan configs/plans/vision3_partition.json --runner fake --json "$work/fv0.json"
fake_ok fv10 validate -w configs/workloads/vision3.json --plan native \
  --plan configs/plans/vision3_partition.json --runner fake --fake-bias 0.1 --json "$work/fv10.json"
fake_ok fcal calibrate --gpu h100-sxm -o "$work/fgpu.json" --report "$work/ffit.json" \
  --runner fake --fake-corun-slowdown 0.3 --date 2026-12-05
fake_ok frep replay -w configs/workloads/vision3.json -o "$work/frep.json" --runner fake \
  --repeat 3 --sizing-report "$work/fsize.json" --timeline "$work/frep-timeline.json"
fake_ok fsim simulate -w configs/workloads/vision3.json --timeline "$work/fsim-timeline.json"
checks=$((checks + 1))
python3 - "$work" <<'PY' || fail "validate/calibrate/replay on the fake GPU: wrong output"
import json, sys
w = sys.argv[1]
def load(name):
    return json.load(open(f"{w}/{name}"))
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("fake GPU:", what)
        ok = False
# No bias, no noise: the fake GPU measures exactly what the simulator predicts.
v0 = load("fv0.json")
check(v0["schema"] == "cotenant.validation/1" and v0["timing"] == "fake"
      and v0["device"] == "fake h100-sxm" and v0["driver_version"] == 0, "validate provenance")
for p in v0["plans"]:
    check(p["makespan_ns"]["error_pct"] == 0.0, f"{p['plan']}: makespan error {p['makespan_ns']}")
    for t, c in p["tenants"].items():
        check(c["mean_latency_ns"]["error_pct"] == 0.0, f"{p['plan']}/{t}: latency error")
check(v0["summary"]["makespan"]["max_abs_pct"] == 0.0, "max makespan error not 0")
# +10% bias: measured 1.1x predicted; the error, relative to the measured
# value, is 1/1.1 - 1 = -9.0909% (1-ns roundings of thousands of tasks: 1e-3).
v10 = load("fv10.json")
for p in v10["plans"]:
    m = p["makespan_ns"]
    check(abs(m["measured"] / m["predicted"] - 1.1) < 1e-5, f"{p['plan']}: ratio {m}")
    check(abs(m["error_pct"] + 100 / 11) < 1e-3, f"{p['plan']}: error {m['error_pct']}")
# calibrate recovers the fake GPU's co-run slowdown (tests/replay/fake_runner_test.cpp
# justifies the 1e-3).
g = load("fgpu.json")
check(g["model"]["calibrated"] is True, "spec not marked calibrated")
check(abs(g["model"]["corun_slowdown"] - 0.3) < 1e-3, f"corun_slowdown {g['model']['corun_slowdown']}")
f = load("ffit.json")
check(f["schema"] == "cotenant.calibration/1" and f["device"] == "fake h100-sxm"
      and f["date"] == "2026-12-05" and f["benchmarks"] == 147, "calibration report")
# replay: the measured result, the kernel-sizing report, a timeline that
# lines up with simulate's (the same bytes but the model's name).
r = load("frep.json")
check(r["schema"] == "cotenant.result/1" and r["model"] == "measured" and r["timing"] == "fake"
      and len(r["run_makespans_ns"]) == 3, "replay result")
s = load("fsize.json")
check(s["schema"] == "cotenant.replay-calibration/1" and "runs" not in s
      and s["calibration_error_pct"]["max"] <= 1.0 and len(s["kernels"]) > 0, "sizing report")
t_rep = open(f"{w}/frep-timeline.json").read().replace('"model":"measured"', '"model":"fluid"')
check(t_rep == open(f"{w}/fsim-timeline.json").read(), "replay and simulate timelines differ")
sys.exit(0 if ok else 1)
PY
grep -q "calibrate: 147/147 .* (fake timing)" "$work/fcal.err" ||
  fail "calibrate: no progress line in: $(tail -2 "$work/fcal.err")"
checks=$((checks + 1))
# --every 4: benchmarks 0, 4, ..., 144 of the 147, 9 of them held out.
fake_ok fcal4 calibrate --gpu h100-sxm -o "$work/fgpu4.json" --every 4 --runner fake
grep -q "calibrate: 37/37 " "$work/fcal4.err" && grep -q "^37 benchmarks (28 fitted, 9 held out)" \
  "$work/fcal4.out" || fail "calibrate --every 4: $(tail -1 "$work/fcal4.out")"
# The kernel-sizing flags' old names still work, with a one-line note.
fake_ok fold replay -w configs/workloads/vision3.json -o "$work/fold.json" --runner fake \
  --calibration-iterations 2 --calibration "$work/fold-size.json"
checks=$((checks + 1))
grep -q "^cotenant: note: --calibration-iterations was renamed --sizing-iterations$" \
  "$work/fold.err" || fail "no rename note for --calibration-iterations: $(cat "$work/fold.err")"
checks=$((checks + 1))
grep -q "^cotenant: note: --calibration was renamed --sizing-report$" "$work/fold.err" ||
  fail "no rename note for --calibration: $(cat "$work/fold.err")"
checks=$((checks + 1))
[[ -s $work/fold-size.json ]] || fail "replay --calibration did not write the sizing report"
# Fake-GPU settings without the fake GPU, and out of range.
expect_error "--fake-bias: needs --runner fake" validate -w configs/workloads/vision3.json \
  --fake-bias 0.1
expect_error "--fake-noise: expected a number in [0, 1], found -1.000" validate \
  -w configs/workloads/vision3.json --runner fake --fake-noise -1
expect_error "--fake-bias: expected a number in (-1, 10], found -1.000" replay \
  -w configs/workloads/vision3.json -o "$work/g.json" --runner fake --fake-bias -1
expect_error "--runner: expected cuda or fake, found gpu" calibrate --gpu h100-sxm \
  -o "$work/g.json" --runner gpu
checks=$((checks + 1))
[[ -e $work/g.json ]] && fail "a bad fake-GPU setting still wrote $work/g.json"

# ---------------------------------------------------------------------------
# Measured tables: calibrate --measured, validate --measured, --calibration.
table=$work/measured.csv
cat >"$table" <<'CSV'
gpu,dtype,models,batch,seq_len,latency_us,note
a100-sxm4-40g,fp16,resnet50,4,0,8683.0,solo
a100-sxm4-40g,fp16,resnet50,32,0,12514.0,
a100-sxm4-40g,fp16,vgg16,4,0,3048.25,
a100-sxm4-40g,fp16,vgg16,32,0,23354.0,
a100-sxm4-40g,fp16,resnet50+vgg16,4+4,0+0,8720.0,pair
a100-sxm4-40g,fp16,resnet50+vgg16,32+32,0+0,37021.0,
a100-sxm4-40g,fp16,resnet50+vgg16+resnet50,4+4+32,0+0+0,16000.0,triple
CSV
expect_ok calibrate --measured "$table" -o "$work/cal.json" --framework pytorch-1.8-eager
checks=$((checks + 1))
grep -q "ignored columns: note" "$work/stderr" || fail "calibrate --measured: no ignored-column note"
checks=$((checks + 1))
grep -q "^resnet50.host_scale " "$work/stdout" || fail "calibrate --measured: no parameter table"
python3 - "$work/cal.json" <<'PY' || fail "calibrate --measured: bad calibration file"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["schema"] == "cotenant.model-calibration/1" and c["gpu"] == "a100-sxm4-40g"
assert c["framework"] == "pytorch-1.8-eager"
assert set(c["models"]) == {"resnet50", "vgg16"}
assert len(c["fit"]["rows"]) == 7
PY
checks=$((checks + 1))
# Without --framework the calibration names synth's default profile.
expect_ok calibrate --measured "$table" -o "$work/cal_default.json"
python3 - "$work/cal_default.json" <<'PY' || fail "calibrate --measured: default framework not recorded"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["framework"] == "pytorch-eager", c["framework"]
assert all(m["basis"] == "synth:pytorch-eager" for m in c["models"].values())
PY
checks=$((checks + 1))
expect_ok validate --measured "$table" --calibration "$work/cal.json" --json "$work/tv.json"
checks=$((checks + 1))
tail -1 "$work/stdout" | grep -Eq '^3 groups: latency MAPE [0-9.]+%, slowdown MAPE [0-9.]+%, worst [0-9.]+%$' ||
  fail "validate --measured: last line is not the summary: $(tail -1 "$work/stdout")"
checks=$((checks + 1))
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['schema']=='cotenant.table-validation/1' and len(d['groups'])==3" \
  "$work/tv.json" || fail "validate --measured --json: bad document"
"$bin" synth --model resnet50 --batch 8 --gpu a100-sxm4-40g --framework pytorch-1.8-eager \
  -o "$work/r50.json" >/dev/null
expect_ok simulate "$work/r50.json" --gpu a100-sxm4-40g --calibration "$work/cal.json"
checks=$((checks + 1))
grep -q "simulate: calibration: resnet50: resnet50 host x" "$work/stderr" ||
  fail "simulate --calibration: no line saying what was scaled: $(cat "$work/stderr")"
expect_error "the calibration was fitted on a100-sxm4-40g, but the workload runs on h100-sxm" \
  simulate "$work/r50.json" --gpu h100-sxm --calibration "$work/cal.json"
expect_error "validate: --kfold fits its own calibrations" validate --measured "$table" \
  --kfold 2 --calibration "$work/cal.json"
expect_error "calibrate: --measured takes the GPU from the table" calibrate --measured "$table" \
  --gpu h100-sxm -o "$work/cal2.json"
# Bad tables: one line naming file, line and column; nothing written.
printf 'gpu,dtype,models,batch,seq_len,latency_us\na100-sxm4-40g,fp16,resnet50,4,0,-1\n' >"$work/neg.csv"
expect_error "$work/neg.csv:2: latency_us: expected a positive number of microseconds, found '-1'" \
  calibrate --measured "$work/neg.csv" -o "$work/cal3.json"
printf 'gpu,dtype,models,batch,latency_us\n' >"$work/nocol.csv"
expect_error "$work/nocol.csv:1: header: expected a column 'seq_len'" validate --measured "$work/nocol.csv"
printf 'gpu,dtype,models,batch,seq_len,latency_us\na100-sxm4-40g,fp16,resnet5,4,0,100\n' >"$work/unk.csv"
expect_error "$work/unk.csv:2: models: resnet5: " validate --measured "$work/unk.csv"
checks=$((checks + 1))
grep -q 'did you mean "resnet50"' "$work/stderr" || fail "unknown model without a did-you-mean"
printf 'gpu,dtype,models,batch,seq_len,latency_us\nh999,fp16,resnet50,4,0,100\n' >"$work/gpu.csv"
expect_error "h999" validate --measured "$work/gpu.csv"
expect_error "no such file" calibrate --measured "$work/none.csv" -o "$work/cal4.json"
printf '{"schema": "cotenant.model-calibration/1", "gpu": "a100-sxm4-40g", "contention": {}, "models": {}, "bogus": 1}' >"$work/badcal.json"
expect_error "$work/badcal.json: bogus: " simulate "$work/r50.json" --gpu a100-sxm4-40g \
  --calibration "$work/badcal.json"
checks=$((checks + 1))
[[ -e $work/cal3.json || -e $work/cal4.json ]] && fail "calibrate --measured wrote output on bad input"

# The README's worked example: a trace from an A100, predicted on an H100.
expect_ok import kineto examples/resnet50_a100.pt.trace.json.gz -o "$work/ex_r50.json"
checks=$((checks + 1))
grep -qx "  DRAM figures        0 counter, 0 shape estimate, 244 name class, 1 none (of 245 kernels) on a100-sxm4-40g" \
  "$work/stdout" || fail "worked example import: $(cat "$work/stdout")"
"$bin" synth --model bert-base --batch 8 --gpu h100-sxm -o "$work/ex_bert.json" >/dev/null ||
  fail "worked example synth"
expect_error "cotenant: error: traces captured on different GPUs: $work/ex_r50.json (device NVIDIA A100-SXM4-40GB = a100-sxm4-40g) and $work/ex_bert.json (device.gpu h100-sxm); give --gpu KEY to simulate them on one GPU" \
  simulate "$work/ex_r50.json" "$work/ex_bert.json"
expect_ok simulate "$work/ex_r50.json" "$work/ex_bert.json" --gpu h100-sxm
checks=$((checks + 1))
grep -q "^makespan 1.929 ms (lower bound 1.674 ms, gap 15.2%) .* model fluid on h100-sxm$" "$work/stdout" &&
  grep -qx "note: resnet50_a100 was traced on a100-sxm4-40g (device NVIDIA A100-SXM4-40GB); its durations were rescaled to h100-sxm by the what-if GPU swap (rescaled 245 kernels, 2 host copies, 0 device copies/memsets (2637138 ns -> 1031624 ns of GPU time))" "$work/stderr" ||
  fail "worked example simulate --gpu: $(cat "$work/stdout" "$work/stderr")"

# fleet: a tiny fleet placed (table and report), and bad fleet files.
fleet=tests/data/fleet_tiny.json
expect_ok fleet "$fleet" -j 1 --json "$work/fleet.json"
checks=$((checks + 1))
grep -q "^cotenant  " "$work/stdout" && grep -q "^one-per-gpu  " "$work/stdout" &&
  grep -q "^bin-packing (cap 100%)  " "$work/stdout" && grep -q "cotenant's placement:" "$work/stdout" ||
  fail "fleet table: $(cat "$work/stdout")"
checks=$((checks + 1))
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["schema"]=="cotenant.fleet-result/1"; assert [p["name"] for p in d["placements"]]==["cotenant","one-per-gpu","bin-packing","bin-packing-tightened"]; assert d["placements"][0]["all_slos_met"]' \
  "$work/fleet.json" || fail "fleet report: $(head -c 400 "$work/fleet.json")"
if [[ -n $plot_python ]]; then
  checks=$((checks + 1))
  "$plot_python" tools/plot.py "$work/fleet.json" -o "$work/fleet_plots" >/dev/null 2>"$work/stderr" &&
    [[ -s $work/fleet_plots/fleet.png ]] || fail "plot.py fleet: $(cat "$work/stderr")"
fi
printf '{"schema": "cotenant.fleet/1", "gpus": [{"gpu": "h100-sxm", "count": 1}], "models": [{"name": "a", "zoo": "resnet50", "rate_hz": 10, "slo_ms": 20, "memroy_gib": 1}]}' >"$work/fleet_bad1.json"
expect_error "fleet_bad1.json: models[0].memroy_gib: unknown key; did you mean \"memory_gib\"?" fleet "$work/fleet_bad1.json" --json "$work/fleet_out.json"
printf '{"schema": "cotenant.fleet/1", "gpus": [{"gpu": "h100-sxm", "count": 1}], "models": [{"name": "a", "zoo": "resnet5O", "rate_hz": 10, "slo_ms": 20}]}' >"$work/fleet_bad2.json"
expect_error "fleet_bad2.json: models[0].zoo: " fleet "$work/fleet_bad2.json" --json "$work/fleet_out.json"
printf '{"schema": "cotenant.fleet/1", "gpus": [{"gpu": "h100-sxm", "count": 2}], "models": [{"name": "fast", "zoo": "resnet50", "batch": 8, "rate_hz": 10, "slo_ms": 0.1}]}' >"$work/fleet_bad3.json"
expect_error "fleet_bad3.json: models[0]: fast: no GPU of the fleet meets its SLO, even alone with its 10 req/s split over 2 replicas (5 req/s each): at best it meets it on 0.0% of requests, on h100-sxm (p99" fleet "$work/fleet_bad3.json" --json "$work/fleet_out.json"
printf '{"schema": "cotenant.fleet/1", "gpus": [{"gpu": "h100-sxm", "count": 1}], "models": [' >"$work/fleet_bad4.json"
expect_error "fleet_bad4.json" fleet "$work/fleet_bad4.json" --json "$work/fleet_out.json"
expect_error "no_such_fleet.json" fleet "$work/no_such_fleet.json"
checks=$((checks + 1))
[[ -e $work/fleet_out.json ]] && fail "fleet wrote a report on bad input"

echo "cli_test: $checks checks, $failures failures"
[[ $failures -eq 0 ]]
