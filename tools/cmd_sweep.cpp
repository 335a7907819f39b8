// nnspice sweep: a grid over design parameters (temperature, supply, mean input current, network, A_VT and
// transistor-area scale, training corner), each point a Monte Carlo over chips of one experiment of `nnspice
// run`. The grid becomes one run config (one experiment per point) executed in this process by the run's own
// stage machinery (tools/run_exec.hpp), so a sweep resumes stage by stage and a point whose stage fails is
// recorded and the sweep goes on. Then per point: circuit-level accuracy over chips (mean, sd, yield = the
// fraction of chips at or above the target), time to output and energy per operation (chip 0), an area proxy.
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "cli_util.hpp"
#include "commands.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/figure.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/json_util.hpp"
#include "nnspice/common/progress.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/netlist/network.hpp"
#include "nnspice/netlist/process.hpp"
#include "mpi_env.hpp"
#include "run_exec.hpp"
#include "sweep_config.hpp"

namespace po = boost::program_options;

namespace nnspice::tools {
namespace {

std::string fmt_value(double v) { return fmt::format("{}", v); }

struct Point {
  std::vector<std::size_t> index;  // per axis
  Experiment x;
  double area_um2 = 0;
  std::string process_text;  // a derived process (x.process), written before the run
};

// Transistors of a network's chip per device class (somas, switches, readout sinks) and mirror bit.
struct RoleCounts {
  std::array<std::size_t, netlist::kDeviceRoles> role{};
  std::array<std::size_t, 8> mirror_bit{};
};
RoleCounts role_counts(const netlist::NetworkSpec& spec) {
  RoleCounts n;
  for (const auto& t : netlist::enumerate_transistors(spec)) {
    if (t.bit >= 0) ++n.mirror_bit[static_cast<std::size_t>(t.bit)];
    else ++n.role[static_cast<std::size_t>(t.role)];
  }
  return n;
}

// Sum of W*L over every transistor of the chip: the area proxy (counts per network and bit count, enumerated once).
double area_um2(const netlist::Process& p, const std::string& layers, std::map<std::string, RoleCounts>& cache) {
  const netlist::NetworkSpec spec = netlist::NetworkSpec::parse(layers).for_process(p);
  const std::string key = fmt::format("{}/{}", layers, spec.weight_bits);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, role_counts(spec)).first;
  const RoleCounts& n = it->second;
  double a = 0;
  for (std::size_t r = 0; r < netlist::kDeviceRoles; ++r) a += static_cast<double>(n.role[r]) * p.sizes[r].w_m * p.sizes[r].l_m * 1e12;
  for (int m = 0; m < p.weight_bits; ++m)
    a += static_cast<double>(n.mirror_bit[static_cast<std::size_t>(m)]) * p.mirror_size(m).w_m * p.mirror_size(m).l_m * 1e12;
  return a;
}

// The grid's points (the last axis fastest) with their experiments; a derived process is checked here and written
// (to OUT/processes) only when the whole grid is valid.
std::vector<Point> expand(const Sweep& s) {
  const netlist::Process base_process = netlist::load_process_or_default(s.run.process);
  std::map<std::string, RoleCounts> counts;  // per network: enumerating a big chip's transistors once, not per point
  std::vector<Point> pts;
  std::vector<std::size_t> idx(s.axes.size(), 0);
  for (;;) {
    Point p;
    p.index = idx;
    p.x = s.base;
    p.x.name = fmt::format("p{:03}", pts.size());
    p.x.share_preparation = true;
    double avt = 1, area = 1;
    int bits = 0;  // 0: the process's
    bool recalibrated = false;
    for (std::size_t a = 0; a < s.axes.size(); ++a) {
      const Axis& ax = s.axes[a];
      const std::string& t = ax.text[idx[a]];
      const double v = ax.number.empty() ? 0 : ax.number[idx[a]];
      if (ax.name == "temp_C") p.x.eval_corner.temp_C = p.x.dyn_corner.temp_C = v;
      if (ax.name == "vdd_V") p.x.eval_corner.vdd_V = p.x.dyn_corner.vdd_V = v;
      if (ax.name == "input_mean_A") {
        p.x.eval_input_mean = v;
        p.x.dyn_levels = {v};
      }
      if (ax.name == "a_vt_scale") avt = v;
      if (ax.name == "area_scale") area = v;
      if (ax.name == "weight_bits") bits = static_cast<int>(v);
      if (ax.name == "layers") p.x.layers = t;
      if (ax.name == "training") {
        recalibrated = t == "recalibrated";
        if (t != "corner_aware") p.x.train_corners.clear();  // experiment.train.corners are the corner_aware points' only
      }
    }
    if (recalibrated) {
      // Characterised at the point's corner; where that is the sweep's own corner, exactly as a nominal point (so the
      // two share their chips, characterisation and training).
      const double t_nominal = s.run.corner.temp_C.value_or(base_process.temp_C), v_nominal = s.run.corner.vdd_V.value_or(base_process.vdd_V);
      p.x.char_corner = p.x.eval_corner;
      if (p.x.char_corner.temp_C.value_or(t_nominal) == t_nominal) p.x.char_corner.temp_C = s.run.corner.temp_C;
      if (p.x.char_corner.vdd_V.value_or(v_nominal) == v_nominal) p.x.char_corner.vdd_V = s.run.corner.vdd_V;
    }
    netlist::Process proc = base_process;
    if (bits == base_process.weight_bits) bits = 0;
    if (avt != 1 || area != 1 || bits != 0) {
      if (bits != 0) proc.weight_bits = bits;
      for (auto& a : proc.a_vt_V_m) a *= avt;
      for (auto& z : proc.sizes) {
        z.w_m *= std::sqrt(area);
        z.l_m *= std::sqrt(area);
      }
      const std::string file = fmt::format("{}/processes/a_vt_x{}_area_x{}{}.yaml", s.run.out, fmt_value(avt), fmt_value(area),
                                           bits ? fmt::format("_bits{}", bits) : std::string());
      try {
        proc.validate();
      } catch (const InputError& err) {
        throw InputError(fmt::format("{}: a_vt_scale {} x area_scale {}{} of process {} gives an invalid process: {}", s.source, fmt_value(avt),
                                     fmt_value(area), bits ? fmt::format(" with {} weight bits", bits) : std::string(),
                                     proc.source.empty() ? "(default)" : proc.source, err.what()));
      }
      p.x.process = file;
      p.process_text = netlist::process_yaml(proc);
    }
    p.area_um2 = area_um2(proc, p.x.layers, counts);
    p.x.weight_bits = proc.weight_bits;
    pts.push_back(std::move(p));
    std::size_t a = s.axes.size();
    while (a > 0 && ++idx[a - 1] == s.axes[a - 1].text.size()) idx[--a] = 0;
    if (a == 0) break;
  }
  return pts;
}

nlohmann::json num_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

struct PointStats {
  report::Stat circuit_chip, circuit_ideal;
  long chips_evaluated = 0, chips_failed = 0;
  double yield_chip = NAN, yield_ideal = NAN;
  double tto_s = NAN, energy_pJ = NAN, power_W = NAN;
};

void write_sweep_figures(const Sweep& s, const std::vector<Point>& pts, const std::vector<PointStats>& st) {
  // One figure per numeric axis with >= 2 values: the points where every other axis is at its first value, one
  // series per training mode when `training` is an axis too (accuracy vs temperature per training mode).
  std::size_t training = s.axes.size();
  for (std::size_t b = 0; b < s.axes.size(); ++b)
    if (s.axes[b].name == "training") training = b;
  for (std::size_t a = 0; a < s.axes.size(); ++a) {
    const Axis& ax = s.axes[a];
    if (ax.number.size() < 2) continue;
    const std::size_t series = training < s.axes.size() ? s.axes[training].text.size() : 1;
    std::vector<FigureData> data;
    std::string plot;
    for (std::size_t m = 0; m < series; ++m) {
      const std::string label = training < s.axes.size() ? s.axes[training].text[m] : "";
      std::string dat = "# value circuit_chip_aware_mean sd circuit_ideal_mean sd yield_chip_aware yield_ideal\n";
      for (std::size_t k = 0; k < pts.size(); ++k) {
        bool on_line = true;
        for (std::size_t b = 0; b < s.axes.size(); ++b)
          on_line = on_line && (b == a || (b == training ? pts[k].index[b] == m : pts[k].index[b] == 0));
        if (!on_line) continue;
        auto pc = [](double v) { return std::isfinite(v) ? fmt::format("{}", 100 * v) : std::string("NaN"); };
        dat += fmt::format("{} {} {} {} {} {} {}\n", ax.number[pts[k].index[a]], pc(st[k].circuit_chip.mean), pc(st[k].circuit_chip.sd),
                           pc(st[k].circuit_ideal.mean), pc(st[k].circuit_ideal.sd), pc(st[k].yield_chip), pc(st[k].yield_ideal));
      }
      const std::string file = label.empty() ? ax.name + ".dat" : ax.name + "_" + label + ".dat";
      const std::string t = label.empty() ? "" : ", " + label;
      // The ideal weights do not depend on the training mode: drawn once.
      plot += fmt::format("{}'{}' using 1:2:3 with yerrorlines title 'chip-aware weights{}', '' using 1:6 axes x1y2 with linespoints dt 2 "
                          "title 'yield, chip-aware{}'",
                          m ? ", " : "", file, t, t);
      if (m == 0)
        plot += ", '' using 1:4:5 with yerrorlines title 'ideal weights', '' using 1:7 axes x1y2 with linespoints dt 3 title 'yield, ideal weights'";
      data.push_back({file, dat});
    }
    const bool logx = ax.name == "a_vt_scale" || ax.name == "area_scale" || ax.name == "input_mean_A";
    write_figure(s.run.out, "accuracy_vs_" + ax.name,
                 fmt::format("set termoption noenhanced\nset xlabel '{}'\nset ylabel 'circuit-level test accuracy (%)'\nset y2label 'yield (%)'\n"
                             "set y2range [0:105]\nset ytics nomirror\nset y2tics\nset grid\n{}set key outside right\n"
                             "set title 'accuracy (mean +- sd over chips) and yield (target {} %) vs {}'\nplot {}",
                             ax.name, logx ? "set logscale x\n" : "", 100 * s.target, ax.name, plot),
                 data, {1100, 500});
  }
  // Accuracy against energy per operation (chip 0's transients): the trade-off plane of the grid.
  std::string dat;
  for (std::size_t k = 0; k < pts.size(); ++k)
    if (std::isfinite(st[k].energy_pJ) && std::isfinite(st[k].circuit_chip.mean))
      dat += fmt::format("{} {} {}\n", st[k].energy_pJ, 100 * st[k].circuit_chip.mean, pts[k].x.name);
  if (!dat.empty())
    write_figure(s.run.out, "accuracy_vs_energy",
                 "set termoption noenhanced\nset xlabel 'energy per operation to output (pJ, chip 0)'\nset ylabel 'circuit-level accuracy, chip-aware (%)'\n"
                 "set grid\nset title 'grid points: accuracy vs energy'\n"
                 "plot 'energy.dat' using 1:2 with points pt 7 notitle, '' using 1:2:3 with labels offset 1,1 notitle",
                 {{"energy.dat", dat}});
}

}  // namespace

int cmd_sweep(int argc, char** argv) {
  po::options_description o("Options");
  o.add_options()
    ("config", po::value<std::string>(), "sweep YAML (examples/sweep_*.yaml)")
    ("out,o", po::value<std::string>(), "output folder (overrides the config's `out`)")
    ("resume", po::bool_switch(), "continue an interrupted sweep: finished stages of every point are kept")
    ("dry-run", po::bool_switch(), "print the grid and every stage's command, and exit");
  po::positional_options_description pos;
  pos.add("config", 1);
  po::variables_map vm;
  std::string axes_help = "Axes (each a list of values; the grid is their product, at most 1000 points):\n";
  for (const auto& a : sweep_axes()) axes_help += fmt::format("  {:<13} {}\n", a.name, a.meaning);
  if (!parse_options(argc, argv, o, vm, "nnspice sweep sweep.yaml [--out DIR] [--resume] [--dry-run]",
                     "A grid over design parameters, each point a Monte Carlo over chips of one `nnspice run` experiment: per point\n"
                     "circuit-level accuracy over chips (mean, sd, yield = fraction of chips >= target_accuracy) for chip-aware and\n"
                     "ideal weights, time to output and energy per operation (chip 0), an area proxy (sum of W*L). Writes sweep.csv\n"
                     "(a row per point and chip), summary.json, figures, and the run (OUT/run: stages, report.html).\n"
                     "Under MPI (mpirun -np K nnspice sweep ...) the ranks share out the stages (points and chips in parallel);\n"
                     "the results are those of one process.\n" +
                         axes_help,
                     &pos))
    return 0;
  if (!vm.count("config")) throw InputError("a sweep config is required: nnspice sweep sweep.yaml (see --help)");
  const std::string path = vm["config"].as<std::string>();
  Sweep s = parse_sweep(read_file(path, kConfigFileLimit), path);
  if (vm.count("out")) s.run.out = vm["out"].as<std::string>();
  const bool resume = vm["resume"].as<bool>();
  if (!resume && !vm["dry-run"].as<bool>() && file_exists(s.run.out + "/config.yaml"))
    throw InputError(fmt::format("{} already holds a sweep: pass --resume to continue it, or choose another --out", s.run.out));
  const std::vector<Point> pts = expand(s);
  MpiEnv& mpi = MpiEnv::instance();  // under mpirun the ranks share out the run's stages (execute_run); rank 0 writes
  const bool root = mpi.rank() == 0;
  if (!root && !std::freopen("/dev/null", "w", stdout)) throw std::runtime_error("cannot silence stdout of MPI rank");
  RunConfig run = s.run;
  run.out = s.run.out + "/run";
  for (const auto& p : pts) run.experiments.push_back(p.x);
  fmt::print("sweep {}: {} point(s) x {} chip(s) into {}\n", path, pts.size(), s.base.chips, s.run.out);
  for (const auto& p : pts) {
    std::string v;
    for (std::size_t a = 0; a < s.axes.size(); ++a) v += fmt::format("{}{}={}", a ? ", " : "", s.axes[a].name, s.axes[a].text[p.index[a]]);
    fmt::print("  {}: {}\n", p.x.name, v);
  }
  if (vm["dry-run"].as<bool>()) {
    print_plan(run);
    return 0;
  }
  mpi.barrier();  // every rank has looked at --out before rank 0 writes into it
  if (root) {
    make_dirs(s.run.out);
    for (const auto& p : pts)
      if (!p.process_text.empty() && (!file_exists(p.x.process) || read_file(p.x.process) != p.process_text)) {
        make_dirs(s.run.out + "/processes");
        write_file_atomic(p.x.process, p.process_text);
      }
    write_file_atomic(s.run.out + "/config.yaml", s.text);
    write_run_json(s.run.out, {{"config", path}, {"points", pts.size()}, {"chips_per_point", s.base.chips}, {"resume", resume}, {"mpi_ranks", mpi.size()}});
  }
  mpi.barrier();
  const RunOutcome outcome = execute_run(run, resume);
  if (!root) return outcome.failed ? static_cast<int>(ExitCode::failure) : 0;

  // Per point and chip: the typed results of the run's stages.
  std::vector<PointStats> st(pts.size());
  std::string csv = "point";
  for (const auto& a : s.axes) csv += "," + a.name;
  csv += ",chip_seed,chip_model_chip_aware,circuit_ideal,circuit_chip_aware,circuit_samples,time_to_output_s,energy_per_op_pJ,area_um2,status\n";
  nlohmann::json points = nlohmann::json::array();
  for (std::size_t k = 0; k < pts.size(); ++k) {
    const Point& p = pts[k];
    const report::ExperimentResults r = read_experiment_results(p.x, run.out);
    long reached_chip = 0, reached_ideal = 0;
    if (!r.dynamics.empty()) {
      st[k].tto_s = r.dynamics[0].time_to_output_s.mean;
      st[k].energy_pJ = r.dynamics[0].energy_per_op_pJ.mean;
      st[k].power_W = r.dynamics[0].power_W.mean;
    }
    std::string values;
    for (std::size_t a = 0; a < s.axes.size(); ++a) values += "," + s.axes[a].text[p.index[a]];
    // read_experiment gives chip c (seed chip_seed + c) at index c, and the mean / sd over the chips that have each
    // accuracy (a stage that failed leaves NaN).
    for (const report::ChipAccuracy& ca : r.chips) {
      const double acc_chip = ca.accuracy[4], acc_ideal = ca.accuracy[3];
      const bool ok = std::isfinite(acc_chip) && std::isfinite(acc_ideal);
      st[k].chips_failed += !ok;
      reached_chip += acc_chip >= s.target;  // (false for NaN)
      reached_ideal += acc_ideal >= s.target;
      auto cell = [](double v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string(); };
      const bool first = ca.seed == p.x.chip_seed;
      csv += fmt::format("{}{},{},{},{},{},{},{},{},{},{}\n", p.x.name, values, ca.seed, cell(ca.accuracy[2]), cell(acc_ideal), cell(acc_chip),
                         ca.circuit_samples, first ? cell(st[k].tto_s) : "", first ? cell(st[k].energy_pJ) : "", p.area_um2, ok ? "ok" : "failed");
    }
    st[k].circuit_chip = r.accuracy_over_chips[4];
    st[k].circuit_ideal = r.accuracy_over_chips[3];
    st[k].chips_evaluated = std::min(st[k].circuit_chip.n, st[k].circuit_ideal.n);
    if (st[k].circuit_chip.n > 0) st[k].yield_chip = static_cast<double>(reached_chip) / static_cast<double>(st[k].circuit_chip.n);
    if (st[k].circuit_ideal.n > 0) st[k].yield_ideal = static_cast<double>(reached_ideal) / static_cast<double>(st[k].circuit_ideal.n);
    nlohmann::json vals = nlohmann::json::object();
    for (std::size_t a = 0; a < s.axes.size(); ++a) {
      if (s.axes[a].number.empty()) vals[s.axes[a].name] = s.axes[a].text[p.index[a]];
      else vals[s.axes[a].name] = s.axes[a].number[p.index[a]];
    }
    auto stat = [](const report::Stat& x) { return nlohmann::json{{"mean", num_or_null(x.mean)}, {"sd", num_or_null(x.sd)}, {"n", x.n}}; };
    points.push_back({{"point", p.x.name},
                      {"values", vals},
                      {"folder", run.out + "/" + p.x.name},
                      {"chips", p.x.chips},
                      {"chips_evaluated", st[k].chips_evaluated},
                      {"chips_failed", st[k].chips_failed},
                      {"circuit_chip_aware", stat(st[k].circuit_chip)},
                      {"circuit_ideal", stat(st[k].circuit_ideal)},
                      {"yield_chip_aware", num_or_null(st[k].yield_chip)},
                      {"yield_ideal", num_or_null(st[k].yield_ideal)},
                      {"time_to_output_s", num_or_null(st[k].tto_s)},
                      {"energy_per_op_pJ", num_or_null(st[k].energy_pJ)},
                      {"power_W", num_or_null(st[k].power_W)},
                      {"area_um2", p.area_um2},
                      {"status", st[k].chips_failed == 0 ? "ok" : st[k].chips_evaluated == 0 ? "failed" : "partial"}});
  }
  write_file_atomic(s.run.out + "/sweep.csv", csv);
  nlohmann::json axes = nlohmann::json::array();
  for (const auto& a : s.axes) axes.push_back({{"name", a.name}, {"values", a.text}});
  write_json(s.run.out + "/summary.json", {{"config", path},
                                           {"target_accuracy", s.target},
                                           {"yield_is", "fraction of the chips evaluated whose circuit-level test accuracy >= target_accuracy"},
                                           {"axes", axes},
                                           {"points", points},
                                           {"failed_stages", outcome.failed},
                                           {"wall_s", outcome.wall_s},
                                           {"run", run.out}});
  write_sweep_figures(s, pts, st);
  for (std::size_t k = 0; k < pts.size(); ++k) {
    auto pc = [](double v) { return std::isfinite(v) ? fmt::format("{:.2f} %", 100 * v) : std::string("n/a"); };
    fmt::print("{}: circuit chip-aware {} ± {} (yield {}), ideal weights {} (yield {}), {}/{} chips{}\n", pts[k].x.name, pc(st[k].circuit_chip.mean),
               pc(st[k].circuit_chip.sd), pc(st[k].yield_chip), pc(st[k].circuit_ideal.mean), pc(st[k].yield_ideal), st[k].chips_evaluated,
               pts[k].x.chips, st[k].chips_failed ? fmt::format(" ({} failed: see {}/{})", st[k].chips_failed, run.out, pts[k].x.name) : "");
  }
  fmt::print("sweep: {}/sweep.csv, {}/summary.json ({} stage(s) failed, {})\n", s.run.out, s.run.out, outcome.failed, format_duration(outcome.wall_s));
  return outcome.failed ? static_cast<int>(ExitCode::failure) : 0;
}

}  // namespace nnspice::tools
