#include "search/knob.h"

#include <iterator>

namespace cotenant::search {
namespace {

const char* const kKnobNames[kKnobCount] = {"groups", "priority",    "sm",     "split",   "stages",
                                            "offset", "connections", "budget", "chunked", "pd"};

}  // namespace

const char* KnobName(Knob k) { return kKnobNames[static_cast<int>(k)]; }

std::vector<std::string> KnobNames() { return {std::begin(kKnobNames), std::end(kKnobNames)}; }

}  // namespace cotenant::search
