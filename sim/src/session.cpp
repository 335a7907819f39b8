// In-process libngspice driver. Every ngspice call runs with the process's working directory set to the
// session's scratch directory and with ngspice's SendChar output captured; failures are detected from that
// text (ngspice_text.hpp) and from the plot/vectors the analysis must produce. docs/ngspice.md explains why.
#include "nnspice/sim/session.hpp"

#include <fcntl.h>
#include <ngspice/sharedspice.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <tuple>

#include <fmt/format.h>

#include "ngspice_text.hpp"
#include "nnspice/netlist/spice_text.hpp"

// libngspice leaks a few kB per load/op/remove cycle (ngspice-notes.md) and keeps global state until exit.
// Under LeakSanitizer those are libngspice's leaks, not ours: suppress reports whose stack is inside it.
#if defined(__SANITIZE_ADDRESS__)
#define NNSPICE_SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NNSPICE_SIM_ASAN 1
#endif
#endif
#ifdef NNSPICE_SIM_ASAN
extern "C" __attribute__((visibility("default"), used)) const char* __lsan_default_suppressions() {
  return "leak:libngspice.so\n";
}
#endif

namespace nnspice::sim {

SimError::SimError(const std::string& message, std::vector<std::string> log)
    : NumericalError(message), log_(std::move(log)) {}

namespace {

namespace fs = std::filesystem;
using detail::LineKind;

constexpr std::size_t kMaxLogLines = 5000;    // a failed OP of a big circuit prints one line per node
constexpr std::size_t kMaxRelevantLines = 200;
constexpr int kSvVoltage = 3;                  // ngspice's SV_VOLTAGE (enum simvar_types)

/// What ngspice printed during one call.
struct Capture {
  std::vector<std::string> lines;    ///< everything, capped at kMaxLogLines
  std::size_t dropped = 0;           ///< lines beyond the cap
  std::vector<std::string> errors;   ///< error lines, with the lines that belong to an "Error on line" block
  std::vector<std::string> context;  ///< lines explaining a failure (deduplicated)
  int follow = 0;                    ///< lines still to be taken as part of an error block
  bool exited = false;               ///< ControlledExit fired during this call
};

/// The single libngspice image of this process.
struct Library {
  bool initialised = false;
  bool dead = false;  ///< ControlledExit fired: no further call into ngspice is safe
  int exit_status = 0;
  std::string version;
  Capture* capture = nullptr;       ///< where SendChar output goes now (nullptr = discarded)
  const Session* live = nullptr;    ///< the live Session of process `live_pid`
  pid_t live_pid = 0;
  std::mutex registration;          ///< guards `live` while a Session starts or ends
};

Library& lib() {
  static Library instance;
  return instance;
}

void push_limited(std::vector<std::string>& v, const std::string& s, bool unique) {
  if (v.size() >= kMaxRelevantLines) return;
  if (unique && std::find(v.begin(), v.end(), s) != v.end()) return;
  v.push_back(s);
}

int on_send_char(char* text, int /*id*/, void* /*user*/) {
  Capture* c = lib().capture;
  if (text == nullptr || c == nullptr) return 0;
  const std::string line = detail::strip_stream_prefix(text);
  if (c->lines.size() < kMaxLogLines) {
    c->lines.push_back(line);
  } else {
    ++c->dropped;
  }
  if (c->follow > 0) {
    --c->follow;
    push_limited(c->errors, line, false);
    return 0;
  }
  switch (detail::classify_line(line)) {
    case LineKind::error:
      push_limited(c->errors, line, false);
      if (detail::starts_error_block(line)) c->follow = 2;
      break;
    case LineKind::context: {
      // ngspice glues progress onto warnings ("Trying gmin =   1.0000E-03 Warning: singular matrix: ..."):
      // keep the warning itself, once.
      const std::size_t w = line.find("Warning:");
      push_limited(c->context, w != std::string::npos && w > 0 ? line.substr(w) : line, true);
      break;
    }
    case LineKind::plain:
      break;
  }
  return 0;
}

int on_send_stat(char* /*status*/, int /*id*/, void* /*user*/) { return 0; }

int on_controlled_exit(int status, NG_BOOL /*immediate*/, NG_BOOL quit, int /*id*/, void* /*user*/) {
  Library& l = lib();
  l.dead = true;
  l.exit_status = status;
  if (l.capture != nullptr) {
    l.capture->exited = true;
    l.capture->errors.push_back(
        fmt::format("ngspice requested exit (status {}, {})", status, quit ? "quit" : "after an error"));
  }
  return 0;  // never exit(): the caller decides
}

int on_bg_thread_running(NG_BOOL /*running*/, int /*id*/, void* /*user*/) { return 0; }

/// Sends ngspice's output to `c` for the lifetime of this object.
class ScopedCapture {
 public:
  explicit ScopedCapture(Capture* c) : previous_(lib().capture) { lib().capture = c; }
  ~ScopedCapture() { lib().capture = previous_; }
  ScopedCapture(const ScopedCapture&) = delete;
  ScopedCapture& operator=(const ScopedCapture&) = delete;

 private:
  Capture* previous_;
};

/// Enters `dir` and returns to the previous working directory (even a deleted one) on destruction.
class ScopedCwd {
 public:
  explicit ScopedCwd(const std::string& dir) {
    previous_ = ::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (previous_ < 0) {
      throw SimError(fmt::format("cannot remember the working directory: {}", std::strerror(errno)));
    }
    if (::chdir(dir.c_str()) != 0) {
      const int e = errno;
      ::close(previous_);
      throw SimError(fmt::format("cannot enter the scratch directory {}: {}", dir, std::strerror(e)));
    }
  }
  ~ScopedCwd() {
    if (::fchdir(previous_) != 0) {
      // Nothing sensible to do in a destructor; the next ScopedCwd starts from wherever we are.
    }
    ::close(previous_);
  }
  ScopedCwd(const ScopedCwd&) = delete;
  ScopedCwd& operator=(const ScopedCwd&) = delete;

 private:
  int previous_ = -1;
};

std::string current_dir() {
  std::error_code ec;
  fs::path p = fs::current_path(ec);
  return ec ? std::string() : p.string();
}

std::string make_temp_dir(const char* stem) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  pattern += "/";
  pattern += stem;
  pattern += "-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw SimError(fmt::format("cannot create a scratch directory {}: {}", pattern, std::strerror(errno)));
  }
  return std::string(buf.data());
}

void ensure_initialised() {
  Library& l = lib();
  if (l.initialised) return;
  Capture banner;
  {
    ScopedCapture sc(&banner);
    if (ngSpice_Init(on_send_char, on_send_stat, on_controlled_exit, nullptr, nullptr, on_bg_thread_running,
                     nullptr) != 0) {
      throw SimError("ngSpice_Init failed", banner.lines);
    }
  }
  l.initialised = true;
  l.version = detail::parse_version(banner.lines);
}

/// Formats a failure: what failed, then ngspice's error lines, then the lines that explain them.
[[noreturn]] void fail(const std::string& what, const Capture& c) {
  std::vector<std::string> relevant = c.errors;
  relevant.insert(relevant.end(), c.context.begin(), c.context.end());
  std::string msg = what;
  constexpr std::size_t kShowErrors = 12;
  constexpr std::size_t kShowContext = 6;
  const std::size_t show_e = std::min(c.errors.size(), kShowErrors);
  const std::size_t show_c = std::min(c.context.size(), kShowContext);
  if (show_e + show_c > 0) msg += ":";
  for (std::size_t i = 0; i < show_e; ++i) msg += "\n  " + c.errors[i];
  for (std::size_t i = 0; i < show_c; ++i) msg += "\n  " + c.context[i];
  if (relevant.size() > show_e + show_c) {
    msg += fmt::format("\n  ({} more lines in SimError::log())", relevant.size() - show_e - show_c);
  }
  throw SimError(msg, std::move(relevant));
}

std::string format_number(double v) { return fmt::format("{:.17g}", v); }

bool all_finite(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Vectors

const std::vector<double>& Vectors::at(const std::string& name) const {
  const std::string key = detail::to_lower(name);
  if (auto it = data.find(key); it != data.end()) return it->second;
  if (key.rfind("v(", 0) != 0) {
    if (auto it = data.find("v(" + key + ")"); it != data.end()) return it->second;
  }
  std::string have;
  std::size_t n = 0;
  for (const auto& [k, v] : data) {
    if (n++ == 12) {
      have += ", ...";
      break;
    }
    have += (have.empty() ? "" : ", ") + k;
  }
  throw SimError(fmt::format("no vector '{}' in the simulation results ({} vectors: {})", name, data.size(), have));
}

const std::vector<double>& Vectors::current(const std::string& vsource) const {
  return at(detail::to_lower(vsource) + "#branch");
}

// ---------------------------------------------------------------------------------------------------------
// Session

struct Session::Impl {
  SessionOptions options;
  pid_t pid = 0;
  std::string scratch;
  bool owns_scratch = false;
  bool loaded = false;
  std::string load_failure;  ///< why the last load failed ("" = no failed load)
  std::vector<std::string> log;

  void check_usable() const {
    if (::getpid() != pid) {
      throw SimError(fmt::format(
          "this Session belongs to process {} and cannot be used in process {} (after fork, a child "
          "creates its own Session)",
          pid, ::getpid()));
    }
    if (lib().dead) {
      throw SimError(fmt::format(
          "libngspice has exited (ControlledExit, status {}); it cannot be used again in this process",
          lib().exit_status));
    }
  }

  /// Runs one ngspice command in the scratch directory and returns what it printed.
  Capture exec(const std::string& cmd) {
    check_usable();
    Capture c;
    {
      ScopedCwd cwd(scratch);
      ScopedCapture sc(&c);
      std::string buf = cmd;
      ngSpice_Command(buf.data());
    }
    if (c.exited || lib().dead) fail(fmt::format("libngspice exited during '{}'", cmd), c);
    return c;
  }

  /// exec(), throwing SimError(`what`) when ngspice printed an error.
  Capture exec_checked(const std::string& cmd, const std::string& what) {
    Capture c = exec(cmd);
    if (!c.errors.empty()) fail(what, c);
    return c;
  }

  long total_iterations() { return detail::parse_total_iterations(exec("rusage totiter").lines); }

  /// Removes every circuit ngspice holds (a forked child may hold its parent's) and all result plots.
  void clear_circuits() {
    for (int i = 0; i < 100000; ++i) {
      const Capture c = exec("remcirc");
      const bool none = std::any_of(c.lines.begin(), c.lines.end(),
                                    [](const std::string& l) { return detail::contains_ci(l, "no circuit loaded"); });
      if (none) break;
    }
    exec("destroy all");
  }

  struct AnalysisRun {
    Vectors vectors;
    AnalysisStats stats;
  };

  AnalysisRun run_analysis(const std::string& cmd, const std::string& plot_prefix, const std::string& failure) {
    check_usable();
    if (!loaded) {
      throw SimError(load_failure.empty() ? "no circuit loaded (call Session::load first)"
                                          : "no circuit loaded: the last load failed: " + load_failure);
    }
    exec("destroy all");  // free the previous results; the current plot becomes "const"
    for (const auto& [key, value] : options.options) {
      exec_checked(fmt::format("option {}={}", key, value), fmt::format("ngspice rejected 'option {}={}'", key, value));
    }
    const long before = total_iterations();
    const auto t0 = std::chrono::steady_clock::now();
    Capture c = exec(cmd);
    const auto t1 = std::chrono::steady_clock::now();
    log = c.lines;
    if (c.dropped > 0) log.push_back(fmt::format("({} more lines not kept)", c.dropped));
    if (!c.errors.empty()) fail(failure, c);

    const char* plot_c = ngSpice_CurPlot();
    const std::string plot = plot_c != nullptr ? plot_c : "";
    if (plot.rfind(plot_prefix, 0) != 0) {
      fail(fmt::format("{}: ngspice produced no '{}' plot (current plot: '{}')", failure, plot_prefix, plot), c);
    }
    AnalysisRun run;
    copy_vectors(plot, run.vectors, failure, c);
    const long after = total_iterations();
    run.stats.newton_iterations = (after >= 0) ? after - std::max(before, 0L) : 0;
    run.stats.wall_s = std::chrono::duration<double>(t1 - t0).count();
    return run;
  }

  void copy_vectors(const std::string& plot, Vectors& out, const std::string& failure, const Capture& c) {
    std::string plot_buf = plot;
    char** names = ngSpice_AllVecs(plot_buf.data());
    for (int i = 0; names != nullptr && names[i] != nullptr; ++i) {
      std::string name = names[i];
      std::string full = plot + "." + name;
      pvector_info vi = ngGet_Vec_Info(full.data());
      if (vi == nullptr || vi->v_realdata == nullptr || vi->v_length < 0) continue;
      std::vector<double> values(vi->v_realdata, vi->v_realdata + vi->v_length);
      std::string key = detail::to_lower(name);
      const bool is_sweep = key.size() > 6 && key.compare(key.size() - 6, 6, "-sweep") == 0;
      if (vi->v_type == kSvVoltage && key.find('(') == std::string::npos && key.find('#') == std::string::npos &&
          !is_sweep) {
        key = "v(" + key + ")";
      }
      if (!all_finite(values)) {
        fail(fmt::format("{}: vector '{}' holds NaN or infinite values", failure, key), c);
      }
      out.data[key] = std::move(values);
    }
    if (out.data.empty()) fail(fmt::format("{}: plot '{}' holds no vectors", failure, plot), c);
  }
};

Session::Session(SessionOptions options) : impl_(std::make_unique<Impl>()) {
  Library& l = lib();
  // Sessions are not thread-safe, but two threads constructing one at once must still get the clear error.
  const std::lock_guard<std::mutex> lock(l.registration);
  if (l.dead) {
    throw SimError(fmt::format(
        "libngspice has exited (ControlledExit, status {}); it cannot be used again in this process", l.exit_status));
  }
  if (l.live != nullptr && l.live_pid == ::getpid()) {
    throw SimError(
        "another nnspice::sim::Session is alive in this process: libngspice is one global simulator, so only one "
        "Session may exist at a time (use run_parallel for concurrent simulations)");
  }
  for (const auto& [key, value] : options.options) netlist::spice_text::require_option("SessionOptions::options", key, value);
  if (options.num_threads < 1) {
    throw InputError(fmt::format("SessionOptions::num_threads = {}. Violated constraint: num_threads >= 1",
                                 options.num_threads));
  }
  impl_->options = std::move(options);
  impl_->pid = ::getpid();
  if (impl_->options.scratch_dir.empty()) {
    impl_->scratch = make_temp_dir("nnspice-sim");
    impl_->owns_scratch = true;
  } else {
    std::error_code ec;
    fs::create_directories(impl_->options.scratch_dir, ec);
    if (ec || !fs::is_directory(impl_->options.scratch_dir)) {
      throw SimError(fmt::format("cannot create the scratch directory {}: {}", impl_->options.scratch_dir,
                                 ec ? ec.message() : "not a directory"));
    }
    impl_->scratch = fs::absolute(impl_->options.scratch_dir).string();
  }
  try {
    {
      ScopedCwd cwd(impl_->scratch);  // ngspice reads a .spiceinit from the cwd at init
      ensure_initialised();
    }
    impl_->exec_checked(fmt::format("set num_threads={}", impl_->options.num_threads),
                        "ngspice rejected 'set num_threads'");
  } catch (...) {
    if (impl_->owns_scratch) {
      std::error_code ec;
      fs::remove_all(impl_->scratch, ec);
    }
    throw;
  }
  l.live = this;
  l.live_pid = impl_->pid;
}

Session::~Session() {
  if (!impl_) return;
  Library& l = lib();
  if (::getpid() == impl_->pid) {
    const std::lock_guard<std::mutex> lock(l.registration);
    if (!l.dead) {
      try {
        impl_->clear_circuits();
      } catch (...) {
        // Destructors do not throw; a dead ngspice is reported by the next Session.
      }
    }
    if (l.live == this) l.live = nullptr;
    if (impl_->owns_scratch) {
      std::error_code ec;
      fs::remove_all(impl_->scratch, ec);
    }
  }
}

void Session::load(const std::vector<std::string>& lines) {
  impl_->check_usable();
  if (lines.empty()) throw SimError("empty netlist: at least a title line is needed");
  impl_->clear_circuits();
  impl_->loaded = false;
  impl_->load_failure = "(load in progress)";

  const std::string caller_dir = current_dir();
  std::vector<std::string> deck;
  deck.reserve(lines.size() + 1);
  bool in_first = true;
  for (const std::string& raw : lines) {
    // A "line" holding newlines is split, so load({text}) behaves like load_text(text).
    std::size_t start = 0;
    while (start <= raw.size()) {
      std::size_t nl = raw.find('\n', start);
      if (nl == std::string::npos) nl = raw.size();
      std::string line = raw.substr(start, nl - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!in_first) {
        const std::string word = detail::first_word_lower(line);
        if (word == ".control" || word == ".endc") {
          impl_->load_failure = "the netlist has a .control section";
          throw SimError(
              "the netlist has a .control section: the in-process driver runs analyses through Session "
              "methods and does not execute .control blocks (they could send 'quit')");
        }
        line = detail::absolutize_include(line, caller_dir);
      }
      in_first = false;
      deck.push_back(std::move(line));
      start = nl + 1;
      if (nl == raw.size()) break;
    }
  }
  // `.end` terminates the deck; add it when the caller did not.
  auto last = std::find_if(deck.rbegin(), deck.rend(), [](const std::string& l) {
    const std::string w = detail::first_word_lower(l);
    return !w.empty() && w[0] != '*';
  });
  if (deck.size() == 1 || last == deck.rend() || detail::first_word_lower(*last) != ".end") deck.emplace_back(".end");

  std::vector<char*> ptrs;
  ptrs.reserve(deck.size() + 1);
  for (std::string& l : deck) ptrs.push_back(l.data());
  ptrs.push_back(nullptr);

  Capture c;
  {
    ScopedCwd cwd(impl_->scratch);
    ScopedCapture sc(&c);
    ngSpice_Circ(ptrs.data());
  }
  impl_->log = c.lines;
  if (c.exited || lib().dead) {
    impl_->load_failure = "libngspice exited";
    fail("libngspice exited while loading the netlist", c);
  }
  if (!c.errors.empty()) {
    impl_->load_failure = c.errors.front();
    try {
      impl_->clear_circuits();  // leave no half-parsed circuit behind (ngspice would run the previous one)
    } catch (const SimError&) {
      // report the load error, not the cleanup's
    }
    fail("ngspice rejected the netlist", c);
  }
  impl_->loaded = true;
  impl_->load_failure.clear();
}

void Session::load_text(const std::string& netlist) { load(std::vector<std::string>{netlist}); }

OpResult Session::op() {
  auto run = impl_->run_analysis("op", "op", "operating point did not converge");
  return OpResult{std::move(run.vectors), run.stats};
}

void check_transient_size(double t_step_s, double t_stop_s, double t_max_s, const std::string& step_name, const std::string& stop_name,
                          const std::string& max_name) {
  if (!(t_step_s > 0) || !(t_stop_s > 0) || !std::isfinite(t_stop_s)) return;  // range errors are the caller's own message
  const double points = t_stop_s / t_step_s;
  if (!(points <= kMaxAnalysisPoints))
    throw InputError(fmt::format("{} / {} = {:g} / {:g} = {:.3g} time points: more than the bound of {:g} (raise {} or lower {})", stop_name, step_name,
                                 t_stop_s, t_step_s, points, kMaxAnalysisPoints, step_name, stop_name));
  if (t_max_s > 0 && !(t_stop_s / t_max_s <= kMaxAnalysisPoints))
    throw InputError(fmt::format("{} / {} = {:g} / {:g} = {:.3g} time steps at least: more than the bound of {:g} (raise {})", stop_name, max_name,
                                 t_stop_s, t_max_s, t_stop_s / t_max_s, kMaxAnalysisPoints, max_name));
}

double dc_sweep_points(double start, double stop, double step) { return step == 0 ? INFINITY : std::floor((stop - start) / step + 1e-9) + 1; }

TranResult Session::tran(double t_step_s, double t_stop_s, double t_max_s, bool uic) {
  if (!(t_step_s > 0) || !(t_stop_s > 0) || !(t_max_s >= 0) || !std::isfinite(t_stop_s)) {
    throw SimError(fmt::format("invalid transient times: t_step_s = {}, t_stop_s = {}, t_max_s = {} (need "
                               "t_step_s > 0, t_stop_s > 0, t_max_s >= 0)",
                               t_step_s, t_stop_s, t_max_s));
  }
  check_transient_size(t_step_s, t_stop_s, t_max_s, "Session::tran t_step_s", "Session::tran t_stop_s", "Session::tran t_max_s");
  std::string cmd = fmt::format("tran {} {}", format_number(t_step_s), format_number(t_stop_s));
  if (t_max_s > 0) cmd += fmt::format(" 0 {}", format_number(t_max_s));
  if (uic) cmd += " uic";
  auto run = impl_->run_analysis(cmd, "tran", "transient analysis failed");
  const auto& time = run.vectors.at("time");
  run.stats.time_points = static_cast<long>(time.size());
  return TranResult{std::move(run.vectors), run.stats};
}

namespace {

/// Checks one sweep and returns its number of points.
double check_sweep(const std::string& source, double start, double stop, double step) {
  netlist::spice_text::require_name("Session::dc source", source);
  if (!std::isfinite(start) || !std::isfinite(stop) || !std::isfinite(step) || step == 0 ||
      (stop - start) * step < 0) {
    throw SimError(fmt::format("invalid DC sweep of {}: start = {}, stop = {}, step = {} (step must be non-zero "
                               "and point from start to stop)",
                               source, start, stop, step));
  }
  const double n = dc_sweep_points(start, stop, step);
  if (!(n <= kMaxAnalysisPoints))
    throw InputError(fmt::format("DC sweep of {} from {:g} to {:g} by {:g} = {:.3g} points: more than the bound of {:g}", source, start, stop, step, n,
                                 kMaxAnalysisPoints));
  return n;
}

// ngspice looks the source up case-sensitively in lower case.
std::string sweep_args(const std::string& source, double start, double stop, double step) {
  return fmt::format("{} {} {} {}", detail::to_lower(source), format_number(start), format_number(stop),
                     format_number(step));
}

long sweep_points(const Vectors& v) {
  for (const auto& [name, values] : v.data) {
    if (name.size() > 6 && name.compare(name.size() - 6, 6, "-sweep") == 0) return static_cast<long>(values.size());
  }
  return v.data.empty() ? 0 : static_cast<long>(v.data.begin()->second.size());
}

}  // namespace

DcResult Session::dc(const std::string& source, double start, double stop, double step) {
  check_sweep(source, start, stop, step);
  auto run = impl_->run_analysis("dc " + sweep_args(source, start, stop, step), "dc",
                                 fmt::format("DC sweep of {} failed", source));
  run.stats.time_points = sweep_points(run.vectors);
  return DcResult{std::move(run.vectors), run.stats};
}

DcResult Session::dc(const std::string& source, double start, double stop, double step, const std::string& source2,
                     double start2, double stop2, double step2) {
  const double n = check_sweep(source, start, stop, step) * check_sweep(source2, start2, stop2, step2);
  if (!(n <= kMaxAnalysisPoints))
    throw InputError(fmt::format("nested DC sweep of {} inside {} = {:.3g} points: more than the bound of {:g}", source, source2, n, kMaxAnalysisPoints));
  auto run = impl_->run_analysis(
      "dc " + sweep_args(source, start, stop, step) + " " + sweep_args(source2, start2, stop2, step2), "dc",
      fmt::format("DC sweep of {} and {} failed", source, source2));
  run.stats.time_points = sweep_points(run.vectors);
  return DcResult{std::move(run.vectors), run.stats};
}

void Session::alter(const std::string& element, double value) {
  netlist::spice_text::require_name("Session::alter element", element);
  impl_->check_usable();
  if (!impl_->loaded) throw SimError("alter " + element + ": no circuit loaded");
  const std::string cmd = fmt::format("alter {} {}", detail::to_lower(element), format_number(value));
  impl_->log = impl_->exec_checked(cmd, fmt::format("ngspice rejected '{}'", cmd)).lines;
}

void Session::alter(const std::string& element, const std::string& param, double value) {
  netlist::spice_text::require_name("Session::alter element", element);
  netlist::spice_text::require(fmt::format("Session::alter {} parameter", element), param, netlist::spice_text::why_not_option_key(param));
  impl_->check_usable();
  if (!impl_->loaded) throw SimError("alter " + element + ": no circuit loaded");
  const std::string cmd =
      fmt::format("alter {} {}={}", detail::to_lower(element), detail::to_lower(param), format_number(value));
  impl_->log = impl_->exec_checked(cmd, fmt::format("ngspice rejected '{}'", cmd)).lines;
}

void Session::command(const std::string& cmd) {
  const std::string word = detail::first_word_lower(cmd);
  if (word == "quit" || word == "exit" || word == "bg_run" || word == "bg_resume" || word == "bg_halt") {
    throw SimError(fmt::format(
        "refusing to send '{}' to libngspice: 'quit'/'exit' make every later call crash, background runs "
        "race with the next command (docs/ngspice.md)",
        cmd));
  }
  impl_->log = impl_->exec_checked(cmd, fmt::format("ngspice command '{}' failed", cmd)).lines;
}

const std::vector<std::string>& Session::log() const { return impl_->log; }

bool Session::alive() const { return !lib().dead && ::getpid() == impl_->pid; }

std::string Session::ngspice_version() {
  Library& l = lib();
  if (!l.initialised && !l.dead) {
    const std::string dir = make_temp_dir("nnspice-sim");
    try {
      ScopedCwd cwd(dir);
      ensure_initialised();
    } catch (...) {
      std::error_code ec;
      fs::remove_all(dir, ec);
      throw;
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  if (!l.version.empty()) return l.version;
  return "ngspice-" NGSPICE_PACKAGE_VERSION;
}

}  // namespace nnspice::sim
