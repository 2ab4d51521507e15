#!/usr/bin/env bash
# Profiles the model zoo with `cotenant profile`: every model at every batch
# size, one steady-state inference request each, NVTX operator labels on.
# Writes OUTDIR/<model>_b<batch>.json (default OUTDIR: out/zoo, not tracked).
#
# Usage: tools/zoo/profile_zoo.sh [OUTDIR]
# Environment:
#   COTENANT  the cotenant binary (default: build/cotenant, else on PATH)
#   MODELS    models to run (default: resnet50 mobilenetv2 vgg16 inceptionv3
#             densenet121 bert-base)
#   BATCHES   batch sizes (default: 1 8 32)
#   DTYPE     fp32 or fp16 (default fp32)
#   WARMUP    warm-up requests before the profiled one (default 20)
#   PROFILE_ARGS  extra options for cotenant profile (e.g. --counters)
# A run that fails is reported and the loop goes on; the exit status is 1
# when any failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
outdir=${1:-$root/out/zoo}
models=${MODELS:-resnet50 mobilenetv2 vgg16 inceptionv3 densenet121 bert-base}
batches=${BATCHES:-1 8 32}
dtype=${DTYPE:-fp32}
warmup=${WARMUP:-20}

cotenant=${COTENANT:-}
if [[ -z $cotenant ]]; then
  if [[ -x $root/build/cotenant ]]; then
    cotenant=$root/build/cotenant
  else
    cotenant=$(command -v cotenant || true)
  fi
fi
if [[ -z $cotenant || ! -x $cotenant ]]; then
  echo "profile_zoo.sh: error: cotenant not found (build it, or set COTENANT=PATH)" >&2
  exit 2
fi
if ! python3 -c 'import torch' 2>/dev/null; then
  echo "profile_zoo.sh: error: python3 cannot import torch; the zoo needs PyTorch with CUDA" >&2
  exit 2
fi
mkdir -p "$outdir" || exit 2

failed=()
done_count=0
for model in $models; do
  for batch in $batches; do
    out=$outdir/${model}_b${batch}.json
    echo "== $model batch $batch -> $out"
    # shellcheck disable=SC2086  # PROFILE_ARGS is a list of options
    if "$cotenant" profile --nvtx --window profiler --tenant "$model" -o "$out" \
      ${PROFILE_ARGS:-} -- \
      python3 "$here/run_model.py" --model "$model" --batch "$batch" --dtype "$dtype" \
      --warmup "$warmup"; then
      done_count=$((done_count + 1))
    else
      failed+=("${model}_b${batch}")
    fi
  done
done

echo "profile_zoo.sh: $done_count traces written to $outdir"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "profile_zoo.sh: failed: ${failed[*]}" >&2
  exit 1
fi
