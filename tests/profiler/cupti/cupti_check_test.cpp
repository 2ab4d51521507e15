// COTENANT_CUPTI_CALL: failures are recorded (once per line, counted) and
// never abort; listed results are not failures.
#include "profiler/cupti/cupti_check.h"

#include <catch2/catch.hpp>

namespace cotenant::profiler::cupti {
namespace {

/// A CUPTI call that fails without a GPU: no buffer to read.
CUptiResult FailingCall() {
  CUpti_Activity* record = nullptr;
  return COTENANT_CUPTI_CALL(cuptiActivityGetNextRecord(nullptr, 0, &record));
}

TEST_CASE("a failing CUPTI call is recorded and marks the capture incomplete", "[cupti]") {
  Problems().Clear();
  REQUIRE(Problems().complete());
  CHECK(FailingCall() == CUPTI_ERROR_INVALID_PARAMETER);
  CHECK_FALSE(Problems().complete());
  REQUIRE(Problems().Lines().size() == 1);
  CHECK(Problems().Lines()[0] ==
        "cuptiActivityGetNextRecord(nullptr, 0, &record) failed: CUPTI_ERROR_INVALID_PARAMETER");
  // The same call site again: counted, not repeated.
  FailingCall();
  FailingCall();
  REQUIRE(Problems().Lines().size() == 1);
  CHECK(Problems().Lines()[0] ==
        "cuptiActivityGetNextRecord(nullptr, 0, &record) failed: CUPTI_ERROR_INVALID_PARAMETER "
        "(3 times)");
  Problems().Clear();
}

TEST_CASE("results listed at the call site are not failures", "[cupti]") {
  Problems().Clear();
  CUpti_Activity* record = nullptr;
  uint8_t buffer[8] = {0};
  const CUptiResult r =
      COTENANT_CUPTI_CALL(cuptiActivityGetNextRecord(buffer, 0, &record),
                          CUPTI_ERROR_MAX_LIMIT_REACHED, CUPTI_ERROR_INVALID_PARAMETER);
  CHECK(r != CUPTI_SUCCESS);
  CHECK(Problems().complete());
  uint32_t version = 0;
  CHECK(COTENANT_CUPTI_CALL(cuptiGetVersion(&version)) == CUPTI_SUCCESS);
  CHECK(version > 0);
  CHECK(Problems().complete());
}

TEST_CASE("result names come from cuptiGetResultString", "[cupti]") {
  CHECK(CuptiResultName(CUPTI_SUCCESS) == "CUPTI_SUCCESS");
  CHECK(CuptiResultName(CUPTI_ERROR_NOT_INITIALIZED) == "CUPTI_ERROR_NOT_INITIALIZED");
}

}  // namespace
}  // namespace cotenant::profiler::cupti
