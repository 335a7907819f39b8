// Errors of nnspice: one exception type for user mistakes (bad files, shapes, ranges), carrying
// an optional source location "file:line:col" and the offending line with a caret (ninja/VACASK style).
// Tools map exceptions to documented exit codes (see exit_code below and docs/cli.md).
#pragma once

#include <stdexcept>
#include <string>

namespace nnspice {

/// Exit codes of the `nnspice` command (documented in README "Exit codes").
enum class ExitCode : int {
  ok = 0,
  failure = 1,       ///< numerical failure (non-convergence, NaN loss) or an internal error
  bad_input = 2,     ///< user input: bad option, file, shape or value
  sim_failure = 3,   ///< the simulator reported an error for a job
};

/// A location in a user file. line/col are 1-based; 0 = unknown.
struct SourceLocation {
  std::string file;
  int line = 0;
  int col = 0;
  std::string line_text;  ///< the offending line, shown with a caret under `col` when non-empty
};

/// A mistake in user input. what() is the complete, printable message.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message);
  InputError(const SourceLocation& where, const std::string& message);
  const SourceLocation& where() const { return where_; }

 private:
  SourceLocation where_;
};

/// A numerical or simulator failure of one job (non-convergence, NaN). Not the user's fault.
class NumericalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Formats "file:line:col: message\n  <line>\n  ^" (parts omitted when unknown).
std::string format_location(const SourceLocation& where, const std::string& message);

/// Reads the text of line `line` (1-based) of `file`, or "" if unavailable.
std::string read_line_of_file(const std::string& file, int line);

}  // namespace nnspice
