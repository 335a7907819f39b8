// Reproducibility records: every output directory gets a run.json with the command line, seed,
// config, versions and time that produced it; and lookup of the installed data directory.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace nnspice {

/// The nnspice version ("0.1.0").
std::string nnspice_version();
/// Directory of shipped data (model cards, process files): $NNSPICE_DATA_DIR, else the installed
/// share/nnspice, else the source tree's data/ (for runs from a build tree).
std::string data_dir();
/// The `nnspice` executable that stages re-execute (`nnspice run`) and whose location picks the data
/// directory: /proc/self/exe unless set_self_executable named another (the Python module, whose process
/// is python3, names the nnspice command built beside it).
std::string self_executable();
void set_self_executable(const std::string& path);
/// Resolves a data-relative path ("models/x.lib") against data_dir() unless it exists as given.
std::string resolve_data_path(const std::string& path);

/// The command line as given to the tool (set by tools/main).
void set_command_line(int argc, char** argv);
const std::string& command_line();

/// Base record: tool, version, command line, UTC time, host. Callers add seed/config/versions.
nlohmann::json run_record();
/// Writes `record` (merged over run_record()) as DIR/run.json atomically.
void write_run_json(const std::string& dir, const nlohmann::json& record);
/// Writes pretty JSON atomically.
void write_json(const std::string& path, const nlohmann::json& value);

}  // namespace nnspice
