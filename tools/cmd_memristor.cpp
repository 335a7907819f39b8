// nnspice memristor: device presets and pulse responses, the crossbar netlist through ngspice (G.V check,
// IR-drop sweep), the VTEAM SPICE memristor, in-place training with asymmetric pulsed updates, and the
// crossbar + 10-DNPU hybrid MNIST classifier (docs/memristor.md). Thin: options -> nnspice_memristor.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <optional>
#include <sstream>

#include "cli_util.hpp"
#include "commands.hpp"
#include "nnspice/common/csv.hpp"
#include "nnspice/common/error.hpp"
#include "nnspice/common/figure.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/common/npy.hpp"
#include "nnspice/common/progress.hpp"
#include "nnspice/common/rng.hpp"
#include "nnspice/common/run_info.hpp"
#include "nnspice/dnpu/surrogate.hpp"
#include "nnspice/memristor/crossbar.hpp"
#include "nnspice/memristor/device.hpp"
#include "nnspice/memristor/hybrid.hpp"
#include "nnspice/memristor/spice.hpp"
#include "nnspice/memristor/training.hpp"
#include "nnspice/netlist/writer.hpp"
#include "nnspice/sim/session.hpp"
#include "nnspice/train/mnist.hpp"

namespace nnspice::tools {
namespace {

namespace mem = nnspice::memristor;

nlohmann::json device_json(const mem::DeviceParams& p) {
  nlohmann::json j{{"name", p.name}};
  for (const auto& s : mem::device_param_table()) j[s.name] = p.*s.member;
  return j;
}

std::string device_help() {
  std::string h = fmt::format("Device: a preset ({}) or a YAML file with `preset: <name>` (optional) and any of:\n",
                              fmt::join(mem::device_preset_names(), ", "));
  for (const auto& s : mem::device_param_table()) h += fmt::format("  {:<20} [{}, {}] {}  {}\n", s.name, s.lo, s.hi, s.unit, s.help);
  return h;
}

std::vector<std::size_t> parse_size_list(const std::string& s, const char* option) {
  std::vector<std::size_t> out;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    char* end = nullptr;
    const long v = std::strtol(tok.c_str(), &end, 10);
    if (tok.empty() || *end != '\0' || v < 1 || v > 4096) throw InputError(fmt::format("--{} {}: '{}' is not an integer in 1..4096", option, s, tok));
    out.push_back(static_cast<std::size_t>(v));
  }
  if (out.empty()) throw InputError(fmt::format("--{} is empty", option));
  return out;
}

std::vector<std::string> parse_name_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, ',')) if (!tok.empty()) out.push_back(tok);
  return out;
}

/// MNIST-layout IDX files -> pixels scaled to [lo, lo + 1] (columns = samples).
struct Data {
  Eigen::MatrixXd x;
  std::vector<int> y;
};
Data load_images(const std::string& dir, bool test, std::size_t first, std::size_t limit, double lo) {
  const auto s = train::read_idx_split(dir, test);
  if (first >= s.n) throw InputError(fmt::format("{}: {} {} images, none left after the first {}", dir, s.n, test ? "test" : "training", first));
  const std::size_t n = std::min(limit, s.n - first), px = s.rows * s.cols;
  Data d;
  d.x.resize(static_cast<Eigen::Index>(px), static_cast<Eigen::Index>(n));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t p = 0; p < px; ++p) d.x(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(i)) = s.pixels[(first + i) * px + p] / 255.0 + lo;
  d.y.assign(s.labels.begin() + static_cast<std::ptrdiff_t>(first), s.labels.begin() + static_cast<std::ptrdiff_t>(first + n));
  return d;
}

std::vector<double> to_vec(const Eigen::MatrixXd& m) {  // row-major copy for NPY
  std::vector<double> v(static_cast<std::size_t>(m.size()));
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) v[static_cast<std::size_t>(r * m.cols() + c)] = m(r, c);
  return v;
}

/// Random crossbar: conductances uniform in the device window, row voltages uniform in [-v, v].
void random_crossbar(const mem::DeviceParams& p, std::size_t rows, std::size_t cols, double v_max, std::uint64_t seed, Eigen::MatrixXd& g, Eigen::VectorXd& v) {
  Rng rng = Rng::stream(seed, fmt::format("memristor/crossbar/{}x{}", rows, cols));
  g.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
  v.resize(static_cast<Eigen::Index>(rows));
  for (Eigen::Index k = 0; k < g.size(); ++k) g.data()[k] = rng.uniform(p.g_min_S, p.g_max_S);
  for (Eigen::Index k = 0; k < v.size(); ++k) v(k) = rng.uniform(-v_max, v_max);
}

int mem_device(int argc, char** argv) {
  po::options_description d("Options");
  d.add_options()("device,d", po::value<std::string>()->default_value("protonic"), "preset or YAML file")
      ("out,o", po::value<std::string>(), "output directory: pulse_response.csv / .png, summary.json, run.json")
      ("pulses", po::value<long>()->default_value(0), "up pulses then as many down pulses (0 = states - 1)")
      ("seed", seed_value()->default_value(1), "seed of the c2c draws")
      ("json", po::bool_switch(), "print the parameters as JSON");
  po::variables_map vm;
  if (!parse_options(argc, argv, d, vm, "nnspice memristor device [--device NAME|FILE] [--out DIR]",
                     "Shows a device's parameters and its response to up then down pulses.\n\n" + device_help())) return 0;
  const mem::DeviceParams p = mem::load_device(vm["device"].as<std::string>());
  const mem::StepCurve c = mem::step_curve(p);
  if (vm["json"].as<bool>()) {
    fmt::print("{}\n", device_json(p).dump(2));
  } else {
    for (const auto& s : mem::device_param_table()) fmt::print("{:<20} {:<12g} {}\n", s.name, p.*s.member, s.unit);
    fmt::print("symmetry point (normalised state) {:.4f}; up step at w=0 {:.3g}, down step at w=1 {:.3g}\n", mem::symmetry_point(c), c.c0_up, c.c0_down);
  }
  if (!vm.count("out")) return 0;
  const std::string out = vm["out"].as<std::string>();
  make_dirs(out);
  long n = vm["pulses"].as<long>();
  if (n < 0 || n > 1000000) throw InputError(fmt::format("--pulses {}: must be in 0..1000000", n));
  if (n == 0) n = static_cast<long>(p.states) - 1;
  mem::DeviceArray a(p, 1, vm["seed"].as<std::uint64_t>(), "pulse-response");
  Rng rng = Rng::stream(vm["seed"].as<std::uint64_t>(), "memristor/pulse-response");
  std::vector<double> rows{0, a.conductance(0)};
  for (long k = 1; k <= 2 * n; ++k) {
    a.pulse(0, k <= n ? 1 : -1, rng);
    rows.insert(rows.end(), {static_cast<double>(k), a.conductance(0)});
  }
  write_csv(out + "/pulse_response.csv", {"pulse", "g_S"}, rows, 2);
  write_run_json(out, {{"seed", vm["seed"].as<std::uint64_t>()}, {"config", {{"device", device_json(p)}, {"pulses", n}}}});
  write_json(out + "/summary.json", {{"device", device_json(p)}, {"symmetry_point", mem::symmetry_point(c)}, {"pulses_each_way", n}});
  write_figure(out, "pulse_response",
               fmt::format("set termoption noenhanced\nset datafile separator ','\n"
                           "set xlabel 'pulse number ({} up, then {} down)'\nset ylabel 'conductance (uS)'\nset grid\n"
                           "plot '../pulse_response.csv' every ::1 using 1:($2*1e6) with lines title '{}'", n, n, p.name),
               {}, {800, 500});
  return 0;
}

int mem_crossbar(int argc, char** argv) {
  po::options_description d("Options");
  d.add_options()("out,o", po::value<std::string>()->required(), "output directory: crossbar.cir, g_S.npy, v_V.npy, currents.csv, summary.json, run.json")
      ("rows", po::value<std::size_t>()->default_value(64), "rows (inputs)")
      ("cols", po::value<std::size_t>()->default_value(32), "columns (outputs)")
      ("device,d", po::value<std::string>()->default_value("rram"), "device preset or YAML: conductances are drawn uniformly in its window")
      ("v-max", po::value<double>()->default_value(0.2), "row voltages uniform in [-v-max, v-max] (V)")
      ("r-wire", po::value<double>()->default_value(0.0), "wire resistance per cell segment (ohm); 0 = ideal wires")
      ("tolerance", po::value<double>()->default_value(1e-3), "relative tolerance of |I - G.V| / max|G.V| for the pass flag")
      ("seed", seed_value()->default_value(1), "seed of the conductances and voltages");
  po::variables_map vm;
  if (!parse_options(argc, argv, d, vm, "nnspice memristor crossbar --out DIR [--rows 64 --cols 32 --r-wire 0]",
                     "Writes a crossbar netlist with random conductances and row voltages, solves its operating point in ngspice\n"
                     "(in-process) and compares the column currents with G^T V. Exit 1 when the error exceeds --tolerance\n"
                     "without wire resistance.")) return 0;
  const std::size_t rows = vm["rows"].as<std::size_t>(), cols = vm["cols"].as<std::size_t>();
  if (rows < 1 || cols < 1 || rows > 2048 || cols > 2048) throw InputError(fmt::format("--rows {} --cols {}: each must be in 1..2048", rows, cols));
  const double v_max = vm["v-max"].as<double>(), r_wire = vm["r-wire"].as<double>(), tol = vm["tolerance"].as<double>();
  if (!(v_max > 0 && v_max <= 5)) throw InputError(fmt::format("--v-max {}: must be in (0, 5] V", v_max));
  if (!(r_wire >= 0) || !std::isfinite(r_wire)) throw InputError(fmt::format("--r-wire {}: must be >= 0 ohm", r_wire));
  if (!(tol > 0)) throw InputError(fmt::format("--tolerance {}: must be > 0", tol));
  const mem::DeviceParams p = mem::load_device(vm["device"].as<std::string>());
  const std::string out = vm["out"].as<std::string>();
  make_dirs(out);
  Eigen::MatrixXd g;
  Eigen::VectorXd v;
  random_crossbar(p, rows, cols, v_max, vm["seed"].as<std::uint64_t>(), g, v);
  write_file_atomic(out + "/crossbar.cir", netlist::write_ngspice(mem::crossbar_circuit(g, v, r_wire)));
  write_npy(out + "/g_S.npy", to_vec(g), {rows, cols});
  write_npy(out + "/v_V.npy", std::vector<double>(v.data(), v.data() + v.size()), {rows});
  sim::Session session;
  mem::CrossbarSimResult r;
  try {
    r = mem::simulate_crossbar(session, g, v, r_wire);
  } catch (const sim::SimError& e) {
    fmt::print(stderr, "nnspice memristor crossbar: simulator failure: {}\n", e.what());
    return static_cast<int>(ExitCode::sim_failure);
  }
  const Eigen::VectorXd ideal = mem::ideal_column_currents(g, v);
  const double scale = ideal.cwiseAbs().maxCoeff();
  std::vector<double> t;
  double max_rel = 0, max_rel_each = 0;
  for (Eigen::Index j = 0; j < ideal.size(); ++j) {
    const double err = r.i_col_A(j) - ideal(j);
    max_rel = std::max(max_rel, std::abs(err) / scale);
    max_rel_each = std::max(max_rel_each, std::abs(err) / std::max(std::abs(ideal(j)), 1e-3 * scale));
    t.insert(t.end(), {static_cast<double>(j), ideal(j), r.i_col_A(j), err / scale});
  }
  write_csv(out + "/currents.csv", {"column", "i_ideal_A", "i_spice_A", "error_rel_max"}, t, 4);
  const bool pass = max_rel <= tol;
  write_run_json(out, {{"seed", vm["seed"].as<std::uint64_t>()}, {"config", {{"rows", rows}, {"cols", cols}, {"device", device_json(p)}, {"v_max_V", v_max}, {"r_wire_ohm", r_wire}}},
                       {"versions", {{"ngspice", sim::Session::ngspice_version()}}}});
  write_json(out + "/summary.json", {{"rows", rows}, {"cols", cols}, {"r_wire_ohm", r_wire}, {"device", p.name}, {"max_error_rel_to_max_current", max_rel},
                                     {"max_error_rel_per_column", max_rel_each}, {"tolerance", tol}, {"pass", pass}, {"elements", r.elements},
                                     {"newton_iterations", r.newton_iterations}, {"ngspice_wall_s", r.wall_s}});
  fmt::print("{} x {} crossbar, r_wire {} ohm: max |I_spice - G.V| = {:.3e} of max |G.V| ({:.3e} per column) -> {}\n", rows, cols, r_wire, max_rel, max_rel_each,
             pass ? "within tolerance" : "outside tolerance");
  return pass || r_wire > 0 ? 0 : static_cast<int>(ExitCode::failure);
}

int mem_irdrop(int argc, char** argv) {
  po::options_description d("Options");
  d.add_options()("out,o", po::value<std::string>()->required(), "output directory: irdrop.csv, irdrop.png, summary.json, run.json")
      ("sizes", po::value<std::string>()->default_value("8,16,32,64,128"), "square array sizes N (N x N)")
      ("r-wire", po::value<std::string>()->default_value("0.5,2"), "wire resistances per cell segment (ohm), comma-separated")
      ("device,d", po::value<std::string>()->default_value("rram"), "device preset or YAML (conductances uniform in its window)")
      ("v-max", po::value<double>()->default_value(0.2), "row voltages uniform in [0, v-max] (V)")
      ("seed", seed_value()->default_value(1), "seed");
  po::variables_map vm;
  if (!parse_options(argc, argv, d, vm, "nnspice memristor irdrop --out DIR [--sizes 8,16,32,64,128 --r-wire 0.5,2]",
                     "Error of the column currents vs G^T V caused by wire resistance (IR drop), vs array size, through ngspice.")) return 0;
  const auto sizes = parse_size_list(vm["sizes"].as<std::string>(), "sizes");
  std::vector<double> rws;
  for (const auto& s : parse_name_list(vm["r-wire"].as<std::string>())) {
    char* end = nullptr;
    const double x = std::strtod(s.c_str(), &end);
    if (*end != '\0' || !(x > 0) || !std::isfinite(x)) throw InputError(fmt::format("--r-wire: '{}' is not a resistance > 0", s));
    rws.push_back(x);
  }
  if (rws.empty()) throw InputError("--r-wire is empty");
  const double v_max = vm["v-max"].as<double>();
  if (!(v_max > 0 && v_max <= 5)) throw InputError(fmt::format("--v-max {}: must be in (0, 5] V", v_max));
  const mem::DeviceParams p = mem::load_device(vm["device"].as<std::string>());
  const std::string out = vm["out"].as<std::string>();
  make_dirs(out);
  write_run_json(out, {{"seed", vm["seed"].as<std::uint64_t>()}, {"config", {{"sizes", sizes}, {"r_wire_ohm", rws}, {"device", device_json(p)}, {"v_max_V", v_max}}},
                       {"versions", {{"ngspice", sim::Session::ngspice_version()}}}});
  sim::Session session;
  std::vector<double> t;
  nlohmann::json rec = nlohmann::json::array();
  Progress prog("irdrop arrays", sizes.size() * rws.size());
  for (double rw : rws)
    for (std::size_t n : sizes) {
      Eigen::MatrixXd g;
      Eigen::VectorXd v;
      random_crossbar(p, n, n, v_max, vm["seed"].as<std::uint64_t>(), g, v);
      v = v.cwiseAbs();  // unipolar reads: the worst case for IR drop
      mem::CrossbarSimResult r;
      try {
        r = mem::simulate_crossbar(session, g, v, rw);
      } catch (const sim::SimError& e) {
        fmt::print(stderr, "nnspice memristor irdrop: simulator failure at N = {}, r_wire = {}: {}\n", n, rw, e.what());
        return static_cast<int>(ExitCode::sim_failure);
      }
      const Eigen::VectorXd ideal = mem::ideal_column_currents(g, v);
      const Eigen::ArrayXd rel = ((r.i_col_A - ideal).array() / ideal.array()).abs();
      const double mean_rel = rel.mean(), max_rel = rel.maxCoeff();
      // ratio of total wire resistance of a path to the device resistance: N r_wire G_mean (the usual IR-drop figure)
      const double figure = static_cast<double>(n) * rw * g.mean();
      t.insert(t.end(), {static_cast<double>(n), rw, mean_rel, max_rel, figure, r.wall_s});
      rec.push_back({{"n", n}, {"r_wire_ohm", rw}, {"mean_error_rel", mean_rel}, {"max_error_rel", max_rel}, {"n_rwire_gmean", figure},
                     {"elements", r.elements}, {"ngspice_wall_s", r.wall_s}});
      prog.increment(fmt::format("N={} r={}: mean {:.2e}", n, rw, mean_rel));
      fmt::print("N = {:4}  r_wire = {:g} ohm: column-current error mean {:.3e}, max {:.3e} (N r_wire G_mean = {:.3e})\n", n, rw, mean_rel, max_rel, figure);
    }
  prog.finish();
  write_csv(out + "/irdrop.csv", {"n", "r_wire_ohm", "mean_error_rel", "max_error_rel", "n_rwire_gmean", "ngspice_wall_s"}, t, 6);
  write_json(out + "/summary.json", {{"device", p.name}, {"g_min_S", p.g_min_S}, {"g_max_S", p.g_max_S}, {"v_max_V", v_max}, {"results", rec}});
  std::string plot = "set termoption noenhanced\nset datafile separator ','\nset logscale xy\n"
                     "set xlabel 'array size N (N x N)'\nset ylabel 'column-current error |I - G.V| / G.V'\nset grid\nset key top left\nplot ";
  for (std::size_t k = 0; k < rws.size(); ++k)
    plot += fmt::format("{}'../irdrop.csv' every ::1 using ($2=={:g}?$1:1/0):3 with linespoints title 'mean, r_wire {:g} ohm', "
                        "'' every ::1 using ($2=={:g}?$1:1/0):4 with linespoints dt 2 title 'max, r_wire {:g} ohm'",
                        k ? ", " : "", rws[k], rws[k], rws[k], rws[k]);
  write_figure(out, "irdrop", plot, {}, {800, 500});
  return 0;
}

int mem_vteam(int argc, char** argv) {
  po::options_description d("Options");
  mem::VteamParams vp;
  d.add_options()("out,o", po::value<std::string>()->required(), "output directory: vteam.cir, vteam.csv, vteam.png, summary.json, run.json")
      ("amplitude", po::value<double>()->default_value(1.5), "sine amplitude (V)")
      ("frequency", po::value<double>()->default_value(1e6), "sine frequency (Hz)")
      ("periods", po::value<double>()->default_value(2), "periods to simulate")
      ("x0", po::value<double>()->default_value(0.1), "initial state in [0, 1]")
      ("smoothing", po::value<double>(&vp.smoothing)->default_value(vp.smoothing), "softplus smoothing of the thresholds");
  po::variables_map vm;
  if (!parse_options(argc, argv, d, vm, "nnspice memristor vteam --out DIR",
                     "The VTEAM memristor subcircuit (B-sources + state capacitor) under a sine drive in ngspice, next to\n"
                     "the same ODE integrated in C++ (RK4): pinched hysteresis loop, state trace, max deviation.")) return 0;
  const double amp = vm["amplitude"].as<double>(), f = vm["frequency"].as<double>(), periods = vm["periods"].as<double>(), x0 = vm["x0"].as<double>();
  if (!(amp > 0 && amp <= 10)) throw InputError(fmt::format("--amplitude {}: must be in (0, 10] V", amp));
  if (!(f > 0 && f < 1e12)) throw InputError(fmt::format("--frequency {}: must be > 0 Hz", f));
  if (!(periods > 0 && periods <= 100)) throw InputError(fmt::format("--periods {}: must be in (0, 100]", periods));
  if (!(x0 >= 0 && x0 <= 1)) throw InputError(fmt::format("--x0 {}: must be in [0, 1]", x0));
  vp.validate();
  const std::string out = vm["out"].as<std::string>();
  make_dirs(out);
  std::vector<std::string> lines{"nnspice memristor vteam demo"};
  for (auto& l : mem::vteam_subcircuit(vp)) lines.push_back(l);
  lines.push_back(fmt::format("V1 a 0 SIN(0 {:.17g} {:.17g})", amp, f));
  lines.push_back(fmt::format("X1 a 0 vteam x0={:.17g}", x0));
  std::string text;
  for (auto& l : lines) text += l + "\n";
  const double t_stop = periods / f, dt = 1.0 / (f * 1000);
  write_file_atomic(out + "/vteam.cir", text + fmt::format(".tran {:.6g} {:.6g} 0 {:.6g} uic\n.end\n", dt, t_stop, dt));
  sim::Session session;
  sim::TranResult tr;
  try {
    session.load(lines);
    tr = session.tran(dt, t_stop, dt, true);
  } catch (const sim::SimError& e) {
    fmt::print(stderr, "nnspice memristor vteam: simulator failure: {}\n", e.what());
    return static_cast<int>(ExitCode::sim_failure);
  }
  const auto& time = tr.vectors.at("time");
  const auto& xs = tr.vectors.at("v(x1.x)");
  const auto& va = tr.vectors.at("v(a)");
  // C++ reference: RK4 on a fine grid, sampled at ngspice's time points
  const double pi = std::acos(-1.0);
  auto vin = [&](double t) { return amp * std::sin(2 * pi * f * t); };
  double x = x0, tc = 0, max_dev = 0;
  const double h = 1.0 / (f * 20000);
  std::vector<double> t_rows;
  for (std::size_t k = 0; k < time.size(); ++k) {
    while (tc + h <= time[k]) {
      const double k1 = mem::vteam_dxdt(vp, vin(tc), x), k2 = mem::vteam_dxdt(vp, vin(tc + h / 2), x + h / 2 * k1);
      const double k3 = mem::vteam_dxdt(vp, vin(tc + h / 2), x + h / 2 * k2), k4 = mem::vteam_dxdt(vp, vin(tc + h), x + h * k3);
      x += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
      tc += h;
    }
    const double xr = x + (time[k] - tc) * mem::vteam_dxdt(vp, vin(tc), x);
    max_dev = std::max(max_dev, std::abs(xr - xs[k]));
    t_rows.insert(t_rows.end(), {time[k], va[k], mem::vteam_current(vp, va[k], xs[k]), xs[k], xr});
  }
  write_csv(out + "/vteam.csv", {"t_s", "v_V", "i_A", "x_spice", "x_reference"}, t_rows, 5);
  write_run_json(out, {{"config", {{"amplitude_V", amp}, {"frequency_Hz", f}, {"periods", periods}, {"x0", x0}, {"smoothing", vp.smoothing}}},
                       {"versions", {{"ngspice", sim::Session::ngspice_version()}}}});
  double xmin = 1, xmax = 0;
  for (double s : xs) { xmin = std::min(xmin, s); xmax = std::max(xmax, s); }
  write_json(out + "/summary.json", {{"time_points", time.size()}, {"x_min", xmin}, {"x_max", xmax}, {"max_state_deviation_vs_reference", max_dev},
                                     {"newton_iterations", tr.stats.newton_iterations}});
  write_figure(out, "vteam",
               "set termoption noenhanced\nset datafile separator ','\nset multiplot layout 1,2\n"
               "set xlabel 'V (V)'\nset ylabel 'I (uA)'\nset grid\nplot '../vteam.csv' every ::1 using 2:($3*1e6) with lines title 'I-V (ngspice)'\n"
               "set xlabel 't (us)'\nset ylabel 'state x'\nplot '../vteam.csv' every ::1 using ($1*1e6):4 with lines title 'ngspice', "
               "'' every ::1 using ($1*1e6):5 with lines dt 2 title 'C++ RK4'\nunset multiplot",
               {}, {1000, 450});
  fmt::print("VTEAM: {} time points, state {:.3f} ... {:.3f}, max |x_spice - x_reference| = {:.2e}\n", time.size(), xmin, xmax, max_dev);
  return 0;
}

int mem_train(int argc, char** argv) {
  po::options_description d("Options");
  mem::InPlaceOptions o;
  d.add_options()("out,o", po::value<std::string>()->required(), "output directory: summary.json, history.csv, train_accuracy.png, weights_<rule>.npy, run.json")
      ("device,d", po::value<std::string>()->default_value("rram"), "device preset or YAML")
      ("rules", po::value<std::string>()->default_value("ideal,sgd,tiki-taka,shd"), "update rules to compare: ideal, sgd, tiki-taka, shd")
      ("mnist", po::value<std::string>()->default_value("/usr/local/share/nnspice/mnist"), "directory with the four MNIST IDX files")
      ("train-limit", count_value()->default_value(10000), "first N training images")
      ("test-limit", count_value()->default_value(10000), "first N test images")
      ("epochs", po::value<std::size_t>(&o.epochs)->default_value(o.epochs), "epochs")
      ("lr", po::value<double>(&o.learning_rate)->default_value(o.learning_rate), "per-sample learning rate")
      ("w-scale", po::value<double>(&o.w_scale)->default_value(o.w_scale), "weight of a full-window conductance difference")
      ("max-pulses", po::value<long>(&o.max_pulses)->default_value(o.max_pulses), "pulses per device per update")
      ("gamma", po::value<double>(&o.gamma)->default_value(o.gamma), "tiki-taka: W = gamma A + C")
      ("transfer-lr", po::value<double>(&o.transfer_lr)->default_value(o.transfer_lr), "tiki-taka: transfer learning rate")
      ("shd-lr", po::value<double>(&o.shd_lr)->default_value(o.shd_lr), "shd: q += shd-lr p at every transfer")
      ("transfer-columns", po::value<std::size_t>(&o.transfer_columns)->default_value(o.transfer_columns), "tiki-taka: columns transferred per sample")
      ("transfer-every", po::value<std::size_t>(&o.transfer_every)->default_value(o.transfer_every), "shd: samples between full transfers")
      ("pulse-cost", po::value<double>(&o.pulse_cost)->default_value(o.pulse_cost), "shd: update-energy weight lambda, in pulses")
      ("friction", po::value<double>(&o.friction)->default_value(o.friction), "shd: p -= friction p at every transfer")
      ("seed", seed_value(&o.seed)->default_value(o.seed), "seed (d2d, pulses, reads, shuffling)");
  po::variables_map vm;
  if (!parse_options(argc, argv, d, vm, "nnspice memristor train --out DIR [--device rram --rules ideal,sgd,tiki-taka,shd]",
                     "In-place training of a 784 -> 10 softmax layer (bias = an extra row) on device arrays with pulsed, asymmetric\n"
                     "updates; pixels in [0, 1]. Compares the update rules on the same device, data and seed.\n\n" + device_help())) return 0;
  std::vector<mem::UpdateRule> rules;
  for (const auto& r : parse_name_list(vm["rules"].as<std::string>())) rules.push_back(mem::parse_update_rule(r));
  if (rules.empty()) throw InputError("--rules is empty");
  o.validate();
  for (const char* k : {"train-limit", "test-limit"})
    if (vm[k].as<std::size_t>() < 1) throw InputError(fmt::format("--{} {}: must be >= 1", k, vm[k].as<std::size_t>()));
  const mem::DeviceParams p = mem::load_device(vm["device"].as<std::string>());
  const std::string dir = vm["mnist"].as<std::string>(), out = vm["out"].as<std::string>();
  const Data tr = load_images(dir, false, 0, vm["train-limit"].as<std::size_t>(), 0.0);
  const Data te = load_images(dir, true, 0, vm["test-limit"].as<std::size_t>(), 0.0);
  make_dirs(out);
  nlohmann::json cfg{{"device", device_json(p)}, {"rules", vm["rules"].as<std::string>()}, {"train_images", tr.y.size()}, {"test_images", te.y.size()},
                     {"epochs", o.epochs}, {"learning_rate", o.learning_rate}, {"w_scale", o.w_scale}, {"max_pulses", o.max_pulses}, {"gamma", o.gamma},
                     {"transfer_lr", o.transfer_lr}, {"shd_lr", o.shd_lr}, {"transfer_columns", o.transfer_columns}, {"transfer_every", o.transfer_every}, {"pulse_cost", o.pulse_cost}, {"friction", o.friction}};
  write_run_json(out, {{"seed", o.seed}, {"config", cfg}});
  nlohmann::json results = nlohmann::json::object();
  std::vector<double> hist;
  Progress prog("in-place training samples", rules.size() * o.epochs * tr.y.size());
  for (std::size_t k = 0; k < rules.size(); ++k) {
    mem::InPlaceOptions ok = o;
    ok.rule = rules[k];
    const std::size_t base = k * o.epochs * tr.y.size();
    const auto r = mem::train_in_place(p, tr.x, tr.y, te.x, te.y, ok,
                                       [&](std::size_t ep, std::size_t done, std::size_t n) { prog.update(base + ep * n + done, mem::to_string(ok.rule)); });
    nlohmann::json h = nlohmann::json::array();
    for (std::size_t e = 0; e < r.history.size(); ++e) {
      const auto& x = r.history[e];
      h.push_back({{"epoch", e + 1}, {"loss", x.loss}, {"train_accuracy", x.train_accuracy}, {"test_accuracy", x.test_accuracy}, {"pulses", x.pulses}});
      hist.insert(hist.end(), {static_cast<double>(k), static_cast<double>(e + 1), x.loss, 100 * x.train_accuracy, 100 * x.test_accuracy, static_cast<double>(x.pulses)});
    }
    results[mem::to_string(ok.rule)] = {{"test_accuracy", r.test_accuracy}, {"pulses", r.pulses}, {"update_energy_J", r.update_energy_J},
                                        {"symmetry_point_mean", r.symmetry_point_mean}, {"history", h}};
    write_npy(out + "/weights_" + mem::to_string(ok.rule) + ".npy", to_vec(r.weights), {static_cast<std::size_t>(r.weights.rows()), static_cast<std::size_t>(r.weights.cols())});
    fmt::print("{:<10} test accuracy {:.2f} %  ({} pulses, {:.3g} J of updates)\n", mem::to_string(ok.rule), 100 * r.test_accuracy, r.pulses, r.update_energy_J);
    write_json(out + "/summary.json", {{"experiment", "in-place training"}, {"device", device_json(p)}, {"symmetry_point", mem::symmetry_point(mem::step_curve(p))},
                                       {"train_images", tr.y.size()}, {"test_images", te.y.size()}, {"results", results}, {"elapsed_s", prog.elapsed_s()}});
  }
  prog.finish();
  write_csv(out + "/history.csv", {"rule_index", "epoch", "loss", "train_accuracy_pct", "test_accuracy_pct", "pulses"}, hist, 6);
  std::string plot = fmt::format("set termoption noenhanced\nset datafile separator ','\nset xlabel 'epoch'\n"
                                 "set ylabel 'test accuracy (%)'\nset grid\nset key bottom right\nset title 'in-place training on {}'\nplot ", p.name);
  for (std::size_t k = 0; k < rules.size(); ++k)
    plot += fmt::format("{}'../history.csv' every ::1 using ($1=={}?$2:1/0):5 with linespoints title '{}'", k ? ", " : "", k, mem::to_string(rules[k]));
  write_figure(out, "train_accuracy", plot, {}, {800, 500});
  return 0;
}

int mem_hybrid(int argc, char** argv) {
  po::options_description d("Options");
  mem::HybridOptions o;
  o.crossbar.x_max = 0.5;
  o.dnpu.learning_rate = 1e-3;
  o.dnpu.epochs = 5;
  d.add_options()("out,o", po::value<std::string>()->required(), "output directory: summary.json, accuracy.csv, hybrid_accuracy.png, run.json")
      ("model,m", po::value<std::string>()->default_value("dnpu/si-boron-2020"), "DNPU surrogate (see nnspice dnpu --help)")
      ("devices", po::value<std::string>()->default_value("ideal,protonic,rram"), "linear layers to compare: ideal and/or device presets / YAML files")
      ("mnist", po::value<std::string>()->default_value("/usr/local/share/nnspice/mnist"), "directory with the four MNIST IDX files")
      ("train-limit", count_value()->default_value(10000), "first N training images")
      ("val", count_value()->default_value(5000), "validation images: the last N of the training file")
      ("test-limit", count_value()->default_value(10000), "first N test images")
      ("epochs", po::value<std::size_t>(&o.dnpu.epochs)->default_value(o.dnpu.epochs), "epochs")
      ("lr", po::value<double>(&o.dnpu.learning_rate)->default_value(o.dnpu.learning_rate), "Adam learning rate")
      ("batch", po::value<std::size_t>(&o.dnpu.batch)->default_value(o.dnpu.batch), "minibatch size")
      ("no-hardware-aware", po::bool_switch(), "train the ideal layer and only program it for the test")
      ("tile-rows", po::value<std::size_t>(&o.crossbar.tile_rows)->default_value(o.crossbar.tile_rows), "crossbar tile rows")
      ("tile-cols", po::value<std::size_t>(&o.crossbar.tile_cols)->default_value(o.crossbar.tile_cols), "crossbar tile weight columns")
      ("dac-bits", po::value<int>(&o.crossbar.dac_bits)->default_value(o.crossbar.dac_bits), "input DAC bits (0 = ideal)")
      ("adc-bits", po::value<int>(&o.crossbar.adc_bits)->default_value(o.crossbar.adc_bits), "column ADC bits (0 = ideal)")
      ("v-read", po::value<double>(&o.crossbar.v_read_V)->default_value(o.crossbar.v_read_V), "read voltage at |pixel| = 0.5 (V)")
      ("t-read", po::value<double>(&o.crossbar.t_read_s)->default_value(o.crossbar.t_read_s), "read time (s) for the energy")
      ("adc-energy", po::value<double>(&o.crossbar.adc_energy_J)->default_value(o.crossbar.adc_energy_J), "energy per ADC conversion (J, assumption)")
      ("dac-energy", po::value<double>(&o.crossbar.dac_energy_J)->default_value(o.crossbar.dac_energy_J), "energy per DAC conversion (J, assumption)")
      ("dnpu-time", po::value<double>(&o.dnpu_time_s)->default_value(o.dnpu_time_s), "assumed DNPU evaluation time (s)")
      ("chip-seed", seed_value(&o.chip_seed)->default_value(o.chip_seed), "seed of the evaluated chip (d2d, programming, reads)")
      ("seed", seed_value(&o.dnpu.seed)->default_value(o.dnpu.seed), "training seed");
  po::variables_map vm;
  if (!parse_options(argc, argv, d, vm, "nnspice memristor hybrid --out DIR [--devices ideal,protonic,rram]",
                     "MNIST with a crossbar as the 784 -> 30 linear layer of the 10-DNPU classifier (nnspice dnpu mnist, field 3),\n"
                     "hardware-aware training (device model in the loop, straight-through gradients), test on another chip;\n"
                     "energy per inference from the device figures (assumptions in docs/memristor.md).")) return 0;
  o.hardware_aware = !vm["no-hardware-aware"].as<bool>();
  o.dnpu.validate();
  o.crossbar.validate();
  for (const char* k : {"train-limit", "test-limit"})
    if (vm[k].as<std::size_t>() < 1) throw InputError(fmt::format("--{} {}: must be >= 1", k, vm[k].as<std::size_t>()));
  const auto names = parse_name_list(vm["devices"].as<std::string>());
  if (names.empty()) throw InputError("--devices is empty");
  std::vector<std::optional<mem::DeviceParams>> devs;
  for (const auto& n : names) devs.push_back(n == "ideal" ? std::nullopt : std::optional<mem::DeviceParams>(mem::load_device(n)));
  const dnpu::SurrogateModel m = dnpu::load_surrogate(vm["model"].as<std::string>());
  const std::string dir = vm["mnist"].as<std::string>(), out = vm["out"].as<std::string>();
  const std::size_t n_val = vm["val"].as<std::size_t>();
  const Data all = load_images(dir, false, 0, 1u << 30, -0.5);
  if (n_val < 1 || all.y.size() < n_val + 10)
    throw InputError(fmt::format("{}: {} training images; --val {} needs at least {}", dir, all.y.size(), n_val, n_val + 10));
  const std::size_t n_train = std::min(vm["train-limit"].as<std::size_t>(), all.y.size() - n_val);
  if (n_train < vm["train-limit"].as<std::size_t>())
    fmt::print(stderr, "note: --train-limit {}: {} holds {} training images, {} of them for validation (--val); training on {}\n",
               vm["train-limit"].as<std::size_t>(), dir, all.y.size(), n_val, n_train);
  const Eigen::MatrixXd xtr = all.x.leftCols(static_cast<Eigen::Index>(n_train)), xval = all.x.rightCols(static_cast<Eigen::Index>(n_val));
  const std::vector<int> ytr(all.y.begin(), all.y.begin() + static_cast<std::ptrdiff_t>(n_train)), yval(all.y.end() - static_cast<std::ptrdiff_t>(n_val), all.y.end());
  const Data te = load_images(dir, true, 0, vm["test-limit"].as<std::size_t>(), -0.5);
  make_dirs(out);
  write_run_json(out, {{"seed", o.dnpu.seed}, {"config", {{"model", vm["model"].as<std::string>()}, {"devices", names}, {"train_images", n_train}, {"test_images", te.y.size()},
                                                           {"epochs", o.dnpu.epochs}, {"lr", o.dnpu.learning_rate}, {"hardware_aware", o.hardware_aware},
                                                           {"chip_seed", o.chip_seed}, {"dac_bits", o.crossbar.dac_bits}, {"adc_bits", o.crossbar.adc_bits}}}});
  nlohmann::json results = nlohmann::json::array();
  std::vector<double> rows;
  const std::size_t batches = (n_train + o.dnpu.batch - 1) / o.dnpu.batch;
  Progress prog("hybrid batches", devs.size() * o.dnpu.epochs * batches);
  for (std::size_t k = 0; k < devs.size(); ++k) {
    const auto r = mem::train_hybrid(m, devs[k], xtr, ytr, xval, yval, te.x, te.y, o,
                                     [&](std::size_t ep, std::size_t b, std::size_t nb) { prog.update((k * o.dnpu.epochs + ep) * nb + b, names[k]); });
    nlohmann::json j{{"linear_layer", names[k]}, {"test_accuracy", r.train.test_accuracy}, {"best_val_accuracy", r.train.best_val_accuracy},
                     {"best_epoch", r.train.best_epoch}, {"mean_abs_dnpu_current_nA", r.mean_abs_dnpu_current_nA}};
    if (devs[k]) {
      j["device"] = device_json(*devs[k]);
      j["weight_rms_error_rel"] = r.weight_rms_error;
      j["tiles"] = r.tiles;
      j["devices"] = r.devices;
      j["energy_per_inference_J"] = {{"crossbar_array", r.crossbar_energy.array_J}, {"dac", r.crossbar_energy.dac_J}, {"adc", r.crossbar_energy.adc_J},
                                     {"dnpu_assumed", r.dnpu_energy_J}, {"total", r.crossbar_energy.total_J() + r.dnpu_energy_J}};
    }
    results.push_back(j);
    rows.insert(rows.end(), {static_cast<double>(k), 100 * r.train.test_accuracy, 100 * r.train.best_val_accuracy,
                             devs[k] ? r.crossbar_energy.total_J() + r.dnpu_energy_J : 0.0});
    fmt::print("{:<10} test accuracy {:.2f} %{}\n", names[k], 100 * r.train.test_accuracy,
               devs[k] ? fmt::format("  (energy per inference: array {:.3g} J, DAC {:.3g} J, ADC {:.3g} J, DNPUs {:.3g} J assumed)", r.crossbar_energy.array_J,
                                     r.crossbar_energy.dac_J, r.crossbar_energy.adc_J, r.dnpu_energy_J)
                         : std::string());
    write_json(out + "/summary.json", {{"experiment", "hybrid crossbar + 10 DNPUs, MNIST"}, {"model", vm["model"].as<std::string>()}, {"train_images", n_train},
                                       {"test_images", te.y.size()}, {"epochs", o.dnpu.epochs}, {"hardware_aware", o.hardware_aware}, {"results", results},
                                       {"assumptions", {{"t_read_s", o.crossbar.t_read_s}, {"v_read_V", o.crossbar.v_read_V}, {"dac_energy_J", o.crossbar.dac_energy_J},
                                                        {"adc_energy_J", o.crossbar.adc_energy_J}, {"dnpu_time_s", o.dnpu_time_s}, {"dnpu_bias_V", o.dnpu_bias_V}}},
                                       {"elapsed_s", prog.elapsed_s()}});
  }
  prog.finish();
  write_csv(out + "/accuracy.csv", {"index", "test_accuracy_pct", "best_val_accuracy_pct", "energy_per_inference_J"}, rows, 4);
  std::string labels;
  for (std::size_t k = 0; k < names.size(); ++k) labels += fmt::format("{}'{}' {}", k ? ", " : "", names[k], k);
  write_figure(out, "hybrid_accuracy",
               fmt::format("set termoption noenhanced\nset datafile separator ','\n"
                           "set style fill solid 0.6\nset boxwidth 0.6\nset ylabel 'test accuracy (%)'\nset grid ytics\n"
                           "set xtics ({})\nset yrange [0:100]\nplot '../accuracy.csv' every ::1 using 1:2 with boxes notitle, "
                           "'' every ::1 using 1:2:(sprintf('%.2f', $2)) with labels offset 0,1 notitle", labels),
               {}, {700, 450});
  return 0;
}

const Subcommand kSubs[] = {
    {"device", "a device preset or YAML file: parameters, symmetry point, pulse response (CSV + PNG)", mem_device},
    {"crossbar", "crossbar netlist with random G and V through ngspice: column currents vs G.V", mem_crossbar},
    {"irdrop", "column-current error vs array size with wire resistance (ngspice), CSV + PNG", mem_irdrop},
    {"vteam", "the VTEAM SPICE memristor (B-sources + state capacitor) vs its C++ ODE", mem_vteam},
    {"train", "in-place MNIST training with pulsed asymmetric updates: ideal, SGD, Tiki-Taka, SHD-style", mem_train},
    {"hybrid", "crossbar 784->30 + 10 DNPUs on MNIST: ideal layer vs device presets, energy per inference", mem_hybrid},
};

}  // namespace

int cmd_memristor(int argc, char** argv) { return run_subcommand("memristor", kSubs, argc, argv); }

}  // namespace nnspice::tools
