#include "cli_util.hpp"

#include <fmt/format.h>

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

}  // namespace nnspice::tools
