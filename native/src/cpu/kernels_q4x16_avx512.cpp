// kernels_q4x16_avx512.cpp — AVX-512 kernels over Q4 weights repacked in groups of 16 rows
// (block_q4x16, kernels/common/kk_blocks.h). Each 32-bit lane of a zmm owns one row of the group.
//
// fast (q4x16_q8): per block, four 64-byte loads hold 16 rows x 32 columns; an AND and a shift
//   split each into the u8 weights of 4 columns (low nibbles) and of the next 4 (high nibbles)
//   per lane, and one u8 x s8 dot product per register and activation digit multiplies them by a
//   broadcast dword of the block_q8 (no activation preparation at all). The two digits' sums are
//   combined once per block (128·hi + lo), the +8 offset of the weights is removed through the
//   low digit's start value (-8·Σa), and one convert, one scale multiply and one FMA then serve
//   all 16 rows: ~37 vector uops per 16 blocks instead of ~72 on the row layout.
// exact (q4x16_f32): vpermps looks nibbles up in a {-8..7} table (it reads only the low 4 bits
//   of each index lane); loading each 64-byte chunk at byte offsets 0..3 puts the low nibble of
//   each byte in turn at bits 0-3 of its lane, one shift by 4 gives the high one. Per column:
//   one lookup (+ half a shift) and one FMA per token for 16 rows; the block's scale is applied
//   once per block per token.
// Batch 1 walks two groups from the two halves of the range in step (two weight streams), with
// one software prefetch per 64-byte load (see kPrefetchBytes); batch n > 1 reuses each split block for up to kTokenTile tokens over column chunks, as the
// row-layout kernels do (kernels_variants.h).
#include <immintrin.h>

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <cstring>
#include <type_traits>
#include <cstdlib>

#include "cpu/cpu_features.h"
#include "cpu/kernels_variants.h"
#include "cpu/q4x16_avx512.h"
#include "cpu/simd_avx512.h"

namespace kk::cpu {
namespace {

inline __m512i bcast_dword(const kk_i8* p) {
  int v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

using avx512::dot_u8s8;
using namespace q4x16;

// --- fast ----------------------------------------------------------------------------------

// acc[i·T + t] (16 rows) += Σ over blocks [0, nbc) of groups[i], for R groups walked in step and
// T tokens (xq[t] at block 0). Batch 1 uses R = 2 (two weight streams: one stream per thread
// leaves the memory system idle between misses), the GEMM R = 1 and T up to kTokenTile.
template <bool kVnni, bool kGfni, int R, int T>
KK_GFNI inline void groups_q8(const block_q4x16* const* groups, int64_t nbc, const block_q8* const* xq, __m512* acc) {
  static_assert(KK_Q8_LO_SCALE == 128, "digits combine as (hi << 7) + lo");
  const __m512i nib = _mm512_set1_epi8(0x0F);
  // Locals, not the caller's arrays: stores to acc could alias the pointers, which GCC would
  // then reload (and acc store) every block.
  const block_q4x16* g[R];
  const block_q8* x[T];
  __m512 sum[R * T];
  for (int i = 0; i < R; ++i) g[i] = groups[i];
  for (int t = 0; t < T; ++t) x[t] = xq[t];
  for (int j = 0; j < R * T; ++j) sum[j] = acc[j];
  for (int64_t b = 0; b < nbc; ++b)
    for (int i = 0; i < R; ++i) {
      const block_q4x16& w = g[i][b];
      __m512i dh[T], dl[T];
      for (int t = 0; t < T; ++t) {
        dh[t] = _mm512_setzero_si512();
        dl[t] = _mm512_set1_epi32(-8 * x[t][b].sum);  // Σ(q+8)·a − 8·Σa = Σ q·a
      }
      // Each chunk is loaded, split and consumed before the next load (one load per few
      // dot products, as the prefetches: see load_chunk). Kept as a loop: fully unrolled, the
      // same kernel streamed 4-5 % slower when the VM's bandwidth was at its high (0.886 vs 0.925
      // of the paced reader over K2 gate matrices, one thread, same run).
#pragma GCC unroll 1
      for (int k = 0; k < 4; ++k) {
        const __m512i v = load_chunk(w, k);
        const __m512i lo = _mm512_and_si512(v, nib);  // lanes: columns 8k..8k+3 of the row, u8
        const __m512i hi = high_nibbles<kGfni>(v, nib);  // columns 8k+4..8k+7
        for (int t = 0; t < T; ++t) {
          const block_q8& a = x[t][b];
          dh[t] = dot_u8s8<kVnni>(dh[t], lo, bcast_dword(a.qs + 8 * k));
          dl[t] = dot_u8s8<kVnni>(dl[t], lo, bcast_dword(a.lo + 8 * k));
          dh[t] = dot_u8s8<kVnni>(dh[t], hi, bcast_dword(a.qs + 8 * k + 4));
          dl[t] = dot_u8s8<kVnni>(dl[t], hi, bcast_dword(a.lo + 8 * k + 4));
        }
      }
      prefetch_line(w, 4);
      const __m512 ws = block_scales(w);
      for (int t = 0; t < T; ++t) {
        const __m512i d = _mm512_add_epi32(_mm512_slli_epi32(dh[t], 7), dl[t]);
        const __m512 sc = _mm512_mul_ps(ws, _mm512_set1_ps(x[t][b].d * (1.f / KK_Q8_LO_SCALE)));
        sum[i * T + t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), sc, sum[i * T + t]);
      }
    }
  for (int j = 0; j < R * T; ++j) acc[j] = sum[j];
}

// --- exact ---------------------------------------------------------------------------------

// acc[i·T + t] (16 rows) += Σ over blocks [0, nbc) of groups[i], for R groups and T tokens
// (x of token t at x + t·ldx, column 0 of block 0), as groups_q8.
template <int R, int T>
inline void groups_f32(const block_q4x16* const* groups, int64_t nbc, const float* x, int64_t ldx, __m512* acc) {
  const __m512 table = _mm512_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7);
  const block_q4x16* g[R];  // locals, as in groups_q8
  __m512 sum[R * T];
  for (int i = 0; i < R; ++i) g[i] = groups[i];
  for (int j = 0; j < R * T; ++j) sum[j] = acc[j];
  for (int64_t b = 0; b < nbc; ++b)
    for (int i = 0; i < R; ++i) {
      const block_q4x16& w = g[i][b];
      // Four partial sums per token keep the FMA chains short (the block's 32 columns would
      // otherwise be one dependent chain).
      __m512 s[T][4];
      for (int t = 0; t < T; ++t)
        for (int j = 0; j < 4; ++j) s[t][j] = _mm512_setzero_ps();
      const float* xb = x + b * KK_Q4_GROUP;
      for (int k = 0; k < 4; ++k)
        for (int o = 0; o < 4; ++o) {
          // Lane r, bits 0-3: low nibble of byte 64k + 4r + o (column 8k+o); after >> 4 the high
          // nibble (column 8k+4+o). Offsets 1-3 of chunk 3 read into the scales: only bits 0-7
          // of each lane are used.
          const __m512i v = o == 0 ? load_chunk(w, k) : _mm512_loadu_si512(w.qs + 64 * k + o);
          const __m512 wl = _mm512_permutexvar_ps(v, table);
          const __m512 wh = _mm512_permutexvar_ps(_mm512_srli_epi32(v, 4), table);
          for (int t = 0; t < T; ++t) {
            const float* xt = xb + t * ldx + 8 * k;
            s[t][(o & 1) * 2] = _mm512_fmadd_ps(wl, _mm512_set1_ps(xt[o]), s[t][(o & 1) * 2]);
            s[t][(o & 1) * 2 + 1] = _mm512_fmadd_ps(wh, _mm512_set1_ps(xt[4 + o]), s[t][(o & 1) * 2 + 1]);
          }
        }
      prefetch_line(w, 4);
      const __m512 ws = block_scales(w);
      for (int t = 0; t < T; ++t)
        sum[i * T + t] = _mm512_fmadd_ps(
            _mm512_add_ps(_mm512_add_ps(s[t][0], s[t][1]), _mm512_add_ps(s[t][2], s[t][3])), ws, sum[i * T + t]);
    }
  for (int j = 0; j < R * T; ++j) acc[j] = sum[j];
}

// --- drivers -------------------------------------------------------------------------------

// GEMM (n > 1): calls tile(group, t0, tn, b0, b1, acc) for groups [g0, g1) so that a block of
// kRowBlock rows and a chunk of kColChunk columns are reused by every token tile (as gemm_tiles
// does for rows); partial sums over column chunks are added into y.
template <class Tile>
inline void for_group_tiles(const block_q4x16* W, int64_t nb, int64_t g0, int64_t g1, int64_t n, float* y,
                            int64_t ldy, Tile tile) {
  constexpr int64_t kChunkBlocks = kColChunk / KK_Q4_GROUP;
  constexpr int64_t kGroupBlock = kRowBlock / kRows;
  for (int64_t gb = g0; gb < g1; gb += kGroupBlock) {
    const int64_t ge = gb + kGroupBlock < g1 ? gb + kGroupBlock : g1;
    for (int64_t b0 = 0; b0 < nb; b0 += kChunkBlocks) {
      const int64_t b1 = b0 + kChunkBlocks < nb ? b0 + kChunkBlocks : nb;
      for (int64_t t0 = 0; t0 < n; t0 += kTokenTile) {
        const int64_t tn = n - t0 < kTokenTile ? n - t0 : kTokenTile;
        for (int64_t g = gb; g < ge; ++g) {
          __m512 acc[kTokenTile];
          for (int t = 0; t < kTokenTile; ++t) acc[t] = _mm512_setzero_ps();
          const block_q4x16* group[1] = {W + g * nb + b0};
          tile(group, t0, tn, b0, b1, acc);
          for (int64_t t = 0; t < tn; ++t) {
            float* out = y + (t0 + t) * ldy + g * kRows;
            _mm512_storeu_ps(out, b0 == 0 ? acc[t] : _mm512_add_ps(_mm512_loadu_ps(out), acc[t]));
          }
        }
      }
    }
  }
}

// fn(std::integral_constant<int, T>()) for T = tn (1 .. kTokenTile): kernels take T as a template.
template <class Fn>
inline void with_tokens(int64_t tn, Fn fn) {
  static_assert(kTokenTile == 4, "one case per token count");
  switch (tn) {
    case 1: fn(std::integral_constant<int, 1>()); break;
    case 2: fn(std::integral_constant<int, 2>()); break;
    case 3: fn(std::integral_constant<int, 3>()); break;
    default: fn(std::integral_constant<int, 4>()); break;
  }
}

// Groups walked in step at batch 1. Measured with the spaced prefetches (kk_kernel_bench, K2
// experts from DRAM, fast mode, 2 / 1 threads, same VM afternoon): 1 stream 0.78 / 0.75 of the
// paced reader, 2 streams 0.89-0.94, 4 streams 0.83 / 0.85.
constexpr int kDecodeStreams = 2;

// Batch 1: groups [g0, g1) as R equal parts walked in step, the rest one by one.
template <int R, class Fn>
inline void decode_streams(int64_t g0, int64_t g1, Fn fn) {
  const int64_t q = (g1 - g0) / R;
  for (int64_t i = 0; i < q; ++i) {
    int64_t gs[R];
    for (int k = 0; k < R; ++k) gs[k] = g0 + k * q + i;
    fn(gs, std::integral_constant<int, R>());
  }
  for (int64_t g = g0 + R * q; g < g1; ++g) {
    int64_t gs[1] = {g};
    fn(gs, std::integral_constant<int, 1>());
  }
}

// Batch 1: y[16g + lane] for groups [g0, g1), kDecodeStreams groups at a time;
// run(groups, acc, std::integral_constant<int, R>) fills acc[i] for groups[i].
template <class Run>
inline void decode_groups(const block_q4x16* W, int64_t nb, int64_t g0, int64_t g1, float* y, Run run) {
  decode_streams<kDecodeStreams>(g0, g1, [&](const int64_t* gs, auto r) {
    constexpr int R = decltype(r)::value;
    const block_q4x16* groups[R];
    __m512 acc[R];
    for (int i = 0; i < R; ++i) { groups[i] = W + gs[i] * nb; acc[i] = _mm512_setzero_ps(); }
    run(groups, acc, r);
    for (int i = 0; i < R; ++i) _mm512_storeu_ps(y + gs[i] * kRows, acc[i]);
  });
}

// Small batches (2 .. kSmallBatchMax tokens: an expert chosen by a few of the sequences of a
// batched decode step, or by a few prompt tokens): as batch 1, kDecodeStreams whole groups
// streamed in step from DRAM, each for all tokens in tiles of up to `tile` tokens; the first
// tile reads the groups from memory, the next ones find them in L2 (2 groups of a K2 expert:
// 2 x 63 KiB). for_group_tiles reads each group in 9 KiB pieces, one stream at a time, and
// cost the batched decode its read bandwidth (moe.experts 25 ms per step at 1 sequence, 209 at
// 8: docs/bench/k2-layers2-t2-sessions-concurrency.json).
constexpr int64_t kSmallBatchMax = 8;

// run(groups, t0, acc, R, T) fills acc[i·T + t] (16 rows of groups[i], token t0 + t).
template <int kTile, class Run>
inline void small_batch_groups(const block_q4x16* W, int64_t nb, int64_t g0, int64_t g1, int64_t n, float* y,
                               int64_t ldy, Run run) {
  decode_streams<kDecodeStreams>(g0, g1, [&](const int64_t* gs, auto r) {
    constexpr int R = decltype(r)::value;
    const block_q4x16* groups[R];
    for (int i = 0; i < R; ++i) groups[i] = W + gs[i] * nb;
    for (int64_t t0 = 0; t0 < n; t0 += kTile) {
      const int64_t tn = n - t0 < kTile ? n - t0 : kTile;
      with_tokens(tn, [&](auto tt) {
        constexpr int T = decltype(tt)::value;
        if constexpr (T <= kTile) {
          __m512 acc[R * T];
          for (int j = 0; j < R * T; ++j) acc[j] = _mm512_setzero_ps();
          run(groups, t0, acc, r, tt);
          for (int i = 0; i < R; ++i)
            for (int t = 0; t < T; ++t) _mm512_storeu_ps(y + (t0 + t) * ldy + gs[i] * kRows, acc[i * T + t]);
        }
      });
    }
  });
}

template <bool kVnni, bool kGfni>
void q4x16_q8(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1, const block_q8* xq,
              int64_t n, float* y, int64_t ldy) {
  const int64_t nb = cols / KK_Q4_GROUP;
  if (n == 1) {
    const block_q8* x1[1] = {xq};
    decode_groups(W, nb, g0, g1, y, [&](const block_q4x16* const* groups, __m512* acc, auto r) {
      groups_q8<kVnni, kGfni, decltype(r)::value, 1>(groups, nb, x1, acc);
    });
    return;
  }
  if (n <= kSmallBatchMax) {
    small_batch_groups<int(kTokenTile)>(W, nb, g0, g1, n, y, ldy,
        [&](const block_q4x16* const* groups, int64_t t0, __m512* acc, auto r, auto tt) {
      constexpr int T = decltype(tt)::value;
      const block_q8* xt[T];
      for (int t = 0; t < T; ++t) xt[t] = xq + (t0 + t) * nb;
      groups_q8<kVnni, kGfni, decltype(r)::value, T>(groups, nb, xt, acc);
    });
    return;
  }
  for_group_tiles(W, nb, g0, g1, n, y, ldy,
                  [&](const block_q4x16* const* group, int64_t t0, int64_t tn, int64_t b0, int64_t b1, __m512* acc) {
    const block_q8* xt[kTokenTile];
    for (int64_t t = 0; t < tn; ++t) xt[t] = xq + (t0 + t) * nb + b0;
    with_tokens(tn, [&](auto T) { groups_q8<kVnni, kGfni, 1, decltype(T)::value>(group, b1 - b0, xt, acc); });
  });
}

}  // namespace

void q4x16_f32_avx512(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1, const float* x,
                      int64_t ldx, int64_t n, float* y, int64_t ldy) {
  const int64_t nb = cols / KK_Q4_GROUP;
  if (n == 1) {
    decode_groups(W, nb, g0, g1, y, [&](const block_q4x16* const* groups, __m512* acc, auto r) {
      groups_f32<decltype(r)::value, 1>(groups, nb, x, ldx, acc);
    });
    return;
  }
  // Exact: 2 tokens per tile (its 4 partial sums per token and 2 streams fill the registers).
  constexpr int kExactSmallTile = 2;
  if (n <= kSmallBatchMax) {
    small_batch_groups<kExactSmallTile>(W, nb, g0, g1, n, y, ldy,
        [&](const block_q4x16* const* groups, int64_t t0, __m512* acc, auto r, auto tt) {
      groups_f32<decltype(r)::value, decltype(tt)::value>(groups, nb, x + t0 * ldx, ldx, acc);
    });
    return;
  }
  for_group_tiles(W, nb, g0, g1, n, y, ldy,
                  [&](const block_q4x16* const* group, int64_t t0, int64_t tn, int64_t b0, int64_t b1, __m512* acc) {
    const float* xt = x + t0 * ldx + b0 * KK_Q4_GROUP;
    with_tokens(tn, [&](auto T) { groups_f32<1, decltype(T)::value>(group, b1 - b0, xt, ldx, acc); });
  });
}

void q4x16_q8_avx512(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1, const block_q8* xq,
                     int64_t n, float* y, int64_t ldy) {
  if (cpu_features().gfni) q4x16_q8<false, true>(W, cols, g0, g1, xq, n, y, ldy);
  else q4x16_q8<false, false>(W, cols, g0, g1, xq, n, y, ldy);
}

void q4x16_q8_avx512_vnni(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1,
                          const block_q8* xq, int64_t n, float* y, int64_t ldy) {
  if (cpu_features().gfni) q4x16_q8<true, true>(W, cols, g0, g1, xq, n, y, ldy);
  else q4x16_q8<true, false>(W, cols, g0, g1, xq, n, y, ldy);
}

}  // namespace kk::cpu
