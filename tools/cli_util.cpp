#include "cli_util.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <iostream>

#include "nnspice/common/error.hpp"

namespace nnspice::tools {

bool parse_options(int argc, char** argv, const po::options_description& opts, po::variables_map& vm,
                   const std::string& usage_line, const std::string& description,
                   const po::positional_options_description* positional) {
  po::options_description all(opts);
  all.add_options()("help,h", "print this help and exit");
  try {
    po::command_line_parser parser(argc, argv);
    parser.options(all);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    if (vm.count("help")) {
      std::cout << "Usage: " << usage_line << "\n\n" << description << "\n\n" << all << "\n";
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw InputError(fmt::format("{} (see {} --help)", e.what(), argv[0]));
  }
  return true;
}

int run_subcommand(const char* group, std::span<const Subcommand> subs, int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    fmt::print("Usage: nnspice {0} <subcommand> [options]   (nnspice {0} <subcommand> --help)\n\nSubcommands:\n", group);
    for (const auto& s : subs) fmt::print("  {:<10}{}\n", s.name, s.summary);
    return argc < 2 ? static_cast<int>(ExitCode::bad_input) : 0;
  }
  for (const auto& s : subs) {
    if (std::strcmp(argv[1], s.name) != 0) continue;
    std::string prog = fmt::format("nnspice {} {}", group, s.name);
    argv[1] = prog.data();
    return s.run(argc - 1, argv + 1);
  }
  throw InputError(fmt::format("unknown {0} subcommand '{1}' (see nnspice {0} --help)", group, argv[1]));
}

std::vector<double> parse_number_list(const std::string& text, const std::string& option) {
  std::vector<double> v;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::size_t used = 0;
    double x = 0;
    try {
      x = std::stod(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (part.empty() || used != part.size() || !std::isfinite(x))
      throw InputError(fmt::format("--{}: '{}' is not a number (exponent notation, e.g. 1.5e-8)", option, part));
    v.push_back(x);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return v;
}

}  // namespace nnspice::tools
