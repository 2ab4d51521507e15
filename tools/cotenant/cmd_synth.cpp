// cotenant synth: generate a synthetic trace, either of a known model from its
// layer shapes (roofline durations on a GPU spec) or of random kernels.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "profiler/synth.h"
#include "sim/error.h"
#include "sim/gpu_spec.h"
#include "sim/trace.h"
#include "tools/cotenant/commands.h"

namespace cotenant::cli {

RunFn AddSynth(CLI::App* sub) {
  struct Options {
    std::string model, gpu = "h100-sxm", output;
    std::string dtype, framework, library, phase;
    int batch = 1;
    int seq = 0;
    bool random = false;
    int64_t kernels = 0;
    int streams = 4;
    uint64_t seed = 1;
  };
  auto o = std::make_shared<Options>();
  auto join = [](const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  };
  sub->add_option("-m,--model", o->model,
                  "Model to synthesize: " + join(profiler::SynthModelNames()) +
                      " (bert-base is the 12-layer encoder; bert-base-full adds the "
                      "embeddings and pooler); LLMs (need --phase and --seq): " +
                      join(profiler::SynthLlmNames()));
  sub->add_option("--phase", o->phase,
                  "LLM iteration: prefill (--seq = prompt tokens) or decode (one new token "
                  "per sequence, --seq = context tokens)");
  sub->add_option("-b,--batch", o->batch,
                  "Batch size, 1.." + std::to_string(profiler::kSynthMaxBatch) + " (default 1)");
  sub->add_option("--seq", o->seq,
                  "Sequence length of BERT models, 1..512 (default 128); LLMs: prompt or "
                  "context tokens, 1..the model's context window (required)");
  sub->add_option("--dtype", o->dtype,
                  "Element type: " + join(profiler::SynthDtypes()) +
                      " (default fp16; LLMs bf16; fp8 for LLMs on compute capability 8.9+)");
  sub->add_option("--framework", o->framework,
                  "Host-cost profile: " + join(profiler::SynthFrameworks()) +
                      " (default pytorch-eager; LLMs vllm)");
  sub->add_option("--library", o->library,
                  "Kernel efficiency table: " + join(profiler::SynthLibraries()) +
                      " (default: from the GPU's compute capability)");
  sub->add_flag("--random", o->random, "Generate random kernels instead of a model");
  sub->add_option("--kernels", o->kernels, "Number of random kernels (with --random)");
  sub->add_option("--streams", o->streams, "Number of streams of random kernels (default 4)");
  sub->add_option("-g,--gpu", o->gpu, "GPU spec key or file (default h100-sxm)");
  sub->add_option("--seed", o->seed, "Seed of the host-side jitter and random shapes (default 1)");
  sub->add_option("-o,--output", o->output, "Trace file to write (.json or .json.gz)")->required();
  sub->footer(
      "Kernel durations are roofline estimates (peak and DRAM bandwidth of the GPU spec,\n"
      "derated per kernel class by the --library table) and host times come from the\n"
      "--framework profile: estimates, not measurements; the trace's meta says so.\n"
      "Figures and sources: profiler/README.md.\n"
      "Examples:\n"
      "  cotenant synth --model resnet50 --batch 8 --gpu h100-sxm -o resnet50_b8.json\n"
      "  cotenant synth --model bert-base --batch 4 --seq 32 --framework pytorch-1.8-eager \\\n"
      "      --gpu a100-sxm4-80g -o bert_b4_s32.json\n"
      "  cotenant synth --model llama-3.1-8b --phase decode --batch 8 --seq 2048 \\\n"
      "      --gpu h100-sxm -o llama8b_decode_b8.json\n"
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
    const bool model_opts = batch_given || sub->count("--seq") > 0 || sub->count("--dtype") > 0 ||
                            sub->count("--framework") > 0 || sub->count("--library") > 0 ||
                            sub->count("--phase") > 0;
    if (o->random && model_opts) {
      throw InputError(
          "--batch/--seq/--phase/--dtype/--framework/--library: apply to --model, not "
          "--random");
    }
    if (!o->random && random_opts) {
      throw InputError("--kernels/--streams: apply to --random, not --model");
    }
    if (o->random && sub->count("--kernels") == 0) {
      throw InputError("--kernels: expected the number of random kernels with --random");
    }
    const GpuSpec spec = LoadGpuSpec(o->gpu);
    profiler::SynthRequest req;
    req.model = o->model;
    req.batch = o->batch;
    req.seq = o->seq;
    req.phase = o->phase;
    const std::vector<std::string> llms = profiler::SynthLlmNames();
    const bool llm = std::find(llms.begin(), llms.end(), o->model) != llms.end();
    if (!llm && sub->count("--seq") > 0 && o->seq == 0) {
      throw InputError("--seq: expected an integer in 1..512, found 0");
    }
    req.dtype = o->dtype;
    req.framework = o->framework;
    req.library = o->library;
    req.seed = o->seed;
    const Trace trace = o->random
                            ? profiler::SynthesizeRandom(o->kernels, o->streams, spec, o->seed)
                            : profiler::Synthesize(req, spec);
    WriteTrace(trace, o->output);

    int64_t kernels = 0;
    TimeNs gpu_ns = 0;
    for (const Task& t : trace.tasks) {
      if (t.kind != TaskKind::kKernel) continue;
      ++kernels;
      gpu_ns += t.dur_ns;
    }
    std::string what = "random (" + std::to_string(o->streams) + " streams)";
    if (!o->random) {
      what = o->model;
      if (trace.meta.contains("phase")) what += " " + trace.meta.at("phase").get<std::string>();
      what += " batch " + std::to_string(o->batch);
      const int seq = trace.meta.at("seq").get<int>();
      if (seq > 0) what += " seq " + std::to_string(seq);
      what += " " + trace.meta.at("dtype").get<std::string>() + " " +
              trace.meta.at("framework").get<std::string>();
    }
    std::printf("synth: %s on %s: %lld kernels, %.3f ms kernel time, %zu tasks -> %s\n",
                what.c_str(), spec.key.c_str(), static_cast<long long>(kernels),
                static_cast<double>(gpu_ns) / 1e6, trace.tasks.size(), o->output.c_str());
    return 0;
  };
}

}  // namespace cotenant::cli
