#!/usr/bin/env bash
# The GPU campaign (tools/gpu/campaign.sh) on a machine without a GPU:
#   - corun.py --self-test (no torch needed);
#   - --dry-run with every input present: exit 0, "ready", the plan;
#   - --dry-run with the carried binaries missing: exit 1, each named;
#   - the normal mode without a GPU (a failing nvidia-smi first on PATH):
#     exit non-zero, one line, $OUT left empty;
#   - --rehearse: steps 3-4 on the bundled synthetic traces with
#     corun.py --fake and the fake GPU; every step it runs ends ok and the
#     results are packed into $OUT (4 files).
# Usage: campaign_test.sh PATH/TO/cotenant SOURCE_DIR
set -euo pipefail
cotenant=$1
src=$2
campaign=$src/tools/gpu/campaign.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checks=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  checks=$((checks + 1))
  "$@" || fail "$what"
}

# A carried-binaries folder: the real cotenant, stand-ins for the CUDA parts.
bin=$work/bin
mkdir -p "$bin"
cp "$cotenant" "$bin/cotenant"
printf '#!/bin/sh\nexit 77\n' >"$bin/two_streams"
chmod +x "$bin/two_streams"
: >"$bin/libcotenant_inject.so"

check "corun.py --self-test" python3 "$src/tools/gpu/corun.py" --self-test
check "kineto_check.py --self-test" python3 "$src/tools/gpu/kineto_check.py" --self-test

rc=0
COTENANT_CAMPAIGN_BIN=$bin "$campaign" --dry-run >"$work/dry.out" 2>&1 || rc=$?
check "dry run exits 0 (rc $rc): $(tail -3 "$work/dry.out")" test "$rc" -eq 0
check "dry run says ready" grep -q "^campaign.sh --dry-run: ready$" "$work/dry.out"
for s in sanity traces counters kineto corun search replay calibrate_gpu tables; do
  check "dry run plans step $s" grep -qE "^  $s +[0-9]+ s" "$work/dry.out"
done
check "dry run shows the profile command" grep -q \
  'cotenant profile --nvtx --window profiler --tenant llama-1b-decode -o traces/DIR/llama-1b-decode_b8.json' \
  "$work/dry.out"
check "dry run budgets fit the total" bash -c "! grep -q 'over the total' '$work/dry.out'"
rc=0
COTENANT_CAMPAIGN_DRY_RUN=1 COTENANT_CAMPAIGN_BIN=$work/none "$campaign" >"$work/dry2.out" 2>&1 || rc=$?
check "dry run without binaries exits 1 (rc $rc)" test "$rc" -eq 1
check "dry run names the missing cotenant" grep -q "MISSING  $work/none/cotenant" "$work/dry2.out"
check "dry run counts the problems" grep -q "3 problem(s)" "$work/dry2.out"

# No GPU: one line, non-zero, nothing written.
fake_path=$work/path
mkdir -p "$fake_path"
printf '#!/bin/sh\necho "NVIDIA-SMI has failed" >&2\nexit 9\n' >"$fake_path/nvidia-smi"
chmod +x "$fake_path/nvidia-smi"
mkdir -p "$work/out"
rc=0
PATH=$fake_path:$PATH OUT=$work/out COTENANT_CAMPAIGN_BIN=$bin "$campaign" >"$work/refuse.out" 2>&1 ||
  rc=$?
check "refusal exits non-zero" test "$rc" -ne 0
check "refusal is one line: $(cat "$work/refuse.out")" test "$(wc -l <"$work/refuse.out")" -eq 1
check "refusal says why" grep -q "^campaign.sh: error: no GPU here (nvidia-smi -L fails)" "$work/refuse.out"
check "refusal leaves \$OUT empty" test -z "$(ls -A "$work/out")"

# The rehearsal: the whole post-trace pipeline on the fake GPU.
rc=0
OUT=$work/rehearsal COTENANT_CAMPAIGN_BIN=$bin "$campaign" --rehearse >"$work/rehearse.out" 2>&1 ||
  rc=$?
check "rehearsal exits 0 (rc $rc): $(tail -5 "$work/rehearse.out")" test "$rc" -eq 0
check "rehearsal packs 4 files" test "$(cd "$work/rehearsal" 2>/dev/null && echo *)" = \
  "campaign.log campaign.tar.gz summary.json summary.txt"
for s in kineto corun search replay calibrate_gpu tables; do
  check "rehearsal step $s ok: $(grep "^$s " "$work/rehearsal/summary.txt" 2>/dev/null)" \
    grep -qE "^$s +ok " "$work/rehearsal/summary.txt"
done
if [[ -f $work/rehearsal/campaign.tar.gz ]]; then
  tar -tzf "$work/rehearsal/campaign.tar.gz" >"$work/tar.list"
  for f in ./configs/measured/h100-sxm/streams.csv ./configs/measured/h100-sxm/corun.json \
    ./traces/h100/resnet50_b8.json ./campaign/predict/validate_replay.json \
    ./campaign/predict/validate_streams.json ./campaign/calibration/streams-cal.json \
    ./campaign/calibration/h100-sxm.json ./campaign/predict/mix1.result.json \
    ./traces/h100/kineto/resnet50_b8.json ./campaign/predict/kineto/dram_resnet50_b8.json; do
    check "tarball holds $f" grep -qxF "$f" "$work/tar.list"
  done
fi
check "rehearsal replays the imported Kineto trace alone" grep -q \
  '^kineto: resnet50_b8 replayed alone: {"traced_ns": [0-9]*, "simulated_ns": [0-9]*, "error_pct": ' \
  "$work/rehearsal/summary.txt"
check "rehearsal compares DRAM estimates by operator" grep -q \
  '^kineto: resnet50 b8 DRAM estimated/measured by operator: total [0-9.]* over [0-9]* operators' \
  "$work/rehearsal/summary.txt"
check "summary.json parses" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["steps"]["corun"].startswith("ok")' \
  "$work/rehearsal/summary.json"

echo "campaign_test: $checks checks, $failures failures"
((failures == 0))
