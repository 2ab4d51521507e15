#!/usr/bin/env python3
"""Writes a synthetic PyTorch-profiler (Kineto, current layout) trace for
timing `cotenant import kineto`: STEPS ProfilerStep#N ranges, each with OPS
cpu_ops that launch one kernel each on one of two streams.

  bench/gen_kineto.py STEPS OPS OUT.json
"""
import json
import sys


def main():
    steps, ops, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    corr = 0
    ts = 1000.0
    with open(out, "w") as f:
        f.write('{"schemaVersion": 1, "deviceProperties": [{"id": 0, "name": "NVIDIA H100 80GB HBM3"}],\n'
                '"traceEvents": [\n')
        first = True

        def emit(e):
            nonlocal first
            f.write(("" if first else ",\n") + json.dumps(e))
            first = False

        for s in range(steps):
            step_start = ts
            for o in range(ops):
                corr += 1
                emit({"ph": "X", "cat": "cpu_op", "name": "aten::addmm", "pid": 1, "tid": 1,
                      "ts": ts, "dur": 8.0, "args": {"External id": corr}})
                emit({"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1,
                      "tid": 1, "ts": ts + 1.0, "dur": 4.0,
                      "args": {"correlation": corr, "External id": corr}})
                emit({"ph": "X", "cat": "kernel", "name": "sm90_xmma_gemm_f32f32_tf32f32_f32_tn_n",
                      "pid": 0, "tid": 7 + (o % 2), "ts": ts + 6.0, "dur": 20.0,
                      "args": {"correlation": corr, "External id": corr, "device": 0,
                               "stream": 7 + (o % 2), "grid": [264, 1, 1], "block": [128, 1, 1],
                               "registers per thread": 168, "shared memory": 98304}})
                emit({"ph": "s", "id": corr, "pid": 1, "tid": 1, "ts": ts + 1.0, "cat": "ac2g",
                      "name": "ac2g"})
                emit({"ph": "f", "id": corr, "pid": 0, "tid": 7 + (o % 2), "ts": ts + 6.0,
                      "cat": "ac2g", "name": "ac2g", "bp": "e"})
                ts += 10.0
            emit({"ph": "X", "cat": "user_annotation", "name": f"ProfilerStep#{s}", "pid": 1,
                  "tid": 1, "ts": step_start - 0.5, "dur": ts - step_start + 1.0, "args": {}})
            ts += 30.0
        f.write("\n]}\n")


if __name__ == "__main__":
    main()
