// nnspice: the command-line front end. Dispatches to subcommands; maps exceptions to exit codes
// (0 ok, 1 numerical/internal failure, 2 bad input, 3 simulator failure).
#include <fmt/format.h>

#include <cstring>
#include <new>
#include <exception>
#include <string>
#include <vector>

#include "commands.hpp"
#include "mpi_env.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/malloc_tuning.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/sim/session.hpp"

using nnspice::ExitCode;

namespace {

void usage() {
  fmt::print("nnspice {} — precise neural networks on imprecise analog hardware\n\n", nnspice::nnspice_version());
  fmt::print("Usage: nnspice <command> [options]   (nnspice <command> --help for its options)\n\nCommands:\n");
  for (const auto& c : nnspice::tools::commands()) fmt::print("  {:<14}{}\n", c.name, c.summary);
  fmt::print("\nExit codes: 0 ok, 1 numerical or internal failure, 2 bad input, 3 simulator failure.\n");
}

}  // namespace

int main(int argc, char** argv) {
  nnspice::set_command_line(argc, argv);
  nnspice::tune_malloc_for_batches();  // measured: 2-2-1 ring restart 3.1 s -> 1.9 s
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    usage();
    return argc < 2 ? static_cast<int>(ExitCode::bad_input) : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    fmt::print("nnspice {}\n", nnspice::nnspice_version());
    return 0;
  }
  if (const nnspice::tools::Command* found = nnspice::tools::find_command(argv[1])) {
    const auto& c = *found;
    try {
      if (!c.mpi && nnspice::tools::mpi_launcher_size() > 1) {
        std::string which;
        for (const auto& m : nnspice::tools::commands())
          if (m.mpi) which += std::string(which.empty() ? "" : ", ") + m.name;
        throw nnspice::InputError(fmt::format("started by mpirun with {} ranks, but {} does not share its work between ranks (each would do all of "
                                              "it): start it without mpirun. Under mpirun: {}",
                                              nnspice::tools::mpi_launcher_size(), c.name, which));
      }
      return nnspice::tools::run_command(c, std::vector<std::string>(argv + 2, argv + argc));
    } catch (const nnspice::InputError& e) {
      fmt::print(stderr, "nnspice {}: error: {}\n", c.name, e.what());
      return static_cast<int>(ExitCode::bad_input);
    } catch (const nnspice::sim::SimError& e) {  // before NumericalError, its base class
      fmt::print(stderr, "nnspice {}: simulator failure: {}\n", c.name, e.what());
      return static_cast<int>(ExitCode::sim_failure);
    } catch (const nnspice::NumericalError& e) {
      fmt::print(stderr, "nnspice {}: numerical failure: {}\n", c.name, e.what());
      return static_cast<int>(ExitCode::failure);
    } catch (const std::bad_alloc&) {  // inputs are bounded before allocation; this is the last line of defence
      fmt::print(stderr, "nnspice {}: error: out of memory (the inputs ask for more memory than this machine gives; "
                         "smaller networks, data sets or --jobs help)\n", c.name);
      return static_cast<int>(ExitCode::failure);
    } catch (const std::exception& e) {
      fmt::print(stderr, "nnspice {}: error: {}\n", c.name, e.what());
      return static_cast<int>(ExitCode::failure);
    }
  }
  fmt::print(stderr, "nnspice: unknown command '{}'\n", argv[1]);
  usage();
  return static_cast<int>(ExitCode::bad_input);
}
