// nnspice run: the whole method end to end, from one YAML config (an embedded default when none is
// given): draw a chip -> characterise it -> train homogeneous and chip-aware 3-bit networks -> behavioural
// and circuit-level accuracy -> pattern-switch transients (time to output, energy) -> report.md with
// figures, summary.json, the exact config, seeds and versions in one folder.
// Each stage is one `nnspice <command>` child process writing its own sub-folder; a stage that finished
// leaves `stage.json`, so `--resume` skips it and resumes the interrupted one.
#include <fmt/format.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <string_view>

#include "nnspice/engine/method.hpp"
#include "cli_util.hpp"
#include "commands.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/figure.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/progress.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/common/store.hpp"
#include "nnspice/common/yaml_util.hpp"
#include "nnspice/netlist/network.hpp"
#include "nnspice/report/run_report.hpp"
#include "nnspice/sim/session.hpp"
#include "nnspice/train/dataset.hpp"
#include "mpi_env.hpp"
#include "run_exec.hpp"

namespace nnspice::tools {
namespace {

// The default main job (also shipped as examples/run_default.yaml); measured times are in the README.
const char* kDefaultConfig = R"(# nnspice run: the default main job (examples/run_default.yaml)
out: out/run             # output folder (the command line's --out wins)
process: ""              # process YAML; "" = the shipped tsmc180.yaml
jobs: 2                  # simulator worker processes
experiments:
  - name: iris
    dataset: iris
    layers: 4-7-3
    chip_seed: 7
    data_seed: 1
    characterize: {method: full, routings: 10}
    train: {epochs: 300}
    evaluate: {method: full, input_mean_A: 1.0e-7}
    dynamics: {count: 30, mean_inputs_A: [1.5e-8, 4.5e-8], method: full}
  - name: mnist
    dataset: mnist
    layers: 196-20-10      # the paper's 196-100-50-10: examples/run_paper_mnist.yaml
    chip_seed: 7
    data_seed: 1
    characterize: {method: decomposed, routings: 10}
    train: {epochs: 15}
    evaluate: {method: decomposed, limit: 2000, input_mean_A: 1.5e-8}
    dynamics: {count: 100, mean_inputs_A: [1.5e-8, 4.5e-8], method: tabulated}
)";

struct StageSpec {
  std::string name;                // sub-folder and stage id
  std::string what;                // one line for the plan
  std::vector<std::string> args;   // nnspice arguments
  bool resumable = false;          // the command accepts --resume
  double weight = 1;               // rough relative cost, for the ETA
  std::string group;               // stages of one group depend on each other: a failure skips the rest
};

std::string num(double v) { return fmt::format("{}", v); }

// Checks what the stages will need before any work starts (data sets present, process loadable).
void preflight(const RunConfig& c) {
  std::set<std::string> processes;  // each once: a sweep's points share a few derived processes
  if (!c.process.empty()) processes.insert(c.process);
  for (const auto& x : c.experiments)
    if (!x.process.empty()) processes.insert(x.process);
  for (const auto& p : processes) netlist::load_process(p);
  for (const auto& x : c.experiments) {
    if (x.dataset == "mnist") {
      const std::string dir = train::resolve_mnist_dir(x.mnist_dir);
      for (const char* f : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"})
        if (!file_exists(dir + "/" + f))
          throw InputError(fmt::format("experiment '{}': MNIST file {}/{} not found (run scripts/fetch_mnist.sh or set mnist_dir)", x.name, dir, f));
    }
    if (x.dataset == "fsdd" && !file_exists(x.fsdd_dir)) throw InputError(fmt::format("experiment '{}': fsdd_dir {} not found", x.name, x.fsdd_dir));
    if (x.dataset == "iris" && !x.iris_csv.empty() && !file_exists(x.iris_csv))
      throw InputError(fmt::format("experiment '{}': iris_csv {} not found", x.name, x.iris_csv));
  }
}

std::vector<std::string> data_args(const Experiment& x, const char* iris_flag) {
  std::vector<std::string> a{"--dataset", x.dataset};
  if (!x.mnist_dir.empty()) a.insert(a.end(), {"--mnist", x.mnist_dir});
  if (!x.fsdd_dir.empty()) a.insert(a.end(), {"--fsdd", x.fsdd_dir});
  if (!x.iris_csv.empty()) a.insert(a.end(), {iris_flag, x.iris_csv});
  return a;
}

// What the report needs of an experiment; its chip_dir(k) is the one rule for the folder of chip k.
report::ExperimentPlan experiment_plan(const Experiment& x, const std::string& out) {
  report::ExperimentPlan p;
  p.name = x.name;
  p.dataset = x.dataset;
  p.layers = x.layers;
  p.chip_model = x.char_synapses == "none" ? "per-neuron" : "per-synapse, codes " + x.char_synapses;
  p.chip_seed = x.chip_seed;
  p.chips = x.chips;
  p.dir = out + "/" + x.name;
  return p;
}

// Rough stage costs in seconds on the project's 2-core machine (fitted to the default run, 2026-12-02: iris 4-7-3
// with full netlists, MNIST 196-20-10 native; the ETA scales them by the speed measured so far).
double train_cost(const Experiment& x, double synapses) {
  const double defaults = x.dataset == "mnist" ? 50 : x.dataset == "fsdd" ? 150 : 300;
  const double epochs = x.train_epochs > 0 ? static_cast<double>(x.train_epochs) : defaults;
  double samples = x.dataset == "mnist" ? 60000 : x.dataset == "fsdd" ? 2700 : 120;
  if (x.train_limit > 0) samples = std::min(samples, static_cast<double>(x.train_limit));
  return 0.3 + 1e-9 * epochs * samples * synapses;  // 196-20-10, 15 epochs: 4 s
}
double evaluate_cost(const Experiment& x, double synapses) {
  double samples = x.dataset == "mnist" ? 10000 : x.dataset == "fsdd" ? 300 : 30;
  if (x.eval_limit > 0) samples = std::min(samples, static_cast<double>(x.eval_limit));
  return 1 + synapses / 300 + 3e-7 * samples * synapses;  // tabulation + Kirchhoff solves: 196-20-10 on 2,000 images ~20 s
}

// --temp-C / --vdd-V of a stage at `corner` (nothing when it is the process's own).
std::vector<std::string> corner_args(const StageCorner& corner) {
  std::vector<std::string> a;
  if (corner.temp_C) a.insert(a.end(), {"--temp-C", num(*corner.temp_C)});
  if (corner.vdd_V) a.insert(a.end(), {"--vdd-V", num(*corner.vdd_V)});
  return a;
}

// What each preparation stage of an experiment depends on (for share_preparation): the chips (netlist), their
// characterisation, the ideal weights, and the chip-aware weights (all of the above + the training corners).
struct PreparationKeys {
  std::string chip, characterize, homogeneous, chip_aware;
};
PreparationKeys preparation_keys(const RunConfig& c, const Experiment& x, int weight_bits) {
  auto corner = [](const StageCorner& k) {
    return fmt::format("{},{}", k.temp_C ? fmt::format("{}", *k.temp_C) : "-", k.vdd_V ? fmt::format("{}", *k.vdd_V) : "-");
  };
  PreparationKeys k;
  k.chip = fmt::format("{}|{}|{}|{}|{}", x.layers, x.chip_seed, x.chips, x.process.empty() ? c.process : x.process, corner(c.corner));
  k.characterize = fmt::format("{}|{}|{}|{}|{}", k.chip, x.char_method, x.char_synapses, x.routings, corner(x.char_corner));
  k.homogeneous = fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|bits {}", x.dataset, x.layers, x.mnist_dir, x.fsdd_dir, x.iris_csv, x.data_seed,
                              x.train_epochs, x.train_limit, x.train_lr, weight_bits);
  k.chip_aware = k.characterize + "|" + k.homogeneous;
  for (const auto& t : x.train_corners) k.chip_aware += fmt::format("|{}", corner(t));
  return k;
}

std::vector<StageSpec> plan(const RunConfig& c, const std::string& out) {
  std::vector<StageSpec> st;
  const std::string jobs = std::to_string(c.jobs);
  // preparation key -> the first experiment with it, per kind of stage
  std::map<std::string, const Experiment*> chips_of, characterized, homogeneous_of, chip_aware_of;
  std::map<std::string, int> bits_of;  // process file -> its weight_bits (each read once)
  for (const auto& x : c.experiments) {
    std::vector<std::string> proc;
    const std::string& process_path = x.process.empty() ? c.process : x.process;
    if (!process_path.empty()) proc = {"--process", process_path};
    auto bits_it = bits_of.find(process_path);
    if (bits_it == bits_of.end() && x.weight_bits == 0)
      bits_it = bits_of.emplace(process_path, netlist::load_process_or_default(process_path).weight_bits).first;
    const int weight_bits = x.weight_bits ? x.weight_bits : bits_it->second;
    const std::string e = out + "/" + x.name;
    // share_preparation (sweeps): a stage whose inputs are those of an earlier experiment's (the same chips, the same
    // characterisation, the same training) is not repeated: this experiment uses that one's folder.
    const PreparationKeys keys = preparation_keys(c, x, weight_bits);
    auto source = [&](std::map<std::string, const Experiment*>& m, const std::string& key) -> const Experiment* {
      const auto [it, fresh] = m.emplace(key, &x);
      return x.share_preparation && !fresh ? it->second : nullptr;
    };
    const Experiment* src_chip = source(chips_of, keys.chip);
    const Experiment* src_char = source(characterized, keys.characterize);
    const Experiment* src_homog = source(homogeneous_of, keys.homogeneous);
    const Experiment* src = source(chip_aware_of, keys.chip_aware);  // chip-aware weights (and their corner measurements)
    const std::string e_src = src_homog ? out + "/" + src_homog->name : e;
    const double size = static_cast<double>(netlist::NetworkSpec::parse(x.layers).n_synapses());
    auto add = [&](const std::string& dir, const std::string& group, std::string stage, std::string what, std::vector<std::string> args,
                   bool resumable, double weight) {
      args.insert(args.end(), {"--out", dir + "/" + stage});
      std::string name = std::filesystem::path(dir + "/" + stage).lexically_relative(out).string();
      st.push_back({std::move(name), std::move(what), std::move(args), resumable, weight, group});
    };
    auto train_args = [&](const std::string& calibration) {
      std::vector<std::string> a = {"train", "--layers", x.layers, "--seed", std::to_string(x.data_seed)};
      const auto da = data_args(x, "--iris-csv");
      a.insert(a.end(), da.begin(), da.end());
      if (x.train_epochs > 0) a.insert(a.end(), {"--epochs", std::to_string(x.train_epochs)});
      if (x.train_lr > 0) a.insert(a.end(), {"--lr", num(x.train_lr)});
      if (x.train_limit > 0) a.insert(a.end(), {"--train-limit", std::to_string(x.train_limit)});
      if (!calibration.empty()) a.insert(a.end(), {"--calibration", calibration});
      else if (weight_bits != 3) a.insert(a.end(), {"--weight-bits", std::to_string(weight_bits)});  // with a calibration: its bits
      return a;
    };
    // Ideal weights: trained once per experiment on the homogeneous model.
    if (!src_homog)
      add(e, x.name, "train_homogeneous", fmt::format("train {}-bit weights on the homogeneous (ideal) model", weight_bits), train_args(""), true,
          train_cost(x, size));
    for (long long k = 0; k < x.chips; ++k) {
      const std::string d = experiment_plan(x, out).chip_dir(k);
      auto dir_of = [&](const Experiment* from) { return from ? experiment_plan(*from, out).chip_dir(k) : d; };
      const std::string d_chip = dir_of(src_chip), d_char = dir_of(src_char), d_src = dir_of(src);
      const std::string group = x.chips == 1 ? x.name : fmt::format("{}/chip_{}", x.name, k);
      const std::uint64_t seed = x.chip_seed + static_cast<std::uint64_t>(k);
      const std::string chip = d_chip + "/chip/chip.csv", cal = d_char + "/characterize/calibration.json";
      const std::string tables = d_chip + "/tables";  // one table folder per chip (its tables are keyed by corner)
      std::vector<std::string> a;
      if (!src_chip) {
        a = {"netlist", "--layers", x.layers, "--seed", std::to_string(seed)};
        a.insert(a.end(), proc.begin(), proc.end());
        for (const auto& v : corner_args(c.corner)) a.push_back(v);
        add(d, group, "chip", fmt::format("draw chip {} (seed {}) and write its netlist", x.layers, seed), a, false, 0.01);
      }
      // One folder of decomposed-engine tables per chip: evaluations reuse the characterisation's code-0 tables.
      a = {"characterize", "--layers", x.layers, "--chip", chip, "--method", x.char_method, "--routings", std::to_string(x.routings), "--workers", jobs,
           "--table-cache", tables};
      // Per-synapse calibration: every synapse measured alone, at ±7 or per code; training and inference then use it.
      const bool per_synapse = x.char_synapses != "none";
      if (per_synapse) a.insert(a.end(), {"--synapses", "--synapse-codes", x.char_synapses});
      a.insert(a.end(), proc.begin(), proc.end());
      for (const auto& v : corner_args(x.char_corner)) a.push_back(v);
      if (!src_char)
        add(d, group, "characterize",
          per_synapse ? fmt::format("measure slopes, negative gains and every synapse's gains (codes {}; {} routings, {} solver)", x.char_synapses,
                                    x.routings, x.char_method)
                      : fmt::format("measure slopes and negative gains ({} routings, {} solver)", x.routings, x.char_method),
          a, true,
          // per-neuron: 4-7-3 full netlist 4 s, 196-20-10 native 21 s, 196-50-10 native 42 s; --synapses and codes cost more
          (2 + size / 200) * (!per_synapse ? 1.0 : x.char_synapses == "7" ? 2.7 : x.char_synapses == "bits" ? 4.0 : 6.0));
      // Corner-aware training: the same measurement at each further corner (the same chip file and table folder;
      // synapse tables are keyed by temperature and supply).
      const std::vector<std::string> char_base(a.begin(), a.end() - static_cast<std::ptrdiff_t>(corner_args(x.char_corner).size()));
      for (std::size_t j = 0; !src && j < x.train_corners.size(); ++j) {
        std::vector<std::string> cj = char_base;
        for (const auto& v : corner_args(x.train_corners[j])) cj.push_back(v);
        add(d, group, fmt::format("characterize_c{}", j), fmt::format("measure slopes and gains at corner {} (corner-aware training)", j + 1), cj, true,
            (2 + size / 200) * (!per_synapse ? 1.0 : 3.0));
      }
      if (!src)
        add(d, group, "train_chip",
          fmt::format("train {}-bit weights on the chip's measured slopes{}", weight_bits, per_synapse ? " and per-synapse gains" : ""),
          [&] {
            // Corner-aware: the other corners' calibrations (characterize_c<j>, below) join the chip's own.
            std::vector<std::string> t = train_args(cal);
            for (std::size_t j = 0; j < x.train_corners.size(); ++j) t.insert(t.end(), {"--corner-calibration", fmt::format("{}/characterize_c{}/calibration.json", d, j)});
            return t;
          }(),
          true, train_cost(x, size) * static_cast<double>(1 + x.train_corners.size()));
      for (const bool chip_aware : {false, true}) {
        a = {"infer", "--weights", chip_aware ? d_src + "/train_chip" : e_src + "/train_homogeneous", "--calibration", cal, "--seed", std::to_string(x.data_seed)};
        const auto da = data_args(x, "--iris-csv");
        a.insert(a.end(), da.begin(), da.end());
        add(d, group, chip_aware ? "infer_chip" : "infer_homogeneous",
            chip_aware ? "behavioural accuracy of the chip-aware weights on the chip model" : "behavioural accuracy of the ideal weights on the chip model",
            a, false, 0.1 + 2e-4 * size);
      }
      for (const bool chip_aware : {false, true}) {
        a = {"evaluate", "--layers", x.layers, "--weights", chip_aware ? d_src + "/train_chip" : e_src + "/train_homogeneous", "--chip", chip, "--method",
             x.eval_method, "--jobs", jobs, "--data-seed", std::to_string(x.data_seed), "--table-cache", tables};
        const auto da = data_args(x, "--iris");
        a.insert(a.end(), da.begin(), da.end());
        a.insert(a.end(), proc.begin(), proc.end());
        if (x.eval_limit > 0) a.insert(a.end(), {"--limit", std::to_string(x.eval_limit)});
        if (x.eval_input_mean > 0) a.insert(a.end(), {"--input-mean", num(x.eval_input_mean)});
        for (const auto& v : corner_args(x.eval_corner)) a.push_back(v);
        add(d, group, chip_aware ? "evaluate_chip" : "evaluate_homogeneous",
            chip_aware ? "circuit-level accuracy of the chip-aware weights" : "circuit-level accuracy of the ideal weights", a, true,
            evaluate_cost(x, size));
      }
      if (x.dynamics && k == 0) {
        const bool tabulated = x.dyn_method == "tabulated" || (x.dyn_method == "auto" && engine::use_fast_engine(netlist::NetworkSpec::parse(x.layers)));
        std::string levels;
        for (double v : x.dyn_levels) levels += (levels.empty() ? "" : ",") + num(v);
        a = {"dynamics", "--layers", x.layers, "--chip", chip, "--weights", d_src + "/train_chip", "--count", std::to_string(x.dyn_count), "--mean-input",
             levels, "--method", x.dyn_method, "--jobs", jobs, "--data-seed", std::to_string(x.data_seed), "--table-cache", tables};
        if (x.dyn_tmax > 0) a.insert(a.end(), {"--tmax", num(x.dyn_tmax)});
        if (x.dyn_chunk > 0) a.insert(a.end(), {"--chunk", std::to_string(x.dyn_chunk)});
        const auto da = data_args(x, "--iris-csv");
        if (x.dataset != "fsdd") a.insert(a.end(), da.begin(), da.end());
        else a.insert(a.end(), {"--random-patterns", std::to_string(x.dyn_count)});
        a.insert(a.end(), proc.begin(), proc.end());
        for (const auto& v : corner_args(x.dyn_corner)) a.push_back(v);
        add(d, group, "dynamics", fmt::format("pattern-switch transients of {} patterns: time to output and energy", x.dyn_count), a, true,
            // Per (pattern, level) switch. ngspice transients grow a little faster than the synapse count (4-7-3: 0.33 s
            // per switch with the validation runs of the default). tabulated (auto above 20,000 transistors): ~55 us
            // per synapse and switch (196-20-10: 0.24 s) plus ~3 s of tables and calibration.
            (tabulated ? 3.0 : 0.0) + static_cast<double>(x.dyn_count * static_cast<long long>(x.dyn_levels.size())) *
                                          (tabulated ? 5.5e-5 * size : 0.33 * std::pow(size / 49.0, 1.2)));
      }
    }
  }
  return st;
}

std::string quote(const std::vector<std::string>& args) {
  std::string s = "nnspice";
  for (const auto& a : args) s += " " + (a.find_first_of(" \"'") == std::string::npos ? a : "'" + a + "'");
  return s;
}

// What a stage depends on, hashed into its stage.json (a store record): its full argv, the bytes of every
// file outside the run folder it names (data, process), and the input hashes of the earlier stages whose
// folders its arguments name (chip, calibration, weights). A changed config thus changes the hash of every
// stage it affects and of everything downstream of them; resume redoes exactly those.
// The earlier stages whose folders stage k's arguments name (its chip, calibration, weights).
std::vector<std::size_t> arg_deps(const std::vector<StageSpec>& stages, std::size_t k, const std::string& out) {
  std::vector<std::size_t> d;
  for (std::size_t j = 0; j < k; ++j) {
    const std::string dir = out + "/" + stages[j].name;
    if (std::any_of(stages[k].args.begin(), stages[k].args.end(), [&](const std::string& a) { return a == dir || a.rfind(dir + "/", 0) == 0; }))
      d.push_back(j);
  }
  return d;
}

std::vector<std::uint64_t> stage_inputs(const std::vector<StageSpec>& stages, const std::string& out) {
  std::vector<std::uint64_t> h(stages.size());
  for (std::size_t k = 0; k < stages.size(); ++k) {
    store::Inputs in;
    in.add("argv", quote(stages[k].args));
    const std::string own = out + "/" + stages[k].name;
    for (const auto& a : stages[k].args) {
      if (a == own || a.rfind(out + "/", 0) == 0) continue;  // inside the run: covered by the stages below
      std::error_code ec;
      if (std::filesystem::is_regular_file(a, ec)) in.add_file(a, a);
    }
    for (std::size_t j : arg_deps(stages, k, out)) in.add(stages[j].name, hex64(h[j]));
    h[k] = in.hash();
  }
  return h;
}

// What must be finished before stage k starts: the stages its arguments name and the one before it in its group.
std::vector<std::vector<std::size_t>> stage_deps(const std::vector<StageSpec>& stages, const std::string& out) {
  std::vector<std::vector<std::size_t>> deps(stages.size());
  for (std::size_t k = 0; k < stages.size(); ++k) {
    deps[k] = arg_deps(stages, k, out);
    for (std::size_t j = k; j-- > 0;)
      if (stages[j].group == stages[k].group) {
        if (std::find(deps[k].begin(), deps[k].end(), j) == deps[k].end()) deps[k].push_back(j);
        break;
      }
  }
  return deps;
}

const store::Kind kStageKind{"run-stage", 1};

// Hash of every file a finished stage left in its folder (stage.json aside): an output edited afterwards
// makes the stage count as not done.
std::string outputs_hash(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file() && it->path().filename() != "stage.json") files.push_back(it->path().lexically_relative(dir).string());
  std::sort(files.begin(), files.end());
  store::Inputs in;
  for (const auto& f : files) in.add_file(f, dir + "/" + f);
  return hex64(in.hash());
}

int run_child(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> argv_s = {"nnspice"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  // The stage is one process of its own: without the MPI launcher's variables it does not join the job.
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) {
    const std::string_view v(*e);
    if (v.rfind("OMPI_", 0) == 0 || v.rfind("PMIX_", 0) == 0 || v.rfind("PMI_", 0) == 0) continue;
    envp.push_back(*e);
  }
  envp.push_back(nullptr);
  const std::string exe = self_executable();
  // A close-on-exec pipe tells an exec that failed (errno) from a stage that ran and exited 127.
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("cannot start a stage: pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("cannot start a stage: fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a killed run takes its stage with it
    if (FILE* f = std::fopen(log.c_str(), "w")) {
      ::dup2(fileno(f), 1);
      std::fclose(f);
    }
    ::execve(exe.c_str(), argv.data(), envp.data());
    const int err = errno;
    [[maybe_unused]] const auto n = ::write(fds[1], &err, sizeof(err));
    std::_Exit(127);
  }
  ::close(fds[1]);
  int exec_errno = 0;
  ssize_t got;
  while ((got = ::read(fds[0], &exec_errno, sizeof(exec_errno))) < 0 && errno == EINTR) {
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  // Every later stage would fail the same way (e.g. nnspice rebuilt or removed while the run goes on): stop here.
  if (got == static_cast<ssize_t>(sizeof(exec_errno)))
    throw std::runtime_error(fmt::format("cannot execute {} for the next stage: {}. Was nnspice rebuilt or removed during the run? The finished stages "
                                 "are kept: rerun with --resume",
                                 exe, std::strerror(exec_errno)));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::string mean_sd_dat(const char* label, const report::Stat& s) {
  return fmt::format("\"{}\" {} {}\n", label, 100 * s.mean, std::isnan(s.sd) ? 0.0 : 100 * s.sd);
}

// The run's own figures of an experiment: accuracy per model and weight set, and over chips.
void experiment_figures(const report::ExperimentResults& r) {
  const auto& x = r.plan;
  const char* labels[5] = {"ideal model", "chip model,\\nideal weights", "chip model,\\nchip-aware", "circuit,\\nideal weights", "circuit,\\nchip-aware"};
  std::string dat;
  for (std::size_t q = 0; q < 5; ++q) dat += mean_sd_dat(labels[q], r.accuracy_over_chips[q]);
  write_figure(x.dir, "accuracy",
               fmt::format("set bmargin 4\nset style fill solid 0.6\nset boxwidth 0.6\nset ylabel 'test accuracy (%)'\nset yrange [0:105]\n"
                           "set grid ytics\nset title '{}: {} ({} chip{}, mean ± sd)' noenhanced\n"
                           "plot 'accuracy.dat' using 0:2:xtic(1) with boxes notitle, '' using 0:2:3 with yerrorbars lc rgb 'black' pt 0 notitle, "
                           "'' using 0:($2+4):(sprintf('%.1f',$2)) with labels notitle",
                           x.name, x.layers, x.chips, x.chips == 1 ? "" : "s"),
               {{"accuracy.dat", dat}});
  if (x.chips > 1) {
    std::string h;
    for (const auto& c : r.chips) h += fmt::format("{} {}\n", 100 * c.accuracy[3], 100 * c.accuracy[4]);
    write_figure(x.dir, "chips_histogram",
                 fmt::format("bin(x)=0.5*floor(x/0.5)\nset style fill transparent solid 0.5\nset xlabel 'circuit-level test accuracy (%)'\n"
                             "set ylabel 'chips'\nset title '{}: {} chips of {}' noenhanced\nset boxwidth 0.5\n"
                             "plot 'chips.dat' using (bin($1)):(1.0) smooth frequency with boxes title 'ideal weights', "
                             "'' using (bin($2)):(1.0) smooth frequency with boxes title 'chip-aware weights'",
                             x.name, x.chips, x.layers),
                 {{"chips.dat", h}}, {800, 450});
  }
}

nlohmann::json stat_json(const report::Stat& s) {
  auto v = [](double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); };
  return {{"mean", v(s.mean)}, {"sd", v(s.sd)}, {"n", s.n}};
}

// Reads every experiment's stages, draws the run's figures, writes report.md and report.html, and returns
// the run's summary (accuracies per chip and over chips, from the same typed results).
nlohmann::json write_report(const RunConfig& c, const std::string& out, double wall_s) {
  std::vector<report::ExperimentResults> results;
  nlohmann::json summary = {{"config", c.source}, {"wall_s", wall_s}, {"experiments", nlohmann::json::array()}};
  const char* keys[5] = {"ideal_model_ideal_weights", "chip_model_ideal_weights", "chip_model_chip_aware_weights", "circuit_ideal_weights",
                         "circuit_chip_aware_weights"};
  for (const auto& x : c.experiments) {
    const report::ExperimentPlan p = experiment_plan(x, out);
    auto r = report::read_experiment(p, out);
    experiment_figures(r);
    nlohmann::json e = {{"name", x.name}, {"dataset", x.dataset}, {"layers", x.layers}, {"chip_model", p.chip_model}, {"chips", nlohmann::json::array()}};
    for (const auto& ch : r.chips) {
      nlohmann::json a;
      for (std::size_t q = 0; q < 5; ++q) a[keys[q]] = std::isfinite(ch.accuracy[q]) ? nlohmann::json(ch.accuracy[q]) : nlohmann::json(nullptr);
      e["chips"].push_back({{"chip_seed", ch.seed}, {"accuracy", a}, {"circuit_samples", ch.circuit_samples}});
    }
    for (std::size_t q = 0; q < 5; ++q) e["accuracy"][keys[q]] = stat_json(r.accuracy_over_chips[q]);
    summary["experiments"].push_back(e);
    results.push_back(std::move(r));
  }
  report::RunInfo info;
  info.config_source = c.source;
  info.config_text = c.text;
  info.run_dir = out;
  info.wall_s = wall_s;
  info.nnspice_version = nnspice_version();
  info.ngspice_version = sim::Session::ngspice_version();
  const auto rj = nlohmann::json::parse(read_file(out + "/run.json"), nullptr, false);
  if (rj.is_object()) {
    info.host = rj.value("host", "");
    info.time_utc = rj.value("time_utc", "");
    info.command_line = rj.value("command_line", "");
  }
  report::write_run_report(info, results);
  return summary;
}

}  // namespace

report::ExperimentResults read_experiment_results(const Experiment& x, const std::string& out) {
  return report::read_experiment(experiment_plan(x, out), out);
}

void print_plan(const RunConfig& cfg) {
  const auto stages = plan(cfg, cfg.out);
  fmt::print("plan: {} stages into {} (config {})\n", stages.size(), cfg.out, cfg.source);
  for (std::size_t k = 0; k < stages.size(); ++k)
    fmt::print("{:2}. {:<28} {}\n    {}{}\n", k + 1, stages[k].name, stages[k].what, quote(stages[k].args), stages[k].resumable ? " [--resume]" : "");
}

RunOutcome execute_run(const RunConfig& cfg, bool resume) {
  // Under MPI (mpirun -np K) every rank walks the same plan: the stages are taken in waves of stages whose inputs
  // are finished, each wave dealt out by cost over the ranks, each stage run as one child process as without MPI;
  // after each wave the ranks exchange which stages finished. Rank 0 writes the run's own files and the report.
  MpiEnv& mpi = MpiEnv::instance();
  const Exchange ex = mpi.exchange();
  const bool root = ex.rank == 0;
  const auto stages = plan(cfg, cfg.out);
  preflight(cfg);
  if (!resume && file_exists(cfg.out + "/config.yaml"))
    throw InputError(fmt::format("{} already holds a run: pass --resume to continue it, or choose another --out", cfg.out));
  // A changed config is allowed: each stage compares its recorded inputs with the new ones (stage_inputs).
  const auto inputs = stage_inputs(stages, cfg.out);
  const auto deps = stage_deps(stages, cfg.out);
  mpi.barrier();  // every rank has looked at the folder before rank 0 writes into it
  if (root) {
    make_dirs(cfg.out);
    write_file_atomic(cfg.out + "/config.yaml", cfg.text);
    write_run_json(cfg.out, {{"config", cfg.source},
                             {"ngspice", sim::Session::ngspice_version()},
                             {"stages", stages.size()},
                             {"resume", resume},
                             {"mpi_ranks", ex.size}});
  }
  mpi.barrier();

  double total_w = 0, done_w = 0;
  for (const auto& s : stages) total_w += s.weight;
  const auto t0 = std::chrono::steady_clock::now();
  enum Status { pending, done, failed_stage, skipped };
  std::vector<Status> status(stages.size(), pending);
  std::vector<char> kept(stages.size(), 0);  // finished earlier (--resume): out of the ETA's rate and remaining work
  const std::string who = ex.distributed() ? fmt::format(" rank {}", ex.rank) : "";
  // Runs stage k (or keeps it, --resume); done or failed_stage.
  auto run_stage = [&](std::size_t k) {
    const auto& s = stages[k];
    const std::string dir = cfg.out + "/" + s.name;
    const std::string marker = dir + "/stage.json", started = dir + ".inputs.json";  // started: beside its .log
    bool fresh = !resume;  // false: the stage may continue its own checkpoints (--resume)
    if (resume) {
      auto finished = store::load_json_record(marker, kStageKind, inputs[k]);
      if (finished && finished.value->value("outputs", std::string()) != outputs_hash(dir)) {
        finished.value.reset();
        finished.reason = "its output files were changed after the stage finished";
      }
      if (finished) {
        fmt::print(stderr, "[run{} {}/{}] {}: done earlier, kept\n", who, k + 1, stages.size(), s.name);
        kept[k] = 1;
        return done;
      }
      // Interrupted or changed: its own checkpoints count only when they were made from the same inputs.
      const auto begun = store::load_json_record(started, kStageKind, inputs[k]);
      if (!finished.missing() || (!begun && !begun.missing())) {
        store::notice(finished.missing() ? started : marker, finished.missing() ? begun.reason : finished.reason,
                      fmt::format("stage {} is redone from scratch", s.name));
        std::filesystem::remove_all(dir);
        fresh = true;
      }
    }
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // Seconds per unit of stage weight: the weights are seconds on the project's machine, taken as 30 s of prior
    // evidence, so the first (cheap) stages do not extrapolate wildly.
    const double prior = 30;
    const double rate = (el + prior) / (done_w + prior);
    fmt::print(stderr, "[run{} {}/{}] {}: {} (elapsed {}, ETA {})\n", who, k + 1, stages.size(), s.name, s.what, format_duration(el),
               format_duration(rate * (total_w - done_w) / ex.size));
    std::vector<std::string> args = s.args;
    if (!fresh && s.resumable && file_exists(dir)) args.push_back("--resume");
    make_dirs(std::filesystem::path(dir).parent_path().string());
    store::write_json_record(started, kStageKind, inputs[k], {{"command", quote(s.args)}});
    const auto ts = std::chrono::steady_clock::now();
    const int rc = run_child(args, cfg.out + "/" + s.name + ".log");
    const double stage_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
    if (rc != 0) {
      fmt::print(stderr, "[run{}] stage {} failed (exit {}); its output: {}.log\n", who, s.name, rc, cfg.out + "/" + s.name);
      return failed_stage;
    }
    make_dirs(dir);
    store::write_json_record(marker, kStageKind, inputs[k], {{"command", quote(args)}, {"wall_s", stage_s}, {"outputs", outputs_hash(dir)}});
    return done;
  };
  // Runs stage k unless a stage it depends on failed or was skipped.
  auto attempt = [&](std::size_t k) {
    for (std::size_t d : deps[k])
      if (status[d] == failed_stage || status[d] == skipped) {
        fmt::print(stderr, "[run{}] skipping {} (depends on {})\n", who, stages[k].name, stages[d].name);
        return skipped;
      }
    return run_stage(k);
  };
  auto finish = [&](std::size_t k, Status st) {
    status[k] = st;
    if (st == done && kept[k])
      total_w -= stages[k].weight;  // took no time now: counting it as done work would make the ETA far too short
    else if (st == done)
      done_w += stages[k].weight;
  };
  if (!ex.distributed()) {
    for (std::size_t k = 0; k < stages.size(); ++k) finish(k, attempt(k));
  } else {
    std::vector<std::size_t> level(stages.size(), 0);
    std::size_t levels = 0;
    for (std::size_t k = 0; k < stages.size(); ++k) {
      for (std::size_t d : deps[k]) level[k] = std::max(level[k], level[d] + 1);
      levels = std::max(levels, level[k] + 1);
    }
    for (std::size_t L = 0; L < levels; ++L) {
      // The wave's stages, costliest first, each to the least loaded rank (the same deal on every rank).
      std::vector<std::size_t> wave;
      for (std::size_t k = 0; k < stages.size(); ++k)
        if (level[k] == L) wave.push_back(k);
      std::stable_sort(wave.begin(), wave.end(), [&](std::size_t a, std::size_t b) { return stages[a].weight > stages[b].weight; });
      std::vector<double> load(static_cast<std::size_t>(ex.size), 0.0);
      std::vector<std::size_t> mine;
      for (std::size_t k : wave) {
        const std::size_t r = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
        load[r] += stages[k].weight;
        if (static_cast<int>(r) == ex.rank) mine.push_back(k);
      }
      std::sort(mine.begin(), mine.end());
      nlohmann::json msg = nlohmann::json::array();
      for (std::size_t k : mine) {
        const int st = static_cast<int>(attempt(k));
        msg.push_back({k, st, kept[k] != 0});  // kept: every rank's ETA leaves it out (finish)
      }
      for (const auto& bytes : ex.allgather(msg.dump()))
        for (const auto& e : nlohmann::json::parse(bytes)) {
          const auto k = e[0].get<std::size_t>();
          const int st = e[1].get<int>();
          if (k >= stages.size() || level[k] != L || st < done || st > skipped || !e[2].is_boolean())
            throw std::runtime_error(fmt::format("run: a rank reported stage {} with status {} in wave {}", k, st, L));
          kept[k] = e[2].get<bool>() ? 1 : 0;
          finish(k, static_cast<Status>(st));
        }
    }
  }
  const int failed = static_cast<int>(std::count(status.begin(), status.end(), failed_stage));
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!root) return {failed, wall};
  nlohmann::json summary = write_report(cfg, cfg.out, wall);
  summary["failed_stages"] = failed;
  write_json(cfg.out + "/summary.json", summary);
  for (const auto& e : summary["experiments"]) {
    const auto& a = e["accuracy"];
    auto p = [](const nlohmann::json& v) {
      return v.is_object() && v["mean"].is_number() ? fmt::format("{:.2f} %", 100 * v["mean"].get<double>()) : std::string("n/a");
    };
    fmt::print("{} ({} {}): ideal {} | chip model, ideal weights {} | chip-aware {} | circuit: ideal weights {}, chip-aware {}\n",
               e["name"].get<std::string>(), e["dataset"].get<std::string>(), e["layers"].get<std::string>(), p(a["ideal_model_ideal_weights"]),
               p(a["chip_model_ideal_weights"]), p(a["chip_model_chip_aware_weights"]), p(a["circuit_ideal_weights"]), p(a["circuit_chip_aware_weights"]));
  }
  return {failed, wall};
}

int cmd_run(int argc, char** argv) {
  po::options_description o("Options");
  o.add_options()
    ("config", po::value<std::string>()->default_value(""), "run config YAML (default: the embedded default, see --print-default)")
    ("out,o", po::value<std::string>(), "output folder (overrides the config's `out`)")
    ("resume", po::bool_switch(), "continue an interrupted run: finished stages are kept, the interrupted one resumes")
    ("dry-run", po::bool_switch(), "print the plan (every stage and its command) and exit")
    ("print-default", po::bool_switch(), "print the embedded default config and exit");
  po::positional_options_description pos;
  pos.add("config", 1);
  po::variables_map vm;
  if (!parse_options(argc, argv, o, vm, "nnspice run [config.yaml] [--out DIR] [--resume] [--dry-run]",
                     "The whole method end to end: draw a chip, characterise it, train ideal and chip-aware 3-bit networks,\n"
                     "measure behavioural and circuit-level accuracy, simulate pattern-switch transients (time to output, energy\n"
                     "per operation), and write report.html + report.md with figures, summary.json, config.yaml and run.json into one folder.\n"
                     "Unknown keys or wrong types in the config are rejected before any work starts.\n"
                     "Under MPI (mpirun -np K nnspice run ...) the ranks share out the stages whose inputs are ready (chips of\n"
                     "an experiment in parallel); every stage runs as without MPI, so the results are those of one process.",
                     &pos))
    return 0;
  if (vm["print-default"].as<bool>()) {
    fmt::print("{}", kDefaultConfig);
    return 0;
  }
  const std::string cfg_path = vm["config"].as<std::string>();
  RunConfig cfg = cfg_path.empty() ? parse_run_config(kDefaultConfig, "(embedded default)") : parse_run_config(read_file(cfg_path, kConfigFileLimit), cfg_path);
  if (vm.count("out")) cfg.out = vm["out"].as<std::string>();
  const bool resume = vm["resume"].as<bool>();
  if (vm["dry-run"].as<bool>()) {
    print_plan(cfg);
    return 0;
  }
  const RunOutcome r = execute_run(cfg, resume);
  if (MpiEnv::instance().rank() == 0)
    fmt::print("report: {}/report.html (and report.md; {} stage(s) failed, {})\n", cfg.out, r.failed, format_duration(r.wall_s));
  return r.failed ? static_cast<int>(ExitCode::failure) : 0;
}

}  // namespace nnspice::tools
