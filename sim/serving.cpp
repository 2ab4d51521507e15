#include "sim/serving.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <deque>
#include <numeric>
#include <string>

#include "sim/error.h"
#include "sim/json_util.h"

namespace cotenant {
namespace {

int64_t DivUp(int64_t x, int64_t d) { return (x + d - 1) / d; }

/// A request's state in the loop. Its tokens are prompt + generated; `computed` of them
/// have their K and V in the cache.
struct Seq {
  int64_t prompt = 0, output = 0;
  int64_t computed = 0, generated = 0, blocks = 0;
  int64_t Tokens() const { return prompt + generated; }
};

void CheckConfig(const ServingConfig& c) {
  auto fail = [](const std::string& field, int64_t v) {
    throw InputError("serving: " + field + ": expected a positive integer, found " +
                     std::to_string(v));
  };
  if (c.max_num_batched_tokens < 1) fail("max_num_batched_tokens", c.max_num_batched_tokens);
  if (c.max_num_seqs < 1) fail("max_num_seqs", c.max_num_seqs);
  if (c.block_tokens < 1) fail("block_size", c.block_tokens);
  if (c.kv_capacity_tokens < 1) fail("kv_capacity_tokens", c.kv_capacity_tokens);
}

}  // namespace

int64_t IterationShape::Tokens() const {
  int64_t t = static_cast<int64_t>(decode_contexts.size());
  for (const PrefillChunk& p : prefills) t += p.tokens;
  return t;
}

TimeNs NearestRankPercentile(const std::vector<TimeNs>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::min(std::max<size_t>(rank, 1), sorted.size());
  return sorted[rank - 1];
}

ServingRun RunServing(const std::vector<LlmRequest>& requests, const ServingConfig& config,
                      const IterationCostFn& cost, bool record_iterations) {
  CheckConfig(config);
  const int64_t n = static_cast<int64_t>(requests.size());
  const int64_t bt = config.block_tokens;
  const int64_t total_blocks = config.kv_capacity_tokens / bt;
  ServingRun run;
  run.requests.resize(requests.size());
  std::vector<Seq> seqs(requests.size());
  for (int64_t i = 0; i < n; ++i) {
    const LlmRequest& r = requests[i];
    const std::string at = "request " + std::to_string(i) + ": ";
    if (r.arrival_ns < 0 || r.prompt_tokens < 1 || r.output_tokens < 1)
      throw InputError(at + "expected arrival >= 0, prompt and output tokens >= 1");
    // The last token's K and V are never written: at most prompt + output - 1 are cached.
    const int64_t peak = r.prompt_tokens + r.output_tokens - 1;
    if (DivUp(peak, bt) > total_blocks) {
      throw InputError(at + "prompt_tokens + output_tokens - 1 = " + std::to_string(peak) +
                       " tokens need " + std::to_string(DivUp(peak, bt)) + " KV blocks of " +
                       std::to_string(bt) + " tokens; the KV cache holds " +
                       std::to_string(total_blocks) + " (" +
                       std::to_string(config.kv_capacity_tokens) + " tokens)");
    }
    if (!config.chunked_prefill && peak > config.max_num_batched_tokens) {
      throw InputError(at + "prompt_tokens + output_tokens - 1 = " + std::to_string(peak) +
                       " exceeds max_num_batched_tokens " +
                       std::to_string(config.max_num_batched_tokens) +
                       " (without chunked prefill a prompt, or a recomputation, is one prefill)");
    }
    seqs[i].prompt = r.prompt_tokens;
    seqs[i].output = r.output_tokens;
    run.requests[i] = {r.id, r.arrival_ns, -1, -1, r.output_tokens, 0};
  }
  std::vector<int64_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    if (requests[a].arrival_ns != requests[b].arrival_ns)
      return requests[a].arrival_ns < requests[b].arrival_ns;
    return requests[a].id < requests[b].id;
  });

  std::deque<int64_t> waiting;
  std::vector<int64_t> running;  // admission order: the last is preempted first
  std::vector<std::pair<int64_t, int64_t>> scheduled;  // (request, tokens) this iteration
  IterationShape shape;
  int64_t free_blocks = total_blocks, next = 0, done = 0;
  TimeNs now = 0;

  // Schedules `k` tokens of `s` if its blocks fit; false (nothing changed) otherwise.
  auto try_allocate = [&](int64_t s, int64_t k) {
    const int64_t need = DivUp(seqs[s].computed + k, bt) - seqs[s].blocks;
    if (need > free_blocks) return false;
    free_blocks -= need;
    seqs[s].blocks += need;
    scheduled.emplace_back(s, k);
    return true;
  };
  // Running sequences in order, each its remaining tokens up to the budget; when blocks run
  // out, the most recently admitted running sequence is preempted (recompute) until they
  // fit, possibly the one being scheduled. Returns whether anything was preempted.
  auto schedule_running = [&](int64_t& budget) {
    bool preempted = false;
    for (size_t i = 0; i < running.size() && budget > 0;) {
      const int64_t s = running[i];
      const int64_t k = std::min(seqs[s].Tokens() - seqs[s].computed, budget);
      COTENANT_CHECK(k >= 1);
      bool self = false;
      while (!try_allocate(s, k)) {
        const int64_t victim = running.back();
        running.pop_back();
        free_blocks += seqs[victim].blocks;
        seqs[victim].blocks = 0;
        seqs[victim].computed = 0;
        run.requests[victim].preemptions++;
        run.preemptions++;
        waiting.push_front(victim);
        preempted = true;
        if (victim == s) {
          self = true;
          break;
        }
      }
      if (self) break;
      budget -= k;
      ++i;
    }
    return preempted;
  };
  // Waiting requests first come first served while the budget, the sequence limit and the
  // free blocks allow; a chunk of the prompt (and of the tokens generated before a
  // preemption) with chunked prefill, else the whole.
  auto admit_waiting = [&](int64_t& budget) {
    while (!waiting.empty() && budget > 0 &&
           static_cast<int64_t>(running.size()) < config.max_num_seqs) {
      const int64_t s = waiting.front();
      const int64_t all = seqs[s].Tokens();
      if (!config.chunked_prefill && all > budget) break;
      const int64_t k = std::min(all, budget);
      if (!try_allocate(s, k)) break;
      waiting.pop_front();
      running.push_back(s);
      budget -= k;
    }
  };

  while (done < n) {
    while (next < n && requests[order[next]].arrival_ns <= now) waiting.push_back(order[next++]);
    if (running.empty() && waiting.empty()) {
      now = std::max(now, requests[order[next]].arrival_ns);
      continue;
    }
    scheduled.clear();
    int64_t budget = config.max_num_batched_tokens;
    if (config.chunked_prefill) {
      if (!schedule_running(budget)) admit_waiting(budget);
    } else {
      admit_waiting(budget);
      if (scheduled.empty()) schedule_running(budget);
    }
    COTENANT_CHECK_MSG(!scheduled.empty(), "serving loop scheduled nothing");

    shape.prefills.clear();
    shape.decode_contexts.clear();
    shape.sampled = 0;
    for (const auto& [s, k] : scheduled) {
      const Seq& q = seqs[s];
      const bool samples = q.computed + k == q.Tokens();
      if (k == 1 && samples && q.computed > 0 && q.generated > 0) {
        shape.decode_contexts.push_back(q.computed + 1);
      } else {
        shape.prefills.push_back({k, q.computed});
      }
      shape.sampled += samples ? 1 : 0;
    }
    const TimeNs dur = cost(shape);
    if (dur <= 0)
      throw InputError("serving: iteration cost must be positive, found " + std::to_string(dur) +
                       " ns");
    const TimeNs end = now + dur;
    if (record_iterations) {
      IterationRecord rec{now, dur, 0, static_cast<int64_t>(shape.prefills.size()),
                          static_cast<int64_t>(shape.decode_contexts.size())};
      for (const PrefillChunk& p : shape.prefills) rec.prefill_tokens += p.tokens;
      run.iterations.push_back(rec);
    }
    run.iteration_count++;
    bool finished_any = false;
    for (const auto& [s, k] : scheduled) {
      Seq& q = seqs[s];
      q.computed += k;
      if (q.computed != q.Tokens()) continue;
      q.generated++;
      if (run.requests[s].first_token_ns < 0) run.requests[s].first_token_ns = end;
      if (q.generated == q.output) {
        run.requests[s].finish_ns = end;
        free_blocks += q.blocks;
        q.blocks = 0;
        q.computed = -1;  // marks it finished for the sweep below
        finished_any = true;
        ++done;
      }
    }
    if (finished_any) {
      running.erase(std::remove_if(running.begin(), running.end(),
                                   [&](int64_t s) { return seqs[s].computed < 0; }),
                    running.end());
    }
    now = end;
  }
  run.makespan_ns = now;
  return run;
}

ServingMetrics ComputeServingMetrics(const ServingRun& run, const ServingSlo& slo) {
  ServingMetrics m;
  m.requests = static_cast<int64_t>(run.requests.size());
  m.iterations = run.iteration_count;
  m.preemptions = run.preemptions;
  m.makespan_ns = run.makespan_ns;
  std::vector<TimeNs> ttft, tpot, e2e;
  for (const RequestOutcome& r : run.requests) {
    m.generated_tokens += r.output_tokens;
    const TimeNs first = r.first_token_ns - r.arrival_ns;
    ttft.push_back(first);
    e2e.push_back(r.finish_ns - r.arrival_ns);
    bool good = slo.ttft_ns <= 0 || first <= slo.ttft_ns;
    if (r.output_tokens >= 2) {
      const TimeNs t = (r.finish_ns - r.first_token_ns) / (r.output_tokens - 1);
      tpot.push_back(t);
      good = good && (slo.tpot_ns <= 0 || t <= slo.tpot_ns);
    }
    m.good += good ? 1 : 0;
  }
  m.tpot_requests = static_cast<int64_t>(tpot.size());
  auto pct = [](std::vector<TimeNs>& v) {
    std::sort(v.begin(), v.end());
    return Percentiles{NearestRankPercentile(v, 0.50), NearestRankPercentile(v, 0.90),
                       NearestRankPercentile(v, 0.99)};
  };
  m.ttft = pct(ttft);
  m.tpot = pct(tpot);
  m.e2e = pct(e2e);
  if (m.requests > 0) m.good_share = static_cast<double>(m.good) / static_cast<double>(m.requests);
  if (m.makespan_ns > 0) {
    const double s = static_cast<double>(m.makespan_ns) * 1e-9;
    m.tokens_per_s = static_cast<double>(m.generated_tokens) / s;
    m.goodput_rps = static_cast<double>(m.good) / s;
  }
  return m;
}

std::string ServingTimelineJsonText(const ServingRun& run, const std::string& tenant) {
  std::string out;
  out.reserve(run.iterations.size() * 150 + 512);
  out += "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"cotenant " COTENANT_VERSION
         "\",\"model\":\"llm-serving\"},\"traceEvents\":[\n";
  out += "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":" +
         nlohmann::json("tenant " + tenant).dump() + "}},\n";
  out +=
      "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":1,\"args\":{\"name\":"
      "\"prefill\"}},\n";
  out +=
      "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":2,\"args\":{\"name\":"
      "\"decode\"}}";
  char buf[320];
  for (const IterationRecord& it : run.iterations) {
    for (int tid = 1; tid <= 2; ++tid) {
      const bool on = tid == 1 ? it.prefill_seqs > 0 : it.decode_seqs > 0;
      if (!on) continue;
      std::snprintf(buf, sizeof(buf),
                    ",\n{\"name\":\"%s\",\"cat\":\"iteration\",\"ph\":\"X\",\"pid\":1,"
                    "\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"prefill_tokens\":%" PRId64
                    ",\"prefill_chunks\":%" PRId64 ",\"decodes\":%" PRId64 "}}",
                    tid == 1 ? "prefill" : "decode", tid, NsToUs(it.start_ns), NsToUs(it.dur_ns),
                    it.prefill_tokens, it.prefill_seqs, it.decode_seqs);
      out += buf;
    }
  }
  out += "\n]}\n";
  return out;
}

}  // namespace cotenant
