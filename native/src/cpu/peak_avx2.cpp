// peak_avx2.cpp — the AVX2 fp32 FMA peak loop (see peak.h, peak_avx512.cpp).
#include <immintrin.h>

#include "cpu/peak.h"

namespace kk::cpu {
namespace {
volatile float g_sink;
}

uint64_t peak_loop_fma_avx2(uint64_t iters) {
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-3f);
  __m256 acc[kPeakChains];
  for (int j = 0; j < kPeakChains; ++j) acc[j] = _mm256_set1_ps(1.f);
  for (uint64_t i = 0; i < iters; ++i)
    for (int j = 0; j < kPeakChains; ++j) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
  __m256 s = acc[0];
  for (int j = 1; j < kPeakChains; ++j) s = _mm256_add_ps(s, acc[j]);
  alignas(32) float f[8];
  _mm256_store_ps(f, s);
  g_sink = f[0] + f[7];
  return iters * kPeakChains;
}

}  // namespace kk::cpu
