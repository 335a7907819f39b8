#include "nnspice/common/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace nnspice {

constexpr double kLogInterval_s = 5.0;
constexpr double kTtyInterval_s = 0.2;

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) return fmt::format("{:.1f}s", s);
  const long t = std::lround(s);
  if (t < 3600) return fmt::format("{}m{:02d}s", t / 60, static_cast<int>(t % 60));
  return fmt::format("{}h{:02d}m", t / 3600, static_cast<int>((t % 3600) / 60));
}

Progress::Progress(std::string label, std::size_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled), tty_(::isatty(2) != 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() {
  if (!finished_ && enabled_ && tty_ && done_ > 0) std::fputc('\n', stderr);
}

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(std::size_t done, const std::string& note) {
  done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (since < (tty_ ? kTtyInterval_s : kLogInterval_s) && done_ < total_) return;
  last_draw_ = now;
  draw(false, note);
}

void Progress::finish(const std::string& note) {
  if (finished_) return;
  finished_ = true;
  if (!enabled_) return;
  draw(true, note);
}

void Progress::draw(bool final_line, const std::string& note) {
  const double el = elapsed_s();
  const double rate = (done_ > base_ && el > 0) ? (done_ - base_) / el : 0;
  const double eta = rate > 0 ? (total_ - std::min(done_, total_)) / rate : NAN;
  const double pct = total_ ? 100.0 * done_ / total_ : 100.0;
  std::string line = fmt::format("{}: {}/{} ({:.0f}%) elapsed {}", label_, done_, total_, pct, format_duration(el));
  if (!final_line) line += " ETA " + format_duration(eta);
  if (!note.empty()) line += "  " + note;
  if (tty_) fmt::print(stderr, "\r\033[K{}{}", line, final_line ? "\n" : "");
  else fmt::print(stderr, "{}\n", line);
  std::fflush(stderr);
}

}  // namespace nnspice
