// Search with llm tenants: objectives over both kinds of tenant, the llm knobs
// of the plan space (max_num_batched_tokens, chunked_prefill, prefill/decode
// multiplexing), their feasibility, the baselines a serving engineer would
// name, and a whole search on a TinyGpu workload with a fake llm tenant
// (every iteration 1 ms alone: tests/common/fixtures.h).
#include <catch2/catch.hpp>

#include "search/baselines.h"
#include "search/objective.h"
#include "search/refusal.h"
#include "search/search.h"
#include "search/space.h"
#include "search/strategy.h"
#include "sim/error.h"
#include "tests/common/fixtures.h"
#include "tests/search/enumerate.h"

namespace cotenant::search {
namespace {

using testing::AddFakeLlm;
using testing::ErrorOf;
using testing::TinyWorkload;

/// Trace tenant "cnn" (one GPU-filling 1 ms kernel, SLO 5 ms) and llm tenant "chat"
/// (3 requests, TTFT and TPOT SLOs 1.5 ms) on TinyGpu (4 SMs, 1-SM partitions).
LoadedWorkload CnnChat(Objective objective = Objective::kSlo) {
  LoadedWorkload lw = TinyWorkload({{"cnn", {{1000000, 8}}, 5000000}}, objective);
  AddFakeLlm(&lw);
  return lw;
}

uint64_t Enumerate(const PlanSpace& space) { return EnumerateCanonical(space); }

/// The native candidate with `knob` of `tenant` set to the index of `value`.
Candidate With(const PlanSpace& space, Candidate c, Knob knob, int32_t tenant, int64_t value) {
  const int32_t d = space.Dim(knob, tenant);
  const std::vector<int64_t>& v = space.dims()[d].values;
  const auto it = std::find(v.begin(), v.end(), value);
  REQUIRE(it != v.end());
  c[d] = static_cast<int32_t>(it - v.begin());
  return c;
}

std::vector<int64_t> Domain(const PlanSpace& space, Knob knob, int32_t tenant) {
  return space.dims()[space.Dim(knob, tenant)].values;
}

using Pairs = std::vector<std::pair<int64_t, int64_t>>;

}  // namespace

TEST_CASE("ScoreOf counts trace tenants then llm tenants, each with its own weight",
          "[search][llm]") {
  LoadedWorkload lw = CnnChat();
  lw.workload.tenants[0].weight = 1.0;
  lw.workload.llm_tenants[0].weight = 2.0;
  SimResult r;
  r.makespan_ns = 7000;
  r.tenants.resize(2);
  r.tenants[0].latency = {100, 50, 400, 500};
  r.tenants[0].slo_violations = 2;
  r.tenants[0].throughput_rps = 10.0;
  r.tenants[1].latency = {1000, 900, 1600, 2000};
  r.tenants[1].slo_violations = 3;  // requests missing TTFT or TPOT
  r.tenants[1].throughput_rps = 4.0;

  lw.workload.objective = Objective::kSlo;
  CHECK(ScoreOf(r, lw.workload).value == 2.0 * 1 + 3.0 * 2);
  CHECK(ScoreOf(r, lw.workload).tie == 7000.0);
  lw.workload.objective = Objective::kP99Latency;
  CHECK(ScoreOf(r, lw.workload).value == (400.0 + 2 * 1600.0) / 3);
  lw.workload.objective = Objective::kMeanLatency;
  CHECK(ScoreOf(r, lw.workload).value == (100.0 + 2 * 1000.0) / 3);
  lw.workload.objective = Objective::kThroughput;
  CHECK(ScoreOf(r, lw.workload).value == -(10.0 + 2 * 4.0));
  lw.workload.objective = Objective::kMakespan;
  CHECK(ScoreOf(r, lw.workload).value == 7000.0);
  CHECK(TenantWeight(lw.workload, 1) == 2.0);
}

TEST_CASE("llm tenants in the plan space: exact default domains", "[search][llm]") {
  const LoadedWorkload lw = CnnChat();
  const PlanSpace space(lw, SpaceConfig{});
  REQUIRE(space.tenants() == 2);
  REQUIRE(space.traces() == 1);
  CHECK(space.names() == std::vector<std::string>{"cnn", "chat"});
  CHECK(space.IsLlm(1));
  // One group with an llm tenant; priorities and SMs as for any tenant.
  CHECK(Domain(space, Knob::kGroups, 0) == std::vector<int64_t>{0});
  CHECK(Domain(space, Knob::kGroups, 1) == std::vector<int64_t>{0});
  CHECK(Domain(space, Knob::kPriority, 1) == std::vector<int64_t>{0, -1});
  CHECK(Domain(space, Knob::kSm, 1) == std::vector<int64_t>{-1, 1, 2, 3, 4});
  // Split, stages and offset fixed at their defaults for the llm tenant.
  CHECK(Domain(space, Knob::kSplit, 0) == std::vector<int64_t>{1, 2, 4});
  CHECK(Domain(space, Knob::kSplit, 1) == std::vector<int64_t>{1});
  CHECK(Domain(space, Knob::kOffset, 0) == std::vector<int64_t>{0, 250000, 500000});
  CHECK(Domain(space, Knob::kOffset, 1) == std::vector<int64_t>{0});
  CHECK(space.cut_options()[1] == std::vector<std::vector<int64_t>>{{}});
  // The llm knobs: none for the trace tenant.
  CHECK(space.Dim(Knob::kBudget, 0) == -1);
  CHECK(space.Dim(Knob::kPd, 0) == -1);
  // The workload's 8192 tokens, and 2048 and 512 below it.
  CHECK(Domain(space, Knob::kBudget, 1) == std::vector<int64_t>{512, 2048, 8192});
  // chunked_prefill: the workload's value only.
  CHECK(Domain(space, Knob::kChunked, 1) == std::vector<int64_t>{1});
  // Off, then prefill on 1/4, 1/2, 3/4 of 4 SMs, decode on the rest.
  CHECK(space.pd_options()[0] == Pairs{{-1, -1}, {1, 3}, {2, 2}, {3, 1}});
  CHECK(Domain(space, Knob::kPd, 1) == std::vector<int64_t>{0, 1, 2, 3});

  // Size: 3 priority orders x 18 SM/pd combinations that fit 4 SMs (cnn shares: chat
  // shares, multiplexes 3 ways or takes 1-4 SMs = 8; cnn on 1-4 SMs: chat shares or
  // takes what is left = 4 + 3 + 2 + 1) x 3 splits x 3 offsets x 3 budgets x 3
  // max_connections classes (1, 2, and >= the 3 streams: cnn's and chat's two loops).
  CHECK(space.Size() == 3u * 18 * 3 * 3 * 3 * 3);
  CHECK(Enumerate(space) == space.Size());
  CHECK(space.Native().has_value());

  std::vector<std::string> lines = space.Describe();
  CHECK(std::find(lines.begin(), lines.end(), "chat.max_num_batched_tokens: 512, 2048, 8192 (3)") !=
        lines.end());
  CHECK(std::find(lines.begin(), lines.end(), "chat.prefill_decode_sm: off, 1+3, 2+2, 3+1 (4)") !=
        lines.end());
}

TEST_CASE("llm knobs on an H100: budgets and prefill/decode pairs rounded to 8 SMs",
          "[search][llm]") {
  LoadedWorkload lw = TinyWorkload({{"cnn", {{1000000, 8}}}});
  lw.gpu = GpuSpec{};  // 132 SMs, 8-SM partitions
  AddFakeLlm(&lw).serving.max_num_batched_tokens = 1024;
  const PlanSpace space(lw, SpaceConfig{});
  CHECK(Domain(space, Knob::kBudget, 1) == std::vector<int64_t>{512, 1024});
  // 33 -> 32 (+ 100 -> 96), 66 -> 64 (+ 68 -> 64), 99 -> 96 (+ 36 -> 32).
  CHECK(space.pd_options()[0] == Pairs{{-1, -1}, {32, 96}, {64, 64}, {96, 32}});
}

TEST_CASE("llm knobs: ToPlan and FromPlan round trips", "[search][llm]") {
  const LoadedWorkload lw = CnnChat();
  const PlanSpace space(lw, SpaceConfig{});
  const Candidate native = *space.Native();
  REQUIRE(space.ToPlan(native)->tenants.empty());

  Candidate c = With(space, native, Knob::kBudget, 1, 512);
  c = With(space, c, Knob::kPd, 1, 2);  // prefill 2, decode 2
  c = With(space, c, Knob::kSm, 0, -1);
  const Plan plan = *space.ToPlan(c);
  REQUIRE(plan.tenants.count("chat") == 1);
  const TenantPlan& tp = plan.tenants.at("chat");
  CHECK(tp.max_num_batched_tokens == 512);
  CHECK(tp.chunked_prefill == -1);  // the workload's value is not written
  CHECK(tp.prefill_sm_count == 2);
  CHECK(tp.decode_sm_count == 2);
  CHECK(tp.sm_count == -1);
  CHECK(plan.tenants.count("cnn") == 0);
  CHECK(space.FromPlan(plan) == space.Canonical(c));
  // Through the plan's JSON and back.
  CHECK(space.FromPlan(PlanFromJson(PlanToJson(plan), "p.json")) == space.Canonical(c));

  // The workload's budget written explicitly is the same candidate.
  Plan same = plan;
  same.tenants["chat"].max_num_batched_tokens = 8192;
  CHECK(space.FromPlan(same) == space.Canonical(With(space, c, Knob::kBudget, 1, 8192)));

  // Values outside the space.
  Plan out = plan;
  out.file = "p.json";
  out.tenants["chat"].max_num_batched_tokens = 1000;
  CHECK(ErrorOf([&] { space.FromPlan(out); }) ==
        "p.json: tenants.chat.max_num_batched_tokens: outside the search space: expected one "
        "of 512, 2048, 8192, found 1000");
  out = plan;
  out.file = "p.json";
  out.tenants["chat"].prefill_sm_count = 1;
  out.tenants["chat"].decode_sm_count = 1;
  CHECK(ErrorOf([&] { space.FromPlan(out); }) ==
        "p.json: tenants.chat.prefill_sm_count: outside the search space: expected "
        "prefill+decode SMs of off, 1+3, 2+2, 3+1, found 1+1");
}

TEST_CASE("llm knobs: feasibility of prefill/decode partitions", "[search][llm]") {
  const LoadedWorkload lw = CnnChat();
  const PlanSpace space(lw, SpaceConfig{});
  const Candidate native = *space.Native();
  const Candidate pd22 = With(space, native, Knob::kPd, 1, 2);
  CHECK(space.Feasible(pd22));
  // Multiplexed and an SM partition of its own: no.
  CHECK_FALSE(space.Feasible(With(space, pd22, Knob::kSm, 1, 1)));
  CHECK_FALSE(space.ToPlan(With(space, pd22, Knob::kSm, 1, 1)).has_value());
  // cnn's partition and chat's two: 2 + 2 + 2 and 1 + 1 + 3 exceed 4 SMs; 0 + 1 + 3 fits.
  CHECK_FALSE(space.Feasible(With(space, pd22, Knob::kSm, 0, 2)));
  const Candidate pd13 = With(space, native, Knob::kPd, 1, 1);
  CHECK(space.Feasible(pd13));
  CHECK_FALSE(space.Feasible(With(space, pd13, Knob::kSm, 0, 1)));
  // Random candidates are repaired into feasible ones.
  Rng rng(3);
  for (int i = 0; i < 200; ++i) CHECK(space.Feasible(RandomCandidate(space, rng)));
}

TEST_CASE("llm knobs: configured domains and their checks", "[search][llm]") {
  const LoadedWorkload lw = CnnChat();
  const auto space_of = [&](const std::string& setting) {
    return PlanSpace(lw, SpaceConfigFromSetting(setting));
  };
  CHECK(Domain(space_of("chat.chunked_prefill=0,1"), Knob::kChunked, 1) ==
        std::vector<int64_t>{0, 1});
  CHECK(Domain(space_of("chat.max_num_batched_tokens=256,4096"), Knob::kBudget, 1) ==
        std::vector<int64_t>{256, 4096});
  CHECK(space_of("chat.prefill_decode_sm=2/2,off").pd_options()[0] == Pairs{{-1, -1}, {2, 2}});
  {
    const PlanSpace only_pd(lw, SpaceConfigFromKnobList("pd"));
    CHECK(only_pd.RangedDims() == 1);
    CHECK(only_pd.dims()[only_pd.ranged()[0]].knob == Knob::kPd);
    CHECK(only_pd.Size() == 4);
  }
  SpaceConfig file = SpaceConfigFromJson(
      nlohmann::json::parse(R"({"schema": "cotenant.searchspace/1", "tenants": {"chat":
        {"chunked_prefill": [true, false], "prefill_decode_sm": [null, [1, 3]]}}})"),
      "s.json");
  const PlanSpace from_file(lw, file);
  CHECK(Domain(from_file, Knob::kChunked, 1) == std::vector<int64_t>{0, 1});
  CHECK(from_file.pd_options()[0] == Pairs{{-1, -1}, {1, 3}});

  CHECK(ErrorOf([&] { space_of("cnn.max_num_batched_tokens=512"); }) ==
        "--set cnn.max_num_batched_tokens=512: tenants.cnn.max_num_batched_tokens: only llm "
        "tenants have this knob; \"cnn\" is a trace tenant");
  CHECK(ErrorOf([&] { space_of("chat.batch_split=2"); }) ==
        "--set chat.batch_split=2: tenants.chat.batch_split: an llm tenant has no batch_split "
        "knob (its iterations follow its serving loop)");
  CHECK(ErrorOf([&] { space_of("groups=cnn,chat"); }) ==
        "--set groups=cnn,chat: groups: expected one group with llm tenants (an llm tenant "
        "serves its requests as they arrive; it cannot wait for a group before it), found 2");
  CHECK(ErrorOf([&] { space_of("chat.prefill_decode_sm=3/3"); }) ==
        "--set chat.prefill_decode_sm=3/3: tenants.chat.prefill_decode_sm[0]: expected prefill "
        "and decode SMs adding up to at most 4 (the SMs of tiny), found 6");
  CHECK(ErrorOf([&] { space_of("chat.prefill_decode_sm=3"); }) ==
        "--set chat.prefill_decode_sm=3: expected prefill/decode SM pairs like 64/64 or off, "
        "found \"3\"");

  // The space's own JSON reads back as the same space.
  const PlanSpace all(lw, SpaceConfig{});
  const PlanSpace again(lw, SpaceConfigFromJson(all.ToJson(), "space.json"));
  REQUIRE(again.dims().size() == all.dims().size());
  for (size_t d = 0; d < all.dims().size(); ++d)
    CHECK(again.dims()[d].values == all.dims()[d].values);
  CHECK(again.pd_options() == all.pd_options());
  CHECK(again.Size() == all.Size());
}

TEST_CASE("llm plans the simulator refuses are classified", "[search][llm]") {
  const LoadedWorkload lw = CnnChat();
  Plan plan;
  plan.tenants["chat"].chunked_prefill = 0;
  plan.tenants["chat"].max_num_batched_tokens = 8;  // a prompt of 10 is one prefill
  const std::string e = ErrorOf([&] { Simulate(lw, plan, SimOptions{}); });
  INFO(e);
  CHECK(ClassifyRefusal(e) == RefusalReason::kLlmBudget);
  CHECK(std::string(RefusalKey(RefusalReason::kLlmBudget)) == "llm_budget");
  plan = Plan();
  plan.tenants["chat"].prefill_sm_count = 3;
  plan.tenants["chat"].decode_sm_count = 3;
  CHECK(ClassifyRefusal(ErrorOf([&] { Simulate(lw, plan, SimOptions{}); })) ==
        RefusalReason::kSmPartition);
}

TEST_CASE("baselines with llm tenants", "[search][llm]") {
  const LoadedWorkload lw = CnnChat();
  const std::vector<BaselinePlan> b = BaselinePlans(lw);
  std::vector<std::string> names;
  for (const BaselinePlan& p : b) names.push_back(p.name);
  CHECK(names == std::vector<std::string>{"sequential", "native", "equal-partition", "priority",
                                          "chunked-shared", "pd-even", "alone"});
  CHECK_FALSE(b[0].plan.has_value());
  CHECK(b[0].missing == "llm tenants serve requests as they arrive and cannot wait for a group");
  // Even split: 2 of 4 SMs each, the llm tenant included.
  REQUIRE(b[2].plan.has_value());
  CHECK(b[2].plan->tenants.at("cnn").sm_count == 2);
  CHECK(b[2].plan->tenants.at("chat").sm_count == 2);
  // The tightest SLO: chat's TTFT 1.5 ms against cnn's 5 ms.
  CHECK(b[3].plan->tenants.at("chat").priority == -1);
  CHECK(b[3].plan->tenants.count("cnn") == 0);
  REQUIRE(b[4].plan.has_value());
  CHECK(b[4].plan->tenants.at("chat").chunked_prefill == 1);
  CHECK(b[4].plan->tenants.count("cnn") == 0);
  REQUIRE(b[5].plan.has_value());
  CHECK(b[5].plan->tenants.at("chat").prefill_sm_count == 2);
  CHECK(b[5].plan->tenants.at("chat").decode_sm_count == 2);
  CHECK(b[5].plan->tenants.at("chat").sm_count == -1);
  CHECK(b[6].alone);
  CHECK_FALSE(b[6].plan.has_value());
  // Every plan is valid, and inside the default space.
  const PlanSpace space(lw, SpaceConfig{});
  for (const BaselinePlan& p : b)
    if (p.plan) CHECK_NOTHROW(space.FromPlan(*p.plan));

  // A workload without llm tenants keeps its four baselines.
  CHECK(BaselinePlans(TinyWorkload({{"cnn", {{1000, 8}}}})).size() == 4);
}

TEST_CASE("SimulateAlone: each tenant's own result on the whole GPU", "[search][llm]") {
  const LoadedWorkload lw = CnnChat();
  const SimResult alone = SimulateAlone(lw, SimOptions{});
  REQUIRE(alone.tenants.size() == 2);
  REQUIRE(alone.llm.size() == 1);
  CHECK(alone.tenants[0].name == "cnn");
  CHECK(alone.tenants[1].name == "chat");
  // cnn alone, as a workload of cnn only.
  const SimResult cnn = Simulate(TinyWorkload({{"cnn", {{1000000, 8}}, 5000000}}), Plan{}, {});
  CHECK(alone.tenants[0].latency.p99 == cnn.tenants[0].latency.p99);
  // chat alone: every request a prefill and two decodes of 1 ms.
  CHECK(alone.llm[0].metrics.ttft.p99 == testing::kFakeLlmIterNs);
  CHECK(alone.llm[0].metrics.tpot.p99 == testing::kFakeLlmIterNs);
  CHECK(alone.tenants[1].latency.p99 == 3 * testing::kFakeLlmIterNs);
  CHECK(alone.makespan_ns == std::max(cnn.makespan_ns, alone.llm[0].metrics.makespan_ns));
}

TEST_CASE("a search with an llm tenant: baselines, best plan and report", "[search][llm]") {
  const LoadedWorkload lw = CnnChat();
  const PlanSpace space(lw, SpaceConfig{});
  SearchOptions so;
  so.strategy = "random";
  so.budget_evaluations = 12;
  so.threads = 2;
  const SearchResult r = RunSearch(space, so);
  CHECK(r.evaluations <= 12);
  REQUIRE(r.baselines.size() == 7);
  CHECK(r.baselines[6].alone);
  CHECK(r.baselines[6].result.tenants.size() == 2);
  CHECK(r.best_result.llm.size() == 1);
  // The best is no worse than native.
  CHECK_FALSE(r.baselines[1].score < r.best_score);
  const nlohmann::json j = SearchResultToJson(r, space);
  REQUIRE(j["best"]["llm"].size() == 1);
  CHECK(j["best"]["llm"][0]["tenant"] == "chat");
  CHECK(j["best"]["llm"][0].contains("ttft_p99_ns"));
  CHECK(j["best"]["llm"][0].contains("tpot_p99_ns"));
  CHECK(j["best"]["llm"][0].contains("goodput_rps"));
  CHECK(j["baselines"][1]["llm"][0]["tenant"] == "chat");
  CHECK(j["baselines"][6]["alone"] == true);
  CHECK(j["baselines"][6]["llm"][0]["ttft_p99_ns"] == testing::kFakeLlmIterNs);
  CHECK(j["baselines"][0]["missing"] ==
        "llm tenants serve requests as they arrive and cannot wait for a group");
  // Same seed, same run.
  const SearchResult again = RunSearch(space, so);
  CHECK(again.best_candidate == r.best_candidate);
}

}  // namespace cotenant::search
