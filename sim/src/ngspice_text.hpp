// Reading ngspice's text output (private to the sim library; unit-tested in tests/sim/test_ngspice_text.cpp).
// libngspice 39 reports errors only as text on its SendChar stream ("stdout ..."/"stderr ..." lines),
// so the classification below decides what counts as a failure. Patterns are taken from what the
// library actually prints (see docs/ngspice.md for the measured lines).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nnspice::sim::detail {

/// Removes the "stdout " / "stderr " prefix libngspice puts on every SendChar line; `is_stderr`
/// (optional) tells which one it was. Lines without a prefix are returned unchanged.
std::string strip_stream_prefix(std::string_view raw, bool* is_stderr = nullptr);

enum class LineKind {
  plain,    ///< ordinary output, warnings that do not affect the result
  error,    ///< ngspice reports a failure (the command's result must not be used)
  context,  ///< not a failure by itself, but explains one (singular matrix, stepping failed, ...)
};

/// Classifies one line (prefix already stripped). Lines starting with "Warning" or "Note" are never
/// errors: ngspice prints e.g. "Warning: source stepping failed" on the way to a converged answer.
LineKind classify_line(std::string_view line);

/// True when the line starts an ngspice "Error on line N ..." block whose next lines (the netlist line and
/// the reason) belong to the error.
bool starts_error_block(std::string_view line);

/// "Total iterations = 1043" (from `rusage totiter`) -> 1043; -1 when no such line is present.
long parse_total_iterations(const std::vector<std::string>& lines);

/// "ngspice-39" from the init banner ("** ngspice-39 shared library") or `version -s`; "" when absent.
std::string parse_version(const std::vector<std::string>& lines);

/// Case-insensitive comparison helpers.
std::string to_lower(std::string_view s);
bool starts_with_ci(std::string_view s, std::string_view prefix);
bool contains_ci(std::string_view s, std::string_view needle);

/// For `.include PATH` / `.inc PATH` / `.lib PATH [section]` with a relative PATH, returns the line with
/// PATH made absolute against `base_dir` (the caller's working directory: ngspice resolves includes against
/// the process's cwd, which the driver changes to a scratch directory). Other lines are returned unchanged.
std::string absolutize_include(const std::string& line, const std::string& base_dir);

/// First word of a netlist line, lower-case (".end", ".control", "v1", ...).
std::string first_word_lower(std::string_view line);

}  // namespace nnspice::sim::detail
