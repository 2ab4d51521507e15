// Walking a whole plan space in tests: shared by the search test files.
#pragma once

#include <cstdint>

#include "search/space.h"
#include "search/strategy.h"

namespace cotenant::search {

/// Canonical feasible candidates, by walking the whole raw space.
inline uint64_t EnumerateCanonical(const PlanSpace& space) {
  Candidate c(space.dims().size(), 0);
  uint64_t n = 0;
  do {
    if (space.Feasible(c) && space.IsCanonical(c)) ++n;
  } while (NextCandidate(space, c));
  return n;
}

}  // namespace cotenant::search
