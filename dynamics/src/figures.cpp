#include "nnspice/dynamics/figures.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "nnspice/common/figure.hpp"

namespace nnspice::dynamics {
namespace {

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

struct Hist {
  double lo = 0, width = 1;
  std::vector<double> count;
};

Hist histogram(const std::vector<double>& v, double lo, double hi, std::size_t bins) {
  Hist h;
  if (!(hi > lo)) hi = lo + 1;
  h.lo = lo;
  h.width = (hi - lo) / static_cast<double>(bins);
  h.count.assign(bins, 0);
  for (double x : v) {
    if (!std::isfinite(x)) continue;
    auto b = static_cast<long>(std::floor((x - lo) / h.width));
    b = std::clamp(b, 0L, static_cast<long>(bins) - 1);
    h.count[static_cast<std::size_t>(b)] += 1;
  }
  const double total = static_cast<double>(v.size());
  if (total > 0)
    for (double& c : h.count) c /= total;  // fraction of patterns
  return h;
}

}  // namespace

bool plot_unit_traces(const std::string& dir, const std::string& name, const std::vector<double>& t,
                      const std::vector<std::vector<std::vector<double>>>& units, const std::string& title) {
  if (t.empty() || units.empty()) return false;
  std::string dat;
  for (std::size_t l = 0; l < units.size(); ++l) {
    dat += fmt::format("# layer {}\n", l + 1);
    for (std::size_t k = 0; k < t.size(); ++k) {
      dat += fmt::format("{}", t[k] * 1e6);
      for (const auto& y : units[l]) dat += fmt::format(" {}", y[k] * 1e9);
      dat += '\n';
    }
    dat += "\n\n";
  }
  const std::size_t L = units.size();
  std::string gp = fmt::format(
      "# Fig. 3: soma input currents after a pattern switch (written by nnspice dynamics)\n"
      "set termoption font ',10'\nset multiplot layout {0},1 title \"{1}\" noenhanced\n"
      "set grid\nunset key\nset xlabel 'time after switch (us)'\n",
      L, title);
  for (std::size_t l = 0; l < L; ++l) {
    gp += fmt::format("set ylabel '{} (nA)'\nplot ", l + 1 == L ? "output units" : fmt::format("hidden layer {}", l + 1));
    for (std::size_t i = 0; i < units[l].size(); ++i)
      gp += fmt::format("{}'{}.dat' index {} using 1:{} with lines lw {}", i ? ", " : "", name, l, i + 2, l + 1 == L ? 2 : 1);
    gp += '\n';
  }
  gp += "unset multiplot\n";
  return write_figure(dir, name, gp, {{name + ".dat", dat}}, {900, static_cast<int>(260 * L + 60)});
}

bool plot_tto_vs_power(const std::string& dir, const std::string& name, const std::vector<LevelSeries>& levels, const std::string& title) {
  double tmax = 0, pmin = 1e300, pmax = 0;
  for (const auto& lv : levels) {
    for (double x : lv.tto_s) tmax = std::max(tmax, x * 1e6);
    for (double p : lv.power_W)
      if (std::isfinite(p)) pmin = std::min(pmin, p * 1e6), pmax = std::max(pmax, p * 1e6);
  }
  if (tmax <= 0 || pmax <= 0) return false;
  pmin = std::max(0.0, pmin - 0.05 * (pmax - pmin));
  pmax = pmax + 0.05 * (pmax - pmin) + 1e-9;
  tmax *= 1.05;
  const std::size_t bins = 30;
  std::string gp = fmt::format(
      "# Fig. 4: time to output vs average power with marginal histograms (written by nnspice dynamics)\n"
      "set termoption font ',10'\nset multiplot title \"{}\" noenhanced\n",
      title);
  std::vector<FigureData> data;
  std::string main_plot = "plot ", top_plot = "plot ", right_plot = "plot ";
  for (std::size_t k = 0; k < levels.size(); ++k) {
    const auto& lv = levels[k];
    std::string dat;
    for (std::size_t i = 0; i < lv.tto_s.size() && i < lv.power_W.size(); ++i)
      dat += fmt::format("{} {}\n", lv.tto_s[i] * 1e6, lv.power_W[i] * 1e6);
    data.push_back({fmt::format("{}_{}.dat", name, k), dat});
    std::vector<double> t_us, p_uw;
    for (double x : lv.tto_s) t_us.push_back(x * 1e6);
    for (double p : lv.power_W) p_uw.push_back(p * 1e6);
    const Hist ht = histogram(t_us, 0, tmax, bins), hp = histogram(p_uw, pmin, pmax, bins);
    std::string hd;
    for (std::size_t b = 0; b < bins; ++b)
      hd += fmt::format("{} {} {} {}\n", ht.lo + (b + 0.5) * ht.width, ht.count[b], hp.lo + (b + 0.5) * hp.width, hp.count[b]);
    data.push_back({fmt::format("{}_{}_hist.dat", name, k), hd});
    const char* col = kColors[k % 6];
    main_plot += fmt::format("{}'{}_{}.dat' using 1:2 with points pt 7 ps 0.6 lc rgb '{}' title \"{}\"", k ? ", " : "", name, k, col, lv.name);
    top_plot += fmt::format("{}'{}_{}_hist.dat' using 1:2 with steps lw 2 lc rgb '{}' notitle", k ? ", " : "", name, k, col);
    right_plot += fmt::format("{}'{}_{}_hist.dat' using 4:3 with steps lw 2 lc rgb '{}' notitle", k ? ", " : "", name, k, col);
  }
  gp += fmt::format(
      "set origin 0,0\nset size 0.75,0.72\nset grid\nset key top right\nset xrange [0:{0}]\nset yrange [{1}:{2}]\n"
      "set xlabel 'time to output (us)'\nset ylabel 'average power to output (uW)'\n{3}\n"
      "set origin 0,0.70\nset size 0.75,0.25\nunset key\nset xlabel ''\nset ylabel 'fraction'\nset yrange [0:*]\nset format x ''\n{4}\n"
      "set origin 0.73,0\nset size 0.27,0.72\nset format x '%g'\nset xrange [0:*]\nset yrange [{1}:{2}]\nset xlabel 'fraction'\nset ylabel ''\n"
      "set format y ''\n{5}\nunset multiplot\n",
      tmax, pmin, pmax, main_plot, top_plot, right_plot);
  return write_figure(dir, name, gp, data, {900, 860});
}

bool plot_energy_vs_runtime(const std::string& dir, const std::string& name, const std::vector<LevelSeries>& levels, double ops,
                            const std::string& title) {
  if (levels.empty() || !(ops > 0)) return false;
  std::string gp = fmt::format(
      "# Fig. 4: energy per operation vs run time per pattern (written by nnspice dynamics)\n"
      "set termoption font ',10'\nset title \"{}\" noenhanced\nset grid\n"
      "set xlabel 'run time per pattern (us)'\nset ylabel 'energy per operation (pJ)'\nset key top left\nplot ",
      title);
  std::vector<FigureData> data;
  for (std::size_t k = 0; k < levels.size(); ++k) {
    const auto& lv = levels[k];
    std::string dat;
    for (std::size_t i = 0; i < lv.run_time_s.size(); ++i)
      dat += fmt::format("{} {} {}\n", lv.run_time_s[i] * 1e6, lv.curve_mean_J[i] / ops * 1e12, lv.curve_sd_J[i] / ops * 1e12);
    data.push_back({fmt::format("{}_{}_curve.dat", name, k), dat});
    std::string pts;
    for (std::size_t i = 0; i < lv.tto_s.size() && i < lv.energy_tto_J.size(); ++i)
      pts += fmt::format("{} {}\n", lv.tto_s[i] * 1e6, lv.energy_tto_J[i] / ops * 1e12);
    data.push_back({fmt::format("{}_{}_points.dat", name, k), pts});
    const char* col = kColors[k % 6];
    gp += fmt::format(
        "{0}'{1}_{2}_curve.dat' using 1:2:3 with yerrorlines lc rgb '{3}' pt 7 ps 0.4 title \"{4}: running T per pattern (mean +- sd)\", "
        "'{1}_{2}_points.dat' using 1:2 with points pt 6 ps 0.6 lc rgb '{3}' title \"{4}: stop at time to output\"",
        k ? ", " : "", name, k, col, lv.name);
  }
  return write_figure(dir, name, gp, data, {900, 600});
}

}  // namespace nnspice::dynamics
