#include "profiler/serving_run.h"

#include <cstdio>
#include <string>
#include <vector>

#include "profiler/serving_cost.h"
#include "profiler/synth.h"
#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant::profiler {
namespace {

using nlohmann::json;

std::string Gb(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GB", static_cast<double>(bytes) / 1e9);
  return buf;
}

class SynthIterations : public LlmIterationModel {
 public:
  SynthIterations(const LlmConfig& c, const DtypeInfo& dtype, const GpuSpec& spec)
      : cost_(c, dtype, spec) {}
  TimeNs Price(const IterationShape& shape, IterationWork* work) override {
    return cost_(shape, work);
  }

 private:
  LlmIterationCost cost_;
};

class SynthLlm : public LlmTenantModel {
 public:
  SynthLlm(const LlmTenantSpec& t, const std::string& file, const LlmConfig& c,
           const DtypeInfo& dtype, const GpuSpec& spec)
      : t_(t), file_(file), c_(c), dtype_(dtype), spec_(spec) {}

  std::string ModelName() const override { return c_.name; }
  std::string DtypeName() const override { return dtype_.name; }
  std::unique_ptr<LlmIterationModel> NewRun() const override {
    return std::make_unique<SynthIterations>(c_, dtype_, spec_);
  }
  LlmKvBudget KvBudget(int64_t usable_bytes, int64_t max_num_batched_tokens,
                       int64_t max_num_seqs) const override {
    return LlmKvCapacityOf(c_, dtype_, usable_bytes, max_num_batched_tokens, max_num_seqs);
  }

  // Context window and KV cache, request by request, with the field to blame.
  void CheckRequests(const std::vector<LlmRequest>& requests, const LlmKvBudget& kv,
                     int64_t block_tokens) const override {
    const int64_t blocks = kv.capacity_tokens / block_tokens;
    const std::string gpu = spec_.key.empty() ? spec_.name : spec_.key;
    for (size_t i = 0; i < requests.size(); ++i) {
      const LlmRequest& q = requests[i];
      const std::string which = "request " + std::to_string(i) + " has ";
      if (q.prompt_tokens > c_.max_context) {
        FailAt(file_, t_.prompt.field,
               which + std::to_string(q.prompt_tokens) + " prompt tokens, above " + c_.name +
                   "'s context window of " + std::to_string(c_.max_context) + " tokens");
      }
      if (q.prompt_tokens + q.output_tokens > c_.max_context) {
        FailAt(file_, t_.output.field,
               which + std::to_string(q.prompt_tokens) + " prompt + " +
                   std::to_string(q.output_tokens) + " output tokens, above " + c_.name +
                   "'s context window of " + std::to_string(c_.max_context) + " tokens");
      }
      const int64_t peak = q.prompt_tokens + q.output_tokens - 1;
      if ((peak + block_tokens - 1) / block_tokens > blocks) {
        FailAt(file_, t_.at,
               "the KV cache cannot hold one request: " + which + std::to_string(peak) +
                   " tokens to cache (prompt + output - 1), the cache holds " +
                   std::to_string(blocks * block_tokens) + " (gpu " + gpu + ": " +
                   Gb(kv.usable_bytes) + " for the engine - weights " + Gb(kv.weights_bytes) +
                   " - activations " + Gb(kv.activation_bytes) + ", " +
                   std::to_string(kv.kv_bytes_per_token) + " bytes per token)");
      }
    }
  }

 private:
  LlmTenantSpec t_;
  std::string file_;
  const LlmConfig& c_;
  DtypeInfo dtype_;
  GpuSpec spec_;
};

}  // namespace

LlmModelFactory SynthLlmModels() {
  return [](const LlmTenantSpec& t, const std::string& file,
            const GpuSpec& spec) -> std::shared_ptr<const LlmTenantModel> {
    const LlmConfig* c = FindLlmModel(t.model);
    if (c == nullptr) FailAt(file, t.at + ".model", ExpectedOneOf(json(t.model), SynthLlmNames()));
    static const std::vector<std::string> kDtypes = {"bf16", "fp16", "fp8"};
    if (IndexOf(json(t.dtype), kDtypes) < 0)
      FailAt(file, t.at + ".dtype", ExpectedOneOf(json(t.dtype), kDtypes));
    const int32_t need_cc = t.dtype == "fp8" ? 89 : t.dtype == "bf16" ? 80 : 0;
    if (spec.compute_capability < need_cc) {
      FailAt(file, t.at + ".dtype",
             t.dtype + " needs compute capability " + std::to_string(need_cc / 10) + "." +
                 std::to_string(need_cc % 10) + " or newer; gpu " + spec.key + " has " +
                 std::to_string(spec.compute_capability / 10) + "." +
                 std::to_string(spec.compute_capability % 10));
    }
    return std::make_shared<SynthLlm>(t, file, *c, FindDtype(t.dtype), spec);
  };
}

}  // namespace cotenant::profiler
