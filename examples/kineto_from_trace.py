#!/usr/bin/env python3
"""Writes a cotenant trace out as a PyTorch profiler (Kineto) Chrome trace.

Used once to make examples/resnet50_a100.pt.trace.json.gz, the stand-in for
a trace someone took on an A100 that the README's worked example imports.
It is synthetic (cotenant synth's roofline estimates on a100-sxm4-40g), not a
capture: the file's top-level "cotenant_example" field says so. The layout
follows what libkineto writes for the current format: deviceProperties, one
ProfilerStep user_annotation, a cpu_op per operator (External id), a
cuda_runtime call per launch (correlation, External id) and the kernel or
memcpy it enqueued (correlation, External id, grid, block, registers, shared
memory), times in microseconds. DRAM figures are dropped: Kineto traces do
not carry them.

usage: kineto_from_trace.py TRACE.json DEVICE_NAME OUT.json[.gz]
"""
import gzip
import json
import sys

if len(sys.argv) != 4:
    sys.exit(__doc__.strip().splitlines()[-1])
src, device, out = sys.argv[1:]
d = json.load(open(src))
strings = d.get("strings", [])


def text(v):
    return strings[v] if isinstance(v, int) else (v or "")


pid, tid, base_us = 4242, 4243, 1000.0
tasks = d["tasks"]
by_corr = {}
for t in tasks:
    if t["kind"] in ("kernel", "memcpy", "memset") and "correlation" in t:
        by_corr.setdefault(t["correlation"], []).append(t)
us = lambda ns: round(base_us + ns / 1000.0, 3)
events = []
end = max(t["start_ns"] + t["dur_ns"] for t in tasks)
events.append({"ph": "X", "cat": "user_annotation", "name": "ProfilerStep#1", "pid": pid,
               "tid": tid, "ts": us(0), "dur": round(end / 1000.0, 3),
               "args": {"External id": 1}})
ext = 1
copy_kind = {"h2d": "HtoD", "d2h": "DtoH", "d2d": "DtoD"}
for t in tasks:
    if t["kind"] != "launch":
        continue
    work = by_corr.get(t.get("correlation"), [])
    ext += 1
    corr = t["correlation"]
    op = text(work[0].get("op")) if work else ""
    if op:
        events.append({"ph": "X", "cat": "cpu_op", "name": op, "pid": pid, "tid": tid,
                       "ts": us(t["start_ns"] - 500), "dur": round((t["dur_ns"] + 1000) / 1000.0, 3),
                       "args": {"External id": ext}})
    events.append({"ph": "X", "cat": "cuda_runtime", "name": text(t.get("name")), "pid": pid,
                   "tid": tid, "ts": us(t["start_ns"]), "dur": round(t["dur_ns"] / 1000.0, 3),
                   "args": {"External id": ext, "correlation": corr}})
    for w in work:
        ev = {"ph": "X", "pid": 0, "tid": w["stream"], "ts": us(w["start_ns"]),
              "dur": round(w["dur_ns"] / 1000.0, 3)}
        args = {"device": 0, "stream": w["stream"], "correlation": corr, "External id": ext}
        if w["kind"] == "kernel":
            ev.update(cat="kernel", name=text(w.get("name")))
            args.update({"registers per thread": w.get("regs", 32),
                         "shared memory": w.get("smem", 0),
                         "grid": w.get("grid", [1, 1, 1]), "block": w.get("block", [1, 1, 1])})
        else:
            kind = copy_kind.get(w.get("dir"), "DtoD")
            ev.update(cat="gpu_memcpy" if w["kind"] == "memcpy" else "gpu_memset",
                      name="Memcpy %s (Pinned -> Device)" % kind if w["kind"] == "memcpy"
                      else "Memset (Device)")
            args["bytes"] = w.get("bytes", 0)
        ev["args"] = args
        events.append(ev)
doc = {"schemaVersion": 1,
       "cotenant_example": "synthetic: written by examples/kineto_from_trace.py from " +
                           "`cotenant synth` output (" + d.get("meta", {}).get("source", "") + ")",
       "deviceProperties": [{"id": 0, "name": device, "computeMajor": 8, "computeMinor": 0,
                             "numSms": 108, "totalGlobalMem": 42505207808}],
       "displayTimeUnit": "ms", "traceEvents": events}
opener = gzip.open if out.endswith(".gz") else open
with opener(out, "wt") as f:
    json.dump(doc, f, separators=(",", ":"))
