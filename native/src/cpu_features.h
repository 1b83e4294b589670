// What the CPU can run, asked at run time (libgcc's checks include the OS enabling the ymm/zmm state).
// Include only from baseline translation units, never from the ISA-flagged kernel files.
#pragma once

namespace pixelllm {

inline bool cpu_has_avx2() {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

inline bool cpu_has_avx512() {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

}  // namespace pixelllm
