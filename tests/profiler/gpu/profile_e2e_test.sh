#!/usr/bin/env bash
# [gpu] End-to-end check of `cotenant profile`: profiles two_streams (built
# from two_streams.cu, whose comment lists the work it does) and checks the
# trace: the 5 kernels with their launch shapes, their 2 streams, each
# kernel's launch through its correlation, the H2D copy and its size, the
# event record/wait pair, the stream and device syncs, and the NVTX operator
# labels "outer" and "inner". Exits 77 (skip) when there is no CUDA device.
# Usage: profile_e2e_test.sh PATH/TO/cotenant PATH/TO/two_streams
set -u
bin=$1
prog=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# (a) The program alone: exit 77 means no device or no usable driver.
out=$("$prog" 2>&1)
rc=$?
if [[ $rc -eq 77 ]]; then
  reason=${out#two_streams: no CUDA device: }
  echo "SKIP [gpu]: no CUDA device: $reason"
  exit 77
fi
if [[ $rc -ne 0 ]]; then
  echo "FAIL: $prog alone exited with status $rc:"
  echo "$out"
  exit 1
fi

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# (b) Profiled with NVTX labels, and without.
if ! timeout 300 "$bin" profile --nvtx --tenant two_streams -o "$work/T.json" -- "$prog" \
  >"$work/nvtx.out" 2>&1; then
  fail "cotenant profile --nvtx failed:"$'\n'"$(cat "$work/nvtx.out")"
fi
if ! timeout 300 "$bin" profile -o "$work/plain.json" -- "$prog" >"$work/plain.out" 2>&1; then
  fail "cotenant profile (no --nvtx) failed:"$'\n'"$(cat "$work/plain.out")"
fi
if [[ $failures -ne 0 ]]; then
  echo "profile_e2e_test: $failures failures"
  exit 1
fi
cat "$work/nvtx.out"
"$bin" inspect "$work/T.json" >/dev/null || fail "cotenant inspect cannot read the trace"

# (c) The trace, checked field by field.
python3 - "$work/T.json" "$work/plain.json" <<'PY' || failures=$((failures + 1))
import json
import sys

nvtx = json.load(open(sys.argv[1]))
plain = json.load(open(sys.argv[2]))
problems = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        problems.append(what)
    return cond


# name: (grid, block, dynamic smem, stream letter, expected op or None)
EXPECTED = {
    "k_a1": ([4, 2, 1], [128, 1, 1], 0, "A", "outer"),
    "k_a2": ([8, 1, 1], [64, 2, 1], 1024, "A", "inner"),
    "k_a3": ([16, 1, 1], [256, 1, 1], 4096, "A", "inner"),
    "k_b1": ([2, 1, 1], [32, 1, 1], 0, "B", "outer"),
    "k_b2": ([1, 1, 1], [512, 1, 1], 8192, "B", None),
}
COPY_BYTES = 1 << 20


def end(t):
    return t["start_ns"] + t["dur_ns"]


def check_trace(t, label, with_ops):
    tasks = t["tasks"]
    check(t.get("schema") == "cotenant.trace/1", f"{label}: schema is {t.get('schema')!r}")
    meta = t.get("meta", {})
    check(meta.get("exit_status") == 0, f"{label}: meta.exit_status is {meta.get('exit_status')!r}")
    check(meta.get("dropped_records", 0) == 0,
          f"{label}: {meta.get('dropped_records')} dropped records")
    # DRAM figures estimated after the capture: the five test kernels' names
    # have no class (k_a1, ...), so every one is counted with no figure.
    mem = meta.get("memory", {})
    check(mem.get("none") == 5 and mem.get("counter") == 0 and mem.get("name") == 0,
          f"{label}: meta.memory {mem!r}, expected 5 kernels without a figure")
    by_kind = {}
    for task in tasks:
        by_kind.setdefault(task["kind"], []).append(task)
    kernels = by_kind.get("kernel", [])
    launches = {x["correlation"]: x for x in by_kind.get("launch", []) if "correlation" in x}

    # Exactly the 5 kernels, each once.
    names = sorted(k.get("name", "") for k in kernels)
    if not check(names == sorted(EXPECTED), f"{label}: kernels {names}, expected {sorted(EXPECTED)}"):
        return
    k = {x["name"]: x for x in kernels}

    # Launch shapes (smem = static 0 + dynamic).
    for name, (grid, block, smem, _, _) in EXPECTED.items():
        check(k[name].get("grid") == grid, f"{label}: {name}.grid {k[name].get('grid')}, expected {grid}")
        check(k[name].get("block") == block,
              f"{label}: {name}.block {k[name].get('block')}, expected {block}")
        check(k[name].get("smem", 0) == smem,
              f"{label}: {name}.smem {k[name].get('smem', 0)}, expected {smem}")

    # Two distinct streams: A for k_a*, B for k_b*.
    sa, sb = k["k_a1"]["stream"], k["k_b1"]["stream"]
    check(sa != sb, f"{label}: streams A and B are the same ({sa})")
    for name, (_, _, _, letter, _) in EXPECTED.items():
        want = sa if letter == "A" else sb
        check(k[name]["stream"] == want,
              f"{label}: {name} on stream {k[name]['stream']}, expected stream {letter} ({want})")
    check(len({x["stream"] for x in kernels}) == 2, f"{label}: kernels on more than 2 streams")

    # Each kernel's correlation names a cudaLaunchKernel-like launch task that ends
    # before the kernel starts, on one host thread.
    threads = set()
    for name in EXPECTED:
        c = k[name].get("correlation")
        launch = launches.get(c)
        if check(launch is not None, f"{label}: {name} (correlation {c}) has no launch task"):
            check("Launch" in launch.get("name", ""),
                  f"{label}: {name}'s launch is {launch.get('name')!r}")
            check(launch["start_ns"] <= k[name]["start_ns"],
                  f"{label}: {name} starts before its launch")
            threads.add(launch.get("thread"))
    check(len(threads) == 1, f"{label}: launches on threads {sorted(map(str, threads))}, expected one")

    # Stream order, and the event wait: k_b1 starts after k_a3 (and the copy) ended.
    check(end(k["k_a1"]) <= k["k_a2"]["start_ns"] and end(k["k_a2"]) <= k["k_a3"]["start_ns"],
          f"{label}: stream A kernels out of order")
    check(end(k["k_b1"]) <= k["k_b2"]["start_ns"], f"{label}: stream B kernels out of order")
    check(end(k["k_a3"]) <= k["k_b1"]["start_ns"],
          f"{label}: k_b1 starts before k_a3 ends despite the event wait")

    # The copy: one H2D memcpy of 1 MiB on stream A, launched by cudaMemcpyAsync.
    copies = by_kind.get("memcpy", [])
    if check(len(copies) == 1, f"{label}: {len(copies)} memcpy tasks, expected 1"):
        m = copies[0]
        check(m.get("dir") == "h2d", f"{label}: memcpy dir {m.get('dir')!r}, expected 'h2d'")
        check(m.get("bytes") == COPY_BYTES, f"{label}: memcpy bytes {m.get('bytes')}, expected {COPY_BYTES}")
        check(m.get("stream") == sa, f"{label}: memcpy on stream {m.get('stream')}, expected A ({sa})")
        launch = launches.get(m.get("correlation"))
        if check(launch is not None, f"{label}: the memcpy has no launch task"):
            check("Memcpy" in launch.get("name", ""),
                  f"{label}: the memcpy's launch is {launch.get('name')!r}")
        check(end(m) <= k["k_a1"]["start_ns"], f"{label}: k_a1 starts before the copy ends")

    # The event: recorded on A, waited for on B, same event id.
    records = by_kind.get("event_record", [])
    waits = by_kind.get("stream_wait", [])
    if check(len(records) == 1 and len(waits) == 1,
             f"{label}: {len(records)} event_record and {len(waits)} stream_wait tasks, expected 1 and 1"):
        check(records[0].get("stream") == sa,
              f"{label}: event_record on stream {records[0].get('stream')}, expected A ({sa})")
        check(waits[0].get("stream") == sb,
              f"{label}: stream_wait on stream {waits[0].get('stream')}, expected B ({sb})")
        check(records[0].get("event") == waits[0].get("event"),
              f"{label}: event_record event {records[0].get('event')} != stream_wait event "
              f"{waits[0].get('event')}")
        check(records[0]["start_ns"] <= waits[0]["start_ns"], f"{label}: the wait comes before the record")

    # The syncs: cudaStreamSynchronize(B), then cudaDeviceSynchronize.
    syncs = by_kind.get("sync", [])
    stream_syncs = [s for s in syncs if s.get("scope") == "stream"]
    device_syncs = [s for s in syncs if s.get("scope") == "device"]
    if check(len(stream_syncs) == 1, f"{label}: {len(stream_syncs)} stream syncs, expected 1"):
        check(stream_syncs[0].get("stream") == sb,
              f"{label}: stream sync on {stream_syncs[0].get('stream')}, expected B ({sb})")
        check(end(stream_syncs[0]) >= end(k["k_b2"]),
              f"{label}: the stream sync ends before k_b2 does")
    if check(len(device_syncs) == 1, f"{label}: {len(device_syncs)} device syncs, expected 1"):
        if stream_syncs:
            check(device_syncs[0]["start_ns"] >= stream_syncs[0]["start_ns"],
                  f"{label}: the device sync comes before the stream sync")

    # Operator labels: the innermost NVTX range open at each launch.
    for name, (_, _, _, _, op) in EXPECTED.items():
        want = op if with_ops else None
        check(k[name].get("op") == want, f"{label}: {name}.op {k[name].get('op')!r}, expected {want!r}")


check_trace(nvtx, "--nvtx", True)
check(nvtx.get("tenant") == "two_streams", f"--nvtx: tenant {nvtx.get('tenant')!r}")
check_trace(plain, "no --nvtx", False)
check(plain.get("tenant") == "plain", f"no --nvtx: tenant {plain.get('tenant')!r}, expected 'plain'")
for p in problems:
    print("FAIL:", p)
print(f"trace checks: {checks} checks, {len(problems)} failures")
sys.exit(1 if problems else 0)
PY

echo "profile_e2e_test: $failures failures"
[[ $failures -eq 0 ]]
