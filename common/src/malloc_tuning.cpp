#include "nnspice/common/malloc_tuning.hpp"

#include <cstdlib>  // defines __GLIBC__ (through <features.h>) before it is tested below

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace nnspice {

void tune_malloc_for_batches() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 16 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

}  // namespace nnspice
