#!/usr/bin/env bash
# The GPU campaign of issue 17, in one command on a lent GPU machine:
#   1. sanity: nvidia-smi (name, driver, clocks), versions, the [gpu] tests;
#   2. traces: `cotenant profile` of real PyTorch inference (tools/zoo), DRAM
#      counters on a few; PyTorch profiler (Kineto) traces of the same models
#      and of a CUDA Graph replayed with cudaEventQuery polling, imported and
#      replayed alone by the simulator (span error), DRAM estimates against
#      the counters;
#   3. real co-location: tools/gpu/corun.py (streams, priorities, green
#      contexts, processes) -> measured tables;
#   4. predictions: search, simulate, validate (--measured, and --workload
#      with replay under native / equal-partition / searched plans),
#      calibrate --measured and the GPU micro-benchmark calibrate --gpu.
# Each step has a time budget: a step that would end past the campaign's
# total is skipped and said so; a step that runs past its budget is stopped.
# Everything lands in a scratch folder laid out like the repository, packed
# at the end (also when stopped) into $OUT: campaign.tar.gz, summary.txt,
# summary.json, campaign.log.
#
# Usage: tools/gpu/campaign.sh              (on the GPU machine, $OUT set)
#        tools/gpu/campaign.sh --dry-run    (anywhere: check inputs, print the plan)
#        tools/gpu/campaign.sh --rehearse   (CPU: steps 3-4 on synthetic traces,
#                                            corun.py --fake and the fake GPU)
# Environment:
#   OUT                        where the results go (required, except --dry-run)
#   COTENANT_CAMPAIGN_DRY_RUN  1 = --dry-run
#   COTENANT_CAMPAIGN_BIN      folder with cotenant, libcotenant_inject.so and
#                              two_streams (default: build-gpu, tools/gpu/build.sh)
#   COTENANT_CAMPAIGN_GPU      GPU spec key (default: from nvidia-smi's name)
#   COTENANT_CAMPAIGN_TOTAL_S  the campaign's whole budget, s (default 360); the
#                              step budgets scale with it
#   COTENANT_CAMPAIGN_SKIP     steps to leave out, comma-separated (a rerun)
#   PYTHON                     the Python with torch (default python3)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
prog=campaign.sh
mode=run
[[ ${COTENANT_CAMPAIGN_DRY_RUN:-0} == 1 ]] && mode=dry-run
for arg in "$@"; do
  case $arg in
    --dry-run) mode=dry-run ;;
    --rehearse) mode=rehearse ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "$prog: error: unknown argument '$arg' (expected --dry-run, --rehearse or --help)" >&2
      exit 2
      ;;
  esac
done

bin=${COTENANT_CAMPAIGN_BIN:-$root/build-gpu}
python=${PYTHON:-python3}
total_s=${COTENANT_CAMPAIGN_TOTAL_S:-360}
dtype=fp16
if ! [[ $total_s =~ ^[0-9]+$ ]] || ((total_s < 60)); then
  echo "$prog: error: COTENANT_CAMPAIGN_TOTAL_S: expected whole seconds >= 60, found '$total_s'" >&2
  exit 2
fi

# Step budgets, s, for the default 360 s (6 minutes: with a machine start of
# a minute or two, a rerun still fits 15 minutes of device time); scaled
# with COTENANT_CAMPAIGN_TOTAL_S. Their sum stays under the total.
declare -A budget=(
  [sanity]=40 [traces]=85 [counters]=20 [kineto]=30 [corun]=80 [search]=15 [replay]=45
  [calibrate_gpu]=30 [tables]=15
)
steps=(sanity traces counters kineto corun search replay calibrate_gpu tables)
for s in "${steps[@]}"; do budget[$s]=$((budget[$s] * total_s / 360)); done

# Traces: MODEL:BATCH, the ones the mixes use first (corun.py TRACE_BATCHES).
traces=(resnet50:8 mobilenetv2:8 vgg16:8 bert-base:8 llama-1b-decode:8 llama-1b-prefill:1
  llama-1b-decode:1 resnet50:32 mobilenetv2:32 vgg16:32 bert-base:32 llama-1b-prefill:4)
counter_traces=(resnet50:8 bert-base:8 llama-1b-decode:8)
# Kineto captures (torch.profiler, record_shapes), imported and replayed alone.
kineto_traces=(resnet50:8 llama-1b-decode:8)
# The replayed workload: three tenants of step 2's traces, 4 closed requests each.
replay_members=(resnet50:8 mobilenetv2:8 bert-base:8)
replay_requests=4
calibrate_every=4

# ------------------------------------------------------------------ helpers

# GPU spec key and trace folder for nvidia-smi's name.
gpu_key_of() {
  case $1 in
    *H200*) echo "h200 h200" ;;
    *H100*PCIe*) echo "h100-pcie h100" ;;
    *H100*) echo "h100-sxm h100" ;;
    *A100*80GB*) echo "a100-sxm4-80g a100" ;;
    *A100*) echo "a100-sxm4-40g a100" ;;
    *L4*) echo "l4 l4" ;;
    *) echo "" ;;
  esac
}

trace_path() { # MODEL:BATCH -> the trace file's name
  echo "${1%%:*}_b${1##*:}.json"
}

# ------------------------------------------------------------------ dry run

dry_run() {
  local problems=0 f size sum=0 s
  ok() { printf '  ok       %s\n' "$1"; }
  bad() {
    printf '  MISSING  %s\n' "$1"
    problems=$((problems + 1))
  }
  echo "$prog --dry-run: nothing runs on a GPU, nothing is written under \$OUT"
  echo "inputs:"
  for f in "$bin/cotenant" "$bin/two_streams"; do
    if [[ -x $f ]]; then ok "$f"; else bad "$f (tools/gpu/build.sh builds it)"; fi
  done
  f=$bin/libcotenant_inject.so
  if [[ -f $f ]]; then ok "$f"; else bad "$f (tools/gpu/build.sh builds it)"; fi
  for f in tools/zoo/run_model.py tools/gpu/corun.py tests/profiler/gpu/profile_e2e_test.sh \
    tests/replay/gpu/replay_e2e_test.sh configs/gpus/h100-sxm.json configs/gpus/h200.json \
    configs/gpus/h100-pcie.json; do
    if [[ -f $root/$f ]]; then ok "$f"; else bad "$f"; fi
  done
  if [[ -d $bin ]]; then
    size=$(du -sk "$bin" | cut -f1)
    if ((size > 40 * 1024)); then
      bad "$bin is $((size / 1024)) MiB: the carried tree must stay under 64 MiB"
    else
      ok "$bin: $((size / 1024)) MiB to carry (limit 64 MiB with the tree)"
    fi
  fi
  if [[ -x $bin/cotenant ]]; then
    if "$bin/cotenant" calibrate --help 2>/dev/null | grep -q -- '--every'; then
      ok "$bin/cotenant runs here and has calibrate --every"
    else
      bad "$bin/cotenant does not run here or lacks calibrate --every (rebuild it)"
    fi
  fi
  echo "python:"
  local cache
  cache=$(mktemp -d)
  for f in tools/zoo/run_model.py tools/gpu/corun.py tools/gpu/graph_poll.py \
    tools/gpu/kineto_check.py; do
    if PYTHONPYCACHEPREFIX=$cache "$python" -m py_compile "$root/$f"; then
      ok "$f compiles"
    else
      bad "$f does not compile"
    fi
  done
  rm -rf "$cache"
  if "$python" "$root/tools/gpu/kineto_check.py" --self-test >/dev/null; then
    ok "kineto_check.py --self-test"
  else
    bad "kineto_check.py --self-test failed"
  fi
  if "$python" "$root/tools/gpu/corun.py" --self-test >/dev/null; then
    ok "corun.py --self-test"
  else
    bad "corun.py --self-test failed"
  fi
  echo "plan (total budget ${total_s} s; GPU key from nvidia-smi, shown as KEY, traces in DIR):"
  for s in "${steps[@]}"; do
    sum=$((sum + budget[$s]))
    printf '  %-14s %4d s  (cumulative %4d s)\n' "$s" "${budget[$s]}" "$sum"
    plan_of "$s" | sed 's/^/      $ /'
  done
  if ((sum > total_s)); then
    echo "  note: the budgets add up to ${sum} s, over the total ${total_s} s: the last steps" \
      "run only if the earlier ones finish early"
  fi
  echo "results: \$OUT/campaign.tar.gz (traces/DIR/, configs/measured/KEY/, campaign/), " \
    "\$OUT/summary.txt, \$OUT/summary.json, \$OUT/campaign.log"
  if ((problems > 0)); then
    echo "$prog --dry-run: $problems problem(s): the campaign is not ready"
    return 1
  fi
  echo "$prog --dry-run: ready"
}

# The commands of a step, for the dry run (the same strings the run uses).
plan_of() {
  local m
  case $1 in
    sanity)
      echo "nvidia-smi; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,power.draw,power.limit,temperature.gpu,memory.total --format=csv"
      echo "tests/profiler/gpu/profile_e2e_test.sh BIN/cotenant BIN/two_streams   (timeout 20 s)"
      echo "tests/replay/gpu/replay_e2e_test.sh BIN/cotenant   (timeout: the rest of the step)"
      ;;
    traces)
      for m in "${traces[@]}"; do
        echo "cotenant profile --nvtx --window profiler --tenant ${m%%:*} -o traces/DIR/$(trace_path "$m") -- $python tools/zoo/run_model.py --model ${m%%:*} --batch ${m##*:} --dtype $dtype --warmup 10"
      done
      ;;
    counters)
      for m in "${counter_traces[@]}"; do
        echo "cotenant profile --nvtx --window profiler --counters --tenant ${m%%:*} -o traces/DIR/counters/$(trace_path "$m") -- $python tools/zoo/run_model.py --model ${m%%:*} --batch ${m##*:} --dtype $dtype --warmup 5"
      done
      ;;
    kineto)
      for m in "${kineto_traces[@]}"; do
        echo "$python tools/zoo/run_model.py --model ${m%%:*} --batch ${m##*:} --dtype $dtype --warmup 10 --kineto traces/DIR/kineto/${m%%:*}_b${m##*:}.pt.trace.json"
      done
      echo "$python tools/gpu/graph_poll.py traces/DIR/kineto/graph_poll.pt.trace.json"
      echo "cotenant import kineto traces/DIR/kineto/NAME.pt.trace.json -o traces/DIR/kineto/NAME.json   (each)"
      echo "cotenant simulate traces/DIR/kineto/NAME.json --json campaign/predict/kineto/NAME.result.json; tools/gpu/kineto_check.py span ...   (each: span replayed alone)"
      echo "tools/gpu/kineto_check.py dram traces/DIR/kineto/resnet50_b8.json traces/DIR/counters/resnet50_b8.json   (DRAM estimates / counters by operator)"
      ;;
    corun)
      echo "$python tools/gpu/corun.py --gpu KEY --dtype $dtype --reps 7 --warmup 3 --budget-s $((budget[corun] * 3 / 4)) --out-dir configs/measured/KEY --trace-dir traces/DIR"
      ;;
    search)
      echo "(workload campaign/predict/replay3.json: ${replay_members[*]}, $replay_requests closed requests each; plan equal.json: equal SM shares)"
      echo "cotenant search -w campaign/predict/replay3.json --budget 300 -j 8 --seed 1 -o campaign/predict/searched.json --json campaign/predict/search.json"
      ;;
    replay)
      echo "cotenant validate -w campaign/predict/replay3.json --plan native --plan campaign/predict/equal.json --plan campaign/predict/searched.json --repeat 3 --json campaign/predict/validate_replay.json"
      ;;
    calibrate_gpu)
      echo "cotenant calibrate --gpu KEY --every $calibrate_every -o campaign/calibration/KEY.json --report campaign/calibration/fit.json"
      ;;
    tables)
      echo "(started in the background after corun, on the CPU; waited for here)"
      echo "cotenant simulate -w campaign/predict/mixN.json --json campaign/predict/mixN.result.json   (each mix of streams.csv)"
      echo "cotenant validate --measured configs/measured/KEY/MODE.csv --json campaign/predict/validate_MODE.json   (each MODE.csv and MODE_zoo.csv)"
      echo "cotenant calibrate --measured configs/measured/KEY/streams.csv -o campaign/calibration/streams-cal.json"
      echo "cotenant validate --measured configs/measured/KEY/streams.csv --calibration campaign/calibration/streams-cal.json --json campaign/predict/validate_streams_cal.json"
      echo "cotenant validate --measured configs/measured/KEY/streams.csv --kfold 4 --summary-only"
      ;;
  esac
}

if [[ $mode == dry-run ]]; then
  cd "$root"
  dry_run
  exit $?
fi

# ------------------------------------------------------------------ refusals

if [[ $mode == run ]]; then
  if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "$prog: error: no GPU here (nvidia-smi -L fails); run it on the device machine, or use --dry-run / --rehearse" >&2
    exit 3
  fi
fi
if [[ -z ${OUT:-} ]]; then
  echo "$prog: error: OUT is not set (the folder the results are packed into)" >&2
  exit 2
fi
for f in "$bin/cotenant" "$bin/libcotenant_inject.so"; do
  if [[ ! -e $f ]]; then
    echo "$prog: error: $f is missing (build it with tools/gpu/build.sh, and carry $bin)" >&2
    exit 2
  fi
done
mkdir -p "$OUT"

# ------------------------------------------------------------------ setup

cd "$root"
started=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/campaign.XXXXXX")
camp=$work/campaign
mkdir -p "$camp/logs" "$camp/sanity" "$camp/predict" "$camp/calibration"
log=$camp/campaign.log
exec > >(tee -a "$log") 2>&1
summary=()      # lines of summary.txt
declare -A status # step -> ok | failed (rc N) | skipped: why | timeout
declare -A took   # step -> seconds
bg_pid=""

say() { echo "[$((SECONDS - started))s] $*"; }
note() {
  summary+=("$*")
  say "$*"
}

if [[ $mode == run ]]; then
  gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
else
  gpu_name="rehearsal (no GPU: fake runner)"
fi
read -r key dir <<<"$(gpu_key_of "$gpu_name")" || true
key=${COTENANT_CAMPAIGN_GPU:-${key:-h100-sxm}}
dir=${dir:-${key%%-*}}
traces_dir=$work/traces/$dir
table_dir=$work/configs/measured/$key
mkdir -p "$traces_dir" "$table_dir"
note "gpu: $gpu_name -> spec $key, traces/$dir (mode $mode)"

export COTENANT_GPU_DIR=$root/configs/gpus
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
cot=$bin/cotenant
runner=()
[[ $mode == rehearse ]] && runner=(--runner fake)

# CUPTI and cudart: prefer the copies PyTorch loads (one CUPTI per process).
find_lib() { # NAME: the first match, PyTorch's own first
  local site
  site=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' 2>/dev/null || true)
  # shellcheck disable=SC2231  # $1 is a glob pattern on purpose
  for f in ${site:+"$site"/nvidia/*/lib/$1} ${site:+"$site"/nvidia/*/*/lib/$1} \
    /usr/local/cuda/lib64/$1 /usr/local/cuda/lib/$1 /usr/local/cuda/extras/CUPTI/lib64/$1 \
    /usr/local/cuda-*/lib64/$1 /usr/local/cuda-*/lib/$1 /usr/lib/x86_64-linux-gnu/$1; do
    [[ -e $f ]] && {
      echo "$f"
      return
    }
  done
  return 0
}
if [[ $mode == run ]]; then
  cupti=$(find_lib 'libcupti.so.1[0-9]*')
  cudart=$(find_lib 'libcudart.so.1[0-9]*')
  [[ -n $cupti ]] && export COTENANT_CUPTI_LIB=$cupti
  ldp=""
  for f in "$cupti" "$cudart"; do [[ -n $f ]] && ldp=$ldp${ldp:+:}$(dirname "$f"); done
  export LD_LIBRARY_PATH=$ldp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  note "cupti: ${cupti:-not found}; cudart: ${cudart:-not found}"
fi

# ------------------------------------------------------------------ packing

pack() {
  local end=$((SECONDS - started)) s
  trap - EXIT INT TERM
  if [[ -n $bg_pid ]] && kill -0 "$bg_pid" 2>/dev/null; then
    kill "$bg_pid" 2>/dev/null || true
    status[tables]="stopped at the end (unfinished)"
  fi
  {
    echo "cotenant GPU campaign ($mode), $(date -u +%Y-%m-%dT%H:%M:%SZ), ${end} s of ${total_s} s"
    echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    for s in "${steps[@]}"; do
      printf '%-14s %-40s %5s s (budget %d)\n' "$s" "${status[$s]:-not reached}" \
        "${took[$s]:--}" "${budget[$s]}"
    done
    printf '%s\n' "${summary[@]}"
  } >"$camp/summary.txt"
  "$python" - "$camp/summary.txt" "$camp/summary.json" "$key" "$gpu_name" "$mode" "$end" \
    "${steps[@]}" <<'PY' || true
import json, sys
txt, out, key, name, mode, end, *steps = sys.argv[1:]
lines = open(txt).read().splitlines()
doc = {"schema": "cotenant-campaign.summary/1", "gpu": key, "device": name, "mode": mode,
       "elapsed_s": int(end), "steps": {}, "notes": []}
for line in lines[2:]:
    word = line.split(" ", 1)[0]
    if word in steps:
        doc["steps"][word] = line[len(word):].strip()
    else:
        doc["notes"].append(line)
json.dump(doc, open(out, "w"), indent=1)
PY
  cp "$camp/summary.txt" "$OUT/summary.txt"
  [[ -f $camp/summary.json ]] && cp "$camp/summary.json" "$OUT/summary.json"
  tar -czf "$OUT/campaign.tar.gz.tmp" -C "$work" . && mv "$OUT/campaign.tar.gz.tmp" "$OUT/campaign.tar.gz"
  cp "$log" "$OUT/campaign.log" 2>/dev/null || true
  echo "=== summary (in $OUT: $(cd "$OUT" && echo *))"
  cat "$camp/summary.txt"
  rm -rf "$work"
}
trap pack EXIT
trap 'exit 143' INT TERM

# step NAME FUNCTION: runs FUNCTION under the step's budget, or skips it.
step() {
  local name=$1 fn=$2 b=${budget[$1]} t0=$SECONDS rc=0
  local elapsed=$((SECONDS - started))
  if [[ ,${COTENANT_CAMPAIGN_SKIP:-}, == *",$name,"* ]]; then
    status[$name]="skipped: COTENANT_CAMPAIGN_SKIP"
    say "== $name: ${status[$name]}"
    return 0
  fi
  if ((elapsed + b > total_s)); then
    status[$name]="skipped: would overrun (${elapsed}+${b} s > ${total_s} s)"
    say "== $name: ${status[$name]}"
    return 0
  fi
  say "== $name (budget $b s)"
  step_deadline=$((SECONDS + b))
  "$fn" || rc=$?
  took[$name]=$((SECONDS - t0))
  if ((rc == 124)); then
    status[$name]="timeout (stopped at $b s)"
  elif ((rc != 0)); then
    status[$name]="failed (rc $rc)"
  else
    status[$name]=${status[$name]:-ok}
  fi
  say "== $name: ${status[$name]} in ${took[$name]} s"
  return 0
}

left() { # seconds left in the current step
  echo $((step_deadline - SECONDS))
}

# bounded SECONDS LOGNAME CMD...: CMD under a timeout, output to a log.
bounded() {
  local t=$1 name=$2
  shift 2
  if ((t < 3)); then
    echo "skipped: no time left" >"$camp/logs/$name.log"
    return 124
  fi
  timeout --kill-after=5 "$t" "$@" >"$camp/logs/$name.log" 2>&1
}

# ------------------------------------------------------------------ steps

do_sanity() {
  local s=$camp/sanity rc
  nvidia-smi >"$s/nvidia-smi.txt" 2>&1 || true
  nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,power.draw,power.limit,temperature.gpu,memory.total \
    --format=csv >"$s/nvidia-smi-query.csv" 2>&1 || true
  nvidia-smi -q -d CLOCK >"$s/clocks.txt" 2>&1 || true
  note "nvidia-smi: $(tail -1 "$s/nvidia-smi-query.csv")"
  {
    echo "uname: $(uname -a)"
    grep PRETTY_NAME /etc/os-release || true
    echo "ldd: $(ldd --version 2>&1 | head -1)"
    command -v nvcc >/dev/null && nvcc --version | tail -2
    cmake --version 2>/dev/null | head -1
    "$python" -c 'import sys, torch; print("python", sys.version.split()[0]); print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())' 2>&1
    "$python" -c 'import torchvision, transformers; print("torchvision", torchvision.__version__); print("transformers", transformers.__version__)' 2>&1
    "$python" -c 'import cuda.bindings; print("cuda.bindings", cuda.bindings.__version__)' 2>&1 || true
    echo "COTENANT_CUPTI_LIB=${COTENANT_CUPTI_LIB:-}"
    echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
    for f in "$cot" "$bin/libcotenant_inject.so" "$bin/two_streams"; do
      echo "ldd $f:"
      ldd "$f" 2>&1 | sed 's/^/  /'
    done
    "$cot" --version 2>&1
  } >"$s/versions.txt" 2>&1
  note "versions: $(grep -E '^(torch|transformers|cuda.bindings) ' "$s/versions.txt" | tr '\n' ';')"
  rc=0
  bounded 20 profile_gpu_test tests/profiler/gpu/profile_e2e_test.sh "$cot" "$bin/two_streams" || rc=$?
  note "[gpu] profile_gpu_test: rc $rc: $(tail -1 "$camp/logs/profile_gpu_test.log")"
  rc=0
  bounded $(($(left) - 2)) replay_gpu_test tests/replay/gpu/replay_e2e_test.sh "$cot" || rc=$?
  note "[gpu] replay_gpu_test: rc $rc: $(tail -1 "$camp/logs/replay_gpu_test.log")"
}

profile_one() { # MODEL:BATCH OUTFILE TIMEOUT EXTRA...
  local m=$1 out=$2 t=$3
  shift 3
  bounded "$t" "profile_$(basename "$out" .json)$*" "$cot" profile --nvtx --window profiler \
    --tenant "${m%%:*}" -o "$out" "$@" -- "$python" tools/zoo/run_model.py --model "${m%%:*}" \
    --batch "${m##*:}" --dtype "$dtype" --warmup 10
}

do_traces() {
  local m n=0 failed=()
  for m in "${traces[@]}"; do
    if (($(left) < 8)); then
      failed+=("$m (no time)")
      continue
    fi
    if profile_one "$m" "$traces_dir/$(trace_path "$m")" $(($(left) < 45 ? $(left) : 45)); then
      n=$((n + 1))
    else
      failed+=("$m")
    fi
  done
  local missing=""
  ((${#failed[@]} > 0)) && missing="; not written: ${failed[*]}"
  note "traces: $n of ${#traces[@]} written to traces/$dir$missing"
  ((n > 0))
}

do_counters() {
  local m n=0
  mkdir -p "$traces_dir/counters"
  for m in "${counter_traces[@]}"; do
    (($(left) < 8)) && break
    if profile_one "$m" "$traces_dir/counters/$(trace_path "$m")" $(($(left) - 1)) --counters; then
      n=$((n + 1))
    fi
  done
  note "counters: $n of ${#counter_traces[@]} traces with DRAM counters (traces/$dir/counters)"
  ((n > 0))
}

do_kineto() {
  local k=$traces_dir/kineto p=$camp/predict/kineto m f base line n=0 dram
  mkdir -p "$k" "$p"
  if [[ $mode == rehearse ]]; then
    # No GPU: the bundled example (synthetic, A100) stands in for a capture.
    cp "$root/examples/resnet50_a100.pt.trace.json.gz" "$k/resnet50_b8.pt.trace.json.gz"
  else
    for m in "${kineto_traces[@]}"; do
      (($(left) < 12)) && break
      bounded 12 "kineto_${m%%:*}" "$python" tools/zoo/run_model.py --model "${m%%:*}" \
        --batch "${m##*:}" --dtype "$dtype" --warmup 10 \
        --kineto "$k/${m%%:*}_b${m##*:}.pt.trace.json" ||
        note "kineto: capture of $m failed: $(tail -1 "$camp/logs/kineto_${m%%:*}.log")"
    done
    (($(left) > 10)) && { bounded 8 kineto_graph_poll "$python" tools/gpu/graph_poll.py \
      "$k/graph_poll.pt.trace.json" ||
      note "kineto: graph_poll.py failed: $(tail -1 "$camp/logs/kineto_graph_poll.log")"; }
  fi
  for f in "$k"/*.pt.trace.json*; do
    [[ -f $f ]] || continue
    base=$(basename "$f")
    base=${base%%.pt.trace.json*}
    if ! bounded 10 "import_$base" "$cot" import kineto "$f" -o "$k/$base.json"; then
      note "kineto: import $base failed: $(tail -1 "$camp/logs/import_$base.log")"
      continue
    fi
    [[ $f == *.json ]] && gzip -f "$f"
    "$cot" simulate "$k/$base.json" --json "$p/$base.result.json" >/dev/null 2>&1 || continue
    line=$("$python" tools/gpu/kineto_check.py span "$k/$base.json" "$p/$base.result.json")
    note "kineto: $base replayed alone: $line"
    note "  $(grep -E '^  (DRAM figures|polls) ' "$camp/logs/import_$base.log" | tr -s ' ' | tr '\n' ';')"
    n=$((n + 1))
  done
  # The import's DRAM estimates against measured counters, by operator.
  dram=$traces_dir/counters/resnet50_b8.json
  [[ $mode == rehearse ]] && dram=$traces_dir/resnet50_b8.json
  if [[ -f $dram && -f $k/resnet50_b8.json ]]; then
    "$python" tools/gpu/kineto_check.py dram "$k/resnet50_b8.json" "$dram" >"$p/dram_resnet50_b8.json" &&
      note "kineto: resnet50 b8 DRAM estimated/measured by operator: $("$python" tools/gpu/kineto_check.py dram-line "$p/dram_resnet50_b8.json")"
  fi
  ((n > 0))
}

do_corun() {
  local extra=()
  [[ $mode == rehearse ]] && extra=(--fake --modes "streams,processes"
    --mix resnet50:8+mobilenetv2:8 --mix resnet50:8+vgg16:8 --mix bert-base:8+resnet50:8
    --mix mobilenetv2:8+resnet50:8+vgg16:8)
  bounded $(($(left) - 2)) corun "$python" tools/gpu/corun.py --gpu "$key" --dtype "$dtype" \
    --reps 7 --warmup 3 --budget-s $((budget[corun] * 3 / 4)) --out-dir "$table_dir" \
    --trace-dir "$traces_dir" "${extra[@]}"
  local rc=$?
  note "corun: $(tail -1 "$camp/logs/corun.log")"
  while read -r l; do
    note "  $l"
  done < <(grep -E '^corun.py: (skipped|green)' "$camp/logs/corun.log" | head -20)
  return $rc
}

# A workload of trace members (one closed request each unless given).
write_workload() { # OUT REQUESTS MEMBER...
  local out=$1 requests=$2
  shift 2
  "$python" - "$out" "$key" "$traces_dir" "$requests" "$@" <<'PY'
import json, os, sys
out, key, traces, requests, *members = sys.argv[1:]
tenants, seen = [], {}
for m in members:
    model, batch = m.split(":")
    name = model.replace("-", "_")
    seen[name] = seen.get(name, 0) + 1
    if seen[name] > 1:
        name += f"_{seen[name]}"
    tenants.append({"name": name,
                    "trace": os.path.relpath(os.path.join(traces, f"{model}_b{batch}.json"),
                                             os.path.dirname(out)),
                    "requests": int(requests), "arrival": {"kind": "closed"}})
json.dump({"schema": "cotenant.workload/1", "gpu": key, "tenants": tenants,
           "objective": "makespan"}, open(out, "w"), indent=1)
PY
}

do_search() {
  local p=$camp/predict m share sms
  for m in "${replay_members[@]}"; do
    [[ -f $traces_dir/$(trace_path "$m") ]] || {
      note "search: no trace $(trace_path "$m"): no replay workload"
      return 1
    }
  done
  write_workload "$p/replay3.json" "$replay_requests" "${replay_members[@]}"
  sms=$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["sm_count"])' \
    "configs/gpus/$key.json")
  share=$((sms / ${#replay_members[@]} / 8 * 8))
  "$python" - "$p/replay3.json" "$p/equal.json" "$share" <<'PY'
import json, sys
w = json.load(open(sys.argv[1]))
json.dump({"schema": "cotenant.plan/1",
           "tenants": {t["name"]: {"sm_count": int(sys.argv[3])} for t in w["tenants"]}},
          open(sys.argv[2], "w"), indent=1)
PY
  bounded $(($(left) - 1)) search "$cot" search -w "$p/replay3.json" --budget 300 -j 8 --seed 1 \
    -o "$p/searched.json" --json "$p/search.json"
  local rc=$?
  note "search: $(grep -iE 'best|speedup' "$camp/logs/search.log" | tail -2 | tr '\n' ' ')"
  return $rc
}

do_replay() {
  local p=$camp/predict
  local plans=(--plan native --plan "$p/equal.json")
  [[ -f $p/replay3.json ]] || {
    note "replay: no workload (search step did not run)"
    return 1
  }
  [[ -f $p/searched.json ]] && plans+=(--plan "$p/searched.json")
  bounded $(($(left) - 1)) validate_replay "$cot" validate -w "$p/replay3.json" "${plans[@]}" \
    --repeat 3 --json "$p/validate_replay.json" "${runner[@]}"
  local rc=$?
  note "validate --workload (replay): $(grep -E '^\|error\||^ranking' "$camp/logs/validate_replay.log" | tr '\n' ' ')"
  return $rc
}

do_calibrate_gpu() {
  bounded $(($(left) - 1)) calibrate_gpu "$cot" calibrate --gpu "$key" --every "$calibrate_every" \
    -o "$camp/calibration/$key.json" --report "$camp/calibration/fit.json" "${runner[@]}"
  local rc=$?
  note "calibrate --gpu: $(grep -E 'benchmarks|corun_slowdown|dram_efficiency' "$camp/logs/calibrate_gpu.log" | tr -s ' ' | tr '\n' ';')"
  return $rc
}

# The CPU-only predictions from the measured tables; run in the background.
tables_jobs() {
  set +e # each job is bounded and logged; one failing does not stop the others
  local p=$camp/predict c=$camp/calibration t i=0 members
  for t in "$table_dir"/*.csv; do
    [[ -f $t ]] || continue
    timeout 60 "$cot" validate --measured "$t" --json "$p/validate_$(basename "$t" .csv).json" \
      >"$camp/logs/validate_$(basename "$t" .csv).log" 2>&1 || true
  done
  if [[ -f $table_dir/streams.csv ]]; then
    # simulate: each mix of the streams table, one request per member.
    while IFS=, read -r _ _ members _ _ _; do
      [[ $members == *+* ]] || continue
      i=$((i + 1))
      local list=()
      mapfile -t list < <(echo "$members" | tr '+' '\n' |
        sed -E 's#.*/([a-z0-9-]+)_b([0-9]+)\.json#\1:\2#')
      write_workload "$p/mix$i.json" 1 "${list[@]}"
      timeout 30 "$cot" simulate -w "$p/mix$i.json" --json "$p/mix$i.result.json" \
        >"$camp/logs/simulate_mix$i.log" 2>&1 || true
    done < <(grep -v '^#' "$table_dir/streams.csv" | tail -n +2)
    timeout 120 "$cot" calibrate --measured "$table_dir/streams.csv" -o "$c/streams-cal.json" \
      >"$camp/logs/calibrate_measured.log" 2>&1 || true
    if [[ -f $c/streams-cal.json ]]; then
      timeout 60 "$cot" validate --measured "$table_dir/streams.csv" --calibration \
        "$c/streams-cal.json" --json "$p/validate_streams_cal.json" \
        >"$camp/logs/validate_streams_cal.log" 2>&1 || true
    fi
    timeout 120 "$cot" validate --measured "$table_dir/streams.csv" --kfold 4 --summary-only \
      >"$camp/logs/validate_streams_kfold.log" 2>&1 || true
  fi
}

do_tables() {
  if [[ -z $bg_pid ]]; then
    note "tables: not started (no measured table)"
    return 1
  fi
  local rc=0 f
  while kill -0 "$bg_pid" 2>/dev/null; do
    if (($(left) <= 0)); then
      kill "$bg_pid" 2>/dev/null || true
      rc=124
      break
    fi
    sleep 1
  done
  wait "$bg_pid" 2>/dev/null || true
  bg_pid=""
  for f in "$camp"/logs/validate_*.log "$camp/logs/calibrate_measured.log"; do
    [[ -f $f && $f != *validate_replay* ]] || continue
    note "$(basename "$f" .log): $(grep -v '^ *$' "$f" | tail -1)"
  done
  return $rc
}

# ------------------------------------------------------------------ run

if [[ $mode == rehearse ]]; then
  # No GPU: the bundled synthetic traces stand in for step 2's.
  for m in "${traces[@]}"; do
    f=$root/traces/synthetic/$(trace_path "$m")
    [[ -f $f ]] && cp "$f" "$traces_dir/"
  done
  status[sanity]="skipped: rehearsal"
  status[traces]="skipped: rehearsal (traces/synthetic copied)"
  status[counters]="skipped: rehearsal"
else
  step sanity do_sanity
  step traces do_traces
  step counters do_counters
fi
step kineto do_kineto
step corun do_corun
if ls "$table_dir"/*.csv >/dev/null 2>&1; then
  tables_jobs >"$camp/logs/tables.log" 2>&1 &
  bg_pid=$!
fi
step search do_search
step replay do_replay
step calibrate_gpu do_calibrate_gpu
step tables do_tables
