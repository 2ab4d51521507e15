// The "llm" tenant kind of cotenant.workload/1: its fields, defaults, lengths, and
// tenants of both kinds in one workload.
#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "sim/error.h"
#include "sim/workload.h"

namespace cotenant {
namespace {

using nlohmann::json;

json Chat() {
  return json::parse(R"({"schema": "cotenant.workload/1", "tenants": [{
    "name": "chat", "kind": "llm", "model": "llama-3.1-8b", "requests": 4,
    "arrival": {"kind": "periodic", "period_ns": 1000},
    "prompt_tokens": {"kind": "fixed", "value": 512},
    "output_tokens": {"kind": "uniform", "min": 10, "max": 20, "seed": 3},
    "slo": {"ttft_ms": 500, "tpot_ms": 50.5}}]})");
}

}  // namespace

TEST_CASE("llm workload: fields, defaults and requests") {
  const Workload w = WorkloadFromJson(Chat(), "w.json", "");
  REQUIRE(w.tenants.empty());
  REQUIRE(w.llm_tenants.size() == 1);
  const LlmTenantSpec& t = w.llm_tenants[0];
  CHECK(t.at == "tenants[0]");
  CHECK(t.dtype == "bf16");
  CHECK(t.slo.ttft_ns == 500000000);
  CHECK(t.slo.tpot_ns == 50500000);
  // Defaults: vLLM's.
  CHECK(t.serving.max_num_batched_tokens == 8192);
  CHECK(t.serving.max_num_seqs == 256);
  CHECK(t.serving.chunked_prefill);
  CHECK(t.serving.gpu_memory_utilization == 0.9);
  CHECK(t.serving.block_size == 16);
  const std::vector<LlmRequest> r = LlmRequests(t, "w.json");
  REQUIRE(r.size() == 4);
  for (int64_t i = 0; i < 4; ++i) {
    CHECK(r[i].id == i);
    CHECK(r[i].arrival_ns == 1000 * i);
    CHECK(r[i].prompt_tokens == 512);
    CHECK(r[i].output_tokens >= 10);
    CHECK(r[i].output_tokens <= 20);
  }
  CHECK(LlmRequests(t, "w.json")[3].output_tokens == r[3].output_tokens);  // seeded
  // Round trip.
  const json j = WorkloadToJson(w);
  CHECK(WorkloadToJson(WorkloadFromJson(j, "w.json", "")) == j);
}

TEST_CASE("llm workload: lengths from a CSV column, cycling") {
  const std::string path = "llm_workload_test_lengths.csv";
  {
    std::ofstream f(path);
    f << "prompt_tokens, output_tokens\n100, 7\n200, 8\n";
  }
  json j = Chat();
  j["tenants"][0]["prompt_tokens"] = {{"kind", "csv"}, {"path", path}};
  j["tenants"][0]["output_tokens"] = {{"kind", "csv"}, {"path", path}};
  const Workload w = WorkloadFromJson(j, "w.json", "");
  const std::vector<LlmRequest> r = LlmRequests(w.llm_tenants[0], "w.json");
  CHECK(r[0].prompt_tokens == 100);
  CHECK(r[1].output_tokens == 8);
  CHECK(r[2].prompt_tokens == 100);
  CHECK(r[3].output_tokens == 8);
  j["tenants"][0]["output_tokens"]["column"] = "output";
  CHECK_THROWS_WITH(LlmRequests(WorkloadFromJson(j, "w.json", "").llm_tenants[0], "w.json"),
                    Catch::StartsWith("w.json: tenants[0].output_tokens.path: " + path +
                                      ":1: expected a column \"output\" in the header"));
  std::remove(path.c_str());
}

TEST_CASE("llm workload: bad fields are refused naming the field; tenants of both kinds mix") {
  json j = Chat();
  j["tenants"][0]["arrival"] = {{"kind", "closed"}};
  CHECK_THROWS_WITH(WorkloadFromJson(j, "w.json", ""),
                    Catch::StartsWith("w.json: tenants[0].arrival.kind: expected \"poisson\""));
  j = Chat();
  j["tenants"][0]["prompt_tokens"] = {{"kind", "normal"}};
  CHECK_THROWS_WITH(WorkloadFromJson(j, "w.json", ""),
                    Catch::StartsWith("w.json: tenants[0].prompt_tokens.kind: expected one of "
                                      "\"fixed\", \"uniform\", \"csv\""));
  j = Chat();
  j["tenants"][0]["output_tokens"] = {{"kind", "uniform"}, {"min", 30}, {"max", 20}};
  CHECK_THROWS_WITH(WorkloadFromJson(j, "w.json", ""),
                    Catch::StartsWith("w.json: tenants[0].output_tokens.max:"));
  j = Chat();
  j["tenants"][0]["kind"] = "llm2";
  CHECK_THROWS_WITH(WorkloadFromJson(j, "w.json", ""),
                    Catch::StartsWith("w.json: tenants[0].kind: expected one of"));
  // Several llm tenants, and trace tenants beside them, are read (what runs them
  // decides what it supports); names are unique across both kinds.
  j = Chat();
  j["tenants"].push_back(j["tenants"][0]);
  j["tenants"][1]["name"] = "chat2";
  CHECK(WorkloadFromJson(j, "w.json", "").llm_tenants.size() == 2);
  j["tenants"][1]["name"] = "chat";
  CHECK_THROWS_WITH(WorkloadFromJson(j, "w.json", ""),
                    "w.json: tenants[1].name: duplicate tenant name \"chat\" (also tenants[0])");
  j = Chat();
  j["tenants"].insert(j["tenants"].begin(), json{{"name", "cnn"}, {"trace", "t.json"}});
  const Workload mixed = WorkloadFromJson(j, "w.json", "");
  CHECK(mixed.tenants.size() == 1);
  CHECK(mixed.llm_tenants.size() == 1);
  CHECK(mixed.llm_tenants[0].at == "tenants[1]");
  j["tenants"][0]["name"] = "chat";
  CHECK_THROWS_WITH(WorkloadFromJson(j, "w.json", ""),
                    "w.json: tenants[1].name: duplicate tenant name \"chat\" (also tenants[0])");
  // A trace tenant may say "kind": "trace".
  j = json::parse(R"({"schema": "cotenant.workload/1",
                      "tenants": [{"name": "a", "kind": "trace", "trace": "t.json"}]})");
  CHECK(WorkloadFromJson(j, "w.json", "").tenants.size() == 1);
}

}  // namespace cotenant
