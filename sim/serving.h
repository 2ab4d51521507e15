// The serving loop of one LLM tenant alone on a GPU: continuous batching with a token
// budget and a sequence limit, optional chunked prefill, a paged KV cache of fixed
// capacity and preemption by recomputation, as vLLM's scheduler runs them; and the
// serving metrics (TTFT, TPOT, end-to-end latency, throughput, goodput). Pure: what an
// iteration costs comes from a callback (profiler/serving_cost builds one from synth).
// The rules, step by step, are in docs/models.md ("LLM serving loop").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/units.h"

namespace cotenant {

/// One request to an LLM.
struct LlmRequest {
  int64_t id = 0;             ///< ties in arrival time break by id
  TimeNs arrival_ns = 0;      ///< >= 0
  int64_t prompt_tokens = 1;  ///< >= 1
  int64_t output_tokens = 1;  ///< tokens to generate, >= 1
};

/// Scheduler limits. Defaults as vLLM V1's engine arguments are recalled here (not
/// checked against one release): max_num_seqs 256; max_num_batched_tokens 8192 (the API
/// server's default with chunked prefill on); block_size 16.
struct ServingConfig {
  int64_t max_num_batched_tokens = 8192;  ///< token budget of one iteration, >= 1
  int64_t max_num_seqs = 256;             ///< sequences in one iteration, >= 1
  /// true: vLLM V1 (mixed iterations, prompts split to fill the budget); false: vLLM V0
  /// without chunked prefill (an iteration is all prefills or all decodes, prompts
  /// admitted whole, prefills first).
  bool chunked_prefill = true;
  int64_t kv_capacity_tokens = 0;  ///< KV-cache slots; whole blocks of block_tokens are used
  int64_t block_tokens = 16;       ///< tokens per KV block, >= 1
};

/// A prefill chunk in an iteration: `tokens` new tokens after `context_before` cached.
struct PrefillChunk {
  int64_t tokens = 0;
  int64_t context_before = 0;
};

/// What one iteration runs: prefill chunks and decodes (one new token each).
struct IterationShape {
  std::vector<PrefillChunk> prefills;
  /// Per decoding sequence, its context with the new token (the tokens attention reads).
  std::vector<int64_t> decode_contexts;
  /// Sequences that sample a token at the end (decodes + chunks that end a prefill).
  int64_t sampled = 0;
  /// All tokens of the forward pass (prefill chunk tokens + decodes).
  int64_t Tokens() const;
};

/// Duration of one iteration, ns (> 0).
using IterationCostFn = std::function<TimeNs(const IterationShape&)>;

/// What happened to one request.
struct RequestOutcome {
  int64_t id = 0;
  TimeNs arrival_ns = 0;
  TimeNs first_token_ns = 0;  ///< end of the iteration that finished its prefill
  TimeNs finish_ns = 0;       ///< end of the iteration that produced its last token
  int64_t output_tokens = 0;
  int64_t preemptions = 0;  ///< times it was preempted and recomputed
};

/// One iteration, for timelines.
struct IterationRecord {
  TimeNs start_ns = 0, dur_ns = 0;
  int64_t prefill_tokens = 0;  ///< tokens of prefill chunks
  int64_t prefill_seqs = 0;    ///< prefill chunks
  int64_t decode_seqs = 0;     ///< decodes
};

struct ServingRun {
  std::vector<RequestOutcome> requests;     ///< in the order of the input
  std::vector<IterationRecord> iterations;  ///< when asked for
  int64_t iteration_count = 0;
  int64_t preemptions = 0;
  TimeNs makespan_ns = 0;  ///< end of the last iteration (0 = no requests)
};

/// Runs the serving loop over `requests` (any order; served by arrival, ties by id).
/// Throws InputError for a config outside its ranges, a request that could never run
/// (prompt + output - 1 tokens need more KV blocks than the cache holds; without chunked
/// prefill, prompt + output - 1 above max_num_batched_tokens, since a recomputation is one
/// prefill), or a cost <= 0. Messages name a request by its index in `requests`
/// ("request 3: ...").
ServingRun RunServing(const std::vector<LlmRequest>& requests, const ServingConfig& config,
                      const IterationCostFn& cost, bool record_iterations = false);

/// Latency SLOs of an LLM tenant; 0 = none.
struct ServingSlo {
  TimeNs ttft_ns = 0;
  TimeNs tpot_ns = 0;
};

/// Nearest-rank percentiles, ns.
struct Percentiles {
  TimeNs p50 = 0, p90 = 0, p99 = 0;
};

/// Serving metrics of a run.
struct ServingMetrics {
  int64_t requests = 0;
  int64_t generated_tokens = 0;
  int64_t iterations = 0;
  int64_t preemptions = 0;
  TimeNs makespan_ns = 0;
  Percentiles ttft;  ///< first token - arrival
  /// (finish - first token) / (output - 1), rounded down, over requests with output >= 2.
  Percentiles tpot;
  int64_t tpot_requests = 0;  ///< requests with a TPOT (output >= 2)
  Percentiles e2e;            ///< finish - arrival
  double tokens_per_s = 0.0;  ///< generated tokens / makespan
  int64_t good = 0;           ///< requests meeting both SLOs (one without TPOT: TTFT only)
  double good_share = 0.0;    ///< good / requests
  double goodput_rps = 0.0;   ///< good / makespan
};

/// The metrics of `run` against `slo`.
ServingMetrics ComputeServingMetrics(const ServingRun& run, const ServingSlo& slo);

/// Chrome/Perfetto trace-event JSON of `run`'s iterations (recorded with
/// record_iterations): one process named after `tenant`, one track per phase: "prefill"
/// holds the iterations that run prefill chunks, "decode" those that run decodes (a mixed
/// iteration is on both), each slice with its prefill tokens, prefill chunks and decodes
/// in args; µs with displayTimeUnit ns, as simulate's timelines.
std::string ServingTimelineJsonText(const ServingRun& run, const std::string& tenant);

/// Nearest-rank percentile of sorted values, q in (0, 1]; 0 when empty.
TimeNs NearestRankPercentile(const std::vector<TimeNs>& sorted, double q);

}  // namespace cotenant
