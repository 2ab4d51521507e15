#!/usr/bin/env bash
# [gpu] End-to-end check of `cotenant replay` and `validate` on the small
# workloads in data/ (two tenants: a GPU-filling compute kernel x4, and a
# 4 MB copy plus a memory-bound kernel x4; and trace_good.json, which has
# every task kind, an event record/wait and a per-kernel priority and SM cap).
# Checks what must hold on any GPU, whatever the simulator's accuracy:
#   - both timing paths (CUPTI through libcotenant_inject.so, and stamps) run
#     and say which they used, with the driver version;
#   - every kernel of every request is measured (12 per tenant);
#   - isolated replay fidelity: each kernel of a tenant alone takes its
#     traced 200 us within 10% (the issue's target is a median under 3%; the
#     bound here only catches a broken kernel sizing);
#   - the sequential plan really runs tenant a entirely before tenant b;
#   - partitions, max_connections 1 (its own process) and side streams run;
#   - validate compares two plans and writes its JSON.
# Exits 77 (skip) when there is no usable CUDA device.
# Usage: replay_e2e_test.sh PATH/TO/cotenant
set -u
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
data=$here/data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# (a) No device: the replay's own one-line reason, and skip.
out=$("$bin" replay -w "$data/alone.json" -o "$work/alone.json" --timing stamps \
  --traces "$work/alone" 2>&1)
rc=$?
if [[ $rc -ne 0 && $out == *"replay needs a CUDA GPU"* ]]; then
  echo "SKIP [gpu]: ${out#cotenant: error: }"
  exit 77
fi

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
[[ $rc -eq 0 ]] || fail "replay of alone.json failed:"$'\n'"$out"

run() {  # run NAME ARGS...: cotenant ARGS, output kept in $work/NAME.out
  local name=$1
  shift
  if ! timeout 300 "$bin" "$@" >"$work/$name.out" 2>&1; then
    fail "cotenant $* failed:"$'\n'"$(cat "$work/$name.out")"
  fi
}
run cupti replay -w "$data/pair.json" -o "$work/cupti.json" --timing cupti --repeat 2 \
  --sizing-report "$work/cupti-cal.json" --traces "$work/cupti"
run stamps replay -w "$data/pair.json" -o "$work/stamps.json" --timing stamps \
  --traces "$work/stamps"
run sequential replay -w "$data/pair.json" --plan "$data/sequential.json" \
  -o "$work/sequential.json" --traces "$work/sequential"
run partition replay -w "$data/pair.json" --plan "$data/partition.json" \
  -o "$work/partition.json" --sizing-report "$work/partition-cal.json"
run one_queue replay -w "$data/pair.json" --plan "$data/one_queue.json" \
  -o "$work/one_queue.json" --sizing-report "$work/one_queue-cal.json"
run every_kind replay -w "$data/every_kind.json" -o "$work/every_kind.json" \
  --sizing-report "$work/every_kind-cal.json" --timeline "$work/every_kind-timeline.json"
run validate validate -w "$data/pair.json" --plan native --plan "$data/sequential.json" \
  --repeat 1 --json "$work/validation.json"
cat "$work/cupti.out" "$work/validate.out"

python3 - "$work" <<'PY' || failures=$((failures + 1))
import json
import os
import sys

work = sys.argv[1]
problems = []
checks = 0


def check(ok, what):
    global checks
    checks += 1
    if not ok:
        problems.append(what)


def load(name):
    path = os.path.join(work, name)
    if not os.path.exists(path):
        problems.append("missing output " + name)
        return None
    with open(path) as f:
        return json.load(f)


def kernels(prefix, tenant):
    t = load("%s-%s.json" % (prefix, tenant))
    return [] if t is None else [x for x in t["tasks"] if x["kind"] == "kernel"]


for name, timing in (("cupti", "cupti"), ("stamps", "stamps")):
    r = load(name + ".json")
    if r is None:
        continue
    check(r["schema"] == "cotenant.result/1" and r["model"] == "measured", name + ": a measured result")
    check(r["timing"] == timing, "%s: timing %r, expected %r" % (name, r["timing"], timing))
    check(r["driver_version"] >= 12040, name + ": driver version %r" % r["driver_version"])
    check(r["makespan_ns"] > 0, name + ": makespan > 0")
    for tenant in ("a", "b"):
        ks = kernels(name, tenant)
        check(len(ks) == 12, "%s: tenant %s has %d measured kernels, expected 12" % (name, tenant, len(ks)))
        check(all(k["dur_ns"] > 0 for k in ks), name + ": every kernel took time")
r = load("cupti.json")
s = load("stamps.json")
if r and s:
    check(len(r["run_makespans_ns"]) == 2, "cupti: two runs")
    ratio = r["makespan_ns"] / s["makespan_ns"]
    check(0.85 < ratio < 1.15, "cupti and stamps makespans differ by more than 15%%: %.3f" % ratio)
cal = load("cupti-cal.json")
if cal:
    check(cal["schema"] == "cotenant.replay-calibration/1", "sizing report schema")
    check(len(cal["kernels"]) == 2, "two distinct kernels, found %d" % len(cal["kernels"]))
    for k in cal["kernels"]:
        check(k["replay_dram_bytes"] > 0, k["name"] + ": moves DRAM bytes")
        check(k["occupancy_exact"], k["name"] + ": occupancy matched " + k.get("occupancy_note", ""))
    check(cal["calibration_error_pct"]["median"] < 10.0,
          "kernel sizing median |error| %.2f%%" % cal["calibration_error_pct"]["median"])

# Isolated fidelity: tenant a alone, kernels back to back.
alone = kernels("alone", "a")
check(len(alone) == 8, "alone: %d kernels, expected 8" % len(alone))
for k in alone:
    check(abs(k["dur_ns"] - 200000) <= 20000, "alone: a kernel took %d ns, traced 200000" % k["dur_ns"])

# Sequential plan: every kernel of a ends before any kernel of b starts.
a = kernels("sequential", "a")
b = kernels("sequential", "b")
if a and b:
    a_end = max(k["start_ns"] + k["dur_ns"] for k in a)
    b_start = min(k["start_ns"] for k in b)
    check(a_end <= b_start, "sequential: a ends at %d, b starts at %d" % (a_end, b_start))

p = load("partition-cal.json")
if p:
    check(any("outside every partition" in n for n in p["notes"]), "partition: leftover SMs noted")
q = load("one_queue-cal.json")
if q:
    check(q["max_connections"] == 1, "one_queue: max_connections %r" % q["max_connections"])
e = load("every_kind-cal.json")
if e:
    check(any("side stream" in n for n in e["notes"]), "every_kind: side stream noted")
check(load("every_kind-timeline.json") is not None, "every_kind: timeline written")

v = load("validation.json")
if v:
    check(v["schema"] == "cotenant.validation/1", "validation schema")
    check([x["plan"] for x in v["plans"]] == ["native", "sequential.json"], "validation plans")
    check(len(v["speedups"]) == 1, "one speedup")
    check(v["timing"] in ("cupti", "stamps"), "validation timing")

for p in problems:
    print("FAIL:", p)
print("replay_e2e_test: %d checks, %d failed" % (checks, len(problems)))
sys.exit(1 if problems else 0)
PY

if [[ $failures -ne 0 ]]; then
  echo "replay_e2e_test: $failures failures"
  exit 1
fi
echo "replay_e2e_test: all checks passed"
