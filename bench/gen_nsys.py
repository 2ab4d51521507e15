#!/usr/bin/env python3
"""Writes a synthetic Nsight Systems SQLite export with the same work as
bench/gen_kineto.py, for timing `cotenant import nsys` against
`cotenant import kineto`: STEPS NVTX "ProfilerStep#N" ranges, each with OPS
NVTX "aten::addmm" ranges that launch one kernel each (cudaLaunchKernel with
its correlation id) on one of two streams. Tables and columns as the current
`nsys export --type sqlite` writes them (docs/formats.md).

  bench/gen_nsys.py STEPS OPS OUT.sqlite
"""
import os
import sqlite3
import sys

PID, TID = 4242, 4243
GPID = PID << 24
GTID = GPID | TID


def main():
    steps, ops, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    if os.path.exists(out):
        os.remove(out)
    db = sqlite3.connect(out)
    db.executescript("""
CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE TARGET_INFO_GPU (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE TARGET_INFO_CUDA_DEVICE (gpuId INTEGER, cudaId INTEGER, pid INTEGER);
CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER NOT NULL, end INTEGER NOT NULL,
  deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL, streamId INTEGER NOT NULL,
  correlationId INTEGER, globalPid INTEGER, demangledName INTEGER NOT NULL,
  shortName INTEGER NOT NULL, mangledName INTEGER, launchType INTEGER, cacheConfig INTEGER,
  registersPerThread INTEGER NOT NULL, gridX INTEGER NOT NULL, gridY INTEGER NOT NULL,
  gridZ INTEGER NOT NULL, blockX INTEGER NOT NULL, blockY INTEGER NOT NULL,
  blockZ INTEGER NOT NULL, staticSharedMemory INTEGER NOT NULL,
  dynamicSharedMemory INTEGER NOT NULL, localMemoryPerThread INTEGER NOT NULL,
  localMemoryTotal INTEGER NOT NULL, gridId INTEGER NOT NULL, sharedMemoryExecuted INTEGER,
  graphNodeId INTEGER, sharedMemoryLimitConfig INTEGER);
CREATE TABLE CUPTI_ACTIVITY_KIND_RUNTIME (start INTEGER NOT NULL, end INTEGER NOT NULL,
  eventClass INTEGER NOT NULL, globalTid INTEGER, correlationId INTEGER,
  nameId INTEGER NOT NULL, returnValue INTEGER NOT NULL, callchainId INTEGER);
CREATE TABLE NVTX_EVENTS (start INTEGER NOT NULL, end INTEGER, eventType INTEGER NOT NULL,
  rangeId INTEGER, category INTEGER, color INTEGER, text TEXT, globalTid INTEGER,
  endGlobalTid INTEGER, textId INTEGER, domainId INTEGER, uint64Value INTEGER,
  int64Value INTEGER, doubleValue REAL, uint32Value INTEGER, int32Value INTEGER,
  floatValue REAL, jsonTextId INTEGER, jsonText TEXT);
""")
    db.executemany("INSERT INTO StringIds VALUES (?, ?)",
                   [(1, "cudaLaunchKernel_v7000"), (2, "sm90_xmma_gemm_f32f32_tf32f32_f32_tn_n"),
                    (3, "aten::addmm")])
    db.execute("INSERT INTO TARGET_INFO_GPU VALUES (0, 'NVIDIA H100 80GB HBM3')")
    db.execute("INSERT INTO TARGET_INFO_CUDA_DEVICE VALUES (0, 0, ?)", (PID,))
    corr = 0
    ts = 1_000_000  # ns, as gen_kineto's 1000.0 us
    for s in range(steps):
        kernels, calls, ranges = [], [], []
        step_start = ts
        for o in range(ops):
            corr += 1
            stream = 7 + (o % 2)
            ranges.append((ts, ts + 8000, 59, None, None, None, None, GTID, None, 3, 0))
            calls.append((ts + 1000, ts + 5000, 1, GTID, corr, 1, 0, None))
            kernels.append((ts + 6000, ts + 26000, 0, 1, stream, corr, GPID, 2, 2, None, 1, 0,
                            168, 264, 1, 1, 128, 1, 1, 0, 98304, 0, 0, corr, 98304, None, 0))
            ts += 10000
        ranges.append((step_start - 500, ts + 500, 59, None, None, None, f"ProfilerStep#{s}",
                       GTID, None, None, 0))
        db.executemany("INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES (" +
                       ", ".join("?" * 27) + ")", kernels)
        db.executemany("INSERT INTO CUPTI_ACTIVITY_KIND_RUNTIME VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       calls)
        db.executemany("INSERT INTO NVTX_EVENTS (start, end, eventType, rangeId, category, color, "
                       "text, globalTid, endGlobalTid, textId, domainId) VALUES "
                       "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ranges)
        ts += 30000
    db.commit()
    db.close()


if __name__ == "__main__":
    main()
