#include "sim/serving.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <deque>
#include <numeric>
#include <string>
#include <utility>

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

/// (request, tokens computed) of one iteration, in scheduling order.
using Scheduled = std::vector<std::pair<int64_t, int64_t>>;

/// What one iteration did to a request (see Loop::Advance).
enum class Step { kChunk, kSampled, kFinished };

/// The requests, the KV cache and the run being filled: the state both RunServing and
/// RunServingMux keep, with the rules they share.
class Loop {
 public:
  /// Checks the config and the requests (throws InputError as RunServing says).
  Loop(const std::vector<LlmRequest>& requests, const ServingConfig& config, bool record)
      : requests_(requests), config_(config), record_(record) {
    CheckConfig(config);
    const int64_t n = static_cast<int64_t>(requests.size());
    const int64_t bt = config.block_tokens;
    free_blocks_ = config.kv_capacity_tokens / bt;
    run_.requests.resize(requests.size());
    seqs_.resize(requests.size());
    for (int64_t i = 0; i < n; ++i) {
      const LlmRequest& r = requests[i];
      const std::string at = "request " + std::to_string(i) + ": ";
      if (r.arrival_ns < 0 || r.prompt_tokens < 1 || r.output_tokens < 1)
        throw InputError(at + "expected arrival >= 0, prompt and output tokens >= 1");
      // The last token's K and V are never written: at most prompt + output - 1 are cached.
      const int64_t peak = r.prompt_tokens + r.output_tokens - 1;
      if (DivUp(peak, bt) > free_blocks_) {
        throw InputError(at + "prompt_tokens + output_tokens - 1 = " + std::to_string(peak) +
                         " tokens need " + std::to_string(DivUp(peak, bt)) + " KV blocks of " +
                         std::to_string(bt) + " tokens; the KV cache holds " +
                         std::to_string(free_blocks_) + " (" +
                         std::to_string(config.kv_capacity_tokens) + " tokens)");
      }
      if (!config.chunked_prefill && peak > config.max_num_batched_tokens) {
        throw InputError(at + "prompt_tokens + output_tokens - 1 = " + std::to_string(peak) +
                         " exceeds max_num_batched_tokens " +
                         std::to_string(config.max_num_batched_tokens) +
                         " (without chunked prefill a prompt, or a recomputation, is one prefill)");
      }
      seqs_[i].prompt = r.prompt_tokens;
      seqs_[i].output = r.output_tokens;
      run_.requests[i] = {r.id, r.arrival_ns, -1, -1, r.output_tokens, 0};
    }
    order_.resize(requests.size());
    std::iota(order_.begin(), order_.end(), 0);
    std::stable_sort(order_.begin(), order_.end(), [&](int64_t a, int64_t b) {
      if (requests[a].arrival_ns != requests[b].arrival_ns)
        return requests[a].arrival_ns < requests[b].arrival_ns;
      return requests[a].id < requests[b].id;
    });
  }

  bool AllDone() const { return done_ == static_cast<int64_t>(seqs_.size()); }
  /// Arrival of the next request not yet moved to the waiting queue; -1 when none is left.
  TimeNs NextArrival() const {
    return next_ < order_.size() ? requests_[order_[next_]].arrival_ns : -1;
  }
  /// Moves the requests arriving by `now` to the back of the waiting queue.
  void Arrive(TimeNs now) {
    while (next_ < order_.size() && requests_[order_[next_]].arrival_ns <= now)
      waiting_.push_back(order_[next_++]);
  }
  std::deque<int64_t>& waiting() { return waiting_; }
  const Seq& seq(int64_t s) const { return seqs_[s]; }

  /// Schedules `k` tokens of `s` if the free blocks cover its cached tokens after them;
  /// false (nothing changed) otherwise.
  bool TryAllocate(int64_t s, int64_t k, Scheduled& scheduled) {
    const int64_t need = DivUp(seqs_[s].computed + k, config_.block_tokens) - seqs_[s].blocks;
    if (need > free_blocks_) return false;
    free_blocks_ -= need;
    seqs_[s].blocks += need;
    scheduled.emplace_back(s, k);
    return true;
  }

  /// Sequences of `list` in order, at most `max_count` of them, each its remaining tokens
  /// up to `budget`; when blocks run out, the last of `list` is preempted (recompute: to
  /// the front of the waiting queue) until they fit, possibly the one being scheduled,
  /// which ends the scheduling. Returns whether anything was preempted.
  bool SchedulePreempting(std::vector<int64_t>& list, int64_t& budget, int64_t max_count,
                          Scheduled& scheduled) {
    bool preempted = false;
    for (size_t i = 0; i < list.size() && budget > 0 && static_cast<int64_t>(i) < max_count;) {
      const int64_t s = list[i];
      const int64_t k = std::min(seqs_[s].Tokens() - seqs_[s].computed, budget);
      COTENANT_CHECK(k >= 1);
      bool self = false;
      while (!TryAllocate(s, k, scheduled)) {
        const int64_t victim = list.back();
        list.pop_back();
        free_blocks_ += seqs_[victim].blocks;
        seqs_[victim].blocks = 0;
        seqs_[victim].computed = 0;
        run_.requests[victim].preemptions++;
        run_.preemptions++;
        waiting_.push_front(victim);
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
  }

  /// Waiting requests first come, first served while the budget, `room` more sequences and
  /// the free blocks allow, appended to `admitted`; a chunk of their tokens with chunked
  /// prefill, else the whole.
  void AdmitWaiting(int64_t& budget, int64_t room, std::vector<int64_t>& admitted,
                    Scheduled& scheduled) {
    while (!waiting_.empty() && budget > 0 && room > 0) {
      const int64_t s = waiting_.front();
      const int64_t all = seqs_[s].Tokens();
      if (!config_.chunked_prefill && all > budget) break;
      const int64_t k = std::min(all, budget);
      if (!TryAllocate(s, k, scheduled)) break;
      waiting_.pop_front();
      admitted.push_back(s);
      budget -= k;
      --room;
    }
  }

  /// The shape of `scheduled`: for kMixed a chunk of one token that ends the recomputation
  /// of a request that has generated tokens is a decode, as the forward pass sees it; a
  /// kPrefill iteration has only chunks, a kDecode one only decodes.
  IterationShape Shape(const Scheduled& scheduled, ServingLoop phase) const {
    IterationShape shape;
    for (const auto& [s, k] : scheduled) {
      const Seq& q = seqs_[s];
      const bool samples = q.computed + k == q.Tokens();
      const bool decode =
          phase == ServingLoop::kDecode ||
          (phase == ServingLoop::kMixed && k == 1 && samples && q.computed > 0 && q.generated > 0);
      if (decode) {
        COTENANT_CHECK(k == 1 && samples);
        shape.decode_contexts.push_back(q.computed + 1);
      } else {
        shape.prefills.push_back({k, q.computed});
      }
      shape.sampled += samples ? 1 : 0;
    }
    return shape;
  }

  /// Prices `shape` starting at `start_ns`, records it; returns its end.
  TimeNs Price(const IterationCostFn& cost, const IterationShape& shape, TimeNs start_ns,
               ServingLoop phase) {
    const TimeNs dur = cost(shape, start_ns);
    if (dur <= 0)
      throw InputError("serving: iteration cost must be positive, found " + std::to_string(dur) +
                       " ns");
    if (record_) {
      IterationRecord rec{start_ns,
                          dur,
                          0,
                          static_cast<int64_t>(shape.prefills.size()),
                          static_cast<int64_t>(shape.decode_contexts.size()),
                          phase};
      for (const PrefillChunk& p : shape.prefills) rec.prefill_tokens += p.tokens;
      run_.iterations.push_back(rec);
    }
    run_.iteration_count++;
    run_.busy_ns += dur;
    run_.makespan_ns = std::max(run_.makespan_ns, start_ns + dur);
    return start_ns + dur;
  }

  /// `k` more tokens of `s` are cached at `end_ns`; when they are all its tokens it samples
  /// one (its first token, if it had none), and with all its output it finishes and frees
  /// its blocks.
  Step Advance(int64_t s, int64_t k, TimeNs end_ns) {
    Seq& q = seqs_[s];
    q.computed += k;
    if (q.computed != q.Tokens()) return Step::kChunk;
    q.generated++;
    RequestOutcome& out = run_.requests[s];
    if (out.first_token_ns < 0) out.first_token_ns = end_ns;
    if (q.generated < q.output) return Step::kSampled;
    out.finish_ns = end_ns;
    free_blocks_ += q.blocks;
    q.blocks = 0;
    ++done_;
    return Step::kFinished;
  }

  ServingRun Take() { return std::move(run_); }

 private:
  const std::vector<LlmRequest>& requests_;
  const ServingConfig& config_;
  const bool record_;
  ServingRun run_;
  std::vector<Seq> seqs_;
  std::vector<int64_t> order_;  // by arrival, then id
  size_t next_ = 0;             // order_[next_] is the next to arrive
  std::deque<int64_t> waiting_;
  int64_t free_blocks_ = 0, done_ = 0;
};

/// Removes from `list` the requests `finished` marks.
void RemoveMarked(std::vector<int64_t>& list, const std::vector<char>& finished) {
  list.erase(std::remove_if(list.begin(), list.end(), [&](int64_t s) { return finished[s]; }),
             list.end());
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
  Loop loop(requests, config, record_iterations);
  std::vector<int64_t> running;  // admission order: the last is preempted first
  std::vector<char> finished(requests.size(), 0);
  Scheduled scheduled;
  TimeNs now = 0;
  while (!loop.AllDone()) {
    loop.Arrive(now);
    if (running.empty() && loop.waiting().empty()) {
      now = std::max(now, loop.NextArrival());
      continue;
    }
    scheduled.clear();
    int64_t budget = config.max_num_batched_tokens;
    const int64_t room = config.max_num_seqs - static_cast<int64_t>(running.size());
    if (config.chunked_prefill) {
      // Admits only when nothing was preempted, so `running` (and `room`) did not change.
      if (!loop.SchedulePreempting(running, budget, INT64_MAX, scheduled))
        loop.AdmitWaiting(budget, room, running, scheduled);
    } else {
      loop.AdmitWaiting(budget, room, running, scheduled);
      if (scheduled.empty()) loop.SchedulePreempting(running, budget, INT64_MAX, scheduled);
    }
    COTENANT_CHECK_MSG(!scheduled.empty(), "serving loop scheduled nothing");
    const TimeNs end =
        loop.Price(cost, loop.Shape(scheduled, ServingLoop::kMixed), now, ServingLoop::kMixed);
    bool finished_any = false;
    for (const auto& [s, k] : scheduled) {
      if (loop.Advance(s, k, end) == Step::kFinished) finished[s] = finished_any = true;
    }
    if (finished_any) RemoveMarked(running, finished);
    now = end;
  }
  return loop.Take();
}

ServingRun RunServingMux(const std::vector<LlmRequest>& requests, const ServingConfig& config,
                         const IterationCostFn& prefill_cost, const IterationCostFn& decode_cost,
                         bool record_iterations) {
  Loop loop(requests, config, record_iterations);
  constexpr TimeNs kIdle = -1;
  std::vector<int64_t> prefilling;  // chunked prefills started, not finished; admission order
  std::vector<int64_t> decoding;    // join order: the last is preempted first
  std::vector<char> finished(requests.size(), 0);
  Scheduled prefill_batch, decode_batch;  // of the running iterations
  TimeNs prefill_end = kIdle, decode_end = kIdle;
  TimeNs now = 0;
  while (!loop.AllDone()) {
    // (a) (b): iterations ending now, prefill loop first.
    if (prefill_end == now) {
      prefilling.clear();
      for (const auto& [s, k] : prefill_batch) {
        const Step step = loop.Advance(s, k, now);
        if (step == Step::kChunk) prefilling.push_back(s);
        if (step == Step::kSampled) decoding.push_back(s);
      }
      prefill_end = kIdle;
    }
    if (decode_end == now) {
      bool finished_any = false;
      for (const auto& [s, k] : decode_batch) {
        if (loop.Advance(s, k, now) == Step::kFinished) finished[s] = finished_any = true;
      }
      if (finished_any) RemoveMarked(decoding, finished);
      decode_end = kIdle;
    }
    // (c) arrivals, (d) the decode loop, (e) the prefill loop.
    loop.Arrive(now);
    bool decode_starts = false, prefill_starts = false;
    if (decode_end == kIdle && !decoding.empty()) {
      decode_batch.clear();
      int64_t no_budget = INT64_MAX;
      loop.SchedulePreempting(decoding, no_budget, config.max_num_seqs, decode_batch);
      decode_starts = !decode_batch.empty();
    }
    if (prefill_end == kIdle && (!prefilling.empty() || !loop.waiting().empty())) {
      prefill_batch.clear();
      int64_t budget = config.max_num_batched_tokens;
      bool blocked = false;
      // At most one: only the last chunk of an iteration can leave a prompt unfinished, and
      // the next iteration continues it first.
      COTENANT_CHECK(prefilling.size() <= 1);
      for (int64_t s : prefilling) {
        const int64_t k = std::min(loop.seq(s).Tokens() - loop.seq(s).computed, budget);
        COTENANT_CHECK(k >= 1);
        if (!loop.TryAllocate(s, k, prefill_batch)) {
          blocked = true;
          break;
        }
        budget -= k;
      }
      if (!blocked) {
        std::vector<int64_t> admitted;
        loop.AdmitWaiting(budget, config.max_num_seqs - static_cast<int64_t>(prefill_batch.size()),
                          admitted, prefill_batch);
      }
      prefill_starts = !prefill_batch.empty();
    }
    // (f) the callbacks, prefill first.
    if (prefill_starts) {
      prefill_end = loop.Price(prefill_cost, loop.Shape(prefill_batch, ServingLoop::kPrefill), now,
                               ServingLoop::kPrefill);
    }
    if (decode_starts) {
      decode_end = loop.Price(decode_cost, loop.Shape(decode_batch, ServingLoop::kDecode), now,
                              ServingLoop::kDecode);
    }
    if (loop.AllDone()) break;
    // The next event: an end or an arrival.
    TimeNs next = loop.NextArrival();
    for (TimeNs e : {prefill_end, decode_end})
      if (e != kIdle && (next < 0 || e < next)) next = e;
    COTENANT_CHECK_MSG(next > now, "multiplexed serving loop stalled");
    now = next;
  }
  return loop.Take();
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
      // A mixed iteration is on the tracks of what it runs, a multiplexed one on its loop's.
      const bool on = it.phase == ServingLoop::kMixed
                          ? (tid == 1 ? it.prefill_seqs > 0 : it.decode_seqs > 0)
                          : it.phase == (tid == 1 ? ServingLoop::kPrefill : ServingLoop::kDecode);
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
