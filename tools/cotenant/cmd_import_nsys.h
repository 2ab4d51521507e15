// `cotenant import nsys`: the Nsight Systems SQLite import's flags, output
// naming and summary. cmd_import.cpp dispatches to it by format.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace cotenant::cli {

/// The flags only `import nsys` takes.
struct ImportNsysFlags {
  int64_t pid = -1;  ///< --pid P; -1 = not given
};

/// Declares --pid on the import subcommand.
void AddImportNsysFlags(CLI::App* sub, ImportNsysFlags* flags);

/// Throws InputError when an nsys-only flag was given to another format.
void RefuseImportNsysFlags(const CLI::App* sub, const std::string& format);

/// The flags every import format shares.
struct ImportCommonFlags {
  std::string input, output, tenant, window, gpu;
  int64_t device = -1;  ///< --device N; -1 = not given
};

/// Runs `import nsys`: writes one trace per process (OUT, or OUT's stem +
/// ".pid<PID>" + its extension when there are several) and prints a summary.
int RunImportNsys(const CLI::App* sub, const ImportCommonFlags& common,
                  const ImportNsysFlags& flags);

/// "out.json" + 42 -> "out.pid42.json"; "d/t.json.gz" -> "d/t.pid42.json.gz".
std::string NsysOutputForPid(const std::string& output, int64_t pid);

}  // namespace cotenant::cli
