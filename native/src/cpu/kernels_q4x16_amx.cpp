// kernels_q4x16_amx.cpp — fast-mode Q4 GEMM (prefill, routed experts) on AMX-INT8 tiles over
// block_q4x16 (compiled with -mamx-* for this file only; offered only where AMX is usable).
//
// Per 16-row group, token tile (up to 16 tokens) and 32-column block:
//   B = the block's weights as int8 (q, the +8 offset removed), K = 32 columns x N = 16 rows in
//       the VNNI layout — which is exactly the unpacked registers of the AVX-512 kernel: row kk
//       of B holds, per weight row, the 4 bytes of columns 4kk..4kk+3 (lo[k] for kk = 2k,
//       hi[k] for 2k+1), so the block is split once and stored as 8 rows of 64 bytes;
//   A = the tokens' activation digits (block_q8 qs, then lo), loaded straight from the block_q8
//       rows (row stride = one token's blocks);
//   C = tokens x rows in int32, one tile per digit: C_hi·128 + C_lo is the VNNI kernel's d.
// The block's scales differ per row and the digits' scale per token, so each block's C is
// stored and applied by vector code (cvt, one multiply, one FMA per token) — the same float ops
// as the VNNI kernel, which is the oracle up to the order of its column-chunk sums.
// Fewer than kAmxMinTokens tokens go to the AVX-512 VNNI kernel. (The variant is offered only
// with GFNI, which the nibble split uses; every AMX CPU has it.)
// Measured (one thread, 512 x 7168, q4x16_q8 alone): tiles vs VNNI 0.98x at 8 tokens, 1.24-1.34x
// at 12, 1.41x at 16, 1.38-1.45x at 32-64; 0.58x at 4 (a block costs the tile path ~110 cycles
// whatever the token count: split and store, tile loads and products, stores, then per token).
#include <cstdint>

#include "cpu/kernels_variants.h"

#if defined(__x86_64__) && defined(__AMX_TILE__) && defined(__AMX_INT8__)
#include "cpu/amx_tiles.h"
#include "cpu/q4x16_avx512.h"

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace kk::cpu {
namespace {

using namespace q4x16;

constexpr int kTokens = 16;                     // tokens per A / C tile
constexpr int64_t kAmxMinTokens = 8;            // fewer: the VNNI kernel is faster (measured)
constexpr int kBlockBytes = KK_Q4_GROUP * kRows;  // one block as int8: 8 B rows of 64 bytes

constexpr int kGroupsPerStep = 2;  // groups sharing one pair of A tiles per block

alignas(64) thread_local int8_t tls_w[kGroupsPerStep][kBlockBytes];
alignas(64) thread_local int32_t tls_c[kGroupsPerStep][2][kTokens * kRows];

// Tiles 0-3: C (group i, digit d at 2i + d), 4-5: B (weights of group i), 6-7: A (hi, lo digit),
// for tn tokens.
void load_config(int tn) {
  amx::TileConfig cfg;
  for (int t = 0; t < 4; ++t) cfg.tile(t, tn, kRows * 4);
  for (int t : {4, 5}) cfg.tile(t, KK_Q4_GROUP / 4, kRows * 4);
  for (int t : {6, 7}) cfg.tile(t, tn, KK_Q4_GROUP);
  cfg.load();
}

// Block b of a group as B: the chunks split into low / high nibbles, minus 8, as int8 rows.
KK_GFNI inline void store_block_b(const block_q4x16& w, int8_t* out) {
  const __m512i nib = _mm512_set1_epi8(0x0F), eight = _mm512_set1_epi8(8);
  for (int k = 0; k < 4; ++k) {
    const __m512i v = load_chunk(w, k);
    _mm512_store_si512(out + 128 * k, _mm512_sub_epi8(_mm512_and_si512(v, nib), eight));
    _mm512_store_si512(out + 128 * k + 64, _mm512_sub_epi8(high_nibbles<true>(v, nib), eight));
  }
  prefetch_line(w, 4);
}

// acc[m] += the block's C tiles (digits at c[0], c[1]) scaled per row and token.
inline void apply_block(const int32_t (*c)[kTokens * kRows], __m512 ws, const block_q8* a, int64_t nb, int tn,
                        __m512* acc) {
  for (int m = 0; m < tn; ++m) {
    const __m512i d = _mm512_add_epi32(_mm512_slli_epi32(_mm512_load_si512(c[0] + kRows * m), 7),
                                       _mm512_load_si512(c[1] + kRows * m));
    const __m512 sc = _mm512_mul_ps(ws, _mm512_set1_ps(a[m * nb].d * (1.f / KK_Q8_LO_SCALE)));
    acc[m] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), sc, acc[m]);
  }
}

// y[(t0 + m)·ldy + 16g + r] for groups [g0, g1) and tokens [t0, t0 + tn), two groups at a time:
// one pair of A loads and four independent tile products per block (one group at a time took
// 0.31 ms where this takes 0.23 for 4 tokens over 512 x 7168).
KK_GFNI void groups_amx(const block_q4x16* W, int64_t nb, int64_t g0, int64_t g1, const block_q8* xq,
                        int64_t t0, int tn, float* y, int64_t ldy) {
  const int64_t xstride = nb * int64_t(sizeof(block_q8));
  for (int64_t g = g0; g < g1; g += kGroupsPerStep) {
    const bool pair = g + 1 < g1;
    __m512 acc[kGroupsPerStep][kTokens];
    for (int i = 0; i < kGroupsPerStep; ++i)
      for (int m = 0; m < tn; ++m) acc[i][m] = _mm512_setzero_ps();
    for (int64_t b = 0; b < nb; ++b) {
      const block_q4x16& w0 = W[g * nb + b];
      const block_q8* a = xq + t0 * nb + b;
      store_block_b(w0, tls_w[0]);
      _tile_loadd(4, tls_w[0], kRows * 4);
      _tile_loadd(6, a->qs, xstride);
      _tile_loadd(7, a->lo, xstride);
      _tile_zero(0);
      _tile_zero(1);
      _tile_dpbssd(0, 6, 4);
      _tile_dpbssd(1, 7, 4);
      if (pair) {
        store_block_b(W[(g + 1) * nb + b], tls_w[1]);
        _tile_loadd(5, tls_w[1], kRows * 4);
        _tile_zero(2);
        _tile_zero(3);
        _tile_dpbssd(2, 6, 5);
        _tile_dpbssd(3, 7, 5);
      }
      _tile_stored(0, tls_c[0][0], kRows * 4);
      _tile_stored(1, tls_c[0][1], kRows * 4);
      apply_block(tls_c[0], block_scales(w0), a, nb, tn, acc[0]);
      if (pair) {
        _tile_stored(2, tls_c[1][0], kRows * 4);
        _tile_stored(3, tls_c[1][1], kRows * 4);
        apply_block(tls_c[1], block_scales(W[(g + 1) * nb + b]), a, nb, tn, acc[1]);
      }
    }
    for (int i = 0; i < (pair ? 2 : 1); ++i)
      for (int m = 0; m < tn; ++m) _mm512_storeu_ps(y + (t0 + m) * ldy + (g + i) * kRows, acc[i][m]);
  }
}

}  // namespace

void q4x16_q8_amx(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1, const block_q8* xq,
                  int64_t n, float* y, int64_t ldy) {
  static_assert(KK_Q8_LO_SCALE == 128, "digits combine as (hi << 7) + lo");
  if (n < kAmxMinTokens) {
    q4x16_q8_avx512_vnni(W, cols, g0, g1, xq, n, y, ldy);
    return;
  }
  const int64_t nb = cols / KK_Q4_GROUP;
  int configured = 0;
  for (int64_t t0 = 0; t0 < n; t0 += kTokens) {
    const int tn = int(n - t0 < kTokens ? n - t0 : kTokens);
    if (tn != configured) { load_config(tn); configured = tn; }
    groups_amx(W, nb, g0, g1, xq, t0, tn, y, ldy);
  }
  _tile_release();
}

}  // namespace kk::cpu

#else

namespace kk::cpu {
void q4x16_q8_amx(const block_q4x16* W, int64_t cols, int64_t g0, int64_t g1, const block_q8* xq,
                  int64_t n, float* y, int64_t ldy) {
  q4x16_q8_avx512_vnni(W, cols, g0, g1, xq, n, y, ldy);
}
}  // namespace kk::cpu

#endif
