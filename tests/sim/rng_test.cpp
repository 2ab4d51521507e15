// The one RNG (splitmix64, xoshiro256**), pinned to the draws of the copies
// it replaced (sim/workload.cpp, sim/synth.cpp, search/rng.h), so seeded
// arrivals, synthetic traces and searches do not move.
#include "sim/rng.h"

#include <catch2/catch.hpp>

namespace cotenant {
namespace {

TEST_CASE("the one RNG draws what the generators it replaced drew", "[rng]") {
  // Values from the old sim/workload.cpp SplitMix64 and search/rng.h.
  uint64_t state = 0;
  CHECK(SplitMix64Next(state) == 0xE220A8397B1DCDAFULL);
  CHECK(SplitMix64Next(state) == 0x6E789E6AA1B965F4ULL);
  SplitMix64 sm(1);
  CHECK(sm.Next() == 0x910A2DEC89025CC1ULL);
  SplitMix64 sm0(0);
  CHECK(sm0.Unit() == static_cast<double>(0xE220A8397B1DCDAFULL >> 11) * 0x1.0p-53);
  Rng rng(7);
  CHECK(rng.Next() == 0xB358FAF74EF9765AULL);
  CHECK(rng.Next() == 0x475C3D964F482CD2ULL);
  CHECK(rng.Next() == 0xD6F1D349952C7996ULL);
  CHECK(rng.Below(10) == 4);
  CHECK(rng.Uniform() == 0.99086027883306826);
}

}  // namespace
}  // namespace cotenant
