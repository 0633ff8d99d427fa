// kernels_avx2.cpp — AVX2 + FMA micro-kernels (compiled with -mavx2 -mfma for this file only).
//
// q4_f32 (exact): per block the 16 nibble bytes are split into low and high halves, widened to
//   four vectors of 8 dwords, converted, dequantized as q·s − 8s with one FMA, then one FMA per
//   8 weights per token.
// q4_q8 (fast): per block, the 16 nibble bytes are broadcast to both 128-bit lanes and the upper
//   lane shifted right by 4, giving 32 u8 weights in activation order; vpmaddubsw + vpmaddwd give
//   8 dword sums per activation digit, combined as 128·hi + lo, from which Σa (per lane: 8 lanes ·
//   Σa = the +8 offset) is subtracted before the fp32 scale. Prefetch as in the AVX-512 kernels.
#include <immintrin.h>

#include "core/tensor.h"
#include "cpu/kernels_variants.h"

namespace kk::cpu {
namespace {

constexpr int kPrefetchBytes = 2048;  // see kernels_avx512.cpp

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <int T>
inline void q4_f32_row(const block_q4* row, int64_t nb, const float* x, int64_t ldx, float* out) {
  __m256 acc[T][2];
  for (int t = 0; t < T; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_ps();
  const __m128i mask = _mm_set1_epi8(0x0F);
  for (int64_t b = 0; b < nb; ++b) {
    _mm_prefetch(reinterpret_cast<const char*>(row + b) + kPrefetchBytes, _MM_HINT_T0);
    const __m256 s = _mm256_set1_ps(bf16_to_f32(row[b].scale_bf16));
    const __m256 m8s = _mm256_mul_ps(s, _mm256_set1_ps(-8.f));
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row[b].qs));
    const __m128i lo = _mm_and_si128(q, mask), hi = _mm_and_si128(_mm_srli_epi16(q, 4), mask);
    __m256 w[4];
    w[0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo)), s, m8s);
    w[1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8))), s, m8s);
    w[2] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi)), s, m8s);
    w[3] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8))), s, m8s);
    for (int t = 0; t < T; ++t) {
      const float* xx = x + t * ldx + b * KK_Q4_GROUP;
      acc[t][0] = _mm256_fmadd_ps(w[0], _mm256_loadu_ps(xx), acc[t][0]);
      acc[t][1] = _mm256_fmadd_ps(w[1], _mm256_loadu_ps(xx + 8), acc[t][1]);
      acc[t][0] = _mm256_fmadd_ps(w[2], _mm256_loadu_ps(xx + 16), acc[t][0]);
      acc[t][1] = _mm256_fmadd_ps(w[3], _mm256_loadu_ps(xx + 24), acc[t][1]);
    }
  }
  for (int t = 0; t < T; ++t) out[t] = hsum(_mm256_add_ps(acc[t][0], acc[t][1]));
}

void q4_f32_avx2(const block_q4* W, int64_t cols, int64_t r0, int64_t r1, const float* x,
                 int64_t ldx, int64_t n, float* y, int64_t ldy) {
  const int64_t nb = cols / KK_Q4_GROUP;
  if (n == 1) {
    for (int64_t r = r0; r < r1; ++r) q4_f32_row<1>(W + r * nb, nb, x, ldx, &y[r]);
    return;
  }
  gemm_tiles(r0, r1, n, cols, y, ldy, no_tile_setup,
             [&](int64_t r, int64_t t0, int64_t tn, int64_t c0, int64_t c1, float* out) {
    const block_q4* row = W + r * nb + c0 / KK_Q4_GROUP;
    const int64_t nbc = (c1 - c0) / KK_Q4_GROUP;
    const float* xt = x + t0 * ldx + c0;
    switch (tn) {
      case 1: q4_f32_row<1>(row, nbc, xt, ldx, out); break;
      case 2: q4_f32_row<2>(row, nbc, xt, ldx, out); break;
      case 3: q4_f32_row<3>(row, nbc, xt, ldx, out); break;
      default: q4_f32_row<4>(row, nbc, xt, ldx, out); break;
    }
  });
}

template <int T>
inline void q4_q8_row(const block_q4* row, int64_t nb, const block_q8* xq, int64_t nbx, float* out) {
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  const __m256i shifts = _mm256_set_epi64x(4, 4, 0, 0);
  const __m256i mask = _mm256_set1_epi8(0x0F);
  const __m256i ones = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b) {
    _mm_prefetch(reinterpret_cast<const char*>(row + b) + kPrefetchBytes, _MM_HINT_T0);
    const __m256i w = _mm256_and_si256(
        _mm256_srlv_epi64(_mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row[b].qs))), shifts),
        mask);
    const float ws = bf16_to_f32(row[b].scale_bf16);
    for (int t = 0; t < T; ++t) {
      const block_q8& a = xq[t * nbx + b];
      // Two int8 digits (block_q8): 128·Σw·hi + Σw·lo, minus the +8 offset (Σ of both).
      const __m256i hi = _mm256_madd_epi16(_mm256_maddubs_epi16(w, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qs))), ones);
      const __m256i lo = _mm256_madd_epi16(_mm256_maddubs_epi16(w, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.lo))), ones);
      const __m256i d = _mm256_sub_epi32(_mm256_add_epi32(_mm256_slli_epi32(hi, 7), lo), _mm256_set1_epi32(a.sum));
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d), _mm256_set1_ps(ws * a.d * (1.f / KK_Q8_LO_SCALE)), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) out[t] = hsum(acc[t]);
}

void q4_q8_avx2(const block_q4* W, int64_t cols, int64_t r0, int64_t r1, const block_q8* xq,
                int64_t n, float* y, int64_t ldy) {
  const int64_t nb = cols / KK_Q4_GROUP;
  if (n == 1) {
    for (int64_t r = r0; r < r1; ++r) q4_q8_row<1>(W + r * nb, nb, xq, nb, &y[r]);
    return;
  }
  gemm_tiles(r0, r1, n, cols, y, ldy, no_tile_setup,
             [&](int64_t r, int64_t t0, int64_t tn, int64_t c0, int64_t c1, float* out) {
    const int64_t b0 = c0 / KK_Q4_GROUP, nbc = (c1 - c0) / KK_Q4_GROUP;
    const block_q4* row = W + r * nb + b0;
    const block_q8* xt = xq + t0 * nb + b0;
    switch (tn) {
      case 1: q4_q8_row<1>(row, nbc, xt, nb, out); break;
      case 2: q4_q8_row<2>(row, nbc, xt, nb, out); break;
      case 3: q4_q8_row<3>(row, nbc, xt, nb, out); break;
      default: q4_q8_row<4>(row, nbc, xt, nb, out); break;
    }
  });
}

inline __m256 load_w8(const uint16_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}
inline __m256 load_w8(const float* p) { return _mm256_loadu_ps(p); }
inline float scalar_w(uint16_t v) { return bf16_to_f32(v); }
inline float scalar_w(float v) { return v; }

template <class Wt, int T>
inline void dense_row(const Wt* row, int64_t cols, const float* x, int64_t ldx, float* out) {
  __m256 a0[T], a1[T];
  for (int t = 0; t < T; ++t) a0[t] = a1[t] = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 16 <= cols; c += 16) {
    const __m256 w0 = load_w8(row + c), w1 = load_w8(row + c + 8);
    for (int t = 0; t < T; ++t) {
      a0[t] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + t * ldx + c), a0[t]);
      a1[t] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + t * ldx + c + 8), a1[t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    float s = hsum(_mm256_add_ps(a0[t], a1[t]));
    for (int64_t cc = c; cc < cols; ++cc) s += scalar_w(row[cc]) * x[t * ldx + cc];
    out[t] = s;
  }
}

template <class Wt>
void dense_avx2(const Wt* W, int64_t cols, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                int64_t n, float* y, int64_t ldy) {
  if (n == 1) {
    for (int64_t r = r0; r < r1; ++r) dense_row<Wt, 1>(W + r * cols, cols, x, ldx, &y[r]);
    return;
  }
  gemm_tiles(r0, r1, n, cols, y, ldy, no_tile_setup,
             [&](int64_t r, int64_t t0, int64_t tn, int64_t c0, int64_t c1, float* out) {
    const Wt* row = W + r * cols + c0;
    const float* xt = x + t0 * ldx + c0;
    switch (tn) {
      case 1: dense_row<Wt, 1>(row, c1 - c0, xt, ldx, out); break;
      case 2: dense_row<Wt, 2>(row, c1 - c0, xt, ldx, out); break;
      case 3: dense_row<Wt, 3>(row, c1 - c0, xt, ldx, out); break;
      default: dense_row<Wt, 4>(row, c1 - c0, xt, ldx, out); break;
    }
  });
}

}  // namespace

const Kernels* kernels_avx2() {
  static const Kernels k = {"avx2", q4_f32_avx2, q4_q8_avx2, dense_avx2<uint16_t>, dense_avx2<float>,
                            quantize_q8_plain, q4x16_f32_plain, q4x16_q8_plain, false};
  return &k;
}

}  // namespace kk::cpu
