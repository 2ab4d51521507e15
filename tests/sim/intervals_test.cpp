// The interval union, on hand-made intervals.
#include "sim/intervals.h"

#include <catch2/catch.hpp>

namespace cotenant {
namespace {

TEST_CASE("interval union", "[intervals]") {
  CHECK(UnionLengthNs({}) == 0);
  CHECK(UnionLengthNs({{3, 3}}) == 0);
  CHECK(UnionLengthNs({{0, 10}, {2, 5}}) == 10);  // nested
  // [0,4) from two overlapping; [5,12) from three, touching at 10; [20,20) empty.
  CHECK(UnionLengthNs({{5, 10}, {0, 3}, {2, 4}, {10, 12}, {7, 8}, {20, 20}}) == 11);
}

}  // namespace
}  // namespace cotenant
