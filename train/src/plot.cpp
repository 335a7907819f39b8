#include <fmt/format.h>

#include "nnspice/common/csv.hpp"
#include "nnspice/common/figure.hpp"
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
  // The figure reads the result table in place (../learning_curve.csv), no copy under figures/.
  std::string gp = fmt::format(
      "# Learning curve (written by nnspice train)\n"
      "set termoption font ',11'\n"
      "set datafile separator ','\nset key bottom right\nset grid\n"
      "set title \"{}\" noenhanced\nset xlabel 'epoch'\nset ylabel 'accuracy (%)'\nset y2label 'training loss'\n"
      "set ytics nomirror\nset y2tics\nset logscale y2\n"
      "plot '../learning_curve.csv' using 1:3 skip 1 with lines lw 2 title 'train (running)'",
      title);
  if (has_val) gp += ", '' using 1:4 skip 1 with lines lw 2 title 'validation'";
  if (has_test) gp += ", '' using 1:5 skip 1 with lines lw 2 title 'test'";
  gp += ", '' using 1:2 skip 1 axes x1y2 with lines dt 2 title 'loss'\n";
  return write_figure(dir, "learning_curve", gp, {}, {900, 560});
}

}  // namespace nnspice::train
