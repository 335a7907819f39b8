// The subcommands of `nnspice`. Each cmd_<name>.cpp defines one `int cmd_<name>(int argc, char** argv)`
// (argv[0] = "nnspice <name>") and is listed once in commands.cpp.
#pragma once

#include <string>
#include <vector>

namespace nnspice::tools {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
  bool mpi = false;  ///< distributes its work over mpirun's ranks (others are refused under mpirun)
};

const std::vector<Command>& commands();
/// The command called `name`, or null.
const Command* find_command(const std::string& name);
/// Runs `command` in this process with `args` (without the command's name); argv[0] is "nnspice <name>".
/// Exceptions propagate: the CLI (main.cpp) maps them to exit codes, the Python module to its exceptions.
int run_command(const Command& command, const std::vector<std::string>& args);

int cmd_netlist(int argc, char** argv);
int cmd_simulate(int argc, char** argv);
int cmd_train(int argc, char** argv);
int cmd_infer(int argc, char** argv);
int cmd_calibration(int argc, char** argv);
int cmd_device_tables(int argc, char** argv);
int cmd_demo(int argc, char** argv);
int cmd_characterize(int argc, char** argv);
int cmd_dnpu(int argc, char** argv);
int cmd_dynamics(int argc, char** argv);
int cmd_evaluate(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_sweep(int argc, char** argv);
int cmd_memristor(int argc, char** argv);

}  // namespace nnspice::tools
