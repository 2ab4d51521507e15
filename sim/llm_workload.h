// An `llm` tenant of a workload (`cotenant.workload/1`, "kind": "llm"): a model served
// by an engine's loop, with request lengths from a distribution, arrivals, SLOs and the
// engine's limits. The field reference: docs/formats.md ("LLM tenants").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/json_util.h"
#include "sim/serving.h"
#include "sim/units.h"

namespace cotenant {

/// Token lengths of requests.
struct LengthDist {
  enum class Kind : uint8_t { kFixed, kUniform, kCsv };
  Kind kind = Kind::kFixed;
  int64_t value = 1;  ///< fixed, >= 1
  int64_t min = 1;    ///< uniform, integers in [min, max], >= 1
  int64_t max = 1;
  uint64_t seed = 1;   ///< uniform
  std::string path;    ///< csv: resolved against the workload's folder
  std::string column;  ///< csv: header of the column; "" = the field's name
  std::string field;   ///< "tenants[0].prompt_tokens", for messages
};

/// The engine's limits, with vLLM's spellings. vLLM's own defaults depend on the GPU,
/// the entry point and the release (docs/models.md "LLM serving loop", with sources):
/// vllm/engine/arg_utils.py (vllm-project/vllm 99d7eb5d, v0.11-era) gives `vllm serve`
/// 8192 tokens and 1024 sequences on GPUs of >= 70 GiB other than A100 (H100, H200),
/// 2048 and 256 elsewhere (offline LLM class: 16384 / 8192 tokens); CacheConfig
/// (vllm/config/cache.py 002f10e0) has block_size 16 and gpu_memory_utilization 0.92
/// (0.90 in earlier releases). These defaults mix them (8192 tokens as `vllm serve` on
/// an H100, 256 sequences and 0.9 as before) and are kept because tests pin the KV-cache
/// capacity they give.
struct LlmServingSpec {
  int64_t max_num_batched_tokens = 8192;  ///< token budget of one iteration
  int64_t max_num_seqs = 256;             ///< running sequences (vllm serve on H100: 1024)
  bool chunked_prefill = true;            ///< on by default in vLLM V1
  /// Fraction of the whole GPU's memory this engine budgets for its weights, activations
  /// and KV cache; per instance: vLLM instances on one GPU each take their own fraction
  /// of the total and do not see each other (0.92 in recent vLLM, 0.90 before).
  double gpu_memory_utilization = 0.9;
  int64_t block_size = 16;  ///< tokens per KV-cache block (CacheConfig.DEFAULT_BLOCK_SIZE)
};

struct LlmTenantSpec {
  std::string name;
  std::string at;              ///< "tenants[0]", for messages
  std::string model;           ///< an LLM name synth knows (checked where it is run)
  std::string dtype = "bf16";  ///< bf16, fp16 or fp8 (checked where it is run)
  int64_t requests = 1;
  /// The arrival object, checked and normalised (ArrivalToJson); LlmRequests turns it
  /// into times, so that reading a workload allocates nothing per request.
  nlohmann::json arrival;
  LengthDist prompt, output;
  ServingSlo slo;
  double weight = 1.0;  ///< in the workload's objective, as a trace tenant's weight
  LlmServingSpec serving;
};

/// Calls `cell(line, text)` with the cell of column `column` of each row of the CSV
/// file `path` (a header line naming the columns, then rows; cells split at ',' and
/// trimmed of spaces and '\r'; blank lines skipped; a short row gives ""), in order,
/// line numbers from 1 at the header, until `cell` returns false. Throws InputError
/// starting with `where` ("w.json: tenants[0].arrival.csv: ") when the file cannot be
/// opened, is empty or has no such column (naming `path`:1 and a did-you-mean).
void ForEachCsvCell(const std::string& path, const std::string& column, const std::string& where,
                    const std::function<bool(int64_t line, const std::string& cell)>& cell);

/// Reads tenant `j` (already known to have "kind": "llm") at `path` ("tenants[0]") of
/// `file`; CSV paths are resolved against `base_dir`. Throws InputError naming the field.
LlmTenantSpec ReadLlmTenant(const nlohmann::json& j, const std::string& file,
                            const std::string& path, const std::string& base_dir);

nlohmann::json LlmTenantToJson(const LlmTenantSpec& t);

/// The requests of `t` (ids 0..requests-1): its arrivals, prompt and output lengths
/// drawn from its distributions (uniform: splitmix64 from the seed; csv: row i of the
/// column, cycling when the file has fewer rows). Reads CSV files; throws InputError
/// naming `file`, the field, and for CSV the file and line.
std::vector<LlmRequest> LlmRequests(const LlmTenantSpec& t, const std::string& file);

}  // namespace cotenant
