#!/usr/bin/env bash
# Runs one libFuzzer target by hand for SECONDS (default 120): builds it in
# build-fuzz/ (tests/fuzz/build.sh: clang, ASan, UBSan), then fuzzes with its
# seed corpus (tests/fuzz/corpus/TARGET/, read only) and its dictionary, keeping
# what it learns in build-fuzz/corpus-TARGET/ (reused by the next run) and any
# crash in build-fuzz/artifacts/TARGET/. Extra arguments go to libFuzzer
# (e.g. -jobs=2, -only_ascii=1); a file argument instead runs just that input.
#   tests/fuzz/run.sh [SECONDS] [TARGET] [LIBFUZZER ARGS...]
#   tests/fuzz/run.sh repro TARGET FILE...        (run inputs once, no fuzzing)
# COTENANT_FUZZ_BUILD=0 skips the build step (several runs at once share
# one build directory: build first, then start them).
# Targets: kineto trace_reader workload_reader plan_reader space_reader
# sim_trace sim_workload cupti_records (with CUPTI). See docs/FUZZING.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build-fuzz
if [[ ${1:-} == repro ]]; then
  target=${2:?target}
  shift 2
  tests/fuzz/build.sh "$out" "fuzz_$target" >/dev/null
  exec "$out/fuzz_$target" "$@"
fi
seconds=${1:-120}
target=${2:-trace_reader}
shift 2 || shift $#
case $target in  # the names before the targets were split
  trace_fuzz) target=sim_trace ;;
  workload_fuzz) target=sim_workload ;;
esac
[[ -f tests/fuzz/${target}_fuzz.cpp ]] || { echo "run.sh: no target $target" >&2; exit 2; }
[[ ${COTENANT_FUZZ_BUILD:-1} == 0 ]] || tests/fuzz/build.sh "$out" "fuzz_$target" >/dev/null
corpus=$out/corpus-$target
artifacts=$out/artifacts/$target
mkdir -p "$corpus" "$artifacts"
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536
      -print_final_stats=1 -artifact_prefix="$artifacts/")
[[ -f tests/fuzz/dict/$target.dict ]] && args+=(-dict="tests/fuzz/dict/$target.dict")
exec "$out/fuzz_$target" "${args[@]}" "$@" "$corpus" "tests/fuzz/corpus/$target"
