// Helpers shared by the libFuzzer targets: the fuzzed bytes as a file (the
// readers are fuzzed through the same path-taking entry points the CLI
// calls), and the one rule every reader target checks: a reader returns a
// valid object or throws cotenant::InputError whose message names the file;
// any other exception is a finding (printed, then abort()).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <typeinfo>

#include "sim/error.h"
#include "sim/simulate.h"

namespace cotenant::fuzz {

/// Prints "fuzz: finding: WHAT" and aborts (libFuzzer saves the input).
[[noreturn]] inline void Finding(const std::string& what) {
  std::fprintf(stderr, "fuzz: finding: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

/// A scratch folder of this process (fuzzers may run as several jobs), on
/// /dev/shm where there is one; removed at exit.
inline const std::string& ScratchDir() {
  static const std::string dir = [] {
    namespace fs = std::filesystem;
    const fs::path base =
        fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    const fs::path d = base / ("cotenant-fuzz." + std::to_string(getpid()));
    fs::create_directories(d);
    static struct Remover {
      fs::path p;
      ~Remover() {
        std::error_code ec;
        fs::remove_all(p, ec);
      }
    } remover{d};
    return d.string();
  }();
  return dir;
}

/// Writes `size` bytes to ScratchDir()/name and returns the path.
inline std::string WriteScratch(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = ScratchDir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) Finding("cannot write " + path);
  return path;
}

inline std::string WriteScratch(const std::string& name, const std::string& text) {
  return WriteScratch(name, reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

/// Checks an InputError's message: non-empty, starting with `file` (every
/// reader message is `file: field: ...` or `file:LINE:COL: ...`).
inline void CheckMessage(const InputError& e, const std::string& file) {
  const std::string m = e.what();
  if (m.empty()) Finding("InputError with an empty message");
  if (!file.empty() && m.rfind(file, 0) != 0) {
    Finding("InputError message does not name the file \"" + file + "\": " + m);
  }
}

/// Runs `read`: nullopt when it returned, the message (after `file`) on an
/// InputError whose message names `file`. Any other exception is a finding.
template <typename F>
std::optional<std::string> ErrorOf(const std::string& file, F&& read) {
  try {
    read();
    return std::nullopt;
  } catch (const InputError& e) {
    CheckMessage(e, file);
    return std::string(e.what()).substr(file.size());
  } catch (const std::exception& e) {
    Finding(std::string("unexpected exception ") + typeid(e).name() +
            " (not InputError): " + e.what());
  } catch (...) {
    Finding("unexpected non-std exception");
  }
}

/// ErrorOf() == nullopt: true when `read` returned, false on an InputError.
template <typename F>
bool Reads(const std::string& file, F&& read) {
  return !ErrorOf(file, read).has_value();
}

/// Like Reads, for a step that must not fail on what the reader accepted
/// (writing, re-reading): any exception, InputError included, is a finding.
template <typename F>
void MustWork(const char* step, F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    Finding(std::string(step) + " threw " + typeid(e).name() + ": " + e.what());
  } catch (...) {
    Finding(std::string(step) + " threw a non-std exception");
  }
}

/// Compares two serialisations of one object (a round trip).
inline void SameText(const char* what, const std::string& first, const std::string& second) {
  if (first == second) return;
  size_t at = 0;
  while (at < first.size() && at < second.size() && first[at] == second[at]) ++at;
  const size_t from = at > 60 ? at - 60 : 0;
  Finding(std::string(what) + ": round trip differs at byte " + std::to_string(at) +
          "\n  first:  ..." + first.substr(from, 160) + "\n  second: ..." +
          second.substr(from, 160));
}

/// Simulates `lw` under `plan` with `model`, timeline recorded, and writes
/// the result and timeline as text: what the simulator fuzzers run. A plan
/// that cannot run (InputError) is not a finding.
inline void SimulateAndWrite(const LoadedWorkload& lw, const Plan& plan, const char* model) {
  SimOptions o;
  o.model = model;
  o.record_timeline = true;
  try {
    const SimResult r = Simulate(lw, plan, o);
    (void)ResultToJson(r).dump();
    (void)TimelineToJsonText(r);
  } catch (const InputError&) {
  }
}

}  // namespace cotenant::fuzz
