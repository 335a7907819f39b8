#include "cli_util.hpp"

#include <fmt/format.h>

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

}  // namespace nnspice::tools
