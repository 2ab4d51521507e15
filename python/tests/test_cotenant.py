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


def run_cli(*args):
    out = subprocess.run([cli(), *args], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def test_gpu_override_rescales_as_the_cli():
    """vision3's traces were captured on h100-sxm: gpu= rescales them (RescaleToGpu)."""
    r = cotenant.simulate(workload=VISION3, gpu="a100-sxm4-40g")
    assert r == run_cli("simulate", "--workload", VISION3, "--gpu", "a100-sxm4-40g", "--json", "-")
    assert r["makespan_ns"] > cotenant.simulate(workload=VISION3)["makespan_ns"]
    t = cotenant.simulate(traces=[RESNET, BERT], gpu="a100-sxm4-40g")
    assert t == run_cli("simulate", RESNET, BERT, "--gpu", "a100-sxm4-40g", "--json", "-")
    s = cotenant.search(workload=VISION3, gpu="a100-sxm4-40g", budget=6, threads=1)
    c = run_cli("search", "--workload", VISION3, "--gpu", "a100-sxm4-40g", "--budget", "6",
                "-j", "1", "--json", "-")
    assert s["gpu"] == c["gpu"] == "a100-sxm4-40g"
    assert s["best"] == c["best"] and s["baselines"] == c["baselines"]
    same = cotenant.simulate(workload=VISION3, gpu="h100-sxm")
    assert same == cotenant.simulate(workload=VISION3)


def test_requests_override_as_the_cli():
    r = cotenant.simulate(workload=VISION3, requests=3)
    assert all(t["requests"] == 3 for t in r["tenants"].values())
    assert r == run_cli("simulate", "--workload", VISION3, "--requests", "3", "--json", "-")
    s = cotenant.search(workload=VISION3, requests=2, budget=5, threads=1)
    assert all(t["requests"] == 2 for t in s["best"]["result"]["tenants"].values())
    assert s["evaluations"] <= 5
    assert cotenant.simulate(workload=VISION3, requests=0) == cotenant.simulate(workload=VISION3)
    with pytest.raises(cotenant.InputError, match=r"--requests: expected >= 1 .*found -2"):
        cotenant.simulate(workload=VISION3, requests=-2)


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


# Measured tables: validate --measured and calibrate --measured.
TABLE = """gpu,dtype,models,batch,seq_len,latency_us,note
a100-sxm4-40g,fp16,resnet50,4,0,8683.0,solo
a100-sxm4-40g,fp16,resnet50,32,0,12514.0,
a100-sxm4-40g,fp16,vgg16,4,0,3048.25,
a100-sxm4-40g,fp16,vgg16,32,0,23354.0,
a100-sxm4-40g,fp16,resnet50+vgg16,4+4,0+0,8720.0,pair
a100-sxm4-40g,fp16,resnet50+vgg16,32+32,0+0,37021.0,
a100-sxm4-40g,fp16,resnet50+vgg16+resnet50,4+4+32,0+0+0,16000.0,triple
"""


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "measured.csv"
    path.write_text(TABLE)
    return path


def test_validate_measured_matches_cli(table):
    v = cotenant.validate_measured(table)
    assert v["schema"] == "cotenant.table-validation/1"
    assert len(v["groups"]) == 3
    assert_plain(v)
    assert v == run_cli("validate", "--measured", str(table), "--threads", "1", "--json", "-")
    b = cotenant.validate_measured(str(table), model="block", threads=2)
    assert b == run_cli("validate", "--measured", str(table), "--model", "block", "--json", "-")


def test_calibrate_then_validate_matches_cli(table, tmp_path):
    c = cotenant.calibrate_measured(table, max_iterations=2, date="2026-01-01",
                                    framework="pytorch-1.8-eager")
    assert c["schema"] == "cotenant.model-calibration/1" and c["gpu"] == "a100-sxm4-40g"
    assert c["framework"] == "pytorch-1.8-eager" and c["date"] == "2026-01-01"
    assert set(c["models"]) == {"resnet50", "vgg16"}
    assert len(c["fit"]["rows"]) == 7
    cal = tmp_path / "cal.json"
    run_cli_out = subprocess.run(
        [cli(), "calibrate", "--measured", str(table), "-o", str(cal), "--max-iterations", "2",
         "--date", "2026-01-01", "--framework", "pytorch-1.8-eager", "--threads", "1"],
        check=True, capture_output=True, text=True)
    assert "ignored columns: note" in run_cli_out.stderr
    assert c == json.loads(cal.read_text())
    # Its file, as --calibration.
    v = cotenant.validate_measured(table, calibration=cal)
    assert v["calibration"] == str(cal)
    assert v == run_cli("validate", "--measured", str(table), "--calibration", str(cal),
                        "--threads", "1", "--json", "-")
    d = cotenant.calibrate_measured(table, max_iterations=1, fix=["resnet50.*"])
    assert d["framework"] == "pytorch-eager"
    assert all(m["basis"] == "synth:pytorch-eager" for m in d["models"].values())


def test_validate_measured_kfold(table):
    v = cotenant.validate_measured(table, kfold=2)
    assert v["calibration"] == "2-fold"
    assert v == run_cli("validate", "--measured", str(table), "--kfold", "2", "--threads", "1",
                        "--json", "-")


def test_measured_bad_input(table, tmp_path):
    neg = tmp_path / "neg.csv"
    neg.write_text("gpu,dtype,models,batch,seq_len,latency_us\na100-sxm4-40g,fp16,resnet50,4,0,-1\n")
    with pytest.raises(cotenant.InputError) as e:
        cotenant.validate_measured(neg)
    assert str(e.value) == (f"{neg}:2: latency_us: expected a positive number of "
                            "microseconds, found '-1'")
    with pytest.raises(cotenant.InputError) as e:
        cotenant.calibrate_measured(neg)
    assert str(e.value).startswith(f"{neg}:2: latency_us:")
    unk = tmp_path / "unk.csv"
    unk.write_text("gpu,dtype,models,batch,seq_len,latency_us\na100-sxm4-40g,fp16,resnet5,4,0,100\n")
    with pytest.raises(cotenant.InputError, match=f"{unk}:2: models: resnet5: .*did you mean"):
        cotenant.validate_measured(unk)
    with pytest.raises(cotenant.InputError, match="no such file"):
        cotenant.validate_measured(tmp_path / "none.csv")
    with pytest.raises(cotenant.InputError, match="kfold: expected 0 \\(none\\) or 2 to 1000"):
        cotenant.validate_measured(table, kfold=1)
    with pytest.raises(cotenant.InputError, match="kfold: fits its own calibrations"):
        cotenant.validate_measured(table, kfold=2,
                                   calibration="tests/fuzz/corpus/measured_table/calibration.json")
    with pytest.raises(cotenant.InputError, match="threads: expected >= 1"):
        cotenant.validate_measured(table, threads=0)
    with pytest.raises(cotenant.InputError, match="max_iterations: expected 1 to 1000"):
        cotenant.calibrate_measured(table, max_iterations=0)
    with pytest.raises(cotenant.InputError, match="framework: expected one of"):
        cotenant.validate_measured(table, framework="nope")


FLEET = "tests/data/fleet_tiny.json"


def test_fleet_matches_cli():
    # The same cotenant.fleet-result/1 document as `cotenant fleet --json -`, whatever
    # the thread count.
    out = run_cli("fleet", FLEET, "--json", "-", "-j", "1")
    r = cotenant.fleet(FLEET, threads=2)
    assert r == out
    assert_plain(r)
    assert r["schema"] == "cotenant.fleet-result/1"
    names = [p["name"] for p in r["placements"]]
    assert names == ["cotenant", "one-per-gpu", "bin-packing", "bin-packing-tightened"]
    best = r["placements"][0]
    assert best["all_slos_met"]
    assert best["gpus_used"] <= r["placements"][1]["gpus_used"]


def test_fleet_errors_name_the_model(tmp_path):
    doc = json.loads(pathlib.Path(FLEET).read_text())
    doc["models"][1]["memory_gib"] = 500
    doc["models"][2]["trace"] = str(pathlib.Path("traces/synthetic/bert-base_b1.json").resolve())
    bad = tmp_path / "f.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(cotenant.InputError, match=r"models\[1\]\.memory_gib: mobilenet needs 500\.0 GiB"):
        cotenant.fleet(str(bad))
    with pytest.raises(cotenant.InputError, match="threads"):
        cotenant.fleet(FLEET, threads=0)
