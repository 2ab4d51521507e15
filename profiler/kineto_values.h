// Field values of Kineto Chrome-trace events: microsecond times as exact
// nanoseconds, integer ids written as numbers or text, memcpy directions,
// values quoted for messages (internal to the Kineto importer).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "sim/trace.h"
#include "sim/units.h"

namespace cotenant::profiler::kineto {

/// A value for "found X" in messages: strings quoted (cut to 40 characters),
/// other values as DescribeJson() gives them.
std::string Found(const nlohmann::json& v);

/// An integer written as digits with an optional '-' ("7", "-1"); nullopt
/// otherwise or when out of range.
std::optional<int64_t> IntFromText(const std::string& s);

/// A process or thread id: an integer, a string of digits, or "stream N"
/// (legacy GPU tracks).
std::optional<int64_t> IdOf(const nlohmann::json& v);

/// The text of a pid or tid, as a key for joining flows to their events.
std::string KeyText(const nlohmann::json& v);

/// The memcpy direction in a Kineto memcpy name: "Memcpy HtoD (Pageable ->
/// Device)", "Memcpy DtoH (Device -> Pinned)", "Memcpy PtoP (...)";
/// CopyDir::kNone when it names none.
CopyDir DirOfMemcpy(const std::string& name);

/// Why UsTextToNs failed, or kOk.
enum class UsParse : uint8_t { kOk, kNotNumber, kOverflow };

/// Microseconds as written (a decimal number) to ns, exactly from the
/// digits, rounded to the nearest ns (halves away from zero), into `out`.
UsParse ParseUs(const std::string& text, TimeNs* out);

}  // namespace cotenant::profiler::kineto
