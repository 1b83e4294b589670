#pragma once
#include "kernel_set.h"

namespace pixelllm {

// The kernel set used for every call, chosen once per process: the best instruction set the CPU supports,
// except that AVX-512 is only taken when a short calibration shows it at least as fast as AVX2 (on cores that
// split 512-bit operations in two it may not be). Env PIXELLLM_KERNEL=scalar|avx2|avx512 forces a choice
// (ignored if the CPU cannot run it).
const KernelSet& active_kernels();

}  // namespace pixelllm
