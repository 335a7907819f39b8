// Compiled with -DEigen=nnspice_native_eigen (and -march=native when enabled): a private copy of Eigen.
#include "nnspice/common/gemm_native.hpp"

#include <Eigen/Core>

namespace nnspice::native {

namespace {
template <typename T>
void gemm(bool ta, bool tb, long m, long n, long k, T alpha, const T* a, long lda, const T* b, long ldb, T beta, T* c,
          long ldc) {
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  using CMap = Eigen::Map<const Mat, Eigen::Unaligned, Eigen::OuterStride<>>;
  using MMap = Eigen::Map<Mat, Eigen::Unaligned, Eigen::OuterStride<>>;
  const CMap A(a, ta ? k : m, ta ? m : k, Eigen::OuterStride<>(lda));
  const CMap B(b, tb ? n : k, tb ? k : n, Eigen::OuterStride<>(ldb));
  MMap C(c, m, n, Eigen::OuterStride<>(ldc));
  if (beta == T(0)) C.setZero();
  else if (beta != T(1)) C *= beta;
  if (!ta && !tb) C.noalias() += alpha * A * B;
  else if (ta && !tb) C.noalias() += alpha * A.transpose() * B;
  else if (!ta && tb) C.noalias() += alpha * A * B.transpose();
  else C.noalias() += alpha * A.transpose() * B.transpose();
}
}  // namespace

void sgemm(bool ta, bool tb, long m, long n, long k, float alpha, const float* a, long lda, const float* b, long ldb,
           float beta, float* c, long ldc) {
  gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void dgemm(bool ta, bool tb, long m, long n, long k, double alpha, const double* a, long lda, const double* b, long ldb,
           double beta, double* c, long ldc) {
  gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void set_threads(int threads) { Eigen::setNbThreads(threads); }

const char* simd_name() { return Eigen::SimdInstructionSetsInUse(); }

}  // namespace nnspice::native
