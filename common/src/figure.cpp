#include "nnspice/common/figure.hpp"

#include <fmt/format.h>

#include <cstdlib>

#include "nnspice/common/error.hpp"
#include "nnspice/common/fs_util.hpp"

namespace nnspice {
namespace {

void check_name(const char* what, const std::string& s) {
  if (s.empty() || s.find_first_of("/'\"\\\n") != std::string::npos || s == "." || s == "..")
    throw InputError(fmt::format("figure {} '{}': must be a plain file name (no '/', quotes or newlines)", what, s));
}

}  // namespace

bool write_figure(const std::string& dir, const std::string& name, const std::string& body, const std::vector<FigureData>& data, FigureSize size) {
  check_name("name", name);
  for (const auto& d : data) check_name("data file", d.file);
  const std::string fig = dir + "/figures";
  make_dirs(fig);
  for (const auto& d : data) write_file_atomic(fig + "/" + d.file, d.text);
  // One script, two terminals: the PNG and the SVG come from the same plot commands. `reset` first, so the SVG
  // pass starts from the same settings as the PNG one (a body that ends on `set format y ''` leaks into it
  // otherwise); it keeps the terminal, output and user variables.
  const std::string gp = fmt::format(
      "# {0}: written by nnspice; redraw with `gnuplot {0}.gp` in this folder (PNG and SVG in the folder above)\n"
      "do for [term in \"pngcairo svg\"] {{\n"
      "  reset\n"
      "  if (term eq \"svg\") {{ set terminal svg size {1},{2} dynamic background rgb 'white'; set output '../{0}.svg' }} "
      "else {{ set terminal pngcairo size {1},{2}; set output '../{0}.png' }}\n"
      "{3}\n"
      "  unset output\n"
      "}}\n",
      name, size.width_px, size.height_px, body);
  write_file_atomic(fig + "/" + name + ".gp", gp);
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) {
    fmt::print(stderr, "warning: gnuplot not found; {}/{}.gp and its data written, no PNG/SVG\n", fig, name);
    return false;
  }
  const std::string cmd = fmt::format("cd '{}' && gnuplot '{}.gp' > '{}.gnuplot.log' 2>&1", fig, name, name);
  if (std::system(cmd.c_str()) != 0 || !file_exists(dir + "/" + name + ".png") || !file_exists(dir + "/" + name + ".svg")) {
    fmt::print(stderr, "warning: gnuplot failed (see {}/{}.gnuplot.log); no PNG/SVG\n", fig, name);
    return false;
  }
  return true;
}

}  // namespace nnspice
