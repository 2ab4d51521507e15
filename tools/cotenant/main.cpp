// cotenant: predict, search and validate how several DL models share one GPU.
// main() only dispatches to the subcommand table in commands.h.
#include <cstdio>
#include <exception>
#include <map>
#include <new>
#include <string>

#include "sim/error.h"
#include "tools/cotenant/commands.h"

namespace cotenant::cli {

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = {
      {"profile", "Run a CUDA program under the CUPTI profiler and write its trace", AddProfile},
      {"import",
       "Convert a trace from another profiler (PyTorch/Kineto, Nsight Systems) to a cotenant trace",
       AddImport},
      {"inspect", "Summarise a trace: kernels, streams, GPU time, busiest operators, occupancy",
       AddInspect},
      {"simulate", "Predict a multi-tenant workload's execution under a plan", AddSimulate},
      {"whatif", "Apply what-if changes to a workload and compare with the baseline", AddWhatif},
      {"search", "Search the plan space of a workload for the best way to share the GPU",
       AddSearch},
      {"synth", "Generate a synthetic trace of a model from its layer shapes", AddSynth},
      {"replay", "Run a workload under a plan on a real GPU and record what happened", AddReplay},
      {"validate", "Simulate and replay a workload under plans; compare predicted with measured",
       AddValidate},
      {"calibrate", "Fit the contention model to co-location micro-benchmarks run on the GPU",
       AddCalibrate},
      {"fleet",
       "Place models on a fleet of GPUs: which share which GPU, under which plan (MPI with "
       "mpirun)",
       AddFleet},
  };
  return kCommands;
}

}  // namespace cotenant::cli

int main(int argc, char** argv) {
  using namespace cotenant::cli;
  CLI::App app{"cotenant " COTENANT_VERSION
               ": co-locate deep-learning models on one GPU (predict, search, validate)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("cotenant ") + COTENANT_VERSION);
  std::map<CLI::App*, RunFn> runs;
  for (const Command& c : Commands()) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    runs[sub] = c.add(sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, run] : runs) {
      if (sub->parsed()) return run();
    }
  } catch (const cotenant::InputError& e) {
    std::fprintf(stderr, "cotenant: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "cotenant: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cotenant: error: %s\n", e.what());
    return 1;
  }
  return 1;
}
