// MPI for `nnspice evaluate` (and other commands that scale out): initialised lazily when the process
// was started by mpirun (OMPI_COMM_WORLD_SIZE / PMI_SIZE set); otherwise a single rank. Built only when
// CMake found MPI (NNSPICE_WITH_MPI); without it, running under mpirun with more than one rank is an error.
#pragma once

#include <string>
#include <vector>

#include "nnspice/common/exchange.hpp"

namespace nnspice::tools {

/// The number of ranks the launcher started (OMPI_COMM_WORLD_SIZE / PMI_SIZE / PMIX_SIZE), 1 without mpirun; does not
/// initialise MPI.
int mpi_launcher_size();

class MpiEnv {
 public:
  static MpiEnv& instance();
  int rank() const { return rank_; }
  int size() const { return size_; }
  void barrier();
  /// Every rank contributes bytes; every rank gets all contributions in rank order.
  std::vector<std::string> allgather(const std::string& mine);
  Exchange exchange();
  ~MpiEnv();

 private:
  MpiEnv();
  int rank_ = 0, size_ = 1;
  bool initialised_ = false;
};

}  // namespace nnspice::tools
