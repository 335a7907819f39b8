// Shared plumbing of the thin subcommand mains: Boost.Program_options parsing with uniform --help
// and error messages (bad options are InputErrors -> exit code 2).
#pragma once

#include <boost/program_options.hpp>

#include <span>
#include <string>
#include <vector>

namespace nnspice::tools {

namespace po = boost::program_options;

/// Parses argv into `vm`. Returns false when --help was printed (the caller returns 0).
/// `positional` maps positional arguments to option names (may be empty).
bool parse_options(int argc, char** argv, const po::options_description& opts, po::variables_map& vm,
                   const std::string& usage_line, const std::string& description,
                   const po::positional_options_description* positional = nullptr);

/// One subcommand of a command group (`nnspice dnpu <sub>`, `nnspice memristor <sub>`).
struct Subcommand {
  const char* name;
  const char* summary;
  int (*run)(int, char**);
};

/// Runs argv[1] of `group` (e.g. "dnpu") from `subs` with argv[0] = "nnspice GROUP SUB"; no subcommand
/// prints the list (exit 2), --help prints it (exit 0), an unknown one is an InputError naming it.
int run_subcommand(const char* group, std::span<const Subcommand> subs, int argc, char** argv);

/// Parses a comma list of numbers ("1.5e-8,4.5e-8"); InputError naming --option and the bad part.
std::vector<double> parse_number_list(const std::string& text, const std::string& option);

}  // namespace nnspice::tools
