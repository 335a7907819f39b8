// In-process libngspice (Debian's ngspice 39.3): one RAII session per process (libngspice is one
// global simulator), netlists from memory, operating point / DC sweep / transient, `alter`, vectors
// copied out. Every error is detected from ngspice's text stream and from missing plots/vectors,
// because ngspice's return codes do not report them (docs/ngspice.md). Never sends `quit`.
// Units: volts, amperes, seconds (SI doubles).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nnspice/common/error.hpp"

namespace nnspice::sim {

/// A simulation job failed: the netlist did not parse, the operating point did not converge, the
/// time step became too small, or ngspice died. `log()` holds ngspice's relevant output lines.
class SimError : public NumericalError {
 public:
  SimError(const std::string& message, std::vector<std::string> log = {});
  const std::vector<std::string>& log() const { return log_; }

 private:
  std::vector<std::string> log_;
};

/// Most points one analysis may ask for: a transient's t_stop_s / min(t_step_s, t_max_s), a DC sweep's points
/// (nested: the product). 1e7 time points of a few dozen probe vectors are GBs and hours; more is a typo.
inline constexpr double kMaxAnalysisPoints = 1e7;
/// Throws InputError "STOP_NAME / STEP_NAME = N time points: more than kMaxAnalysisPoints" (both option names
/// and the count) when the transient asks for too many points; `step_name`, `stop_name`, `max_name` name the
/// caller's options (e.g. "--tstep", "--tstop", "--tmax").
void check_transient_size(double t_step_s, double t_stop_s, double t_max_s, const std::string& step_name = "t_step_s",
                          const std::string& stop_name = "t_stop_s", const std::string& max_name = "t_max_s");
/// Number of points of a DC sweep start..stop by step (what ngspice computes), for bounds checks.
double dc_sweep_points(double start, double stop, double step);

struct SessionOptions {
  /// OpenMP threads for device evaluation (`set num_threads=N`); 1 whenever simulations run in parallel.
  int num_threads = 1;
  /// Extra simulator options, sent as `option key=value` before each analysis (e.g. {"itl1","1000"}, {"gmin","1e-14"}).
  std::vector<std::pair<std::string, std::string>> options;
  /// Scratch working directory (BSIM3 writes b3v33check.log into the cwd); empty = a fresh temporary directory.
  std::string scratch_dir;
};

/// Named real vectors of one plot, names lower-case as ngspice reports them ("v(x0_1)", "vx0_1#branch", "time").
struct Vectors {
  std::map<std::string, std::vector<double>> data;
  bool has(const std::string& name) const { return data.count(name) != 0; }
  /// The vector, or throws SimError naming it.
  const std::vector<double>& at(const std::string& name) const;
  /// Branch current of voltage source `vsource` (e.g. "VX0_3" -> "vx0_3#branch").
  const std::vector<double>& current(const std::string& vsource) const;
};

struct AnalysisStats {
  long newton_iterations = 0;  ///< total Newton iterations of the analysis (ngspice rusage)
  long time_points = 0;        ///< accepted time points (transient) or sweep points (dc)
  double wall_s = 0;
};

struct OpResult {
  Vectors vectors;
  AnalysisStats stats;
};
struct TranResult {
  Vectors vectors;  ///< includes "time"
  AnalysisStats stats;
};
struct DcResult {
  Vectors vectors;  ///< includes the swept source's values
  AnalysisStats stats;
};

class Session {
 public:
  explicit Session(SessionOptions options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Loads a netlist (title line first, `.end` optional). Replaces any previously loaded circuit.
  /// Throws SimError (with ngspice's error lines) when ngspice rejects it.
  void load(const std::vector<std::string>& lines);
  void load_text(const std::string& netlist);

  OpResult op();
  /// Transient from 0 to t_stop_s; t_max_s = maximum step (0 = ngspice's choice); uic = skip the initial OP.
  TranResult tran(double t_step_s, double t_stop_s, double t_max_s = 0, bool uic = false);
  /// DC sweep of one independent source.
  DcResult dc(const std::string& source, double start, double stop, double step);
  /// Nested DC sweep: `source` (inner, fastest) inside `source2` (outer). Vectors hold
  /// n_inner * n_outer points, inner index fastest.
  DcResult dc(const std::string& source, double start, double stop, double step, const std::string& source2, double start2,
              double stop2, double step2);
  /// Changes the DC value of an independent source or a device parameter of the loaded circuit.
  void alter(const std::string& element, double value);
  void alter(const std::string& element, const std::string& param, double value);
  /// Any ngspice command; throws SimError when ngspice prints an error.
  void command(const std::string& cmd);

  /// ngspice's output lines since the last load/analysis.
  const std::vector<std::string>& log() const;
  bool alive() const;

  /// "ngspice-39" or similar, from the library.
  static std::string ngspice_version();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nnspice::sim
