// The table of cotenant subcommands. Each lives in its own cmd_<name>.cpp;
// main() only dispatches.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

namespace cotenant::cli {

/// Runs a parsed subcommand; returns the process exit status.
using RunFn = std::function<int()>;

/// Declares a subcommand's options on `sub` and returns the function that runs
/// it once the command line has been parsed.
using AddFn = RunFn (*)(CLI::App* sub);

struct Command {
  const char* name;
  const char* summary;
  AddFn add;
};

RunFn AddProfile(CLI::App* sub);
RunFn AddImport(CLI::App* sub);
RunFn AddInspect(CLI::App* sub);
RunFn AddSimulate(CLI::App* sub);
RunFn AddWhatif(CLI::App* sub);
RunFn AddSynth(CLI::App* sub);
RunFn AddSearch(CLI::App* sub);
RunFn AddReplay(CLI::App* sub);
RunFn AddValidate(CLI::App* sub);
RunFn AddCalibrate(CLI::App* sub);
RunFn AddFleet(CLI::App* sub);

/// Every subcommand, in the order `cotenant --help` lists them.
const std::vector<Command>& Commands();

}  // namespace cotenant::cli
