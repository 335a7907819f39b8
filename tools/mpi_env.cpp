#include "mpi_env.hpp"

#include <fmt/format.h>

#include <cstdlib>

#include "nnspice/common/error.hpp"

#ifdef NNSPICE_WITH_MPI
#include <mpi.h>
#endif

namespace nnspice::tools {

int mpi_launcher_size() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"})
    if (const char* s = std::getenv(v)) return std::atoi(s);
  return 1;
}

MpiEnv& MpiEnv::instance() {
  static MpiEnv env;
  return env;
}

MpiEnv::MpiEnv() {
  const int launched = mpi_launcher_size();
#ifdef NNSPICE_WITH_MPI
  if (launched > 1) {
    // Worker processes are forked for ngspice; they never call MPI. Silence OpenMPI's fork warning.
    ::setenv("OMPI_MCA_mpi_warn_on_fork", "0", 0);
    MPI_Init(nullptr, nullptr);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    initialised_ = true;
  }
#else
  if (launched > 1)
    throw InputError(fmt::format("started by mpirun with {} ranks, but this nnspice was built without MPI (install libopenmpi-dev and rebuild)", launched));
#endif
}

MpiEnv::~MpiEnv() {
#ifdef NNSPICE_WITH_MPI
  if (initialised_) MPI_Finalize();
#endif
}

void MpiEnv::barrier() {
#ifdef NNSPICE_WITH_MPI
  if (initialised_) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

std::vector<std::string> MpiEnv::allgather(const std::string& mine) {
  if (size_ == 1) return {mine};
#ifdef NNSPICE_WITH_MPI
  // Sizes first (64-bit), then the bytes in chunks that fit MPI's int counts.
  long long my = static_cast<long long>(mine.size());
  std::vector<long long> sizes(static_cast<std::size_t>(size_));
  MPI_Allgather(&my, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, MPI_COMM_WORLD);
  std::vector<std::string> out(static_cast<std::size_t>(size_));
  for (int r = 0; r < size_; ++r) {
    std::string buf = r == rank_ ? mine : std::string(static_cast<std::size_t>(sizes[static_cast<std::size_t>(r)]), '\0');
    const long long chunk = 1LL << 30;
    for (long long off = 0; off < sizes[static_cast<std::size_t>(r)]; off += chunk) {
      const int n = static_cast<int>(std::min(chunk, sizes[static_cast<std::size_t>(r)] - off));
      MPI_Bcast(buf.data() + off, n, MPI_BYTE, r, MPI_COMM_WORLD);
    }
    out[static_cast<std::size_t>(r)] = std::move(buf);
  }
  return out;
#else
  return {mine};
#endif
}

Exchange MpiEnv::exchange() {
  Exchange e;
  e.rank = rank_;
  e.size = size_;
  e.allgather = [this](const std::string& b) { return allgather(b); };
  return e;
}

}  // namespace nnspice::tools
