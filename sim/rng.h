// The project's one deterministic random generator family: splitmix64 (for
// seeded arrivals and synthetic traces) and xoshiro256** seeded by it (for
// search). Their draws are the same on every platform and standard library,
// unlike std::uniform_int_distribution, so a seed reproduces a run.
#pragma once

#include <cstdint>

namespace cotenant {

/// splitmix64: advances `state` by the golden-ratio increment and returns
/// the mixed value (Steele, Lea, Flood 2014).
inline uint64_t SplitMix64Next(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// A splitmix64 generator: small and fast, for streams of draws whose exact
/// values are pinned by files (seeded arrivals, synthetic traces).
class SplitMix64 {
 public:
  /// `seed` is the initial state; the first draw mixes seed + increment.
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  /// 64 random bits.
  uint64_t Next() { return SplitMix64Next(state_); }

  /// Uniform integer in [lo, hi], lo <= hi, by modulo (its bias is
  /// negligible for the small ranges this is used for).
  int64_t Uniform(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }

  /// Uniform in [0, 1), 53 random bits.
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

/// xoshiro256** seeded by splitmix64: the generator of search.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& s : s_) s = SplitMix64Next(seed);
  }

  /// 64 random bits.
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, n), n >= 1 (rejection sampling: no modulo bias).
  uint64_t Below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
      x = Next();
    } while (x >= limit);
    return x % n;
  }

  /// Uniform in [0, 1), 53 bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  /// A new generator for a sub-task, decorrelated from this one.
  Rng Fork() { return Rng(Next()); }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace cotenant
