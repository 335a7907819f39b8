// Shared plumbing of the thin subcommand mains: Boost.Program_options parsing with uniform --help
// and error messages (bad options are InputErrors -> exit code 2).
#pragma once

#include <boost/program_options.hpp>

#include <string>

namespace nnspice::tools {

namespace po = boost::program_options;

/// Parses argv into `vm`. Returns false when --help was printed (the caller returns 0).
/// `positional` maps positional arguments to option names (may be empty).
bool parse_options(int argc, char** argv, const po::options_description& opts, po::variables_map& vm,
                   const std::string& usage_line, const std::string& description,
                   const po::positional_options_description* positional = nullptr);

}  // namespace nnspice::tools
