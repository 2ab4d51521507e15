// Arrivals of cotenant.workload/1 beyond the basics in formats_test: bursty "gamma"
// arrivals (vLLM's benchmark_serving.py --burstiness), "trace" arrivals from a CSV
// column of seconds, trace tenants' memory_bytes, and workloads mixing trace and llm
// tenants.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "sim/workload.h"
#include "tests/common/fixtures.h"

namespace cotenant {
namespace {

using nlohmann::json;
using testing::ErrorOf;
using testing::kData;
using testing::TempDir;

const std::string kArrivals = kData + "/arrivals";

Arrival Gamma(double rate_hz, double burstiness, uint64_t seed) {
  Arrival a;
  a.kind = ArrivalKind::kGamma;
  a.rate_hz = rate_hz;
  a.burstiness = burstiness;
  a.seed = seed;
  return a;
}

/// The error reading a workload of one trace tenant with this arrival object (paths
/// resolved against `dir`).
std::string ArrivalError(const std::string& arrival, int64_t requests = 1,
                         const std::string& dir = "d") {
  const std::string text = R"({"schema": "cotenant.workload/1", "tenants": [{"name": "a",
      "trace": "a.json", "requests": )" +
                           std::to_string(requests) + R"(, "arrival": )" + arrival + "}]}";
  return ErrorOf([&] { WorkloadFromJson(ParseJsonText(text, "w.json"), "w.json", dir); });
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
}

}  // namespace

// ---------------------------------------------------------------- gamma

TEST_CASE("arrival gamma: deterministic, first request at 0, prefixes agree", "[formats]") {
  const Arrival a = Gamma(50.0, 0.3, 11);
  const std::vector<TimeNs> t = ArrivalTimes(a, 1000);
  CHECK(t == ArrivalTimes(a, 1000));
  CHECK(t[0] == 0);
  CHECK(std::is_sorted(t.begin(), t.end()));
  const std::vector<TimeNs> head = ArrivalTimes(a, 10);
  CHECK(std::equal(head.begin(), head.end(), t.begin()));
  CHECK(ArrivalTimes(Gamma(50.0, 0.3, 12), 10) != head);
  CHECK(ArrivalTimes(Gamma(50.0, 0.3, 11), 0).empty());
  CHECK(ArrivalTimes(Gamma(50.0, 0.3, 11), 1) == std::vector<TimeNs>{0});
  // The same generator state gives the same draw.
  SplitMix64 r1(5), r2(5);
  CHECK(GammaDraw(r1, 0.7) == GammaDraw(r2, 0.7));
  CHECK(GammaDraw(r1, 3.0) == GammaDraw(r2, 3.0));
}

TEST_CASE("arrival gamma: mean gap 1/rate, coefficient of variation 1/sqrt(burstiness)",
          "[formats]") {
  // n = 20000 gaps of Gamma(k, 1/(rate k)): mean m = 1/rate, CV c = 1/sqrt(k). The
  // sample mean has relative standard error c/sqrt(n). For the sample CV, the delta
  // method on log(s) - log(mean), with a gamma's kurtosis 3 + 6/k and skewness 2c, gives
  // Var(log CV) = ((kurtosis - 1)/4 + c^2 - skewness c)/n = (1 + c^2)/(2n). Each check
  // allows 5 standard errors (a false failure below 1e-6 for any seed); the seeds are
  // fixed, so the test is also exactly reproducible. Gaps are whole ns of a 1 ms mean:
  // rounding moves them by at most 1 ns, far inside the bounds.
  constexpr int64_t kGaps = 20000;
  const double rate_hz = 1000.0;
  for (const double k : {0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 16.0}) {
    CAPTURE(k);
    const std::vector<TimeNs> t = ArrivalTimes(Gamma(rate_hz, k, 42), kGaps + 1);
    double sum = 0.0, sum2 = 0.0;
    int64_t below_mean = 0;
    for (int64_t i = 1; i <= kGaps; ++i) {
      const double gap = static_cast<double>(t[i] - t[i - 1]);
      sum += gap;
      sum2 += gap * gap;
      below_mean += gap < 1e9 / rate_hz ? 1 : 0;
    }
    const double n = static_cast<double>(kGaps);
    const double mean = sum / n;
    const double sd = std::sqrt((sum2 - sum * sum / n) / (n - 1.0));
    const double c = 1.0 / std::sqrt(k);
    CHECK(mean == Approx(1e9 / rate_hz).epsilon(5.0 * c / std::sqrt(n)));
    CHECK(sd / mean == Approx(c).epsilon(5.0 * std::sqrt((1.0 + c * c) / (2.0 * n))));
    if (k == 1.0) {
      // Exponential: P(gap < mean) = 1 - 1/e; binomial standard error sqrt(p(1-p)/n).
      const double p = 1.0 - std::exp(-1.0);
      CHECK(std::abs(static_cast<double>(below_mean) / n - p) < 5.0 * std::sqrt(p * (1.0 - p) / n));
    }
  }
}

TEST_CASE("arrival gamma: read, written, and bad fields refused", "[formats]") {
  const std::string text = R"({"schema": "cotenant.workload/1", "tenants": [{"name": "a",
      "trace": "a.json", "requests": 3,
      "arrival": {"kind": "gamma", "rate_hz": 20, "burstiness": 0.25}}]})";
  const Workload w = WorkloadFromJson(ParseJsonText(text, "w.json"), "w.json", "");
  const Arrival& a = w.tenants[0].arrival;
  CHECK(a.kind == ArrivalKind::kGamma);
  CHECK(a.rate_hz == 20.0);
  CHECK(a.burstiness == 0.25);
  CHECK(a.seed == 1);
  CHECK(ArrivalToJson(a) ==
        json{{"kind", "gamma"}, {"rate_hz", 20.0}, {"burstiness", 0.25}, {"seed", 1}});
  const json j = WorkloadToJson(w);
  CHECK(WorkloadToJson(WorkloadFromJson(j, "w.json", "")) == j);

  CHECK(ArrivalError(R"({"kind": "gamma", "burstiness": 0.5})") ==
        "w.json: tenants[0].arrival.rate_hz: missing required field");
  CHECK(ArrivalError(R"({"kind": "gamma", "rate_hz": 0, "burstiness": 0.5})") ==
        "w.json: tenants[0].arrival.rate_hz: expected a positive number, found 0");
  CHECK(ArrivalError(R"({"kind": "gamma", "rate_hz": 5})") ==
        "w.json: tenants[0].arrival.burstiness: missing required field");
  CHECK(ArrivalError(R"({"kind": "gamma", "rate_hz": 5, "burstiness": 0})") ==
        "w.json: tenants[0].arrival.burstiness: expected a positive number (1 = poisson, "
        "smaller = burstier), found 0");
  CHECK(ArrivalError(R"({"kind": "gamma", "rate_hz": 5, "burstiness": -0.5})") ==
        "w.json: tenants[0].arrival.burstiness: expected a positive number (1 = poisson, "
        "smaller = burstier), found -0.5");
  CHECK(ArrivalError(R"({"kind": "gamma", "rate_hz": 5, "burstiness": "high"})") ==
        "w.json: tenants[0].arrival.burstiness: expected a number, found a string");
  CHECK(ArrivalError(R"({"kind": "gamma", "rate_hz": 5, "burstyness": 0.5})") ==
        "w.json: tenants[0].arrival.burstyness: unknown key; did you mean \"burstiness\"?");
  CHECK(ArrivalError(R"({"kind": "gamma", "rate_hz": 5, "burstiness": 1, "seed": -1})") ==
        "w.json: tenants[0].arrival.seed: expected a non-negative integer, found -1");
  CHECK(ArrivalError(R"({"kind": "poisson", "rate_hz": 5, "burstiness": 0.5})") ==
        "w.json: tenants[0].arrival.burstiness: not used by arrival kind \"poisson\"");
  CHECK(ArrivalError(R"({"kind": "gama"})") ==
        "w.json: tenants[0].arrival.kind: expected one of \"closed\", \"poisson\", \"periodic\", "
        "\"trace\", \"gamma\", found \"gama\"; did you mean \"gamma\"?");
}

TEST_CASE("arrival gamma: llm tenants read arrivals through the same code", "[formats]") {
  json j = json::parse(R"({"schema": "cotenant.workload/1", "tenants": [{
    "name": "chat", "kind": "llm", "model": "llama-3.1-8b", "requests": 50,
    "arrival": {"kind": "gamma", "rate_hz": 8, "burstiness": 0.5, "seed": 9},
    "prompt_tokens": {"kind": "fixed", "value": 100},
    "output_tokens": {"kind": "fixed", "value": 10}}]})");
  const Workload w = WorkloadFromJson(j, "w.json", "");
  const std::vector<LlmRequest> r = LlmRequests(w.llm_tenants[0], "w.json");
  const std::vector<TimeNs> t = ArrivalTimes(Gamma(8.0, 0.5, 9), 50);
  REQUIRE(r.size() == 50);
  for (size_t i = 0; i < r.size(); ++i) CHECK(r[i].arrival_ns == t[i]);
  j["tenants"][0]["arrival"]["burstiness"] = 0;
  CHECK(ErrorOf([&] { WorkloadFromJson(j, "w.json", ""); }) ==
        "w.json: tenants[0].arrival.burstiness: expected a positive number (1 = poisson, "
        "smaller = burstier), found 0");
}

// ---------------------------------------------------------------- CSV of seconds

TEST_CASE("arrival trace from a CSV: trace and llm tenants, round trip", "[formats]") {
  const Workload w = ReadWorkload(kArrivals + "/workload_mixed.json");
  REQUIRE(w.tenants.size() == 2);
  REQUIRE(w.llm_tenants.size() == 2);
  const TenantSpec& cnn = w.tenants[0];
  CHECK(cnn.arrival.kind == ArrivalKind::kTrace);
  CHECK(cnn.arrival.csv_path == kArrivals + "/arrivals.csv");
  CHECK(cnn.arrival.csv_column == "timestamp_s");
  // Read when the workload is: the first `requests` rows only.
  CHECK(cnn.arrival.times_ns == std::vector<TimeNs>{0, 500000000, 500000001, 1250000000});
  CHECK(ArrivalTimes(cnn.arrival, 4) == cnn.arrival.times_ns);
  CHECK(cnn.memory_bytes == 2147483648);
  CHECK(w.tenants[1].name == "bert");
  CHECK(w.tenants[1].memory_bytes == 0);
  CHECK(w.tenants[1].arrival.kind == ArrivalKind::kGamma);

  // An llm tenant keeps the arrival object (column defaulted) and LlmRequests reads the
  // file: decimals to whole ns, digits past the ninth rounded half up.
  const LlmTenantSpec& chat = w.llm_tenants[0];
  CHECK(chat.at == "tenants[1]");
  CHECK(chat.arrival ==
        json{{"kind", "trace"}, {"csv", kArrivals + "/arrivals.csv"}, {"column", "timestamp_s"}});
  std::vector<TimeNs> got;
  for (const LlmRequest& r : LlmRequests(chat, w.file)) got.push_back(r.arrival_ns);
  CHECK(got == std::vector<TimeNs>{0, 500000000, 500000001, 1250000000, 2000000000, 2000000001});
  CHECK(w.llm_tenants[1].at == "tenants[2]");

  const json j = WorkloadToJson(w);
  CHECK(j["tenants"][0]["arrival"] ==
        json{{"kind", "trace"}, {"csv", kArrivals + "/arrivals.csv"}, {"column", "timestamp_s"}});
  CHECK(j["tenants"][0]["memory_bytes"] == 2147483648);
  CHECK_FALSE(j["tenants"][1].contains("memory_bytes"));  // written only when non-zero
  const Workload back = WorkloadFromJson(j, "rt.json", "");
  CHECK(WorkloadToJson(back) == j);
  CHECK(back.tenants[0].arrival.times_ns == cnn.arrival.times_ns);
}

TEST_CASE("arrival trace from a CSV: errors name the file, line and column", "[formats]") {
  const TempDir tmp("cotenant_arrival_test");
  const std::string csv = R"({"kind": "trace", "csv": "a.csv"})";
  const std::string where = "w.json: tenants[0].arrival.csv: " + tmp / "a.csv";
  const auto error = [&](const std::string& text, int64_t requests = 1) {
    WriteFile(tmp / "a.csv", text);
    return ArrivalError(csv, requests, tmp.path.string());
  };
  CHECK(error("timestamp_s\n0\n1.5\n") == "<no error>");
  CHECK(error("timestamp_s\n0\n1.5\n", 3) ==
        where + " has 2 rows, expected at least 3 (one per request)");
  CHECK(error("id,timestamp_s\n0,0\n1,abc\n", 2) ==
        where +
            ":3: timestamp_s: expected a non-negative decimal number of seconds (like 0.25), "
            "found \"abc\"");
  CHECK(error("timestamp_s\n-1\n") ==
        where +
            ":2: timestamp_s: expected a non-negative decimal number of seconds (like 0.25), "
            "found \"-1\"");
  CHECK(error("timestamp_s\n1e-3\n") ==
        where +
            ":2: timestamp_s: expected a non-negative decimal number of seconds (like 0.25), "
            "found \"1e-3\"");
  CHECK(error("id,timestamp_s\n0\n") ==
        where +
            ":2: timestamp_s: expected a non-negative decimal number of seconds (like 0.25), "
            "found \"\"");
  CHECK(error("timestamp_s\n9000000000\n") ==
        where +
            ":2: timestamp_s: expected a non-negative decimal number of seconds (like 0.25), "
            "found \"9000000000\"");
  CHECK(error("timestamp_s\n8999999999.999999999\n") == "<no error>");
  CHECK(error("timestamp_s\n0\n1.5\n\n1.2\n", 3) ==
        where +
            ":5: timestamp_s: expected a time >= 1.5 s (times must not decrease), found \"1.2\"");
  CHECK(error("timestamp_s\n0\n1.5\n1.2\n", 2) == "<no error>");  // rows past `requests` unread
  CHECK(error("timestamps,x\n0,1\n") ==
        where +
            ":1: expected a column \"timestamp_s\" in the header; did you mean \"timestamps\"?");
  CHECK(error("") == where + " is empty (expected a header)");
  CHECK(ArrivalError(R"({"kind": "trace", "csv": "none.csv"})", 1, "d") ==
        "w.json: tenants[0].arrival.csv: cannot open d/none.csv");
  CHECK(ArrivalError(R"({"kind": "trace", "csv": ""})") ==
        "w.json: tenants[0].arrival.csv: expected a non-empty string, found a string");
  CHECK(ArrivalError(R"({"kind": "trace", "csv": "a.csv", "column": ""})") ==
        "w.json: tenants[0].arrival.column: expected a non-empty string, found a string");
  CHECK(ArrivalError(R"({"kind": "trace", "csv": "a.csv", "times_ns": [0]})") ==
        "w.json: tenants[0].arrival.csv: not used with times_ns (the times come from one or the "
        "other)");
  CHECK(ArrivalError(R"({"kind": "trace", "times_ns": [0], "column": "t"})") ==
        "w.json: tenants[0].arrival.column: not used without csv");
  CHECK(ArrivalError(R"({"kind": "trace"})") ==
        "w.json: tenants[0].arrival.times_ns: missing required field");
  CHECK(ArrivalError(R"({"kind": "poisson", "rate_hz": 1, "csv": "a.csv"})") ==
        "w.json: tenants[0].arrival.csv: not used by arrival kind \"poisson\"");

  // An llm tenant's file is read with its requests, not with the workload.
  WriteFile(tmp / "a.csv", "t,timestamp_s\n0,0\n1,0.25\n");
  const json llm = json::parse(R"({"schema": "cotenant.workload/1", "tenants": [{
    "name": "chat", "kind": "llm", "model": "llama-3.1-8b", "requests": 3,
    "arrival": {"kind": "trace", "csv": "a.csv"},
    "prompt_tokens": {"kind": "fixed", "value": 100},
    "output_tokens": {"kind": "fixed", "value": 10}}]})");
  const Workload w = WorkloadFromJson(llm, "w.json", tmp.path.string());
  CHECK(ErrorOf([&] { LlmRequests(w.llm_tenants[0], "w.json"); }) ==
        where + " has 2 rows, expected at least 3 (one per request)");
}

// ---------------------------------------------------------------- memory, mixing

TEST_CASE("workload: memory_bytes of trace tenants", "[formats]") {
  const auto read = [](const std::string& extra) {
    const std::string text = R"({"schema": "cotenant.workload/1", "tenants": [{"name": "a",
        "trace": "a.json")" + extra +
                             "}]}";
    return WorkloadFromJson(ParseJsonText(text, "w.json"), "w.json", "");
  };
  CHECK(read("").tenants[0].memory_bytes == 0);
  CHECK(read(R"(, "memory_bytes": 0)").tenants[0].memory_bytes == 0);
  CHECK(read(R"(, "memory_bytes": 17179869184)").tenants[0].memory_bytes == 17179869184);
  CHECK(ErrorOf([&] { read(R"(, "memory_bytes": -1)"); }) ==
        "w.json: tenants[0].memory_bytes: expected a non-negative integer, found -1");
  CHECK(ErrorOf([&] { read(R"(, "memory_bytes": 1.5)"); }) ==
        "w.json: tenants[0].memory_bytes: expected a non-negative integer, found 1.5");
  CHECK(ErrorOf([&] { read(R"(, "memory_byte": 1)"); }) ==
        "w.json: tenants[0].memory_byte: unknown key; did you mean \"memory_bytes\"?");
  CHECK(WorkloadToJson(read(R"(, "memory_bytes": 0)"))["tenants"][0].contains("memory_bytes") ==
        false);
}

TEST_CASE("workload: trace and llm tenants together, names unique across both", "[formats]") {
  const json llm = json::parse(R"({"name": "chat", "kind": "llm", "model": "llama-3.1-8b",
    "arrival": {"kind": "poisson", "rate_hz": 2},
    "prompt_tokens": {"kind": "fixed", "value": 100},
    "output_tokens": {"kind": "fixed", "value": 10}})");
  const json cnn = {{"name", "cnn"}, {"trace", "t.json"}};
  json j = {{"schema", "cotenant.workload/1"}, {"tenants", {cnn, llm, llm, cnn}}};
  j["tenants"][2]["name"] = "chat2";
  j["tenants"][3]["name"] = "cnn2";
  const Workload w = WorkloadFromJson(j, "w.json", "");
  REQUIRE(w.tenants.size() == 2);
  REQUIRE(w.llm_tenants.size() == 2);
  CHECK(w.llm_tenants[0].at == "tenants[1]");
  CHECK(w.llm_tenants[1].at == "tenants[2]");
  CHECK(w.FindTenant("cnn2") == 1);
  CHECK(w.FindTenant("chat") == -1);  // trace tenants only
  // Written with the trace tenants first; stable from then on.
  const json out = WorkloadToJson(w);
  CHECK(out["tenants"][1]["name"] == "cnn2");
  CHECK(out["tenants"][2]["name"] == "chat");
  CHECK(WorkloadToJson(WorkloadFromJson(out, "w.json", "")) == out);

  j["tenants"][3]["name"] = "chat";
  CHECK(ErrorOf([&] { WorkloadFromJson(j, "w.json", ""); }) ==
        "w.json: tenants[3].name: duplicate tenant name \"chat\" (also tenants[1])");
  j["tenants"][3]["name"] = "cnn2";
  j["tenants"][2]["name"] = "cnn";
  CHECK(ErrorOf([&] { WorkloadFromJson(j, "w.json", ""); }) ==
        "w.json: tenants[2].name: duplicate tenant name \"cnn\" (also tenants[0])");
}

}  // namespace cotenant
