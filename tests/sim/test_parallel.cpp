// run_parallel (label `sim`): job order, crashed/throwing/hung jobs reported as that job's error while the
// others succeed, identical results for 1 and 3 workers, no zombies.
#include <gtest/gtest.h>
#include <ngspice/sharedspice.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "nnspice/sim/parallel.hpp"

namespace nnspice::sim {
namespace {

const std::string kMosis = std::string(NNSPICE_SOURCE_DIR) + "/data/models/mosis-tsmc018-t58f-bsim3v33.lib";

// Divider with V1 = job + 1: v(out) = (job + 1) * 4.7 / 6.
JobData divider_job(Session& s, std::size_t job) {
  s.load_text("divider\nV1 in 0 " + std::to_string(job + 1) + "\nR1 in out 1.3e3\nR2 out 0 4.7e3\n");
  const OpResult r = s.op();
  return {{"out", r.vectors.at("v(out)")}, {"pid", {static_cast<double>(::getpid())}}};
}

void expect_no_children() {
  int status = 0;
  errno = 0;
  EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1) << "a child process is left behind";
  EXPECT_EQ(errno, ECHILD);
}

TEST(Parallel, ResultsInOrderAndFailuresIsolated) {
  ParallelOptions opt;
  opt.workers = 3;
  std::vector<std::size_t> progress;
  std::set<std::size_t> reported;
  opt.on_progress = [&](std::size_t done, std::size_t total) {
    EXPECT_EQ(total, 10U);
    progress.push_back(done);
  };
  opt.on_result = [&](std::size_t job, const JobOutcome&) { EXPECT_TRUE(reported.insert(job).second); };
  const auto outcomes = run_parallel(
      10,
      [](Session& s, std::size_t job) -> JobData {
        if (job == 4) ::raise(SIGKILL);
        if (job == 7) throw std::runtime_error("job 7 refuses");
        return divider_job(s, job);
      },
      opt);
  ASSERT_EQ(outcomes.size(), 10U);
  std::set<double> pids;
  for (std::size_t j = 0; j < 10; ++j) {
    if (j == 4) {
      EXPECT_FALSE(outcomes[j].ok);
      EXPECT_EQ(outcomes[j].error, "worker killed by signal 9 (SIGKILL)");
    } else if (j == 7) {
      EXPECT_FALSE(outcomes[j].ok);
      EXPECT_EQ(outcomes[j].error, "job 7 refuses");
    } else {
      ASSERT_TRUE(outcomes[j].ok) << j << ": " << outcomes[j].error;
      EXPECT_NEAR(outcomes[j].data.at("out")[0], static_cast<double>(j + 1) * 4.7 / 6.0, 1e-12);
      pids.insert(outcomes[j].data.at("pid")[0]);
      EXPECT_NE(outcomes[j].data.at("pid")[0], static_cast<double>(::getpid()));
    }
  }
  EXPECT_LE(pids.size(), 4U);  // three workers plus the one replacing the killed worker
  EXPECT_EQ(progress.size(), 10U);
  for (std::size_t i = 0; i < progress.size(); ++i) EXPECT_EQ(progress[i], i + 1);
  EXPECT_EQ(reported.size(), 10U);
  expect_no_children();
}

TEST(Parallel, SimErrorInAJobLeavesTheWorkerUsable) {
  ParallelOptions opt;
  opt.workers = 1;
  const auto outcomes = run_parallel(
      4,
      [](Session& s, std::size_t job) -> JobData {
        if (job == 1) {
          s.load_text("loop\nV1 a 0 1\nV2 a 0 2\nR1 a 0 1\n");
          s.op();
        }
        return divider_job(s, job);
      },
      opt);
  EXPECT_FALSE(outcomes[1].ok);
  EXPECT_EQ(outcomes[1].error.rfind("operating point did not converge", 0), 0U) << outcomes[1].error;
  for (std::size_t j : {0U, 2U, 3U}) {
    ASSERT_TRUE(outcomes[j].ok) << outcomes[j].error;
    EXPECT_EQ(outcomes[j].data.at("pid"), outcomes[0].data.at("pid")) << "one worker ran every job";
  }
  expect_no_children();
}

TEST(Parallel, AbortAndSegfaultAreReported) {
  ParallelOptions opt;
  opt.workers = 2;
  const auto outcomes = run_parallel(
      5,
      [](Session& s, std::size_t job) -> JobData {
        if (job == 1) std::abort();
        if (job == 3) ::raise(SIGSEGV);
        return divider_job(s, job);
      },
      opt);
  EXPECT_FALSE(outcomes[1].ok);
  EXPECT_EQ(outcomes[1].error.rfind("worker killed by signal 6", 0), 0U) << outcomes[1].error;
  EXPECT_FALSE(outcomes[3].ok);
  // Plain build: signal 11. Under AddressSanitizer its SEGV report ends the process (exit status or abort).
  EXPECT_EQ(outcomes[3].error.rfind("worker ", 0), 0U) << outcomes[3].error;
  for (std::size_t j : {0U, 2U, 4U}) EXPECT_TRUE(outcomes[j].ok) << outcomes[j].error;
  expect_no_children();
}

TEST(Parallel, SameResultsWithOneAndThreeWorkers) {
  const JobFn fn = [](Session& s, std::size_t job) -> JobData {
    const double vgs = 0.1 + 0.05 * static_cast<double>(job);
    s.load_text("nfet\n.include " + kMosis + "\nVd d 0 0.9\nVg g 0 " + std::to_string(vgs) +
                "\nM1 d g 0 0 nfet W=2.7e-6 L=0.45e-6 delvto=0.01\n");
    const OpResult r = s.op();
    return {{"id", r.vectors.current("Vd")}, {"iterations", {static_cast<double>(r.stats.newton_iterations)}}};
  };
  ParallelOptions one;
  one.workers = 1;
  ParallelOptions three;
  three.workers = 3;
  const auto a = run_parallel(7, fn, one);
  const auto b = run_parallel(7, fn, three);
  for (std::size_t j = 0; j < 7; ++j) {
    ASSERT_TRUE(a[j].ok) << a[j].error;
    ASSERT_TRUE(b[j].ok) << b[j].error;
    EXPECT_EQ(a[j].data, b[j].data) << "job " << j << " differs between 1 and 3 workers";
  }
  // Sanity: the current rises with Vgs.
  EXPECT_LT(-a[0].data.at("id")[0], -a[6].data.at("id")[0]);
  expect_no_children();
}

TEST(Parallel, JobListKeepsItsOrder) {
  ParallelOptions opt;
  opt.workers = 2;
  const std::vector<std::size_t> jobs = {5, 2, 9};
  const auto outcomes = run_parallel(jobs, divider_job, opt);
  ASSERT_EQ(outcomes.size(), 3U);
  for (std::size_t k = 0; k < jobs.size(); ++k) {
    ASSERT_TRUE(outcomes[k].ok) << outcomes[k].error;
    EXPECT_NEAR(outcomes[k].data.at("out")[0], static_cast<double>(jobs[k] + 1) * 4.7 / 6.0, 1e-12);
  }
  EXPECT_TRUE(run_parallel(std::vector<std::size_t>{}, divider_job, opt).empty());
  expect_no_children();
}

TEST(Parallel, HungJobTimesOut) {
  ParallelOptions opt;
  opt.workers = 2;
  opt.job_timeout_s = 0.5;
  const auto t0 = std::chrono::steady_clock::now();
  const auto outcomes = run_parallel(
      4,
      [](Session& s, std::size_t job) -> JobData {
        if (job == 2) std::this_thread::sleep_for(std::chrono::seconds(60));
        return divider_job(s, job);
      },
      opt);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(elapsed, 20.0);
  EXPECT_FALSE(outcomes[2].ok);
  EXPECT_EQ(outcomes[2].error, "timed out after 0.5 s");
  for (std::size_t j : {0U, 1U, 3U}) EXPECT_TRUE(outcomes[j].ok) << outcomes[j].error;
  expect_no_children();
}

TEST(Parallel, WorkerWhoseNgspiceExitedIsReplaced) {
  // A job that makes libngspice quit (ControlledExit) fails; the worker retires and a fresh process runs the rest.
  ParallelOptions opt;
  opt.workers = 1;
  const auto outcomes = run_parallel(
      4,
      [](Session& s, std::size_t job) -> JobData {
        if (job == 1) {
          char quit[] = "quit";
          ngSpice_Command(quit);
        }
        return divider_job(s, job);
      },
      opt);
  EXPECT_FALSE(outcomes[1].ok);
  EXPECT_NE(outcomes[1].error.find("libngspice has exited"), std::string::npos) << outcomes[1].error;
  for (std::size_t j : {0U, 2U, 3U}) ASSERT_TRUE(outcomes[j].ok) << outcomes[j].error;
  EXPECT_NE(outcomes[0].data.at("pid"), outcomes[2].data.at("pid")) << "a new worker took over";
  EXPECT_EQ(outcomes[2].data.at("pid"), outcomes[3].data.at("pid"));
  expect_no_children();
}

TEST(Parallel, InterruptStopsHandingOutJobs) {
  // A worker killed by SIGINT (Ctrl-C reaches the whole process group) stops the run: jobs not yet started
  // are reported as not run, without on_result.
  ParallelOptions opt;
  opt.workers = 1;
  std::size_t results = 0;
  opt.on_result = [&](std::size_t, const JobOutcome&) { ++results; };
  const auto outcomes = run_parallel(
      6,
      [](Session& s, std::size_t job) -> JobData {
        if (job == 2) ::raise(SIGINT);
        return divider_job(s, job);
      },
      opt);
  EXPECT_TRUE(outcomes[0].ok);
  EXPECT_TRUE(outcomes[1].ok);
  EXPECT_EQ(outcomes[2].error, "worker killed by signal 2 (SIGINT)");
  for (std::size_t j = 3; j < 6; ++j) {
    EXPECT_FALSE(outcomes[j].ok);
    EXPECT_EQ(outcomes[j].error, "not run: interrupted (worker killed by signal 2 (SIGINT))");
  }
  EXPECT_EQ(results, 3U);
  expect_no_children();
}

TEST(Parallel, ExceptionFromACallbackPropagatesAndReapsWorkers) {
  ParallelOptions opt;
  opt.workers = 3;
  opt.on_result = [](std::size_t job, const JobOutcome&) {
    if (job == 2) throw std::runtime_error("checkpoint failed");
  };
  EXPECT_THROW(run_parallel(8, divider_job, opt), std::runtime_error);
  expect_no_children();
}

TEST(Parallel, ParentSessionIsNotUsedByWorkers) {
  // Rule (docs/ngspice.md): do not hold a Session while calling run_parallel. If one is held anyway, each worker
  // still makes its own, and the parent's keeps working afterwards.
  Session parent;
  parent.load_text("parent\nV1 a 0 2\nR1 a b 1e3\nR2 b 0 1e3\n");
  ParallelOptions opt;
  opt.workers = 2;
  const auto outcomes = run_parallel(3, divider_job, opt);
  for (const auto& o : outcomes) EXPECT_TRUE(o.ok) << o.error;
  // A worker handed the parent's Session object (a copy in its memory) gets a SimError, not a crash.
  const auto misuse = run_parallel(
      1, [&parent](Session&, std::size_t) -> JobData { parent.op(); return {}; }, opt);
  EXPECT_FALSE(misuse[0].ok);
  EXPECT_NE(misuse[0].error.find("belongs to process"), std::string::npos) << misuse[0].error;
  EXPECT_NEAR(parent.op().vectors.at("v(b)")[0], 1.0, 1e-12);
  expect_no_children();
}

}  // namespace
}  // namespace nnspice::sim
