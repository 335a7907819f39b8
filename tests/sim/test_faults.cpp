// Fault injection in the simulator driver (issue 9, docs/reliability.md), label `sim`: a netlist that fails
// to parse, a model that does not converge, ngspice printing errors in the middle of a transient, a worker
// killed with SIGKILL from outside while it simulates, and a full disk on the output folder. Each must be
// that job's error while the other jobs of the same run finish and the results they wrote stay on disk.
// Also a model card that ngspice's BSIM3 parameter check rejects.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "nnspice/common/fs_util.hpp"
#include "nnspice/sim/parallel.hpp"

namespace nnspice::sim {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& stem) {
    std::string t = (fs::temp_directory_path() / (stem + "-XXXXXX")).string();
    if (::mkdtemp(t.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// A job that simulates a divider (V1 = job + 1) and saves v(out) as text in `dir`/job_<k>.txt (atomic write),
// the way the commands checkpoint finished work.
JobData divider_and_save(Session& s, std::size_t job, const fs::path& dir, std::size_t extra_bytes = 0) {
  s.load_text("divider\nV1 in 0 " + std::to_string(job + 1) + "\nR1 in out 1.3e3\nR2 out 0 4.7e3\n");
  const double v = s.op().vectors.at("v(out)")[0];
  std::string text = fmt::format("{:.17g}\n", v);
  text += std::string(extra_bytes, '#');
  write_file_atomic((dir / fmt::format("job_{}.txt", job)).string(), text);
  return {{"out", {v}}};
}

void expect_saved(const fs::path& dir, std::size_t job) {
  const std::string text = read_file((dir / fmt::format("job_{}.txt", job)).string());
  EXPECT_NEAR(std::stod(text), static_cast<double>(job + 1) * 4.7 / 6.0, 1e-12) << "job " << job;
}

void expect_no_temporaries(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << "left behind: " << e.path();
}

void expect_no_children() {
  int status = 0;
  errno = 0;
  EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1) << "a child process is left behind";
  EXPECT_EQ(errno, ECHILD);
}

TEST(Faults, EachInjectedFaultIsThatJobsError) {
  const TempDir out("nnspice-faults");
  ParallelOptions opt;
  opt.workers = 2;
  opt.job_timeout_s = 60;  // only a safety net: no job here may take that long
  const auto outcomes = run_parallel(
      10,
      [&](Session& s, std::size_t job) -> JobData {
        switch (job) {
          case 1:  // a netlist ngspice cannot parse
            s.load_text("syntax\nV1 a 0 1\nRfoo a 0 abc\n");
            break;
          case 3:  // a circuit without an operating point (parallel voltage sources)
            s.load_text("loop\nV1 a 0 1\nV2 a 0 2\nR1 a 0 1\n");
            s.op();
            break;
          case 4:  // ngspice prints errors mid-run: sqrt of a negative argument from t ~ 5 ns on
            s.load_text("midrun\nV1 a 0 PWL(0 0 10n 1)\nB1 b 0 V = sqrt(0.5-v(a))\nR1 b 0 1e3\n");
            s.tran(0.1e-9, 20e-9);
            break;
          case 6: {  // SIGKILL from another process while the worker is busy simulating
            const pid_t worker = ::getpid();
            const pid_t killer = ::fork();
            if (killer == 0) {
              ::usleep(200'000);
              ::kill(worker, SIGKILL);
              ::_exit(0);
            }
            s.load_text("rc\nV1 in 0 PWL(0 0 1n 1)\nR1 in out 1e3\nC1 out 0 1e-9\n");
            for (;;) s.tran(1e-9, 1e-5);  // until killed
          }
          case 7:  // a model card ngspice's BSIM3 parameter check rejects (negative oxide thickness)
            s.load_text("badmodel\n.model nbad nmos level=8 version=3.3.0 tox=-1e-9\nVd d 0 1.8\nVg g 0 0.9\n"
                        "M1 d g 0 0 nbad W=2.7e-6 L=0.45e-6\n");
            s.op();
            break;
          default:
            break;
        }
        return divider_and_save(s, job, out.path);
      },
      opt);
  ASSERT_EQ(outcomes.size(), 10U);
  auto error_of = [&](std::size_t j) {
    EXPECT_FALSE(outcomes[j].ok) << "job " << j;
    return outcomes[j].error;
  };
  EXPECT_NE(error_of(1).find("unknown parameter (abc)"), std::string::npos) << outcomes[1].error;
  EXPECT_EQ(error_of(3).rfind("operating point did not converge", 0), 0U) << outcomes[3].error;
  const std::string mid = error_of(4);
  EXPECT_EQ(mid.rfind("transient analysis failed", 0), 0U) << mid;
  EXPECT_NE(mid.find("out of range for sqrt"), std::string::npos) << "ngspice's own error line is in the message: " << mid;
  EXPECT_EQ(error_of(6), "worker killed by signal 9 (SIGKILL)");
  const std::string model = error_of(7);
  EXPECT_NE(model.find("Fatal: Tox = -1e-09 is not positive"), std::string::npos) << "the parameter is named: " << model;
  EXPECT_NE(model.find("parameter checking for nbad"), std::string::npos) << "the model is named: " << model;
  for (std::size_t j : {0U, 2U, 5U, 8U, 9U}) {
    ASSERT_TRUE(outcomes[j].ok) << j << ": " << outcomes[j].error;
    expect_saved(out.path, j);
  }
  for (std::size_t j : {1U, 3U, 4U, 6U, 7U}) EXPECT_FALSE(fs::exists(out.path / fmt::format("job_{}.txt", j))) << j;
  expect_no_temporaries(out.path);
  expect_no_children();
}

// A full disk, for real (ENOSPC from the kernel): the output folder is a 64 KiB tmpfs mounted in a private
// mount namespace of this test process (needs CAP_SYS_ADMIN, as root in CI's container; otherwise skipped,
// saying so). Jobs 0-2 and 5 write small results; jobs 3 and 4 write more than is left.
TEST(Faults, FullDiskFailsOnlyTheJobsThatCannotWrite) {
  const TempDir out("nnspice-fulldisk");
  if (::unshare(CLONE_NEWNS) != 0) GTEST_SKIP() << "no private mount namespace (unshare: " << std::strerror(errno) << ")";
  // Private propagation first: the tmpfs must never appear outside this process.
  ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0) << std::strerror(errno);
  if (::mount("tmpfs", out.path.c_str(), "tmpfs", 0, "size=64k") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs (" << std::strerror(errno) << ")";
  ParallelOptions opt;
  opt.workers = 2;
  const auto outcomes = run_parallel(
      6, [&](Session& s, std::size_t job) { return divider_and_save(s, job, out.path, job == 3 || job == 4 ? 256 * 1024 : 0); }, opt);
  for (std::size_t j : {3U, 4U}) {
    EXPECT_FALSE(outcomes[j].ok) << j;
    EXPECT_EQ(outcomes[j].error, fmt::format("cannot write {}/job_{}.txt: No space left on device", out.path.string(), j));
    EXPECT_FALSE(fs::exists(out.path / fmt::format("job_{}.txt", j))) << j;
  }
  for (std::size_t j : {0U, 1U, 2U, 5U}) {
    ASSERT_TRUE(outcomes[j].ok) << j << ": " << outcomes[j].error;
    expect_saved(out.path, j);
  }
  expect_no_temporaries(out.path);
  ::umount(out.path.c_str());
  expect_no_children();
}

// The same without mount privileges: the kernel's /dev/full (every write fails with ENOSPC) stands in for the
// disk under the temporary file write_file_atomic creates (DIR/<name>.tmp.<pid>, a symlink to /dev/full made
// by the job just before it saves). The write path is unmodified; only its temporary file's name is assumed.
TEST(Faults, DevFullFailsOnlyTheJobsThatCannotWrite) {
  const TempDir out("nnspice-devfull");
  ParallelOptions opt;
  opt.workers = 2;
  const auto outcomes = run_parallel(
      6,
      [&](Session& s, std::size_t job) {
        if (job == 1 || job == 4) {
          const fs::path tmp = out.path / fmt::format("job_{}.txt.tmp.{}", job, ::getpid());
          fs::create_symlink("/dev/full", tmp);
        }
        return divider_and_save(s, job, out.path);
      },
      opt);
  for (std::size_t j : {1U, 4U}) {
    EXPECT_FALSE(outcomes[j].ok) << j;
    EXPECT_EQ(outcomes[j].error, fmt::format("cannot write {}/job_{}.txt: No space left on device", out.path.string(), j));
    EXPECT_FALSE(fs::exists(out.path / fmt::format("job_{}.txt", j))) << j;
  }
  for (std::size_t j : {0U, 2U, 3U, 5U}) {
    ASSERT_TRUE(outcomes[j].ok) << j << ": " << outcomes[j].error;
    expect_saved(out.path, j);
  }
  expect_no_temporaries(out.path);  // the symlinks too: the failed write removed its temporary file
  expect_no_children();
}

}  // namespace
}  // namespace nnspice::sim
