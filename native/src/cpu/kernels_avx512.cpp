// kernels_avx512.cpp — AVX-512 micro-kernels (compiled with -mavx512* for this file only).
//
// q4_f32 (exact): per block, the 16 nibble bytes are zero-extended to 16 dword lanes; vpermps
//   looks both nibbles up in a 16-entry table {-8..7}·scale, which dequantizes and scales in one
//   shuffle each; then one FMA per 16 weights per token. ~8 vector uops per 32 weights at batch 1.
// q4_q8 (fast): two blocks per zmm, weights as u8 in the order of the int8 activations, one
//   u8×s8 dot (vpdpbusd with VNNI, vpmaddubsw+vpmaddwd without) per pair and token, the +8
//   offset removed through the accumulator's start value, the per-block scales applied in fp32
//   per lane. Activations are "prepared" once per call (pair layout, lane scales, offsets).
// Batch 1 (decode) walks two rows from the two halves of the row range at once: two weight
//   streams keep more memory requests in flight, and activation loads serve both rows. Software
//   prefetch runs kPrefetchBytes ahead on each stream.
// Batch 1 with VNNI + VBMI uses one int16 activation per element instead of two int8 digits
//   (see PreparedPair16) and walks four rows at once.
// Batch n > 1 reuses each dequantized block for up to kTokenTile tokens.
#include <immintrin.h>

// GCC 12 reports false "may be used uninitialized" inside its own AVX-512 intrinsic headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <utility>

#include "core/tensor.h"
#include "cpu/cpu_features.h"
#include "cpu/kernels_variants.h"
#include "cpu/simd_avx512.h"

namespace kk::cpu {
namespace {

// Software prefetch distance for weight streams. The hardware prefetchers alone leave batch-1
// GEMV at ~35 % of the read bandwidth on the dev VMs; 2 KiB ahead (measured: 0.5-4 KiB swept)
// keeps enough misses in flight.
constexpr int kPrefetchBytes = 2048;
inline void pf(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }

// GEMM: the piece [c0, c1) of the next row, fetched while this row computes (the row-block x
// column-chunk walk is too scattered for the hardware prefetchers).
inline void prefetch_piece(const void* p, int64_t bytes) {
  for (int64_t o = 0; o < bytes; o += 64) pf(static_cast<const char*>(p) + o);
}

inline float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

inline __m512 bf16_scale(const block_q4& b) {
  uint32_t u = uint32_t(b.scale_bf16) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return _mm512_set1_ps(f);
}

template <int T>
inline void q4_f32_row(const block_q4* row, int64_t nb, const float* x, int64_t ldx, float* out) {
  const __m512 table = _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7);
  __m512 acc_lo[T], acc_hi[T];
  for (int t = 0; t < T; ++t) { acc_lo[t] = _mm512_setzero_ps(); acc_hi[t] = _mm512_setzero_ps(); }
  for (int64_t b = 0; b < nb; ++b) {
    const __m512 ws = _mm512_mul_ps(table, bf16_scale(row[b]));
    const __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row[b].qs)));
    const __m512 wl = _mm512_permutexvar_ps(q, ws);                         // low nibbles
    const __m512 wh = _mm512_permutexvar_ps(_mm512_srli_epi32(q, 4), ws);   // high nibbles
    for (int t = 0; t < T; ++t) {
      const float* xx = x + t * ldx + b * KK_Q4_GROUP;
      acc_lo[t] = _mm512_fmadd_ps(wl, _mm512_loadu_ps(xx), acc_lo[t]);
      acc_hi[t] = _mm512_fmadd_ps(wh, _mm512_loadu_ps(xx + 16), acc_hi[t]);
    }
  }
  for (int t = 0; t < T; ++t) out[t] = hsum(_mm512_add_ps(acc_lo[t], acc_hi[t]));
}

// Batch 1. The vector ports are the bottleneck (~8 uops per block), so the bf16 scales of a row
// chunk are first widened to fp32 by scalar code into a stack array (integer ports + a store),
// which lets the main loop broadcast them straight from memory (a load, no vector uop). Two
// blocks per iteration with separate accumulators keep the FMA chains short.
constexpr int64_t kScaleChunk = 256;
inline uint32_t load_u32_(const void* p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
inline __m512 scale_of(const block_q4& b) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_set1_epi32(int(load_u32_(&b))), 16));
}  // blocks whose fp32 scales are staged at a time

inline float q4_f32_row1(const block_q4* row, int64_t nb, const float* x) {
  const __m512 table = _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7);
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
  for (int64_t c0 = 0; c0 < nb; c0 += kScaleChunk) {
    const int64_t c1 = std::min(nb, c0 + kScaleChunk);
    int64_t b = c0;
    for (; b + 2 <= c1; b += 2) {
      pf(reinterpret_cast<const char*>(row + b) + kPrefetchBytes);
      const __m512 ws0 = _mm512_mul_ps(table, scale_of(row[b]));
      const __m512 ws1 = _mm512_mul_ps(table, scale_of(row[b + 1]));
      const __m512i q0 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row[b].qs)));
      const __m512i q1 = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row[b + 1].qs)));
      const float* xx = x + b * KK_Q4_GROUP;
      a0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(q0, ws0), _mm512_loadu_ps(xx), a0);
      a1 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(q0, 4), ws0), _mm512_loadu_ps(xx + 16), a1);
      a2 = _mm512_fmadd_ps(_mm512_permutexvar_ps(q1, ws1), _mm512_loadu_ps(xx + 32), a2);
      a3 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(q1, 4), ws1), _mm512_loadu_ps(xx + 48), a3);
    }
    for (; b < c1; ++b) {
      const __m512 ws = _mm512_mul_ps(table, scale_of(row[b]));
      const __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row[b].qs)));
      const float* xx = x + b * KK_Q4_GROUP;
      a0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(q, ws), _mm512_loadu_ps(xx), a0);
      a1 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(q, 4), ws), _mm512_loadu_ps(xx + 16), a1);
    }
  }
  return hsum(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

// Batch 1, two rows from the two halves of the row range at once (two weight streams, shared
// activation loads), as in the fast path.
inline void q4_f32_row2(const block_q4* ra, const block_q4* rb, int64_t nb, const float* x, float* out_a, float* out_b) {
  const __m512 table = _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7);
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    pf(reinterpret_cast<const char*>(ra + b) + kPrefetchBytes);
    pf(reinterpret_cast<const char*>(rb + b) + kPrefetchBytes);
    const __m512 wsa = _mm512_mul_ps(table, scale_of(ra[b]));
    const __m512 wsb = _mm512_mul_ps(table, scale_of(rb[b]));
    const __m512i qa = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(ra[b].qs)));
    const __m512i qb = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rb[b].qs)));
    const __m512 x0 = _mm512_loadu_ps(x + b * KK_Q4_GROUP), x1 = _mm512_loadu_ps(x + b * KK_Q4_GROUP + 16);
    a0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(qa, wsa), x0, a0);
    a1 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(qa, 4), wsa), x1, a1);
    b0 = _mm512_fmadd_ps(_mm512_permutexvar_ps(qb, wsb), x0, b0);
    b1 = _mm512_fmadd_ps(_mm512_permutexvar_ps(_mm512_srli_epi32(qb, 4), wsb), x1, b1);
  }
  *out_a = hsum(_mm512_add_ps(a0, a1));
  *out_b = hsum(_mm512_add_ps(b0, b1));
}

void q4_f32_avx512(const block_q4* W, int64_t cols, int64_t r0, int64_t r1, const float* x,
                   int64_t ldx, int64_t n, float* y, int64_t ldy) {
  const int64_t nb = cols / KK_Q4_GROUP;
  if (n == 1) {
    const int64_t half = (r1 - r0) / 2;
    for (int64_t i = 0; i < half; ++i)
      q4_f32_row2(W + (r0 + i) * nb, W + (r0 + half + i) * nb, nb, x, &y[r0 + i], &y[r0 + half + i]);
    if ((r1 - r0) & 1) y[r1 - 1] = q4_f32_row1(W + (r1 - 1) * nb, nb, x);
    return;
  }
  gemm_tiles(r0, r1, n, cols, y, ldy, no_tile_setup,
             [&](int64_t r, int64_t t0, int64_t tn, int64_t c0, int64_t c1, float* out) {
    const block_q4* row = W + r * nb + c0 / KK_Q4_GROUP;
    const int64_t nbc = (c1 - c0) / KK_Q4_GROUP;
    prefetch_piece(row + nb, nbc * int64_t(sizeof(block_q4)));
    const float* xt = x + t0 * ldx + c0;
    switch (tn) {
      case 1: out[0] = q4_f32_row1(row, nbc, xt); break;
      case 2: q4_f32_row<2>(row, nbc, xt, ldx, out); break;
      case 3: q4_f32_row<3>(row, nbc, xt, ldx, out); break;
      default: q4_f32_row<4>(row, nbc, xt, ldx, out); break;
    }
  });
}

// --- fast mode -----------------------------------------------------------------------------

// Weights of blocks b0, b1 as 64 u8 (0..15) in activation order: [b0 lo | b0 hi | b1 lo | b1 hi].
inline __m512i q4_pair_u8(const block_q4& b0, const block_q4& b1) {
  const __m512i shifts = _mm512_set_epi64(4, 4, 0, 0, 4, 4, 0, 0);  // per 64-bit: lanes 1,3 >> 4
  __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b0.qs)));
  v = _mm512_mask_broadcast_i32x4(v, 0xFF00, _mm_loadu_si128(reinterpret_cast<const __m128i*>(b1.qs)));
  v = _mm512_srlv_epi64(v, shifts);
  return _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
}

inline __m512i q8_pair_i8(const kk_i8* a0, const kk_i8* a1) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a0))),
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a1)), 1);
}
// The two digits' dot products combined: 128·hi + lo (see block_q8).
inline __m512i combine_digits(__m512i hi, __m512i lo) {
  static_assert(KK_Q8_LO_SCALE == 128, "combine_digits shifts by 7");
  return _mm512_add_epi32(_mm512_slli_epi32(hi, 7), lo);
}

// Lanes 0-7 = v0, lanes 8-15 = v1.
inline __m512i pair_i32(int v0, int v1) { return _mm512_mask_set1_epi32(_mm512_set1_epi32(v0), 0xFF00, v1); }
inline __m512 pair_f32(float v0, float v1) { return _mm512_mask_broadcastss_ps(_mm512_set1_ps(v0), 0xFF00, _mm_set_ss(v1)); }

using avx512::dot_u8s8;

// Activation side of one block pair for one token, laid out for the dot product: computed once
// per kernel call and reused by every weight row, so the inner loop only loads it.
struct alignas(64) PreparedPair {
  __m512i init;  // start of the low-digit accumulator: removes the +8 offset of the weights
  __m512i qs;    // the two blocks' 32+32 high int8 digits
  __m512i lo;    // the two blocks' 32+32 low int8 digits
  __m512 d;      // per-lane activation scale (d / 128, and / 16 on masked high-nibble lanes)
};
// Batch 1: up to this many columns the prepared activations live on the stack (128 pairs x
// 256 B = 32 KiB); wider rows use the unprepared path. Batch > 1 prepares per column chunk.
constexpr int64_t kPrepMaxCols = 8192;

// Without VNNI (vpmaddubsw saturates at int16) the weights are shifted to 0..15 and each block's
// 8 lanes start from -Σa. With VNNI the high nibbles are only masked (16·(q+8), up to 240: one
// shift fewer per pair); their lanes then carry 16x the sum, so they start from -128·Σa(lane)
// instead of -8·Σa(lane) and are scaled by d/16 (exact: a power of two).
template <bool kVnni>
inline void prepare_pairs(const block_q8* xq, int64_t n_pairs, PreparedPair* out) {
  for (int64_t p = 0; p < n_pairs; ++p) {
    const block_q8& a0 = xq[2 * p];
    const block_q8& a1 = xq[2 * p + 1];
    out[p].qs = q8_pair_i8(a0.qs, a1.qs);
    out[p].lo = q8_pair_i8(a0.lo, a1.lo);
    const float d0 = a0.d * (1.f / KK_Q8_LO_SCALE), d1 = a1.d * (1.f / KK_Q8_LO_SCALE);
    if constexpr (kVnni) {
      const __m512i ones = _mm512_set1_epi8(1);
      const __m512i lane_sum = combine_digits(_mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, out[p].qs),
                                              _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, out[p].lo));
      const __m512i mult = _mm512_setr_epi32(-8, -8, -8, -8, -128, -128, -128, -128,
                                             -8, -8, -8, -8, -128, -128, -128, -128);
      out[p].init = _mm512_mullo_epi32(lane_sum, mult);
      out[p].d = _mm512_setr_ps(d0, d0, d0, d0, d0 / 16, d0 / 16, d0 / 16, d0 / 16,
                                d1, d1, d1, d1, d1 / 16, d1 / 16, d1 / 16, d1 / 16);
    } else {
      out[p].init = pair_i32(-a0.sum, -a1.sum);
      out[p].d = pair_f32(d0, d1);
    }
  }
}

// VNNI weight pair: [b0 & 0x0F | b0 & 0xF0 | b1 & 0x0F | b1 & 0xF0] (see prepare_pairs).
inline __m512i q4_pair_u8_masked(const block_q4& b0, const block_q4& b1) {
  __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b0.qs)));
  v = _mm512_mask_broadcast_i32x4(v, 0xFF00, _mm_loadu_si128(reinterpret_cast<const __m128i*>(b1.qs)));
  const __m512i mask = _mm512_set_epi64(
      int64_t(0xF0F0F0F0F0F0F0F0ull), int64_t(0xF0F0F0F0F0F0F0F0ull), 0x0F0F0F0F0F0F0F0F, 0x0F0F0F0F0F0F0F0F,
      int64_t(0xF0F0F0F0F0F0F0F0ull), int64_t(0xF0F0F0F0F0F0F0F0ull), 0x0F0F0F0F0F0F0F0F, 0x0F0F0F0F0F0F0F0F);
  return _mm512_and_si512(v, mask);
}

inline uint32_t load_u32(const void* p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }

// Scales of two consecutive blocks as fp32 lanes (0-7, 8-15): a dword broadcast from memory puts
// the bf16 scale in the low half of each lane; shifting left by 16 makes it an fp32.
inline __m512 q4_pair_scales(const block_q4& b0, const block_q4& b1) {
  __m512i v = _mm512_set1_epi32(int(load_u32(&b0)));
  v = _mm512_mask_set1_epi32(v, 0xFF00, int(load_u32(&b1)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}

// Odd block count: the last block in scalar code.
inline float q4_q8_block_scalar(const block_q4& w, const block_q8& a) {
  int isum = 0;
  for (int j = 0; j < 16; ++j)
    isum += (int(w.qs[j] & 0x0F) - 8) * (a.qs[j] * KK_Q8_LO_SCALE + a.lo[j]) +
            (int(w.qs[j] >> 4) - 8) * (a.qs[j + 16] * KK_Q8_LO_SCALE + a.lo[j + 16]);
  return float(isum) * (bf16_to_f32(w.scale_bf16) * a.d * (1.f / KK_Q8_LO_SCALE));
}

template <bool kVnni, int T>
inline void q4_q8_row_prepared(const block_q4* row, int64_t nb, const PreparedPair* const* prep,
                               const block_q8* xq, int64_t nbx, float* out) {
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  // fp32 scales staged by scalar code (see q4_f32_row1): a pair's scale vector is then one
  // broadcast load plus one masked broadcast.
  const int64_t n_pairs = nb / 2;
  for (int64_t p = 0; p < n_pairs; ++p) {
    const block_q4* b = row + 2 * p;
    pf(reinterpret_cast<const char*>(b) + kPrefetchBytes);
    const __m512i w = kVnni ? q4_pair_u8_masked(b[0], b[1]) : q4_pair_u8(b[0], b[1]);
    const __m512 ws = q4_pair_scales(b[0], b[1]);
    for (int t = 0; t < T; ++t) {
      const PreparedPair& pp = prep[t][p];
      const __m512i d = combine_digits(dot_u8s8<kVnni>(_mm512_setzero_si512(), w, pp.qs),
                                       dot_u8s8<kVnni>(pp.init, w, pp.lo));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(ws, pp.d), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    out[t] = hsum(acc[t]);
    if (nb & 1) out[t] += q4_q8_block_scalar(row[nb - 1], xq[t * nbx + nb - 1]);
  }
}

// Batch 1, two rows from the two halves of the row range at once: two independent weight
// streams keep more memory requests in flight, and each prepared activation load serves both.
template <bool kVnni>
inline void q4_q8_row2_prepared(const block_q4* ra, const block_q4* rb, int64_t nb,
                                const PreparedPair* prep, const block_q8* xq, float* out_a, float* out_b) {
  __m512 acc_a = _mm512_setzero_ps(), acc_b = _mm512_setzero_ps();
  const int64_t n_pairs = nb / 2;
  for (int64_t p = 0; p < n_pairs; ++p) {
    const block_q4* ba = ra + 2 * p;
    const block_q4* bb = rb + 2 * p;
    pf(reinterpret_cast<const char*>(ba) + kPrefetchBytes);
    pf(reinterpret_cast<const char*>(bb) + kPrefetchBytes);
    const PreparedPair& pp = prep[p];
    const __m512i wa = kVnni ? q4_pair_u8_masked(ba[0], ba[1]) : q4_pair_u8(ba[0], ba[1]);
    const __m512i wb = kVnni ? q4_pair_u8_masked(bb[0], bb[1]) : q4_pair_u8(bb[0], bb[1]);
    const __m512i da = combine_digits(dot_u8s8<kVnni>(_mm512_setzero_si512(), wa, pp.qs),
                                      dot_u8s8<kVnni>(pp.init, wa, pp.lo));
    const __m512i db = combine_digits(dot_u8s8<kVnni>(_mm512_setzero_si512(), wb, pp.qs),
                                      dot_u8s8<kVnni>(pp.init, wb, pp.lo));
    acc_a = _mm512_fmadd_ps(_mm512_cvtepi32_ps(da), _mm512_mul_ps(q4_pair_scales(ba[0], ba[1]), pp.d), acc_a);
    acc_b = _mm512_fmadd_ps(_mm512_cvtepi32_ps(db), _mm512_mul_ps(q4_pair_scales(bb[0], bb[1]), pp.d), acc_b);
  }
  *out_a = hsum(acc_a);
  *out_b = hsum(acc_b);
  if (nb & 1) {
    *out_a += q4_q8_block_scalar(ra[nb - 1], xq[nb - 1]);
    *out_b += q4_q8_block_scalar(rb[nb - 1], xq[nb - 1]);
  }
}

template <bool kVnni, int T>
inline void q4_q8_row(const block_q4* row, int64_t nb, const block_q8* xq, int64_t nbx, float* out) {
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    pf(reinterpret_cast<const char*>(row + b) + kPrefetchBytes);
    const __m512i w = q4_pair_u8(row[b], row[b + 1]);
    const __m512 ws = q4_pair_scales(row[b], row[b + 1]);
    for (int t = 0; t < T; ++t) {
      const block_q8& a0 = xq[t * nbx + b];
      const block_q8& a1 = xq[t * nbx + b + 1];
      // Start from -Σa per lane group: 8 lanes · (-Σa) removes the +8 offset of every weight.
      const __m512i d = combine_digits(dot_u8s8<kVnni>(_mm512_setzero_si512(), w, q8_pair_i8(a0.qs, a1.qs)),
                                       dot_u8s8<kVnni>(pair_i32(-a0.sum, -a1.sum), w, q8_pair_i8(a0.lo, a1.lo)));
      const __m512 dd = pair_f32(a0.d * (1.f / KK_Q8_LO_SCALE), a1.d * (1.f / KK_Q8_LO_SCALE));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(ws, dd), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    out[t] = hsum(acc[t]);
    if (nb & 1) out[t] += q4_q8_block_scalar(row[nb - 1], xq[t * nbx + nb - 1]);
  }
}

// --- fast mode, batch 1 with VNNI: one int16 activation per element -----------------------
// The two int8 digits are recombined once per call into a16 = 128·hi + lo (|a16| ≤ 16320 fits
// int16), so one vpdpwssd (int16 pairs) serves both digits: no second dot product and no
// shift-and-add to combine them. Four rows are walked at once (kRowStreams16). Per block pair, one 64-byte load holds both blocks; vpermb
// zero-extends their 32 bytes to 32 words (word j of a block holds nibble j and nibble j+16),
// an AND and a shift split the nibbles, and vpermw lifts both bf16 scales into fp32 lanes
// (0-7, 8-15). Same integers as the two-digit path, so the same precision; ~9 instead of ~11
// vector uops per pair and row.
// vpermb is AVX512_VBMI: only these functions are compiled for it, and they run only where
// cpuid reports it (the rest of the file must not assume it).
#define KK_VBMI __attribute__((target("avx512vbmi")))

struct alignas(64) PreparedPair16 {
  __m512i init;  // -8·Σa of each lane's four activations: removes the +8 offset of the weights
  __m512i a_lo;  // word j of block k (j < 16): a16 of element j (low nibbles)
  __m512i a_hi;  // ... and of element j + 16 (high nibbles)
  __m512 d;      // lanes 0-7: d0 / 128, lanes 8-15: d1 / 128
};

inline void prepare_pairs16(const block_q8* xq, int64_t n_pairs, PreparedPair16* out) {
  static_assert(KK_Q8_LO_SCALE == 128, "a16 = 128·hi + lo");
  for (int64_t p = 0; p < n_pairs; ++p) {
    const block_q8& a0 = xq[2 * p];
    const block_q8& a1 = xq[2 * p + 1];
    auto a16 = [](const kk_i8* q0, const kk_i8* l0, const kk_i8* q1, const kk_i8* l1) {
      const __m512i q = _mm512_cvtepi8_epi16(_mm256_inserti128_si256(
          _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q0))), _mm_loadu_si128(reinterpret_cast<const __m128i*>(q1)), 1));
      const __m512i l = _mm512_cvtepi8_epi16(_mm256_inserti128_si256(
          _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(l0))), _mm_loadu_si128(reinterpret_cast<const __m128i*>(l1)), 1));
      return _mm512_add_epi16(_mm512_slli_epi16(q, 7), l);
    };
    out[p].a_lo = a16(a0.qs, a0.lo, a1.qs, a1.lo);
    out[p].a_hi = a16(a0.qs + 16, a0.lo + 16, a1.qs + 16, a1.lo + 16);
    const __m512i ones = _mm512_set1_epi16(1);
    const __m512i s = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(_mm512_setzero_si512(), ones, out[p].a_lo), ones, out[p].a_hi);
    out[p].init = _mm512_slli_epi32(_mm512_sub_epi32(_mm512_setzero_si512(), s), 3);
    out[p].d = pair_f32(xq[2 * p].d * (1.f / KK_Q8_LO_SCALE), xq[2 * p + 1].d * (1.f / KK_Q8_LO_SCALE));
  }
}

// vpermb index: word j < 16 <- byte 2 + j (block 0's qs[j]), word 16 + j <- byte 20 + j
// (block 1's); the odd bytes are zeroed by the mask.
inline __m512i pair16_byte_index() {
  alignas(64) uint8_t idx[64];
  for (int j = 0; j < 32; ++j) { idx[2 * j] = uint8_t(j < 16 ? 2 + j : 20 + (j - 16)); idx[2 * j + 1] = 0; }
  return _mm512_load_si512(idx);
}
// vpermw index: odd word of lanes 0-7 <- word 0 (block 0's scale), of lanes 8-15 <- word 9.
inline __m512i pair16_scale_index() {
  alignas(64) uint16_t idx[32];
  for (int j = 0; j < 32; ++j) idx[j] = uint16_t(j < 16 ? 0 : 9);
  return _mm512_load_si512(idx);
}
constexpr __mmask64 kEvenBytes = 0x5555555555555555ull;
constexpr __mmask32 kOddWords = 0xAAAAAAAAu;
constexpr __mmask64 kPairBytes = (1ull << (2 * sizeof(block_q4))) - 1;

// One block pair of one row: raw = the pair's bytes at offset 0 (block 0) and 18 (block 1).
KK_VBMI inline __m512 pair16_step(__m512i raw, const PreparedPair16& pp, __m512i bidx, __m512i sidx,
                                  __m512i nib, __m512 acc) {
  const __m512i w = _mm512_maskz_permutexvar_epi8(kEvenBytes, bidx, raw);
  __m512i d = _mm512_dpwssd_epi32(pp.init, _mm512_and_si512(w, nib), pp.a_lo);
  d = _mm512_dpwssd_epi32(d, _mm512_srli_epi16(w, 4), pp.a_hi);
  const __m512 ws = _mm512_castsi512_ps(_mm512_maskz_permutexvar_epi16(kOddWords, sidx, raw));
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(ws, pp.d), acc);
}

// R rows from independent weight streams, each prepared activation load serving all.
template <int R>
KK_VBMI void q4_q8_rows_pair16(const block_q4* const* rows, int64_t nb, const PreparedPair16* prep,
                              const block_q8* xq, float* const* outs) {
  const __m512i bidx = pair16_byte_index(), sidx = pair16_scale_index();
  const __m512i nib = _mm512_set1_epi16(0x0F);
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  const int64_t n_pairs = nb / 2;
  // A 64-byte load covers the pair's 36 bytes and reads on into the next pair; the row's last
  // pair is loaded masked so it never touches memory past the matrix.
  for (int64_t p = 0; p + 1 < n_pairs; ++p)
    for (int r = 0; r < R; ++r) {
      const block_q4* b = rows[r] + 2 * p;
      pf(reinterpret_cast<const char*>(b) + kPrefetchBytes);
      acc[r] = pair16_step(_mm512_loadu_si512(b), prep[p], bidx, sidx, nib, acc[r]);
    }
  if (n_pairs > 0)
    for (int r = 0; r < R; ++r) acc[r] = pair16_step(_mm512_maskz_loadu_epi8(kPairBytes, rows[r] + 2 * (n_pairs - 1)), prep[n_pairs - 1], bidx, sidx, nib, acc[r]);
  for (int r = 0; r < R; ++r) {
    *outs[r] = hsum(acc[r]);
    if (nb & 1) *outs[r] += q4_q8_block_scalar(rows[r][nb - 1], xq[nb - 1]);
  }
}

// Weight rows walked at once by the batch-1 int16 path. Measured in cache (64-256 x 7168):
// 2 streams 18.5 GB/s, 4 streams 22-24 GB/s, 8 streams 23-25 GB/s per core; the loop is bound by
// latency, not ports, so more independent rows help; 4 keeps the memory streams per core modest.
constexpr int kRowStreams16 = 4;

// Rows [r0, r1) as R interleaved streams (R equal parts walked in step), the rest one by one.
template <int R>
KK_VBMI void q4_q8_rows_split16(const block_q4* W, int64_t nb, int64_t r0, int64_t r1,
                                const PreparedPair16* prep, const block_q8* xq, float* y) {
  const int64_t q = (r1 - r0) / R;
  for (int64_t i = 0; i < q; ++i) {
    const block_q4* rows[R];
    float* outs[R];
    for (int k = 0; k < R; ++k) { rows[k] = W + (r0 + k * q + i) * nb; outs[k] = &y[r0 + k * q + i]; }
    q4_q8_rows_pair16<R>(rows, nb, prep, xq, outs);
  }
  for (int64_t r = r0 + R * q; r < r1; ++r) {
    const block_q4* rows[1] = {W + r * nb};
    float* outs[1] = {&y[r]};
    q4_q8_rows_pair16<1>(rows, nb, prep, xq, outs);
  }
}

template <bool kVnni>
void q4_q8_avx512(const block_q4* W, int64_t cols, int64_t r0, int64_t r1, const block_q8* xq,
                  int64_t n, float* y, int64_t ldy) {
  const int64_t nb = cols / KK_Q4_GROUP;
  if (kVnni && n == 1 && cols <= kPrepMaxCols && cpu_features().avx512_vbmi) {
    PreparedPair16 prep16[kPrepMaxCols / 64];
    prepare_pairs16(xq, nb / 2, prep16);
    q4_q8_rows_split16<kRowStreams16>(W, nb, r0, r1, prep16, xq, y);
    return;
  }
  if (n == 1 && cols <= kPrepMaxCols) {
    PreparedPair prep1[kPrepMaxCols / 64];
    prepare_pairs<kVnni>(xq, nb / 2, prep1);
    const int64_t half = (r1 - r0) / 2;
    for (int64_t i = 0; i < half; ++i)
      q4_q8_row2_prepared<kVnni>(W + (r0 + i) * nb, W + (r0 + half + i) * nb, nb, prep1, xq, &y[r0 + i], &y[r0 + half + i]);
    if ((r1 - r0) & 1) {
      const PreparedPair* pp = prep1;
      q4_q8_row_prepared<kVnni, 1>(W + (r1 - 1) * nb, nb, &pp, xq, nb, &y[r1 - 1]);
    }
    return;
  }
  if (n == 1) {  // rows wider than the prepared limit
    for (int64_t r = r0; r < r1; ++r) q4_q8_row<kVnni, 1>(W + r * nb, nb, xq, nb, &y[r]);
    return;
  }
  // GEMM: activations of each (column chunk, token tile) prepared once for the row block.
  static_assert(kColChunk % 64 == 0, "column chunks hold whole block pairs");
  PreparedPair prep_storage[kTokenTile][kColChunk / 64];
  const PreparedPair* prep[kTokenTile];
  gemm_tiles(r0, r1, n, cols, y, ldy,
             [&](int64_t t0, int64_t tn, int64_t c0, int64_t c1) {
    for (int64_t t = 0; t < tn; ++t) {
      prepare_pairs<kVnni>(xq + (t0 + t) * nb + c0 / KK_Q4_GROUP, (c1 - c0) / KK_Q4_GROUP / 2, prep_storage[t]);
      prep[t] = prep_storage[t];
    }
  },
             [&](int64_t r, int64_t t0, int64_t tn, int64_t c0, int64_t c1, float* out) {
    const int64_t b0 = c0 / KK_Q4_GROUP, nbc = (c1 - c0) / KK_Q4_GROUP;
    const block_q4* row = W + r * nb + b0;
    prefetch_piece(row + nb, nbc * int64_t(sizeof(block_q4)));
    const block_q8* xt = xq + t0 * nb + b0;
    switch (tn) {
      case 1: q4_q8_row_prepared<kVnni, 1>(row, nbc, prep, xt, nb, out); break;
      case 2: q4_q8_row_prepared<kVnni, 2>(row, nbc, prep, xt, nb, out); break;
      case 3: q4_q8_row_prepared<kVnni, 3>(row, nbc, prep, xt, nb, out); break;
      default: q4_q8_row_prepared<kVnni, 4>(row, nbc, prep, xt, nb, out); break;
    }
  });
}

// --- bf16 and f32 weights ------------------------------------------------------------------

inline __m512 load_bf16x16(const uint16_t* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}
inline __m512 load_bf16_tail(const uint16_t* p, int m) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(__mmask16((1u << m) - 1), p)), 16));
}
inline __m512 load_f32x16(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 load_f32_tail(const float* p, int m) { return _mm512_maskz_loadu_ps(__mmask16((1u << m) - 1), p); }

template <class Wt, int T>
inline void dense_row(const Wt* row, int64_t cols, const float* x, int64_t ldx, float* out) {
  __m512 a0[T], a1[T];
  for (int t = 0; t < T; ++t) { a0[t] = _mm512_setzero_ps(); a1[t] = _mm512_setzero_ps(); }
  auto load_w = [](const Wt* p) { if constexpr (sizeof(Wt) == 2) return load_bf16x16(p); else return load_f32x16(p); };
  auto load_w_tail = [](const Wt* p, int m) { if constexpr (sizeof(Wt) == 2) return load_bf16_tail(p, m); else return load_f32_tail(p, m); };
  int64_t c = 0;
  for (; c + 32 <= cols; c += 32) {
    const __m512 w0 = load_w(row + c), w1 = load_w(row + c + 16);
    for (int t = 0; t < T; ++t) {
      a0[t] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(x + t * ldx + c), a0[t]);
      a1[t] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(x + t * ldx + c + 16), a1[t]);
    }
  }
  for (; c < cols; c += 16) {
    const int m = int(cols - c < 16 ? cols - c : 16);
    const __m512 w = load_w_tail(row + c, m);
    for (int t = 0; t < T; ++t) a0[t] = _mm512_fmadd_ps(w, load_f32_tail(x + t * ldx + c, m), a0[t]);
  }
  for (int t = 0; t < T; ++t) out[t] = hsum(_mm512_add_ps(a0[t], a1[t]));
}

// Batch 1: two rows from the two halves of the row range, with software prefetch (as q4).
template <class Wt>
inline void dense_row2(const Wt* ra, const Wt* rb, int64_t cols, const float* x, float* out_a, float* out_b) {
  auto load_w = [](const Wt* p) { if constexpr (sizeof(Wt) == 2) return load_bf16x16(p); else return load_f32x16(p); };
  auto load_w_tail = [](const Wt* p, int m) { if constexpr (sizeof(Wt) == 2) return load_bf16_tail(p, m); else return load_f32_tail(p, m); };
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
  int64_t c = 0;
  for (; c + 32 <= cols; c += 32) {
    for (int l = 0; l < int(32 * sizeof(Wt) / 64); ++l) {
      pf(reinterpret_cast<const char*>(ra + c) + kPrefetchBytes + 64 * l);
      pf(reinterpret_cast<const char*>(rb + c) + kPrefetchBytes + 64 * l);
    }
    const __m512 x0 = _mm512_loadu_ps(x + c), x1 = _mm512_loadu_ps(x + c + 16);
    a0 = _mm512_fmadd_ps(load_w(ra + c), x0, a0);
    a1 = _mm512_fmadd_ps(load_w(ra + c + 16), x1, a1);
    b0 = _mm512_fmadd_ps(load_w(rb + c), x0, b0);
    b1 = _mm512_fmadd_ps(load_w(rb + c + 16), x1, b1);
  }
  for (; c < cols; c += 16) {
    const int m = int(cols - c < 16 ? cols - c : 16);
    const __m512 xx = load_f32_tail(x + c, m);
    a0 = _mm512_fmadd_ps(load_w_tail(ra + c, m), xx, a0);
    b0 = _mm512_fmadd_ps(load_w_tail(rb + c, m), xx, b0);
  }
  *out_a = hsum(_mm512_add_ps(a0, a1));
  *out_b = hsum(_mm512_add_ps(b0, b1));
}

// The row kernel over 4-token tiles (no buffer): where the small-batch kernel cannot get one.
template <class Wt>
void dense_row_tokens_fallback(const Wt* W, int64_t cols, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                               int64_t n, float* y, int64_t ldy) {
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

// Small batches (2 .. kSmallBatchMax tokens: batched decode, short follow-ups): a GEMV over T
// activation rows. R weight rows from R parts of the range are streamed once, in step, from
// DRAM with software prefetch (as dense_row2); each 32-column piece of them is widened once
// and multiplied into all T tokens. The GEMM paths read the weights in short strided pieces
// (gemm_tiles: 2 KiB per row) or repack 32-row panels per call (the panel kernel): at 2-8
// tokens they read the weights 3.7-14x slower than the GEMV (K2's bf16 lm_head, 2 threads:
// 73 ms at 1 token, 270 at 2, 1052 at 8; docs/bench/k2-layers2-t2-sessions-concurrency.json).
//
// The activations are first interleaved per 32-column piece (xp[piece][t][32], zero-padded),
// so a step reads T x 128 contiguous bytes: K2's rows are 7168 floats = 7 x 4 KiB apart, and
// the same columns of 8+ tokens otherwise share one L1 set. Measured on one Zen 5 core (bf16,
// 7168 columns, best of 5): 8-16 tokens 57-80 -> 76-100 GFLOP/s; 4 tokens ~210-240 either way.
// What still bounds 8+ tokens: every FMA takes a full activation vector, 64/R bytes per FMA
// from L2 (T x 128 B per step); weights packed at load so that activations can be broadcast
// (as the panel GEMM does) would need ~2 B per FMA. Not done yet.
// R x T accumulators + 2R weight registers + 2 activation registers fit the 32 zmm; every loop
// over R and T is unrolled, or the accumulators would live in memory.
template <class Wt, int R, int T>
inline void dense_rows_tokens(const Wt* const* rows_in, int64_t cols, const float* xp, float* const* outs,
                              int64_t ldy) {
  auto load_w = [](const Wt* p) { if constexpr (sizeof(Wt) == 2) return load_bf16x16(p); else return load_f32x16(p); };
  auto load_w_tail = [](const Wt* p, int m) { if constexpr (sizeof(Wt) == 2) return load_bf16_tail(p, m); else return load_f32_tail(p, m); };
  const Wt* rows[R];  // locals: stores to acc could otherwise alias them (see groups_q8)
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) rows[r] = rows_in[r];
  __m512 acc[R][T];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  auto step = [&](const __m512* w0, const __m512* w1, const float* xt) {
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t) {
      const __m512 x0 = _mm512_load_ps(xt + 32 * t), x1 = _mm512_load_ps(xt + 32 * t + 16);
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r) {
        acc[r][t] = _mm512_fmadd_ps(w0[r], x0, acc[r][t]);
        acc[r][t] = _mm512_fmadd_ps(w1[r], x1, acc[r][t]);
      }
    }
  };
  int64_t c = 0;
  const float* xt = xp;
  for (; c + 32 <= cols; c += 32, xt += 32 * T) {
    __m512 w0[R], w1[R];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      for (int l = 0; l < int(32 * sizeof(Wt) / 64); ++l)
        pf(reinterpret_cast<const char*>(rows[r] + c) + kPrefetchBytes + 64 * l);
      w0[r] = load_w(rows[r] + c);
      w1[r] = load_w(rows[r] + c + 16);
    }
    step(w0, w1, xt);
  }
  if (c < cols) {  // the last partial piece: masked weights, zero-padded activations
    const int m = int(cols - c);
    __m512 w0[R], w1[R];
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      w0[r] = load_w_tail(rows[r] + c, m < 16 ? m : 16);
      w1[r] = m > 16 ? load_w_tail(rows[r] + c + 16, m - 16) : _mm512_setzero_ps();
    }
    step(w0, w1, xt);
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 16
    for (int t = 0; t < T; ++t) outs[r][t * ldy] = hsum(acc[r][t]);
}

// Rows walked in step for T tokens: R·T accumulators stay within 16 (the 32-register file
// also holds 2R weights and 2 activations, and wider R gains nothing once memory is the limit).
template <int T>
constexpr int small_batch_rows() { return T <= 4 ? 4 : (T <= 8 ? 2 : 1); }
constexpr int64_t kSmallBatchMax = kPanelMinTokens - 1;  // above it the panel GEMM
static_assert(kSmallBatchMax >= 2, "the small-batch path starts at 2 tokens");
// Tokens per pass; later passes find the rows in L2. 4 (R = 4 rows in step, 16 B of activations
// per FMA) beats 8 (R = 2, 32 B per FMA): one Zen 5 core, bf16 x 7168, 8 / 16 tokens, same run:
// 128 / 152 against 116 / 135 GFLOP/s with the rows from DRAM, 165 against 137 from cache.
constexpr int kSmallTokenTile = 4;

// xp: the tile's T tokens interleaved (see dense_rows_tokens).
template <class Wt, int T>
void dense_small_tile(const Wt* W, int64_t cols, int64_t r0, int64_t r1, const float* xp, float* y, int64_t ldy) {
  constexpr int R = small_batch_rows<T>();
  const int64_t q = (r1 - r0) / R;
  for (int64_t i = 0; i < q; ++i) {
    const Wt* rows[R];
    float* outs[R];
    for (int k = 0; k < R; ++k) { rows[k] = W + (r0 + k * q + i) * cols; outs[k] = y + r0 + k * q + i; }
    dense_rows_tokens<Wt, R, T>(rows, cols, xp, outs, ldy);
  }
  for (int64_t r = r0 + R * q; r < r1; ++r) {
    const Wt* rows[1] = {W + r * cols};
    float* outs[1] = {y + r};
    dense_rows_tokens<Wt, 1, T>(rows, cols, xp, outs, ldy);
  }
}

template <class Wt, std::size_t... I>
constexpr auto dense_small_table(std::index_sequence<I...>) {
  using Fn = void (*)(const Wt*, int64_t, int64_t, int64_t, const float*, float*, int64_t);
  return std::array<Fn, sizeof...(I)>{&dense_small_tile<Wt, int(I) + 1>...};
}

// The interleaved activations of every token tile (kernels never allocate per call: the buffer
// is the calling thread's and only grows; at most 16 x 18432 floats for K2).
struct AlignedFree { void operator()(float* p) const { std::free(p); } };
thread_local std::unique_ptr<float, AlignedFree> tls_small_x;
thread_local int64_t tls_small_x_floats = 0;

// Tokens in tiles of kSmallTokenTile over the same rows: the first tile streams them from DRAM,
// the next ones (n > 4) find them in L2 when the row range is a thread's grain-sized share.
template <class Wt>
void dense_small_batch(const Wt* W, int64_t cols, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                       int64_t n, float* y, int64_t ldy) {
  static constexpr auto table = dense_small_table<Wt>(std::make_index_sequence<kSmallTokenTile>());
  const int64_t pieces = (cols + 31) / 32;
  const int64_t need = pieces * 32 * n;
  if (tls_small_x_floats < need) {
    float* p = static_cast<float*>(std::aligned_alloc(64, size_t(need) * sizeof(float)));
    if (!p) {  // out of memory: the row kernel needs no buffer
      dense_row_tokens_fallback(W, cols, r0, r1, x, ldx, n, y, ldy);
      return;
    }
    tls_small_x.reset(p);
    tls_small_x_floats = need;
  }
  float* xp = tls_small_x.get();
  for (int64_t t0 = 0; t0 < n; t0 += kSmallTokenTile) {
    const int64_t tn = std::min<int64_t>(kSmallTokenTile, n - t0);
    float* dst = xp + t0 * pieces * 32;
    for (int64_t p = 0; p < pieces; ++p)
      for (int64_t t = 0; t < tn; ++t) {
        const int64_t c0 = p * 32, m = std::min<int64_t>(32, cols - c0);
        const float* src = x + (t0 + t) * ldx + c0;
        float* d = dst + (p * tn + t) * 32;
        for (int64_t j = 0; j < 32; ++j) d[j] = j < m ? src[j] : 0.f;
      }
  }
  // One tile (n <= 4): the whole range, so that each of the R streams is as long as it can be.
  constexpr int64_t kBlockBytes = 256 * 1024;
  const int64_t block = n <= kSmallTokenTile ? r1 - r0
      : std::max<int64_t>(16, kBlockBytes / std::max<int64_t>(1, cols * int64_t(sizeof(Wt))));
  for (int64_t rb = r0; rb < r1; rb += block) {
    const int64_t re = std::min(r1, rb + block);
    for (int64_t t0 = 0; t0 < n; t0 += kSmallTokenTile) {
      const int64_t tn = std::min<int64_t>(kSmallTokenTile, n - t0);
      table[tn - 1](W, cols, rb, re, xp + t0 * pieces * 32, y + t0 * ldy, ldy);
    }
  }
}

template <class Wt>
void dense_avx512(const Wt* W, int64_t cols, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                  int64_t n, float* y, int64_t ldy) {
  if (n == 1) {
    const int64_t half = (r1 - r0) / 2;
    for (int64_t i = 0; i < half; ++i)
      dense_row2<Wt>(W + (r0 + i) * cols, W + (r0 + half + i) * cols, cols, x, &y[r0 + i], &y[r0 + half + i]);
    if ((r1 - r0) & 1) dense_row<Wt, 1>(W + (r1 - 1) * cols, cols, x, ldx, &y[r1 - 1]);
    return;
  }
  if (n <= kSmallBatchMax) {
    dense_small_batch<Wt>(W, cols, r0, r1, x, ldx, n, y, ldy);
    return;
  }
  dense_gemm_panel_avx512<Wt>(W, cols, r0, r1, x, ldx, n, y, ldy);
}

}  // namespace

const Kernels* kernels_avx512() {
  static const Kernels k = {"avx512", q4_f32_avx512, q4_q8_avx512<false>, dense_avx512<uint16_t>,
                            dense_avx512<float>, quantize_q8_avx512, q4x16_f32_avx512,
                            q4x16_q8_avx512, true};
  return &k;
}

const Kernels* kernels_avx512_vnni() {
  static const Kernels k = {"avx512_vnni", q4_f32_avx512, q4_q8_avx512<true>, dense_avx512<uint16_t>,
                            dense_avx512<float>, quantize_q8_avx512, q4x16_f32_avx512,
                            q4x16_q8_avx512_vnni, true};
  return &k;
}

}  // namespace kk::cpu
