"""Tests of the cotenant Python module (run from the checkout's root with
PYTHONPATH=build/python; ctest's python_test does that)."""

import concurrent.futures
import json
import os
import pathlib
import subprocess

import pytest

import cotenant

ROOT = pathlib.Path(__file__).resolve().parents[2]
VISION3 = "configs/workloads/vision3.json"
LLM_CHAT = "configs/workloads/llm_chat.json"
PARTITION = "configs/plans/vision3_partition.json"
RESNET = "traces/synthetic/resnet50_b8.json"
BERT = "traces/synthetic/bert-base_b8.json"


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    """Paths are relative to the current directory: run from the checkout."""
    monkeypatch.chdir(ROOT)


def cli():
    """The cotenant binary built beside the module (COTENANT_CLI from ctest)."""
    path = os.environ.get("COTENANT_CLI", str(ROOT / "build" / "cotenant"))
    if not os.path.exists(path):
        pytest.skip(f"no cotenant binary at {path} (set COTENANT_CLI)")
    return path


def assert_plain(x, where="result"):
    """Only dicts with str keys, lists, ints, floats, strs, bools and None."""
    if isinstance(x, dict):
        for k, v in x.items():
            assert type(k) is str, f"{where}: key {k!r}"
            assert_plain(v, f"{where}.{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            assert_plain(v, f"{where}[{i}]")
    else:
        assert x is None or type(x) in (int, float, str, bool), f"{where}: {type(x)}"


def test_gpus_and_spec():
    keys = cotenant.gpus()
    assert "h100-sxm" in keys and keys == sorted(keys)
    spec = cotenant.gpu_spec("h100-sxm")
    assert spec["schema"] == "cotenant.gpu/1"
    assert spec["key"] == "h100-sxm"


def test_load_trace_summary():
    s = cotenant.load_trace(RESNET)
    assert s["file"] == RESNET
    assert s["tenant"] == "resnet50"
    assert s["device"] == {"name": "NVIDIA H100 SXM5 80GB", "gpu": "h100-sxm"}
    assert 0 < s["kernels"] < s["tasks"]
    assert s["request_span_ns"] > 0
    assert s["meta"]["batch"] == 8
    assert cotenant.load_trace(pathlib.Path(RESNET)) == s
    assert_plain(s)


def test_simulate_vision3_fields():
    r = cotenant.simulate(workload=VISION3)
    assert r["schema"] == "cotenant.result/1"
    assert r["model"] == "fluid"
    assert set(r["tenants"]) == {"resnet50", "mobilenetv2", "vgg16"}
    for t in r["tenants"].values():
        assert t["requests"] == 20
        assert 0 < t["latency_ns"]["p50"] <= t["latency_ns"]["p99"] <= t["latency_ns"]["max"]
        assert t["finish_ns"] <= r["makespan_ns"]
    assert 0 < r["lower_bound_ns"] <= r["makespan_ns"]
    assert 0.0 < r["gpu"]["sm_busy_fraction"] <= 1.0
    assert_plain(r)


def test_simulate_matches_cli():
    """Same library, same answer: the whole cotenant.result/1 document."""
    out = subprocess.run(
        [cli(), "simulate", "--workload", VISION3, "--json", "-"],
        check=True, capture_output=True, text=True,
    ).stdout
    from_cli = json.loads(out)
    r = cotenant.simulate(workload=VISION3)
    assert r["makespan_ns"] == from_cli["makespan_ns"]
    assert r == from_cli


def test_simulate_block_model_and_traces():
    r = cotenant.simulate(traces=[RESNET, BERT], model="block")
    assert r["model"] == "block"
    assert set(r["tenants"]) == {"resnet50", "bert-base"}
    one = cotenant.simulate(traces=RESNET)
    assert list(one["tenants"]) == ["resnet50"]


def test_simulate_llm_workload():
    r = cotenant.simulate(workload=LLM_CHAT)
    chat = r["tenants"]["chat"]
    llm = chat["llm"]
    assert llm["model"] == "llama-3.1-8b"
    assert llm["dtype"] == "bf16"
    assert llm["requests"] == 200 == chat["requests"]
    assert llm["generated_tokens"] > 0
    assert llm["kv_cache"]["capacity_tokens"] > 0
    assert 0 < llm["ttft_ns"]["p50"] <= llm["ttft_ns"]["p99"]
    assert 0 < llm["tpot_ns"]["p50"] <= llm["tpot_ns"]["p99"]
    assert llm["makespan_ns"] == r["makespan_ns"]
    assert_plain(r)


def test_plan_from_file_dict_and_path():
    from_file = cotenant.simulate(workload=VISION3, plan=PARTITION)
    with open(PARTITION) as f:
        from_dict = cotenant.simulate(workload=VISION3, plan=json.load(f))
    from_path = cotenant.simulate(workload=VISION3, plan=pathlib.Path(PARTITION))
    assert from_file == from_dict == from_path
    native = cotenant.simulate(workload=VISION3)
    assert cotenant.simulate(workload=VISION3, plan="native") == native
    assert from_file["makespan_ns"] != native["makespan_ns"]


def test_search_tiny_budget():
    kw = dict(workload=VISION3, budget=12, threads=2, seed=3)
    s = cotenant.search(**kw)
    assert s["schema"] == "cotenant.search/1"
    assert s["evaluations"] <= 12
    assert s["seed"] == 3 and s["threads"] == 2
    assert_plain(s)
    best = s["best"]
    assert best["plan"]["schema"] == "cotenant.plan/1"
    # The best plan is a plan simulate() takes, with the same result.
    again = cotenant.simulate(workload=VISION3, plan=best["plan"])
    assert again["makespan_ns"] == best["result"]["makespan_ns"]
    # Same seed and threads: the same best plan.
    assert cotenant.search(**kw)["best"]["plan"] == best["plan"]


def test_search_knobs_and_sets():
    s = cotenant.search(workload=VISION3, budget=8, knobs="priority",
                        sets=["max_connections=8"])
    assert s["evaluations"] <= 8
    assert s["best"]["plan"]["schema"] == "cotenant.plan/1"


def test_threads_share_the_module():
    """The GIL is released while simulating: runs from several threads."""
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        rs = list(pool.map(lambda _: cotenant.simulate(traces=RESNET), range(2)))
    assert rs[0] == rs[1]


def test_missing_file_names_it():
    with pytest.raises(cotenant.InputError, match="no/such/workload.json"):
        cotenant.simulate(workload="no/such/workload.json")
    with pytest.raises(ValueError, match="traces/synthetic/missing.json"):
        cotenant.simulate(traces=[RESNET, "traces/synthetic/missing.json"])
    with pytest.raises(cotenant.InputError, match="missing_plan.json"):
        cotenant.simulate(workload=VISION3, plan="missing_plan.json")
    with pytest.raises(cotenant.InputError, match="nope.json"):
        cotenant.load_trace("nope.json")


def test_wrong_schema_names_the_file():
    with pytest.raises(cotenant.InputError) as e:
        cotenant.load_trace(VISION3)
    assert str(e.value).startswith(VISION3 + ": schema:")
    assert "\n" not in str(e.value)


def test_unknown_gpu():
    with pytest.raises(cotenant.InputError, match='"zz": no such GPU'):
        cotenant.simulate(workload=VISION3, gpu="zz")
    with pytest.raises(cotenant.InputError, match='"zz": no such GPU'):
        cotenant.gpu_spec("zz")


def test_unknown_gpu_in_workload_file(tmp_path):
    w = tmp_path / "w.json"
    w.write_text(json.dumps({
        "schema": "cotenant.workload/1", "gpu": "zz",
        "tenants": [{"name": "a", "trace": str(ROOT / RESNET), "requests": 1}],
    }))
    with pytest.raises(cotenant.InputError, match='"zz": no such GPU'):
        cotenant.simulate(workload=w)


def test_bad_arguments():
    with pytest.raises(cotenant.InputError, match="not both"):
        cotenant.simulate(workload=VISION3, traces=[RESNET])
    with pytest.raises(cotenant.InputError, match="nothing to simulate"):
        cotenant.simulate()
    with pytest.raises(cotenant.InputError, match='unknown tenant "nobody"'):
        cotenant.simulate(workload=VISION3,
                          plan={"schema": "cotenant.plan/1", "tenants": {"nobody": {}}})
    with pytest.raises(cotenant.InputError, match="expected dicts, lists"):
        cotenant.simulate(workload=VISION3, plan={"schema": "cotenant.plan/1", "x": object()})
    with pytest.raises(cotenant.InputError, match="budget"):
        cotenant.search(workload=VISION3, budget=-1)
    with pytest.raises(cotenant.InputError, match="strategy"):
        cotenant.search(workload=VISION3, budget=4, strategy="nope")


def test_gpu_override_of_traced_gpu_is_refused():
    """The CLI rescales such traces (RescaleToGpu, CLI only): the module refuses."""
    with pytest.raises(cotenant.InputError, match="traced on h100-sxm"):
        cotenant.simulate(workload=VISION3, gpu="a100-sxm4-40g")
    same = cotenant.simulate(workload=VISION3, gpu="h100-sxm")
    assert same == cotenant.simulate(workload=VISION3)


def h100_calibration(tmp_path):
    """The fuzz corpus's calibration (fitted on an A100) moved to h100-sxm."""
    corpus = ROOT / "tests/fuzz/corpus/measured_table/calibration.json"
    c = json.loads(corpus.read_text())
    c["gpu"] = "h100-sxm"
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(c))
    return path


def test_calibration_matches_cli(tmp_path):
    cal = h100_calibration(tmp_path)
    out = subprocess.run(
        [cli(), "simulate", "--workload", VISION3, "--calibration", str(cal), "--json", "-"],
        check=True, capture_output=True, text=True,
    ).stdout
    r = cotenant.simulate(workload=VISION3, calibration=cal)
    assert r == json.loads(out)
    assert r != cotenant.simulate(workload=VISION3)


def test_calibration_of_another_gpu_is_refused():
    with pytest.raises(cotenant.InputError, match="fitted on a100-sxm4-40g"):
        cotenant.simulate(workload=VISION3,
                          calibration="tests/fuzz/corpus/measured_table/calibration.json")
