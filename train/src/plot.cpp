#include <fmt/format.h>

#include <cstdlib>

#include "nnspice/common/csv.hpp"
#include "nnspice/common/fs_util.hpp"
#include "nnspice/train/weights_io.hpp"

namespace nnspice::train {

bool plot_learning_curve(const std::string& dir, const std::vector<EpochRecord>& h, const std::string& title) {
  std::vector<double> data;
  for (const auto& r : h) {
    data.insert(data.end(), {static_cast<double>(r.epoch), r.train_loss, 100 * r.train_accuracy,
                             r.validation_accuracy < 0 ? -1 : 100 * r.validation_accuracy,
                             r.test_accuracy < 0 ? -1 : 100 * r.test_accuracy, r.seconds});
  }
  write_csv(dir + "/learning_curve.csv",
            {"epoch", "train_loss", "train_accuracy_pct", "validation_accuracy_pct", "test_accuracy_pct", "seconds"},
            data, 6);
  const bool has_val = !h.empty() && h.front().validation_accuracy >= 0;
  const bool has_test = !h.empty() && h.front().test_accuracy >= 0;
  std::string gp = fmt::format(
      "# Learning curve (written by nnspice train); run: gnuplot learning_curve.gp\n"
      "set terminal pngcairo size 900,560 font ',11'\nset output 'learning_curve.png'\n"
      "set datafile separator ','\nset key bottom right\nset grid\n"
      "set title \"{}\" noenhanced\nset xlabel 'epoch'\nset ylabel 'accuracy (%)'\nset y2label 'training loss'\n"
      "set ytics nomirror\nset y2tics\nset logscale y2\n"
      "plot 'learning_curve.csv' using 1:3 skip 1 with lines lw 2 title 'train (running)'",
      title);
  if (has_val) gp += ", '' using 1:4 skip 1 with lines lw 2 title 'validation'";
  if (has_test) gp += ", '' using 1:5 skip 1 with lines lw 2 title 'test'";
  gp += ", '' using 1:2 skip 1 axes x1y2 with lines dt 2 title 'loss'\n";
  write_file_atomic(dir + "/learning_curve.gp", gp);
  const std::string cmd = fmt::format("cd '{}' && gnuplot learning_curve.gp > learning_curve.gnuplot.log 2>&1", dir);
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
    fmt::print(stderr, "warning: gnuplot not found; {}/learning_curve.csv and .gp written, no PNG\n", dir);
    return false;
  }
  if (std::system(cmd.c_str()) != 0) {
    fmt::print(stderr, "warning: gnuplot failed (see {}/learning_curve.gnuplot.log); no PNG\n", dir);
    return false;
  }
  return true;
}

}  // namespace nnspice::train
