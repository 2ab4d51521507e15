// ScaleTrace: host time and gaps stretch by one factor, kernels by another,
// copies stay, orders are kept; bad factors are refused.
#include "sim/trace_scale.h"

#include <catch2/catch.hpp>

#include "sim/error.h"
#include "tests/common/fixtures.h"

namespace cotenant {

using testing::ErrorOf;
using testing::Host;
using testing::Kernel;

TEST_CASE("trace scale: host and GPU sides by their own factors", "[sim][scale]") {
  Trace t;
  t.file = "t.json";
  t.tasks.push_back(Host(1, TaskKind::kLaunch, 1000, 4000, 10));  // starts at t0 = 1000
  Task k = Kernel(2, 7, 8000, 10001, 4);
  k.correlation = 10;
  t.tasks.push_back(k);
  t.tasks.push_back(Host(3, TaskKind::kCpu, 5000, 3, kAbsent));
  Task copy;
  copy.id = 4;
  copy.kind = TaskKind::kMemcpy;
  copy.stream = 7;
  copy.start_ns = 20000;
  copy.dur_ns = 5000;
  copy.dir = CopyDir::kD2H;
  copy.bytes = 100;
  t.tasks.push_back(copy);
  ScaleTrace(&t, 2.5, 1.5);
  // starts: 1000 + ceil((t - 1000) * 2.5)
  CHECK(t.tasks[0].start_ns == 1000);
  CHECK(t.tasks[0].dur_ns == 10000);
  CHECK(t.tasks[1].start_ns == 1000 + 17500);
  CHECK(t.tasks[1].dur_ns == 15002);  // ceil(10001 * 1.5)
  CHECK(t.tasks[2].start_ns == 11000);
  CHECK(t.tasks[2].dur_ns == 8);  // ceil(3 * 2.5)
  CHECK(t.tasks[3].start_ns == 1000 + 47500);
  CHECK(t.tasks[3].dur_ns == 5000);  // copies keep their time
  const Trace before = t;
  ScaleTrace(&t, 1.0, 1.0);
  for (size_t i = 0; i < t.tasks.size(); ++i) {
    CHECK(t.tasks[i].start_ns == before.tasks[i].start_ns);
    CHECK(t.tasks[i].dur_ns == before.tasks[i].dur_ns);
  }
  CHECK(ErrorOf([&] { ScaleTrace(&t, 0.0, 1.0); }) ==
        "t.json: host time scale: expected a factor in (0, 1000], found 0");
  CHECK(ErrorOf([&] { ScaleTrace(&t, 1.0, 2000.0); }) ==
        "t.json: GPU time scale: expected a factor in (0, 1000], found 2000");
}

}  // namespace cotenant
