#include "cli_util.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <thread>
#include <type_traits>

#include "nnspice/common/error.hpp"
#include "nnspice/engine/device_tables.hpp"

namespace nnspice::tools {

int default_jobs() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }
int max_jobs() { return std::max(4 * default_jobs(), 256); }

namespace {

// "--NAME = VALUE: why" with the option's name filled in by Boost's store().
[[noreturn]] void bad_value(const std::string& token, const std::string& why) {
  po::error_with_option_name e("%canonical_option% = '%value%': " + why);
  e.set_substitute("value", token);
  throw e;
}

template <class T>
T parse_strict(const std::string& token, T lo, T hi) {
  const std::string range = fmt::format("must be {} in {}..{}", std::is_integral_v<T> ? "an integer" : "a number", lo, hi);
  T v{};
  const char* b = token.data();
  const char* e = token.data() + token.size();
  if constexpr (std::is_integral_v<T>) {
    // from_chars takes no '+', and for an unsigned type no '-': "-1" never wraps to 2^64-1.
    if (std::is_unsigned_v<T> && !token.empty() && token[0] == '-') bad_value(token, "a negative value; " + range);
    auto [p, ec] = std::from_chars(b, e, v);
    if (token.empty() || ec == std::errc::result_out_of_range) bad_value(token, range);
    if (ec != std::errc() || p != e) bad_value(token, "not a decimal integer; " + range);
  } else {
    std::size_t used = 0;
    try {
      v = static_cast<T>(std::stod(token, &used));
    } catch (const std::exception&) {
      used = std::string::npos;
    }
    if (used != token.size() || !std::isfinite(v)) bad_value(token, "not a finite number; " + range);
  }
  if (v < lo || v > hi) bad_value(token, range);
  return v;
}

}  // namespace

template <class T>
void BoundedValue<T>::xparse(boost::any& value_store, const std::vector<std::string>& tokens) const {
  if (tokens.size() != 1) throw po::invalid_option_value(tokens.empty() ? std::string() : tokens.back());
  value_store = parse_strict<T>(tokens[0], lo_, hi_);
}

template class BoundedValue<int>;
template class BoundedValue<long>;
template class BoundedValue<std::uint64_t>;
template class BoundedValue<double>;

bool parse_options(int argc, char** argv, const po::options_description& opts, po::variables_map& vm,
                   const std::string& usage_line, const std::string& description,
                   const po::positional_options_description* positional) {
  po::options_description all(opts);
  all.add_options()("help,h", "print this help and exit");
  try {
    po::command_line_parser parser(argc, argv);
    parser.options(all);
    if (positional) parser.positional(*positional);
    const po::parsed_options parsed = parser.run();
    // Boost reads "-1" into an unsigned option as 2^64-1: every unsigned option refuses a sign, bounded or not.
    for (const auto& opt : parsed.options) {
      const po::option_description* d = all.find_nothrow(opt.string_key, false);
      if (!d) continue;
      const po::value_semantic* sem = d->semantic().get();
      const bool is_unsigned = dynamic_cast<const po::typed_value<unsigned long>*>(sem) ||
                               dynamic_cast<const po::typed_value<unsigned int>*>(sem) ||
                               dynamic_cast<const po::typed_value<unsigned long long>*>(sem);
      for (const auto& v : opt.value)
        if (is_unsigned && v.find_first_of("-+") != std::string::npos)
          throw InputError(fmt::format("--{} = '{}': must be a non-negative decimal integer (see {} --help)", opt.string_key, v, argv[0]));
    }
    po::store(parsed, vm);
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

void add_corner_options(po::options_description& o) {
  o.add_options()
    ("temp-C", bounded<double>(engine::kTableMinTemp_C, engine::kTableMaxTemp_C),
     "temperature in C (default: the process YAML's temp_C, 27); -40..125, where the cards' temperature models and the device tables hold")
    ("vdd-V", bounded<double>(0.5, 4.75), "supply in V (default: the process YAML's vdd_V, 1.8); 0.5..4.75");
}

netlist::Process resolve_process(const po::variables_map& vm) {
  netlist::Process p = netlist::load_process_or_default(vm["process"].as<std::string>());
  if (vm.count("temp-C")) p.temp_C = vm["temp-C"].as<double>();
  if (vm.count("vdd-V")) p.vdd_V = vm["vdd-V"].as<double>();
  p.validate();
  return p;
}

}  // namespace nnspice::tools
