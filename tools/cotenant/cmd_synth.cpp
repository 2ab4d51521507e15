// cotenant synth: generate a synthetic trace, either of a known model from its
// layer shapes (roofline durations on a GPU spec) or of random kernels.
#include <cstdio>
#include <memory>
#include <string>

#include "profiler/synth.h"
#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/trace.h"
#include "tools/cotenant/commands.h"

namespace cotenant::cli {

RunFn AddSynth(CLI::App* sub) {
  struct Options {
    std::string model, gpu = "h100-sxm", output;
    int batch = 1;
    bool random = false;
    int64_t kernels = 0;
    int streams = 4;
    uint64_t seed = 1;
  };
  auto o = std::make_shared<Options>();
  std::string models;
  for (const std::string& m : profiler::SynthModelNames())
    models += (models.empty() ? "" : ", ") + m;
  sub->add_option("-m,--model", o->model, "Model to synthesize: " + models);
  sub->add_option("-b,--batch", o->batch,
                  "Batch size, 1.." + std::to_string(profiler::kSynthMaxBatch) + " (default 1)");
  sub->add_flag("--random", o->random, "Generate random kernels instead of a model");
  sub->add_option("--kernels", o->kernels, "Number of random kernels (with --random)");
  sub->add_option("--streams", o->streams, "Number of streams of random kernels (default 4)");
  sub->add_option("-g,--gpu", o->gpu, "GPU spec key or file (default h100-sxm)");
  sub->add_option("--seed", o->seed, "Seed of the host-side jitter and random shapes (default 1)");
  sub->add_option("-o,--output", o->output, "Trace file to write (.json or .json.gz)")->required();
  sub->footer(
      "The durations are roofline estimates (tensor/FP32 peak and DRAM bandwidth of the GPU\n"
      "spec), not measurements; the trace's meta says so.\n"
      "Examples:\n"
      "  cotenant synth --model resnet50 --batch 8 --gpu h100-sxm -o resnet50_b8.json\n"
      "  cotenant synth --random --kernels 100000 --streams 4 --seed 7 -o random.json.gz\n");
  return [o, sub]() {
    const bool batch_given = sub->count("--batch") > 0;
    const bool random_opts = sub->count("--kernels") > 0 || sub->count("--streams") > 0;
    if (o->random == !o->model.empty()) {
      throw InputError(o->random ? "--model: not allowed with --random"
                                 : "--model: expected a model (" +
                                       std::string(profiler::SynthModelNames().front()) +
                                       ", ...) or --random, found neither");
    }
    if (o->random && batch_given) throw InputError("--batch: applies to --model, not --random");
    if (!o->random && random_opts) {
      throw InputError("--kernels/--streams: apply to --random, not --model");
    }
    if (o->random && sub->count("--kernels") == 0) {
      throw InputError("--kernels: expected the number of random kernels with --random");
    }
    const GpuSpec spec = LoadGpuSpec(o->gpu);
    const Trace trace = o->random
                            ? profiler::SynthesizeRandom(o->kernels, o->streams, spec, o->seed)
                            : profiler::SynthesizeModel(o->model, o->batch, spec, o->seed);
    WriteTrace(trace, o->output);

    int64_t kernels = 0;
    TimeNs gpu_ns = 0;
    for (const Task& t : trace.tasks) {
      if (t.kind != TaskKind::kKernel) continue;
      ++kernels;
      gpu_ns += t.dur_ns;
    }
    const std::string what = o->random ? "random (" + std::to_string(o->streams) + " streams)"
                                       : o->model + " batch " + std::to_string(o->batch);
    std::printf("synth: %s on %s: %lld kernels, %.3f ms kernel time, %zu tasks -> %s\n",
                what.c_str(), spec.key.c_str(), static_cast<long long>(kernels),
                static_cast<double>(gpu_ns) / 1e6, trace.tasks.size(), o->output.c_str());
    return 0;
  };
}

}  // namespace cotenant::cli
