// The LLM serving loop with a hand-made cost (1000 ns + 10 ns per token of the forward
// pass) and two or three requests: every time below is worked out by hand in comments.
#include "sim/serving.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant {
namespace {

TimeNs Cost(const IterationShape& s, TimeNs = 0) { return 1000 + 10 * s.Tokens(); }

ServingConfig Config(int64_t budget, int64_t seqs, bool chunked, int64_t kv_tokens = 1 << 20,
                     int64_t block = 16) {
  ServingConfig c;
  c.max_num_batched_tokens = budget;
  c.max_num_seqs = seqs;
  c.chunked_prefill = chunked;
  c.kv_capacity_tokens = kv_tokens;
  c.block_tokens = block;
  return c;
}

/// RunServingMux with Cost in both loops, logging every call of the callbacks in order.
struct MuxCalls {
  struct Call {
    ServingLoop loop;
    TimeNs start_ns;
    IterationShape shape;
  };
  std::vector<Call> calls;

  IterationCostFn Fn(ServingLoop loop) {
    return [this, loop](const IterationShape& s, TimeNs start_ns) {
      calls.push_back({loop, start_ns, s});
      return Cost(s);
    };
  }
  ServingRun Run(const std::vector<LlmRequest>& reqs, const ServingConfig& c) {
    return RunServingMux(reqs, c, Fn(ServingLoop::kPrefill), Fn(ServingLoop::kDecode), true);
  }
  /// The (loop, start) of the calls, to compare with a worked timeline.
  std::vector<std::pair<ServingLoop, TimeNs>> Starts() const {
    std::vector<std::pair<ServingLoop, TimeNs>> v;
    for (const Call& c : calls) v.emplace_back(c.loop, c.start_ns);
    return v;
  }
};

constexpr ServingLoop kP = ServingLoop::kPrefill;
constexpr ServingLoop kD = ServingLoop::kDecode;

/// The callback contract and what the records say, for any mux run: one call per
/// iteration, in the records' order, starts never decreasing (ties: prefill first);
/// prefill shapes without decodes, decode shapes without prefills; each loop's iterations
/// back to back at most (never overlapping themselves); at most max_num_seqs per iteration.
void CheckMuxRun(const MuxCalls& log, const ServingRun& run, const ServingConfig& c) {
  REQUIRE(static_cast<int64_t>(log.calls.size()) == run.iteration_count);
  REQUIRE(run.iterations.size() == log.calls.size());
  TimeNs free_at[2] = {0, 0};
  for (size_t i = 0; i < log.calls.size(); ++i) {
    const MuxCalls::Call& call = log.calls[i];
    const IterationRecord& rec = run.iterations[i];
    REQUIRE(rec.phase == call.loop);
    REQUIRE(rec.start_ns == call.start_ns);
    if (i > 0) {
      const IterationRecord& prev = run.iterations[i - 1];
      REQUIRE(prev.start_ns <= rec.start_ns);
      if (prev.start_ns == rec.start_ns) REQUIRE(prev.phase == kP);
    }
    const int l = call.loop == kP ? 0 : 1;
    REQUIRE(rec.start_ns >= free_at[l]);
    free_at[l] = rec.start_ns + rec.dur_ns;
    REQUIRE(run.makespan_ns >= free_at[l]);
    if (call.loop == kP) {
      REQUIRE(call.shape.decode_contexts.empty());
      REQUIRE(!call.shape.prefills.empty());
      REQUIRE(call.shape.Tokens() <= c.max_num_batched_tokens);
      REQUIRE(static_cast<int64_t>(call.shape.prefills.size()) <= c.max_num_seqs);
    } else {
      REQUIRE(call.shape.prefills.empty());
      REQUIRE(!call.shape.decode_contexts.empty());
      REQUIRE(call.shape.sampled == static_cast<int64_t>(call.shape.decode_contexts.size()));
      REQUIRE(static_cast<int64_t>(call.shape.decode_contexts.size()) <= c.max_num_seqs);
    }
  }
  REQUIRE(run.makespan_ns == std::max(free_at[0], free_at[1]));
}

}  // namespace

TEST_CASE("serving: one request, prefill then decodes; an idle gap is skipped") {
  // A (prompt 4, output 3) at 0: prefill 4 tokens 1040 -> first token at 1040; decodes of
  // 1 token 1010 each -> 2050, 3060. B (prompt 1, output 1) arrives at 100000 when nothing
  // runs: the clock jumps there; its prefill of 1 token takes 1010 -> 101010, which is both
  // its first and last token.
  const std::vector<LlmRequest> reqs = {{0, 0, 4, 3}, {1, 100000, 1, 1}};
  const ServingRun run = RunServing(reqs, Config(100, 10, true), Cost, true);
  REQUIRE(run.requests[0].first_token_ns == 1040);
  REQUIRE(run.requests[0].finish_ns == 3060);
  REQUIRE(run.requests[1].first_token_ns == 101010);
  REQUIRE(run.requests[1].finish_ns == 101010);
  REQUIRE(run.iteration_count == 4);
  REQUIRE(run.makespan_ns == 101010);
  REQUIRE(run.iterations[3].start_ns == 100000);
  const ServingMetrics m = ComputeServingMetrics(run, {});
  // TPOT of A: (3060 - 1040) / 2 = 1010; B has none (one output token).
  REQUIRE(m.tpot_requests == 1);
  REQUIRE(m.tpot.p50 == 1010);
  REQUIRE(m.generated_tokens == 4);
  REQUIRE(m.good == 2);
}

TEST_CASE("serving: chunked prefill splits a prompt to fill the token budget") {
  // Budget 6. A (prompt 4, out 2) and B (prompt 5, out 2) at 0, A first by id.
  // it1 @0: admit A whole (4, budget 2 left), B's first chunk of 2: 6 tokens -> 1060.
  //         A's first token at 1060.
  // it2 @1060: A decodes (context 5), B's remaining 3 tokens after 2 cached: 4 tokens ->
  //         1040, end 2100: A's last token, B's first.
  // it3 @2100: B decodes: 1010 -> 3110.
  const std::vector<LlmRequest> reqs = {{0, 0, 4, 2}, {1, 0, 5, 2}};
  std::vector<IterationShape> shapes;
  const IterationCostFn cost = [&](const IterationShape& s, TimeNs) {
    shapes.push_back(s);
    return Cost(s);
  };
  const ServingRun run = RunServing(reqs, Config(6, 10, true), cost);
  REQUIRE(run.iteration_count == 3);
  REQUIRE(shapes[0].prefills.size() == 2);
  REQUIRE(shapes[0].prefills[1].tokens == 2);
  REQUIRE(shapes[0].sampled == 1);
  REQUIRE(shapes[1].prefills.size() == 1);
  REQUIRE(shapes[1].prefills[0].tokens == 3);
  REQUIRE(shapes[1].prefills[0].context_before == 2);
  REQUIRE(shapes[1].decode_contexts == std::vector<int64_t>{5});
  REQUIRE(shapes[1].sampled == 2);
  REQUIRE(run.requests[0].first_token_ns == 1060);
  REQUIRE(run.requests[0].finish_ns == 2100);
  REQUIRE(run.requests[1].first_token_ns == 2100);
  REQUIRE(run.requests[1].finish_ns == 3110);

  // TTFT {1060, 2100}: p50 = rank ceil(0.5 x 2) = 1 -> 1060, p90 and p99 rank 2 -> 2100.
  // TPOT A (2100 - 1060) / 1 = 1040, B 1010. SLO TTFT 1500, TPOT 1050: A meets both, B
  // misses TTFT.
  const ServingMetrics m = ComputeServingMetrics(run, {1500, 1050});
  REQUIRE(m.ttft.p50 == 1060);
  REQUIRE(m.ttft.p90 == 2100);
  REQUIRE(m.ttft.p99 == 2100);
  REQUIRE(m.tpot.p50 == 1010);
  REQUIRE(m.tpot.p99 == 1040);
  REQUIRE(m.e2e.p50 == 2100);
  REQUIRE(m.e2e.p99 == 3110);
  REQUIRE(m.good == 1);
  REQUIRE(m.good_share == 0.5);
  REQUIRE(m.tokens_per_s == Approx(4.0 / 3110e-9));
  REQUIRE(m.goodput_rps == Approx(1.0 / 3110e-9));
}

TEST_CASE("serving: the timeline has one track per phase") {
  // The chunked-prefill case above: it1 prefills only, it2 is mixed (on both tracks,
  // 1060 ns + 1040 ns), it3 decodes only.
  const std::vector<LlmRequest> reqs = {{0, 0, 4, 2}, {1, 0, 5, 2}};
  const ServingRun run = RunServing(reqs, Config(6, 10, true), Cost, true);
  const nlohmann::json j = nlohmann::json::parse(ServingTimelineJsonText(run, "chat"));
  int prefill = 0, decode = 0;
  for (const nlohmann::json& e : j["traceEvents"]) {
    if (e["ph"] != "X") continue;
    (e["tid"] == 1 ? prefill : decode)++;
    if (e["ts"] == 1.06) {
      CHECK(e["dur"] == 1.04);
      CHECK(e["args"]["prefill_tokens"] == 3);
      CHECK(e["args"]["decodes"] == 1);
    }
  }
  CHECK(prefill == 2);
  CHECK(decode == 2);
  CHECK(j["traceEvents"][1]["args"]["name"] == "prefill");
}

TEST_CASE("serving: the sequence limit holds a request back") {
  // max_num_seqs 1; A and B (prompt 2, out 2) at 0. A: prefill 1020, decode 1010 -> 2030.
  // B only then: prefill -> 3050 (TTFT 3050), decode -> 4060.
  const std::vector<LlmRequest> reqs = {{0, 0, 2, 2}, {1, 0, 2, 2}};
  const ServingRun run = RunServing(reqs, Config(100, 1, true), Cost);
  REQUIRE(run.requests[0].finish_ns == 2030);
  REQUIRE(run.requests[1].first_token_ns == 3050);
  REQUIRE(run.requests[1].finish_ns == 4060);
}

TEST_CASE("serving: without chunked prefill an iteration is all prefills or all decodes") {
  // Budget 8. A (prompt 4, out 3) at 0; B (prompt 4, out 2) at 500.
  // it1 @0: A's prefill 1040 -> 1040 (first token). it2 @1040: B waits, so a prefill-only
  // iteration (A does not decode): 1040 -> 2080, B's first token (TTFT 1580).
  // it3 @2080: decodes of A and B: 1020 -> 3100, B done. it4: A decodes -> 4110.
  const std::vector<LlmRequest> reqs = {{0, 0, 4, 3}, {1, 500, 4, 2}};
  const ServingRun run = RunServing(reqs, Config(8, 10, false), Cost);
  REQUIRE(run.requests[0].first_token_ns == 1040);
  REQUIRE(run.requests[1].first_token_ns == 2080);
  REQUIRE(run.requests[1].finish_ns == 3100);
  REQUIRE(run.requests[0].finish_ns == 4110);
  // A prompt + output - 1 above the budget could never be prefilled whole.
  REQUIRE_THROWS_WITH(RunServing({{0, 0, 8, 2}}, Config(8, 10, false), Cost),
                      Catch::Contains("request 0: prompt_tokens + output_tokens - 1 = 9") &&
                          Catch::Contains("max_num_batched_tokens 8"));
  // Chunked prefill runs it in pieces.
  REQUIRE(RunServing({{0, 0, 8, 2}}, Config(8, 10, true), Cost).requests[0].finish_ns > 0);
}

TEST_CASE("serving: a full KV cache preempts the newest request, which is recomputed") {
  // Blocks of 2 tokens, 4 blocks (8 tokens). A and B (prompt 4, out 3) at 0.
  // it1 @0: A 4 tokens (2 blocks), B 4 tokens (2 blocks): 8 tokens -> 1080; both first
  //         tokens at 1080. Free blocks 0.
  // it2 @1080: A's decode (context 5) needs a 3rd block: B (newest) is preempted, its 2
  //         blocks freed; A decodes: 1010 -> 2090. No admission in a step that preempted.
  // it3 @2090: A decodes (context 6, still 3 blocks) -> 3100, A done, its 3 blocks freed.
  //         B (5 tokens to recompute = 3 blocks) did not fit the 1 free block before.
  // it4 @3100: B recomputes prompt + its 1 generated token, 5 tokens: 1050 -> 4150 and
  //         samples its 2nd token. it5: B decodes -> 5160.
  const std::vector<LlmRequest> reqs = {{0, 0, 4, 3}, {1, 0, 4, 3}};
  std::vector<IterationShape> shapes;
  const IterationCostFn cost = [&](const IterationShape& s, TimeNs) {
    shapes.push_back(s);
    return Cost(s);
  };
  const ServingRun run = RunServing(reqs, Config(100, 10, true, 8, 2), cost);
  REQUIRE(run.iteration_count == 5);
  REQUIRE(run.preemptions == 1);
  REQUIRE(run.requests[0].preemptions == 0);
  REQUIRE(run.requests[1].preemptions == 1);
  REQUIRE(run.requests[0].first_token_ns == 1080);
  REQUIRE(run.requests[0].finish_ns == 3100);
  REQUIRE(run.requests[1].first_token_ns == 1080);
  REQUIRE(shapes[3].prefills.size() == 1);
  REQUIRE(shapes[3].prefills[0].tokens == 5);
  REQUIRE(shapes[3].prefills[0].context_before == 0);
  REQUIRE(run.requests[1].finish_ns == 5160);
  const ServingMetrics m = ComputeServingMetrics(run, {});
  REQUIRE(m.preemptions == 1);
  REQUIRE(m.tpot.p99 == (5160 - 1080) / 2);
}

TEST_CASE("serving: a request the KV cache can never hold is an error") {
  // 4 blocks of 2 tokens; prompt 6 + output 4 - 1 = 9 tokens need 5 blocks.
  REQUIRE_THROWS_AS(RunServing({{0, 0, 6, 4}}, Config(100, 10, true, 8, 2), Cost), InputError);
  REQUIRE_THROWS_WITH(RunServing({{0, 0, 2, 2}, {1, 0, 6, 4}}, Config(100, 10, true, 8, 2), Cost),
                      "request 1: prompt_tokens + output_tokens - 1 = 9 tokens need 5 KV blocks "
                      "of 2 tokens; the KV cache holds 4 (8 tokens)");
  // 8 tokens exactly (prompt 6, output 3) fit.
  REQUIRE(RunServing({{0, 0, 6, 3}}, Config(100, 10, true, 8, 2), Cost).preemptions == 0);
  REQUIRE_THROWS_AS(RunServing({{0, 0, 1, 1}}, Config(0, 10, true), Cost), InputError);
}

TEST_CASE("serving: deterministic, and independent of the input order") {
  std::vector<LlmRequest> reqs;
  for (int64_t i = 0; i < 40; ++i)
    reqs.push_back({i, (i * 7919) % 20000, 10 + i % 13, 1 + 5 * (i % 9)});
  const ServingConfig c = Config(32, 4, true, 64, 4);
  const ServingRun a = RunServing(reqs, c, Cost);
  std::vector<LlmRequest> rev(reqs.rbegin(), reqs.rend());
  const ServingRun b = RunServing(rev, c, Cost);
  REQUIRE(a.preemptions > 0);  // the small cache makes this case exercise preemption
  REQUIRE(a.makespan_ns == b.makespan_ns);
  for (size_t i = 0; i < reqs.size(); ++i) {
    const RequestOutcome& x = a.requests[i];
    const RequestOutcome& y = b.requests[reqs.size() - 1 - i];
    REQUIRE(x.id == y.id);
    REQUIRE(x.first_token_ns == y.first_token_ns);
    REQUIRE(x.finish_ns == y.finish_ns);
    REQUIRE(x.first_token_ns > x.arrival_ns);
    REQUIRE(x.finish_ns >= x.first_token_ns);
  }
}

// ---- RunServingMux: prefill and decode as two loops at the same time on one KV cache.
// Both loops priced with Cost (1000 ns + 10 ns per token).

TEST_CASE("serving mux: one request, prefill then decodes, nothing overlaps") {
  // A (prompt 4, output 3) at 0.
  // P @0: A's 4 tokens, 1040 -> 1040: first token, A joins the decoding set.
  // D @1040: A (context 5) 1010 -> 2050. D @2050: A (context 6) -> 3060, A's last token.
  MuxCalls log;
  const ServingConfig c = Config(100, 10, true);
  const ServingRun run = log.Run({{0, 0, 4, 3}}, c);
  CheckMuxRun(log, run, c);
  REQUIRE(log.Starts() ==
          std::vector<std::pair<ServingLoop, TimeNs>>{{kP, 0}, {kD, 1040}, {kD, 2050}});
  REQUIRE(log.calls[0].shape.prefills.size() == 1);
  REQUIRE(log.calls[0].shape.prefills[0].tokens == 4);
  REQUIRE(log.calls[0].shape.prefills[0].context_before == 0);
  REQUIRE(log.calls[0].shape.sampled == 1);
  REQUIRE(log.calls[1].shape.decode_contexts == std::vector<int64_t>{5});
  REQUIRE(log.calls[2].shape.decode_contexts == std::vector<int64_t>{6});
  REQUIRE(run.requests[0].first_token_ns == 1040);
  REQUIRE(run.requests[0].finish_ns == 3060);
  REQUIRE(run.iteration_count == 3);
  REQUIRE(run.makespan_ns == 3060);
  REQUIRE(run.preemptions == 0);
}

TEST_CASE("serving mux: a second prefill overlaps the first request's decodes") {
  // A (prompt 4, out 3) at 0; B (prompt 8, out 2) at 500, while A's prefill runs.
  // P @0: A, 1040 -> 1040: A's first token, A joins.
  // @1040: D: A (context 5) 1010 -> 2050; P: B's 8 tokens, 1080 -> 2120 (both start at
  //        1040; the prefill callback is called first).
  // D @2050: A (context 6) -> 3060, A done. P ends @2120: B's first token, B joins.
  // D @3060: B (context 9) 1010 -> 4070, B done.
  // B's prefill [1040, 2120] runs beside A's decodes [1040, 2050] and [2050, 3060].
  MuxCalls log;
  const ServingConfig c = Config(100, 10, true);
  const ServingRun run = log.Run({{0, 0, 4, 3}, {1, 500, 8, 2}}, c);
  CheckMuxRun(log, run, c);
  REQUIRE(log.Starts() == std::vector<std::pair<ServingLoop, TimeNs>>{
                              {kP, 0}, {kP, 1040}, {kD, 1040}, {kD, 2050}, {kD, 3060}});
  REQUIRE(log.calls[1].shape.prefills[0].tokens == 8);
  REQUIRE(log.calls[4].shape.decode_contexts == std::vector<int64_t>{9});
  REQUIRE(run.requests[0].first_token_ns == 1040);
  REQUIRE(run.requests[0].finish_ns == 3060);
  REQUIRE(run.requests[1].first_token_ns == 2120);
  REQUIRE(run.requests[1].finish_ns == 4070);
  REQUIRE(run.iteration_count == 5);
  REQUIRE(run.makespan_ns == 4070);

  // The metrics take a mux run unchanged. TTFT A 1040, B 2120 - 500 = 1620; TPOT A
  // (3060 - 1040) / 2 = 1010, B (4070 - 2120) / 1 = 1950; e2e A 3060, B 3570.
  const ServingMetrics m = ComputeServingMetrics(run, {1500, 1500});
  REQUIRE(m.iterations == 5);
  REQUIRE(m.makespan_ns == 4070);
  REQUIRE(m.ttft.p50 == 1040);
  REQUIRE(m.ttft.p99 == 1620);
  REQUIRE(m.tpot.p50 == 1010);
  REQUIRE(m.tpot.p99 == 1950);
  REQUIRE(m.e2e.p99 == 3570);
  REQUIRE(m.generated_tokens == 5);
  REQUIRE(m.good == 1);  // B misses both
  REQUIRE(m.tokens_per_s == Approx(5.0 / 4070e-9));

  // The timeline: prefill-loop iterations on "prefill" (tid 1), decode-loop ones on
  // "decode" (tid 2), each on its loop's track only.
  const nlohmann::json j = nlohmann::json::parse(ServingTimelineJsonText(run, "chat"));
  std::vector<std::pair<int, double>> slices;  // (tid, ts µs)
  for (const nlohmann::json& e : j["traceEvents"]) {
    if (e["ph"] != "X") continue;
    slices.emplace_back(e["tid"].get<int>(), e["ts"].get<double>());
    CHECK(e["name"] == (e["tid"] == 1 ? "prefill" : "decode"));
    if (e["tid"] == 1) CHECK(e["args"]["decodes"] == 0);
    if (e["tid"] == 2) CHECK(e["args"]["prefill_chunks"] == 0);
  }
  REQUIRE(slices == std::vector<std::pair<int, double>>{
                        {1, 0.0}, {1, 1.04}, {2, 1.04}, {2, 2.05}, {2, 3.06}});
}

TEST_CASE("serving mux: a prefill ending when a decode ends joins the next decode") {
  // A (prompt 4, out 3) at 0; B (prompt 1, out 2) at 500.
  // P @0: A -> 1040. @1040: D: A (context 5) -> 2050; P: B's 1 token, 1010 -> 2050.
  // @2050: the prefill's end first (B's first token, B joins), then the decode's (A's 2nd
  //        token); D @2050 runs A (context 6, joined first) and B (context 2): 1020 ->
  //        3070, both done.
  MuxCalls log;
  const ServingConfig c = Config(100, 10, true);
  const ServingRun run = log.Run({{0, 0, 4, 3}, {1, 500, 1, 2}}, c);
  CheckMuxRun(log, run, c);
  REQUIRE(log.Starts() ==
          std::vector<std::pair<ServingLoop, TimeNs>>{{kP, 0}, {kP, 1040}, {kD, 1040}, {kD, 2050}});
  REQUIRE(log.calls[3].shape.decode_contexts == std::vector<int64_t>{6, 2});
  REQUIRE(log.calls[3].shape.sampled == 2);
  REQUIRE(run.requests[1].first_token_ns == 2050);
  REQUIRE(run.requests[0].finish_ns == 3070);
  REQUIRE(run.requests[1].finish_ns == 3070);
  REQUIRE(run.makespan_ns == 3070);
}

TEST_CASE("serving mux: the token budget splits prefill chunks") {
  // Budget 6. A (prompt 4, out 2) and B (prompt 5, out 2) at 0, A first by id.
  // P @0: A whole (4; 2 left), B's first 2 tokens: 6 tokens, 1060 -> 1060. A's first
  //       token, A joins; B stays in the prefill loop.
  // @1060: D: A (context 5) 1010 -> 2070, A done; P: B's other 3 tokens after 2 cached,
  //        1030 -> 2090: B's first token, B joins.
  // D @2090: B (context 6) -> 3100, B done.
  MuxCalls log;
  const ServingConfig c = Config(6, 10, true);
  const ServingRun run = log.Run({{0, 0, 4, 2}, {1, 0, 5, 2}}, c);
  CheckMuxRun(log, run, c);
  REQUIRE(log.Starts() ==
          std::vector<std::pair<ServingLoop, TimeNs>>{{kP, 0}, {kP, 1060}, {kD, 1060}, {kD, 2090}});
  const IterationShape& p0 = log.calls[0].shape;
  REQUIRE(p0.prefills.size() == 2);
  REQUIRE(p0.prefills[0].tokens == 4);
  REQUIRE(p0.prefills[1].tokens == 2);
  REQUIRE(p0.sampled == 1);
  const IterationShape& p1 = log.calls[1].shape;
  REQUIRE(p1.prefills.size() == 1);
  REQUIRE(p1.prefills[0].tokens == 3);
  REQUIRE(p1.prefills[0].context_before == 2);
  REQUIRE(p1.sampled == 1);
  REQUIRE(run.requests[0].first_token_ns == 1060);
  REQUIRE(run.requests[0].finish_ns == 2070);
  REQUIRE(run.requests[1].first_token_ns == 2090);
  REQUIRE(run.requests[1].finish_ns == 3100);

  // Without chunked prefill B (5 tokens) does not fit the 2 left after A and goes whole
  // next: P @0: A -> 1040. @1040: D: A -> 2050; P: B, 1050 -> 2090. D @2090: B -> 3100.
  MuxCalls whole;
  const ServingConfig v0 = Config(6, 10, false);
  const ServingRun r0 = whole.Run({{0, 0, 4, 2}, {1, 0, 5, 2}}, v0);
  CheckMuxRun(whole, r0, v0);
  REQUIRE(whole.Starts() ==
          std::vector<std::pair<ServingLoop, TimeNs>>{{kP, 0}, {kP, 1040}, {kD, 1040}, {kD, 2090}});
  REQUIRE(r0.requests[0].finish_ns == 2050);
  REQUIRE(r0.requests[1].first_token_ns == 2090);
  REQUIRE(r0.requests[1].finish_ns == 3100);
}

TEST_CASE(
    "serving mux: a full KV cache preempts in the decode loop; the prefill loop "
    "recomputes") {
  // Blocks of 2 tokens, 4 blocks (8 tokens). A and B (prompt 4, out 3) at 0.
  // P @0: A 4 tokens (2 blocks), B 4 tokens (2 blocks): 1080 -> 1080, both first tokens;
  //       both join (A first). Free blocks 0.
  // @1080: D: A (context 5) needs a 3rd block: B, joined last, is preempted (2 blocks
  //        freed, to the front of the waiting queue); A takes 1, 1 free. A: 1010 -> 2090.
  //        P: B to recompute (4 + 1 generated = 5 tokens, 3 blocks) does not fit 1: idle.
  // D @2090: A (context 6, its 3 blocks hold it) -> 3100, A done, 4 blocks free.
  // P @3100: B's 5 tokens, 1050 -> 4150: its 2nd token (its first stays at 1080); joins.
  // D @4150: B (context 6) -> 5160, B done.
  MuxCalls log;
  const ServingConfig c = Config(100, 10, true, 8, 2);
  const ServingRun run = log.Run({{0, 0, 4, 3}, {1, 0, 4, 3}}, c);
  CheckMuxRun(log, run, c);
  REQUIRE(log.Starts() == std::vector<std::pair<ServingLoop, TimeNs>>{
                              {kP, 0}, {kD, 1080}, {kD, 2090}, {kP, 3100}, {kD, 4150}});
  REQUIRE(log.calls[1].shape.decode_contexts == std::vector<int64_t>{5});
  REQUIRE(log.calls[3].shape.prefills.size() == 1);
  REQUIRE(log.calls[3].shape.prefills[0].tokens == 5);
  REQUIRE(log.calls[3].shape.prefills[0].context_before == 0);
  REQUIRE(log.calls[3].shape.sampled == 1);
  REQUIRE(log.calls[4].shape.decode_contexts == std::vector<int64_t>{6});
  REQUIRE(run.preemptions == 1);
  REQUIRE(run.requests[0].preemptions == 0);
  REQUIRE(run.requests[1].preemptions == 1);
  REQUIRE(run.requests[0].first_token_ns == 1080);
  REQUIRE(run.requests[0].finish_ns == 3100);
  REQUIRE(run.requests[1].first_token_ns == 1080);
  REQUIRE(run.requests[1].finish_ns == 5160);
  REQUIRE(ComputeServingMetrics(run, {}).preemptions == 1);
}

TEST_CASE("serving mux: one output token finishes at the prefill's end, no decode") {
  // max_num_seqs 1. A (prompt 3, out 1) and B (prompt 2, out 1) at 0.
  // P @0: A only (one sequence), 1030 -> 1030: A's first and last token.
  // P @1030: B, 1020 -> 2050. The decode loop never runs.
  MuxCalls log;
  const ServingConfig c = Config(100, 1, true);
  const ServingRun run = log.Run({{0, 0, 3, 1}, {1, 0, 2, 1}}, c);
  CheckMuxRun(log, run, c);
  REQUIRE(log.Starts() == std::vector<std::pair<ServingLoop, TimeNs>>{{kP, 0}, {kP, 1030}});
  REQUIRE(run.requests[0].first_token_ns == 1030);
  REQUIRE(run.requests[0].finish_ns == 1030);
  REQUIRE(run.requests[1].first_token_ns == 2050);
  REQUIRE(run.requests[1].finish_ns == 2050);
  const ServingMetrics m = ComputeServingMetrics(run, {});
  REQUIRE(m.tpot_requests == 0);
  REQUIRE(m.e2e.p99 == 2050);
}

TEST_CASE("serving mux: max_num_seqs bounds a decode iteration, oldest join first") {
  // max_num_seqs 1. A (prompt 2, out 4) and B (prompt 2, out 2) at 0.
  // P @0: A only, 1020 -> 1020, A joins. @1020: D: A (context 3) 1010 -> 2030; P: B,
  // 1020 -> 2040. D @2030: A (context 4) -> 3040. B joins @2040.
  // D @3040: A (joined first; context 5) only -> 4050, A done. D @4050: B (context 3) ->
  // 5060, B done.
  MuxCalls log;
  const ServingConfig c = Config(100, 1, true);
  const ServingRun run = log.Run({{0, 0, 2, 4}, {1, 0, 2, 2}}, c);
  CheckMuxRun(log, run, c);
  REQUIRE(log.Starts() == std::vector<std::pair<ServingLoop, TimeNs>>{
                              {kP, 0}, {kP, 1020}, {kD, 1020}, {kD, 2030}, {kD, 3040}, {kD, 4050}});
  REQUIRE(log.calls[4].shape.decode_contexts == std::vector<int64_t>{5});
  REQUIRE(log.calls[5].shape.decode_contexts == std::vector<int64_t>{3});
  REQUIRE(run.requests[0].finish_ns == 4050);
  REQUIRE(run.requests[1].first_token_ns == 2040);
  REQUIRE(run.requests[1].finish_ns == 5060);
}

TEST_CASE("serving mux: the same input checks as the single loop") {
  const IterationCostFn cost = Cost;
  REQUIRE_THROWS_WITH(
      RunServingMux({{0, 0, 2, 2}, {1, 0, 6, 4}}, Config(100, 10, true, 8, 2), cost, cost),
      "request 1: prompt_tokens + output_tokens - 1 = 9 tokens need 5 KV blocks "
      "of 2 tokens; the KV cache holds 4 (8 tokens)");
  REQUIRE_THROWS_WITH(RunServingMux({{0, 0, 8, 2}}, Config(8, 10, false), cost, cost),
                      Catch::Contains("exceeds max_num_batched_tokens 8"));
  REQUIRE_THROWS_AS(RunServingMux({{0, 0, 1, 1}}, Config(100, 0, true), cost, cost), InputError);
  const IterationCostFn zero = [](const IterationShape&, TimeNs) { return TimeNs{0}; };
  REQUIRE_THROWS_WITH(RunServingMux({{0, 0, 2, 2}}, Config(100, 10, true), cost, zero),
                      Catch::Contains("iteration cost must be positive"));
  REQUIRE(RunServingMux({}, Config(100, 10, true), cost, cost).makespan_ns == 0);
}

TEST_CASE("serving mux: many requests, a small cache: deterministic, order-independent") {
  std::vector<LlmRequest> reqs;
  for (int64_t i = 0; i < 40; ++i)
    reqs.push_back({i, (i * 7919) % 20000, 10 + i % 13, 1 + 5 * (i % 9)});
  for (const bool chunked : {true, false}) {
    const ServingConfig c = Config(64, 4, chunked, 64, 4);
    MuxCalls la, lb;
    const ServingRun a = la.Run(reqs, c);
    CheckMuxRun(la, a, c);
    std::vector<LlmRequest> rev(reqs.rbegin(), reqs.rend());
    const ServingRun b = lb.Run(rev, c);
    REQUIRE(a.preemptions > 0);  // the small cache makes this case exercise preemption
    REQUIRE(a.makespan_ns == b.makespan_ns);
    REQUIRE(a.iteration_count == b.iteration_count);
    int64_t generated = 0;
    for (const MuxCalls::Call& call : la.calls) generated += call.shape.sampled;
    int64_t outputs = 0;
    for (size_t i = 0; i < reqs.size(); ++i) {
      const RequestOutcome& x = a.requests[i];
      const RequestOutcome& y = b.requests[reqs.size() - 1 - i];
      REQUIRE(x.id == y.id);
      REQUIRE(x.first_token_ns == y.first_token_ns);
      REQUIRE(x.finish_ns == y.finish_ns);
      REQUIRE(x.first_token_ns > x.arrival_ns);
      REQUIRE(x.finish_ns >= x.first_token_ns);
      outputs += x.output_tokens;
    }
    // Every sample is an output token, none twice: a recomputation samples the next one.
    REQUIRE(generated == outputs);
  }
}

}  // namespace cotenant
