// Progress with an ETA on stderr for anything longer than a few seconds. On a terminal it redraws
// one line; otherwise (logs, CI) it prints a line at most every `log_interval_s` seconds.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace nnspice {

class Progress {
 public:
  Progress(std::string label, std::size_t total, bool enabled = true);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// Sets the number of finished items (the first `already_done` items at construction do not count for the rate).
  void update(std::size_t done, const std::string& note = {});
  void increment(const std::string& note = {}) { update(done_ + 1, note); }
  void start_from(std::size_t already_done) { base_ = done_ = already_done; }
  void finish(const std::string& note = {});
  double elapsed_s() const;

 private:
  void draw(bool final_line, const std::string& note);
  std::string label_;
  std::size_t total_, done_ = 0, base_ = 0;
  bool enabled_, tty_, finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

/// "1h02m", "3m05s", "12.3s"
std::string format_duration(double seconds);

}  // namespace nnspice
