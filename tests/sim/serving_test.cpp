// The LLM serving loop with a hand-made cost (1000 ns + 10 ns per token of the forward
// pass) and two or three requests: every time below is worked out by hand in comments.
#include "sim/serving.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
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

}  // namespace cotenant
