#!/usr/bin/env python3
"""Measured co-location of real PyTorch models on one GPU: the ground truth
the campaign (tools/gpu/campaign.sh) compares cotenant's predictions with.

Every member of a mix runs ONE inference request, all started together; a
member's latency is the time from the common start until its own request is
done, the group's latency until every member is done (the measured-table
definition of docs/formats.md). Each figure is the median of --reps
repetitions after --warmup unmeasured ones. Modes:

  streams    one process, one Python thread and one CUDA stream per member
             (PyTorch's native multi-stream; the GIL is shared, as in a real
             one-process server). The threads wait on one barrier; the
             common start is taken when the main thread passes it.
  priority   as streams, the FIRST member's stream at the highest priority
             the device allows, the others at the lowest.
  green      as streams, each member's stream in its own green context, the
             SMs split in equal disjoint shares (multiples of 8 on sm_90)
             with cuDevSmResourceSplitByCount through cuda.bindings (the
             driver API). Where cuda.bindings or the driver lacks it, the mode
             says why and is skipped.
  processes  one process per member (started once, model built and warmed
             up there), each told to start at the same CLOCK_MONOTONIC
             instant (a 5 ms head start, then a spin): separate CUDA
             contexts, time-sliced by the driver (no MPS).

Solo rows (each member alone) are measured in every mode that runs.

Writes, under --out-dir: MODE.csv for each mode that ran (cotenant's measured
table: gpu,dtype,models,batch,seq_len,latency_us; members are paths of the
campaign's traces relative to the table, `cotenant validate --measured`
reads them), MODE_zoo.csv (the same rows with cotenant's zoo names where
synth knows the model: the Llama rows are left out), and corun.json (every
repetition, per member and per group, the mode, priorities, partitions,
versions, what was skipped and why).

--self-test checks the parts that need no GPU and no torch (mixes, parsing,
tables) and exits; --fake writes the outputs from made-up latencies (no
torch: a rehearsal of the campaign on a machine without a GPU).
"""

import argparse
import json
import os
import statistics
import sys
import time

PROG = "corun.py"
HERE = os.path.dirname(os.path.abspath(__file__))
ZOO_DIR = os.path.join(os.path.dirname(HERE), "zoo")

MODES = ("streams", "processes", "priority", "green")  # measured in this order
# run_model.py names -> cotenant synth zoo names (None: synth has no such model).
ZOO_NAMES = {
    "resnet50": "resnet50",
    "mobilenetv2": "mobilenetv2",
    "vgg16": "vgg16",
    "bert-base": "bert-base-full",  # HF BertModel: embeddings + encoder + pooler
    "llama-1b-prefill": None,
    "llama-1b-decode": None,
}
# Sequence length of the table's seq_len column (0: does not apply).
SEQ_LEN = {"bert-base": 128, "llama-1b-prefill": 128, "llama-1b-decode": 128}
# Batch sizes the campaign traces (two per model); the mixes use only these.
TRACE_BATCHES = {
    "resnet50": (8, 32),
    "mobilenetv2": (8, 32),
    "vgg16": (8, 32),
    "bert-base": (8, 32),
    "llama-1b-prefill": (1, 4),
    "llama-1b-decode": (1, 8),
}
# At least ten mixes of two and three: vision with vision, vision with
# language, prefill and decode beside others. The first member is the one the
# priority mode favours.
DEFAULT_MIXES = (
    ("resnet50:8", "mobilenetv2:8"),
    ("resnet50:8", "vgg16:8"),
    ("bert-base:8", "resnet50:8"),
    ("bert-base:8", "vgg16:8"),
    ("llama-1b-decode:8", "mobilenetv2:8"),
    ("llama-1b-prefill:1", "bert-base:8"),
    ("llama-1b-decode:8", "resnet50:32"),
    ("mobilenetv2:32", "vgg16:32"),
    ("mobilenetv2:8", "resnet50:8", "vgg16:8"),
    ("llama-1b-decode:8", "resnet50:8", "bert-base:8"),
    ("llama-1b-prefill:1", "mobilenetv2:8", "bert-base:8"),
    ("llama-1b-decode:1", "vgg16:8", "bert-base:32"),
)
PROCESS_HEAD_START_S = 0.005


def fail(message, status=1):
    print(f"{PROG}: error: {message}", file=sys.stderr)
    sys.exit(status)


# ---------------------------------------------------------------- no torch


def parse_member(text):
    """'resnet50:8' -> ('resnet50', 8); raises ValueError with the reason."""
    model, sep, batch = text.partition(":")
    if not sep:
        raise ValueError(f"member {text!r}: expected MODEL:BATCH")
    if model not in ZOO_NAMES:
        raise ValueError(f"member {text!r}: unknown model {model!r}; expected one of "
                         + ", ".join(ZOO_NAMES))
    try:
        b = int(batch)
    except ValueError:
        raise ValueError(f"member {text!r}: batch {batch!r} is not a whole number")
    if b < 1:
        raise ValueError(f"member {text!r}: batch must be at least 1")
    return model, b


def parse_mix(text):
    """'resnet50:8+vgg16:8' -> (('resnet50', 8), ('vgg16', 8))."""
    members = tuple(parse_member(m) for m in text.split("+"))
    if len(members) < 2:
        raise ValueError(f"mix {text!r}: a mix has at least two members")
    return members


def member_key(member):
    return f"{member[0]}:{member[1]}"


def mix_key(members):
    return "+".join(member_key(m) for m in members)


def default_mixes():
    return [tuple(parse_member(m) for m in mix) for mix in DEFAULT_MIXES]


def solo_members(mixes):
    """Every member of the mixes, once, in first-seen order."""
    seen = []
    for mix in mixes:
        for m in mix:
            if m not in seen:
                seen.append(m)
    return seen


def trace_file(member):
    """The campaign's trace of a member: MODEL_bBATCH.json (tools/zoo names)."""
    return f"{member[0]}_b{member[1]}.json"


def median(values):
    return float(statistics.median(values))


def equal_share(sm_count, n, granularity=8):
    """SMs per member of an equal green-context split (cotenant's EqualShare:
    floor(sm_count / n / granularity) * granularity), or 0 if too small."""
    share = sm_count // n // granularity * granularity
    return share if share >= granularity else 0


def table_name(member, trace_prefix, zoo):
    """The table's name of a member: a zoo name (zoo=True; None when synth
    lacks the model) or the trace's path as seen from the table's folder."""
    if zoo:
        return ZOO_NAMES[member[0]]
    return trace_prefix + trace_file(member)


def format_us(value):
    """Latency in µs with one decimal (the table's resolution)."""
    return f"{value:.1f}"


def table_rows(gpu, dtype, mode_result, trace_prefix, zoo):
    """Measured-table rows (lists of fields) of one mode's results: solo rows
    first, then the mixes, in measurement order; a row whose member has no
    zoo name is left out of the zoo table."""
    rows = []
    groups = [([s["member"]], s["median_us"]) for s in mode_result["solo"]]
    groups += [(m["members"], m["group_median_us"]) for m in mode_result["mixes"]]
    for members, latency in groups:
        parsed = [parse_member(m) for m in members]
        names = [table_name(m, trace_prefix, zoo) for m in parsed]
        if any(n is None for n in names):
            continue
        rows.append([gpu, dtype, "+".join(names), "+".join(str(m[1]) for m in parsed),
                     "+".join(str(SEQ_LEN.get(m[0], 0)) for m in parsed), format_us(latency)])
    return rows


def write_table(path, rows, comment):
    """A measured table (docs/formats.md), written whole then renamed."""
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        for line in comment.splitlines():
            f.write(f"# {line}\n")
        f.write("gpu,dtype,models,batch,seq_len,latency_us\n")
        for r in rows:
            f.write(",".join(r) + "\n")
    os.replace(tmp, path)


def write_json(path, doc):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def group_result(members, reps_us):
    """reps_us: per repetition, each member's latency (µs) from the common
    start. The group's latency of a repetition is its slowest member's."""
    group = [max(r) for r in reps_us]
    return {
        "members": [member_key(m) for m in members],
        "reps_member_us": [[round(x, 1) for x in r] for r in reps_us],
        "member_median_us": [round(median([r[i] for r in reps_us]), 1)
                             for i in range(len(members))],
        "group_median_us": round(median(group), 1),
        "group_min_us": round(min(group), 1),
        "group_max_us": round(max(group), 1),
    }


def fake_latency_us(member):
    """Made-up solo latency of a member for --fake (a rehearsal, not data)."""
    base = {"resnet50": 900.0, "mobilenetv2": 500.0, "vgg16": 1500.0, "bert-base": 1200.0,
            "llama-1b-prefill": 4000.0, "llama-1b-decode": 3000.0}[member[0]]
    return base * (1.0 + member[1] / 16.0)


def fake_mode_result(mixes, reps):
    """Solo latencies from fake_latency_us; in a mix each member is slowed by
    a quarter of the others' solo latencies. Deterministic."""
    solo = []
    for m in solo_members(mixes):
        lat = fake_latency_us(m)
        r = group_result([m], [[lat * (1 + 0.01 * (i % 3))] for i in range(reps)])
        solo.append({"member": member_key(m), "median_us": r["group_median_us"],
                     "reps_us": [x[0] for x in r["reps_member_us"]]})
    out = []
    for mix in mixes:
        lats = [fake_latency_us(m) for m in mix]
        reps_us = []
        for i in range(reps):
            reps_us.append([lat + 0.25 * (sum(lats) - lat) * (1 + 0.01 * (i % 3))
                            for lat in lats])
        out.append(group_result(mix, reps_us))
    return {"available": True, "note": "fake latencies (rehearsal, not a measurement)",
            "solo": solo, "mixes": out}


def write_outputs(out_dir, doc, trace_dir):
    """MODE.csv and MODE_zoo.csv for each mode that ran, and corun.json."""
    os.makedirs(out_dir, exist_ok=True)
    prefix = os.path.relpath(trace_dir, out_dir).replace(os.sep, "/") + "/"
    written = []
    for mode, res in doc["modes"].items():
        if not res.get("available") or not (res["solo"] or res["mixes"]):
            continue
        comment = (f"{PROG} --mode {mode}: {doc['device']} ({doc['gpu']}), {doc['dtype']}, "
                   f"median of {doc['reps']} repetitions after {doc['warmup']} warm-up; "
                   f"torch {doc['versions'].get('torch', '?')}, driver "
                   f"{doc['versions'].get('driver', '?')}. {res.get('note', '')}").strip()
        for zoo in (False, True):
            name = f"{mode}_zoo.csv" if zoo else f"{mode}.csv"
            rows = table_rows(doc["gpu"], doc["dtype"], res, prefix, zoo)
            write_table(os.path.join(out_dir, name), rows, comment)
            written.append(name)
    write_json(os.path.join(out_dir, "corun.json"), doc)
    return written + ["corun.json"]


def self_test():
    """Checks that need neither torch nor a GPU; exits non-zero on a failure."""
    import tempfile
    problems = []

    def check(ok, what):
        if not ok:
            problems.append(what)

    mixes = default_mixes()
    check(len(mixes) >= 10, f"{len(mixes)} mixes, expected at least 10")
    check(any(len(m) == 2 for m in mixes) and any(len(m) == 3 for m in mixes),
          "mixes of two and of three")
    check(len({mix_key(m) for m in mixes}) == len(mixes), "no mix twice")
    for mix in mixes:
        for model, batch in mix:
            check(batch in TRACE_BATCHES[model], f"{model}:{batch}: batch not traced")
    check(parse_mix("resnet50:8+vgg16:32") == (("resnet50", 8), ("vgg16", 32)), "parse_mix")
    for bad, why in (("resnet50", "MODEL:BATCH"), ("resnet51:8", "unknown model"),
                     ("vgg16:x", "not a whole number"), ("vgg16:0", "at least 1")):
        try:
            parse_member(bad)
            problems.append(f"parse_member({bad!r}) accepted")
        except ValueError as e:
            check(why in str(e), f"parse_member({bad!r}): {e}")
    try:
        parse_mix("vgg16:8")
        problems.append("a one-member mix accepted")
    except ValueError:
        pass
    check(equal_share(132, 2) == 64 and equal_share(132, 3) == 40 and equal_share(16, 3) == 0,
          "equal_share")
    r = group_result([("resnet50", 8), ("vgg16", 8)], [[10.0, 20.0], [12.0, 18.0], [11.0, 30.0]])
    check(r["group_median_us"] == 20.0 and r["member_median_us"] == [11.0, 20.0],
          f"group_result {r}")
    mode = fake_mode_result([(("resnet50", 8), ("llama-1b-decode", 8))], 5)
    check(len(mode["solo"]) == 2 and len(mode["mixes"]) == 1, "fake result shape")
    rows = table_rows("h100-sxm", "fp16", mode, "../traces/", zoo=False)
    check(rows[0] == ["h100-sxm", "fp16", "../traces/resnet50_b8.json", "8", "0", "1363.5"],
          f"trace row {rows[0]}")
    check(rows[2][2:5] == ["../traces/resnet50_b8.json+../traces/llama-1b-decode_b8.json",
                           "8+8", "0+128"], f"mix row {rows[2]}")
    zoo = table_rows("h100-sxm", "fp16", mode, "", zoo=True)
    check(len(zoo) == 1 and zoo[0][2] == "resnet50", f"zoo rows {zoo}")
    check(solo_members([(("vgg16", 8), ("resnet50", 8)), (("resnet50", 8), ("bert-base", 8))])
          == [("vgg16", 8), ("resnet50", 8), ("bert-base", 8)], "solo_members order")
    with tempfile.TemporaryDirectory() as tmp:
        doc = new_doc(argparse.Namespace(gpu="h100-sxm", dtype="fp16", reps=5, warmup=2))
        doc["device"] = "fake"
        doc["modes"]["streams"] = fake_mode_result(mixes, 5)
        doc["modes"]["green"] = {"available": False, "note": "no cuda.bindings", "solo": [],
                                 "mixes": []}
        names = write_outputs(os.path.join(tmp, "m"), doc, os.path.join(tmp, "traces"))
        check(names == ["streams.csv", "streams_zoo.csv", "corun.json"], f"outputs {names}")
        with open(os.path.join(tmp, "m", "streams.csv")) as f:
            lines = [x for x in f.read().splitlines() if not x.startswith("#")]
        check(lines[0] == "gpu,dtype,models,batch,seq_len,latency_us", "header")
        check(len(lines) == 1 + len(solo_members(mixes)) + len(mixes), f"{len(lines)} lines")
        check(lines[1].startswith("h100-sxm,fp16,../traces/"), f"first row {lines[1]}")
        check(not any(f.endswith(".tmp") or ".tmp." in f for f in os.listdir(os.path.join(tmp, "m"))),
              "no temporary left")
    for p in problems:
        print(f"{PROG}: self-test: FAIL: {p}")
    print(f"{PROG}: self-test: {len(mixes)} mixes, {len(solo_members(mixes))} solo members, "
          f"{'FAILED' if problems else 'ok'}")
    return 1 if problems else 0


def new_doc(args):
    return {"schema": "cotenant-campaign.corun/1", "gpu": args.gpu, "dtype": args.dtype,
            "device": None, "reps": args.reps, "warmup": args.warmup, "versions": {},
            "modes": {}, "skipped": [], "notes": []}


# ---------------------------------------------------------------- with torch


def now_s():
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def import_run_model():
    sys.path.insert(0, ZOO_DIR)
    import run_model  # noqa: E402  (tools/zoo/run_model.py: the model builders)
    return run_model


class Models:
    """Each member's request in this process; one model per family and
    dtype (the two Llama phases share their weights)."""

    def __init__(self, torch, run_model, dtype):
        self.torch, self.rm, self.dtype = torch, run_model, dtype
        self.requests, self.llama = {}, None

    def request(self, member):
        if member not in self.requests:
            model = None
            if member[0].startswith("llama-1b-"):
                if self.llama is None:
                    self.llama = self.rm.build_llama(self.torch, self.dtype, "cuda")
                model = self.llama
            self.requests[member] = self.rm.build_request(
                self.torch, member[0], member[1], self.dtype, "cuda", model=model)
        return self.requests[member]


def green_streams(torch, n):
    """n CUDA streams, each in its own green context over an equal disjoint
    share of the SMs; (streams, info) or raises RuntimeError saying why not."""
    try:
        from cuda.bindings import driver as drv
    except ImportError:
        try:
            from cuda import cuda as drv  # older cuda-python
        except ImportError as e:
            raise RuntimeError(f"cuda.bindings is not importable ({e})")

    def ok(result, what):
        err = result[0]
        if int(err) != 0:
            raise RuntimeError(f"{what}: {err}")
        return result[1:] if len(result) > 2 else (result[1] if len(result) == 2 else None)

    if not hasattr(drv, "cuGreenCtxCreate"):
        raise RuntimeError("cuda.bindings has no cuGreenCtxCreate")
    ok(drv.cuInit(0), "cuInit")
    dev = ok(drv.cuDeviceGet(torch.cuda.current_device()), "cuDeviceGet")
    res = ok(drv.cuDeviceGetDevResource(dev, drv.CUdevResourceType.CU_DEV_RESOURCE_TYPE_SM),
             "cuDeviceGetDevResource")
    total = res.sm.smCount
    share = equal_share(total, n)
    if share == 0:
        raise RuntimeError(f"{total} SMs cannot be split in {n} shares of 8 or more")
    groups, count, _rest = ok(drv.cuDevSmResourceSplitByCount(n, res, 0, share),
                              "cuDevSmResourceSplitByCount")
    if count < n:
        raise RuntimeError(f"cuDevSmResourceSplitByCount gave {count} groups of {share} SMs, "
                           f"asked for {n}")
    streams, keep, sms = [], [], []
    for g in list(groups)[:n]:
        desc = ok(drv.cuDevResourceGenerateDesc([g], 1), "cuDevResourceGenerateDesc")
        ctx = ok(drv.cuGreenCtxCreate(desc, dev,
                                      drv.CUgreenCtxCreate_flags.CU_GREEN_CTX_DEFAULT_STREAM),
                 "cuGreenCtxCreate")
        s = ok(drv.cuGreenCtxStreamCreate(ctx, drv.CUstream_flags.CU_STREAM_NON_BLOCKING, 0),
               "cuGreenCtxStreamCreate")
        keep.append((ctx, s))
        sms.append(g.sm.smCount)
        streams.append(torch.cuda.ExternalStream(int(s)))
    return streams, {"sm_total": total, "sm_per_member": sms, "contexts": keep}


def run_in_process(torch, requests, streams, reps, warmup):
    """Each request on its own thread and stream, started together; per
    repetition, each member's latency in µs."""
    import threading
    n = len(requests)
    out = []
    for rep in range(warmup + reps):
        barrier = threading.Barrier(n + 1)
        ends = [0.0] * n
        errors = []

        def member(i):
            try:
                with torch.inference_mode(), torch.cuda.stream(streams[i]):
                    barrier.wait()
                    requests[i].call()
                    streams[i].synchronize()
                    ends[i] = now_s()
            except Exception as e:  # reported by the main thread
                errors.append(f"{type(e).__name__}: {e}")
                barrier.abort()

        threads = [threading.Thread(target=member, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        t0 = now_s()
        for t in threads:
            t.join()
        if errors:
            raise RuntimeError("; ".join(errors))
        for r in requests:
            r.reset()
        if rep >= warmup:
            out.append([(e - t0) * 1e6 for e in ends])
    return out


def process_worker(member, dtype_name, conn):
    """One member in its own process: build, warm up, then run a request at
    each start instant it is sent, answering with the end instant."""
    try:
        import torch
        rm = import_run_model()
        torch.backends.cudnn.benchmark = False
        dtype = torch.float16 if dtype_name == "fp16" else torch.float32
        req = rm.build_request(torch, member[0], member[1], dtype, "cuda")
        with torch.inference_mode():
            for _ in range(3):
                req.call()
                torch.cuda.synchronize()
                req.reset()
        conn.send(("ready", None))
        while True:
            msg = conn.recv()
            if msg[0] == "stop":
                break
            start = msg[1]
            while now_s() < start:
                pass
            with torch.inference_mode():
                req.call()
                torch.cuda.synchronize()
            end = now_s()
            req.reset()
            conn.send(("done", end))
    except Exception as e:
        try:
            conn.send(("error", f"{type(e).__name__}: {e}"))
        except Exception:
            pass


class Workers:
    """One process per member, started together."""

    def __init__(self, members, dtype, timeout_s):
        import multiprocessing as mp
        ctx = mp.get_context("spawn")
        self.conns, self.procs, self.errors = {}, [], {}
        for m in members:
            parent, child = ctx.Pipe()
            p = ctx.Process(target=process_worker, args=(m, dtype, child), daemon=True)
            p.start()
            self.conns[m], self.procs = parent, self.procs + [p]
        deadline = now_s() + timeout_s
        for m, c in self.conns.items():
            left = deadline - now_s()
            if left <= 0 or not c.poll(left):
                self.errors[m] = f"not ready within {timeout_s:.0f} s"
                continue
            kind, value = c.recv()
            if kind != "ready":
                self.errors[m] = value

    def run(self, members, reps, warmup):
        out = []
        for rep in range(warmup + reps):
            start = now_s() + PROCESS_HEAD_START_S
            for m in members:
                self.conns[m].send(("run", start))
            ends = []
            for m in members:
                kind, value = self.conns[m].recv()
                if kind != "done":
                    raise RuntimeError(f"{member_key(m)}: {value}")
                ends.append(value)
            if rep >= warmup:
                out.append([(e - start) * 1e6 for e in ends])
        return out

    def close(self):
        for c in self.conns.values():
            try:
                c.send(("stop",))
            except Exception:
                pass
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.terminate()


def measure(args, mixes, doc, deadline):
    import torch
    if not torch.cuda.is_available():
        fail("PyTorch sees no CUDA device")
    rm = import_run_model()
    torch.backends.cudnn.benchmark = False
    dtype = torch.float16 if args.dtype == "fp16" else torch.float32
    props = torch.cuda.get_device_properties(0)
    doc["device"] = torch.cuda.get_device_name(0)
    doc["versions"].update({"torch": torch.__version__, "cuda": torch.version.cuda,
                            "sm_count": props.multi_processor_count})
    solos = solo_members(mixes)

    def skip(what):
        doc["skipped"].append(what)
        print(f"{PROG}: skipped: {what}", flush=True)

    def log(text):
        print(f"{PROG}: {text}", flush=True)

    models = Models(torch, rm, dtype)
    t = now_s()
    for m in solos:
        req = models.request(m)
        with torch.inference_mode():
            for _ in range(2):
                req.call()
                torch.cuda.synchronize()
                req.reset()
    log(f"{len(solos)} members built and warmed up in {now_s() - t:.1f} s")
    # Out-of-range priorities are mapped to the nearest the device allows:
    # -100 is the highest, 0 the lowest (the default).
    hi, lo = -100, 0
    def in_process(mode):
        res = {"available": True, "note": "", "solo": [], "mixes": []}
        doc["modes"][mode] = res
        if mode == "green":
            try:
                probe, info = green_streams(torch, 2)
                del probe
                res["note"] = (f"green contexts through cuda.bindings; {info['sm_total']} SMs, "
                               "equal disjoint shares")
            except Exception as e:
                res["available"] = False
                res["note"] = f"green contexts unavailable: {e}"
                log(f"green: {res['note']}")
                return
        if mode == "priority":
            probe = torch.cuda.Stream(priority=hi)
            res["note"] = (f"first member's stream at priority {probe.priority} (the highest), "
                           f"the others at {lo}")
        for m in solos:
            if now_s() > deadline:
                skip(f"{mode}: solo {member_key(m)} (time budget)")
                continue
            reps = run_in_process(torch, [models.request(m)], [torch.cuda.Stream()], args.reps,
                                  args.warmup)
            g = group_result([m], reps)
            res["solo"].append({"member": member_key(m), "median_us": g["group_median_us"],
                                "reps_us": [r[0] for r in g["reps_member_us"]]})
        for mix in mixes:
            if now_s() > deadline:
                skip(f"{mode}: {mix_key(mix)} (time budget)")
                continue
            extra = {}
            if mode == "streams":
                streams = [torch.cuda.Stream() for _ in mix]
            elif mode == "priority":
                streams = [torch.cuda.Stream(priority=hi)] + \
                          [torch.cuda.Stream(priority=lo) for _ in mix[1:]]
                extra["priorities"] = [s.priority for s in streams]
            else:
                try:
                    streams, info = green_streams(torch, len(mix))
                except Exception as e:
                    skip(f"green: {mix_key(mix)}: {e}")
                    continue
                extra["sm_per_member"] = info["sm_per_member"]
            try:
                reps = run_in_process(torch, [models.request(m) for m in mix], streams,
                                      args.reps, args.warmup)
            except Exception as e:
                skip(f"{mode}: {mix_key(mix)}: {e}")
                continue
            g = group_result(mix, reps)
            g.update(extra)
            res["mixes"].append(g)
            log(f"{mode}: {mix_key(mix)}: group {g['group_median_us']:.0f} us, members "
                + ", ".join(f"{x:.0f}" for x in g["member_median_us"]))
        if mode == "green":
            res["note"] += ("; solo rows on an ordinary stream (all SMs): a member's "
                            "slowdown in a mix includes losing SMs")

    def processes():
        res = {"available": True, "note": "one process per member, separate CUDA contexts "
               "(time-sliced, no MPS); started at one CLOCK_MONOTONIC instant",
               "solo": [], "mixes": []}
        doc["modes"]["processes"] = res
        left = deadline - now_s()
        if left < 30:
            res["available"] = False
            res["note"] = "skipped: under 30 s of the time budget left"
            skip("processes: every group (time budget)")
            return
        t = now_s()
        workers = Workers(solos, args.dtype, timeout_s=min(120.0, left / 2))
        log(f"{len(solos)} worker processes ready in {now_s() - t:.1f} s"
            + (f"; failed: {workers.errors}" if workers.errors else ""))
        try:
            for m in solos:
                if m in workers.errors or now_s() > deadline:
                    skip(f"processes: solo {member_key(m)}: "
                         + workers.errors.get(m, "time budget"))
                    continue
                g = group_result([m], workers.run([m], args.reps, args.warmup))
                res["solo"].append({"member": member_key(m), "median_us": g["group_median_us"],
                                    "reps_us": [r[0] for r in g["reps_member_us"]]})
            for mix in mixes:
                bad = [m for m in mix if m in workers.errors]
                if bad or now_s() > deadline:
                    skip(f"processes: {mix_key(mix)}: "
                         + ("worker failed" if bad else "time budget"))
                    continue
                g = group_result(mix, workers.run(list(mix), args.reps, args.warmup))
                res["mixes"].append(g)
                log(f"processes: {mix_key(mix)}: group {g['group_median_us']:.0f} us")
        finally:
            workers.close()


    for mode in args.modes:
        if mode == "processes":
            processes()
        else:
            in_process(mode)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog=PROG, description="Measure real co-location of PyTorch models on one GPU "
        "(streams, priorities, green-context partitions, processes) and write cotenant "
        "measured tables.")
    p.add_argument("--gpu", help="GPU spec key for the table's gpu column (h100-sxm, h200)")
    p.add_argument("--dtype", choices=["fp16", "fp32"], default="fp16")
    p.add_argument("--mix", action="append", default=[],
                   help="a mix MODEL:BATCH+MODEL:BATCH[+...] (repeatable; default: the "
                   f"{len(DEFAULT_MIXES)} built-in mixes)")
    p.add_argument("--modes", default=",".join(MODES),
                   help="comma-separated subset of " + ",".join(MODES))
    p.add_argument("--reps", type=int, default=7, help="measured repetitions (median; >= 5)")
    p.add_argument("--warmup", type=int, default=3, help="unmeasured repetitions first")
    p.add_argument("--budget-s", type=float, default=150.0,
                   help="stop starting new groups after this many seconds (skipped ones "
                   "are listed in the JSON)")
    p.add_argument("--out-dir", help="where MODE.csv, MODE_zoo.csv and corun.json go")
    p.add_argument("--trace-dir", help="the campaign's traces (MODEL_bBATCH.json); the "
                   "tables name them relative to --out-dir")
    p.add_argument("--list-mixes", action="store_true", help="print the mixes and exit")
    p.add_argument("--self-test", action="store_true",
                   help="check what needs no torch and no GPU, and exit")
    p.add_argument("--fake", action="store_true",
                   help="write the outputs from made-up latencies (a rehearsal; no torch)")
    args = p.parse_args(argv)
    if args.self_test or args.list_mixes:
        return args
    modes = [m for m in args.modes.split(",") if m]
    for m in modes:
        if m not in MODES:
            p.error(f"--modes: unknown mode {m!r}; expected some of {', '.join(MODES)}")
    args.modes = modes
    if args.reps < 5:
        p.error("--reps: at least 5 (the figures are medians of at least 5 repetitions)")
    for name in ("gpu", "out_dir", "trace_dir"):
        if not getattr(args, name):
            p.error(f"--{name.replace('_', '-')} is required")
    return args


def main(argv):
    args = parse_args(argv)
    if args.self_test:
        return self_test()
    try:
        mixes = [parse_mix(m) for m in args.mix] if args.mix else default_mixes()
    except ValueError as e:
        fail(str(e), 2)
    if args.list_mixes:
        for mix in mixes:
            print(mix_key(mix))
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    doc = new_doc(args)
    doc["mixes"] = [mix_key(m) for m in mixes]
    start = now_s()
    if args.fake:
        doc["device"] = "fake"
        doc["notes"].append("--fake: made-up latencies, a rehearsal of the campaign")
        for mode in args.modes:
            doc["modes"][mode] = fake_mode_result(mixes, args.reps)
    else:
        measure(args, mixes, doc, start + args.budget_s)
    doc["elapsed_s"] = round(now_s() - start, 1)
    names = write_outputs(args.out_dir, doc, args.trace_dir)
    print(f"{PROG}: {len(mixes)} mixes, modes {','.join(doc['modes'])}, "
          f"{len(doc['skipped'])} skipped, {doc['elapsed_s']} s; wrote "
          + ", ".join(names) + f" in {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
