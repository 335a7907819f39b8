// Figures: one gnuplot script rendered as PNG and SVG side by side (docs/conventions.md, "Figures").
// A stage folder shows results first: DIR/NAME.png and DIR/NAME.svg; the script, its data and gnuplot's log
// live in DIR/figures/ (NAME.gp, the data files, NAME.gnuplot.log), so `cd DIR/figures && gnuplot NAME.gp`
// redraws both.
#pragma once

#include <string>
#include <vector>

namespace nnspice {

/// A data file of a figure, written to DIR/figures/`file` (a plain file name, no '/').
struct FigureData {
  std::string file;
  std::string text;
};

struct FigureSize {
  int width_px = 900, height_px = 500;
};

/// Writes DIR/figures/NAME.gp and the data files, then runs gnuplot (in DIR/figures) for DIR/NAME.png
/// (pngcairo) and DIR/NAME.svg. `body` is the plot script without terminal or output lines; data paths are
/// the plain file names of `data`, or '../FILE' for a table of DIR that the figure reads in place. Terminal
/// options other than the size go in the body as `set termoption font ',10'` / `set termoption noenhanced`.
/// The body runs once per image, each time after `reset`; a `set multiplot` in it ends with `unset multiplot`.
/// Returns true when both images were written. A missing or failing gnuplot prints one warning naming the
/// log and returns false (the script and data are kept); never throws for it.
/// InputError for a name or data file name that is empty or contains '/' or a quote.
bool write_figure(const std::string& dir, const std::string& name, const std::string& body, const std::vector<FigureData>& data = {},
                  FigureSize size = {});

}  // namespace nnspice
