// Allocator settings for programs that churn through mid-sized Eigen temporaries.
#pragma once

namespace nnspice {

/// glibc: keep blocks up to 16 MB on the heap instead of mmap'ing each one (no-op elsewhere). Batched Eigen
/// temporaries (e.g. 90 x 200 doubles = 144 kB in the DNPU experiments) sit just above glibc's 128 kB mmap
/// threshold; each was mapped, faulted in and unmapped again, a third of a ring restart's time.
void tune_malloc_for_batches();

}  // namespace nnspice
