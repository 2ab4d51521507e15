#!/usr/bin/env bash
# One CTest fuzz test: runs the libFuzzer target TARGET (built by
# tests/fuzz/build.sh in BUILD_DIR) for SECONDS on a scratch copy of its seed
# corpus (tests/fuzz/corpus/TARGET/, which also holds the regressions), with
# its dictionary when there is one. Every seed runs first; any crash, leak,
# sanitizer report, timeout (> 10 s per input) or out-of-memory fails the
# test and leaves the input under BUILD_DIR/artifacts/TARGET/.
#   tests/fuzz/fuzz_test.sh BUILD_DIR TARGET [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$1" && pwd)
target=$2
seconds=${3:-20}
bin=$out/fuzz_$target
if [[ ! -x $bin ]]; then
  if [[ -f $out/skipped ]]; then
    cat "$out/skipped"
    exit 77
  fi
  echo "fuzz: $bin is missing (the fuzz_build test builds it)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts=$out/artifacts/$target
mkdir -p "$artifacts" "$work/corpus"
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536
      -print_final_stats=1 -artifact_prefix="$artifacts/")
[[ -f $here/dict/$target.dict ]] && args+=(-dict="$here/dict/$target.dict")
# New inputs go to the scratch corpus; the seeds are read only.
if ! (cd "$work" && "$bin" "${args[@]}" "$work/corpus" "$here/corpus/$target" >"$work/log" 2>&1); then
  tail -n 80 "$work/log"
  echo "fuzz: $target FAILED; the input is in $artifacts/ (reproduce: $bin FILE)" >&2
  exit 1
fi
grep -E '^(INFO: Seed|Done|stat::number_of_executed_units|stat::peak_rss_mb)|^#[0-9]+.*DONE' \
  "$work/log" || tail -n 5 "$work/log"
