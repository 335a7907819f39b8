// Matrix products built for the host CPU (see common/CMakeLists.txt): column-major
// C = alpha · op(A) · op(B) + beta · C, on the calling thread (the TU is built without OpenMP; callers
// parallelise over batches or restarts). Raw pointers only, so that no Eigen type compiled with other vector settings crosses this interface.
#pragma once

namespace nnspice::native {

/// op(A) is m×k, op(B) is k×n, C is m×n; lda/ldb/ldc = leading dimensions of the stored matrices.
void sgemm(bool trans_a, bool trans_b, long m, long n, long k, float alpha, const float* a, long lda, const float* b,
           long ldb, float beta, float* c, long ldc);
void dgemm(bool trans_a, bool trans_b, long m, long n, long k, double alpha, const double* a, long lda,
           const double* b, long ldb, double beta, double* c, long ldc);
void set_threads(int threads);
/// "AVX512F", "AVX2+FMA", "SSE2", … — what the kernel was compiled for.
const char* simd_name();
}  // namespace nnspice::native
