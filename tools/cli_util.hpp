// Shared plumbing of the thin subcommand mains: Boost.Program_options parsing with uniform --help
// and error messages (bad options are InputErrors -> exit code 2).
#pragma once

#include <boost/program_options.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nnspice/netlist/process.hpp"

namespace nnspice::tools {

namespace po = boost::program_options;

/// The bounds every command shares (docs/reliability.md "Option bounds"): seeds 0..2^63-1 (they are
/// stored as int64 in calibration.json and run.json), sample counts (--limit, --count, --train-limit,
/// ...) >= 1 (absent = all), worker counts 1..max_jobs().
constexpr std::uint64_t kMaxSeed = (std::uint64_t{1} << 63) - 1;
constexpr std::size_t kMaxCount = std::size_t{1} << 40;
/// max(4 x the machine's cores, 256): more workers than that only cost memory.
int max_jobs();
/// The default number of workers: the machine's cores (at least 1).
int default_jobs();

/// An option value parsed strictly and range-checked when it is stored: decimal integers only (an
/// unsigned type refuses a sign, "1e3", "0x10", trailing text), doubles finite; outside [lo, hi] is an
/// error "--NAME = VALUE: must be in LO..HI" (InputError, exit 2, through parse_options).
template <class T>
class BoundedValue : public po::typed_value<T> {
 public:
  BoundedValue(T* store, T lo, T hi) : po::typed_value<T>(store), lo_(lo), hi_(hi) {}
  void xparse(boost::any& value_store, const std::vector<std::string>& tokens) const override;

 private:
  T lo_, hi_;
};

/// `po::value<T>(store)` with the bounds [lo, hi] (see BoundedValue).
template <class T>
BoundedValue<T>* bounded(T lo, T hi, T* store = nullptr) {
  return new BoundedValue<T>(store, lo, hi);
}
/// A seed: 0..kMaxSeed.
inline BoundedValue<std::uint64_t>* seed_value(std::uint64_t* store = nullptr) { return bounded<std::uint64_t>(0, kMaxSeed, store); }
/// A number of samples / items: 1..kMaxCount.
inline BoundedValue<std::size_t>* count_value(std::size_t* store = nullptr) { return bounded<std::size_t>(1, kMaxCount, store); }
/// A number of workers / threads: 1..max_jobs().
inline BoundedValue<int>* jobs_value(int* store = nullptr) { return bounded<int>(1, max_jobs(), store); }

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

/// --temp-C and --vdd-V (docs/conventions.md "Corners"): simulate at another temperature or supply than the
/// process YAML's temp_C / vdd_V. Bounds: -40..125 C (the cards' temperature models and the native engine's
/// device tables) and 0.5..4.75 V (the tables' supply range).
void add_corner_options(po::options_description& o);
/// The process of --process (empty: the shipped one) at the corner of --temp-C / --vdd-V, validated.
netlist::Process resolve_process(const po::variables_map& vm);
/// Parses a comma list of numbers ("1.5e-8,4.5e-8"); InputError naming --option and the bad part.
std::vector<double> parse_number_list(const std::string& text, const std::string& option);

}  // namespace nnspice::tools
