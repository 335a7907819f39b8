// Compiled with -DEigen=nnspice_native_eigen (and -march=native when enabled): a private copy of Eigen.
#include "gemm_native.hpp"

#include <Eigen/Core>

namespace nnspice::train::native {

namespace {
using MatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;
using CMap = Eigen::Map<const MatF, Eigen::Unaligned, Eigen::OuterStride<>>;
using MMap = Eigen::Map<MatF, Eigen::Unaligned, Eigen::OuterStride<>>;
}  // namespace

void sgemm(bool ta, bool tb, long m, long n, long k, float alpha, const float* a, long lda, const float* b, long ldb,
           float beta, float* c, long ldc) {
  const CMap A(a, ta ? k : m, ta ? m : k, Eigen::OuterStride<>(lda));
  const CMap B(b, tb ? n : k, tb ? k : n, Eigen::OuterStride<>(ldb));
  MMap C(c, m, n, Eigen::OuterStride<>(ldc));
  if (beta == 0.0f) C.setZero();
  else if (beta != 1.0f) C *= beta;
  if (!ta && !tb) C.noalias() += alpha * A * B;
  else if (ta && !tb) C.noalias() += alpha * A.transpose() * B;
  else if (!ta && tb) C.noalias() += alpha * A * B.transpose();
  else C.noalias() += alpha * A.transpose() * B.transpose();
}

void set_threads(int threads) { Eigen::setNbThreads(threads); }

const char* simd_name() { return Eigen::SimdInstructionSetsInUse(); }

}  // namespace nnspice::train::native
