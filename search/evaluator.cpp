#include "search/evaluator.h"

#include <algorithm>
#include <limits>

#include "sim/error.h"

namespace cotenant::search {

size_t Evaluator::Hash::operator()(const Candidate& c) const {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a over the indices
  for (int32_t x : c) {
    h ^= static_cast<uint32_t>(x);
    h *= 0x100000001b3ULL;
  }
  return static_cast<size_t>(h ^ (h >> 32));
}

Evaluator::Evaluator(const PlanSpace& space, const EvalOptions& options)
    : space_(space),
      lw_(space.workload()),
      options_(options),
      pool_(std::max(1, options.threads)),
      clock_(options.clock != nullptr ? *options.clock : SteadyClock()),
      start_(clock_.Seconds()) {
  for (int w = 0; w < pool_.size(); ++w) {
    caches_.push_back(std::make_unique<TemplateCache>());
    workspaces_.push_back(std::make_unique<SimWorkspace>());
  }
}

bool Evaluator::Better(const Score& a, const Candidate& ca, const Score& b, const Candidate& cb) {
  if (a < b) return true;
  if (b < a) return false;
  return ca < cb;
}

double Evaluator::Seconds() const { return clock_.Seconds() - start_; }

int64_t Evaluator::remaining() const {
  if (options_.max_evaluations <= 0) return std::numeric_limits<int64_t>::max();
  return std::max<int64_t>(0, options_.max_evaluations - evaluations_);
}

double Evaluator::Progress() const {
  double p = 0.0;
  if (options_.max_evaluations > 0)
    p = static_cast<double>(evaluations_) / static_cast<double>(options_.max_evaluations);
  if (options_.max_seconds > 0.0) p = std::max(p, Seconds() / options_.max_seconds);
  return std::min(1.0, p);
}

StopReason Evaluator::Stop() const {
  if (options_.max_evaluations > 0 && evaluations_ >= options_.max_evaluations)
    return StopReason::kEvaluations;
  if (options_.max_seconds > 0.0 && Seconds() >= options_.max_seconds) return StopReason::kDeadline;
  if (stop_at_ < 1.0 && Progress() >= stop_at_) return StopReason::kShare;
  if (space_covered_ >= 0 && static_cast<uint64_t>(space_covered_) >= space_.Size())
    return StopReason::kCovered;
  if (stale_ >= options_.max_stale_proposals) return StopReason::kStale;
  if (options_.target_value && has_best_ && best_score_.value <= *options_.target_value)
    return StopReason::kTarget;
  return StopReason::kNone;
}

const Outcome* Evaluator::Lookup(const Candidate& canonical) const {
  const auto it = cache_.find(canonical);
  return it == cache_.end() ? nullptr : &it->second;
}

void Evaluator::Offer(const Candidate& c, const Score& s) {
  if (has_best_ && !Better(s, c, best_score_, best_)) return;
  // The curve records improvements of the score; a tie won on candidate
  // order changes the best plan silently.
  const bool improved = !has_best_ || s < best_score_;
  has_best_ = true;
  best_ = c;
  best_score_ = s;
  best_by_ = strategy_;
  if (improved) curve_.push_back(CurvePoint{evaluations_, Seconds(), s, strategy_});
}

void Evaluator::Seed(const Candidate& c, const Score& score) {
  const Candidate canonical = space_.Canonical(c);
  if (cache_.count(canonical) == 0) {
    Outcome o;
    o.candidate = canonical;
    o.status = Status::kCached;
    o.ok = true;
    o.score = score;
    cache_.emplace(canonical, o);
    ++space_covered_;
  }
  const std::string saved = strategy_;
  strategy_ = "baseline";
  Offer(canonical, score);
  strategy_ = saved;
}

SimResult Evaluator::Run(const Plan& plan, bool record_timeline) {
  SimOptions o;
  o.model = options_.model;
  o.record_timeline = record_timeline;
  o.templates = caches_[0].get();
  o.workspace = workspaces_[0].get();
  return Simulate(lw_, plan, o);
}

std::vector<Outcome> Evaluator::Evaluate(const std::vector<Candidate>& batch) {
  std::vector<Outcome> out(batch.size());
  // Decide, in proposal order, what each candidate needs.
  std::vector<size_t> todo;                                    // indices into `out` to simulate
  std::unordered_map<Candidate, size_t, Hash> first_in_batch;  // canonical -> index in out
  int64_t allowed = remaining();
  if (options_.max_seconds > 0.0 && Seconds() >= options_.max_seconds) allowed = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    Outcome& o = out[i];
    COTENANT_CHECK(batch[i].size() == space_.dims().size());
    o.candidate = space_.Canonical(batch[i]);
    if (!space_.Feasible(o.candidate)) {
      o.status = Status::kInfeasible;
      continue;
    }
    if (Lookup(o.candidate) != nullptr) {
      o.status = Status::kCached;
      continue;
    }
    const auto [it, fresh] = first_in_batch.emplace(o.candidate, i);
    if (!fresh) {
      o.status = Status::kCached;  // filled from its first occurrence below
      continue;
    }
    if (static_cast<int64_t>(todo.size()) >= allowed) {
      o.status = Status::kSkipped;
      first_in_batch.erase(it);
      continue;
    }
    o.status = Status::kEvaluated;
    todo.push_back(i);
  }

  // Simulate in parallel; each worker has its own template cache.
  const Workload& w = lw_.workload;
  const double deadline = options_.max_seconds;
  pool_.ParallelFor(static_cast<int64_t>(todo.size()), [&](int64_t k, int worker) {
    Outcome& o = out[todo[static_cast<size_t>(k)]];
    if (deadline > 0.0 && Seconds() >= deadline) {
      o.status = Status::kSkipped;  // out of time: left for no one
      return;
    }
    const std::optional<Plan> plan = space_.ToPlan(o.candidate);
    SimOptions so;
    so.model = options_.model;
    so.score_only = true;  // (ScoreOf reads no lower bound, no phase times)
    so.templates = caches_[static_cast<size_t>(worker)].get();
    so.workspace = workspaces_[static_cast<size_t>(worker)].get();
    try {
      const SimResult r = Simulate(lw_, *plan, so);
      o.score = ScoreOf(r, w);
      o.ok = true;
    } catch (const InputError& e) {
      o.error = e.what();
    }
  });

  // Consume in proposal order: cache, counters, best-so-far and curve.
  for (size_t i = 0; i < out.size(); ++i) {
    Outcome& o = out[i];
    switch (o.status) {
      case Status::kInfeasible:
        ++infeasible_;
        ++stale_;
        break;
      case Status::kSkipped:
        break;
      case Status::kCached: {
        const Outcome* cached = Lookup(o.candidate);
        if (cached == nullptr) {  // a repeat within this batch of a skipped candidate
          o.status = Status::kSkipped;
          break;
        }
        o.ok = cached->ok;
        o.score = cached->score;
        o.error = cached->error;
        ++cache_hits_;
        ++stale_;
        break;
      }
      case Status::kEvaluated: {
        ++evaluations_;
        stale_ = 0;
        if (!o.ok) {
          if (failed_++ == 0) first_error_ = o.error;
          CountRefusal(o.error, &refused_);
        }
        Outcome stored = o;
        stored.status = Status::kCached;
        cache_.emplace(o.candidate, std::move(stored));
        ++space_covered_;
        if (o.ok) Offer(o.candidate, o.score);
        break;
      }
    }
  }
  if (on_batch_) on_batch_();
  return out;
}

}  // namespace cotenant::search
