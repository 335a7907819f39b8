// Many independent simulations in parallel through forked worker processes (libngspice is one global,
// non-thread-safe simulator per process). Results come back in job order; a job whose worker crashes
// (or that throws) is reported as that job's error and the remaining jobs still run.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nnspice/sim/session.hpp"

namespace nnspice::sim {

/// What one job returns: named double vectors (serialised between processes).
using JobData = std::map<std::string, std::vector<double>>;

struct JobOutcome {
  bool ok = false;
  std::string error;  ///< why it failed (SimError message, exception text, or "worker killed by signal 9")
  JobData data;
};

/// The work of one job, run inside a worker process with that worker's own Session.
using JobFn = std::function<JobData(Session& session, std::size_t job)>;

struct ParallelOptions {
  int workers = 1;               ///< processes; <= 0 = number of cores. 1 still runs in a child (crash isolation).
  SessionOptions session;        ///< num_threads is forced to 1 when workers > 1
  std::function<void(std::size_t done, std::size_t total)> on_progress;  ///< called in the parent
  /// Called in the parent as each job finishes (in completion order), e.g. to checkpoint it.
  std::function<void(std::size_t job, const JobOutcome&)> on_result;
  /// Wall-clock limit per job in seconds (0 = none). A worker still busy after this long is killed
  /// (SIGKILL) and the job fails with "timed out after N s"; a fresh worker takes the remaining jobs.
  double job_timeout_s = 0;
};

/// Runs jobs 0..n_jobs-1. Never throws for a job's failure; throws only if no worker can be started.
std::vector<JobOutcome> run_parallel(std::size_t n_jobs, const JobFn& fn, const ParallelOptions& options);
/// Runs only the listed jobs (e.g. the unfinished ones when resuming); outcomes in the order of `jobs`.
std::vector<JobOutcome> run_parallel(const std::vector<std::size_t>& jobs, const JobFn& fn, const ParallelOptions& options);

}  // namespace nnspice::sim
