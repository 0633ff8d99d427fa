// kernels_bf16_amx.cpp — fast-mode GEMM for bf16 weights on AMX tiles (compiled with -mamx-* for
// this file only; offered only where cpu_features() says AMX is usable, after its probe).
//
// y[t][r] = Σ_c W[r][c] · x[t][c] with each activation split into two bf16 digits,
// x ≈ hi + lo (hi = bf16(x), lo = bf16(x − hi): relative error ≤ 2^-17, like fast mode's two int8
// digits; one bf16 digit, error 2^-9, failed the tiny-k2 fast eval as one int8 digit did). The
// products are exact and the sums fp32, in TDPBF16PS. Prefill spends most of its time in these
// GEMMs (MLA projections, shared experts, dense MLP: bf16 in K2-Thinking), where the AVX-512
// kernel does 32 fp32 FMAs a cycle at best and a tile product 512 bf16 MACs.
//
// Roles: A = 16 weight rows x 32 columns, loaded straight from W (row stride = cols·2 bytes);
// B = 32 columns x 16 tokens of one activation digit in the VNNI pair layout (row kk holds, per
// token, the bf16 pair of columns 2kk, 2kk+1), converted once per column chunk and token tile and
// reused by every row tile; C = 16 rows x 16 tokens in fp32, accumulated over a column chunk and
// then added (transposed) into y. Per step one A tile feeds up to kMaxTokenTiles x 2 B tiles.
// Rows or tokens that do not fill a 16-tile, and widths that are not a multiple of 32, go to the
// AVX-512 kernel (fp32 activations).
#include <cstdint>

#include "cpu/kernels_variants.h"

#if defined(__x86_64__) && defined(__AMX_TILE__) && defined(__AMX_BF16__) && defined(__AVX512BF16__)
#include <immintrin.h>

#include "cpu/amx_tiles.h"

#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

namespace kk::cpu {
namespace {

constexpr int kTile = 16;              // rows, tokens per tile
constexpr int kStepCols = 32;          // columns per tile product (16 bf16 pairs)
constexpr int kMaxDigits = 3;
constexpr int kMaxTokenTiles = 2;      // with 2 digits; 3 digits take one token tile per pass
constexpr int64_t kColChunk = 1024;    // columns whose B tiles are prepared at once
constexpr int kSteps = int(kColChunk / kStepCols);
constexpr int kTileBytes = kTile * 64;

// Token tiles per pass for a digit count: tiles 0-1 are C, 2 is A, the rest B (one per digit and
// token tile), eight in all.
template <int D> constexpr int token_tiles() { return D == 2 ? 2 : 1; }

// Per-thread staging: the B tiles of one column chunk (up to 192 KiB) and one C tile.
alignas(64) thread_local uint16_t tls_b[kSteps][kMaxTokenTiles][kMaxDigits][kTileBytes / 2];
alignas(64) thread_local float tls_c[kTile * kTile];

// All eight tiles 16 rows x 64 bytes.
void load_config() {
  amx::TileConfig cfg;
  for (int t = 0; t < 8; ++t) cfg.tile(t, kTile, 64);
  cfg.load();
}

// Dword i of a B row: the pair of token i (16 dwords per 64-byte row).
inline __m512i tile_rows() { return _mm512_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240); }

inline __m512 bf16_lanes_to_f32(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }

// B tiles (D digits each) for columns [c0, c0 + steps·32) and tokens [t0, t0 + 16·ntt): digit d
// is bf16 (nearest even) of what the digits before it left of x.
template <int D>
void prepare_b(const float* x, int64_t ldx, int64_t t0, int ntt, int64_t c0, int steps) {
  const __m512i rows = tile_rows();
  for (int s = 0; s < steps; ++s)
    for (int j = 0; j < ntt; ++j)
      for (int n = 0; n < kTile; ++n) {
        const float* xr = x + (t0 + kTile * j + n) * ldx + c0 + kStepCols * s;
        __m512 r0 = _mm512_loadu_ps(xr), r1 = _mm512_loadu_ps(xr + 16);
        for (int d = 0; d < D; ++d) {
          // 32 fp32 -> 32 bf16 in column order; dword kk = columns (2kk, 2kk+1).
          const __m512i dig = (__m512i)_mm512_cvtne2ps_pbh(r1, r0);
          _mm512_i32scatter_epi32(reinterpret_cast<int32_t*>(tls_b[s][j][d]) + n, rows, dig, 4);
          if (d + 1 < D) {
            r0 = _mm512_sub_ps(r0, bf16_lanes_to_f32(_mm512_castsi512_si256(dig)));
            r1 = _mm512_sub_ps(r1, bf16_lanes_to_f32(_mm512_extracti64x4_epi64(dig, 1)));
          }
        }
      }
}

// y[t0 + 16j + n][r + m] (+)= C_j[m][n] for the ntt C tiles (tiles 0, 1).
void store_c(int ntt, int64_t r, int64_t t0, float* y, int64_t ldy, bool add) {
  const __m512i col = tile_rows();  // element m of column n sits at m·16 + n
  for (int j = 0; j < ntt; ++j) {
    if (j == 0) _tile_stored(0, tls_c, 64);
    else _tile_stored(1, tls_c, 64);
    for (int n = 0; n < kTile; ++n) {
      float* out = y + (t0 + kTile * j + n) * ldy + r;
      const __m512 v = _mm512_i32gather_ps(col, tls_c + n, 4);
      _mm512_storeu_ps(out, add ? _mm512_add_ps(_mm512_loadu_ps(out), v) : v);
    }
  }
}

// One step (32 columns) of row tile A (tile 2) against the prepared B tiles of step s.
template <int D>
inline void step_products(int s, int ntt) {
  if constexpr (D == 2) {
    _tile_loadd(3, tls_b[s][0][0], 64);
    _tile_loadd(4, tls_b[s][0][1], 64);
    _tile_dpbf16ps(0, 2, 3);
    _tile_dpbf16ps(0, 2, 4);
    if (ntt > 1) {
      _tile_loadd(5, tls_b[s][1][0], 64);
      _tile_loadd(6, tls_b[s][1][1], 64);
      _tile_dpbf16ps(1, 2, 5);
      _tile_dpbf16ps(1, 2, 6);
    }
  } else {
    static_assert(D == 3, "two or three digits");
    _tile_loadd(3, tls_b[s][0][0], 64);
    _tile_loadd(4, tls_b[s][0][1], 64);
    _tile_loadd(5, tls_b[s][0][2], 64);
    _tile_dpbf16ps(0, 2, 3);
    _tile_dpbf16ps(0, 2, 4);
    _tile_dpbf16ps(0, 2, 5);
  }
}

// Rows [r0, r1) (a multiple of 16 apart) x tokens [t0, t0 + 16·ntt), all columns (a multiple of 32).
template <int D>
void tiles_amx(const uint16_t* W, int64_t cols, int64_t r0, int64_t r1, const float* x, int64_t ldx,
               int64_t t0, int ntt, float* y, int64_t ldy) {
  const int64_t stride = cols * int64_t(sizeof(uint16_t));
  for (int64_t c0 = 0; c0 < cols; c0 += kColChunk) {
    const int steps = int((cols - c0 < kColChunk ? cols - c0 : kColChunk) / kStepCols);
    prepare_b<D>(x, ldx, t0, ntt, c0, steps);
    for (int64_t r = r0; r < r1; r += kTile) {
      _tile_zero(0);
      _tile_zero(1);
      const uint16_t* a = W + r * cols + c0;
      for (int s = 0; s < steps; ++s) {
        _tile_loadd(2, a + kStepCols * s, stride);
        step_products<D>(s, ntt);
      }
      store_c(ntt, r, t0, y, ldy, c0 > 0);
    }
  }
}

// The tile kernel for D digits; rows, tokens or widths that do not fill tiles go to the AVX-512
// kernel (fp32 activations).
template <int D>
void bf16_amx(const uint16_t* W, int64_t cols, int64_t r0, int64_t r1, const float* x, int64_t ldx,
              int64_t n, float* y, int64_t ldy) {
  const Kernels& fallback = *kernels_avx512_vnni();
  const int64_t r_tiles = (r1 - r0) / kTile * kTile;  // rows the tiles cover
  const int64_t t_tiles = n / kTile * kTile;           // tokens the tiles cover
  if (cols % kStepCols != 0 || r_tiles == 0 || t_tiles == 0) {
    fallback.bf16_f32(W, cols, r0, r1, x, ldx, n, y, ldy);
    return;
  }
  load_config();
  constexpr int kPass = token_tiles<D>();
  for (int64_t t0 = 0; t0 < t_tiles; t0 += kPass * kTile) {
    const int ntt = int((t_tiles - t0) / kTile < kPass ? (t_tiles - t0) / kTile : kPass);
    tiles_amx<D>(W, cols, r0, r0 + r_tiles, x, ldx, t0, ntt, y, ldy);
  }
  _tile_release();
  if (r0 + r_tiles < r1) fallback.bf16_f32(W, cols, r0 + r_tiles, r1, x, ldx, n, y, ldy);
  if (t_tiles < n) fallback.bf16_f32(W, cols, r0, r0 + r_tiles, x + t_tiles * ldx, ldx, n - t_tiles, y + t_tiles * ldy, ldy);
}

}  // namespace

// Fast mode: two digits (within 2^-17 of each activation).
void bf16_bf16_amx(const uint16_t* W, int64_t cols, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                   int64_t n, float* y, int64_t ldy) {
  bf16_amx<2>(W, cols, r0, r1, x, ldx, n, y, ldy);
}

// Exact mode: three digits hold every fp32 activation exactly (8 + 8 + 8 mantissa bits; each
// remainder is exact in fp32), and every bf16 x bf16 product is exact, so the tiles compute the
// fp32 kernel's products, summed in fp32 in another order. (Tiles flush subnormal inputs: digits
// below ~1e-38, i.e. activations below ~1e-33, count as zero.)
void bf16_f32_amx(const uint16_t* W, int64_t cols, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                  int64_t n, float* y, int64_t ldy) {
  bf16_amx<3>(W, cols, r0, r1, x, ldx, n, y, ldy);
}

// The variant: avx512_vnni with GEMMs on tiles: this file's for bf16 weights (both modes) and
// kernels_q4x16_amx.cpp's for q4x16 (fast mode).
const Kernels* kernels_avx512_vnni_amx() {
  static const Kernels k = [] {
    Kernels v = *kernels_avx512_vnni();
    v.name = "avx512_vnni_amx";
    v.bf16_f32 = bf16_f32_amx;
    v.bf16_fast = bf16_bf16_amx;
    v.q4x16_q8 = q4x16_q8_amx;
    return v;
  }();
  return &k;
}

}  // namespace kk::cpu

#else

namespace kk::cpu {
const Kernels* kernels_avx512_vnni_amx() { return nullptr; }
}  // namespace kk::cpu

#endif
