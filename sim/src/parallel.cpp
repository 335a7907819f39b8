// Persistent forked worker processes for independent simulations. The parent hands out job indices one at a
// time over a socketpair (dynamic dispatch); each child runs the job with its own lazily created Session and
// sends back either the serialised JobData or the error text. A child that dies mid-job fails that job only.
//
// Wire format, child -> parent, one frame per job:
//   u64 payload_size, then payload = u8 flags (bit 0: ok, bit 1: the worker exits after this job), and either (ok) u32 n_vectors, n x { u32 name_size, name,
//   u64 count, count x f64 } or (!ok) the error message bytes.
// Parent -> child: one u64 job index per job; closing the socket tells the child to finish.
#include "nnspice/sim/parallel.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <initializer_list>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <fmt/format.h>

namespace nnspice::sim {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ----- serialisation ------------------------------------------------------------------------------------

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <typename T>
T get(const std::string& in, std::size_t& pos) {
  if (pos + sizeof(T) > in.size()) throw std::runtime_error("truncated result from a worker");
  T v;
  std::memcpy(&v, in.data() + pos, sizeof v);
  pos += sizeof v;
  return v;
}

std::string encode_ok(const JobData& data) {
  std::string payload;
  put<std::uint8_t>(payload, 1);
  put<std::uint32_t>(payload, static_cast<std::uint32_t>(data.size()));
  for (const auto& [name, values] : data) {
    put<std::uint32_t>(payload, static_cast<std::uint32_t>(name.size()));
    payload += name;
    put<std::uint64_t>(payload, values.size());
    payload.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(double));
  }
  return payload;
}

std::string encode_error(const std::string& message) {
  std::string payload;
  put<std::uint8_t>(payload, 0);
  payload += message;
  return payload;
}

JobOutcome decode(const std::string& payload, bool& retiring) {
  JobOutcome out;
  std::size_t pos = 0;
  const auto flags = get<std::uint8_t>(payload, pos);
  out.ok = (flags & 1) != 0;
  retiring = (flags & 2) != 0;
  if (!out.ok) {
    out.error = payload.substr(pos);
    return out;
  }
  const auto n = get<std::uint32_t>(payload, pos);
  for (std::uint32_t i = 0; i < n; ++i) {
    const auto name_size = get<std::uint32_t>(payload, pos);
    if (pos + name_size > payload.size()) throw std::runtime_error("truncated result from a worker");
    std::string name = payload.substr(pos, name_size);
    pos += name_size;
    const auto count = get<std::uint64_t>(payload, pos);
    if (count > (payload.size() - pos) / sizeof(double)) throw std::runtime_error("truncated result from a worker");
    std::vector<double> values(count);
    std::memcpy(values.data(), payload.data() + pos, count * sizeof(double));
    pos += count * sizeof(double);
    out.data.emplace(std::move(name), std::move(values));
  }
  return out;
}

// ----- blocking I/O (child side and job dispatch) ----------------------------------------------------------

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);  // never SIGPIPE
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_all(int fd, char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::read(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// ----- the worker process ---------------------------------------------------------------------------------

[[noreturn]] void worker_main(int fd, const JobFn& fn, SessionOptions session_options) {
  std::unique_ptr<Session> session;
  for (;;) {
    std::uint64_t job = 0;
    if (!read_all(fd, reinterpret_cast<char*>(&job), sizeof job)) break;  // parent closed: done
    std::string payload;
    try {
      if (!session) session = std::make_unique<Session>(session_options);
      payload = encode_ok(fn(*session, static_cast<std::size_t>(job)));
    } catch (const std::exception& e) {
      payload = encode_error(e.what());
    } catch (...) {
      payload = encode_error("unknown exception (not derived from std::exception)");
    }
    std::string frame;
    // libngspice exited (ControlledExit): this process cannot simulate any more; the parent starts a fresh one.
    const bool retiring = session && !session->alive();
    if (retiring) payload[0] = static_cast<char>(payload[0] | 2);
    put<std::uint64_t>(frame, payload.size());
    frame += payload;
    if (!write_all(fd, frame.data(), frame.size()) || retiring) break;
  }
  session.reset();  // removes the scratch directory
  std::fflush(nullptr);
  ::_exit(0);
}

// ----- the parent's view of a worker ------------------------------------------------------------------------

struct Worker {
  pid_t pid = -1;
  int fd = -1;
  bool busy = false;
  bool retiring = false;     ///< announced it exits after its last job: gets no more work
  std::size_t position = 0;  ///< index into the caller's job list of the running job
  Clock::time_point started;
  std::string buffer;        ///< bytes received, not yet a complete frame
};

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = ::sigabbrev_np(sig);
    return abbrev != nullptr ? fmt::format("worker killed by signal {} (SIG{})", sig, abbrev)
                             : fmt::format("worker killed by signal {}", sig);
  }
  if (WIFEXITED(status)) return fmt::format("worker exited with status {}", WEXITSTATUS(status));
  return "worker ended abnormally";
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 0;
  }
  return status;
}

class Pool {
 public:
  Pool(const JobFn& fn, SessionOptions session_options, std::string scratch_base)
      : fn_(fn), session_options_(std::move(session_options)), scratch_base_(std::move(scratch_base)) {}

  ~Pool() {
    // Normal end: closing the socket makes an idle worker exit. Error path (an exception from a callback):
    // busy workers are killed. Either way every child is reaped: no zombies.
    for (Worker& w : workers_) {
      if (w.pid > 0 && w.busy) ::kill(w.pid, SIGKILL);
      if (w.fd >= 0) ::close(w.fd);
      w.fd = -1;
    }
    for (Worker& w : workers_) {
      if (w.pid > 0) wait_for(w.pid);
      w.pid = -1;
    }
    std::error_code ec;
    fs::remove_all(scratch_base_, ec);
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  std::vector<Worker>& workers() { return workers_; }

  /// Starts one worker; returns false (with `error`) when fork or socketpair fail.
  bool spawn(std::string& error) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      error = fmt::format("socketpair: {}", std::strerror(errno));
      return false;
    }
    std::fflush(nullptr);  // buffered output must not be written twice
    const pid_t parent = ::getpid();
    const int serial = next_serial_++;
    const pid_t pid = ::fork();
    if (pid < 0) {
      error = fmt::format("fork: {}", std::strerror(errno));
      ::close(sv[0]);
      ::close(sv[1]);
      return false;
    }
    if (pid == 0) {
      ::close(sv[0]);
      for (const Worker& w : workers_) {
        if (w.fd >= 0) ::close(w.fd);  // other workers' sockets: keep EOF detection exact
      }
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      ::signal(SIGPIPE, SIG_IGN);
      // A terminal's Ctrl-C reaches the whole process group: the worker dies the default way even when the
      // parent handles SIGINT (run_parallel then stops handing out jobs, see `interrupted`).
      for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) ::signal(sig, SIG_DFL);
      // libgomp reads this at program start, so it only reaches processes this worker starts; the real
      // protection against OpenMP spin-waiting is num_threads = 1 (forced when workers > 1).
      ::setenv("OMP_WAIT_POLICY", "passive", 1);
      SessionOptions so = session_options_;
      so.scratch_dir = fmt::format("{}/worker-{}", scratch_base_, serial);
      worker_main(sv[1], fn_, std::move(so));
    }
    ::close(sv[1]);
    Worker w;
    w.pid = pid;
    w.fd = sv[0];
    workers_.push_back(std::move(w));
    return true;
  }

  /// Forgets a worker that has ended (already reaped or to be reaped here).
  void remove(std::size_t i, bool reap) {
    Worker& w = workers_[i];
    if (w.fd >= 0) ::close(w.fd);
    if (reap && w.pid > 0) wait_for(w.pid);
    workers_.erase(workers_.begin() + static_cast<std::ptrdiff_t>(i));
  }

 private:
  const JobFn& fn_;
  SessionOptions session_options_;
  std::string scratch_base_;
  std::vector<Worker> workers_;
  int next_serial_ = 0;
};

std::string make_pool_dir(const std::string& parent) {
  std::string base = parent;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  } else {
    std::error_code ec;
    fs::create_directories(base, ec);
  }
  std::string pattern = base + "/nnspice-pool-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw SimError(fmt::format("cannot create a scratch directory {}: {}", pattern, std::strerror(errno)));
  }
  return fs::absolute(buf.data()).string();
}

}  // namespace

std::vector<JobOutcome> run_parallel(std::size_t n_jobs, const JobFn& fn, const ParallelOptions& options) {
  std::vector<std::size_t> jobs(n_jobs);
  for (std::size_t i = 0; i < n_jobs; ++i) jobs[i] = i;
  return run_parallel(jobs, fn, options);
}

std::vector<JobOutcome> run_parallel(const std::vector<std::size_t>& jobs, const JobFn& fn,
                                     const ParallelOptions& options) {
  const std::size_t total = jobs.size();
  std::vector<JobOutcome> outcomes(total);
  if (total == 0) return outcomes;
  if (!(options.job_timeout_s >= 0) || !std::isfinite(options.job_timeout_s)) {
    throw InputError(fmt::format("ParallelOptions::job_timeout_s = {}. Violated constraint: job_timeout_s >= 0 "
                                 "(0 = no limit)",
                                 options.job_timeout_s));
  }
  std::size_t n_workers = options.workers > 0 ? static_cast<std::size_t>(options.workers)
                                              : std::max(1U, std::thread::hardware_concurrency());
  n_workers = std::min(n_workers, total);

  SessionOptions session_options = options.session;
  if (n_workers > 1) session_options.num_threads = 1;  // OpenMP spin-waiting across processes (docs/ngspice.md)

  Pool pool(fn, session_options, make_pool_dir(options.session.scratch_dir));
  std::deque<std::size_t> pending;  // positions into `jobs`
  for (std::size_t i = 0; i < total; ++i) pending.push_back(i);
  std::size_t done = 0;
  std::string last_spawn_error;

  auto finish = [&](std::size_t position, JobOutcome outcome) {
    outcomes[position] = std::move(outcome);
    ++done;
    if (options.on_result) options.on_result(jobs[position], outcomes[position]);
    if (options.on_progress) options.on_progress(done, total);
  };

  // Set when a worker died of SIGINT/SIGTERM/SIGHUP (Ctrl-C, kill of the process group): no new jobs start.
  std::string interrupted;

  // A worker ended (EOF, send failure or timeout): its job (if any) fails with `reason`.
  auto worker_ended = [&](std::size_t i, const std::string& reason_if_busy, bool already_reaped, int status) {
    Worker& w = pool.workers()[i];
    const bool busy = w.busy;
    const std::size_t position = w.position;
    if (!already_reaped) status = wait_for(w.pid);
    pool.remove(i, false);
    if (reason_if_busy.empty() && WIFSIGNALED(status) && interrupted.empty()) {
      const int sig = WTERMSIG(status);
      if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) interrupted = describe_status(status);
    }
    if (busy) {
      JobOutcome o;
      o.ok = false;
      o.error = reason_if_busy.empty() ? describe_status(status) : reason_if_busy;
      finish(position, std::move(o));
    }
  };

  while (done < total) {
    if (!interrupted.empty()) {
      // Jobs not started yet are reported as not run (no on_result: they did not finish); running ones finish.
      for (std::size_t position : pending) {
        outcomes[position].ok = false;
        outcomes[position].error = "not run: interrupted (" + interrupted + ")";
        ++done;
      }
      pending.clear();
      if (done >= total) break;
    }
    // Keep as many workers as there is work for.
    std::size_t busy_count = 0;
    std::size_t retiring_count = 0;
    for (const Worker& w : pool.workers()) {
      busy_count += w.busy ? 1 : 0;
      retiring_count += (w.retiring && !w.busy) ? 1 : 0;
    }
    const std::size_t wanted = std::min(n_workers, busy_count + pending.size()) + retiring_count;
    while (pool.workers().size() < wanted) {
      if (!pool.spawn(last_spawn_error)) break;
    }
    if (pool.workers().empty()) {
      throw SimError("cannot start a simulation worker process: " + last_spawn_error);
    }

    // Hand out jobs to idle workers.
    for (std::size_t i = 0; i < pool.workers().size() && !pending.empty();) {
      Worker& w = pool.workers()[i];
      if (w.busy || w.retiring) {
        ++i;
        continue;
      }
      const std::size_t position = pending.front();
      const std::uint64_t job = jobs[position];
      if (!write_all(w.fd, reinterpret_cast<const char*>(&job), sizeof job)) {
        worker_ended(i, {}, false, 0);  // died while idle: the job was never started, it stays pending
        continue;
      }
      pending.pop_front();
      w.busy = true;
      w.position = position;
      w.started = Clock::now();
      w.buffer.clear();
      ++i;
    }

    // Wait for results, deaths or the next timeout.
    std::vector<pollfd> fds;
    for (const Worker& w : pool.workers()) fds.push_back(pollfd{w.fd, POLLIN, 0});
    int timeout_ms = -1;
    if (options.job_timeout_s > 0) {
      const auto now = Clock::now();
      for (const Worker& w : pool.workers()) {
        if (!w.busy) continue;
        const auto deadline = w.started + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(options.job_timeout_s));
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1;
        const int ms = static_cast<int>(std::clamp<long long>(left, 0, 60'000));
        timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
      }
    }
    const int ready = ::poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) throw SimError(fmt::format("poll: {}", std::strerror(errno)));

    // Read what arrived. Iterate backwards so removing a worker keeps the remaining indices valid.
    for (std::size_t k = fds.size(); k-- > 0;) {
      if (ready <= 0 || fds[k].revents == 0) continue;
      Worker& w = pool.workers()[k];
      char chunk[65536];
      const ssize_t n = ::read(w.fd, chunk, sizeof chunk);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        worker_ended(k, {}, false, 0);
        continue;
      }
      w.buffer.append(chunk, static_cast<std::size_t>(n));
      // A frame is complete once its size prefix and payload are in.
      if (w.buffer.size() >= sizeof(std::uint64_t)) {
        std::uint64_t size = 0;
        std::memcpy(&size, w.buffer.data(), sizeof size);
        if (w.buffer.size() >= sizeof size + size) {
          if (!w.busy || w.buffer.size() > sizeof size + size) {
            ::kill(w.pid, SIGKILL);  // protocol violation: cannot happen with worker_main
            worker_ended(k, "worker sent an unexpected message", false, 0);
            continue;
          }
          JobOutcome outcome;
          try {
            outcome = decode(w.buffer.substr(sizeof size), w.retiring);
          } catch (const std::exception& e) {
            outcome.ok = false;
            outcome.error = e.what();
          }
          w.busy = false;
          w.buffer.clear();
          finish(w.position, std::move(outcome));
        }
      }
    }

    // Kill workers past the job timeout.
    if (options.job_timeout_s > 0) {
      const auto now = Clock::now();
      for (std::size_t i = pool.workers().size(); i-- > 0;) {
        Worker& w = pool.workers()[i];
        if (!w.busy || now - w.started < std::chrono::duration<double>(options.job_timeout_s)) continue;
        ::kill(w.pid, SIGKILL);
        worker_ended(i, fmt::format("timed out after {} s", options.job_timeout_s), false, 0);
      }
    }
  }
  return outcomes;
}

}  // namespace nnspice::sim
