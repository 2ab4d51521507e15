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

/// The engine's limits (vLLM spellings and defaults; ServingConfig cites them).
struct LlmServingSpec {
  int64_t max_num_batched_tokens = 8192;
  int64_t max_num_seqs = 256;
  bool chunked_prefill = true;
  double gpu_memory_utilization = 0.9;  ///< vLLM's default
  int64_t block_size = 16;              ///< vLLM's default
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
