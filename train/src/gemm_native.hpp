// Single-precision matrix products built for the host CPU (see train/CMakeLists.txt): column-major
// C = alpha · op(A) · op(B) + beta · C, parallel over `threads` (OpenMP through Eigen). Raw pointers
// only, so that no Eigen type compiled with other vector settings crosses this interface.
#pragma once

namespace nnspice::train::native {

/// op(A) is m×k, op(B) is k×n, C is m×n; lda/ldb/ldc = leading dimensions of the stored matrices.
void sgemm(bool trans_a, bool trans_b, long m, long n, long k, float alpha, const float* a, long lda, const float* b,
           long ldb, float beta, float* c, long ldc);
void set_threads(int threads);
/// "AVX512F", "AVX2+FMA", "SSE2", … — what the kernel was compiled for.
const char* simd_name();


}  // namespace nnspice::train::native
