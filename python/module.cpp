// The `cotenant` Python module: thin bindings over the libraries the CLI
// uses (sim, profiler, search, fleet). Arguments in, the library's JSON documents
// out as plain Python objects; no analysis here.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fleet/placement.h"
#include "fleet/pool.h"
#include "fleet/synth_sources.h"
#include "profiler/serving_run.h"
#include "profiler/synth.h"
#include "profiler/synth_host.h"
#include "search/search.h"
#include "search/space.h"
#include "search/space_file.h"
#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/plan.h"
#include "sim/simulate.h"
#include "sim/trace.h"
#include "sim/trace_stats.h"
#include "sim/workload_whatif.h"
#include "tools/validation/table_model.h"
#include "tools/validation/table_run.h"

namespace py = pybind11;

namespace cotenant::python {
namespace {

/// A JSON document as dicts, lists, ints, floats, strings, bools and None.
py::object ToPython(const nlohmann::json& j) {
  using Type = nlohmann::json::value_t;
  switch (j.type()) {
    case Type::boolean:
      return py::bool_(j.get<bool>());
    case Type::number_integer:
      return py::int_(j.get<int64_t>());
    case Type::number_unsigned:
      return py::int_(j.get<uint64_t>());
    case Type::number_float:
      return py::float_(j.get<double>());
    case Type::string:
      return py::str(j.get_ref<const std::string&>());
    case Type::array: {
      py::list list;
      for (const nlohmann::json& e : j) list.append(ToPython(e));
      return std::move(list);
    }
    case Type::object: {
      py::dict dict;
      for (const auto& [key, value] : j.items()) dict[py::str(key)] = ToPython(value);
      return std::move(dict);
    }
    default:  // null, binary, discarded
      return py::none();
  }
}

/// A Python object made of dicts (string keys), lists, tuples, numbers,
/// strings, bools and None, as JSON; `what` names it in errors.
nlohmann::json FromPython(py::handle h, const std::string& what) {
  if (h.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(h)) return h.cast<bool>();
  if (py::isinstance<py::int_>(h)) return h.cast<int64_t>();
  if (py::isinstance<py::float_>(h)) return h.cast<double>();
  if (py::isinstance<py::str>(h)) return h.cast<std::string>();
  if (py::isinstance<py::dict>(h)) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [key, value] : h.cast<py::dict>()) {
      if (!py::isinstance<py::str>(key))
        throw InputError(what + ": expected string keys, found " +
                         std::string(py::str(py::type::of(key).attr("__name__"))));
      j[key.cast<std::string>()] = FromPython(value, what);
    }
    return j;
  }
  if (py::isinstance<py::list>(h) || py::isinstance<py::tuple>(h)) {
    nlohmann::json j = nlohmann::json::array();
    for (py::handle e : h) j.push_back(FromPython(e, what));
    return j;
  }
  throw InputError(what + ": expected dicts, lists, numbers, strings, bools or None, found " +
                   std::string(py::str(py::type::of(h).attr("__name__"))));
}

/// A path argument (str or os.PathLike) as a string.
std::string PathArg(py::handle h) {
  return py::module_::import("os").attr("fspath")(h).cast<std::string>();
}

/// Path arguments: None -> none, one path -> one, else an iterable of paths.
std::vector<std::string> PathList(py::handle h) {
  std::vector<std::string> paths;
  if (h.is_none()) return paths;
  if (py::isinstance<py::str>(h) || py::hasattr(h, "__fspath__")) return {PathArg(h)};
  for (py::handle e : h) paths.push_back(PathArg(e));
  return paths;
}

/// Loads a workload file (LLM tenants get synth's models, as in the CLI's
/// simulate and search) or one tenant per trace file, then as the CLI:
/// rescales to `gpu`, applies `calibration`, overrides `requests` (0 = the
/// workload's). Releases the GIL.
LoadedWorkload Load(py::handle workload, py::handle traces, const std::optional<std::string>& gpu,
                    py::handle calibration, int64_t requests, const std::string& command) {
  const std::string path = workload.is_none() ? "" : PathArg(workload);
  const std::vector<std::string> trace_paths = PathList(traces);
  if (!path.empty() && !trace_paths.empty())
    throw InputError(command + ": give either workload or traces, not both");
  if (path.empty() && trace_paths.empty())
    throw InputError(command + ": nothing to simulate: give workload=W.json or traces=[...]");
  const std::string gpu_key = gpu.value_or("");
  const std::string calibration_path = calibration.is_none() ? "" : PathArg(calibration);
  py::gil_scoped_release release;
  const LlmModelFactory synth = profiler::SynthLlmModels();
  LoadedWorkload lw = !path.empty() ? LoadWorkload(path, gpu_key, &synth, "python")
                                    : LoadTraces(trace_paths, gpu_key);
  // As the CLI's --gpu: traces captured on another known GPU are rescaled to it.
  if (!gpu_key.empty()) RescaleToGpu(&lw);
  // --calibration as in the CLI's simulate and search (ApplyCalibrationFile,
  // which also prints what it scaled).
  if (!calibration_path.empty()) {
    validation::ApplyTableCalibration(&lw, validation::ReadTableCalibration(calibration_path),
                                      calibration_path);
  }
  OverrideRequests(&lw, requests);  // --requests, after the calibration as in the CLI
  return lw;
}

/// None or "native" -> the native plan; a dict -> a cotenant.plan/1
/// document; else a plan file's path.
Plan PlanArg(py::handle plan) {
  if (plan.is_none()) return Plan{};
  if (py::isinstance<py::dict>(plan)) return PlanFromJson(FromPython(plan, "plan"), "plan");
  const std::string path = PathArg(plan);
  return path == "native" ? Plan{} : ReadPlan(path);
}

py::dict LoadTraceSummary(py::object path_arg) {
  const std::string path = PathArg(path_arg);
  Trace trace;
  {
    py::gil_scoped_release release;
    trace = ReadTrace(path);
  }
  int64_t kernels = 0;
  for (const Task& t : trace.tasks) kernels += t.kind == TaskKind::kKernel;
  py::dict device;
  device["name"] = trace.device_name;
  device["gpu"] = trace.device_gpu;
  py::dict d;
  d["file"] = path;
  d["tenant"] = trace.tenant;
  d["tasks"] = static_cast<int64_t>(trace.tasks.size());
  d["kernels"] = kernels;
  d["request_span_ns"] = RequestSpanNs(trace);
  d["device"] = device;
  d["meta"] = ToPython(trace.meta);
  return d;
}

py::object SimulatePy(py::object workload, py::object traces, py::object plan,
                      const std::optional<std::string>& gpu, const std::string& model,
                      py::object calibration, int64_t requests) {
  const Plan p = PlanArg(plan);
  const LoadedWorkload lw = Load(workload, traces, gpu, calibration, requests, "simulate");
  nlohmann::json result;
  {
    py::gil_scoped_release release;
    SimOptions options;
    options.model = model;
    result = ResultToJson(Simulate(lw, p, options));
  }
  return ToPython(result);
}

py::object SearchPy(py::object workload, py::object traces, const std::optional<std::string>& gpu,
                    int64_t budget, double seconds, const std::string& strategy, int threads,
                    uint64_t seed, const std::string& model, py::object space,
                    const std::optional<std::string>& knobs, int64_t sm_step,
                    const std::vector<std::string>& sets, py::object start, py::object calibration,
                    int64_t requests) {
  if (threads < 1)
    throw InputError("search: threads: expected >= 1, found " + std::to_string(threads));
  if (budget < 0 || seconds < 0.0) {
    throw InputError("search: budget and seconds: expected >= 0 (0 = not given), found " +
                     std::to_string(budget) + " and " + std::to_string(seconds));
  }
  const LoadedWorkload lw = Load(workload, traces, gpu, calibration, requests, "search");
  if (budget <= 0 && seconds <= 0.0) budget = search::DefaultBudget(lw);  // (as the CLI)
  // The space: file, then knobs, sm_step and sets in that order (as the CLI).
  search::SpaceConfig config;
  if (!space.is_none()) config = search::ReadSpaceConfig(PathArg(space));
  if (knobs && !knobs->empty()) config.MergeFrom(search::SpaceConfigFromKnobList(*knobs));
  if (sm_step > 0)
    config.MergeFrom(search::SpaceConfigFromSetting("sm_step=" + std::to_string(sm_step)));
  for (const std::string& s : sets) config.MergeFrom(search::SpaceConfigFromSetting(s));
  search::SearchOptions so;
  so.strategy = strategy;
  so.budget_evaluations = budget;
  so.budget_seconds = seconds;
  so.threads = threads;
  so.seed = seed;
  so.model = model;
  if (!start.is_none()) so.start = PlanArg(start);
  nlohmann::json report;
  {
    py::gil_scoped_release release;
    const search::PlanSpace plan_space(lw, config);
    report = search::SearchResultToJson(search::RunSearch(plan_space, so), plan_space);
  }
  return ToPython(report);
}

/// Zoo members through synth, wired as the CLI wires them (measured_cli.cpp's Zoo).
validation::ZooSynthesizer Zoo() {
  return {profiler::SynthesizeZooMember, profiler::SynthFrameworks().front()};
}

py::object ValidateMeasuredPy(py::object table, py::object calibration, int32_t kfold,
                              const std::string& model, const std::optional<std::string>& framework,
                              int32_t threads) {
  validation::MeasuredValidateOptions o;
  o.table = PathArg(table);
  o.calibration = calibration.is_none() ? "" : PathArg(calibration);
  o.kfold = kfold;
  o.model = model;
  o.framework = framework.value_or("");
  o.threads = threads;
  nlohmann::json doc;
  {
    py::gil_scoped_release release;
    doc = validation::ValidateMeasured(o, Zoo()).ToJson();
  }
  return ToPython(doc);
}

py::object CalibrateMeasuredPy(py::object table, const std::string& model,
                               const std::optional<std::string>& framework, int32_t threads,
                               int32_t max_iterations, const std::vector<std::string>& fix,
                               const std::optional<std::string>& date) {
  validation::MeasuredCalibrateOptions o;
  o.table = PathArg(table);
  o.model = model;
  o.framework = framework.value_or("");
  o.threads = threads;
  o.max_iterations = max_iterations;
  o.fix = fix;
  o.date = date.value_or("");
  nlohmann::json doc;
  {
    py::gil_scoped_release release;
    doc =
        validation::TableCalibrationToJson(validation::CalibrateMeasured(o, Zoo()).fit.calibration);
  }
  return ToPython(doc);
}

py::object FleetPy(py::object fleet_file, int threads, const std::optional<int64_t>& seed) {
  if (threads < 1)
    throw InputError("fleet: threads: expected >= 1, found " + std::to_string(threads));
  if (seed && *seed < 0)
    throw InputError("fleet: seed: expected >= 0, found " + std::to_string(*seed));
  const std::string path = PathArg(fleet_file);
  nlohmann::json doc;
  {
    py::gil_scoped_release release;
    fleet::FleetSpec spec = fleet::ReadFleet(path);
    if (seed) spec.seed = static_cast<uint64_t>(*seed);
    const fleet::LoadedFleet f = fleet::LoadFleet(std::move(spec), fleet::SynthSources());
    // This process's threads (the module does not start MPI; mpirun runs the CLI).
    std::unique_ptr<fleet::Pool> pool = fleet::MakeLocalPool(threads);
    doc = fleet::FleetResultToJson(fleet::PlaceFleet(f, *pool), f);
  }
  return ToPython(doc);
}

}  // namespace
}  // namespace cotenant::python

PYBIND11_MODULE(_cotenant, m) {
  using namespace cotenant::python;
  using py::arg;
  m.doc() = "cotenant's C++ libraries (see the cotenant package)";
  m.attr("__version__") = COTENANT_VERSION;
  py::register_exception<cotenant::InputError>(m, "InputError", PyExc_ValueError);

  m.def("gpus", &cotenant::ListGpuSpecs,
        "gpus() -> list of str\n\nThe keys of the bundled GPU specs (configs/gpus/), sorted.");
  m.def(
      "gpu_spec",
      [](py::object key) {
        return ToPython(cotenant::GpuSpecToJson(cotenant::LoadGpuSpec(PathArg(key))));
      },
      arg("key"),
      "gpu_spec(key) -> dict\n\nA GPU spec (cotenant.gpu/1) by key (see gpus()) or file path.");
  m.def("load_trace", &LoadTraceSummary, arg("path"),
        "load_trace(path) -> dict\n\n"
        "Reads and validates a trace (cotenant.trace/1, .json or .json.gz) and returns a\n"
        "summary: file, tenant, tasks, kernels, request_span_ns (one request alone, first\n"
        "task start to last task end), device {name, gpu} and meta.");
  m.def("simulate", &SimulatePy, py::kw_only(), arg("workload") = py::none(),
        arg("traces") = py::none(), arg("plan") = py::none(), arg("gpu") = py::none(),
        arg("model") = "fluid", arg("calibration") = py::none(), arg("requests") = 0,
        "simulate(*, workload=None, traces=None, plan=None, gpu=None, model='fluid',\n"
        "         calibration=None, requests=0) -> dict\n\n"
        "Simulates a workload file (cotenant.workload/1; LLM tenants run on synth's\n"
        "models) or one tenant per trace file (traces: a path or a list of paths) under\n"
        "a plan: None or 'native' (native multi-stream), a plan file's path, or a dict\n"
        "shaped like cotenant.plan/1. gpu: a spec key or file overriding the workload's;\n"
        "traces captured on another known GPU are rescaled to it (as --gpu).\n"
        "model: the contention model, 'fluid' or 'block'. calibration: a\n"
        "cotenant.model-calibration/1 file (calibrate --measured), as --calibration.\n"
        "requests: run every tenant with this many requests (0: the workload's), as\n"
        "--requests.\n"
        "Returns the cotenant.result/1 document, as `cotenant simulate --json` writes it.\n"
        "Releases the GIL.");
  m.def("search", &SearchPy, py::kw_only(), arg("workload") = py::none(),
        arg("traces") = py::none(), arg("gpu") = py::none(), arg("budget") = 0,
        arg("seconds") = 0.0, arg("strategy") = "auto", arg("threads") = 1, arg("seed") = 1,
        arg("model") = "fluid", arg("space") = py::none(), arg("knobs") = py::none(),
        arg("sm_step") = 0, arg("sets") = std::vector<std::string>{}, arg("start") = py::none(),
        arg("calibration") = py::none(), arg("requests") = 0,
        "search(*, workload=None, traces=None, gpu=None, budget=0, seconds=0.0,\n"
        "       strategy='auto', threads=1, seed=1, model='fluid', space=None, knobs=None,\n"
        "       sm_step=0, sets=[], start=None, calibration=None, requests=0) -> dict\n\n"
        "Searches the plan space of a workload (as `cotenant search`): budget in\n"
        "simulations and/or seconds of wall clock (neither: the CLI's default budget,\n"
        "2000 simulations, 100 with llm tenants); strategy: auto, exhaustive,\n"
        "random, greedy, anneal, genetic, surrogate; space: a cotenant.searchspace/1 file;\n"
        "knobs: 'groups,priority,sm,...'; sets: ['bert.sm_count=null,64', ...] as --set;\n"
        "start: a plan (path or dict) inside the space; calibration, gpu and requests\n"
        "as in simulate().\n"
        "Same seed and threads -> same report. Returns the cotenant.search/1 report (as `cotenant "
        "search --json`),\n"
        "whose best plan is a cotenant.plan/1 dict simulate() takes. Releases the GIL.");
  m.def("validate_measured", &ValidateMeasuredPy, arg("table"), arg("calibration") = py::none(),
        arg("kfold") = 0, arg("model") = "fluid", arg("framework") = py::none(), arg("threads") = 1,
        "validate_measured(table, calibration=None, kfold=0, model='fluid',\n"
        "                  framework=None, threads=1) -> dict\n\n"
        "Predicts every row of a measured co-location table (CSV:\n"
        "gpu,dtype,models,batch,seq_len,latency_us) and compares, as `cotenant validate\n"
        "--measured`: calibration: a cotenant.model-calibration/1 file (--calibration);\n"
        "kfold: 0 or 2..1000 folds of cross-validation, each fitting its own calibration\n"
        "(--kfold; not with calibration); model: 'fluid' or 'block'; framework: the zoo\n"
        "traces' host-cost profile (None: the calibration's, else synth's default);\n"
        "threads: simulation threads. Returns the cotenant.table-validation/1 document, as\n"
        "`cotenant validate --measured T.csv --json -` writes it. Releases the GIL.");
  m.def("fleet", &FleetPy, arg("fleet"), arg("threads") = 1, arg("seed") = py::none(),
        "fleet(fleet, threads=1, seed=None) -> dict\n\n"
        "Places a fleet's models on its GPUs (a cotenant.fleet/1 file), as `cotenant fleet`:\n"
        "cotenant's placement beside one model per GPU and bin packing by utilisation.\n"
        "threads: group evaluations in parallel (the answer does not depend on it); seed:\n"
        "instead of the file's. Returns the cotenant.fleet-result/1 document, as `cotenant\n"
        "fleet F --json -` writes it. Runs on this process's threads only (MPI: run the CLI\n"
        "under mpirun). Releases the GIL.");
  m.def("calibrate_measured", &CalibrateMeasuredPy, arg("table"), arg("model") = "fluid",
        arg("framework") = py::none(), arg("threads") = 1, arg("max_iterations") = 30,
        arg("fix") = std::vector<std::string>{}, arg("date") = py::none(),
        "calibrate_measured(table, model='fluid', framework=None, threads=1,\n"
        "                   max_iterations=30, fix=[], date=None) -> dict\n\n"
        "Fits the contention model and per-model time scales to a measured table, as\n"
        "`cotenant calibrate --measured T.csv -o cal.json`: max_iterations per fitting\n"
        "stage (--max-iterations); fix: parameters held at their start value (--fix:\n"
        "harness_ns, a contention parameter, MODEL.host_scale, MODEL.gpu_scale, MODEL.*);\n"
        "date: recorded in the calibration (None: today, UTC; --date). Returns the\n"
        "cotenant.model-calibration/1 document the CLI writes to -o (a file of it is\n"
        "what simulate(calibration=...) and validate_measured(calibration=...) read).\n"
        "Releases the GIL.");
}
