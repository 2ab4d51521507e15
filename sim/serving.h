// The serving loop of one LLM tenant alone on a GPU: continuous batching with a token
// budget and a sequence limit, optional chunked prefill, a paged KV cache of fixed
// capacity and preemption by recomputation, as vLLM's scheduler runs them; and the
// serving metrics (TTFT, TPOT, end-to-end latency, throughput, goodput). Pure: what an
// iteration costs comes from a callback (profiler/serving_cost builds one from synth).
// The rules, step by step, are in docs/models.md ("LLM serving loop"). RunServingMux runs
// prefill and decode of the same tenant as two loops at once sharing the KV cache (PD
// multiplexing); its rules are in its comment below.
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

/// Scheduler limits. Defaults: max_num_seqs 256, max_num_batched_tokens 8192, block_size
/// 16 (vLLM's own, which depend on the GPU and the release, with their sources:
/// docs/models.md, "LLM serving loop").
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

/// Duration, ns (> 0), of one iteration of `shape` that starts at `start_ns`.
///
/// Contract (RunServing and RunServingMux): the callback is called exactly once per
/// iteration, when the iteration is scheduled, in the order the iterations start, which is
/// the order of ServingRun::iterations when they are recorded (RunServingMux: iterations
/// of both loops starting at the same time, prefill loop first). start_ns never decreases
/// from one call to the next. It is never called for anything else, so a callback may keep
/// state (a clock of its own, a log of shapes).
using IterationCostFn = std::function<TimeNs(const IterationShape&, TimeNs start_ns)>;

/// Which loop ran an iteration.
enum class ServingLoop {
  kMixed,    ///< RunServing's single loop (prefill chunks and decodes together)
  kPrefill,  ///< RunServingMux's prefill loop (prefill chunks only)
  kDecode,   ///< RunServingMux's decode loop (decodes only)
};

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
  int64_t prefill_tokens = 0;               ///< tokens of prefill chunks
  int64_t prefill_seqs = 0;                 ///< prefill chunks
  int64_t decode_seqs = 0;                  ///< decodes
  ServingLoop phase = ServingLoop::kMixed;  ///< the loop that ran it
};

struct ServingRun {
  std::vector<RequestOutcome> requests;  ///< in the order of the input
  /// When asked for; in the order the iterations start (ties: prefill loop first).
  std::vector<IterationRecord> iterations;
  int64_t iteration_count = 0;  ///< iterations of all loops
  TimeNs busy_ns = 0;           ///< sum of the iterations' durations, all loops
  int64_t preemptions = 0;
  TimeNs makespan_ns = 0;  ///< end of the last iteration of any loop (0 = no requests)
};

/// Runs the serving loop over `requests` (any order; served by arrival, ties by id).
/// Throws InputError for a config outside its ranges, a request that could never run
/// (prompt + output - 1 tokens need more KV blocks than the cache holds; without chunked
/// prefill, prompt + output - 1 above max_num_batched_tokens, since a recomputation is one
/// prefill), or a cost <= 0. Messages name a request by its index in `requests`
/// ("request 3: ...").
ServingRun RunServing(const std::vector<LlmRequest>& requests, const ServingConfig& config,
                      const IterationCostFn& cost, bool record_iterations = false);

/// Prefill/decode multiplexing of one model (as SGLang's PD multiplexing on green contexts,
/// Bullet and Nexus run it): a prefill loop and a decode loop run at the same time on
/// separate SM partitions and share one KV cache. What each partition makes an iteration
/// cost is the callbacks' business (`prefill_cost` sees only prefill chunks, `decode_cost`
/// only decodes). Same input checks and messages as RunServing. The rules:
///
/// 1. Each loop runs one iteration at a time, back to back while it has work it can
///    schedule, idle otherwise. The run is a sequence of event times: the ends of the
///    running iterations and the arrivals. At each time t, in this order: (a) the prefill
///    loop's iteration ending at t completes, (b) then the decode loop's, (c) requests
///    arriving by t join the back of the waiting queue (arrival, then id), (d) an idle
///    decode loop schedules an iteration (rule 3), (e) then an idle prefill loop (rule 2),
///    (f) the callbacks of the iterations scheduled at t are called, prefill first, and
///    those iterations start at t. The decode loop schedules before the prefill loop at
///    the same time so that running sequences claim KV blocks before new prompts do (as
///    vLLM schedules its running requests before admitting waiting ones); a sequence it
///    preempts at t may be readmitted by the prefill loop at t.
/// 2. Prefill loop, iteration scheduled at t: first the requests whose prefill it started
///    and has not finished (chunked prefill only; at most one, in admission order), each
///    with the rest of its tokens up to the token budget (max_num_batched_tokens); then
///    waiting requests first come, first served while the budget and max_num_seqs (chunks
///    in this iteration) allow, each with as many of its tokens as the budget leaves
///    (chunked_prefill; else whole, and a request that does not fit the budget waits). A
///    chunk needs the KV blocks for the tokens cached after it (ceil(cached / block_tokens)
///    in all); when the free blocks cannot give them, that request and every one behind it
///    waits for a later iteration (no preemption from the prefill side). With nothing
///    scheduled, the loop idles until the next event. A request's tokens are its prompt,
///    or after a preemption its prompt + the tokens generated before it.
/// 3. Decode loop, iteration scheduled at t: the decoding set's sequences in the order
///    they joined (join time, then their order in the prefill iteration that finished
///    them), up to max_num_seqs (no token budget), each computing one token: it needs the
///    KV blocks for its cached tokens + 1. When the free blocks cannot give them, the most
///    recently joined sequence of the set is preempted (recompute: its blocks are freed,
///    it leaves the set and goes to the front of the waiting queue with computed = 0, and
///    is counted) until they can, or until the sequence being scheduled is itself the one
///    preempted, which ends the scheduling. With an empty set the loop idles until the
///    next join.
/// 4. At the end e of an iteration, every request whose cached tokens reach its tokens
///    samples one token at e: the first token of a request is its first sampled token. A
///    request with all its output tokens finishes at e and frees its blocks; otherwise, if
///    it was in a prefill iteration, it joins the decoding set at e (so a decode iteration
///    starting at e runs it).
/// 5. max_num_seqs bounds each loop's iterations separately; the decoding set and the
///    requests holding blocks are bounded only by the KV cache.
/// 6. Iterations are recorded with phase kPrefill / kDecode in start order (ties: prefill
///    first); iteration_count counts both loops; makespan is the last end of either.
ServingRun RunServingMux(const std::vector<LlmRequest>& requests, const ServingConfig& config,
                         const IterationCostFn& prefill_cost, const IterationCostFn& decode_cost,
                         bool record_iterations = false);

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
/// holds the iterations that run prefill chunks (all of RunServingMux's prefill loop),
/// "decode" those that run decodes (all of its decode loop; a mixed iteration is on
/// both), each slice with its prefill tokens, prefill chunks and decodes
/// in args; µs with displayTimeUnit ns, as simulate's timelines.
std::string ServingTimelineJsonText(const ServingRun& run, const std::string& tenant);

/// Nearest-rank percentile of sorted values, q in (0, 1]; 0 when empty.
TimeNs NearestRankPercentile(const std::vector<TimeNs>& sorted, double q);

}  // namespace cotenant
