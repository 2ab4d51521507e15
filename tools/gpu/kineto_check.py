#!/usr/bin/env python3
"""Checks of imported Kineto traces against what the simulator and counters say.

  kineto_check.py span TRACE.json RESULT.json
      the trace's span (first task start to last task end; an import rebases
      the first task to 0) against `cotenant simulate TRACE --json RESULT`'s
      makespan (the trace replayed alone): one line, `error_pct` signed.
  kineto_check.py dram ESTIMATED.json COUNTERS.json
      DRAM bytes per operator label: the import's estimates (dram_source
      shape/name) against a `cotenant profile --counters` trace of the same
      model and batch (measured counters), per label and in total, over the
      labels both traces have (the two runs are separate captures, so
      kernels are matched by operator, not one by one).
  kineto_check.py dram-line DRAM.json
      that comparison in one line: the total ratio, then the six operators
      with the most measured bytes.
  kineto_check.py --self-test
"""
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def span_line(trace, result):
    tasks = trace["tasks"]
    traced = max(t["start_ns"] + t["dur_ns"] for t in tasks) - min(t["start_ns"] for t in tasks)
    predicted = result["makespan_ns"]
    err = 100.0 * (predicted - traced) / traced if traced > 0 else 0.0
    return {"traced_ns": traced, "simulated_ns": predicted, "error_pct": round(err, 2)}


def by_op(trace, want_sources):
    strings = trace.get("strings", [])
    out = {}
    for t in trace["tasks"]:
        if t["kind"] != "kernel" or "dram_bytes" not in t:
            continue
        src = t.get("dram_source", "counter")
        if src not in want_sources:
            continue
        op = t.get("op")
        op = strings[op] if isinstance(op, int) else (op or "(none)")
        out[op] = out.get(op, 0) + t["dram_bytes"]
    return out


def dram_compare(estimated, counters):
    est = by_op(estimated, {"shape", "name"})
    meas = by_op(counters, {"counter"})
    common = sorted(set(est) & set(meas), key=lambda k: -meas[k])
    rows = [{"op": k, "estimated": est[k], "measured": meas[k],
             "ratio": round(est[k] / meas[k], 3) if meas[k] else None} for k in common]
    te = sum(est[k] for k in common)
    tm = sum(meas[k] for k in common)
    return {"ops": rows, "estimated_total": te, "measured_total": tm,
            "total_ratio": round(te / tm, 3) if tm else None}


def dram_line(d):
    ops = ", ".join(f"{o['op']} {o['ratio']}" for o in d["ops"][:6])
    return f"total {d['total_ratio']} over {len(d['ops'])} operators | {ops}"


def self_test():
    tr = {"tasks": [{"kind": "launch", "start_ns": 0, "dur_ns": 5},
                    {"kind": "kernel", "start_ns": 10, "dur_ns": 90, "op": 0, "dram_bytes": 300,
                     "dram_source": "shape"},
                    {"kind": "kernel", "start_ns": 100, "dur_ns": 100, "op": "aten::relu",
                     "dram_bytes": 50, "dram_source": "name"}],
          "strings": ["aten::addmm"]}
    s = span_line(tr, {"makespan_ns": 210})
    assert s == {"traced_ns": 200, "simulated_ns": 210, "error_pct": 5.0}, s
    cn = {"tasks": [{"kind": "kernel", "start_ns": 0, "dur_ns": 1, "op": "aten::addmm",
                     "dram_bytes": 600},
                    {"kind": "kernel", "start_ns": 0, "dur_ns": 1, "op": "aten::gelu",
                     "dram_bytes": 7}]}
    d = dram_compare(tr, cn)
    assert d["ops"] == [{"op": "aten::addmm", "estimated": 300, "measured": 600, "ratio": 0.5}], d
    assert d["total_ratio"] == 0.5, d
    assert dram_line(d) == "total 0.5 over 1 operators | aten::addmm 0.5", dram_line(d)
    print("kineto_check.py: self-test passed")


def main(argv):
    if argv == ["--self-test"]:
        self_test()
        return 0
    if len(argv) == 3 and argv[0] == "span":
        print(json.dumps(span_line(load(argv[1]), load(argv[2]))))
        return 0
    if len(argv) == 2 and argv[0] == "dram-line":
        print(dram_line(load(argv[1])))
        return 0
    if len(argv) == 3 and argv[0] == "dram":
        print(json.dumps(dram_compare(load(argv[1]), load(argv[2]))))
        return 0
    sys.exit(__doc__.strip().split("\n\n")[0] + "\nusage: see the module docstring")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
