#!/bin/sh
# Stands in for a CUDA program under `cotenant profile` in cli_test.sh, so the
# CLI's side of the contract (environment, per-process files, merge, exit
# status) is tested without a GPU: each of PROCESSES child processes writes
# what libcotenant_inject.so would write, to the path the environment names
# with %p replaced by the child's pid. The trace pass copies TRACE; the counter
# pass (COTENANT_COUNTERS set) writes counters for TRACE's two kernels (the
# fixture tests/data/formats/trace_good.json). Then it exits with STATUS.
# STATUS "interrupt" instead sends SIGINT to its parent (cotenant), waits for
# cotenant to forward it, writes its trace on it (as the injection library
# flushes at exit) and dies of it.
# Usage: fake_cuda_program.sh TRACE [PROCESSES [STATUS]]
trace=$1
processes=${2:-1}
status=${3:-0}
echo "fake: tenant=${COTENANT_TENANT-} window=${COTENANT_WINDOW-} nvtx=${COTENANT_NVTX-}"
i=0
while [ "$i" -lt "$processes" ]; do
  if [ -n "${COTENANT_COUNTERS-}" ]; then
    sh -c 'out=$(printf "%s" "$COTENANT_COUNTERS" | sed "s/%p/$$/g")
      printf "%s\n" "{\"schema\": \"cotenant.counters/1\", \"meta\": {\"pid\": $$}, \"kernels\": [
        {\"index\": 0, \"name\": \"sm90_xmma_gemm_f16f16_f16f32\", \"dram_bytes\": 1048576, \"dram_pct\": 25, \"sm_pct\": 70},
        {\"index\": 1, \"name\": \"relu_kernel\", \"dram_bytes\": 4096, \"dram_pct\": 80, \"sm_pct\": 5}]}" >"$out"'
  else
    sh -c 'cp "$1" "$(printf "%s" "$COTENANT_TRACE_OUT" | sed "s/%p/$$/g")"' sh "$trace"
  fi
  i=$((i + 1))
done
if [ "$status" = interrupt ]; then
  sleep 30 &
  sleeper=$!
  trap 'kill "$sleeper"; sh -c '"'"'cp "$1" "$(printf "%s" "$COTENANT_TRACE_OUT" | sed "s/%p/$$/g")"'"'"' sh "$trace"; trap - INT; kill -INT $$' INT
  kill -INT "$PPID"
  wait "$sleeper"
  echo "fake: SIGINT was not forwarded"
  exit 1
fi
exit "$status"
