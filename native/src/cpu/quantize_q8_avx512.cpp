// quantize_q8_avx512.cpp — AVX-512 version of quantize_q8_plain (kernels_plain.cpp), bit for bit:
// the same IEEE operations in the same order per element (|x| max, d = amax/127, id = 1/d,
// v = x·id, hi = round-to-nearest-even(v), lo = rne((v − hi)·128)), so fast-mode activations stay
// identical whichever variant runs (test_backend_ops checks it). The scalar version cost ~21 µs
// per 7168-wide row, serial before every fast-mode matmul: 3-7 % of a K2 expert's GEMV time.
#include <immintrin.h>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include "cpu/kernels_variants.h"

namespace kk::cpu {

void quantize_q8_avx512(const float* x, int64_t cols, block_q8* out) {
  static_assert(KK_Q8_GROUP == 32, "two zmm of fp32 per block");
  constexpr int kRne = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
  const __m512 lo_scale = _mm512_set1_ps(float(KK_Q8_LO_SCALE));
  const int64_t nb = cols / KK_Q8_GROUP;
  for (int64_t b = 0; b < nb; ++b) {
    const float* xx = x + b * KK_Q8_GROUP;
    const __m512 x0 = _mm512_loadu_ps(xx), x1 = _mm512_loadu_ps(xx + 16);
    // max_ps(a, b) returns b when a is NaN, as std::max(amax, |x|) keeps amax.
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
    const float d = amax / 127.f;
    const float id = d != 0.f ? 1.f / d : 0.f;
    const __m512 v0 = _mm512_mul_ps(x0, _mm512_set1_ps(id)), v1 = _mm512_mul_ps(x1, _mm512_set1_ps(id));
    const __m512 h0 = _mm512_roundscale_ps(v0, kRne), h1 = _mm512_roundscale_ps(v1, kRne);
    const __m512 l0 = _mm512_roundscale_ps(_mm512_mul_ps(_mm512_sub_ps(v0, h0), lo_scale), kRne);
    const __m512 l1 = _mm512_roundscale_ps(_mm512_mul_ps(_mm512_sub_ps(v1, h1), lo_scale), kRne);
    const __m512i hi0 = _mm512_cvtps_epi32(h0), hi1 = _mm512_cvtps_epi32(h1);  // integers already
    const __m512i lw0 = _mm512_cvtps_epi32(l0), lw1 = _mm512_cvtps_epi32(l1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].qs), _mm512_cvtepi32_epi8(hi0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].qs + 16), _mm512_cvtepi32_epi8(hi1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].lo), _mm512_cvtepi32_epi8(lw0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out[b].lo + 16), _mm512_cvtepi32_epi8(lw1));
    const __m512i s = _mm512_add_epi32(_mm512_add_epi32(_mm512_slli_epi32(hi0, 7), lw0),
                                       _mm512_add_epi32(_mm512_slli_epi32(hi1, 7), lw1));
    static_assert(KK_Q8_LO_SCALE == 128, "sum = Σ (hi << 7) + lo");
    out[b].d = d;
    out[b].sum = _mm512_reduce_add_epi32(s);
  }
}

}  // namespace kk::cpu
