// gemm_panel_avx512.cpp — prefill GEMM for dense (bf16 / fp32) weights without tile units:
// a register-blocked outer-product kernel on packed weight panels (compiled for AVX-512).
//
// y[t][r] = Σ_c W[r][c] · x[t][c]. The row-major kernel (one weight row against 4 tokens) is
// bound by loads: per 32 columns 2 weight loads, 2 widenings and 8 activation loads feed 8 FMAs.
// Here a panel of kPanelRows rows x kPanelCols columns is packed once (widened to fp32, column
// major: 32 consecutive floats = the panel's rows at one column), and every token tile of
// kTokenBlock tokens runs the micro-kernel over it: per column, two weight loads (L1) and one
// broadcast per token feed 2·kTokenBlock FMAs into 24 accumulators held in registers for the
// whole panel width. Activations stay fp32 and sums fp32, so both modes use it (exact mode is
// exact in the sense of the fp32 kernel: same products, another summation order).
//
// Threads: matmul hands each thread a contiguous row range; each packs its own panels (output
// tiles split across threads, no sharing). The packing costs one pass over the weights per call,
// amortized over all n tokens, which is why small batches stay on the row kernel (kMinTokens).
#include <immintrin.h>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <array>
#include <cstdint>
#include <utility>

#include "cpu/kernels_variants.h"

namespace kk::cpu {
namespace {

constexpr int kPanelRows = 32;      // two zmm of fp32 rows
constexpr int64_t kPanelCols = 256; // 32 KiB of packed fp32: stays in L1 while token tiles pass
constexpr int kTokenBlock = 12;     // 2 x 12 accumulators + 2 weights + a broadcast < 32 zmm

alignas(64) thread_local float tls_panel[kPanelCols * kPanelRows];

inline __m512 widen16(const uint16_t* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}
inline __m512 widen16(const float* p) { return _mm512_loadu_ps(p); }
inline float widen1(uint16_t v) { uint32_t u = uint32_t(v) << 16; float f; __builtin_memcpy(&f, &u, 4); return f; }
inline float widen1(float v) { return v; }

// 16 x 16 fp32 transpose in registers (rows[i] lane j -> rows[j] lane i).
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
  }
  // r[4q + s] now holds, per 128-bit lane L, column 4L + s of rows 4q..4q+3. Gather 128-bit lanes.
  for (int s = 0; s < 4; ++s) {
    const __m512 a = r[s], b = r[4 + s], c = r[8 + s], d = r[12 + s];
    const __m512 ab_lo = _mm512_shuffle_f32x4(a, b, 0x44), ab_hi = _mm512_shuffle_f32x4(a, b, 0xEE);
    const __m512 cd_lo = _mm512_shuffle_f32x4(c, d, 0x44), cd_hi = _mm512_shuffle_f32x4(c, d, 0xEE);
    t[s] = _mm512_shuffle_f32x4(ab_lo, cd_lo, 0x88);       // 128-bit lane 0 of a,b,c,d
    t[4 + s] = _mm512_shuffle_f32x4(ab_lo, cd_lo, 0xDD);   // lane 1
    t[8 + s] = _mm512_shuffle_f32x4(ab_hi, cd_hi, 0x88);   // lane 2
    t[12 + s] = _mm512_shuffle_f32x4(ab_hi, cd_hi, 0xDD);  // lane 3
  }
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

// Packs rows [r, r + nr) x columns [c0, c0 + nc) of W into tls_panel[k·32 + i] (fp32), rows
// past nr as zeros.
template <class Wt>
void pack_panel(const Wt* W, int64_t cols, int64_t r, int nr, int64_t c0, int nc) {
  float* dst = tls_panel;
  for (int half = 0; half < 2; ++half) {
    const int rb = half * 16;
    const int rows = nr - rb < 0 ? 0 : (nr - rb > 16 ? 16 : nr - rb);
    int k = 0;
    if (rows == 16) {
      for (; k + 16 <= nc; k += 16) {
        __m512 v[16];
        for (int i = 0; i < 16; ++i) v[i] = widen16(W + (r + rb + i) * cols + c0 + k);
        transpose16(v);
        for (int j = 0; j < 16; ++j) _mm512_store_ps(dst + (k + j) * kPanelRows + rb, v[j]);
      }
    }
    for (; k < nc; ++k)
      for (int i = 0; i < 16; ++i)
        dst[k * kPanelRows + rb + i] = i < rows ? widen1(W[(r + rb + i) * cols + c0 + k]) : 0.f;
  }
}

// y[t][r + 0..nr) (+)= panel · x[t] over nc columns, for T tokens (x row t at x + t·ldx).
template <int T>
inline void micro(const float* x, int64_t ldx, int nc, float* y, int64_t ldy, int nr, bool add) {
  __m512 a0[T], a1[T];
  for (int t = 0; t < T; ++t) { a0[t] = _mm512_setzero_ps(); a1[t] = _mm512_setzero_ps(); }
  const float* p = tls_panel;
  for (int k = 0; k < nc; ++k, p += kPanelRows) {
    const __m512 w0 = _mm512_load_ps(p), w1 = _mm512_load_ps(p + 16);
    for (int t = 0; t < T; ++t) {
      const __m512 xb = _mm512_set1_ps(x[t * ldx + k]);
      a0[t] = _mm512_fmadd_ps(w0, xb, a0[t]);
      a1[t] = _mm512_fmadd_ps(w1, xb, a1[t]);
    }
  }
  const __mmask16 m0 = nr >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? __mmask16(0xFFFF) : (nr <= 16 ? __mmask16(0) : __mmask16((1u << (nr - 16)) - 1));
  for (int t = 0; t < T; ++t) {
    float* o = y + t * ldy;
    if (add) {
      a0[t] = _mm512_add_ps(a0[t], _mm512_maskz_loadu_ps(m0, o));
      a1[t] = _mm512_add_ps(a1[t], _mm512_maskz_loadu_ps(m1, o + 16));
    }
    _mm512_mask_storeu_ps(o, m0, a0[t]);
    _mm512_mask_storeu_ps(o + 16, m1, a1[t]);
  }
}

template <std::size_t... I>
constexpr auto micro_table(std::index_sequence<I...>) {
  using Fn = void (*)(const float*, int64_t, int, float*, int64_t, int, bool);
  return std::array<Fn, sizeof...(I)>{&micro<int(I) + 1>...};
}

}  // namespace

template <class Wt>
void dense_gemm_panel_avx512(const Wt* W, int64_t cols, int64_t r0, int64_t r1, const float* x,
                             int64_t ldx, int64_t n, float* y, int64_t ldy) {
  static constexpr auto table = micro_table(std::make_index_sequence<kTokenBlock>());
  for (int64_t c0 = 0; c0 < cols; c0 += kPanelCols) {
    const int nc = int(cols - c0 < kPanelCols ? cols - c0 : kPanelCols);
    for (int64_t r = r0; r < r1; r += kPanelRows) {
      const int nr = int(r1 - r < kPanelRows ? r1 - r : kPanelRows);
      pack_panel(W, cols, r, nr, c0, nc);
      for (int64_t t0 = 0; t0 < n; t0 += kTokenBlock) {
        const int tn = int(n - t0 < kTokenBlock ? n - t0 : kTokenBlock);
        table[tn - 1](x + t0 * ldx + c0, ldx, nc, y + t0 * ldy + r, ldy, nr, c0 > 0);
      }
    }
  }
}

template void dense_gemm_panel_avx512<uint16_t>(const uint16_t*, int64_t, int64_t, int64_t, const float*,
                                                int64_t, int64_t, float*, int64_t);
template void dense_gemm_panel_avx512<float>(const float*, int64_t, int64_t, int64_t, const float*, int64_t,
                                             int64_t, float*, int64_t);

}  // namespace kk::cpu
