// write_figure: one script, PNG and SVG side by side, sources under figures/ (docs/conventions.md, "Figures").
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "nnspice/common/error.hpp"
#include "nnspice/common/figure.hpp"
#include "nnspice/common/fs_util.hpp"
#include "../test_support.hpp"

using namespace nnspice;

TEST(Figure, WritesPngAndSvgWithSourcesUnderFigures) {
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) GTEST_SKIP() << "gnuplot not installed";
  const std::string dir = test::scratch_dir("common", "figure");
  ASSERT_TRUE(write_figure(dir, "line", "set xlabel 'x'\nplot 'line.dat' using 1:2 with lines title 'y'", {{"line.dat", "0 1\n1 2\n2 4\n"}}));
  EXPECT_TRUE(file_exists(dir + "/line.png"));
  EXPECT_TRUE(file_exists(dir + "/line.svg"));
  EXPECT_TRUE(file_exists(dir + "/figures/line.gp"));
  EXPECT_TRUE(file_exists(dir + "/figures/line.dat"));
  EXPECT_FALSE(file_exists(dir + "/line.gp"));
  EXPECT_FALSE(file_exists(dir + "/line.dat"));
  EXPECT_NE(read_file(dir + "/line.svg").find("<svg"), std::string::npos);
  const std::string png = read_file(dir + "/line.png");
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
}

TEST(Figure, EachImageStartsFromTheDefaults) {
  // A setting made after the plot must not reach the SVG (drawn second): both images show the key.
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) GTEST_SKIP() << "gnuplot not installed";
  const std::string dir = test::scratch_dir("common", "figure_reset");
  ASSERT_TRUE(write_figure(dir, "keyed", "plot x title 'thekey'\nset key off"));
  // The SVG names each plot in a <title> either way; the key adds its text.
  const std::string svg = read_file(dir + "/keyed.svg");
  const auto first = svg.find("thekey");
  ASSERT_NE(first, std::string::npos);
  EXPECT_NE(svg.find("thekey", first + 1), std::string::npos) << "the SVG has no key";
}

TEST(Figure, AFailingScriptReturnsFalseAndKeepsTheSources) {
  if (std::system("command -v gnuplot > /dev/null 2>&1") != 0) GTEST_SKIP() << "gnuplot not installed";
  const std::string dir = test::scratch_dir("common", "figure_bad");
  EXPECT_FALSE(write_figure(dir, "bad", "plot 'missing.dat' using 1:2"));
  EXPECT_TRUE(file_exists(dir + "/figures/bad.gp"));
  EXPECT_TRUE(file_exists(dir + "/figures/bad.gnuplot.log"));
}

TEST(Figure, NamesMustBePlainFileNames) {
  const std::string dir = test::scratch_dir("common", "figure_names");
  EXPECT_THROW(write_figure(dir, "../x", "plot x"), InputError);
  EXPECT_THROW(write_figure(dir, "a'b", "plot x"), InputError);
  EXPECT_THROW(write_figure(dir, "", "plot x"), InputError);
  EXPECT_THROW(write_figure(dir, "ok", "plot x", {{"sub/d.dat", ""}}), InputError);
}
