// Collective operations between cooperating processes (MPI ranks), as plain callbacks so that libraries need
// no MPI: tools/mpi_env.cpp makes one from MPI_COMM_WORLD, tests make fakes. The default is one process.
// Every rank must make the same sequence of calls (they are collective).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace nnspice {

struct Exchange {
  int rank = 0, size = 1;
  /// Every rank passes its bytes; every rank receives all ranks' bytes in rank order.
  std::function<std::vector<std::string>(const std::string&)> allgather;

  bool distributed() const { return size > 1; }
  /// allgather, or {mine} for one process.
  std::vector<std::string> gather(const std::string& mine) const { return size > 1 ? allgather(mine) : std::vector<std::string>{mine}; }
  /// Rank 0's bytes on every rank (the others' `mine` is ignored).
  std::string from_root(const std::string& mine) const { return size > 1 ? allgather(rank == 0 ? mine : std::string())[0] : mine; }
  /// Whether this rank owns work item `k` (round robin).
  bool owns(std::size_t k) const { return size <= 1 || static_cast<int>(k % static_cast<std::size_t>(size)) == rank; }
};

}  // namespace nnspice
