// peak_avx512.cpp — AVX-512 compute-peak loops (see peak.h): kPeakChains independent
// accumulators, so each instruction waits on none of the others and throughput, not latency,
// is measured. The sums feed a volatile so no loop can be dropped.
#include <immintrin.h>

// GCC 12 reports false "may be used uninitialized" inside its own AVX-512 intrinsic headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include "cpu/peak.h"

namespace kk::cpu {
namespace {
volatile float g_sink_f;
volatile int g_sink_i;

// kPeakChains accumulators stepped `iters` times, then summed.
template <class V, class Step, class Add>
V chains(uint64_t iters, V init, Step step, Add add) {
  V acc[kPeakChains];
  for (int j = 0; j < kPeakChains; ++j) acc[j] = init;
  for (uint64_t i = 0; i < iters; ++i)
    for (int j = 0; j < kPeakChains; ++j) acc[j] = step(acc[j]);
  V s = acc[0];
  for (int j = 1; j < kPeakChains; ++j) s = add(s, acc[j]);
  return s;
}
}  // namespace

uint64_t peak_loop_fma_avx512(uint64_t iters) {
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-3f);
  g_sink_f = _mm512_reduce_add_ps(chains(iters, _mm512_set1_ps(1.f), [&](__m512 x) { return _mm512_fmadd_ps(x, a, b); },
                                          [](__m512 x, __m512 y) { return _mm512_add_ps(x, y); }));
  return iters * kPeakChains;
}

uint64_t peak_loop_dpbf16_avx512(uint64_t iters) {
  const __m512bh a = (__m512bh)_mm512_set1_epi32(0x3f803f80), b = (__m512bh)_mm512_set1_epi32(0x3a803a80);
  g_sink_f = _mm512_reduce_add_ps(chains(iters, _mm512_set1_ps(1.f), [&](__m512 x) { return _mm512_dpbf16_ps(x, a, b); },
                                          [](__m512 x, __m512 y) { return _mm512_add_ps(x, y); }));
  return iters * kPeakChains;
}

uint64_t peak_loop_dpbusd_avx512(uint64_t iters) {
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  g_sink_i = _mm512_reduce_add_epi32(chains(iters, _mm512_setzero_si512(), [&](__m512i x) { return _mm512_dpbusd_epi32(x, a, b); },
                                             [](__m512i x, __m512i y) { return _mm512_add_epi32(x, y); }));
  return iters * kPeakChains;
}

}  // namespace kk::cpu
