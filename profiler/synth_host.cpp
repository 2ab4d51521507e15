#include "profiler/synth_host.h"

#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant::profiler {
namespace {

// Sources (full list in profiler/README.md, "Host cost"):
// [M] pytorch/pytorch#50431 (H. He, Feb 2021, master between 1.8 and 1.9): an empty
//     nn.Module call cost 3.08 us per call against 0.91 us for the bare op inside it,
//     i.e. ~2.2 us of module overhead; the no-hook fast path of pytorch/pytorch#52576
//     (first released in 1.9) removed most of the hook checks behind it.
// [P] pytorch/pytorch#41383 (N. Gimelshein, Jul 2020): `x*x` on a small tensor costs about
//     2 us from Python, "approx half of it is python parsing overhead (same operation
//     called using c++ API would take about a microsecond)".
// [T] PyTorch docs, "CUDA semantics: TensorFloat-32 (TF32) on Ampere (and later)":
//     torch.backends.cuda.matmul.allow_tf32 defaults to False from 1.12 (True in
//     1.7-1.11); torch.backends.cudnn.allow_tf32 defaults to True.
// [L] J. Lin, "From PyTorch op to kernel launch" (lesson notes, 2024): cudaLaunchKernel
//     "~1-3 us on CUDA 12+ drivers"; ATen dispatcher ~1-2 us; backend algorithm choice
//     ~1-5 us "cached after first call". A secondary source, not a measurement report.
// [C] discuss.pytorch.org/t/pytorch-cpu-overhead-of-creating-conv2d-layers/41033 (Mar
//     2019, PyTorch 1.0 era, cuDNN 7 API): cProfile puts torch.conv2d at 0.05-0.16 ms of
//     CPU time for one to three convolutions, about 50-80 us per call, for convolutions
//     whose GPU time is far shorter. One forum measurement on an unnamed CPU, with
//     cProfile's own cost included; taken at its low end.
// [V] vLLM blog, "vLLM v0.6.0: 2.7x Throughput Improvement and 5x Latency Reduction"
//     (Sep 2024): profiling Llama 3 8B on one H100 before that release, "29% of the total
//     execution time is spent on scheduling" (gathering the last step's results,
//     scheduling, preparing inputs); it gives shares, no per-iteration time in us.
// Everything else is an assumption and says so.
const std::vector<HostCostProfile>& Profiles() {
  static const std::vector<HostCostProfile> profiles = {
      {
          "pytorch-eager",
          "PyTorch 2.x eager, CUDA 12, a current server CPU",
          /*module_ns=*/1000,      // assumption: [M]'s 2.2 us less the hook checks #52576 skips
          /*python_ns=*/1000,      // [P]: about half of 2 us
          /*dispatch_ns=*/500,     // [P]: ~1 us for a C++ call of ~2 dispatcher passes
          /*cudnn_conv_ns=*/6000,  // assumption: v8 API with an execution-plan cache
          /*cudnn_bn_ns=*/2000,    // assumption
          /*cublas_ns=*/2000,      // assumption, within [L]'s 1-5 us backend figure
          /*launch_ns=*/2000,      // [L]: 1-3 us on CUDA 12
          /*memcpy_ns=*/3000,      // assumption
          /*jitter=*/0.2,          // assumption
          /*matmul_tf32=*/false,   // [T]: default False from 1.12
          /*conv_tf32=*/true,      // [T]
          "pytorch/pytorch#50431 and #41383 (module and Python overhead), PyTorch TF32 docs, "
          "J. Lin's launch-path notes (launch 1-3 us on CUDA 12); cuDNN/cuBLAS setup, memcpy "
          "and jitter are assumptions",
      },
      {
          "pytorch-1.8-eager",
          "PyTorch 1.8 eager, CUDA 11.2, cuDNN 8.1 (v7 API), a 2.4 GHz Xeon Silver class CPU",
          /*module_ns=*/2200,       // [M]: 3.08 - 0.91 us, before the #52576 fast path
          /*python_ns=*/1000,       // [P]
          /*dispatch_ns=*/500,      // [P]
          /*cudnn_conv_ns=*/45000,  // [C]: torch.conv2d took 50-80 us of CPU per call;
                                    // 50 us less Python, dispatch and the launch here.
                                    // 1.8 still rebuilds tensor, filter and convolution
                                    // descriptors and queries the v7 heuristics every
                                    // call (ATen/native/cudnn/Conv_v7.cpp)
          /*cudnn_bn_ns=*/3000,     // assumption
          /*cublas_ns=*/3000,       // assumption
          /*launch_ns=*/4000,       // assumption: CUDA 11 era launch on a 2.4 GHz core,
                                    // twice [L]'s CUDA 12 figure
          /*memcpy_ns=*/5000,       // assumption
          /*jitter=*/0.2,           // assumption
          /*matmul_tf32=*/true,     // [T]: default True in 1.7-1.11
          /*conv_tf32=*/true,       // [T]
          "pytorch/pytorch#50431 (module overhead before the no-hook fast path), #41383 "
          "(Python and dispatcher), discuss.pytorch.org thread 41033 (torch.conv2d CPU time), "
          "PyTorch TF32 docs; cuDNN batch-norm and cuBLAS setup, launch, memcpy and jitter "
          "are assumptions",
      },
      {
          "vllm",
          "vLLM V1-style engine iteration: CUDA Graphs for decode, eager prefill, CUDA 12",
          /*module_ns=*/0,        // assumption: the model is torch.compile'd, no nn.Module
                                  // calls per operator at run time
          /*python_ns=*/1000,     // [P]: one Python call per custom op or compiled kernel
          /*dispatch_ns=*/500,    // [P]
          /*cudnn_conv_ns=*/0,    // no convolutions
          /*cudnn_bn_ns=*/0,      // no batch norm
          /*cublas_ns=*/2000,     // assumption, as pytorch-eager
          /*launch_ns=*/2000,     // [L]
          /*memcpy_ns=*/3000,     // assumption, as pytorch-eager
          /*jitter=*/0.2,         // assumption
          /*matmul_tf32=*/false,  // no fp32 GEMMs
          /*conv_tf32=*/false,
          "vLLM v0.6.0 blog (scheduling overhead, no per-iteration figure), pytorch/pytorch#41383 "
          "(Python and dispatcher), J. Lin's launch-path notes; the step and graph launch "
          "costs are assumptions",
          /*step_ns=*/100000,         // assumption: [V] gives shares only; 100 us for the
                                      // scheduler, input preparation and output processing
          /*graph_launch_ns=*/10000,  // assumption: one cudaGraphLaunch of a ~300-node graph
          /*decode_cuda_graph=*/true,
          /*serving=*/true,
      },
  };
  return profiles;
}

}  // namespace

std::vector<std::string> SynthFrameworks() {
  std::vector<std::string> names;
  for (const HostCostProfile& p : Profiles()) names.push_back(p.name);
  return names;
}

const HostCostProfile& FindFramework(const std::string& name) {
  for (const HostCostProfile& p : Profiles())
    if (p.name == name) return p;
  const std::vector<std::string> names = SynthFrameworks();
  throw InputError("framework: expected one of " + QuotedList(names) + ", found \"" + name + "\"" +
                   DidYouMean(name, names));
}

TimeNs HostWorkNs(const HostCostProfile& profile, const HostWork& work) {
  TimeNs setup = 0;
  switch (work.setup) {
    case LibrarySetup::kNone:
      break;
    case LibrarySetup::kCudnnConv:
      setup = profile.cudnn_conv_ns;
      break;
    case LibrarySetup::kCudnnBn:
      setup = profile.cudnn_bn_ns;
      break;
    case LibrarySetup::kCublas:
      setup = profile.cublas_ns;
      break;
  }
  return work.modules * profile.module_ns + work.python_calls * profile.python_ns +
         work.dispatches * profile.dispatch_ns + setup;
}

}  // namespace cotenant::profiler
